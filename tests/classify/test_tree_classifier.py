"""TreeClassifier (recursive nets on SST trees): node labels, the per-tree loss, SST-2's root rule,
dev selection, sklearn habits, checkpoints and `seqlab classify train|predict` on a tiny treebank."""

import json

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from tiny_treebank import tiny_lines, tiny_trees

from seqlab.checkpoint import load_checkpoint, save_checkpoint
from seqlab.classify.sst_trees import parse_tree
from seqlab.classify.tree_classifier import UNK, TreeClassifier, encode_tree, leaf_token
from seqlab.cli import main
from seqlab.errors import ParameterError
from seqlab.models.tree_batch import TreeArrays, TreeBatch


def test_encode_tree_numbers_leaves_first_and_maps_labels():
    tree = parse_tree("(3 (2 The) (4 (3 (2 very) (4 Good)) (2 -LRB-)))")
    stoi = {UNK: 0, "the": 1, "very": 2, "good": 3, "lrb": 4}
    arrays, labels = encode_tree(tree, stoi, "sst1")
    assert arrays.words.tolist() == [1, 2, 3, 4]  # leaf_token: cleaned and lowercased as raw text is
    assert arrays.children.tolist() == [[1, 2], [4, 3], [0, 5]]  # (very good), ((very good) lrb), root
    assert labels.tolist() == [2, 2, 4, 2, 3, 4, 3]
    _, labels2 = encode_tree(tree, stoi, "sst2")  # 0 negative, 1 neutral, 2 positive
    assert labels2.tolist() == [1, 1, 2, 1, 2, 2, 2]
    assert leaf_token("...") == "..." and leaf_token("-LRB-") == "lrb"


def test_unary_and_wide_nodes_become_binary():
    tree = parse_tree("(1 (0 (4 a)) (2 b) (3 c))")  # a unary node over a leaf, then three children
    arrays, labels = encode_tree(tree, {UNK: 0, "a": 1, "b": 2, "c": 3}, "sst1")
    assert arrays.words.tolist() == [1, 2, 3]
    assert arrays.children.tolist() == [[1, 2], [0, 3]]  # right-binarised: (a (b c))
    assert labels.tolist() == [0, 2, 3, -1, 1]  # unary keeps the upper label; the added node none


def test_the_loss_is_every_labelled_node_summed_per_tree_averaged_over_trees():
    trees = tiny_trees(6, labels=(0, 2, 4)) + [
        parse_tree("(4 (3 (3 (2 w1) (2 w2)) (3 good)) (4 (2 w3) (4 great)))")
    ]
    est = TreeClassifier("recnn", "sst2", epochs=1, l2_transform=0, l2_classifier=0, l2_words=0, lr=1e-9)
    est.fit(trees[:1])  # builds vocab and net; the tiny lr leaves the weights as they were
    encoded = [encode_tree(t, est.vocab_.stoi, "sst2") for t in trees]
    want = 0.0
    for arrays, labels in encoded:  # one tree at a time, the softmax written out
        batch = TreeBatch.build([arrays])
        logits = est.model_(batch).detach().double()  # (2n-1, 3) in batch order
        logp = logits - torch.logsumexp(logits, 1, keepdim=True)
        ys = batch.to_batch_order(torch.from_numpy(labels)).tolist()
        want += -sum(float(logp[i, y]) for i, y in enumerate(ys) if y >= 0)
    want /= len(trees)
    opt = torch.optim.SGD(est.model_.parameters(), lr=0.0)
    got = est._step([a for a, _ in encoded], [y for _, y in encoded], [opt], "cpu")
    assert got == pytest.approx(want, rel=1e-5)


def test_l2_on_words_touches_only_the_rows_a_batch_uses():
    trees = tiny_trees(8)
    est = TreeClassifier("rntn", "sst1", epochs=1, l2_words=0.5).fit(trees)
    before = est.model_.embedding.weight.detach().clone()
    stoi = est.vocab_.stoi
    arrays, labels = encode_tree(trees[0], stoi, "sst1")
    opt = torch.optim.SGD(est.model_.parameters(), lr=0.1)
    est._step([arrays], [labels], [opt], "cpu")
    changed = (est.model_.embedding.weight.detach() != before).any(1)
    assert set(torch.nonzero(changed).flatten().tolist()) == set(arrays.words.tolist())


@pytest.mark.parametrize("l2_bias", [True, False])
def test_l2_terms_are_the_documented_sums_with_or_without_the_biases(l2_bias):
    est = TreeClassifier("rntn", "sst1", epochs=1, l2_transform=0.3, l2_classifier=0.2, l2_words=0.1)
    est.set_params(l2_bias=l2_bias, classifier_bias="uniform").fit(tiny_trees(8))
    net = est.model_
    words = torch.tensor([1, 3, 3])
    reg = est._l2(words)
    b = float(l2_bias)
    expect = 0.2 / 2 * (net.fc.weight.pow(2).sum() + b * net.fc.bias.pow(2).sum())
    expect += 0.3 / 2 * (net.cell.W.weight.pow(2).sum() + b * net.cell.W.bias.pow(2).sum())
    expect += 0.3 / 2 * net.cell.V.pow(2).sum() + 0.1 / 2 * net.embedding.weight[[1, 3]].pow(2).sum()
    assert torch.allclose(reg, expect)
    net.zero_grad(set_to_none=False)  # fit leaves its last step's gradients
    reg.backward()
    assert torch.allclose(net.fc.bias.grad, b * 0.2 * net.fc.bias.detach())
    assert torch.allclose(net.cell.W.bias.grad, b * 0.3 * net.cell.W.bias.detach())


def test_classifier_bias_starts_uniform_in_zero_one_as_corenlp():
    from seqlab.models.recursive import RecursiveConfig, RecursiveNet

    torch.manual_seed(0)
    net = RecursiveNet(RecursiveConfig(50, 5, "rntn", 8, classifier_bias="uniform"))
    assert net.fc.bias.min() >= 0 and net.fc.bias.max() <= 1 and net.fc.bias.std() > 0
    assert not RecursiveNet(RecursiveConfig(50, 5, "rntn", 8)).fc.bias.any()


@pytest.mark.parametrize("model", ["recnn", "rntn", "mv-rnn", "tree-lstm"])
def test_learns_the_cue_words_and_keeps_the_best_dev_epoch(model):
    train, dev = tiny_trees(80, seed=0), tiny_trees(24, seed=1)
    extra = dict(hidden_size=16, dropout=0.0) if model == "tree-lstm" else {}
    est = TreeClassifier(model, "sst1", epochs=8, lr=0.05, batch_size=10, embedding_dim=8, **extra)
    est.fit(train, X_dev=dev)
    devs = [h["dev_accuracy"] for h in est.history_]
    assert est.best_epoch_ == 1 + int(np.argmax(devs)) and est.dev_accuracy_ == max(devs)
    assert est.score_trees(dev) == pytest.approx(est.dev_accuracy_)  # the kept weights are the best's
    assert est.score_trees(train) > 0.9
    assert est.history_[-1]["loss"] < est.history_[0]["loss"]


def test_sst2_drops_neutral_roots_and_compares_negative_with_positive():
    trees = tiny_trees(40, labels=(0, 2, 4))
    est = TreeClassifier("recnn", "sst2", epochs=3, lr=0.05, batch_size=10, embedding_dim=6).fit(trees)
    assert est.classes_.tolist() == [0, 1] and est.model_.fc.out_features == 3
    assert len(est._usable(trees)) == sum(t.label != 2 for t in trees)
    texts = ["w1 w2 great", "dull w3", "okay"]
    proba = est.predict_proba(texts)  # (3, 2)
    unk = est.vocab_.stoi[UNK]
    arrays = [TreeArrays.right_branching([est.vocab_.stoi.get(w, unk) for w in t.split()]) for t in texts]
    batch = TreeBatch.build(arrays)
    with torch.no_grad():
        p3 = torch.softmax(est.model_(batch)[batch.roots].double(), 1).numpy()  # (3, 3)
    assert np.allclose(proba, p3[:, [0, 2]] / (p3[:, 0] + p3[:, 2])[:, None])
    assert est.predict(texts).tolist() == (p3[:, 2] > p3[:, 0]).astype(int).tolist()


def test_sst2_fine_labels_train_five_ways_and_sum_the_two_sides_at_the_root():
    trees = tiny_trees(40, labels=(0, 1, 2, 3, 4))
    est = TreeClassifier(
        "rntn", "sst2", epochs=3, lr=0.05, batch_size=10, embedding_dim=6, sst2_labels="fine"
    )
    est.fit(trees)
    assert est.classes_.tolist() == [0, 1] and est.model_.fc.out_features == 5
    _, y, roots = est._encode(est._usable(trees))
    whole = np.concatenate(y)
    assert set(whole[whole >= 0].tolist()) == {0, 1, 2, 3, 4}  # the nodes keep their five labels
    assert roots.tolist() == [int(t.label > 2) for t in trees if t.label != 2]
    texts = ["w1 w2 great", "dull w3", "okay"]
    unk = est.vocab_.stoi[UNK]
    batch = TreeBatch.build(
        [TreeArrays.right_branching([est.vocab_.stoi.get(w, unk) for w in t.split()]) for t in texts]
    )
    with torch.no_grad():
        p5 = torch.softmax(est.model_(batch)[batch.roots].double(), 1).numpy()  # (3, 5)
    neg, pos = p5[:, 0] + p5[:, 1], p5[:, 3] + p5[:, 4]
    assert np.allclose(est.predict_proba(texts), np.stack([neg, pos], 1) / (neg + pos)[:, None])
    assert est.predict(texts).tolist() == (pos > neg).astype(int).tolist()
    with pytest.raises(ParameterError, match="sst2_labels"):
        TreeClassifier("rntn", "sst2", sst2_labels="coarse").fit(trees)


def test_extra_words_keep_their_pretrained_vectors_untouched_by_training(tmp_path):
    from seqlab.embeddings.vector_sources import load_vectors

    kv = load_vectors(str(write_vectors(tmp_path / "v.txt", ("great", "dull", "novel"), dim=6)))
    trees = tiny_trees(30)
    plain = TreeClassifier("mv-rnn", "sst1", epochs=2, vectors=kv).fit(trees)
    est = TreeClassifier("mv-rnn", "sst1", epochs=2, vectors=kv).fit(trees, extra_words=["novel", "great"])
    assert "novel" not in plain.vocab_.stoi and len(est.vocab_) == len(plain.vocab_) + 1
    row = est.model_.embedding.weight[est.vocab_.stoi["novel"]].detach().numpy()
    assert np.allclose(row, kv["novel"])  # never in a batch: no step, no L2 moved it
    unk = est.model_.embedding.weight[est.vocab_.stoi[UNK]].detach().numpy()
    assert not np.allclose(est.predict_proba(["novel"]), est.predict_proba(["zzz"])) and not np.allclose(
        row, unk
    )


def test_raw_text_gets_a_right_branching_tree():
    est = TreeClassifier("rntn", "sst1", epochs=1, embedding_dim=6).fit(tiny_trees(20))
    tree = parse_tree("(2 (2 w1) (2 (2 great) (2 (2 w3) (2 dull))))")
    assert np.allclose(est.predict_proba(["w1 great w3 dull"]), est.predict_proba([tree]))
    assert est.predict_proba([""]).shape == (1, 5)  # no words: one unknown leaf


def test_sklearn_habits_and_checkpoint_round_trip(tmp_path):
    est = TreeClassifier("mv-rnn", "sst1", epochs=2, embedding_dim=4, seed=3)
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        est.predict(["good"])
    est.fit(tiny_trees(30))
    save_checkpoint(tmp_path / "m.pt", "sentence-classifier", {"estimator": est.get_state()})
    back = TreeClassifier.from_state(load_checkpoint(tmp_path / "m.pt")["estimator"])
    texts = ["w1 superb", "bad w2 w3"]
    assert np.allclose(back.predict_proba(texts), est.predict_proba(texts))
    assert back.get_params()["model"] == "mv-rnn"


def test_low_rank_mv_rnn_round_trips_through_a_checkpoint(tmp_path):
    est = TreeClassifier("mv-rnn", "sst1", epochs=1, embedding_dim=5, matrix_rank=2).fit(tiny_trees(20))
    assert est.model_.word_matrices.weight.shape[1] == 2 * 5 * 2 + 5
    save_checkpoint(tmp_path / "m.pt", "sentence-classifier", {"estimator": est.get_state()})
    back = TreeClassifier.from_state(load_checkpoint(tmp_path / "m.pt")["estimator"])
    assert np.allclose(back.predict_proba(["w1 superb"]), est.predict_proba(["w1 superb"]))


def test_bad_parameters_name_themselves():
    from seqlab.errors import ParameterError

    with pytest.raises(ParameterError, match="model"):
        TreeClassifier("rnn").fit(tiny_trees(4))
    with pytest.raises(ParameterError, match="word_lr"):
        TreeClassifier(word_lr=0).fit(tiny_trees(4))
    with pytest.raises(ParameterError, match="adagrad_eps"):
        TreeClassifier(adagrad_eps=0).fit(tiny_trees(4))
    with pytest.raises(ParameterError, match="X"):
        TreeClassifier().fit(["not a tree"])


def write_treebank(root):
    folder = root / "sentence_classification" / "sst_trees"
    folder.mkdir(parents=True)
    for part, n, seed in (("train", 80, 0), ("dev", 20, 1), ("test", 20, 2)):
        lines = tiny_lines(n, seed, labels=(0, 1, 2, 3, 4))
        (folder / f"{part}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_cli_trains_on_the_trees_and_predicts_raw_text(tmp_path, monkeypatch, capsys):
    write_treebank(tmp_path)
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    run = tmp_path / "run"
    rc = main(
        ["classify", "train", "sst2", "-o", str(run), "--model", "rntn", "--epochs", "6", "--threads", "1"]
    )
    assert rc == 0
    m = json.loads((run / "metrics.json").read_text())
    assert m["model"] == "rntn" and m["dataset"] == "sst2" and m["train_examples"] == 64  # 16 neutral dropped
    assert m["test_examples"] == 16 and 0.0 <= m["accuracy"] <= 1.0 and m["best_epoch"] >= 1
    capsys.readouterr()
    assert main(["classify", "predict", str(run), "a superb film", "dull and bad"]) == 0
    lines = capsys.readouterr().out.strip().split("\n")
    assert [ln.split("\t")[0] in ("negative", "positive") for ln in lines] == [True, True]


def test_cli_tree_models_need_the_sst_trees(tmp_path, cli_error):
    cli_error(
        "classify", "train", "trec", "-o", tmp_path / "r", "--model", "tree-lstm", match="sst1, sst2 or mr"
    )
    assert not (tmp_path / "r").exists()


def test_mr_sentences_get_the_treebank_tree_of_the_same_sentence_without_its_labels():
    from seqlab.classify.data import clean_str
    from seqlab.classify.tree_data import mr_trees

    bank = {"train": [parse_tree("(4 (3 (2 It) (3 (2 's) (4 great))) (2 -LRB-))")], "dev": [], "test": []}
    texts = [clean_str("It's great ("), clean_str("it is dull")]  # 'it 's great \\(' ; no tree for the second
    trees, found = mr_trees(texts, [1, 0], bank)
    assert found == 1
    assert trees[0].leaves() == ["It", "'s", "great", "-LRB-"] and trees[0].label == 1
    assert [n.label for n in trees[0].postorder()][:-1] == [-1] * 6  # only the root labelled
    assert trees[1].leaves() == ["it", "is", "dull"] and trees[1].label == 0
    arrays, labels = encode_tree(trees[1], {UNK: 0}, "binary")
    assert arrays.children.tolist() == [[1, 2], [0, 3]] and labels.tolist() == [-1, -1, -1, -1, 0]
    # binary_nodes="inner": the sentence's label on every parent too (the leaves keep none)
    est = TreeClassifier("recnn", "binary", epochs=1, binary_nodes="inner").fit(trees)
    _, ys, roots = est._encode(trees)
    assert [y.tolist() for y in ys] == [[-1] * 4 + [1] * 3, [-1, -1, -1, 0, 0]] and roots.tolist() == [1, 0]
    est.set_params(binary_nodes="root")
    assert [y.tolist() for y in est._encode(trees)[1]] == [[-1] * 6 + [1], [-1] * 4 + [0]]


def test_cli_mv_rnn_on_mr_cross_validates_on_trees(tmp_path, monkeypatch, capsys):
    write_treebank(tmp_path)
    lines = tiny_lines(60, seed=5, labels=(0, 4))
    trees = [parse_tree(t) for t in lines]
    mr = [f"{int(t.label > 2)} {' '.join(t.leaves())}" for t in trees[:40]]
    mr += [f"{int(t.label > 2)} {' '.join(reversed(t.leaves()))}" for t in trees[40:]]  # no tree: reversed
    bank = tmp_path / "sentence_classification" / "sst_trees" / "train.txt"
    bank.write_text(bank.read_text() + "\n".join(lines[:40]) + "\n", encoding="utf-8")
    (tmp_path / "sentence_classification" / "rt-polarity.all").write_text(
        "\n".join(mr) + "\n", encoding="utf-8"
    )
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    run = tmp_path / "run"
    argv = ["classify", "train", "mr", "-o", str(run), "--model", "mv-rnn", "--folds", "2", "--epochs", "4"]
    vectors = write_vectors(tmp_path / "vectors.txt", ("great", "superb", "dull"), dim=5)
    assert main(argv + ["--threads", "1", "--vectors", str(vectors)]) == 0
    m = json.loads((run / "metrics.json").read_text())
    assert m["vectors"] == str(vectors)
    assert m["folds"] == 2 and len(m["fold_accuracies"]) == 2 and m["tree_coverage"] == pytest.approx(40 / 60)
    assert m["accuracy"] == pytest.approx(np.mean(m["fold_accuracies"]))
    assert main(["classify", "predict", str(run), "a superb film"]) == 0


def write_vectors(path, words, dim):
    rng = np.random.default_rng(0)
    path.write_text("".join(f"{w} {' '.join(f'{x:.4f}' for x in rng.normal(size=dim))}\n" for w in words))
    return path


def test_mv_rnn_on_mr_starts_from_pretrained_words_by_default(tmp_path, monkeypatch):
    from seqlab.classify.run import TrainedClassifier
    from seqlab.classify.tree_data import default_vectors

    assert default_vectors("mv-rnn", "mr") == "glove-6b-50d"  # Socher et al. 2012: 50-d pretrained words
    assert default_vectors("mv-rnn", "sst1") is None and default_vectors("rntn", "mr") is None
    assert default_vectors("tree-lstm", "sst2") == "glove-6b-50d"
    write_treebank(tmp_path)
    mr = [f"{i % 2} a {('superb', 'dull')[i % 2]} film" for i in range(20)]
    (tmp_path / "sentence_classification" / "rt-polarity.all").write_text("\n".join(mr) + "\n")
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    run = tmp_path / "run"
    argv = ["classify", "train", "mr", "-o", str(run), "--model", "mv-rnn", "--folds", "2", "--epochs", "1"]
    assert main(argv + ["--threads", "1"]) == 0
    assert json.loads((run / "metrics.json").read_text())["vectors"] == "glove-6b-50d"
    est = TrainedClassifier.load(run).estimator
    assert est.model_.embedding.weight.shape[1] == 50


def test_cli_tree_lstm_starts_from_the_given_vectors(tmp_path, monkeypatch):
    from seqlab.embeddings.vector_sources import load_vectors

    write_treebank(tmp_path)
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    glove = tmp_path / "vectors.txt"
    rng = np.random.default_rng(0)
    glove.write_text(
        "".join(f"{w} {' '.join(f'{x:.4f}' for x in rng.normal(size=6))}\n" for w in ("great", "dull"))
    )
    run = tmp_path / "run"
    argv = ["classify", "train", "sst1", "-o", str(run), "--model", "tree-lstm", "--epochs", "1"]
    assert main(argv + ["--vectors", str(glove), "--threads", "1"]) == 0
    assert json.loads((run / "metrics.json").read_text())["vectors"] == str(glove)
    from seqlab.classify.run import TrainedClassifier

    est = TrainedClassifier.load(run).estimator
    assert est.model_.embedding.weight.shape[1] == 6 and est.model_.config.hidden_size == 150
    kv = load_vectors(str(glove))
    # one epoch of SGD at lr 0.1 moves the words a little: still nearer their vectors than anything else
    row = est.model_.embedding.weight[est.vocab_.stoi["great"]].detach().numpy()
    assert np.abs(row - kv["great"]).max() < 0.5 < np.abs(row - kv["dull"]).max()


def test_each_model_gets_its_papers_settings():
    from seqlab.classify.tree_classifier import make_tree_estimator

    core_nlp = dict(embedding_dim=25, lr=0.01, batch_size=27, adagrad_reset=1, adagrad_eps=1e-3, word_lr=None)
    core_nlp.update(l2_transform=1e-3, l2_classifier=1e-4, l2_words=1e-4, dropout=0.0)
    for model in ("recnn", "rntn", "mv-rnn"):
        params = make_tree_estimator(model, "sst1").get_params()
        assert {k: params[k] for k in core_nlp} == core_nlp, model
    tai = dict(hidden_size=150, lr=0.05, batch_size=25, adagrad_reset=0, adagrad_eps=1e-10, word_lr=0.1)
    tai.update(l2_transform=1e-4, l2_classifier=1e-4, l2_words=0.0, dropout=0.5)
    params = make_tree_estimator("tree-lstm", "sst2", epochs=3).get_params()
    assert {k: params[k] for k in tai} == tai and params["epochs"] == 3
