"""seqlab.Doc2Vec beyond gensim's own suite: tags numbered as gensim numbers them (checked against
gensim's Doc2Vec), runs that repeat bit for bit, inference, files, bad input, and the CLI."""

import numpy as np
import pytest

from seqlab.cli import main
from seqlab.embeddings.doc2vec import Doc2Vec, TaggedDocument
from seqlab.errors import ParameterError, SeqlabError


def cluster_docs(n=120, seed=0):
    """Documents drawn from 3 topics of 12 words each (plus shared filler): a document's topic is
    what its vector should tell."""
    rng = np.random.default_rng(seed)
    topics = rng.integers(0, 3, n)
    docs = []
    for k, t in enumerate(topics):
        words = [f"t{t}w{j}" for j in rng.integers(0, 12, 25)] + [f"f{j}" for j in rng.integers(0, 5, 10)]
        docs.append(TaggedDocument([str(w) for w in rng.permutation(words)], [k]))
    return docs, topics


@pytest.fixture(scope="module")
def docs():
    return cluster_docs()


@pytest.mark.parametrize(
    "kw", [dict(dm=0), dict(dm=1), dict(dm=1, dm_concat=1, window=2), dict(dm=0, hs=1, negative=0)]
)
def test_document_vectors_find_their_topic(docs, kw):
    """Nearest documents share the topic, and an inferred vector of a training document lands
    among its own topic: well above the 1/3 of chance."""
    d, topics = docs
    m = Doc2Vec(d, vector_size=24, min_count=1, epochs=30, workers=1, seed=3, **kw)
    same = [topics[m.dv.most_similar(k, topn=1)[0][0]] == topics[k] for k in range(len(d))]
    assert np.mean(same) > 0.8
    inferred = m.infer_vectors([doc.words for doc in d[:30]])
    near = [topics[m.dv.most_similar([v], topn=1)[0][0]] == topics[k] for k, v in enumerate(inferred)]
    assert np.mean(near) > 0.8


def test_tags_are_numbered_as_gensim_numbers_them():
    gensim_doc2vec = pytest.importorskip("gensim.models.doc2vec")
    corpus = [(["a", "b"], [3, "x"]), (["b", "c"], ["y"]), (["a"], [0, "x"]), (["c"], [np.int64(5)])]
    ours = Doc2Vec(min_count=1)
    ours.build_vocab([TaggedDocument(w, t) for w, t in corpus])
    theirs = gensim_doc2vec.Doc2Vec(min_count=1)
    theirs.build_vocab([gensim_doc2vec.TaggedDocument(w, t) for w, t in corpus])
    assert ours.dv.index_to_key == theirs.dv.index_to_key
    assert ours.dv.key_to_index == theirs.dv.key_to_index
    assert len(ours.dv) == len(theirs.dv) == 8  # int rows 0..5, then "x", "y"
    assert ours.corpus_count == theirs.corpus_count == 4
    for tag in (0, 4, 5, "x", "y"):
        assert ours.dv.get_index(tag) == theirs.dv.get_index(tag)
    with pytest.raises(KeyError):
        ours.dv["not a tag"]
    # gensim's documents are accepted as they are (any object with .words and .tags)
    ours.build_vocab([gensim_doc2vec.TaggedDocument(w, t) for w, t in corpus])
    assert ours.dv.index_to_key == theirs.dv.index_to_key


def test_runs_repeat_bit_for_bit():
    """One worker, any model; and PV-DBOW with 2 workers (replicas, document vectors shared)."""
    d, _ = cluster_docs(n=2200)  # 77,000 words: two jobs, so two threads
    for kw in (
        dict(dm=1, workers=1),
        dict(dm=0, workers=2, sync="replicas"),
        dict(dm=0, dbow_words=1, workers=1),
    ):
        a, b = (Doc2Vec(d, vector_size=16, min_count=1, epochs=3, seed=7, **kw) for _ in range(2))
        assert np.array_equal(a.dv.vectors, b.dv.vectors) and np.array_equal(a.wv.vectors, b.wv.vectors)
        assert np.array_equal(a.syn1neg, b.syn1neg)
        assert a.stats["sync"] == ("replicas" if kw["workers"] == 2 else "hogwild")
    c = Doc2Vec(d, vector_size=16, min_count=1, epochs=3, seed=8, dm=1, workers=1)
    assert not np.array_equal(a.dv.vectors, c.dv.vectors)


def test_two_steps_file_and_constructor_train_the_same(docs, tmp_path):
    """build_vocab + train equals the constructor; corpus_file (a line per document, empty lines
    keep their tag) equals the same lines as TaggedDocuments."""
    d, _ = docs
    one = Doc2Vec(d, vector_size=16, min_count=1, epochs=2, workers=1)
    two = Doc2Vec(vector_size=16, min_count=1, epochs=2, workers=1)
    two.build_vocab(d)
    two.train(d, total_examples=two.corpus_count, epochs=2)
    assert np.array_equal(one.dv.vectors, two.dv.vectors) and np.array_equal(one.wv.vectors, two.wv.vectors)
    lines = [" ".join(doc.words) for doc in d[:40]]
    lines[5] = ""
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(lines) + "\n")
    f = Doc2Vec(corpus_file=str(path), vector_size=16, min_count=1, epochs=2, workers=1)
    it = Doc2Vec([TaggedDocument(x.split(), [k]) for k, x in enumerate(lines)], vector_size=16, min_count=1,
                 epochs=2, workers=1)  # fmt: skip
    assert len(f.dv) == 40 and f.corpus_count == 40
    assert np.array_equal(f.dv.vectors, it.dv.vectors)
    f2 = Doc2Vec(vector_size=16, min_count=1, epochs=2, workers=1)  # the file read once, then remapped
    f2.build_vocab(corpus_file=str(path))
    f2.train(corpus_file=str(path), total_words=f2.corpus_total_words, epochs=2)
    assert np.array_equal(f.dv.vectors, f2.dv.vectors)


def test_inference_is_deterministic_and_independent_of_the_batch(docs):
    d, _ = docs
    m = Doc2Vec(d, vector_size=16, min_count=1, epochs=5, workers=1)
    a = m.infer_vector(d[3].words)
    assert np.array_equal(a, m.infer_vector(d[3].words))
    batch = m.infer_vectors([d[0].words, d[3].words, d[9].words], workers=2)
    assert np.array_equal(batch[1], a)
    before = (m.wv.vectors.copy(), m.syn1neg.copy(), m.dv.vectors.copy())
    m.infer_vector(d[4].words, epochs=20)
    assert all(np.array_equal(x, y) for x, y in zip(before, (m.wv.vectors, m.syn1neg, m.dv.vectors)))
    assert m.similarity_unseen_docs(d[0].words, d[0].words) > m.similarity_unseen_docs(d[0].words, ["f1"])
    with pytest.raises(TypeError):
        m.infer_vector("a string")


def test_save_and_load(docs, tmp_path):
    d, _ = docs
    m = Doc2Vec(d[:50] + [TaggedDocument(["t0w1", "f1"], ["named"])], vector_size=8, min_count=1, epochs=2,
                hs=1, negative=3)  # fmt: skip
    m.save(tmp_path / "m.npz")
    back = Doc2Vec.load(tmp_path / "m.npz")
    assert back.dv.index_to_key == m.dv.index_to_key and back.dv.key_to_index == {"named": 50}
    for name in ("syn1", "syn1neg"):
        assert np.array_equal(getattr(back, name), getattr(m, name))
    assert np.array_equal(back.dv["named"], m.dv["named"]) and np.array_equal(back.wv.vectors, m.wv.vectors)
    assert np.array_equal(back.infer_vector(d[0].words), m.infer_vector(d[0].words))
    back.train(d[:50], total_examples=50, epochs=1)  # training continues after loading
    (tmp_path / "bad.npz").write_bytes((tmp_path / "m.npz").read_bytes()[:300])
    with pytest.raises(SeqlabError, match="bad.npz"):
        Doc2Vec.load(tmp_path / "bad.npz")


def test_bad_input_gets_one_clear_error(tmp_path):
    with pytest.raises(RuntimeError):
        Doc2Vec([])
    with pytest.raises(SeqlabError, match="document 1 has no tags"):
        Doc2Vec([TaggedDocument(["a"], [0]), TaggedDocument(["b"], [])], min_count=1)
    with pytest.raises(SeqlabError, match="document 0 is a list, not a TaggedDocument"):
        Doc2Vec([["a", "b"]], min_count=1)
    with pytest.raises(SeqlabError, match="tags must be a list"):
        Doc2Vec([TaggedDocument(["a"], 0)], min_count=1)
    with pytest.raises(SeqlabError, match="got a string"):
        Doc2Vec([TaggedDocument("a b", [0])], min_count=1)
    with pytest.raises(ParameterError, match="negative"):
        Doc2Vec(hs=0, negative=0)
    with pytest.raises(SeqlabError, match="not found|no such"):
        Doc2Vec(corpus_file=str(tmp_path / "missing.txt"))
    with pytest.raises(TypeError):
        Doc2Vec(corpus_file=["a", "b"])
    with pytest.raises(TypeError):
        Doc2Vec(not_a_parameter=1)
    m = Doc2Vec(min_count=1)
    with pytest.raises(RuntimeError):
        m.train([TaggedDocument(["a"], [0])], total_examples=1, epochs=1)
    with pytest.raises(RuntimeError):
        m.infer_vector(["a"])


def run(capsys, *argv):
    rc = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_writes_document_and_word_vectors(docs, tmp_path, capsys):
    from seqlab.embeddings.keyedvectors import KeyedVectors

    d, topics = docs
    corpus = tmp_path / "docs.txt"
    corpus.write_text("\n".join(" ".join(doc.words) for doc in d) + "\n")
    flags = ["--method", "doc2vec", "--dm", "0", "--min-count", "1", "--epochs", "20", "--dim", "16"]
    rc, out, _ = run(capsys, "embed", "train", corpus, "-o", tmp_path / "d.bin", *flags, "--workers", "1")
    assert rc == 0 and '"dm": 0' in out and '"documents": 120' in out
    dv = KeyedVectors.load_word2vec_format(tmp_path / "d.bin")
    wv = KeyedVectors.load_word2vec_format(tmp_path / "d.words.bin")
    assert len(dv) == 120 and dv.index_to_key[:3] == ["0", "1", "2"] and "t0w1" in wv
    near = [topics[int(dv.most_similar(str(k), topn=1)[0][0])] == topics[k] for k in range(120)]
    assert np.mean(near) > 0.8
    rc, out, _ = run(capsys, "embed", "train", corpus, "-o", tmp_path / "m.npz", "--method", "doc2vec",
                     "--min-count", "1", "--epochs", "1")  # fmt: skip
    assert rc == 0 and Doc2Vec.load(tmp_path / "m.npz").dm == 1
    rc, _, err = run(capsys, "embed", "train", corpus, "-o", tmp_path / "m.npy", "--method", "doc2vec")
    assert rc == 2 and "or .npz (the doc2vec model)" in err and "Traceback" not in err
