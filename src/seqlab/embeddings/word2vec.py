"""word2vec training: counts -> keep-probabilities and noise table -> threaded kernel calls -> vectors.

Mikolov et al. 2013, "Distributed Representations of Words and Phrases and their Compositionality"
(skip-gram / CBOW, negative sampling, subsampling of frequent words, phrases), with the parallel
formulation of Ji et al. 2016 (negatives shared across a context window, Hogwild threads).

The corpus is read once, as a stream: each token gets a provisional id (memory grows with the
vocabulary), the ids go into a compact int32 array (4 bytes per token, 68 MB for 17M tokens), and
after the pass rare words are dropped and ids renumbered by frequency. Training then runs compiled
kernels (seqlab.embeddings._word2vec_kernels) over chunks of that array on `workers` Python threads with the GIL
released; Python only hands out chunks and reads progress counters.

Determinism: every job's RNG state is derived from (seed, epoch, job), and the learning rate is a
function of the job's position in the corpus, not of timing; so with workers=1 a run repeats bit
for bit. With more workers threads update shared vectors without locks (Hogwild), so results vary
slightly from run to run.
"""

from __future__ import annotations

import os
import threading
from array import array
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

import numpy as np

from seqlab.embeddings import _word2vec_kernels as K
from seqlab.errors import SeqlabError
from seqlab.files import open_text_stream
from seqlab.embeddings.keyedvectors import KeyedVectors

MAX_SENTENCE = 10_000  # longer lines are cut into pieces of this many tokens (windows stop there)
JOB_WORDS = 50_000  # corpus words per job handed to a thread
INIT_SCALE = 1.0  # input vectors start uniform in ±INIT_SCALE/D (gensim: 1, word2vec.c: 0.5)


@dataclass
class Word2VecConfig:
    """Hyper-parameters of word2vec (names and defaults follow gensim / word2vec.c).

    model: "skipgram" (predict the context from a word) or "cbow" (predict a word from the mean of
        its context).
    vector_size: dimensions D (50-300 typical). window: maximum distance between a word and its
        context; each position uses a window drawn uniformly from 1..window ("dynamic window",
        nearer words count more). negative: noise words per positive pair (5-20 for small corpora,
        2-5 for large). ns_exponent: noise distribution P(w) ∝ count(w)^ns_exponent (0.75 in the
        paper; 0 uniform, 1 unigram).
    sample: subsampling threshold s; a word making up a fraction z of the corpus is kept with
        probability (sqrt(z/s) + 1) * s / z (1e-3..1e-5; 0 disables).
    min_count: drop words seen fewer times. max_vocab: keep only the most frequent words (None:
        no cap). epochs: passes over the corpus.
    alpha: initial learning rate, decayed linearly to min_alpha over all epochs' words (None:
        0.025 for skip-gram, 0.05 for CBOW, as word2vec.c).
    workers: training threads (0 = all cores). seed: seeds initial vectors and all sampling.
    phrases: passes of word2phrase phrase detection before training (0 = none; 2 finds up to
        4-word phrases), with phrase_threshold and phrase_min_count (see seqlab.embeddings.phrases).
    cbow_shared_negatives: CBOW only: consecutive centre words sharing one draw of negatives
        (1 = a fresh draw for every word, as word2vec.c).
    """

    model: str = "skipgram"
    vector_size: int = 100
    window: int = 5
    negative: int = 5
    ns_exponent: float = 0.75
    sample: float = 1e-3
    min_count: int = 5
    max_vocab: int | None = None
    epochs: int = 5
    alpha: float | None = None
    min_alpha: float = 1e-4
    workers: int = 0
    phrases: int = 0
    phrase_threshold: float = 100.0
    phrase_min_count: int = 5
    seed: int = 1
    cbow_shared_negatives: int = 1

    def validate(self) -> None:
        if self.model not in ("skipgram", "cbow"):
            raise SeqlabError(f"model must be 'skipgram' or 'cbow', got {self.model!r}")
        checks = [
            (self.vector_size >= 1, "vector_size must be >= 1"),
            (self.window >= 1, "window must be >= 1"),
            (self.negative >= 1, "negative must be >= 1 (only negative sampling is implemented)"),
            (self.sample >= 0, "sample must be >= 0"),
            (self.min_count >= 1, "min_count must be >= 1"),
            (self.max_vocab is None or self.max_vocab >= 1, "max_vocab must be >= 1"),
            (self.epochs >= 1, "epochs must be >= 1"),
            (self.alpha is None or self.alpha > 0, "alpha must be > 0"),
            (self.min_alpha >= 0, "min_alpha must be >= 0"),
            (self.workers >= 0, "workers must be >= 0"),
            (self.phrases >= 0, "phrases must be >= 0"),
            (self.cbow_shared_negatives >= 1, "cbow_shared_negatives must be >= 1"),
        ]
        for ok, msg in checks:
            if not ok:
                raise SeqlabError(msg)

    @property
    def start_alpha(self) -> float:
        if self.alpha is not None:
            return float(self.alpha)
        return 0.025 if self.model == "skipgram" else 0.05


@dataclass
class EncodedCorpus:
    """A corpus as in-vocabulary ids; sentence s is ids[starts[s]:starts[s+1]]."""

    words: list[str]  # id -> word, most frequent first
    counts: np.ndarray  # (V,) int64
    ids: np.ndarray  # (N,) int32, out-of-vocabulary tokens removed
    starts: np.ndarray  # (S+1,) int64
    raw_words: int  # tokens read, including the dropped rare ones


def _read_lines(path) -> Iterator[list[str]]:
    """Token lists, one per line, from a plain or gzip text file (whitespace tokens), streamed."""
    with open_text_stream(path) as f:
        try:
            for line in f:
                yield line.split()
        except UnicodeDecodeError as e:
            raise SeqlabError(f"corpus is not valid UTF-8 text: {path} ({e.reason})") from None
        except (OSError, EOFError) as e:
            raise SeqlabError(f"cannot read corpus {path}: {e}") from None


def encode_corpus(lines: Iterable[list[str]], min_count: int = 5,
                  max_vocab: int | None = None) -> EncodedCorpus:
    """One streaming pass: count words and encode the corpus; then drop rare words, renumber.

    Provisional ids are given in order of first appearance; afterwards the vocabulary is sorted by
    count (ties by first appearance), cut at min_count and max_vocab, and the id array remapped.
    """
    index: dict[str, int] = {}
    get = index.get
    chunks: list[np.ndarray | None] = []  # int32 provisional ids, about 1M tokens each
    pending: list[int] = []
    lengths = array("q")  # tokens per sentence (lines cut at MAX_SENTENCE)
    for toks in lines:
        if isinstance(toks, str):
            raise SeqlabError("corpus iterable must yield lists of tokens, not strings")
        if not toks:
            continue
        ids = list(map(get, toks))
        if None in ids:
            for k, w in enumerate(toks):
                if ids[k] is None:
                    if not isinstance(w, str):
                        raise SeqlabError(f"tokens must be strings, got {type(w).__name__}")
                    ids[k] = index.setdefault(w, len(index))
        pending.extend(ids)
        n = len(ids)
        lengths.extend([MAX_SENTENCE] * (n // MAX_SENTENCE))
        if n % MAX_SENTENCE:
            lengths.append(n % MAX_SENTENCE)
        if len(pending) >= 1 << 20:
            chunks.append(np.array(pending, dtype=np.int32))
            pending = []
    if pending:
        chunks.append(np.array(pending, dtype=np.int32))
    del pending
    if not chunks:
        raise SeqlabError("corpus is empty (no tokens)")
    counts = np.zeros(len(index), dtype=np.int64)  # (V_raw,)
    for arr in chunks:
        counts += np.bincount(arr, minlength=len(index))
    n_raw = int(counts.sum())
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] >= min_count]
    if max_vocab is not None:
        order = order[:max_vocab]
    if len(order) == 0:
        raise SeqlabError(f"no word occurs at least min_count={min_count} times "
                          f"(corpus has {n_raw} tokens, {len(index)} distinct)")
    remap = np.full(len(index), -1, dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    words_raw = list(index)
    words = [words_raw[i] for i in order]
    # remap chunk by chunk, freeing each raw chunk, so the peak stays near 9 bytes per token
    kept_chunks: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    for c in range(len(chunks)):
        mapped = remap[chunks[c]]
        chunks[c] = None
        masks.append(mapped >= 0)
        kept_chunks.append(mapped[masks[-1]])
    ids = np.concatenate(kept_chunks)  # (N,)
    del kept_chunks
    offsets = np.concatenate([[0], np.cumsum(np.frombuffer(lengths, dtype=np.int64))[:-1]])
    mask = np.concatenate(masks)  # (N_raw,) bool
    del masks
    kept_per_sentence = np.add.reduceat(mask, offsets, dtype=np.int64)
    kept_per_sentence = kept_per_sentence[kept_per_sentence > 0]  # sentences left empty go
    starts = np.concatenate([[0], np.cumsum(kept_per_sentence, dtype=np.int64)])
    return EncodedCorpus(words, counts[order], ids, starts, n_raw)


def _jobs(starts: np.ndarray, job_words: int) -> list[tuple[int, int, int]]:
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


def _resolve_workers(n: int) -> int:
    return n if n > 0 else (os.cpu_count() or 1)


def train_word2vec(corpus, config: Word2VecConfig | None = None,
                   progress: bool | None = None) -> tuple[KeyedVectors, dict]:
    """Train word2vec on `corpus` and return (vectors, stats).

    corpus: a path (plain or gzip text, whitespace tokens, streamed line by line; a line is a
        sentence, windows do not cross lines) or an iterable of token lists.
    progress: show a progress bar on stderr (None: only when stderr is a terminal).
    stats: words_per_sec (corpus words x epochs / training seconds), seconds (training),
        prepare_seconds (reading, phrases, vocabulary), vocab_size, corpus_words (tokens read,
        after phrase joining), train_words (in-vocabulary tokens), final_loss (mean negative
        log-likelihood per logit over the last epoch), loss_per_epoch, config.
    Raises SeqlabError for an empty corpus, or when no word reaches min_count.
    """
    config = config or Word2VecConfig()
    config.validate()
    t0 = time.perf_counter()
    if isinstance(corpus, (str, os.PathLike)):
        def reopen():
            return _read_lines(corpus)
    else:
        if not isinstance(corpus, Iterable) or isinstance(corpus, (str, bytes)):
            raise SeqlabError("corpus must be a file path or an iterable of token lists")
        if config.phrases > 0 and iter(corpus) is corpus:
            corpus = list(corpus)  # phrase passes need to read the corpus more than once

        def reopen():
            return corpus
    lines = reopen()
    if config.phrases > 0:
        from seqlab.embeddings.phrases import Phrases

        phrases = Phrases(passes=config.phrases, threshold=config.phrase_threshold,
                          min_count=config.phrase_min_count).fit(reopen)
        lines = phrases.transform_stream(reopen())
    enc = encode_corpus(lines, config.min_count, config.max_vocab)
    prepare_seconds = time.perf_counter() - t0
    syn0, stats = train_encoded(enc, config, progress=progress)
    stats["prepare_seconds"] = prepare_seconds
    kv = KeyedVectors.from_arrays(enc.words, syn0, counts=enc.counts)
    return kv, stats


def init_vectors(vocab_size: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Input vectors uniform in ±INIT_SCALE/D (gensim's ±1/D; word2vec.c's ±0.5/D learns a little
    slower in the first epoch), output vectors zero (as both)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    syn0 = (rng.random((vocab_size, dim), dtype=np.float32) - 0.5) * np.float32(2 * INIT_SCALE / dim)
    syn1 = np.zeros((vocab_size, dim), dtype=np.float32)
    return syn0, syn1  # (V, D), (V, D)


def train_encoded(enc: EncodedCorpus, config: Word2VecConfig,
                  progress: bool | None = None) -> tuple[np.ndarray, dict]:
    """Train on an encoded corpus; returns (input vectors (V, D) float32, stats)."""
    V = len(enc.words)
    D = config.vector_size
    syn0, syn1 = init_vectors(V, D, config.seed)
    keep = K.keep_thresholds(K.keep_probabilities(enc.counts, config.sample))
    noise = enc.counts.astype(np.float64) ** config.ns_exponent  # P(w) ∝ count^0.75
    neg_threshold, neg_alias = K.build_alias_table(noise)
    sig, logsig = K.sigmoid_tables()
    n_words = len(enc.ids)
    total = float(n_words) * config.epochs
    jobs = _jobs(enc.starts, JOB_WORDS)
    workers = max(1, min(_resolve_workers(config.workers), len(jobs)))
    alpha0 = config.start_alpha
    counters = np.zeros((workers, 3), dtype=np.float64)  # words, loss sum, loss terms
    loss_per_epoch = []

    def run_job(wid: int, epoch: int, j: int) -> None:
        s_lo, s_hi, pos = jobs[j]
        # each job's RNG state depends on (seed, epoch, job) only, never on thread timing
        key = ((config.seed * 1_000_003 + epoch) * 10_000_019 + j) % 2**64
        state = np.uint64(K.splitmix64(np.uint64(key)))
        args = (syn0, syn1, enc.ids, enc.starts, s_lo, s_hi, keep, neg_threshold, neg_alias,
                sig, logsig, config.window, config.negative, alpha0, config.min_alpha,
                float(epoch * n_words + pos), total, state, counters[wid])
        if config.model == "skipgram":
            K.train_sg_job(*args)
        else:
            K.train_cbow_job(*args, config.cbow_shared_negatives)

    from seqlab.runtime import progress as progress_bar

    bar = progress_bar(total=int(total), desc=f"word2vec {config.model}", unit="word",
                       enabled=progress, unit_scale=True)
    errors: list[BaseException] = []
    t_train = time.perf_counter()
    cpu_train = time.process_time()
    try:
        for epoch in range(config.epochs):
            before = counters.sum(axis=0)
            lock = threading.Lock()
            nxt = [0]

            def worker(wid: int, epoch=epoch) -> None:
                # with one worker the jobs run in order on one thread: bit-for-bit reproducible
                try:
                    while not errors:
                        with lock:
                            j = nxt[0]
                            nxt[0] += 1
                        if j >= len(jobs):
                            return
                        run_job(wid, epoch, j)
                except BaseException as e:  # surfaced in the main thread
                    errors.append(e)

            threads = [threading.Thread(target=worker, args=(w,), daemon=True)
                       for w in range(workers)]
            for th in threads:
                th.start()

            def show(before=before) -> np.ndarray:
                # progress in words, the learning rate at the current position, mean loss per
                # logit since the epoch began (all read from the counters the kernels update)
                tot = counters.sum(axis=0)
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
    except BaseException:
        errors.append(RuntimeError("stopped"))  # workers stop after their current job
        raise
    finally:
        bar.close()
    seconds = time.perf_counter() - t_train
    cpu_seconds = time.process_time() - cpu_train
    stats = {
        "words_per_sec": float(enc.raw_words * config.epochs / max(seconds, 1e-9)),
        "seconds": float(seconds),
        "cpu_seconds": float(cpu_seconds),
        "vocab_size": int(V),
        "corpus_words": int(enc.raw_words),
        "train_words": int(n_words),
        "sentences": int(len(enc.starts) - 1),
        "workers": int(workers),
        "final_loss": loss_per_epoch[-1],
        "loss_per_epoch": loss_per_epoch,
        "config": asdict(config),
    }
    return syn0, stats
