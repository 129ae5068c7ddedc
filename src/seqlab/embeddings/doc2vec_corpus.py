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

from seqlab.embeddings.corpus import EmptyVocabularyError
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
