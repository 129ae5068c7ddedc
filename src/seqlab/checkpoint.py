"""Checkpoints: plain dicts of tensors and primitives, written atomically, loaded with weights_only.

Layout: {"format": "seqlab", "version": 1, "kind": <"charlm" | "textcnn" | ...>, ...payload}.
Loading never unpickles arbitrary objects (torch.load(weights_only=True)); anything that is not a
seqlab checkpoint of the expected kind raises SeqlabError with one clear line.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

from seqlab.errors import SeqlabError
from seqlab.files import atomic_path

FORMAT = "seqlab"
VERSION = 1

# what each kind holds, for the line that says a run is of another kind than the command expects
KINDS = {
    "charlm": "a character-level language model (seqlab lm train; use seqlab lm sample / eval)",
    "charlm-train": "the training state of a language model (RUN/last.pt; its model is RUN/model.pt)",
    "translate": "a translation model (seqlab translate train; use seqlab translate RUN / eval)",
    "translate-train": "the training state of a translation model (RUN/last.pt; its model is RUN/model.pt)",
    "sentence-classifier": "a sentence classifier (seqlab classify train; use seqlab classify predict)",
}


def save_checkpoint(path: str | os.PathLike, kind: str, payload: dict) -> None:
    """Write {format, version, kind, **payload} to `path` via a temp file and an atomic rename."""
    obj = {"format": FORMAT, "version": VERSION, "kind": kind, **payload}
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> dict:
    """Load a checkpoint safely; raise SeqlabError if missing, corrupt, foreign or of another kind."""
    p = Path(path)
    if not p.is_file():
        raise SeqlabError(f"checkpoint not found: {p}")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt zip, foreign pickle with disallowed globals, truncated file...
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        first = first.split(". ")[0][:120]  # torch's first sentence says what broke
        with open(p, "rb") as f:
            if f.read(4) != b"PK\x03\x04":  # torch.save writes a zip archive
                first = "not a zip archive, as torch.save writes"
        raise SeqlabError(
            f"cannot load checkpoint {p}: damaged, truncated or not a seqlab checkpoint ({first})"
        ) from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise SeqlabError(f"{p} is not a seqlab checkpoint")
    version = obj.get("version")
    if isinstance(version, int) and version > VERSION:
        raise SeqlabError(
            f"{p} was written by a newer seqlab (checkpoint format {version}; this one reads "
            f"format {VERSION}): upgrade seqlab to use it"
        )
    if version != VERSION:
        raise SeqlabError(
            f"{p}: unsupported checkpoint format {version!r} (this seqlab reads format {VERSION})"
        )
    if kind is not None and obj.get("kind") != kind:
        found = KINDS.get(obj.get("kind"), f"a {obj.get('kind')!r} checkpoint")
        wanted = KINDS.get(kind, repr(kind)).split(" (")[0]
        raise SeqlabError(f"{p} holds {found}, not {wanted}")
    return obj


def pack_numpy_state(state: tuple) -> list:
    """A NumPy MT19937 state tuple (np.random.get_state(), RandomState.get_state()) as a
    weights_only-loadable list; `unpack_numpy_state` inverts it."""
    return [state[0], torch.from_numpy(state[1].astype(np.int64)), *state[2:]]


def unpack_numpy_state(packed: list) -> tuple:
    return (packed[0], packed[1].numpy().astype(np.uint32), *packed[2:])


def rng_state() -> dict:
    """Python, NumPy and torch RNG states in a weights_only-loadable form."""
    return {
        "python": random.getstate(),
        "numpy": pack_numpy_state(np.random.get_state()),
        "torch": torch.get_rng_state(),
    }


def set_rng_state(state: dict) -> None:
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    np.random.set_state(unpack_numpy_state(state["numpy"]))
    torch.set_rng_state(state["torch"])
