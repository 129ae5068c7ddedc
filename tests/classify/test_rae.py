"""RAE (Socher et al. 2011): the batched greedy trees and loss against a one-sentence NumPy replay
of the paper's formulas, gradients against finite differences, the estimator conventions and the
CLI on a tiny file."""

import json
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from seqlab.classify.rae import RAEClassifier
from seqlab.cli import main
from seqlab.errors import ParameterError
from seqlab.models.rae import RAE, RAEConfig


def _model(d=4, V=12, seed=0):
    torch.manual_seed(seed)
    m = RAE(RAEConfig(V, 2, d, alpha=0.3, beta=0.5)).double()
    with torch.no_grad():
        for prm in m.parameters():
            prm.normal_(0, 0.8)  # far from init, so pairs differ clearly
    return m


def _replay(m, ids, label):
    """The paper's greedy RAE on one sentence in NumPy: at each step every adjacent pair's parent
    p = tanh(W1 [c1; c2] + b1) / ||.||, its reconstruction [c1'; c2'] = W2 p + b2 and the
    span-weighted error; merge the lowest. Returns merges, all nodes, the errors and the loss."""
    E = m.embedding.weight.detach().numpy()
    W1, b1 = m.encoder.weight.detach().numpy(), m.encoder.bias.detach().numpy()
    W2, b2 = m.decoder.weight.detach().numpy(), m.decoder.bias.detach().numpy()
    Wc, bc = m.classifier.weight.detach().numpy(), m.classifier.bias.detach().numpy()
    d = E.shape[1]
    front = [(E[i], 1) for i in ids]
    nodes, merges, errs = [E[i] for i in ids], [], []

    def parent_and_error(a, b):
        (c1, n1), (c2, n2) = a, b
        p = np.tanh(W1 @ np.concatenate([c1, c2]) + b1)
        p /= np.linalg.norm(p)
        r = W2 @ p + b2
        e = n1 / (n1 + n2) * np.sum((c1 - r[:d]) ** 2) + n2 / (n1 + n2) * np.sum((c2 - r[d:]) ** 2)
        return p, e

    while len(front) > 1:
        scored = [parent_and_error(front[j], front[j + 1]) for j in range(len(front) - 1)]
        j = int(np.argmin([e for _, e in scored]))
        p, e = scored[j]
        merges.append(j)
        errs.append(e)
        nodes.append(p)
        front[j : j + 2] = [(p, front[j][1] + front[j + 1][1])]

    def ce(x):
        z = Wc @ x + bc
        return np.log(np.exp(z).sum()) - z[label]

    n = len(ids)
    sup = sum(ce(x) for x in nodes[:n]) + 0.5 * sum(ce(x) for x in nodes[n:])
    loss = 0.3 * sum(errs) + 0.7 * sup
    return merges, np.array(nodes), np.array(errs), loss


def test_batched_greedy_trees_and_loss_equal_a_one_sentence_replay():
    m = _model()
    sents = [[1, 5, 2, 7, 3], [4, 4, 9], [6], [2, 8, 1, 11, 10, 3]]
    labels = [1, 0, 1, 0]
    L = max(map(len, sents))
    ids = torch.zeros(len(sents), L, dtype=torch.long)
    for r, s in enumerate(sents):
        ids[r, : len(s)] = torch.tensor(s)
    lengths = torch.tensor([len(s) for s in sents])
    merges = m.search(ids, lengths)
    nodes, mask, err, top = m(ids, lengths, merges)
    total = 0.0
    for r, s in enumerate(sents):
        ref_merges, ref_nodes, ref_errs, ref_loss = _replay(m, s, labels[r])
        n = len(s)
        assert merges[r, : n - 1].tolist() == ref_merges and (merges[r, n - 1 :] == -1).all()
        got = torch.cat([nodes[r, :n], nodes[r, L : L + n - 1]]).detach().numpy()
        np.testing.assert_allclose(got, ref_nodes, atol=1e-12)
        np.testing.assert_allclose(err[r, : n - 1].detach().numpy(), ref_errs, atol=1e-12)
        np.testing.assert_allclose(top[r].detach().numpy(), ref_nodes[-1], atol=1e-12)
        assert mask[r].sum() == 2 * n - 1
        total += ref_loss
    loss = m.loss(ids, lengths, merges, torch.tensor(labels))
    np.testing.assert_allclose(loss.item(), total / len(sents), rtol=1e-12)
    # the greedy choice is the brute-force minimum at every step (the replay), not the first pair
    assert any(j > 0 for j in merges.flatten().tolist())


def test_loss_gradient_matches_finite_differences():
    m = _model(d=3, V=8)
    ids = torch.tensor([[1, 2, 3, 4], [5, 6, 0, 0]])
    lengths = torch.tensor([4, 2])
    merges = m.search(ids, lengths)  # the tree is fixed; the loss is smooth in the weights given it
    labels = torch.tensor([1, 0])
    params = [m.embedding.weight, m.encoder.weight, m.encoder.bias, m.decoder.weight, m.classifier.weight]

    def f(*ps):
        with torch.no_grad():
            saved = [p.clone() for p in params]
        for p, new in zip(params, ps):
            p.data = new
        out = m.loss(ids, lengths, merges, labels)
        for p, old in zip(params, saved):
            p.data = old
        return out

    # autograd against central finite differences, parameter by parameter
    loss = m.loss(ids, lengths, merges, labels)
    grads = torch.autograd.grad(loss, params)
    for k, p in enumerate(params):
        num = torch.zeros_like(p)
        flat = p.detach().clone().view(-1)
        for i in range(flat.numel()):
            for sign in (1, -1):
                q = flat.clone()
                q[i] += sign * 1e-6
                args = [x.detach().clone() for x in params]
                args[k] = q.view_as(p)
                num.view(-1)[i] += sign * f(*args).item() / 2e-6
        torch.testing.assert_close(grads[k], num, atol=1e-6, rtol=1e-5)


DOCS = [
    "a good film",
    "a bad film",
    "good good fun",
    "bad plot , bad acting",
    "fun and good",
    "not good at all , bad",
    "really bad",
    "good acting",
    "dull and bad",
    "great fun",
] * 4
LABELS = np.array([1, 0, 1, 0, 1, 0, 0, 1, 0, 1] * 4)


def test_estimator_conventions():
    est = RAEClassifier(dim=8, epochs=15, seed=0)
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        est.predict(["good"])
    assert est.fit(DOCS, LABELS) is est
    assert est.score(DOCS, LABELS) >= 0.9
    X = ["good fun", "bad plot", "completely unseen words here", ""]
    proba = est.predict_proba(X)
    assert proba.shape == (4, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert est.transform(X).shape == (4, 16)
    again = pickle.loads(pickle.dumps(est))
    state = RAEClassifier.from_state(est.get_state())
    for other in (again, state):
        np.testing.assert_allclose(other.predict_proba(X), proba, atol=1e-6)
    # the same seed gives the same model
    np.testing.assert_allclose(
        RAEClassifier(dim=8, epochs=15, seed=0).fit(DOCS, LABELS).predict_proba(X), proba
    )


def test_features_are_top_node_and_mean_of_nodes():
    est = RAEClassifier(dim=5, epochs=1).fit(DOCS, LABELS)
    ids, lengths = est._encode([["good", "fun", "film"]])
    nodes, mask, _, top = est.model_(ids, lengths, est.model_.search(ids, lengths))
    f = est.transform(["good fun film"])[0]
    np.testing.assert_allclose(f[:5], top[0].detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(f[5:], nodes[0, mask[0]].mean(0).detach().numpy(), atol=1e-6)


@pytest.mark.parametrize("kw, name", [({"dim": 0}, "dim"), ({"alpha": 1.5}, "alpha"), ({"lr": 0}, "lr")])
def test_bad_parameters_name_themselves(kw, name):
    with pytest.raises(ParameterError) as e:
        RAEClassifier(**kw).fit(DOCS, LABELS)
    assert e.value.parameter == name


def test_cli_train_then_predict(tmp_path, capsys):
    rng = np.random.default_rng(0)
    lines = []
    for i in range(60):
        cue = rng.choice(["great", "superb"] if i % 2 else ["awful", "dull"])
        words = list(rng.choice([f"w{j}" for j in range(8)], size=3)) + [str(cue)]
        lines.append(f"{'pos' if i % 2 else 'neg'}\t{' '.join(words)}")
    data = tmp_path / "toy.tsv"
    data.write_text("\n".join(lines) + "\n")
    run = tmp_path / "run"
    assert main(["classify", "train", str(data), "-o", str(run), "--model", "rae", "--folds", "2"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["model"] == "rae" and metrics["folds"] == 2 and metrics["accuracy"] > 0.5
    capsys.readouterr()
    assert main(["classify", "predict", str(run), "a superb w3", "dull w1 w2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(line.split("\t")[0] in ("pos", "neg") for line in out)


def test_the_epoch_best_on_dev_is_kept_and_training_stops_after_patience():
    est = RAEClassifier(dim=6, epochs=12, patience=2, lr=0.05, seed=1).fit(DOCS, LABELS)
    dev = [h["dev_accuracy"] for h in est.history_]
    assert est.best_epoch_ == 1 + int(np.argmax(dev))  # the first epoch reaching the best
    assert len(est.history_) == 12 or len(est.history_) == est.best_epoch_ + 2
    # the kept weights are that epoch's: retraining for exactly best_epoch_ epochs without a dev
    # split is a different run, so compare against the same run cut at best_epoch_ instead
    cut = RAEClassifier(dim=6, epochs=est.best_epoch_, patience=50, lr=0.05, seed=1).fit(DOCS, LABELS)
    for k, v in est.model_.state_dict().items():
        torch.testing.assert_close(v, cut.model_.state_dict()[k])
    # no dev split: every epoch runs
    assert len(RAEClassifier(dim=6, epochs=3, dev_fraction=0.0).fit(DOCS, LABELS).history_) == 3
