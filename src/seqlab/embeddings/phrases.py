"""Phrase detection: frequent word pairs become single tokens ("new york" -> "new_york").

word2phrase (Mikolov et al. 2013, section 4; word2vec's word2phrase.c): a bigram "a b" is joined
when

    score(a, b) = (count(a b) - delta) / (count(a) * count(b)) * N  >  threshold

with N the number of tokens and delta (= min_count) discounting rare pairs; words seen fewer than
min_count times never join. Joining is greedy from left to right and never overlaps ("a b c" with
both pairs above threshold gives "a_b c"). Each further pass runs on the output of the previous
one, so two passes can build phrases of up to four words.

Counting streams the corpus once per pass through the wing's one reader and word index
(seqlab.embeddings.corpus): words get integer ids (a dict that grows with the vocabulary) and
bigrams are counted as 64-bit keys with numpy (8 bytes per token while a pass runs), which is far
smaller and faster than a Python dict of string pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from seqlab.embeddings.corpus import WordIndex, read_sentences
from seqlab.errors import SeqlabError


def _fresh(corpus) -> Iterator[list[str]]:
    """A new pass over the corpus: call it if it is a factory, else read it again."""
    return read_sentences(corpus() if callable(corpus) else corpus)


class Phrases:
    """Learn word2phrase bigram joins over one or more passes; then apply them to token lists.

    passes: how many rounds of joining (1: pairs; 2: up to 4-word phrases).
    threshold: minimum score to join (word2phrase's default 100; higher = fewer phrases).
    min_count: words (and pairs) rarer than this are never joined; also the discount delta.
    delimiter: glue between the joined words.

    After fit: layers_ (one dict per pass, (a, b) -> score), total_words_ (tokens per pass).
    """

    def __init__(self, passes: int = 1, threshold: float = 100.0, min_count: int = 5, delimiter: str = "_"):
        self.passes = passes
        self.threshold = threshold
        self.min_count = min_count
        self.delimiter = delimiter

    def fit(self, corpus) -> Phrases:
        """corpus: a path, a re-iterable of token lists (e.g. a list) or a function returning a
        new stream of token lists (each pass reads it again)."""
        if self.passes < 1:
            raise SeqlabError("phrases: passes must be >= 1")
        if self.min_count < 1:
            raise SeqlabError("phrases: min_count must be >= 1")
        self.layers_: list[dict[tuple[str, str], float]] = []
        self.total_words_: list[int] = []
        for _ in range(self.passes):
            stream = self._apply(_fresh(corpus), self.layers_)
            layer, n = self._learn_layer(stream)
            self.layers_.append(layer)
            self.total_words_.append(n)
        return self

    def _learn_layer(self, stream: Iterable[list[str]]) -> tuple[dict[tuple[str, str], float], int]:
        index = WordIndex()
        ids_chunks: list[np.ndarray] = []
        key_chunks: list[np.ndarray] = []
        for toks in stream:
            a = np.array(index.encode(toks), dtype=np.int64)  # (n,)
            ids_chunks.append(a.astype(np.int32))
            if len(a) > 1:
                key_chunks.append((a[:-1] << 32) | a[1:])  # bigram keys within the sentence
        if not ids_chunks:
            raise SeqlabError("phrases: corpus is empty (no tokens)")
        uni = np.bincount(np.concatenate(ids_chunks), minlength=len(index))  # (V,)
        n = int(uni.sum())
        del ids_chunks
        if not key_chunks:
            return {}, n
        keys, pab = np.unique(np.concatenate(key_chunks), return_counts=True)
        a, b = keys >> 32, keys & 0xFFFFFFFF
        pa, pb = uni[a].astype(np.float64), uni[b].astype(np.float64)
        ok = (pa >= self.min_count) & (pb >= self.min_count)
        score = np.where(ok, (pab - self.min_count) / (pa * pb) * n, 0.0)
        chosen = np.nonzero(score > self.threshold)[0]
        words = index.words
        layer = {(words[a[i]], words[b[i]]): float(score[i]) for i in chosen}
        return layer, n

    def _apply(self, stream: Iterable[list[str]], layers) -> Iterator[list[str]]:
        for toks in stream:
            for layer in layers:
                toks = self._join(toks, layer)
            yield toks

    def _join(self, toks: list[str], layer: dict[tuple[str, str], float]) -> list[str]:
        if not layer or len(toks) < 2:
            return list(toks)
        out = []
        i, n = 0, len(toks)
        while i < n:
            if i + 1 < n and (toks[i], toks[i + 1]) in layer:
                out.append(toks[i] + self.delimiter + toks[i + 1])
                i += 2
            else:
                out.append(toks[i])
                i += 1
        return out

    def transform(self, tokens: list[str]) -> list[str]:
        """One token list with the learnt phrases joined."""
        self._check_fitted()
        for layer in self.layers_:
            tokens = self._join(tokens, layer)
        return tokens

    def transform_stream(self, sentences: Iterable[list[str]]) -> Iterator[list[str]]:
        """Lazily join phrases in a stream of token lists."""
        self._check_fitted()
        return self._apply(sentences, self.layers_)

    @property
    def phrases_(self) -> dict[str, float]:
        """Every learnt phrase (joined with the delimiter) -> its score in the pass that made it."""
        self._check_fitted()
        return {a + self.delimiter + b: s for layer in self.layers_ for (a, b), s in layer.items()}

    def _check_fitted(self) -> None:
        if not hasattr(self, "layers_"):
            raise SeqlabError("phrases: call fit() before transform()")
