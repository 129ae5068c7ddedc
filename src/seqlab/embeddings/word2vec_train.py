"""word2vec's training driver: counts -> keep-probabilities and noise table -> threaded kernel
calls -> vectors. `seqlab.embeddings.word2vec.Word2Vec` (gensim's API) sits on top of it.

Mikolov et al. 2013, "Distributed Representations of Words and Phrases and their Compositionality"
(skip-gram / CBOW, negative sampling, subsampling of frequent words, phrases), with the parallel
formulation of Ji et al. 2016 (negatives shared across a context window) on threads that each
train a replica of the vectors, merged every round (sync="replicas"), or share one (Hogwild).

The corpus is read once, as a stream, and encoded into an int32 id array (4 bytes per token) by
seqlab.embeddings.corpus: in memory for corpora up to 67M tokens, beyond that in a memory-mapped
temporary file that every epoch re-reads (`corpus_storage`), so memory stays at the vocabulary
plus one job's pages. Training runs compiled kernels (seqlab.embeddings.word2vec_kernels) over
jobs of about JOB_WORDS words of that array on `workers` Python threads with the GIL released;
Python only hands out jobs, starts the merges and reads progress counters.

Determinism: every job's RNG state is derived from (seed, epoch, job), and the learning rate is a
function of the job's position in the corpus, not of timing; so with workers=1 a run repeats bit
for bit. With more workers and sync="hogwild" threads update shared vectors without locks, so
results vary slightly from run to run; with sync="replicas" (the default) each thread trains
its own copy, jobs go to threads in a fixed order and the copies are merged in a fixed order, so
a run repeats bit for bit with any number of workers.

Output layers: negative sampling (`syn1neg`, kernels in word2vec_kernels), hierarchical softmax
(`syn1`, a Huffman tree over the vocabulary, kernels in word2vec_hs_kernels), or both (hs=1 with
negative > 0, trained by the hs kernels).

Reusable beyond word2vec (a Doc2Vec trains the same way): `split_jobs`, `Weights` /
`init_vectors` / `aligned_rows` (cache-line rows), `Tables` (subsampling, noise, Huffman paths),
`Rounds` (replica merges), `train_weights` (continue training given weights: gensim's
online learning) and `run_epochs` (the thread pool, its progress and per-epoch hooks), with the
encoded corpus from seqlab.embeddings.corpus.
"""

from __future__ import annotations

import mmap
import os
import threading
import time
from dataclasses import asdict, dataclass

import numpy as np

from seqlab.embeddings import word2vec_hs_kernels as H
from seqlab.embeddings import word2vec_kernels as K
from seqlab.embeddings.config import Word2VecConfig
from seqlab.embeddings.corpus import EncodedCorpus, Vocabulary, encode_corpus, read_sentences
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.embeddings.word2vec_sampling import (
    build_alias_table,
    keep_probabilities,
    keep_thresholds,
    splitmix64,
)
from seqlab.embeddings.word2vec_vocab import huffman_tree

MAX_SENTENCE = 10_000  # longer lines are cut into pieces of this many tokens (windows stop there)
JOB_WORDS = 50_000  # corpus words per job handed to a thread
INIT_SCALE = 1.0  # input vectors start uniform in ±INIT_SCALE/D (gensim: 1, word2vec.c: 0.5)


def prepare_corpus(
    corpus, config: Word2VecConfig, progress: bool | None = None, choose=None
) -> EncodedCorpus:
    """Phrase passes (if config.phrases) and the encoded corpus, in memory or on disk as
    config.corpus_storage says (seqlab.embeddings.corpus); choose: the vocabulary rule
    (encode_corpus's; None: min_count and max_vocab)."""
    if config.phrases > 0:
        from seqlab.embeddings.phrases import Phrases

        if not isinstance(corpus, (str, os.PathLike)) and iter(corpus) is corpus:
            corpus = list(read_sentences(corpus))  # phrase passes read the corpus more than once
        phrases = Phrases(
            passes=config.phrases, threshold=config.phrase_threshold, min_count=config.phrase_min_count
        ).fit(corpus)
        corpus = phrases.transform_stream(read_sentences(corpus))
    return encode_corpus(
        corpus,
        config.min_count,
        config.max_vocab,
        max_sentence=MAX_SENTENCE,
        storage=config.corpus_storage,
        tmp_dir=config.tmp_dir,
        progress=progress,
        choose=choose,
    )


def split_jobs(starts: np.ndarray, job_words: int) -> list[tuple[int, int, int]]:
    """Split sentences into jobs of about job_words words: (first sentence, end sentence, pos)."""
    jobs = []
    s = 0
    S = len(starts) - 1
    while s < S:
        e = int(np.searchsorted(starts, starts[s] + job_words, side="left"))
        e = min(max(e, s + 1), S)
        jobs.append((s, e, int(starts[s])))
        s = e
    return jobs


def resolve_workers(n: int) -> int:
    return n if n > 0 else (os.cpu_count() or 1)


def train_word2vec(corpus, config: Word2VecConfig | None = None, progress: bool | None = None):
    """Train word2vec on `corpus` and return (vectors as a KeyedVectors, stats).

    corpus: a path (plain or gzip text, whitespace tokens, streamed line by line; a line is a
        sentence, windows do not cross lines) or an iterable of token lists.
    progress: show progress bars on stderr (None: only when stderr is a terminal).
    stats: words_per_sec (corpus words x epochs / training seconds), seconds (training),
        cpu_seconds, prepare_seconds (reading, phrases, vocabulary), vocab_size, corpus_words
        (tokens read, after phrase joining), train_words (in-vocabulary tokens), sentences,
        workers, final_loss (mean negative log-likelihood per logit over the last epoch),
        loss_per_epoch, config.
    Raises SeqlabError for bad settings, an empty corpus, or when no word reaches min_count.
    """
    vocab, syn0, _, stats = fit_word2vec(corpus, config, progress)
    return KeyedVectors.from_arrays(vocab.words, syn0, counts=vocab.counts), stats


def fit_word2vec(
    corpus, config: Word2VecConfig | None = None, progress: bool | None = None
) -> tuple[Vocabulary, np.ndarray, np.ndarray, dict]:
    """`train_word2vec`, returning (vocabulary, input vectors, output vectors, stats) with the
    vectors as (V, D) float32 arrays (the output vectors are gensim's syn1neg)."""
    config = (config or Word2VecConfig()).validate()
    t0 = time.perf_counter()
    enc = prepare_corpus(corpus, config, progress)
    try:
        prepare_seconds = time.perf_counter() - t0
        syn0, syn1, stats = train_encoded(enc, config, progress=progress)
        stats["prepare_seconds"] = prepare_seconds
        return enc.vocab, syn0, syn1, stats
    finally:
        enc.close()


def init_vectors(vocab_size: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Input vectors uniform in ±INIT_SCALE/D (gensim's ±1/D; word2vec.c's ±0.5/D learns a little
    slower in the first epoch), output vectors zero (as both). Rows padded to whole cache lines
    in 2 MiB-aligned memory (`aligned_rows`); the vectors are [:, :dim]."""
    rng = np.random.Generator(np.random.PCG64(seed))
    syn0, syn1 = aligned_rows(vocab_size, dim), aligned_rows(vocab_size, dim)
    syn0[:, :dim] = (rng.random((vocab_size, dim), dtype=np.float32) - 0.5) * np.float32(2 * INIT_SCALE / dim)
    return syn0, syn1  # (V, Dp), (V, Dp)


ROW_FLOATS = 16  # rows padded to a multiple of 16 float32 = one 64-byte cache line
ALIGN = 1 << 21  # 2 MiB: the first row starts on a huge-page (and so a cache-line) boundary


def aligned_rows(rows: int, dim: int) -> np.ndarray:
    """A zeroed float32 (rows, Dp) matrix, Dp = dim rounded up to ROW_FLOATS, that starts on a
    2 MiB boundary in its own anonymous mapping, advised to use transparent huge pages.

    Whole-line rows: two threads updating different words never write the same cache line (with
    D = 100, a 400-byte row would share its first and last lines with its neighbours, and the
    most frequent words, the ones both threads update all the time, have neighbouring ids).
    See docs/word2vec.md ("CBOW's two speeds") for what was measured.
    """
    width = -(-dim // ROW_FLOATS) * ROW_FLOATS
    nbytes = max(rows * width * 4, 1)
    # private anonymous memory (zero-filled, freed with the last view): a shared mapping would be
    # shmem, which gets no transparent huge pages
    buf = mmap.mmap(-1, nbytes + ALIGN, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    raw = np.frombuffer(buf, dtype=np.uint8)
    off = (-raw.ctypes.data) % ALIGN
    if hasattr(mmap, "MADV_HUGEPAGE"):
        buf.madvise(mmap.MADV_HUGEPAGE, off, nbytes)
    return raw[off : off + rows * width * 4].view(np.float32).reshape(rows, width)


def copy_rows(a: np.ndarray) -> np.ndarray:
    """A copy of a padded (rows, Dp) matrix in its own `aligned_rows` memory."""
    out = aligned_rows(a.shape[0], a.shape[1])
    out[:] = a
    return out


class Rounds:
    """sync="replicas" scheduling: a round gives each of `workers` threads `jobs_per_worker` jobs
    in a fixed order (job base + k * workers + w to thread w, so neighbouring text trains at the
    same time and the learning rates stay close), then all threads meet and each calls
    merge(w, round, last round of the epoch)."""

    def __init__(self, workers: int, jobs_per_worker: int, merge):
        self.workers, self.per, self.merge = workers, jobs_per_worker, merge
        self.barrier = threading.Barrier(workers)

    def run(self, wid: int, n_jobs: int, run_one, stopped) -> None:
        W, per = self.workers, self.per
        for rnd, base in enumerate(range(0, n_jobs, W * per)):
            for k in range(per):
                j = base + k * W + wid
                if j < n_jobs and not stopped():
                    run_one(j)
            self.barrier.wait()  # every thread has finished its jobs of this round
            self.merge(wid, rnd, base + W * per >= n_jobs)
            self.barrier.wait()  # every slice is merged: the next round starts from the sum


@dataclass
class Weights:
    """What training changes, in padded rows (`aligned_rows`, (V, Dp) float32): the input vectors
    syn0, the negative-sampling output vectors syn1neg (None with negative=0) and the inner nodes
    of the hierarchical softmax syn1 (None with hs=0; row V-1 is unused, as in gensim); a Doc2Vec
    adds its document vectors dv (T, Dp)."""

    syn0: np.ndarray
    syn1neg: np.ndarray | None
    syn1: np.ndarray | None
    dv: np.ndarray | None = None
    shared: tuple[str, ...] = ("dv",)  # matrices the threads share even with replicas

    @classmethod
    def fresh(cls, vocab_size: int, dim: int, config: Word2VecConfig) -> Weights:
        syn0, syn1neg = init_vectors(vocab_size, dim, config.seed)
        syn1 = aligned_rows(vocab_size, dim) if config.hs else None
        return cls(syn0, syn1neg if config.negative else None, syn1)

    @classmethod
    def from_arrays(cls, vectors: np.ndarray, syn1neg, syn1) -> Weights:
        """Padded copies of (V, D) arrays (a trained model's), to train further."""
        return cls(*(None if a is None else _padded(a) for a in (vectors, syn1neg, syn1)))

    def matrices(self) -> list[np.ndarray]:
        return [a for a in (self.syn0, self.syn1neg, self.syn1, self.dv) if a is not None]

    def unpadded(self, dim: int) -> tuple:
        """(syn0, syn1neg, syn1) as contiguous (V, D) arrays (None where not trained)."""
        return tuple(
            None if a is None else np.ascontiguousarray(a[:, :dim])
            for a in (self.syn0, self.syn1neg, self.syn1)
        )


def _padded(a: np.ndarray) -> np.ndarray:
    out = aligned_rows(a.shape[0], a.shape[1])
    out[:, : a.shape[1]] = a
    return out


@dataclass
class Tables:
    """The per-word tables the kernels read: subsampling thresholds, the noise alias table
    (1 entry when negative=0) and the Huffman paths (empty when hs=0)."""

    keep: np.ndarray
    neg_threshold: np.ndarray
    neg_alias: np.ndarray
    codes: np.ndarray
    points: np.ndarray
    offsets: np.ndarray

    @classmethod
    def of(cls, counts: np.ndarray, config: Word2VecConfig, keep: np.ndarray | None = None) -> Tables:
        """keep: the subsampling thresholds (gensim's sample_int) when the vocabulary has them."""
        counts = np.maximum(np.asarray(counts, dtype=np.int64), 1)  # a count of 0 (from a frequency table)
        if keep is None or len(keep) != len(counts):
            keep = keep_thresholds(keep_probabilities(counts, config.sample))
        if config.negative:
            neg = build_alias_table(counts.astype(np.float64) ** config.ns_exponent)  # P(w) ∝ count^0.75
        else:
            neg = (np.full(1, 0xFFFFFFFF, dtype=np.uint32), np.zeros(1, dtype=np.int32))
        if config.hs:
            tree = huffman_tree(counts)
        else:
            tree = (np.zeros(0, np.uint8), np.zeros(0, np.int32), np.zeros(len(counts) + 1, np.int64))
        return cls(keep, *neg, *tree)


def train_encoded(
    enc: EncodedCorpus, config: Word2VecConfig, progress: bool | None = None
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Train fresh vectors on an encoded corpus; returns (input vectors, output vectors, stats),
    both (V, D) float32 (the output vectors are gensim's syn1neg, or syn1 when negative=0)."""
    weights = Weights.fresh(len(enc.words), config.vector_size, config)
    stats = train_weights(enc, config, weights, progress)
    syn0, syn1neg, syn1 = weights.unpadded(config.vector_size)
    return syn0, syn1neg if syn1neg is not None else syn1, stats


def train_weights(
    enc: EncodedCorpus,
    config: Word2VecConfig,
    weights: Weights,
    progress: bool | None = None,
    *,
    first_epoch: int = 0,
    lockf: np.ndarray | None = None,
    keep: np.ndarray | None = None,
    on_epoch_begin=None,
    on_epoch_end=None,
    kernel=None,
    desc: str | None = None,
) -> dict:
    """Train `weights` (changed in place) for config.epochs passes over `enc`; returns the stats.

    The tables come from enc.counts (the model's vocabulary counts). first_epoch: epochs trained
    before (a later call of gensim's train), so that its random draws are new ones. lockf: gensim's
    vectors_lockf, (V,) factors on the input-vector updates (None: all 1). keep: (V,) uint32
    subsampling thresholds (None: from the counts and config.sample). on_epoch_begin(epoch),
    on_epoch_end(epoch, loss_sum): called between epochs, with the vectors of that moment in
    `weights` (gensim's callbacks). kernel(mats, where, tab, sig, logsig, lr): one job's work (None:
    word2vec's kernels; a Doc2Vec passes its own); desc: the progress bar's label."""
    V, D = len(enc.words), config.vector_size
    tab = Tables.of(enc.counts, config, keep)
    sig, logsig = K.sigmoid_tables()
    n_words = len(enc.ids)
    total = max(float(n_words) * config.epochs, 1.0)
    jobs = split_jobs(enc.starts, JOB_WORDS)
    workers = max(1, min(resolve_workers(config.workers), len(jobs)))
    alpha0 = config.start_alpha
    # per worker: words, loss sum, loss terms; rows 128 bytes apart, so no two share a cache line
    counters = np.zeros((workers, 16), dtype=np.float64)
    masters = weights.matrices()
    lockf = None if lockf is None else np.ascontiguousarray(np.broadcast_to(lockf, (V,)), dtype=np.float32)
    shrink = int(bool(config.shrink_windows))
    # replicas: a copy per thread of each matrix but the shared ones (a Doc2Vec's dv; PV-DBOW's wv)
    shared = [getattr(weights, name) for name in weights.shared]
    replicas = (
        [[m if any(m is a for a in shared) else copy_rows(m) for m in masters] for _ in range(workers)]
        if config.sync_mode(workers, V) == "replicas"
        else None
    )
    per_round = max(1, config.sync_words // JOB_WORDS)  # jobs per thread per round
    full_every = max(1, config.sync_full_words // (per_round * JOB_WORDS))  # rounds
    hot = min(V, config.sync_hot_rows)
    reps = [tuple(r[m] for r in replicas) for m in range(len(masters))] if replicas else []

    def merge(wid: int, rnd: int, last: bool) -> None:
        # the hot rows (the most frequent words, ids 0..hot-1) every round, all rows every
        # full_every rounds and at the end of an epoch; each thread merges its own slice
        n = V if last or (rnd + 1) % full_every == 0 else hot
        lo, hi = n * wid // workers, n * (wid + 1) // workers
        for master, copies in zip(masters, reps):
            if any(master is a for a in shared):
                continue
            if master is weights.syn1:  # the tree's hot nodes are at the root's end (root: V-2)
                K.merge_replicas_overlap(master, copies, V - n + lo, V - n + hi)
            else:
                K.merge_replicas(master, copies, lo, hi)

    def run_job(wid: int, epoch: int, j: int) -> None:
        s_lo, s_hi, pos = jobs[j]
        mats = replicas[wid] if replicas else masters
        lo, hi = int(enc.starts[s_lo]), int(enc.starts[s_hi])
        enc.will_need(lo, hi)  # disk: read ahead what the kernel is about to touch
        # each job's RNG state depends on (seed, epoch, job) only, never on thread timing
        key = ((config.seed * 1_000_003 + first_epoch + epoch) * 10_000_019 + j) % 2**64
        state = np.uint64(splitmix64(np.uint64(key)))
        where = (enc.ids, enc.starts, s_lo, s_hi, tab.keep)
        lr = (alpha0, config.min_alpha, float(epoch * n_words + pos), total, state, counters[wid])
        if kernel is None:
            _run_kernel(config, mats, where, tab, sig, logsig, lr, D, shrink, lockf)
        else:
            kernel(mats, where, tab, sig, logsig, lr)
        enc.release(lo, hi)  # disk: keep RSS at one job's pages

    t_train = time.perf_counter()
    cpu_train = time.process_time()
    rounds = Rounds(workers, per_round, merge) if replicas else None
    hooks = (on_epoch_begin, on_epoch_end)
    loss_per_epoch = run_epochs(
        run_job, len(jobs), workers, counters, config, total, progress, rounds, hooks, desc
    )
    seconds = time.perf_counter() - t_train
    stats = {
        "words_per_sec": float(enc.vocab.corpus_words * config.epochs / max(seconds, 1e-9)),
        "seconds": float(seconds),
        "cpu_seconds": float(time.process_time() - cpu_train),
        "vocab_size": int(V),
        "corpus_words": int(enc.vocab.corpus_words),
        "train_words": int(n_words),
        "sentences": int(len(enc.starts) - 1),
        "workers": int(workers),
        "sync": "replicas" if replicas else "hogwild",
        "final_loss": loss_per_epoch[-1],
        "loss_per_epoch": loss_per_epoch,
        "loss_sum": float(counters[:, 1].sum()),
        "config": asdict(config),
    }
    return stats


def _run_kernel(config, mats, where, tab, sig, logsig, lr, D, shrink, lockf) -> None:
    """One job on the kernel that config's output layers and model need."""
    ids, starts, s_lo, s_hi, keep = where
    if config.hs:
        syn0, syn1 = mats[0], mats[-1]
        syn1neg = mats[1] if config.negative else np.zeros((1, syn0.shape[1]), np.float32)
        args = (syn0, syn1, syn1neg, ids, starts, s_lo, s_hi, keep, tab.codes, tab.points, tab.offsets)
        args += (tab.neg_threshold, tab.neg_alias, sig, logsig, config.window, config.negative) + lr
        if config.model == "skipgram":
            H.train_sg_hs_job(*args, D, shrink, lockf)
        else:
            H.train_cbow_hs_job(*args, D, shrink, lockf, None if config.cbow_mean else True)
        return
    args = (mats[0], mats[1], ids, starts, s_lo, s_hi, keep, tab.neg_threshold, tab.neg_alias, sig, logsig)
    args += (config.window, config.negative) + lr
    if config.model == "skipgram":
        K.train_sg_job(*args, D, shrink, lockf)
    else:  # cbow_sum None: the mean's compiled variant
        K.train_cbow_job(
            *args, config.cbow_shared_negatives, D, shrink, lockf, None if config.cbow_mean else True
        )


def run_epochs(
    run_job,
    n_jobs: int,
    workers: int,
    counters: np.ndarray,
    config: Word2VecConfig,
    total: float,
    progress: bool | None,
    rounds: Rounds | None = None,
    hooks: tuple = (None, None),
    desc: str | None = None,
) -> list[float]:
    """Hand the jobs of each epoch to `workers` threads, in order as they come free (Hogwild) or
    in `rounds` (replicas); returns the loss per epoch. hooks: (on_epoch_begin(epoch),
    on_epoch_end(epoch, loss sum so far)), either None, called on the main thread between epochs.

    With one worker the jobs run in order on one thread: bit-for-bit reproducible. The main
    thread only watches the counters the kernels update (words, loss sum, loss terms).
    """
    from seqlab.runtime import progress as progress_bar

    alpha0 = config.start_alpha
    bar = progress_bar(
        total=int(total),
        desc=desc or f"word2vec {config.model}",
        unit="word",
        enabled=progress,
        unit_scale=True,
    )
    errors: list[BaseException] = []
    loss_per_epoch = []
    try:
        for epoch in range(config.epochs):
            if hooks[0] is not None:
                hooks[0](epoch)
            before = counters[:, :3].sum(axis=0)
            lock = threading.Lock()
            nxt = [0]

            def worker(wid: int, epoch=epoch, lock=lock, nxt=nxt) -> None:
                try:
                    if rounds is not None:
                        rounds.run(wid, n_jobs, lambda j: run_job(wid, epoch, j), lambda: bool(errors))
                        return
                    while not errors:
                        with lock:
                            j = nxt[0]
                            nxt[0] += 1
                        if j >= n_jobs:
                            return
                        run_job(wid, epoch, j)
                except threading.BrokenBarrierError:
                    pass  # another thread failed or the run was stopped: its error is reported
                except BaseException as e:  # surfaced in the main thread
                    errors.append(e)
                    if rounds is not None:
                        rounds.barrier.abort()

            threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(workers)]
            for th in threads:
                th.start()

            def show(before=before) -> np.ndarray:
                # progress in words, the learning rate at the current position, mean loss per
                # logit since the epoch began
                tot = counters[:, :3].sum(axis=0)
                lr = alpha0 - (alpha0 - config.min_alpha) * min(1.0, tot[0] / total)
                d = tot - before
                bar.set_postfix(lr=f"{lr:.5f}", loss=f"{d[1] / max(d[2], 1):.4f}", refresh=False)
                bar.update(int(tot[0]) - bar.n)
                return d

            while any(th.is_alive() for th in threads):
                threads[0].join(timeout=0.25)
                show()
            if errors:
                raise errors[0]
            d = show()
            bar.refresh()
            loss_per_epoch.append(float(d[1] / max(d[2], 1)))
            if hooks[1] is not None:
                hooks[1](epoch, float(counters[:, 1].sum()))
    except BaseException:
        errors.append(RuntimeError("stopped"))  # workers stop after their current job
        if rounds is not None:
            rounds.barrier.abort()
        raise
    finally:
        bar.close()
    return loss_per_epoch
