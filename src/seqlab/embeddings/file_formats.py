"""Every file this wing reads or writes: word2vec / GloVe vector files and seqlab's model archive.

The vector formats (Mikolov's word2vec.c; GloVe's glove.c for the headerless text), read and
written byte-compatibly with word2vec.c and gensim:
- word2vec text: a header line `N D`, then `word v1 ... vD` per line.
- word2vec binary: the same header, then per word `word<space>` followed by D little-endian
  float32 (word2vec.c also writes a newline after each vector; gensim does not; both are read).
- GloVe text: like word2vec text but with no header (D is taken from the first line).
- a vocabulary file (`fvocab`, word2vec.c's `-save-vocab`): `word count` per line.
Any of them may be gzip-compressed (by magic bytes when reading, by a `.gz` suffix when writing).

The model archive (`Word2Vec.save`, `GloVe.save`, `PPMI.save`): one .npz, never a pickle, with
`meta` (UTF-8 JSON: format name and version, class, config, stats, the words) and the model's
float arrays (`write_model` / `read_model`).

This module deals in plain data (a word list, an `(N, D)` float32 matrix, a dict), so it knows
nothing of `KeyedVectors` or the models, which build on it. Unlike gensim, which warns and carries
on, every way a vectors file can be wrong is refused with one line naming the file and the line
(text) or word number (binary): a header that disagrees with the rows or columns that follow, a
duplicate word, a NaN or infinite value, a value that is not a number. The error is a
`VectorsFormatError` (a `SeqlabError`, so the CLI prints one line, and a `ValueError`, what gensim
raises for a bad header); bytes that are not valid in `encoding` under `unicode_errors="strict"`
raise `VectorsDecodeError`, which is also a `UnicodeDecodeError`, as gensim's is.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np

from seqlab.errors import SeqlabError
from seqlab.files import atomic_path, check_readable, read_bytes


class VectorsFormatError(SeqlabError, ValueError):
    """A vectors or vocabulary file that is not what its format says; the message is one line."""


class TruncatedVectorsError(VectorsFormatError, EOFError):
    """A vectors file that ends before its header's count of words (an EOFError too, as gensim's)."""


class VectorsDecodeError(VectorsFormatError, UnicodeDecodeError):
    """Bytes that do not decode under `unicode_errors="strict"`; `str()` is seqlab's one line,
    and the `UnicodeDecodeError` fields (`encoding`, `object`, `start`, `end`, `reason`) are kept."""

    def __init__(self, message: str, cause: UnicodeDecodeError):
        UnicodeDecodeError.__init__(self, cause.encoding, cause.object, cause.start, cause.end, cause.reason)
        self.message = message

    def __str__(self) -> str:
        return self.message


# ---- reading ------------------------------------------------------------------------------------
def read_word2vec(
    path,
    binary: bool | None = None,
    no_header: bool = False,
    limit: int | None = None,
    encoding: str = "utf8",
    unicode_errors: str = "strict",
) -> tuple[list[str], np.ndarray]:
    """The words and their vectors `(N, D)` float32 from a word2vec or GloVe file.

    Args:
        binary: True for word2vec binary, False for text, None to sniff from the first record.
        no_header: the file is GloVe text (no `N D` line); only for text.
        limit: read only the first `limit` words (the header's N is then not checked against
            the rest of the file).
        encoding, unicode_errors: how words are decoded, as in `bytes.decode`; "replace" or
            "ignore" load words that word2vec.c cut inside a multibyte character.
    """
    p = check_readable(path)
    encoding = _encoding_name(encoding)
    data = _read_bytes(p)
    if no_header:
        if binary:
            raise VectorsFormatError("no_header is only supported for text files (GloVe format)")
        return _parse_text(
            data, p, header=False, limit=limit, encoding=encoding, unicode_errors=unicode_errors
        )
    if binary is None:
        binary = _sniff_binary(data, p)
    if binary:
        return _parse_binary(data, p, limit, encoding, unicode_errors)
    return _parse_text(data, p, header=True, limit=limit, encoding=encoding, unicode_errors=unicode_errors)


def read_vocab_counts(
    path, words: Sequence[str], encoding: str = "utf8", unicode_errors: str = "strict"
) -> np.ndarray:
    """Counts `(N,)` int64 for `words` from a `word count` file; 0 for a word the file lacks."""
    p = check_readable(path)
    text = _decode(_read_bytes(p), p, _encoding_name(encoding), unicode_errors)
    counts: dict[str, int] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            if len(parts) != 2:
                raise ValueError
            counts[parts[0]] = int(parts[1])
        except ValueError:
            raise VectorsFormatError(
                f"{p}: line {line_no} should be 'WORD COUNT', got {line[:60]!r}"
            ) from None
    return np.array([counts.get(w, 0) for w in words], dtype=np.int64)


def has_header(path) -> bool:
    """Whether the file starts with a word2vec `N D` line (else it is read as GloVe text)."""
    p = check_readable(path)
    with open(p, "rb") as f:
        head = f.read(4096)
    if head[:2] == b"\x1f\x8b":
        head = _read_bytes(p)[:4096]
    line = head[: max(head.find(b"\n"), 0) or len(head)].split()
    return len(line) == 2 and all(x.isdigit() for x in line)


def _read_bytes(p: Path) -> bytes:
    raw = read_bytes(p)
    if not raw.strip():
        raise VectorsFormatError(f"vectors file is empty: {p}")
    return raw


def _decode(data: bytes, p: Path, encoding: str, unicode_errors: str) -> str:
    try:
        return data.decode(encoding, errors=unicode_errors)
    except UnicodeDecodeError as e:
        line_no = data.count(b"\n", 0, e.start) + 1
        raise VectorsDecodeError(
            f"{p}: line {line_no} is not valid {encoding} text (a binary .bin file? a word cut "
            "inside a character loads with unicode_errors='replace')",
            e,
        ) from None


def _encoding_name(encoding: str) -> str:
    """'utf8' -> 'UTF-8': the codec's own name, for messages; an unknown one is refused."""
    try:
        return codecs.lookup(encoding).name.upper()
    except LookupError:
        raise VectorsFormatError(f"unknown encoding {encoding!r}") from None


def _parse_header(data: bytes, p: Path) -> tuple[int, int, int]:
    """(N, D, offset after the header line), or VectorsFormatError."""
    end = data.find(b"\n")
    line = data[: end if end >= 0 else len(data)]
    parts = line.split()
    try:
        if len(parts) != 2:
            raise ValueError
        n, d = int(parts[0]), int(parts[1])
    except ValueError:
        shown = line[:60].decode("utf-8", "replace")
        raise VectorsFormatError(
            f"{p}: line 1 should be the header 'NUM_WORDS DIM', got {shown!r} (a GloVe file "
            "without header loads with no_header=True)"
        ) from None
    if n <= 0 or d <= 0:
        raise VectorsFormatError(f"{p}: header says {n} words of dimension {d}; both must be positive")
    return n, d, (end + 1 if end >= 0 else len(data))


def _sniff_binary(data: bytes, p: Path) -> bool:
    """Text if the first record is a line of a word and numbers (of any count: a wrong count is
    then reported as text, line by line), binary otherwise."""
    _parse_header(data, p)
    off = data.find(b"\n") + 1
    end = data.find(b"\n", off)
    first = data[off : end if end >= 0 else len(data)]
    try:
        parts = first.decode("utf-8").rstrip().split(" ")
        [float(x) for x in parts[1:]]
        return len(parts) < 2
    except (UnicodeDecodeError, ValueError):
        return True


def _parse_text(
    data: bytes, p: Path, header: bool, limit: int | None, encoding: str, unicode_errors: str
) -> tuple[list[str], np.ndarray]:
    lines = _decode(data, p, encoding, unicode_errors).split("\n")
    while lines and lines[-1].strip() == "":  # trailing newline(s)
        lines.pop()
    start, d = 0, None
    if header:
        n, d, _ = _parse_header(data, p)
        start = 1
        body = len(lines) - 1
        if body < (n if limit is None else min(n, limit)):
            raise TruncatedVectorsError(
                f"{p}: truncated file: header says {n} words but only {body} lines follow"
            )
        if limit is None and body > n:
            raise VectorsFormatError(
                f"{p}: header says {n} words but {body} lines follow (wrong header, or files joined?)"
            )
    stop = len(lines) if limit is None else min(len(lines), start + limit)
    words: list[str] = []
    chunk: list[str] = []
    rows: list[np.ndarray] = []
    for i in range(start, stop):
        parts = lines[i].rstrip().split(" ")
        if d is None:
            d = len(parts) - 1
            if d < 1:
                raise VectorsFormatError(f"{p}: line {i + 1} has no numbers after the word")
        if len(parts) != d + 1:
            said = "the header's dimension" if header else "as line 1"
            raise VectorsFormatError(
                f"{p}: line {i + 1} has {len(parts) - 1} numbers, expected "
                f"{d} ({said}; wrong dimension or malformed line)"
            )
        words.append(parts[0])
        chunk.extend(parts[1:])
        if len(chunk) >= 1_000_000 or i == stop - 1:  # parse numbers in blocks: fast, bounded memory
            rows.append(_floats(chunk, d, p, first_line=i + 2 - len(chunk) // d))
            chunk = []
    if not words:
        raise VectorsFormatError(f"{p}: no vectors in file")
    vectors = np.concatenate(rows).reshape(len(words), d)  # (N, D)
    _check(words, vectors, p, first_line=start + 1)
    return words, vectors


def _floats(tokens: list[str], d: int, p: Path, first_line: int) -> np.ndarray:
    try:
        with np.errstate(over="ignore"):  # 1e40 becomes inf, which _check reports by line
            return np.array(tokens, dtype=np.float32)
    except ValueError:
        for j, tok in enumerate(tokens):
            try:
                float(tok)
            except ValueError:
                raise VectorsFormatError(
                    f"{p}: line {first_line + j // d}: {tok[:30]!r} is not a number"
                ) from None
        raise


def _parse_binary(
    data: bytes, p: Path, limit: int | None, encoding: str, unicode_errors: str
) -> tuple[list[str], np.ndarray]:
    n_header, d, pos = _parse_header(data, p)
    n = n_header if limit is None else min(n_header, limit)
    nbytes = 4 * d
    words: list[str] = []
    offsets = np.empty(n, dtype=np.int64)  # (N,) byte where each vector starts
    size = len(data)
    for i in range(n):
        while pos < size and data[pos] == 0x0A:  # word2vec.c writes "\n" after each vector
            pos += 1
        space = data.find(b" ", pos, pos + 10_000)
        if space < 0:
            if pos >= size:
                raise TruncatedVectorsError(
                    f"{p}: truncated file: header says {n_header} words but the file ends after {i}"
                )
            raise VectorsFormatError(
                f"{p}: word {i + 1} at byte {pos} is not followed by a "
                "space (malformed binary file or wrong dimension in header)"
            )
        try:
            word = data[pos:space].decode(encoding, errors=unicode_errors)
        except UnicodeDecodeError as e:
            raise VectorsDecodeError(
                f"{p}: word {i + 1} at byte {pos} is not valid {encoding} "
                "(wrong dimension in header, or a word cut inside a "
                "character: try unicode_errors='replace')",
                e,
            ) from None
        if not word or any(c in word for c in "\t\n\r\x00"):  # word2vec.c writes none of these
            raise VectorsFormatError(
                f"{p}: word {i + 1} at byte {pos} is empty or holds control "
                f"bytes (header says dimension {d}: is it wrong?)"
            )
        if space + 1 + nbytes > size:
            raise TruncatedVectorsError(
                f"{p}: truncated file: vector of word {i + 1} ({word!r}) is "
                f"cut short (header says {n_header} words of dimension {d})"
            )
        words.append(word)
        offsets[i] = space + 1
        pos = space + 1 + nbytes
    if limit is None and data[pos:].strip(b"\n"):
        raise VectorsFormatError(
            f"{p}: {len(data) - pos} bytes left after the {n} words the "
            f"header announces (wrong header: more words, or a dimension "
            f"other than {d}?)"
        )
    buf = np.frombuffer(data, dtype=np.uint8)
    gather = offsets[:, None] + np.arange(nbytes)[None, :]  # (N, 4D) byte positions
    vectors = buf[gather].view("<f4").reshape(n, d).astype(np.float32)  # (N, D)
    _check(words, vectors, p, first_line=None)
    return words, vectors


def _check(words: list[str], vectors: np.ndarray, p: Path, first_line: int | None) -> None:
    """Refuse NaN/inf values and duplicate words (gensim keeps the first and warns)."""

    def where(i: int) -> str:
        return f"line {first_line + i}" if first_line else f"word {i + 1}"

    finite = np.isfinite(vectors).all(axis=1)  # (N,)
    if not finite.all():
        bad = int(np.argmin(finite))
        raise VectorsFormatError(f"{p}: {where(bad)} ({words[bad]!r}) has a NaN or infinite value")
    seen: dict[str, int] = {}
    for i, w in enumerate(words):
        if w in seen:
            raise VectorsFormatError(
                f"{p}: {where(i)}: duplicate word {w!r} (first seen at {where(seen[w])})"
            )
        seen[w] = i


# ---- writing ------------------------------------------------------------------------------------
def write_word2vec(
    path,
    keys: Sequence,
    vectors: np.ndarray,
    binary: bool,
    write_header: bool = True,
    total_vec: int | None = None,
    prefix: str = "",
    append: bool = False,
) -> None:
    """Write `keys` and their rows of `vectors` (N, D) in word2vec text or binary format.

    The file is written to a temporary file and renamed, so an interrupted save keeps the old
    one; `append` copies the old file into the temporary file first. Text numbers use `%.9g`,
    which round-trips float32 exactly. `write_header=False` gives GloVe's headerless text;
    `total_vec` overrides the header's N (gensim's, for files appended to later); `prefix` goes
    before every word. A `.gz` suffix writes gzip.
    """
    path = Path(path)
    names = [f"{prefix}{k}" for k in keys]
    for name in names:
        if not name or any(c.isspace() for c in name):
            raise SeqlabError(f"cannot save word {name!r}: word2vec format needs words without whitespace")
    vecs = np.ascontiguousarray(vectors, dtype="<f4")  # (N, D) little-endian float32
    n, d = vecs.shape
    with _open_for_write(path, append) as f:
        if write_header:
            f.write(f"{n if total_vec is None else total_vec} {d}\n".encode())
        if binary:
            for name, row in zip(names, vecs):
                f.write(name.encode("utf-8") + b" " + row.tobytes())
        else:
            fmt = " ".join(["%.9g"] * d)
            for name, row in zip(names, vecs.tolist()):
                f.write(name.encode("utf-8") + b" " + (fmt % tuple(row)).encode() + b"\n")


def write_vocab(path, keys: Sequence, counts: Sequence[int], prefix: str = "", append: bool = False) -> None:
    """Write word2vec.c's vocabulary file: `word count` per line, atomically."""
    with _open_for_write(Path(path), append) as f:
        for key, count in zip(keys, counts):
            f.write(f"{prefix}{key} {int(count)}\n".encode())


@contextmanager
def _open_for_write(path: Path, append: bool) -> Iterator[IO[bytes]]:
    """A binary file handle on a temporary path that replaces `path` on success (see atomic_path)."""
    with atomic_path(path) as tmp:
        if append and path.exists():
            shutil.copyfile(path, tmp)  # gzip members concatenate, so .gz appends too
        opener = gzip.open if path.suffix.lower() == ".gz" else open
        with opener(tmp, "ab") as f:
            yield f


def binary_from_suffix(path: str | os.PathLike) -> bool:
    """`.bin` (or `.bin.gz`) means binary; any other name means text."""
    name = Path(path).name.lower()
    return name.removesuffix(".gz").endswith(".bin")


# ---- the model archive ----------------------------------------------------------------------
MODEL_FORMAT = "seqlab-embedding-model"
MODEL_FORMAT_VERSION = 1


def write_model(path, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write `meta` (JSON-able; numpy scalars allowed) and named `arrays` to one .npz, atomically.

    The format name and version are added to `meta`; `arrays` must not use the name "meta".
    """
    meta = {"format": MODEL_FORMAT, "version": MODEL_FORMAT_VERSION, **meta}
    blob = np.frombuffer(json.dumps(meta, default=_jsonable).encode("utf-8"), dtype=np.uint8)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, meta=blob, **arrays)


def read_model(path) -> tuple[Path, dict, dict[str, np.ndarray]]:
    """(checked path, meta, arrays) of a file written by `write_model`; SeqlabError (one line)
    for a damaged or foreign file, or another version of the format."""
    p = check_readable(path)
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    except Exception as e:  # zip, npy, JSON and key errors all mean: not our file
        raise SeqlabError(f"{p}: not a seqlab model file ({_one_line(e)})") from None
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise SeqlabError(f"{p}: not a seqlab model file (no {MODEL_FORMAT!r} header)")
    if meta.get("version") != MODEL_FORMAT_VERSION:
        raise SeqlabError(
            f"{p}: model file version {meta.get('version')!r}; this seqlab "
            f"reads version {MODEL_FORMAT_VERSION}"
        )
    return p, meta, arrays


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _jsonable(x):
    try:
        return x.item()  # numpy scalars
    except AttributeError:
        return str(x)
