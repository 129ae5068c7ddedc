"""The recursive rows of `seqlab classify table` (issue 23 §4): their SST cells train by classify
train's code and score what make_tree_estimator scores on its own, each unit is cached (a second run
trains nothing), MV-RNN's MR cell cross-validates fold by fold, and cells without trees print "—"."""

import json

import numpy as np
import pytest
from tiny_treebank import tiny_lines

from seqlab.classify.sst_trees import parse_tree
from seqlab.classify.table import TableConfig, build_table
from seqlab.cli import main
from seqlab.embeddings.vector_sources import load_vectors


def no_training(*args, **kwargs):
    raise AssertionError("trained, where the cache holds the cell")


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A tiny treebank (80/20/20 trees) and an MR of 60 sentences, 40 of them on treebank trees."""
    folder = tmp_path / "data" / "sentence_classification"
    (folder / "sst_trees").mkdir(parents=True)
    mr_lines = tiny_lines(60, seed=5, labels=(0, 4))
    for part, n, seed in (("train", 80, 0), ("dev", 20, 1), ("test", 20, 2)):
        lines = tiny_lines(n, seed, labels=(0, 1, 2, 3, 4)) + (mr_lines[:40] if part == "train" else [])
        (folder / "sst_trees" / f"{part}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    trees = [parse_tree(t) for t in mr_lines]
    mr = [f"{int(t.label > 2)} {' '.join(t.leaves())}" for t in trees[:40]]
    mr += [f"{int(t.label > 2)} {' '.join(reversed(t.leaves()))}" for t in trees[40:]]  # no tree
    (folder / "rt-polarity.all").write_text("\n".join(mr) + "\n", encoding="utf-8")
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path / "data"))
    return tmp_path


def test_sst_cell_scores_what_make_tree_estimator_scores_and_is_cached(data, monkeypatch):
    from seqlab.classify.tree_classifier import make_tree_estimator
    from seqlab.classify.tree_data import load_treebank

    cfg = TableConfig(
        datasets=("mr", "sst2"), models=("rntn",), epochs=3, seed=1, num_threads=1, device="cpu"
    )
    out = data / "T.md"
    md = build_table(cfg, out)
    rec = json.loads((data / "T_cache" / "sst2__rntn__trees__e3__s1__test.json").read_text())
    assert len(list((data / "T_cache").iterdir())) == 1  # no MR cell for the RNTN
    # the independent path: the estimator on the treebank's splits, same seed and epochs
    trees = load_treebank()
    est = make_tree_estimator("rntn", "sst2", epochs=3, seed=1, num_threads=1, device="cpu")
    est.fit(trees["train"], X_dev=trees["dev"])
    acc = est.score_trees(trees["test"])
    assert rec["accuracy"] == pytest.approx(acc, abs=1e-12)
    assert rec["best_epoch"] == est.best_epoch_ and rec["n_test"] == 16 and rec["n_train"] == 104
    assert rec["device"] == "cpu" and rec["epochs"] == 3 and rec["sst_train"] == "trees"
    assert len(rec["epoch_seconds"]) == 3
    cell = f"{100 * acc:.1f} / 85.4 ({100 * acc - 85.4:+.1f})"
    assert f"| RNTN (Socher et al., 2013) | — | {cell} |" in md
    assert "Recursive rows (rntn) train as `seqlab classify train`" in md
    # a second run reads the cache: nothing trains
    monkeypatch.setattr("seqlab.classify.table_trees.train_on_treebank", no_training)
    assert build_table(cfg, out).split("Notes:")[0] == md.split("Notes:")[0]
    # another seed is another cell
    with pytest.raises(AssertionError, match="trained"):
        build_table(TableConfig(datasets=("sst2",), models=("rntn",), epochs=3, seed=2), out)


def test_mv_rnn_on_mr_cross_validates_one_cached_fold_at_a_time(data, monkeypatch):
    from seqlab.classify import table_trees
    from seqlab.classify.tree_data import cross_validate_mr

    cfg = TableConfig(datasets=("mr",), models=("mv-rnn",), epochs=2, folds=3, num_threads=1, device="cpu")
    md = build_table(cfg, data / "T.md")
    files = [
        data / "T_cache" / f"mr__mv-rnn__glove-6b-50d__trees__e2__s0__fold{k}of3.json" for k in (1, 2, 3)
    ]
    recs = [json.loads(f.read_text()) for f in files]
    assert {r["vectors"] for r in recs} == {"glove-6b-50d"}  # MR's MV-RNN starts from pretrained words
    kv = load_vectors("glove-6b-50d")
    _, metrics = cross_validate_mr("mv-rnn", folds=3, epochs=2, seed=0, threads=1, device="cpu", vectors=kv)
    assert [r["accuracy"] for r in recs] == pytest.approx(metrics["fold_accuracies"], abs=1e-12)
    assert [r["n_test"] for r in recs] == [20, 20, 20] and recs[0]["tree_coverage"] == pytest.approx(40 / 60)
    mean = 100 * np.mean(metrics["fold_accuracies"])
    assert f"| MV-RNN (Socher et al., 2012) | {mean:.1f} / 79.0 ({mean - 79.0:+.1f}) |" in md
    # a killed run resumes: only the missing fold trains
    files[1].unlink()
    fitted = []
    real = table_trees.fit_tree_fold
    monkeypatch.setattr(
        table_trees, "fit_tree_fold", lambda m, fold, **kw: fitted.append(fold.index) or real(m, fold, **kw)
    )
    build_table(cfg, data / "T.md")
    assert fitted == [1] and json.loads(files[1].read_text())["accuracy"] == recs[1]["accuracy"]


def test_tree_rows_print_a_dash_where_there_are_no_trees(tmp_path, capsys):
    out = tmp_path / "T.md"
    rows = ["recnn", "mv-rnn", "rntn", "tree-lstm"]
    assert main(["classify", "table", "-o", str(out), "--rows", *rows, "--cached-only"]) == 0
    md = out.read_text()
    assert "| MV-RNN (Socher et al., 2012) | · / 79.0 | · / 44.4 | · / 82.9 | — | — | — | — |" in md
    assert "| RNTN (Socher et al., 2013) | — | · / 45.7 | · / 85.4 | — | — | — | — |" in md
    assert "| Tree-LSTM (Tai et al., 2015; beyond the lecture's table) | — | · / 51.0 | · / 88.0 |" in md
    assert "Tree-LSTM starts from glove-6b-50d" in md and not list((tmp_path / "T_cache").iterdir())


def test_tree_lstm_cell_starts_from_the_tables_vectors(data):
    vec = data / "vectors.txt"
    rng = np.random.default_rng(0)
    vec.write_text(
        "".join(f"{w} {' '.join(f'{x:.4f}' for x in rng.normal(size=6))}\n" for w in ("great", "dull"))
    )
    cfg = TableConfig(datasets=("sst1",), models=("tree-lstm",), vectors=str(vec), epochs=1, num_threads=1)
    build_table(cfg, data / "T.md")
    (path,) = (data / "T_cache").iterdir()
    assert path.name == "sst1__tree-lstm__vectors.txt__trees__e1__s0__test.json"
    assert json.loads(path.read_text())["vectors"] == str(vec)
