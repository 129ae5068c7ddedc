"""Word vectors plus their vocabulary: the query object every representation in seqlab returns.

`KeyedVectors` holds what word2vec, GloVe, PPMI-SVD and pretrained GloVe 6B produce, and speaks
gensim 4's public `KeyedVectors` API; gensim's own test file runs against it, and side-by-side
tests compare every method with gensim on the same vectors (tests/embeddings/test_keyedvectors*).
Storage, lookup and per-key attributes come from `seqlab.embeddings.vocab_matrix.VocabMatrix`
(`KeyedVectors(vector_size, count=0, dtype)`, `from_arrays`, `add_vector(s)`, `kv[key] = v`,
`get_vecattr`, `get_mean_vector`, `get_normed_vectors`, ...); this module adds the cosine
queries (`most_similar`, `most_similar_cosmul`, `similar_by_word/key/vector`, `similarity`,
`n_similarity`, `distance(s)`, `cosine_similarities`, `closer_than`, `words_closer_than`, `rank`,
`most_similar_to_given`, `relative_cosine_similarity`, `rank_by_centrality`, `doesnt_match`,
`wmdistance`, solved in `seqlab.embeddings.word_movers`), evaluation (scored by
`seqlab.embeddings.evaluation`; neither imports this module back), and the word2vec/GloVe files
(`load_word2vec_format`, `save_word2vec_format`, `intersect_word2vec_format`; formats in
`seqlab.embeddings.file_formats`). Vectors by name or path: `seqlab.embeddings.vector_sources`.
This module knows no corpus: trainers build a KeyedVectors with `from_arrays`.

Deliberately left out: gensim's pickle-based `save`/`load` (and its lifecycle log; seqlab never
unpickles, vectors travel as word2vec/GloVe files); gensim-3 names that gensim 4 keeps only to
raise or warn (`word_vec`, `init_sims`, `vectors_norm`, `index2word`, `index2entity`, `vocab`,
`similarity_unseen_docs`); `log_accuracy` / `log_evaluate_word_pairs`, which only write to
gensim's logger (seqlab returns the numbers; library code does not log); the unused
`mapfile_path` argument.

Where seqlab differs from gensim, on purpose: a missing word raises `UnknownWordError` (a
`KeyError`, as gensim's, with seqlab's message and a case hint) in every query, also where gensim
drops it silently (`doesnt_match`, `rank_by_centrality`, `n_similarity`); only
`get_mean_vector(ignore_missing=True)` skips it. A word's similarity with itself is exactly 1 and
its distance exactly 0 (float32 rounding would give 1 - 6e-8). `most_similar_cosmul` normalises
query vectors (its cosines must lie in [-1, 1]) and honours `restrict_vocab`. Files that lie
(header vs rows or columns, NaN, duplicate words) are refused, not warned about. `binary=None`,
the default of both file methods, sniffs the format (load) or follows a `.bin` suffix (save).
Nothing here mutates the object it is asked about (evaluation included).
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import numpy as np

from seqlab.embeddings import evaluation, file_formats, word_movers
from seqlab.embeddings.vocab_matrix import KEY_TYPES, UnknownWordError, VocabMatrix, unit
from seqlab.errors import SeqlabError

__all__ = ["KeyedVectors", "UnknownWordError"]


class EmptyWordListError(SeqlabError, ZeroDivisionError):
    """A mean over no words (n_similarity with an empty list): a ZeroDivisionError too, as gensim's."""


class KeyedVectors(VocabMatrix):
    """Word vectors with gensim 4's query and file API; see the module docstring for the list.

    Build one with `KeyedVectors(vector_size)` plus `add_vectors`, with
    `KeyedVectors.from_arrays(words, vectors, counts=None)`, or from a file.
    """

    # ---- similarity queries -------------------------------------------------------------------
    def most_similar(
        self,
        positive=None,
        negative=None,
        topn: int | None = 10,
        clip_start: int = 0,
        clip_end: int | None = None,
        restrict_vocab: int | None = None,
        indexer=None,
    ):
        """Keys closest by cosine to the weighted mean of `positive` minus `negative`.

        With `positive=[b, c], negative=[a]` this is 3CosAdd (Mikolov et al. 2013), "a is to b as
        c is to ?". Words enter as unit vectors, given vectors as they are (their length acts as
        a weight, as in gensim); the input words themselves are never returned.

        Args:
            positive, negative: a word, a vector (D,), a 2-D array of vectors, or a list of
                words, vectors and (word or vector, weight) pairs (default weights +1 / -1).
            topn: how many (key, cosine) pairs, best first; None returns the cosine of every
                searched row as an array (R,); below 1 returns [].
            clip_start, clip_end: search rows [clip_start, clip_end) only.
            restrict_vocab: search the first `restrict_vocab` rows only (the most frequent in a
                frequency-sorted vocabulary); overrides clip_start/clip_end.
            indexer: an approximate nearest-neighbour index with `most_similar(vector, topn)`.
        """
        if isinstance(topn, Integral) and topn < 1:
            return []
        keys, weights = self._query_terms(positive, negative, weighted=True)
        if restrict_vocab:
            clip_start, clip_end = 0, restrict_vocab
        clip_end = clip_end or len(self.vectors)
        mean = self.get_mean_vector(
            keys, weights, pre_normalize=True, post_normalize=True, ignore_missing=False
        )
        if indexer is not None and isinstance(topn, int):
            return indexer.most_similar(mean, topn)
        dists = self.get_normed_vectors()[clip_start:clip_end] @ mean  # (R,)
        if not topn:
            return dists
        return self._best(dists, topn, self._input_rows(keys), offset=clip_start)

    def most_similar_cosmul(
        self, positive=None, negative=None, topn: int | None = 10, restrict_vocab: int | None = None
    ):
        """3CosMul (Levy & Goldberg 2014): argmax prod_pos s / (prod_neg s + 1e-6), s = (1 + cos) / 2.

        Cosines are shifted to [0, 1] (their footnote 7) so products and quotients are defined.
        Arguments as in `most_similar`, without (key, weight) pairs.
        """
        if isinstance(topn, Integral) and topn < 1:
            return []
        keys, weights = self._query_terms(positive, negative, weighted=False)
        if not any(w > 0 for w in weights):
            raise SeqlabError("most_similar_cosmul needs at least one positive word or vector")
        normed = self.get_normed_vectors()
        rows = normed[:restrict_vocab]  # (R, D)
        num = np.ones(len(rows), dtype=rows.dtype)
        den = np.ones(len(rows), dtype=rows.dtype)
        for key, w in zip(keys, weights):
            q = unit(self._query_vector(key)) if isinstance(key, np.ndarray) else normed[self.get_index(key)]
            s = (1.0 + rows @ q) / 2.0  # (R,)
            if w > 0:
                num *= s
            else:
                den *= s
        dists = num / (den + 1e-6)
        if not topn:
            return dists
        return self._best(dists, topn, self._input_rows(keys))

    def _query_terms(self, positive, negative, weighted: bool) -> tuple[list, list[float]]:
        """most_similar's inputs as (keys or vectors, weights); gensim's rules for what is one item."""

        def as_list(x):
            if x is None:
                return []
            if isinstance(x, KEY_TYPES) or (isinstance(x, np.ndarray) and x.ndim == 1):
                return [x]
            return list(x)  # a list, or the rows of a 2-D array

        keys, weights = [], []
        for items, sign in ((as_list(positive), 1.0), (as_list(negative), -1.0)):
            for item in items:
                if isinstance(item, (*KEY_TYPES, np.ndarray)):
                    keys.append(item)
                    weights.append(sign)
                elif weighted and isinstance(item, tuple) and len(item) == 2:
                    keys.append(item[0])
                    weights.append(float(item[1]))  # the weight as given, also for negatives
                else:
                    what = "a word or a vector" + (" or a (word, weight) pair" if weighted else "")
                    raise SeqlabError(f"query item {item!r} is not {what}")
        if not keys:
            raise SeqlabError("cannot compute similarity with no input words")
        return keys, weights

    def _input_rows(self, keys) -> set[int]:
        return {self.get_index(k) for k in keys if not isinstance(k, np.ndarray)}

    def _best(self, dists: np.ndarray, topn: int, exclude: set[int], offset: int = 0):
        """The `topn` highest of `dists` (R,) as (key, score), skipping rows in `exclude`."""
        k = min(topn + len(exclude), len(dists))
        if k == 0:
            return []
        best = np.argpartition(-dists, k - 1)[:k] if k < len(dists) else np.arange(len(dists))
        best = best[np.argsort(-dists[best], kind="stable")]
        return [(self.index_to_key[i + offset], float(dists[i])) for i in best if i + offset not in exclude][
            :topn
        ]

    def similar_by_word(self, word, topn: int | None = 10, restrict_vocab: int | None = None):
        """`most_similar(positive=[word])`."""
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_key(self, key, topn: int | None = 10, restrict_vocab: int | None = None):
        """`most_similar(positive=[key])`."""
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_vector(self, vector, topn: int | None = 10, restrict_vocab: int | None = None):
        """`most_similar(positive=[vector])`: a raw vector is a query, not an input word, so the
        word it came from is returned too."""
        return self.most_similar(positive=[np.asarray(vector)], topn=topn, restrict_vocab=restrict_vocab)

    def similarity(self, w1, w2) -> float:
        """Cosine similarity of two keys; exactly 1 for a key with itself (0 if its vector is 0)."""
        i1, i2 = self.get_index(w1), self.get_index(w2)
        normed = self.get_normed_vectors()
        if i1 == i2:
            return 1.0 if self.norms[i1] > 0 else 0.0
        return float(normed[i1] @ normed[i2])

    def distance(self, w1, w2) -> float:
        """Cosine distance 1 - similarity; exactly 0 for a key with itself."""
        return 1.0 - self.similarity(w1, w2)

    @staticmethod
    def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
        """Cosine of `vector_1` (D,) with each row of `vectors_all` (K, D) -> (K,)."""
        norms = np.linalg.norm(vectors_all, axis=1) * np.linalg.norm(vector_1)  # (K,)
        return (vectors_all @ vector_1) / norms

    def distances(self, word_or_vector, other_words: Sequence = ()) -> np.ndarray:
        """Cosine distances from a key or vector to `other_words` (K,), or to every row (N,)
        when `other_words` is empty; a key's distance to itself is exactly 0."""
        normed = self.get_normed_vectors()
        if isinstance(word_or_vector, KEY_TYPES):
            index = self.get_index(word_or_vector)
            q = normed[index]
        else:
            index, q = None, unit(self._query_vector(np.asarray(word_or_vector)))
        rows = (
            np.array([self.get_index(w) for w in other_words], dtype=np.int64)
            if len(other_words)
            else np.arange(len(self))
        )  # (K,)
        dists = 1.0 - normed[rows] @ q  # (K,)
        if index is not None:
            dists[rows == index] = 0.0
        return dists

    def n_similarity(self, ws1: Sequence, ws2: Sequence) -> float:
        """Cosine between the means of the raw vectors of two key sets (gensim's definition)."""
        if not len(ws1) or not len(ws2):
            raise EmptyWordListError("n_similarity needs two non-empty word lists")
        m1 = self.get_mean_vector(ws1, pre_normalize=False, ignore_missing=False)
        m2 = self.get_mean_vector(ws2, pre_normalize=False, ignore_missing=False)
        return float(unit(m1) @ unit(m2))

    def closer_than(self, key1, key2) -> list:
        """Keys closer to `key1` than `key2` is (by cosine distance), `key1` itself excluded."""
        dists = self.distances(key1)  # (N,)
        i1, i2 = self.get_index(key1), self.get_index(key2)
        return [self.index_to_key[i] for i in np.nonzero(dists < dists[i2])[0] if i != i1]

    def words_closer_than(self, word1, word2) -> list:
        """gensim's older name of `closer_than`."""
        return self.closer_than(word1, word2)

    def rank(self, key1, key2) -> int:
        """1 + how many keys are closer to `key1` than `key2` is (1 for the nearest; `rank(k, k)` is 1)."""
        return len(self.closer_than(key1, key2)) + 1

    def most_similar_to_given(self, key1, keys_list: Sequence):
        """The key of `keys_list` most similar to `key1`."""
        if not len(keys_list):
            raise SeqlabError("most_similar_to_given needs a non-empty list of keys")
        return keys_list[int(np.argmax([self.similarity(key1, k) for k in keys_list]))]

    def relative_cosine_similarity(self, wa, wb, topn: int = 10) -> float:
        """rcs = cos(wa, wb) / sum of the cosines of wa's `topn` nearest neighbours (Leeuwenberg
        et al. 2016, eq. 1); above 1/topn, wb is closer to wa than an average neighbour."""
        sims = self.similar_by_word(wa, topn)
        if not sims:
            raise SeqlabError("relative_cosine_similarity needs topn >= 1")
        return self.similarity(wa, wb) / sum(s for _, s in sims)

    def rank_by_centrality(self, words: Sequence, use_norm: bool = True) -> list[tuple[float, str]]:
        """(cosine, word) pairs, most central first: cosine of each word with the unit mean of
        all of them (unit vectors if `use_norm`)."""
        words = list(words)
        if not words:
            raise SeqlabError("cannot rank an empty list of words")
        vecs = np.stack([self.get_vector(w, norm=use_norm) for w in words])  # (K, D)
        dists = vecs @ unit(vecs.mean(axis=0))  # (K,)
        return sorted(zip(dists.tolist(), words), reverse=True)

    def doesnt_match(self, words: Sequence) -> str:
        """The word furthest (by cosine) from the mean of the unit vectors of all `words`."""
        return self.rank_by_centrality(words)[-1][1]

    def wmdistance(self, document1: Sequence[str], document2: Sequence[str], norm: bool = True) -> float:
        """Word Mover's Distance (Kusner et al. 2015) between two token lists: the least total
        Euclidean distance their words must travel; see `seqlab.embeddings.word_movers`. Unknown
        tokens are dropped, as in gensim; if a document is then empty the distance is inf. `norm`
        uses unit-length vectors."""
        return word_movers.wmdistance(self, document1, document2, norm=norm)

    # ---- evaluation (implemented in seqlab.embeddings.evaluation) -----------------------------
    def evaluate_word_analogies(
        self,
        analogies,
        restrict_vocab: int = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
        similarity_function: str = "most_similar",
    ):
        """Analogy accuracy on a questions-words file; see `seqlab.embeddings.evaluation`."""
        return evaluation.evaluate_word_analogies(
            self,
            analogies,
            restrict_vocab=restrict_vocab,
            case_insensitive=case_insensitive,
            dummy4unknown=dummy4unknown,
            similarity_function=similarity_function,
        )

    def evaluate_word_pairs(
        self,
        pairs,
        delimiter: str = "\t",
        encoding: str = "utf8",
        restrict_vocab: int = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
    ):
        """(pearson, spearman, oov_ratio) on a similarity file; see `seqlab.embeddings.evaluation`.
        Pair files are read as UTF-8 (`encoding` is there for gensim's argument order)."""
        if encoding.lower().replace("-", "") != "utf8":
            raise SeqlabError(f"pair files are read as UTF-8, got encoding={encoding!r}")
        return evaluation.evaluate_word_pairs(
            self,
            pairs,
            delimiter=delimiter,
            restrict_vocab=restrict_vocab,
            case_insensitive=case_insensitive,
            dummy4unknown=dummy4unknown,
        )

    # ---- word2vec / GloVe files ---------------------------------------------------------------
    def save(self, path) -> None:
        """Write the keys, vectors and counts to one .npz, atomically: seqlab's model archive (JSON
        and plain arrays, never a pickle, so loading runs no code). Read back by KeyedVectors.load;
        for other tools use save_word2vec_format."""
        meta = {"model": "KeyedVectors", "words": list(self.index_to_key)}
        arrays = {"vectors": np.asarray(self.vectors)}
        if "count" in self.expandos:
            arrays["counts"] = np.asarray(self.expandos["count"], dtype=np.int64)
        file_formats.write_model(path, meta, arrays)

    @classmethod
    def load(cls, path) -> KeyedVectors:
        """Vectors written by `save`; SeqlabError (one line) for another kind of file."""
        p, meta, arrays = file_formats.read_model(path)
        if meta.get("model") != "KeyedVectors" or "vectors" not in arrays:
            raise SeqlabError(
                f"{p}: holds a {meta.get('model')} model; load it with seqlab.{meta.get('model')}.load"
            )
        return cls.from_arrays(meta.get("words", []), arrays["vectors"], counts=arrays.get("counts"))

    def save_word2vec_format(
        self,
        fname,
        fvocab=None,
        binary: bool | None = None,
        total_vec: int | None = None,
        write_header: bool = True,
        prefix: str = "",
        append: bool = False,
        sort_attr: str = "count",
    ) -> None:
        """Write word2vec text or binary (loads in gensim and word2vec.c), atomically.

        Args:
            binary: True / False; None picks binary for a `.bin` suffix, text otherwise.
            fvocab: also write word2vec.c's vocabulary file (`word count` lines); needs the
                `sort_attr` attribute.
            write_header: False leaves out the `N D` line (GloVe's text format).
            total_vec, prefix, append: the header's N, a string before every word, add to an
                existing file (as in gensim).
            sort_attr: rows are written by this attribute, highest first (stable, so a
                frequency-sorted vocabulary keeps its order); without it, in row order.
        Words containing whitespace cannot be written in either format and raise SeqlabError.
        """
        if binary is None:
            binary = file_formats.binary_from_suffix(fname)
        if None in self.index_to_key:
            raise SeqlabError(
                f"cannot save: {self.index_to_key.count(None)} preallocated rows have no key yet"
            )
        if sort_attr in self.expandos:
            order = np.argsort(-self.expandos[sort_attr], kind="stable")
        elif fvocab is not None:
            raise SeqlabError(f"cannot write a vocabulary file: no {sort_attr!r} attribute")
        else:
            order = np.arange(len(self))
        keys = [self.index_to_key[i] for i in order]
        if fvocab is not None:
            file_formats.write_vocab(fvocab, keys, self.expandos[sort_attr][order], prefix, append)
        file_formats.write_word2vec(
            fname,
            keys,
            self.vectors[order],
            binary=binary,
            write_header=write_header,
            total_vec=total_vec,
            prefix=prefix,
            append=append,
        )

    @classmethod
    def load_word2vec_format(
        cls,
        fname,
        fvocab=None,
        binary: bool | None = None,
        encoding: str = "utf8",
        unicode_errors: str = "strict",
        limit: int | None = None,
        datatype=np.float32,
        no_header: bool = False,
    ) -> KeyedVectors:
        """Read a word2vec text/binary file, or GloVe text with `no_header=True`.

        Args:
            fvocab: word2vec.c's vocabulary file; its counts become the "count" attribute
                (0 for a word it lacks). Without it, counts are made up in descending file
                order (N, N-1, ..., 1), as gensim does, so saving keeps the order.
            binary: True / False; None sniffs the format. gzip-compressed files are accepted.
            encoding, unicode_errors: how words are decoded; "replace" or "ignore" load words
                word2vec.c cut inside a multibyte character.
            limit: read only the first `limit` words.
            datatype: float type of the vectors.
        Raises `file_formats.VectorsFormatError` (a SeqlabError) naming the line (text) or word
        (binary) of a malformed, truncated or inconsistent file.
        """
        words, vectors = file_formats.read_word2vec(
            fname,
            binary=binary,
            no_header=no_header,
            limit=limit,
            encoding=encoding,
            unicode_errors=unicode_errors,
        )
        counts = (
            np.arange(len(words), 0, -1)
            if fvocab is None
            else file_formats.read_vocab_counts(fvocab, words, encoding, unicode_errors)
        )
        kv = cls.from_arrays(words, vectors, counts=counts)
        kv.vectors = kv.vectors.astype(datatype, copy=False)
        return kv

    def intersect_word2vec_format(
        self,
        fname,
        lockf: float = 0.0,
        binary: bool | None = None,
        encoding: str = "utf8",
        unicode_errors: str = "strict",
    ) -> int:
        """Overwrite the vectors of words that also appear in a word2vec file; add no words.

        Returns how many words were overwritten. `lockf` is accepted for gensim's argument order
        and ignores its value: gensim uses it to freeze imported rows during further training,
        and seqlab never trains a KeyedVectors further.
        """
        words, vectors = file_formats.read_word2vec(
            fname, binary=binary, encoding=encoding, unicode_errors=unicode_errors
        )
        if vectors.shape[1] != self.vector_size:
            raise SeqlabError(
                f"{fname}: vectors of dimension {vectors.shape[1]}, these have {self.vector_size}"
            )
        pairs = [(self.key_to_index[w], j) for j, w in enumerate(words) if w in self.key_to_index]
        if pairs:
            mine, theirs = map(list, zip(*pairs))
            self._writable_vectors()[mine] = vectors[theirs]
            self.norms = None
        return len(pairs)
