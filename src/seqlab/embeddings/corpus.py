"""The embeddings wing's corpus: one reader, one vocabulary builder, one encoder.

word2vec, GloVe, PPMI and phrase detection all read text through `read_sentences`, count words
with `WordIndex`, order the vocabulary with `order_vocabulary` and turn text into id arrays with
`encode_corpus`, so they agree on what a sentence, a token and a vocabulary are. This module hands
out plain arrays only; the trainers turn them into a KeyedVectors (which knows no corpus).

Corpus: a path (plain or gzip UTF-8 text, whitespace-separated tokens, streamed line by line; a
line is a sentence and no window crosses a line end) or an iterable of token lists.

Vocabulary order, the one rule of this wing: words by descending count, equal counts in
alphabetical order (Python's string order, i.e. by Unicode code points). It is the rule of
`seqlab.vocab.Vocab` too, and it does not depend on the order of the lines, so a shuffled corpus
gives the same ids. `min_count` drops rarer words first; `max_vocab` then keeps the first N words
of that order.

Encoding is one streaming pass: each new word gets a provisional id (order of first appearance),
the ids go out in chunks of about CHUNK_TOKENS tokens (int32, 4 bytes per token), and after the
pass rare words are dropped and the rest renumbered by the rule above, chunk by chunk. The chunks
live in memory, or on disk in an unlinked temporary file that is then memory-mapped read-only
(`storage="disk"`), so that peak memory is the vocabulary plus one chunk, not the corpus.
`storage="auto"` keeps the first IN_MEMORY_MAX_TOKENS tokens in memory and moves everything to
disk once the corpus grows past them.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from seqlab.errors import SeqlabError


class EmptyVocabularyError(SeqlabError, RuntimeError):
    """A corpus with no tokens, or none that the vocabulary rule keeps: nothing to train on. A
    RuntimeError too, as gensim raises for the same case."""


CHUNK_TOKENS = 1 << 20  # tokens per encoded chunk (4 MiB of int32 ids)
IN_MEMORY_MAX_TOKENS = 1 << 26  # storage="auto": corpora above 67M tokens (256 MiB of ids) go to disk
STORAGES = ("auto", "memory", "disk")
_PAGE = mmap.PAGESIZE
RELEASE_ALIGN = 1 << 21  # released ranges cover whole 2 MiB blocks (the largest page-cache folio)


# ---- reading ------------------------------------------------------------------------------------
def read_sentences(corpus) -> Iterator[list[str]]:
    """Non-empty token lists from a corpus path (lines split on whitespace) or an iterable of lists.

    SeqlabError (one line) for a missing, empty, binary or non-UTF-8 file, for an iterable of
    strings instead of token lists, and for anything else that is not a corpus.
    """
    if isinstance(corpus, (str, os.PathLike)):
        yield from _read_file(corpus)
        return
    if not isinstance(corpus, Iterable) or isinstance(corpus, bytes):
        raise SeqlabError(
            f"corpus must be a file path or an iterable of lists of tokens, got {type(corpus).__name__}"
        )
    for sent in corpus:
        if isinstance(sent, (str, bytes)):
            raise SeqlabError(
                "corpus must be a path or an iterable of lists of tokens, got an "
                "iterable of strings (split each sentence into tokens)"
            )
        if len(sent):
            yield sent if isinstance(sent, list) else list(sent)


def _read_file(path) -> Iterator[list[str]]:
    from seqlab.files import open_text_stream

    with open_text_stream(path) as f:
        try:
            for line in f:
                toks = line.split()
                if toks:
                    yield toks
        except UnicodeDecodeError as e:
            raise SeqlabError(f"corpus is not valid UTF-8 text: {path} ({e.reason})") from None
        except (OSError, EOFError) as e:
            raise SeqlabError(f"cannot read corpus {path}: {e}") from None


# ---- counting and the vocabulary ----------------------------------------------------------------
class WordIndex:
    """Provisional ids while counting: each new word gets the next integer (first appearance)."""

    def __init__(self):
        self.index: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.index)

    @property
    def words(self) -> list[str]:
        return list(self.index)

    def encode(self, tokens: list[str]) -> list[int]:
        """Ids of `tokens`, adding unseen words (SeqlabError for a token that is not a string)."""
        ids = list(map(self.index.get, tokens))
        if None in ids:  # only lines with new words take the slow path
            for k, w in enumerate(tokens):
                if ids[k] is None:
                    if not isinstance(w, str):
                        raise SeqlabError(f"tokens must be strings, got {type(w).__name__}")
                    ids[k] = self.index.setdefault(w, len(self.index))
        return ids


@dataclass
class Vocabulary:
    """The kept words in vocabulary order, their counts, and the size of the corpus they came from."""

    words: list[str]  # id -> word, most frequent first (ties alphabetical)
    counts: np.ndarray  # (V,) int64
    corpus_words: int  # tokens read, rare words included
    sentences: int = 0  # sentences read (non-empty lines or token lists), when known

    def __len__(self) -> int:
        return len(self.words)

    @property
    def key_to_index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}


def order_vocabulary(
    words: list[str],
    counts: np.ndarray,
    min_count: int = 1,
    max_vocab: int | None = None,
    kept: np.ndarray | None = None,
    sort: bool = True,
) -> np.ndarray:
    """Indices into `words` of the kept words, in vocabulary order (the rule in the module doc).

    kept: indices already chosen by another rule (gensim's trim_rule); None keeps count >= min_count.
    sort: False keeps the words in their given order (first appearance) instead of the rule's.
    EmptyVocabularyError when no word is kept (or the counts are all zero: an empty corpus).
    """
    counts = np.asarray(counts, dtype=np.int64)
    if counts.sum() == 0:
        raise EmptyVocabularyError("corpus is empty (no tokens)")
    if kept is None:
        kept = np.nonzero(counts >= min_count)[0]
    if len(kept) == 0:
        raise EmptyVocabularyError(
            f"every word occurs fewer than min_count={min_count} times "
            f"({len(words)} distinct words, most frequent {int(counts.max())} times)"
        )
    if not sort:
        return kept[:max_vocab] if max_vocab is not None else kept
    kept_words = [words[i] for i in kept.tolist()]
    alpha_rank = np.empty(len(kept), dtype=np.int64)
    alpha_rank[sorted(range(len(kept)), key=kept_words.__getitem__)] = np.arange(len(kept))
    order = kept[np.lexsort((alpha_rank, -counts[kept]))]  # count descending, then alphabetical
    return order[:max_vocab] if max_vocab is not None else order


def build_vocab(
    corpus, min_count: int = 1, max_vocab: int | None = None, progress: bool | None = None
) -> Vocabulary:
    """Count the words of `corpus` in one pass and keep them in vocabulary order.

    SeqlabError for an empty corpus or when no word reaches min_count.
    """
    words, counts, tokens, _ = count_words(corpus, progress)
    order = order_vocabulary(words, counts, min_count, max_vocab)
    return Vocabulary([words[i] for i in order], counts[order], tokens)


def count_words(corpus, progress: bool | None = None) -> tuple[list[str], np.ndarray, int, int]:
    """One counting pass: (distinct words in order of first appearance, their counts (int64),
    tokens read, sentences read)."""
    store = _Discard()
    index, counts = _count(corpus, store, progress)
    return index.words, counts, store.tokens, store.sentences


def _count(
    corpus, store, progress: bool | None, max_sentence: int | None = None
) -> tuple[WordIndex, np.ndarray]:
    """The counting pass: provisional ids of every token go to `store`, chunk by chunk."""
    from seqlab.runtime import progress as bar

    index = WordIndex()
    counts = np.zeros(0, dtype=np.int64)
    pending: list[int] = []
    lengths = array("q")  # tokens per sentence of the pending chunk (lines cut at max_sentence)
    cut = max_sentence or 0

    def flush():
        nonlocal counts, pending, lengths
        ids = np.array(pending, dtype=np.int32)
        if len(counts) < len(index):
            counts = np.concatenate(
                [counts, np.zeros(max(len(index), 2 * len(counts)) - len(counts), dtype=np.int64)]
            )
        b = np.bincount(ids)
        counts[: len(b)] += b
        store.add(ids, np.frombuffer(lengths, dtype=np.int64).copy())
        pbar.update(len(ids))
        pending, lengths = [], array("q")

    with bar(desc="reading corpus", unit="tok", enabled=progress, unit_scale=True) as pbar:
        for toks in read_sentences(corpus):
            store.sentences += 1
            ids = index.encode(toks)
            pending.extend(ids)
            n = len(ids)
            if cut and n > cut:
                lengths.extend([cut] * (n // cut))
                n %= cut
            if n:
                lengths.append(n)
            if len(pending) >= CHUNK_TOKENS:
                flush()
        if pending:
            flush()
    return index, counts[: len(index)]


# ---- encoding -----------------------------------------------------------------------------------
@dataclass
class EncodedCorpus:
    """A corpus as in-vocabulary ids; sentence s is ids[starts[s]:starts[s+1]].

    `ids` and `starts` are ordinary arrays (storage "memory") or read-only views of memory-mapped
    temporary files (storage "disk"), which disappear with `close()` or the process.
    """

    vocab: Vocabulary
    ids: np.ndarray  # (N,) int32, out-of-vocabulary tokens removed
    starts: np.ndarray  # (S+1,) int64
    storage: str  # "memory" or "disk"
    _maps: tuple = ()

    @property
    def words(self) -> list[str]:
        return self.vocab.words

    @property
    def counts(self) -> np.ndarray:
        return self.vocab.counts

    def chunks(self, chunk_tokens: int = CHUNK_TOKENS) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, sentence number) arrays over blocks of whole sentences of about chunk_tokens."""
        s, S = 0, len(self.starts) - 1
        while s < S:
            e = int(np.searchsorted(self.starts, self.starts[s] + chunk_tokens, side="left"))
            e = min(max(e, s + 1), S)
            lo, hi = int(self.starts[s]), int(self.starts[e])
            lengths = np.diff(self.starts[s : e + 1])
            yield np.array(self.ids[lo:hi]), np.repeat(np.arange(s, e), lengths)
            self.release(lo, hi)
            s = e

    def will_need(self, lo: int, hi: int) -> None:
        """Start reading ids[lo:hi] from the file in the background (disk storage only): a
        job's pages may have left the page cache since the last epoch."""
        self._advise(mmap.MADV_WILLNEED, lo, hi)

    def release(self, lo: int, hi: int) -> None:
        """Drop the pages of ids[lo:hi] from this process's memory (disk storage only).

        The data stay in the file (and usually in the page cache): a later read maps them back.
        Without this a pass over a memory-mapped corpus would leave all of it resident. The range
        is widened to whole 2 MiB blocks: the page cache holds large folios (up to 2 MiB) and a
        fault maps the whole folio, so releasing just the job's pages would leave the rest of
        each folio mapped, about a megabyte per job (measured: 32 MB after 800 jobs). A
        neighbouring job that still reads a released block simply maps it again.
        """
        self._advise(mmap.MADV_DONTNEED, lo, hi, RELEASE_ALIGN)

    def _advise(self, advice: int, lo: int, hi: int, align: int = _PAGE) -> None:
        if self.storage != "disk" or hi <= lo:
            return
        mm = self._maps[0]
        start = (lo * 4) // align * align
        stop = min(len(mm), -(-(hi * 4) // align) * align)
        mm.madvise(advice, start, stop - start)

    def close(self) -> None:
        """Unmap the temporary files (disk storage); the arrays must not be used afterwards."""
        maps, self._maps = self._maps, ()
        self.ids = self.starts = None
        for mm in maps:
            try:
                mm.close()
            except BufferError:  # a view is still alive somewhere: the GC unmaps it later
                pass


def encode_corpus(
    corpus,
    min_count: int = 1,
    max_vocab: int | None = None,
    max_sentence: int | None = None,
    storage: str = "auto",
    tmp_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
    memory_tokens: int = IN_MEMORY_MAX_TOKENS,
    choose=None,
    known: Vocabulary | None = None,
) -> EncodedCorpus:
    """Read `corpus` once and encode it with its own vocabulary (see the module doc).

    min_count / max_vocab: vocabulary cut-offs. choose: instead of them, a function
        (words, counts) -> indices of the kept words in vocabulary order (Word2Vec's gensim
        rules). known: a vocabulary made before (gensim's train after build_vocab) instead of
        the corpus's own; its words and counts are kept, words outside it removed before any
        windowing. `sentences` of the result's vocabulary is the number of sentences read.
    max_sentence: lines longer than this are cut into pieces of that many tokens (before rare
        words are removed, as gensim's LineSentence); None keeps lines whole.
    storage: "memory", "disk" (a temporary file in `tmp_dir`, default the system's) or "auto"
        (memory up to `memory_tokens` tokens, disk beyond). Both give the same arrays.
    SeqlabError for an empty corpus or when no word reaches min_count.
    """
    if storage not in STORAGES:
        raise SeqlabError(f"storage must be one of {', '.join(STORAGES)}, got {storage!r}")
    store = _Chunks(storage, tmp_dir, memory_tokens)
    try:
        index, counts = _count(corpus, store, progress, max_sentence)
        words = index.words
        if known is not None:
            get = known.key_to_index.get
            remap = np.fromiter((get(w, -1) for w in words), dtype=np.int32, count=len(words))
            vocab = Vocabulary(known.words, known.counts, store.tokens, store.sentences)
            return store.finish(vocab, remap, int(counts[remap >= 0].sum()))
        if choose is None:
            order = order_vocabulary(words, counts, min_count, max_vocab)
        else:
            order = choose(words, counts)
        vocab = Vocabulary([words[i] for i in order], counts[order], store.tokens, store.sentences)
        remap = np.full(len(words), -1, dtype=np.int32)  # provisional id -> final id or -1
        remap[order] = np.arange(len(order), dtype=np.int32)
        del index, words
        return store.finish(vocab, remap, int(counts[order].sum()))
    except BaseException:
        store.discard()
        raise


class _Discard:
    """A chunk sink that only counts tokens and sentences (build_vocab)."""

    def __init__(self):
        self.tokens = 0
        self.sentences = 0

    def add(self, ids: np.ndarray, lengths: np.ndarray) -> None:
        self.tokens += len(ids)


class _Chunks:
    """Provisional-id chunks in memory or in a temporary file, then compacted to final ids."""

    def __init__(self, storage: str, tmp_dir, memory_tokens: int):
        self.storage, self.tmp_dir, self.memory_tokens = storage, tmp_dir, memory_tokens
        self.tokens = 0
        self.sentences = 0
        self.mem: list[tuple[np.ndarray, np.ndarray]] = []  # (ids, sentence lengths) per chunk
        self.sizes: list[tuple[int, int]] = []  # disk: (tokens, sentences) per chunk
        self.files = None  # disk: (ids file, lengths file)
        if storage == "disk":
            self._to_disk()

    def add(self, ids: np.ndarray, lengths: np.ndarray) -> None:
        self.tokens += len(ids)
        if self.files is None:
            self.mem.append((ids, lengths))
            if self.storage == "auto" and self.tokens > self.memory_tokens:
                self._to_disk()
        else:
            self._write(ids, lengths)

    def _to_disk(self) -> None:
        try:
            self.files = (tempfile.TemporaryFile(dir=self.tmp_dir), tempfile.TemporaryFile(dir=self.tmp_dir))
        except OSError as e:
            raise SeqlabError(
                f"cannot create the corpus id file in {self.tmp_dir or 'the temporary folder'}: {e}"
            ) from None
        for ids, lengths in self.mem:
            self._write(ids, lengths)
        self.mem = []

    def _write(self, ids: np.ndarray, lengths: np.ndarray) -> None:
        try:
            self.files[0].write(ids.tobytes())
            self.files[1].write(lengths.tobytes())
        except OSError as e:
            raise SeqlabError(f"cannot write the corpus id file: {e}") from None
        self.sizes.append((len(ids), len(lengths)))

    def discard(self) -> None:
        self.mem = []
        if self.files is not None:
            for f in self.files:
                f.close()
            self.files = None

    def finish(self, vocab: Vocabulary, remap: np.ndarray, kept_tokens: int) -> EncodedCorpus:
        """Map every chunk to final ids, dropping removed words and sentences left empty."""
        if self.files is None:
            ids = np.empty(kept_tokens, dtype=np.int32)  # (N,) every kept token
            kept_lengths, at = [], 0
            while self.mem:  # pop: each raw chunk is freed once mapped (peak ~ ids + raw chunks)
                raw, lengths = self.mem.pop(0)
                kept, n = _compact(remap, raw, lengths)
                ids[at : at + len(kept)] = kept
                at += len(kept)
                kept_lengths.append(n)
            starts = np.concatenate([[0], np.cumsum(np.concatenate(kept_lengths))])
            ids.flags.writeable = False  # the same array type as the memory map: one compiled kernel
            starts.flags.writeable = False
            return EncodedCorpus(vocab, ids, starts, "memory")
        return self._finish_on_disk(vocab, remap)

    def _finish_on_disk(self, vocab: Vocabulary, remap: np.ndarray) -> EncodedCorpus:
        id_file, len_file = self.files
        id_file.flush()
        len_file.flush()
        fd, lfd = id_file.fileno(), len_file.fileno()
        starts_file = tempfile.TemporaryFile(dir=self.tmp_dir)
        read_at = lread_at = write_at = 0
        total = 0
        starts_file.write(np.zeros(1, dtype=np.int64).tobytes())
        for n_tok, n_sent in self.sizes:
            ids = np.frombuffer(os.pread(fd, 4 * n_tok, read_at), dtype=np.int32)
            lengths = np.frombuffer(os.pread(lfd, 8 * n_sent, lread_at), dtype=np.int64)
            read_at += 4 * n_tok
            lread_at += 8 * n_sent
            kept, kept_lengths = _compact(remap, ids, lengths)
            os.pwrite(fd, kept.tobytes(), write_at)  # in place: write_at never passes read_at
            write_at += 4 * len(kept)
            starts_file.write((total + np.cumsum(kept_lengths)).tobytes())
            total += int(kept_lengths.sum())
        os.ftruncate(fd, write_at)
        len_file.close()
        starts_file.flush()
        ids_map = mmap.mmap(fd, write_at, access=mmap.ACCESS_READ)
        starts_map = mmap.mmap(starts_file.fileno(), 0, access=mmap.ACCESS_READ)
        id_file.close()  # the maps keep the (unlinked) files alive
        starts_file.close()
        self.files = None
        ids = np.frombuffer(ids_map, dtype=np.int32)  # (N,) read-only
        starts = np.frombuffer(starts_map, dtype=np.int64)  # (S+1,) read-only
        return EncodedCorpus(vocab, ids, starts, "disk", (ids_map, starts_map))


def _compact(remap: np.ndarray, ids: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(kept final ids, tokens kept per sentence, empty sentences left out) of one chunk."""
    mapped = remap[ids]  # (n,)
    keep = mapped >= 0
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    per_sentence = np.add.reduceat(keep, offsets, dtype=np.int64)  # lengths are all >= 1
    return mapped[keep], per_sentence[per_sentence > 0]


def encode_with(
    corpus, key_to_index: dict[str, int], chunk_tokens: int = CHUNK_TOKENS
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, sentence number) arrays over chunks of whole sentences, with a given vocabulary;
    words outside it are removed before any windowing (as word2vec and GloVe's cooccur do)."""
    get = key_to_index.get
    ids: list[int] = []
    sent: list[int] = []
    s = 0
    for toks in read_sentences(corpus):
        a = [i for i in map(get, toks) if i is not None]
        if a:
            ids.extend(a)
            sent.extend([s] * len(a))
            s += 1
        if len(ids) >= chunk_tokens:
            yield np.array(ids, dtype=np.int64), np.array(sent, dtype=np.int64)
            ids, sent = [], []
    if ids:
        yield np.array(ids, dtype=np.int64), np.array(sent, dtype=np.int64)
