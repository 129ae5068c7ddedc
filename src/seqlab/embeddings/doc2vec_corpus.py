"""Documents for Doc2Vec: `TaggedDocument`, how tags become rows of the document vectors
(gensim's numbering), and the encoding of a corpus of documents into the id arrays the kernel reads.

    TaggedDocument(words=["the", "cat", "sat"], tags=[0])      any object with .words and .tags
    tagged_lines("corpus.txt")                                   one document per line, tag = line

Tags are ints or strings. As in gensim, an int tag t is row t itself (so int tags 0..N-1 need no
lookup table), and string tags take the rows after the largest int tag, in order of first
appearance; `dv.key_to_index` holds the string tags only.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from seqlab.embeddings.corpus import EmptyVocabularyError, WordIndex
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.errors import SeqlabError


class TaggedDocument(NamedTuple):
    """A document: its tokens and its tags (a list of ints or strings), as gensim's."""

    words: list
    tags: list

    def __str__(self) -> str:
        return f"{type(self).__name__}<{self.words}, {self.tags}>"


def tagged_lines(path: str | os.PathLike) -> Iterator[TaggedDocument]:
    """gensim's TaggedLineDocument: one document per line of a text file (plain or gzip, UTF-8),
    whitespace tokens, tagged by its line number (empty lines too, so tags stay line numbers)."""
    from seqlab.files import open_text_stream

    with open_text_stream(path) as f:
        try:
            for i, line in enumerate(f):
                yield TaggedDocument(line.split(), [i])
        except UnicodeDecodeError as e:
            raise SeqlabError(f"corpus is not valid UTF-8 text: {path} ({e.reason})") from None


class TagIndex:
    """The document tags of a corpus, numbered as gensim numbers them, with per-tag counts."""

    def __init__(self):
        self.max_int = -1
        self.strings: dict[str, int] = {}  # string tag -> order of first appearance
        self.doc_count: dict = {}
        self.word_count: dict = {}
        self.documents = 0

    def add(self, tags, n_words: int) -> None:
        for t in tags:
            if isinstance(t, (int, np.integer)) and not isinstance(t, bool):
                t = int(t)
                if t < 0:
                    raise SeqlabError(f"document tags must be ints >= 0 or strings, got {t}")
                self.max_int = max(self.max_int, t)
            elif isinstance(t, str):
                self.strings.setdefault(t, len(self.strings))
            else:
                raise SeqlabError(f"document tags must be ints or strings, got {type(t).__name__} {t!r}")
            self.doc_count[t] = self.doc_count.get(t, 0) + 1
            self.word_count[t] = self.word_count.get(t, 0) + n_words
        self.documents += 1

    def __len__(self) -> int:
        return self.max_int + 1 + len(self.strings)

    def keys(self) -> list:
        """Row order: the int rows 0..max_int, then the string tags."""
        return list(range(self.max_int + 1)) + list(self.strings)


def document_words(documents: Iterable, tags: TagIndex) -> Iterator[list[str]]:
    """The token lists of `documents`, recording every document's tags into `tags` on the way
    (one reading pass). SeqlabError, naming the document, for one without words/tags."""
    if isinstance(documents, (str, bytes, os.PathLike)):
        raise SeqlabError("documents must be an iterable of TaggedDocument; pass a file as corpus_file=")
    for k, doc in enumerate(documents):
        words, doc_tags = _words_and_tags(doc, k)
        tags.add(doc_tags, len(words))
        yield words


def _words_and_tags(doc, k: int):
    try:
        words, doc_tags = doc.words, doc.tags
    except AttributeError:
        raise SeqlabError(
            f"document {k} is a {type(doc).__name__}, not a TaggedDocument (an object with "
            ".words and .tags: seqlab.TaggedDocument(words, [tag]))"
        ) from None
    if isinstance(doc_tags, (str, int, np.integer)):
        raise SeqlabError(
            f"document {k}: tags must be a list of tags, got {doc_tags!r} (write [{doc_tags!r}])"
        )
    if not len(doc_tags):
        raise SeqlabError(f"document {k} has no tags: every document needs at least one")
    if isinstance(words, (str, bytes)):
        raise SeqlabError(f"document {k}: words must be a list of tokens, got a string (split it first)")
    return list(words), list(doc_tags)


@dataclass
class EncodedDocuments:
    """Documents as id arrays: document d's kept words are ids[starts[d]:starts[d+1]] and its
    rows of the document vectors tag_ids[tag_starts[d]:tag_starts[d+1]]."""

    ids: np.ndarray  # (N,) int32
    starts: np.ndarray  # (S+1,) int64
    tag_ids: np.ndarray  # (T,) int32
    tag_starts: np.ndarray  # (S+1,) int64
    raw_words: int  # tokens read, known or not


def encode_documents(documents: Iterable, key_to_index: dict, tag_row) -> EncodedDocuments:
    """Encode `documents` with a vocabulary (unknown words are left out, before any window, as
    word2vec does) and tag_row(tag) -> row or None (unknown tags are left out, as gensim)."""
    get = key_to_index.get
    ids, tag_ids = array("i"), array("i")
    starts, tag_starts = array("q", [0]), array("q", [0])
    raw = 0
    for k, doc in enumerate(documents):
        words, doc_tags = _words_and_tags(doc, k)
        raw += len(words)
        ids.extend([i for i in map(get, words) if i is not None])
        starts.append(len(ids))
        tag_ids.extend([r for r in map(tag_row, doc_tags) if r is not None])
        tag_starts.append(len(tag_ids))
    if len(starts) == 1:
        raise EmptyVocabularyError("no documents to train on (the corpus is empty)")
    return EncodedDocuments(
        np.frombuffer(ids, dtype=np.int32).copy(),
        np.frombuffer(starts, dtype=np.int64).copy(),
        np.frombuffer(tag_ids, dtype=np.int32).copy(),
        np.frombuffer(tag_starts, dtype=np.int64).copy(),
        raw,
    )


@dataclass
class ScannedDocuments:
    """One reading pass of a corpus: the words' counts and every token as a provisional id (words
    numbered by first appearance), so that training on the same corpus needs no second reading:
    `encode` maps the provisional ids to the vocabulary's with one array lookup."""

    words: list[str]  # provisional id -> word
    counts: np.ndarray  # (W,) int64
    ids: np.ndarray  # (N,) int32 provisional ids
    starts: np.ndarray  # (S+1,) int64
    tags: list  # every document's tags, flattened
    tag_starts: np.ndarray  # (S+1,) int64
    tag_index: TagIndex

    def encode(self, key_to_index: dict, tag_row) -> EncodedDocuments:
        """encode_documents' result for this corpus, by remapping the provisional ids."""
        remap = np.fromiter((key_to_index.get(w, -1) for w in self.words), np.int32, len(self.words))
        mapped = remap[self.ids] if len(self.ids) else np.zeros(0, np.int32)
        kept = np.concatenate([[0], np.cumsum(mapped >= 0, dtype=np.int64)])
        rows = np.array([-1 if r is None else r for r in map(tag_row, self.tags)], dtype=np.int64)
        kept_tags = np.concatenate([[0], np.cumsum(rows >= 0)])
        return EncodedDocuments(
            np.ascontiguousarray(mapped[mapped >= 0], dtype=np.int32),
            kept[self.starts].astype(np.int64),
            rows[rows >= 0].astype(np.int32),
            kept_tags[self.tag_starts].astype(np.int64),
            int(len(self.ids)),
        )


def scan_documents(documents: Iterable, progress: bool | None = None) -> ScannedDocuments:
    """Count and encode (provisionally) every document of `documents` in one pass."""
    from seqlab.runtime import progress as bar

    if isinstance(documents, (str, bytes, os.PathLike)):
        raise SeqlabError("documents must be an iterable of TaggedDocument; pass a file as corpus_file=")
    index, tag_index = WordIndex(), TagIndex()
    ids, starts, tags, tag_starts = array("i"), array("q", [0]), [], array("q", [0])
    with bar(desc="reading documents", unit="doc", enabled=progress, unit_scale=True) as pbar:
        for k, doc in enumerate(documents):
            words, doc_tags = _words_and_tags(doc, k)
            ids.extend(index.encode(words))
            starts.append(len(ids))
            tag_index.add(doc_tags, len(words))
            tags.extend(doc_tags)
            tag_starts.append(len(tags))
            pbar.update(1)
    prov = np.frombuffer(ids, dtype=np.int32).copy()
    counts = np.bincount(prov, minlength=len(index)).astype(np.int64)
    return ScannedDocuments(
        index.words, counts, prov, np.frombuffer(starts, dtype=np.int64).copy(), tags,
        np.frombuffer(tag_starts, dtype=np.int64).copy(), tag_index,
    )  # fmt: skip


class TaggedLines:
    """A re-iterable corpus file: each pass reads it again (tagged_lines)."""

    def __init__(self, path):
        from seqlab.files import check_readable

        self.path = check_readable(path)

    def __iter__(self):
        return tagged_lines(self.path)


def tag_vectors(keys: list, vectors: np.ndarray) -> KeyedVectors:
    """A KeyedVectors of document tags, gensim's way: int tags are their own rows (found by
    get_index's int rule), only the string tags are in key_to_index."""
    kv = KeyedVectors.from_arrays(list(range(len(keys))), vectors)
    kv.index_to_key = list(keys)
    kv.key_to_index = {k: i for i, k in enumerate(keys) if isinstance(k, str)}
    return kv


def lockf_of(kv: KeyedVectors) -> np.ndarray:
    lockf = getattr(kv, "vectors_lockf", None)
    if lockf is None:
        return np.ones(len(kv), dtype=np.float32)
    return np.ascontiguousarray(np.broadcast_to(np.asarray(lockf, dtype=np.float32), (len(kv),)))
