"""word2vec training end to end: vocabulary pass, quality on a synthetic corpus, determinism, errors."""

import gzip
import json
import subprocess
import sys

import numpy as np
import pytest

from seqlab.embeddings.config import Word2VecConfig
from seqlab.embeddings.word2vec_train import train_word2vec
from seqlab.errors import SeqlabError


def topic_corpus(n_sent=600, seed=0):
    """Sentences drawn from one of two topics of 12 words each: words co-occur only within a topic."""
    rng = np.random.default_rng(seed)
    topics = [[f"a{i}" for i in range(12)], [f"b{i}" for i in range(12)]]
    return [list(rng.choice(topics[rng.integers(2)], size=20)) for _ in range(n_sent)], topics


def within_minus_across(kv, topics):
    n = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    idx = [[kv.key_to_index[w] for w in t] for t in topics]
    sim = n @ n.T
    within = np.mean([sim[np.ix_(t, t)][~np.eye(len(t), dtype=bool)].mean() for t in idx])
    across = sim[np.ix_(idx[0], idx[1])].mean()
    return within - across


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_topics_separate_and_loss_falls(model):
    sents, topics = topic_corpus()
    cfg = Word2VecConfig(
        model=model, vector_size=16, window=3, negative=5, sample=0, min_count=1, epochs=4, workers=1, seed=3
    )
    kv, stats = train_word2vec(sents, cfg, progress=False)
    assert within_minus_across(kv, topics) > 0.5
    losses = stats["loss_per_epoch"]
    assert losses[-1] < losses[0] < np.log(2) * 1.05  # starts near ln 2 per logit, then falls
    assert stats["vocab_size"] == 24 and stats["corpus_words"] == 600 * 20
    for key in ("words_per_sec", "seconds", "vocab_size", "corpus_words"):
        assert stats[key] > 0


def test_one_worker_is_bit_for_bit_reproducible():
    sents, _ = topic_corpus(200)
    cfg = Word2VecConfig(vector_size=8, window=2, sample=1e-2, min_count=1, epochs=2, workers=1, seed=5)
    a, _ = train_word2vec(sents, cfg, progress=False)
    b, _ = train_word2vec(sents, cfg, progress=False)
    assert np.array_equal(a.vectors, b.vectors)
    cfg.seed = 6
    c, _ = train_word2vec(sents, cfg, progress=False)
    assert not np.array_equal(a.vectors, c.vectors)


@pytest.mark.parametrize(
    "model,sync", [("skipgram", "auto"), ("cbow", "auto"), ("cbow", "hogwild"), ("skipgram", "hogwild")]
)
def test_several_workers_train_every_job(monkeypatch, model, sync):
    import seqlab.embeddings.word2vec_train as w2v

    monkeypatch.setattr(w2v, "JOB_WORDS", 500)  # many small jobs shared by 2 threads
    sents, topics = topic_corpus()
    cfg = Word2VecConfig(
        model=model,
        vector_size=16,
        window=3,
        sample=0,
        min_count=1,
        epochs=3,
        workers=2,
        seed=1,
        sync=sync,
        sync_words=1000,
        sync_hot_rows=6,
        sync_full_words=4000,
    )
    kv, stats = train_word2vec(sents, cfg, progress=False)
    assert stats["workers"] == 2
    assert stats["sync"] == ("hogwild" if sync == "hogwild" else "replicas")
    assert within_minus_across(kv, topics) > 0.5
    assert stats["loss_per_epoch"][-1] < stats["loss_per_epoch"][0]


def test_replicas_repeat_bit_for_bit_with_two_workers(monkeypatch):
    """sync="replicas": jobs go to threads in a fixed order and merge in a fixed order, so two
    workers repeat exactly (hot-row rounds, full merges and a short last round all exercised);
    with one worker it is the plain training."""
    import seqlab.embeddings.word2vec_train as w2v

    monkeypatch.setattr(w2v, "JOB_WORDS", 300)
    sents, _ = topic_corpus(300)
    opts = dict(
        model="cbow",
        vector_size=8,
        window=2,
        sample=1e-2,
        min_count=1,
        epochs=2,
        seed=5,
        sync="replicas",
        sync_words=600,
        sync_hot_rows=5,
        sync_full_words=2400,
    )
    a, sa = train_word2vec(sents, Word2VecConfig(workers=2, **opts), progress=False)
    b, _ = train_word2vec(sents, Word2VecConfig(workers=2, **opts), progress=False)
    assert sa["sync"] == "replicas" and np.array_equal(a.vectors, b.vectors)
    one, s1 = train_word2vec(sents, Word2VecConfig(workers=1, **opts), progress=False)
    plain, _ = train_word2vec(sents, Word2VecConfig(workers=1, **dict(opts, sync="hogwild")), progress=False)
    assert s1["sync"] == "hogwild" and np.array_equal(one.vectors, plain.vectors)
    assert not np.array_equal(a.vectors, one.vectors)  # two threads really split the work


def test_replicas_stop_cleanly_when_a_thread_fails(monkeypatch):
    """A kernel error in one thread must not leave the other waiting at the merge barrier."""
    import seqlab.embeddings.word2vec_train as w2v

    monkeypatch.setattr(w2v, "JOB_WORDS", 200)
    calls = []

    def failing(*args):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("kernel failed")

    monkeypatch.setattr(w2v.K, "train_cbow_job", failing)
    sents, _ = topic_corpus(300)
    cfg = Word2VecConfig(
        model="cbow", vector_size=8, min_count=1, epochs=2, workers=2, sync="replicas", sync_words=400
    )
    with pytest.raises(RuntimeError, match="kernel failed"):
        train_word2vec(sents, cfg, progress=False)


def test_file_plain_and_gzip_give_the_same_vectors(tmp_path):
    sents, _ = topic_corpus(100)
    text = "\n".join(" ".join(s) for s in sents) + "\n"
    plain = tmp_path / "c.txt"
    plain.write_text(text)
    gz = tmp_path / "c.txt.gz"
    with gzip.open(gz, "wt") as f:
        f.write(text)
    cfg = Word2VecConfig(vector_size=8, min_count=1, epochs=1, workers=1)
    a, sa = train_word2vec(plain, cfg, progress=False)
    b, sb = train_word2vec(str(gz), cfg, progress=False)
    c, _ = train_word2vec(sents, cfg, progress=False)
    assert a.index_to_key == b.index_to_key == c.index_to_key
    assert np.array_equal(a.vectors, b.vectors) and np.array_equal(a.vectors, c.vectors)
    assert sa["corpus_words"] == 2000


def test_vectors_load_in_gensim(tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    sents, _ = topic_corpus(50)
    kv, _ = train_word2vec(
        sents, Word2VecConfig(vector_size=8, min_count=1, epochs=1, workers=1), progress=False
    )
    for name, binary in (("v.bin", True), ("v.txt", False)):
        kv.save_word2vec_format(tmp_path / name)
        g = gensim_models.KeyedVectors.load_word2vec_format(str(tmp_path / name), binary=binary)
        assert g.index_to_key == kv.index_to_key
        np.testing.assert_allclose(g.vectors, kv.vectors, rtol=1e-6)


def test_phrases_option_joins_pairs():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    sents = []
    for _ in range(400):
        s = list(rng.choice(words, size=8))
        s[2:4] = ["new", "york"]
        sents.append(s)
    cfg = Word2VecConfig(
        vector_size=8, min_count=1, epochs=1, workers=1, phrases=1, phrase_threshold=5, phrase_min_count=5
    )
    kv, stats = train_word2vec(iter(sents), cfg, progress=False)  # a one-shot iterator is fine
    assert "new_york" in kv.key_to_index and "new" not in kv.key_to_index
    assert stats["corpus_words"] == 400 * 7


def test_progress_bar_reports_rate_lr_and_loss(capsys):
    sents, _ = topic_corpus(100)
    train_word2vec(sents, Word2VecConfig(vector_size=8, min_count=1, epochs=1, workers=1), progress=True)
    err = capsys.readouterr().err
    assert "word" in err and "lr=" in err and "loss=" in err


def test_errors(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n \n")
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    cfg = Word2VecConfig(min_count=1, workers=1)
    for path in (empty, blank, binary, tmp_path / "missing.txt", tmp_path):
        with pytest.raises(SeqlabError):
            train_word2vec(path, cfg)
    with pytest.raises(SeqlabError, match="empty"):
        train_word2vec([], cfg)
    with pytest.raises(SeqlabError, match="min_count"):
        train_word2vec([["a", "b", "a"]], Word2VecConfig(min_count=5))
    with pytest.raises(SeqlabError, match="lists of tokens"):
        train_word2vec(["a sentence as a string"], cfg)
    with pytest.raises(SeqlabError):
        train_word2vec(123, cfg)
    for bad in (
        dict(model="glove"),
        dict(vector_size=0),
        dict(negative=0),
        dict(epochs=0),
        dict(sample=-1),
        dict(window=0),
        dict(sync="locks"),
        dict(sync_words=0),
    ):
        with pytest.raises(SeqlabError):
            train_word2vec([["a", "b"]], Word2VecConfig(min_count=1, **bad))


def test_embeddings_import_and_train_without_torch():
    """The front door and every module of the wing work in a process that never loads torch."""
    code = """
import sys
import seqlab
names = [seqlab.Word2Vec, seqlab.GloVe, seqlab.PPMI, seqlab.evaluate_vectors, seqlab.KeyedVectors,
         seqlab.load_vectors]
import seqlab.embeddings.corpus, seqlab.embeddings.config, seqlab.embeddings.train
import seqlab.embeddings.word2vec, seqlab.embeddings.word2vec_train, seqlab.embeddings.phrases
import seqlab.embeddings.word2vec_kernels, seqlab.embeddings.word2vec_sampling, seqlab.embeddings.model
import seqlab.embeddings.glove_kernels, seqlab.embeddings.vector_sources, seqlab.embeddings.word_movers
import seqlab.embeddings.counts, seqlab.embeddings.glove, seqlab.embeddings.ppmi
import seqlab.embeddings.evaluation, seqlab.embeddings.benchmark, seqlab.embeddings.plot
import seqlab.cli.embed
m = seqlab.Word2Vec([["a", "b", "c"]] * 20, vector_size=4, min_count=1, epochs=1, workers=1)
seqlab.PPMI([["a", "b", "c"]] * 20, vector_size=2, min_count=1)
sys.exit(1 if "torch" in sys.modules else 0)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_disk_backed_corpus_gives_the_same_vectors(tmp_path, model):
    """One worker: the memory-mapped id file and the in-memory array train bit for bit alike."""
    sents, _ = topic_corpus(300)
    base = dict(
        model=model,
        vector_size=8,
        window=3,
        sample=1e-2,
        min_count=1,
        epochs=2,
        workers=1,
        seed=4,
        tmp_dir=str(tmp_path),
    )
    mem, s_mem = train_word2vec(sents, Word2VecConfig(**base, corpus_storage="memory"))
    disk, s_disk = train_word2vec(sents, Word2VecConfig(**base, corpus_storage="disk"))
    assert disk.index_to_key == mem.index_to_key
    assert np.array_equal(disk.vectors, mem.vectors)
    assert s_disk["loss_per_epoch"] == s_mem["loss_per_epoch"]
    assert list(tmp_path.iterdir()) == []  # the id file was never visible, and is gone


PEAK_RSS_CHILD = """
import json, sys
import seqlab.embeddings.corpus as C
from seqlab.embeddings.config import Word2VecConfig
from seqlab.embeddings.word2vec_train import train_word2vec


def peak_kib():  # the peak RSS of this address space (what ru_maxrss reports, but resettable)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


path, storage = sys.argv[1], sys.argv[2]
cfg = dict(model="cbow", vector_size=16, window=3, min_count=1, epochs=1, workers=1)
train_word2vec([["a", "b", "c"]] * 50, Word2VecConfig(**cfg))  # imports, kernels (maybe compiled)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak to what is resident now (Linux >= 4.0)
before = peak_kib()
C.CHUNK_TOKENS = 1 << 16  # small chunks: what stays in memory is the vocabulary, not the corpus
kv, stats = train_word2vec(path, Word2VecConfig(**cfg, corpus_storage=storage))
print(json.dumps({"grew_mib": (peak_kib() - before) / 1024, "tokens": stats["corpus_words"]}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS reset needs Linux")
def test_peak_memory_of_the_disk_backed_corpus(tmp_path):
    """3M tokens (12 MiB of ids): reading, encoding and training from the id file raises the
    process's peak RSS by a few MiB; the in-memory path by 8 bytes a token, past the bound."""
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(3000)])
    p = 1.0 / np.arange(1, 3001)
    ids = rng.choice(3000, size=(150_000, 20), p=p / p.sum())
    path = tmp_path / "big.txt"
    path.write_text("\n".join(map(" ".join, words[ids])) + "\n")
    grew = {}
    for storage in ("disk", "memory"):
        res = subprocess.run(
            [sys.executable, "-c", PEAK_RSS_CHILD, str(path), storage], capture_output=True, text=True
        )
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        assert out["tokens"] == 3_000_000
        grew[storage] = out["grew_mib"]
    bound = 12.0  # MiB
    assert grew["disk"] < bound, grew
    assert grew["memory"] > bound, grew  # the bound is one the in-memory path cannot meet


def test_vector_rows_fill_whole_cache_lines():
    """Each row starts a cache line (no two words share one), the matrix a huge page; the
    returned vectors are plain contiguous (V, D) arrays."""
    from seqlab.embeddings.word2vec_train import aligned_rows, init_vectors

    a = aligned_rows(10, 100)
    assert a.shape == (10, 112) and a.dtype == np.float32 and not a.any()
    assert a.ctypes.data % (1 << 21) == 0 and a.strides[0] % 64 == 0
    if sys.platform.startswith("linux"):  # private memory: shared anonymous maps get no huge pages
        with open("/proc/self/maps") as f:
            perms = next(
                line.split()[1]
                for line in f
                if int(line.split("-")[0], 16) <= a.ctypes.data < int(line.split()[0].split("-")[1], 16)
            )
        assert perms == "rw-p", perms
    syn0, syn1 = init_vectors(7, 20, seed=1)
    assert syn0.shape == syn1.shape == (7, 32)
    assert np.abs(syn0[:, :20]).max() <= 1 / 20 and not syn0[:, 20:].any() and not syn1.any()
    sents, _ = topic_corpus(50)
    kv, _ = train_word2vec(sents, Word2VecConfig(vector_size=20, min_count=1, epochs=1, workers=1))
    assert kv.vectors.shape == (24, 20) and kv.vectors.flags.c_contiguous


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_padded_rows_train_exactly_like_plain_rows(model):
    """The kernels on (V, Dp) rows with dim=D give the (V, D) result bit for bit, and never touch
    the padding."""
    from seqlab.embeddings import word2vec_kernels as K
    from seqlab.embeddings import word2vec_sampling as S
    from seqlab.embeddings.word2vec_train import init_vectors

    rng = np.random.default_rng(2)
    V, D = 30, 20
    ids = rng.integers(0, V, size=400).astype(np.int32)
    starts = np.array([0, 150, 400], dtype=np.int64)
    counts = np.bincount(ids, minlength=V) + 1
    keep = S.keep_thresholds(S.keep_probabilities(counts, 1e-2))
    thr, alias = S.build_alias_table(counts.astype(np.float64) ** 0.75)
    sig, logsig = K.sigmoid_tables()
    padded = init_vectors(V, D, seed=3)  # (V, 32) each
    plain = [np.ascontiguousarray(a[:, :D]) for a in padded]

    def run(syn0, syn1, *dim):
        args = (
            syn0,
            syn1,
            ids,
            starts,
            0,
            2,
            keep,
            thr,
            alias,
            sig,
            logsig,
            3,
            4,
            0.05,
            1e-4,
            0.0,
            800.0,
            np.uint64(9),
            np.zeros(3),
        )
        if model == "skipgram":
            return K.train_sg_job(*args, *dim)
        return K.train_cbow_job(*args, 1, *dim)

    assert run(*plain) == run(*padded, D)
    for p, q in zip(plain, padded):
        assert np.array_equal(p, q[:, :D]) and not q[:, D:].any()
    assert np.abs(plain[0]).max() > 1e-3  # it did train


def test_auto_sync_picks_replicas_while_the_copies_fit():
    from seqlab.embeddings.config import AUTO_REPLICA_BYTES

    cbow = Word2VecConfig(model="cbow", vector_size=100)
    assert cbow.sync_mode(2, 70_000) == "replicas"
    assert cbow.sync_mode(1, 70_000) == "hogwild"  # one thread: nothing to share
    too_big = AUTO_REPLICA_BYTES // (2 * 2 * 100 * 4) + 1
    assert cbow.sync_mode(2, too_big) == "hogwild"
    assert Word2VecConfig(model="skipgram").sync_mode(2, 70_000) == "replicas"
    assert Word2VecConfig(model="skipgram", sync="hogwild").sync_mode(2, 70_000) == "hogwild"
    assert Word2VecConfig(model="skipgram", sync="replicas").sync_mode(2, 10**7) == "replicas"
