"""Every public gensim 4 KeyedVectors method, side by side with gensim on the same vectors.

Each test does the same thing to a seqlab and a gensim object and compares gensim's numbers, keys
and files with ours (never ours with ours). Two vector sets: gensim's own `euclidean_vectors.bin`
test data (real word2vec vectors) and random vectors with structure (clusters, a case variant,
non-ASCII words, a vocabulary sorted by made-up counts).
"""

import sys
import types

import numpy as np
import pytest

from seqlab.embeddings.keyedvectors import KeyedVectors, UnknownWordError
from seqlab.errors import SeqlabError

gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
from gensim.test.utils import datapath  # noqa: E402  (after the importorskip above)

GensimKV = gensim_kv.KeyedVectors


@pytest.fixture(scope="module")
def pair():
    """(ours, gensim's) over 300 words in 6 clusters, 16 dims, counts descending with ties."""
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(6, 16))
    words = [f"w{i}" for i in range(296)] + ["King", "king", "café", "naïve"]
    vectors = (centres[rng.integers(0, 6, size=len(words))] + 0.6 * rng.normal(size=(len(words), 16))).astype(
        np.float32
    )
    counts = np.sort(rng.integers(1, 50, size=len(words)))[::-1]  # (N,) descending, many ties
    ours = KeyedVectors.from_arrays(words, vectors, counts=counts)
    theirs = GensimKV(16)
    theirs.add_vectors(words, vectors)
    for w, c in zip(words, counts):
        theirs.set_vecattr(w, "count", int(c))
    return ours, theirs


@pytest.fixture()
def euclid():
    """gensim's test vectors, loaded by each library (fresh per test: some tests add vectors)."""
    path = datapath("euclidean_vectors.bin")
    return KeyedVectors.load_word2vec_format(path, binary=True), GensimKV.load_word2vec_format(
        path, binary=True
    )


def same_ranking(ours, theirs, atol=1e-5):
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=atol)


# ---- building -----------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Adding single vectors")  # gensim warns when it grows by one
def test_constructor_preallocation_and_add_vector():
    ours, theirs = KeyedVectors(3, count=2, dtype=np.float64), GensimKV(3, count=2, dtype=np.float64)
    for kv in (ours, theirs):
        assert kv.vectors.shape == (2, 3) and kv.vectors.dtype == np.float64
    assert ours.index_to_key == theirs.index_to_key == [None, None] and len(ours) == len(theirs)
    for key, vec in [("a", [1, 2, 3]), ("b", [4, 5, 6]), ("c", [7, 8, 9])]:  # the third grows it
        assert ours.add_vector(key, np.array(vec)) == theirs.add_vector(key, np.array(vec))
    assert ours.index_to_key == theirs.index_to_key == ["a", "b", "c"]
    assert ours.key_to_index == theirs.key_to_index and ours.next_index == theirs.next_index
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)


def test_add_vectors_setitem_and_replace():
    rng = np.random.default_rng(2)
    ours, theirs = KeyedVectors(4), GensimKV(4)
    steps = [
        lambda kv, v: kv.add_vectors(["a", "b", "c"], v[:3]),
        lambda kv, v: kv.add_vectors(["b", "d"], v[3:5]),  # b kept (replace=False), d added
        lambda kv, v: kv.add_vectors(["c", "e"], v[5:7], replace=True),
        lambda kv, v: kv.add_vectors("f", v[7]),  # one key, one vector
        lambda kv, v: kv.__setitem__("a", v[8]),
        lambda kv, v: kv.__setitem__(["g", "d"], [v[9], v[10]]),
    ]
    for step in steps:
        v = rng.normal(size=(11, 4))
        step(ours, v)
        step(theirs, v)
        assert ours.index_to_key == theirs.index_to_key
        assert ours.key_to_index == theirs.key_to_index
        np.testing.assert_array_equal(ours.vectors, theirs.vectors)
        assert ours.vectors.dtype == theirs.vectors.dtype == np.float32


def test_vecattrs_and_sort_by_descending_frequency(pair):
    ours, theirs = pair
    assert ours.get_vecattr("w7", "count") == theirs.get_vecattr("w7", "count")
    np.testing.assert_array_equal(ours.expandos["count"], theirs.expandos["count"])
    rng = np.random.default_rng(3)
    words = [f"x{i}" for i in range(40)]
    vecs, counts = rng.normal(size=(40, 5)), rng.integers(1, 6, size=40)  # many ties
    a, b = KeyedVectors.from_arrays(words, vecs, counts=counts), GensimKV(5)
    b.add_vectors(words, vecs)
    for w, c in zip(words, counts):
        b.set_vecattr(w, "count", int(c))
    a.set_vecattr("x3", "count", 99)
    b.set_vecattr("x3", "count", 99)
    a.sort_by_descending_frequency()
    b.sort_by_descending_frequency()
    assert a.index_to_key == b.index_to_key and a.key_to_index == b.key_to_index
    np.testing.assert_array_equal(a.vectors, b.vectors)
    np.testing.assert_array_equal(a.expandos["count"], b.expandos["count"])


@pytest.mark.parametrize("copy_vecattrs", [False, True])
def test_vectors_for_all(pair, copy_vecattrs):
    ours, theirs = pair
    keys = ["w5", "nosuch", "w2", "w5", "café", "w290"]
    a = ours.vectors_for_all(keys, copy_vecattrs=copy_vecattrs)
    b = theirs.vectors_for_all(keys, copy_vecattrs=copy_vecattrs)
    assert a.index_to_key == b.index_to_key == ["w5", "w2", "café", "w290"]
    np.testing.assert_array_equal(a.vectors, b.vectors)
    np.testing.assert_array_equal(a.expandos["count"], b.expandos["count"])


def test_norms_normed_vectors_and_unit_normalize_all(pair):
    ours, theirs = pair
    ours.fill_norms()
    theirs.fill_norms()
    np.testing.assert_allclose(ours.norms, theirs.norms, rtol=1e-6)
    np.testing.assert_allclose(ours.get_normed_vectors(), theirs.get_normed_vectors(), atol=1e-6)
    np.testing.assert_allclose(
        ours.get_vector("w9", norm=True), theirs.get_vector("w9", norm=True), atol=1e-6
    )
    a = KeyedVectors.from_arrays(ours.index_to_key, ours.vectors.copy())
    b = GensimKV(16)
    b.add_vectors(theirs.index_to_key, theirs.vectors.copy())
    a.unit_normalize_all()
    b.unit_normalize_all()
    np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-6)
    np.testing.assert_allclose(a.norms, b.norms, atol=1e-6)


# ---- queries ------------------------------------------------------------------------------------
QUERIES = [
    dict(positive="w1"),
    dict(positive=["w1", "w2"], negative=["w3"]),
    dict(positive=["King", "naïve"], negative="café", topn=20),
    dict(positive=[("w1", 0.5), ("w4", 2.0)], negative=[("w9", -1.5)]),
    dict(positive=[7, "w8"]),  # an int key is a row number
    dict(positive=["w1"], restrict_vocab=120),
    dict(positive=["w1"], clip_start=50, clip_end=200),
    dict(positive=["w1"], topn=0),
]


@pytest.mark.parametrize("query", QUERIES)
def test_most_similar(pair, query):
    ours, theirs = pair
    got, want = ours.most_similar(**query), theirs.most_similar(**query)
    same_ranking(got, want)


def test_most_similar_with_vectors_and_2d_arrays(pair):
    ours, theirs = pair
    v = ours["w5"] * 3.0
    same_ranking(
        ours.most_similar(positive=[v, "w6"], negative=["w7"]),
        theirs.most_similar(positive=[v, "w6"], negative=["w7"]),
    )
    block = theirs.vectors[10:15]  # (5, D): five query vectors at once
    same_ranking(ours.most_similar(positive=block), theirs.most_similar(positive=block))
    same_ranking(
        ours.most_similar(positive=block, negative=theirs.vectors[20]),
        theirs.most_similar(positive=block, negative=theirs.vectors[20]),
    )


def test_most_similar_topn_none_returns_every_similarity(pair):
    ours, theirs = pair
    for query in (dict(positive=["w1", "w2"], negative=["w3"]), dict(positive=["w1"], restrict_vocab=80)):
        got, want = ours.most_similar(topn=None, **query), theirs.most_similar(topn=None, **query)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-6)
    np.testing.assert_allclose(
        ours.similar_by_key("w4", topn=None), theirs.similar_by_key("w4", topn=None), atol=1e-6
    )


@pytest.mark.parametrize(
    "query",
    [
        dict(positive=["w1", "w2"], negative=["w3"]),
        dict(positive="w4"),
        dict(positive=["naïve", "King"], negative=["café", "w3"]),
    ],
)
def test_most_similar_cosmul(pair, query):
    ours, theirs = pair
    got, want = ours.most_similar_cosmul(**query), theirs.most_similar_cosmul(**query)
    assert [k for k, _ in got] == [k for k, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-5)
    np.testing.assert_allclose(
        ours.most_similar_cosmul(topn=None, **query),
        theirs.most_similar_cosmul(topn=None, **query),
        rtol=1e-5,
    )


def test_similar_by_word_key_vector(pair):
    ours, theirs = pair
    same_ranking(ours.similar_by_word("w11", topn=7), theirs.similar_by_word("w11", topn=7))
    same_ranking(
        ours.similar_by_key("w12", restrict_vocab=100), theirs.similar_by_key("w12", restrict_vocab=100)
    )
    v = theirs["w13"] + 0.1
    same_ranking(ours.similar_by_vector(v, topn=5), theirs.similar_by_vector(v, topn=5))


def test_similarity_distance_and_distances(pair):
    ours, theirs = pair
    for w1, w2 in [("w1", "w2"), ("King", "king"), ("café", "w200")]:
        assert ours.similarity(w1, w2) == pytest.approx(theirs.similarity(w1, w2), abs=1e-6)
        assert ours.distance(w1, w2) == pytest.approx(theirs.distance(w1, w2), abs=1e-6)
    for w in ours.index_to_key:  # exactly, where float32 rounding would leave 6e-8
        assert ours.distance(w, w) == 0.0 and ours.similarity(w, w) == 1.0
    d, g = ours.distances("w3"), theirs.distances("w3")
    assert d.shape == g.shape == (len(ours),)
    np.testing.assert_allclose(d, g, atol=1e-6)
    assert d[ours.get_index("w3")] == 0.0
    others = ["w5", "w3", "naïve"]
    np.testing.assert_allclose(ours.distances("w3", others), theirs.distances("w3", others), atol=1e-6)
    assert ours.distances("w3", others)[1] == 0.0
    v = theirs["w8"] * 2
    np.testing.assert_allclose(ours.distances(v, others), theirs.distances(v, others), atol=1e-6)
    all_vecs = theirs.vectors[:30]
    np.testing.assert_allclose(
        KeyedVectors.cosine_similarities(v, all_vecs), GensimKV.cosine_similarities(v, all_vecs), atol=1e-6
    )


def test_closer_than_rank_and_given(pair):
    ours, theirs = pair
    for k1, k2 in [("w1", "w2"), ("w1", "w1"), ("King", "w40"), ("café", "naïve")]:
        assert ours.closer_than(k1, k2) == theirs.closer_than(k1, k2)
        assert ours.rank(k1, k2) == theirs.rank(k1, k2)
    assert ours.words_closer_than("w1", "w9") == ours.closer_than("w1", "w9")
    assert ours.rank("w1", "w1") == 1
    for given in (["w2", "w3", "w4"], ["café", "King", "w100", "w50"]):
        assert ours.most_similar_to_given("w1", given) == theirs.most_similar_to_given("w1", given)


def test_relative_cosine_similarity_n_similarity_and_centrality(pair):
    ours, theirs = pair
    for wa, wb, topn in [("w1", "w2", 10), ("King", "king", 5), ("w3", "w200", 1)]:
        assert ours.relative_cosine_similarity(wa, wb, topn) == pytest.approx(
            theirs.relative_cosine_similarity(wa, wb, topn), rel=1e-5
        )
    for ws1, ws2 in [(["w1", "w2"], ["w3"]), (["café"], ["naïve", "King", "w9"])]:
        assert ours.n_similarity(ws1, ws2) == pytest.approx(theirs.n_similarity(ws1, ws2), abs=1e-6)
    words = ["w1", "w2", "w3", "w4", "w10", "King"]
    for use_norm in (True, False):
        got, want = ours.rank_by_centrality(words, use_norm), theirs.rank_by_centrality(words, use_norm)
        assert [w for _, w in got] == [w for _, w in want]
        np.testing.assert_allclose([s for s, _ in got], [s for s, _ in want], atol=1e-6)
    assert ours.doesnt_match(words) == theirs.doesnt_match(words)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(weights=[1, 2, -3, 0.5]),
        dict(pre_normalize=False),
        dict(post_normalize=True),
        dict(weights=np.array([1.0, 1, 1, 4])),
    ],
)
def test_get_mean_vector(pair, kwargs):
    ours, theirs = pair
    keys = ["w1", "nosuchword", "King", 5]  # an unknown word is skipped (ignore_missing=True)
    np.testing.assert_allclose(
        ours.get_mean_vector(keys, **kwargs), theirs.get_mean_vector(keys, **kwargs), atol=1e-6
    )


@pytest.mark.parametrize("pre_normalize", [True, False])
def test_get_mean_vector_of_words_and_vectors(pair, pre_normalize):
    ours, theirs = pair
    keys = [theirs["w2"] * 3, "w1", theirs["w3"]]  # a vector enters as given
    np.testing.assert_allclose(
        ours.get_mean_vector(keys, [1, -2, 0.5], pre_normalize),
        theirs.get_mean_vector(keys, [1, -2, 0.5], pre_normalize),
        atol=1e-5,
    )


def test_gensim_tests_on_real_vectors(euclid):
    """The real word2vec vectors of gensim's test data, all query types at once."""
    ours, theirs = euclid
    same_ranking(ours.most_similar("war", topn=20), theirs.most_similar("war", topn=20))
    same_ranking(
        ours.most_similar(["war", "terrorism"], ["peace"]),
        theirs.most_similar(["war", "terrorism"], ["peace"]),
    )
    assert ours.closer_than("war", "israel") == theirs.closer_than("war", "israel")
    assert ours.rank("war", "call") == theirs.rank("war", "call")
    assert ours.relative_cosine_similarity("good", "nice") == pytest.approx(
        theirs.relative_cosine_similarity("good", "nice"), rel=1e-5
    )
    np.testing.assert_allclose(ours.distances("war"), theirs.distances("war"), atol=1e-6)


# ---- missing words: a KeyError, as gensim's, with seqlab's message -------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda kv: kv["nosuchword"],
        lambda kv: kv.get_vector("nosuchword"),
        lambda kv: kv.get_index("nosuchword"),
        lambda kv: kv.most_similar("nosuchword"),
        lambda kv: kv.most_similar(["w1"], ["nosuchword"]),
        lambda kv: kv.most_similar_cosmul("nosuchword"),
        lambda kv: kv.similarity("w1", "nosuchword"),
        lambda kv: kv.distance("nosuchword", "w1"),
        lambda kv: kv.distances("nosuchword"),
        lambda kv: kv.closer_than("w1", "nosuchword"),
        lambda kv: kv.rank("nosuchword", "w1"),
        lambda kv: kv.get_vecattr("nosuchword", "count"),
        lambda kv: kv.most_similar_to_given("nosuchword", ["w1"]),
        lambda kv: kv.relative_cosine_similarity("w1", "nosuchword"),
        lambda kv: kv.get_mean_vector(["nosuchword", "w1"], ignore_missing=False),
    ],
)
def test_missing_word_is_a_key_error_in_both(pair, call):
    ours, theirs = pair
    with pytest.raises(KeyError):
        call(theirs)
    with pytest.raises(KeyError) as caught:
        call(ours)
    assert isinstance(caught.value, UnknownWordError) and isinstance(caught.value, SeqlabError)
    assert str(caught.value) == "word not in vocabulary: 'nosuchword'"


# ---- word mover's distance ----------------------------------------------------------------------
def _emd2_by_linprog(a, b, cost):
    """An exact transport solver standing in for POT's `ot.emd2`, so gensim's wmdistance runs."""
    from scipy.optimize import linprog

    n, m = cost.shape
    eq = np.zeros((n + m, n * m))
    for i in range(n):
        eq[i, i * m : (i + 1) * m] = 1
    for j in range(m):
        eq[n + j, j::m] = 1
    return linprog(cost.ravel(), A_eq=eq, b_eq=np.concatenate([a, b]), bounds=(0, None)).fun


def test_wmdistance_matches_gensim(pair, monkeypatch):
    ours, theirs = pair
    monkeypatch.setitem(sys.modules, "ot", types.SimpleNamespace(emd2=_emd2_by_linprog))
    docs = [
        (["w1", "w2", "w2", "King"], ["w3", "café", "w1"]),
        (["w10", "nosuchword", "w11"], ["w12", "w13", "w13", "w13", "w14"]),
        (["w5"], ["w5", "w5"]),
        (["w5"], ["w6"]),
        (["nosuchword"], ["w1"]),
    ]
    for d1, d2 in docs:
        for norm in (True, False):
            want = theirs.wmdistance(d1, d2, norm=norm)
            assert ours.wmdistance(d1, d2, norm=norm) == pytest.approx(want, rel=1e-6, abs=1e-9)


def test_wmdistance_equals_the_best_assignment_for_equal_sized_documents(pair):
    """Uniform weights on n distinct words each: the optimal transport is a permutation
    (Birkhoff), so the Hungarian algorithm gives the answer independently."""
    from scipy.optimize import linear_sum_assignment

    ours, _ = pair
    d1, d2 = ["w1", "w2", "w3", "w4"], ["w20", "w30", "café", "King"]
    u1 = np.stack([ours.get_vector(w, norm=True) for w in d1]).astype(np.float64)
    u2 = np.stack([ours.get_vector(w, norm=True) for w in d2]).astype(np.float64)
    cost = np.linalg.norm(u1[:, None] - u2[None], axis=2)
    rows, cols = linear_sum_assignment(cost)
    assert ours.wmdistance(d1, d2) == pytest.approx(cost[rows, cols].sum() / 4, rel=1e-7)


# ---- evaluation (delegated to seqlab.embeddings.evaluation) --------------------------------------
def test_evaluate_word_pairs_and_analogies_on_gensims_data(euclid):
    ours, theirs = euclid
    got, want = (
        ours.evaluate_word_pairs(datapath("wordsim353.tsv")),
        theirs.evaluate_word_pairs(datapath("wordsim353.tsv")),
    )
    assert got[0][0] == pytest.approx(want[0][0], abs=1e-6)  # pearson
    assert got[1][0] == pytest.approx(want[1][0], abs=1e-6)  # spearman
    assert got[2] == pytest.approx(want[2])  # oov ratio
    acc, sections = ours.evaluate_word_analogies(datapath("questions-words.txt"))
    g_acc, g_sections = theirs.evaluate_word_analogies(datapath("questions-words.txt"))
    assert acc == pytest.approx(g_acc)
    assert len(sections[-1]["correct"]) == len(g_sections[-1]["correct"])


# ---- files --------------------------------------------------------------------------------------
def test_save_binary_and_vocab_byte_for_byte(pair, tmp_path):
    ours, theirs = pair
    for kwargs in (dict(), dict(prefix="p_"), dict(total_vec=500)):
        ours.save_word2vec_format(tmp_path / "a.bin", fvocab=tmp_path / "a.vocab", binary=True, **kwargs)
        theirs.save_word2vec_format(
            str(tmp_path / "b.bin"), fvocab=str(tmp_path / "b.vocab"), binary=True, **kwargs
        )
        assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
        assert (tmp_path / "a.vocab").read_bytes() == (tmp_path / "b.vocab").read_bytes()


def test_save_follows_count_order_like_gensim(tmp_path):
    words, vecs = ["a", "b", "c", "d"], np.arange(8, dtype=np.float32).reshape(4, 2)
    ours = KeyedVectors.from_arrays(words, vecs, counts=[1, 5, 5, 2])
    theirs = GensimKV(2)
    theirs.add_vectors(words, vecs)
    for w, c in zip(words, [1, 5, 5, 2]):
        theirs.set_vecattr(w, "count", c)
    ours.save_word2vec_format(tmp_path / "a.bin", binary=True)
    theirs.save_word2vec_format(str(tmp_path / "b.bin"), binary=True)
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
    assert KeyedVectors.load_word2vec_format(tmp_path / "a.bin").index_to_key == ["b", "c", "d", "a"]


@pytest.mark.parametrize("write_header", [True, False])
def test_save_text_with_and_without_header_loads_in_gensim(pair, tmp_path, write_header):
    ours, _ = pair
    path = tmp_path / "v.txt"
    ours.save_word2vec_format(path, write_header=write_header, fvocab=tmp_path / "v.vocab")
    g = GensimKV.load_word2vec_format(str(path), fvocab=str(tmp_path / "v.vocab"), no_header=not write_header)
    assert g.index_to_key == ours.index_to_key
    np.testing.assert_array_equal(g.vectors, ours.vectors)
    np.testing.assert_array_equal(g.expandos["count"], ours.expandos["count"])
    back = KeyedVectors.load_word2vec_format(path, fvocab=tmp_path / "v.vocab", no_header=not write_header)
    np.testing.assert_array_equal(back.vectors, g.vectors)
    np.testing.assert_array_equal(back.expandos["count"], g.expandos["count"])


def test_save_append(pair, tmp_path):
    ours, theirs = pair
    small_ours = ours.vectors_for_all(["w1", "w2"])
    small_theirs = theirs.vectors_for_all(["w1", "w2"])
    for kv, name in ((small_ours, "a.bin"), (small_theirs, "b.bin")):
        kv.save_word2vec_format(str(tmp_path / name), binary=True, total_vec=4)
        kv.save_word2vec_format(
            str(tmp_path / name), binary=True, write_header=False, prefix="x", append=True
        )
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
    assert KeyedVectors.load_word2vec_format(tmp_path / "a.bin").index_to_key == ["w1", "w2", "xw1", "xw2"]


@pytest.mark.parametrize("unicode_errors", ["replace", "ignore"])
@pytest.mark.parametrize("limit", [None, 1])
def test_load_with_fvocab_unicode_errors_and_limit(unicode_errors, limit):
    """gensim's test files: words cut inside a multibyte character, and a vocabulary file."""
    model, vocab = (
        datapath("w2v_keyedvectors_load_test.modeldata"),
        datapath("w2v_keyedvectors_load_test.vocab"),
    )
    kwargs = dict(fvocab=vocab, binary=False, unicode_errors=unicode_errors, limit=limit)
    ours, theirs = (
        KeyedVectors.load_word2vec_format(model, **kwargs),
        GensimKV.load_word2vec_format(model, **kwargs),
    )
    assert ours.index_to_key == theirs.index_to_key
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    np.testing.assert_array_equal(ours.expandos["count"], theirs.expandos["count"])


def test_strict_decoding_fails_in_both_with_a_unicode_error():
    model = datapath("w2v_keyedvectors_load_test.modeldata")
    with pytest.raises(UnicodeDecodeError):
        GensimKV.load_word2vec_format(model, binary=False)
    with pytest.raises(UnicodeDecodeError) as caught:
        KeyedVectors.load_word2vec_format(model, binary=False)
    assert isinstance(caught.value, SeqlabError) and "line 2 is not valid UTF-8" in str(caught.value)


def test_load_gives_gensims_made_up_counts(euclid):
    ours, theirs = euclid
    assert ours.index_to_key == theirs.index_to_key
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    np.testing.assert_array_equal(ours.expandos["count"], theirs.expandos["count"])


def test_intersect_word2vec_format(pair, tmp_path):
    ours, theirs = pair
    rng = np.random.default_rng(4)
    other = KeyedVectors.from_arrays(["w1", "zzz", "King", "w299"], rng.normal(size=(4, 16)))
    other.save_word2vec_format(tmp_path / "other.txt")
    other.save_word2vec_format(tmp_path / "other.bin")
    b = GensimKV(16)
    b.add_vectors(theirs.index_to_key, theirs.vectors.copy())
    b.vectors_lockf = np.ones(len(b))  # gensim's method writes lock factors that only Word2Vec sets up
    b.intersect_word2vec_format(str(tmp_path / "other.txt"))  # (its binary branch fails on numpy 2)
    for name in ("other.txt", "other.bin"):
        a = KeyedVectors.from_arrays(ours.index_to_key, ours.vectors.copy())
        assert a.intersect_word2vec_format(tmp_path / name) == 2
        assert a.index_to_key == b.index_to_key
        np.testing.assert_array_equal(a.vectors, b.vectors)
        assert a.similarity("w1", "King") == pytest.approx(b.similarity("w1", "King"), abs=1e-6)
