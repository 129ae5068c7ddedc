"""The vocabulary-and-matrix half of `KeyedVectors`: keys mapped to rows, per-key attributes, norms.

`VocabMatrix` is the part of gensim 4's `KeyedVectors` that is bookkeeping, not geometry:
building (`VocabMatrix(vector_size, count=0, dtype)`, `from_arrays`, `add_vector`,
`add_vectors`, `kv[key] = vector`, `resize_vectors`, `vectors_for_all`), looking up
(`get_index`, `get_vector`, `kv[key]`, `key in kv`, `get_mean_vector`), per-key attributes
(`expandos`, `set_vecattr` / `get_vecattr`, "count"), reordering
(`sort_by_descending_frequency`), and the norms every cosine query needs (`norms`,
`fill_norms`, `get_normed_vectors`, `unit_normalize_all`). The similarity queries, evaluation and
the file methods live in `seqlab.embeddings.keyedvectors.KeyedVectors`, its one subclass.

Rows are `(N, D)` in vocabulary order. The unit-length copy is cached and read-only, so a
read-only memory map (pretrained GloVe) works; code that changes `vectors` in place sets
`kv.norms = None` (gensim's contract), which also drops that copy. Unlike gensim,
`add_vectors` fills the slots preallocated by `count` before growing the matrix, and a zero
vector stays zero when normalised (cosine 0, not NaN).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Integral

import numpy as np

from seqlab.errors import SeqlabError

KEY_TYPES = (str, int, np.integer)  # a single key, as opposed to a list of keys (gensim's rule)


class UnknownWordError(SeqlabError, KeyError):
    """A key that is not in the vocabulary. A KeyError like gensim's; `str()` is the plain line
    (KeyError alone would quote it)."""

    def __str__(self) -> str:
        return str(self.args[0])


class VocabMatrix:
    """A vocabulary (`index_to_key`, `key_to_index`) and one vector per key, gensim 4 style.

    Args:
        vector_size: dimension D of every vector.
        count: rows to preallocate; `add_vector` fills them in order before growing the matrix.
        dtype: float type of `vectors` (float32 unless you need otherwise).

    Attributes:
        vectors: (N, D) array; row i belongs to `index_to_key[i]`.
        expandos: per-key extra attributes, attribute name -> (N,) array ("count" holds corpus
            frequencies when known); use `get_vecattr` / `set_vecattr`.
        next_index: the next preallocated slot `add_vector` fills (rows from here on are empty).
    """

    def __init__(self, vector_size: int, count: int = 0, dtype=np.float32):
        if isinstance(vector_size, bool) or not isinstance(vector_size, Integral) or vector_size < 1:
            raise SeqlabError(
                f"{type(self).__name__}(vector_size, count=0, dtype=float32) takes the dimension "
                f"first, as in gensim; got {type(vector_size).__name__}. To build from words and a "
                f"matrix use {type(self).__name__}.from_arrays(words, vectors)"
            )
        self.vector_size = int(vector_size)
        self.index_to_key: list = [None] * count
        self.key_to_index: dict = {}
        self.next_index = 0
        self.vectors: np.ndarray = np.zeros((count, self.vector_size), dtype=dtype)  # (N, D)
        self.expandos: dict[str, np.ndarray] = {}
        self.norms = None

    @classmethod
    def from_arrays(
        cls, words: Sequence[str], vectors: np.ndarray, counts: Sequence[int] | None = None
    ) -> VocabMatrix:
        """Vectors for `words` (unique, in row order) from a matrix: how seqlab's trainers build one.

        Args:
            vectors: (N, D); converted to float32 unless it already is (a float32 memory map is
                kept as is, not copied).
            counts: optional corpus frequencies (N,), stored as the "count" attribute, which
                `save_word2vec_format(fvocab=...)` writes and `sort_by_descending_frequency` sorts by.
        """
        if not isinstance(vectors, np.ndarray):  # keeps an np.memmap as is
            vectors = np.asarray(vectors)
        if vectors.dtype != np.float32:
            vectors = vectors.astype(np.float32)
        if vectors.ndim != 2 or vectors.shape[1] < 1:
            raise SeqlabError(f"vectors must be a 2-D array (words x dims), got shape {vectors.shape}")
        keys = list(words)
        if len(keys) != vectors.shape[0]:
            raise SeqlabError(f"{len(keys)} words but {vectors.shape[0]} vectors")
        kv = cls(vectors.shape[1])
        kv.key_to_index = _unique_index(keys)
        kv.index_to_key, kv.vectors, kv.next_index = keys, vectors, len(keys)
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(keys),):
                raise SeqlabError(f"counts has shape {counts.shape}, expected ({len(keys)},)")
            kv.expandos["count"] = counts
        return kv

    # ---- vocabulary and per-key attributes ----------------------------------------------------
    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key) -> bool:
        return self.has_index_for(key)

    def has_index_for(self, key) -> bool:
        return self.get_index(key, -1) >= 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}<vector_size={self.vector_size}, {len(self)} keys>"

    def get_index(self, key, default: int | None = None) -> int:
        """Row of `key`; an int in range is its own row (gensim's rule). A missing key returns
        `default` if given, else raises UnknownWordError naming it."""
        try:
            index = self.key_to_index.get(key, -1)
        except TypeError:  # unhashable, e.g. a list
            index = -1
        if index >= 0:
            return index
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and 0 <= key < len(self):
            return int(key)
        if default is not None:
            return default
        hint = ""
        if isinstance(key, str) and key.lower() != key and key.lower() in self.key_to_index:
            hint = f" (did you mean {key.lower()!r}?)"
        raise UnknownWordError(f"word not in vocabulary: {key!r}{hint}")

    def allocate_vecattrs(self, attrs=None, types=None) -> None:
        """Make one (N,) array per attribute in `expandos` (all of them if `attrs` is None), grown
        or created to the vocabulary size; a type other than the existing one is refused."""
        if attrs is None:
            attrs = list(self.expandos)
            types = [self.expandos[a].dtype for a in attrs]
        for attr, t in zip(attrs, types):
            t = np.int64 if t is int else object if t is str else t
            old = self.expandos.get(attr)
            if old is None:
                self.expandos[attr] = np.zeros(len(self), dtype=t)
                continue
            if not np.issubdtype(t, old.dtype):
                raise SeqlabError(f"attribute {attr!r} holds {old.dtype}, cannot store {t}")
            if len(old) != len(self):
                grown = np.zeros(len(self), dtype=old.dtype)
                keep = min(len(old), len(self))
                grown[:keep] = old[:keep]
                self.expandos[attr] = grown

    def set_vecattr(self, key, attr: str, val) -> None:
        """Store attribute `attr` (e.g. "count") of `key`."""
        self.allocate_vecattrs([attr], [type(val)])
        self.expandos[attr][self.get_index(key)] = val

    def get_vecattr(self, key, attr: str):
        """Attribute `attr` of `key`, as stored by `set_vecattr` or a loader ("count")."""
        index = self.get_index(key)
        if attr not in self.expandos:
            raise SeqlabError(f"no attribute {attr!r} stored (have: {sorted(self.expandos)})")
        return self.expandos[attr][index]

    # ---- adding and changing vectors ----------------------------------------------------------
    def add_vector(self, key, vector) -> int:
        """Add one key; it takes the next preallocated slot, else the matrix grows. Returns its row."""
        self.add_vectors([key], np.asarray(vector).reshape(1, -1))
        return self.key_to_index[key]

    def add_vectors(self, keys, weights, extras: dict | None = None, replace: bool = False) -> None:
        """Add keys with their vectors; a key already present keeps its vector unless `replace`.

        Args:
            keys: one key, or a list of distinct keys (K).
            weights: one vector (D,), or (K, D) as an array or a list of vectors; cast to the
                dtype of `vectors`.
            extras: optional attribute name -> (K,) values, stored like `set_vecattr`.
        """
        if isinstance(keys, KEY_TYPES):
            keys, weights = [keys], np.asarray(weights).reshape(1, -1)
        keys, weights = list(keys), np.asarray(weights)
        if weights.shape != (len(keys), self.vector_size):
            raise SeqlabError(
                f"{len(keys)} keys need weights of shape ({len(keys)}, "
                f"{self.vector_size}), got {weights.shape}"
            )
        new = [i for i, k in enumerate(keys) if k not in self.key_to_index]
        old = [i for i, k in enumerate(keys) if k in self.key_to_index]
        _unique_index([keys[i] for i in new])  # two new rows for one key would lose one
        grow = len(new) - (len(self) - self.next_index)  # beyond the preallocated, empty slots
        if grow > 0:
            self.vectors = np.concatenate(
                [self.vectors, np.zeros((grow, self.vector_size), dtype=self.vectors.dtype)]
            )
            self.index_to_key.extend([None] * grow)
        rows = list(range(self.next_index, self.next_index + len(new)))
        for row, i in zip(rows, new):
            self.index_to_key[row] = keys[i]
            self.key_to_index[keys[i]] = row
        self.next_index += len(new)
        targets = new + old if replace else new
        rows += [self.key_to_index[keys[i]] for i in old] if replace else []
        self._writable_vectors()[rows] = weights[targets]
        self.allocate_vecattrs()
        for attr, values in (extras or {}).items():
            values = np.asarray(values)
            self.allocate_vecattrs([attr], [values.dtype])
            self.expandos[attr][rows] = values[targets]
        self.norms = None

    def __setitem__(self, keys, weights) -> None:
        """`kv[key] = vector` or `kv[[k1, k2]] = (2, D)`: add, or replace existing vectors."""
        if not isinstance(keys, list):
            keys, weights = [keys], np.asarray(weights).reshape(1, -1)
        self.add_vectors(keys, weights, replace=True)

    def _writable_vectors(self) -> np.ndarray:
        if not self.vectors.flags.writeable:  # a read-only memory map: change a private copy
            self.vectors = np.array(self.vectors)
        return self.vectors

    def resize_vectors(self, seed: int = 0) -> None:
        """Match `vectors` to `index_to_key`, new rows uniform in [-1/D, 1/D) (gensim's init)."""
        target = (len(self), self.vector_size)
        if self.vectors.shape != target:
            rng = np.random.default_rng(seed=seed)
            fresh = rng.random(target, dtype=np.float32) * 2.0 - 1.0  # [-1, 1)
            fresh /= self.vector_size
            keep = min(len(self.vectors), target[0])
            fresh[:keep] = self.vectors[:keep]
            self.vectors = fresh.astype(self.vectors.dtype, copy=False)
        self.allocate_vecattrs()
        self.norms = None

    def sort_by_descending_frequency(self) -> None:
        """Reorder rows by the "count" attribute, highest first; ties as gensim (later row first)."""
        if not len(self):
            return
        if "count" not in self.expandos:
            raise SeqlabError(
                "sort_by_descending_frequency needs word counts (the 'count' "
                "attribute; see from_arrays(counts=...) or set_vecattr)"
            )
        counts = np.asarray(self.expandos["count"], dtype=np.int64)
        order = np.lexsort((-np.arange(len(counts)), -counts))
        self.index_to_key = [self.index_to_key[i] for i in order]
        self.key_to_index = {k: i for i, k in enumerate(self.index_to_key)}
        self.expandos = {attr: values[order] for attr, values in self.expandos.items()}
        self.vectors = self.vectors[order]
        self.norms = None

    def vectors_for_all(
        self, keys: Iterable, allow_inference: bool = True, copy_vecattrs: bool = False
    ) -> VocabMatrix:
        """A new object of this class with the known ones of `keys` (deduplicated, in order).

        Its "count" attribute is made up in descending order, as gensim's loader does, unless
        `copy_vecattrs` copies every attribute of these keys from this object.
        (`allow_inference` only matters to fastText-like subclasses that invent vectors.)
        """
        known = self if allow_inference else self.key_to_index
        vocab = list(dict.fromkeys(k for k in keys if k in known))
        kv = type(self)(self.vector_size, dtype=self.vectors.dtype)
        if vocab:
            kv.add_vectors(vocab, self[vocab])
        kv.expandos["count"] = np.arange(len(vocab), 0, -1, dtype=np.int64)
        if copy_vecattrs:
            rows = [self.get_index(k) for k in vocab]
            kv.expandos.update({attr: values[rows] for attr, values in self.expandos.items()})
        return kv

    # ---- vectors and norms --------------------------------------------------------------------
    def get_vector(self, key, norm: bool = False) -> np.ndarray:
        """The vector of `key` (D,), read-only (it may be a view of `vectors`); unit length if `norm`."""
        index = self.get_index(key)
        vec = self.get_normed_vectors()[index] if norm else self.vectors[index]
        vec.setflags(write=False)
        return vec

    def __getitem__(self, key_or_keys):
        """`kv["word"]` -> (D,); `kv[["a", "b"]]` -> (2, D)."""
        if isinstance(key_or_keys, KEY_TYPES):
            return self.get_vector(key_or_keys)
        return np.vstack([self.get_vector(k) for k in key_or_keys])

    @property
    def norms(self) -> np.ndarray | None:
        """L2 norm of each row (N,), or None until `fill_norms`; set to None after changing
        `vectors` in place."""
        return self._norms

    @norms.setter
    def norms(self, value) -> None:
        self._norms = value
        self._normed = None  # the unit-length copy depends on the norms

    def fill_norms(self, force: bool = False) -> None:
        """Compute `norms` if they are missing (or always, with `force`)."""
        if self._norms is None or force:
            self.norms = np.linalg.norm(self.vectors, axis=1)  # (N,)

    def get_normed_vectors(self) -> np.ndarray:
        """Unit-length rows (N, D), computed once and read-only; zero rows stay zero."""
        if self._normed is None:
            self.fill_norms()
            safe = np.where(self._norms > 0, self._norms, 1)[:, None]  # (N, 1)
            normed = (self.vectors / safe).astype(self.vectors.dtype, copy=False)
            normed.setflags(write=False)
            self._normed = normed
        return self._normed

    def unit_normalize_all(self) -> None:
        """Scale every vector to unit length, for good (a memory-mapped matrix becomes a copy)."""
        self.vectors = np.array(self.get_normed_vectors())
        self.fill_norms(force=True)

    def get_mean_vector(
        self,
        keys,
        weights=None,
        pre_normalize: bool = True,
        post_normalize: bool = False,
        ignore_missing: bool = True,
    ) -> np.ndarray:
        """Weighted mean (D,) of keys and/or vectors, divided by the sum of |weights|.

        Args:
            keys: words, row numbers or vectors (D,) (a 2-D array counts as its rows).
            weights: one per key (default 1).
            pre_normalize: use unit-length word vectors (given vectors are used as they are).
            post_normalize: return the mean at unit length.
            ignore_missing: skip unknown words; if False they raise UnknownWordError.
        """
        if len(keys) == 0:
            raise SeqlabError("cannot compute a mean of no keys")
        weights = np.ones(len(keys)) if weights is None else np.asarray(weights, dtype=self.vectors.dtype)
        if weights.shape != (len(keys),):
            raise SeqlabError(f"{len(keys)} keys but weights of shape {weights.shape}")
        mean = np.zeros(self.vector_size, dtype=self.vectors.dtype)
        total = 0.0
        for key, w in zip(keys, weights):
            if isinstance(key, np.ndarray):
                vec = self._query_vector(key)
            elif ignore_missing and not self.has_index_for(key):
                continue
            else:
                vec = self.get_vector(key, norm=pre_normalize)
            mean += w * vec
            total += abs(w)
        if total > 0:
            mean /= total
        return unit(mean) if post_normalize else mean

    def _query_vector(self, vec: np.ndarray) -> np.ndarray:
        if vec.shape != (self.vector_size,):
            raise SeqlabError(f"query vector has shape {vec.shape}, expected ({self.vector_size},)")
        return vec.astype(self.vectors.dtype, copy=False)


def unit(vec: np.ndarray) -> np.ndarray:
    """`vec` scaled to length 1 (a zero vector is returned as is)."""
    n = np.linalg.norm(vec)
    return vec / n if n > 0 else vec


def _unique_index(keys: list) -> dict:
    """key -> position, refusing a key that appears twice."""
    index = {k: i for i, k in enumerate(keys)}
    if len(index) != len(keys):
        seen: set = set()
        dup = next(k for k in keys if k in seen or seen.add(k))
        raise SeqlabError(f"duplicate word in vocabulary: {dup!r}")
    return index
