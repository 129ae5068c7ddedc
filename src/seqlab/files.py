"""Reading user files safely and writing files atomically (temp file + rename).

Every reader turns the usual ways a file is wrong (missing, a directory, empty, binary,
invalid UTF-8) into a one-line SeqlabError, so the CLI never shows a traceback.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from seqlab.errors import SeqlabError


def check_readable(path: str | os.PathLike) -> Path:
    """Return `path` as a Path if it is an existing, non-empty regular file, else raise SeqlabError."""
    p = Path(path)
    if not p.exists():
        raise SeqlabError(f"file not found: {p}")
    if p.is_dir():
        raise SeqlabError(f"expected a file but got a directory: {p}")
    if p.stat().st_size == 0:
        raise SeqlabError(f"file is empty: {p}")
    return p


def read_bytes(path: str | os.PathLike) -> bytes:
    """The whole contents of a file, gunzipped when it starts with gzip's magic bytes; a missing,
    empty or corrupt (e.g. truncated) gzip file is a SeqlabError."""
    p = check_readable(path)
    raw = p.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise SeqlabError(f"corrupt gzip file: {p} ({e})") from None
    return raw


def read_text(path: str | os.PathLike) -> str:
    """Read a whole UTF-8 text file (gzip allowed, by magic bytes), rejecting binary and empty files."""
    p = check_readable(path)
    raw = read_bytes(p)
    if b"\x00" in raw[:65536]:
        raise SeqlabError(f"file looks binary (contains NUL bytes), expected UTF-8 text: {p}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SeqlabError(f"file is not valid UTF-8 text: {p} (byte {e.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise SeqlabError(f"file has no text (only whitespace): {p}")
    return text


def open_text_stream(path: str | os.PathLike) -> IO[str]:
    """Open a (possibly gzip-compressed) UTF-8 text file for streaming line by line."""
    p = check_readable(path)
    with open(p, "rb") as f:
        head = f.read(65536)
    if head[:2] == b"\x1f\x8b":
        return gzip.open(p, "rt", encoding="utf-8")
    if b"\x00" in head:
        raise SeqlabError(f"file looks binary (contains NUL bytes), expected UTF-8 text: {p}")
    return open(p, encoding="utf-8")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it over `path`, on error delete it.

    A reader never sees a half-written file, and an interrupted write leaves the old one intact.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the file ordinary permissions
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | os.PathLike, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def fingerprint(path: str | os.PathLike) -> dict:
    """What a resumed run checks to know it still reads the data it was trained on: the absolute
    path, the size in bytes and the SHA-256 of the contents."""
    import hashlib

    p = check_readable(path)
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"path": str(p.resolve()), "size": p.stat().st_size, "sha256": h.hexdigest()}


def check_fingerprint(saved: dict | None, path: str | os.PathLike, run: str | os.PathLike) -> None:
    """SeqlabError naming the difference when `path` is not the file the run in `run` was trained on."""
    if not saved:
        return  # a run from before fingerprints were recorded
    now = fingerprint(path)
    if now["sha256"] == saved["sha256"]:
        return
    if now["path"] != saved["path"]:
        raise SeqlabError(
            f"{run} was trained on {saved['path']}, not {now['path']}; resume with the same data "
            "or train a new run with another -o"
        )
    raise SeqlabError(
        f"{now['path']} has changed since {run} was trained on it ({saved['size']:,} bytes then, "
        f"{now['size']:,} now); resume needs the same data"
    )
