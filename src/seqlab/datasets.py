"""Named datasets: where their files live. SEQLAB_DATA points at the data folder (../shared/data)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from seqlab.errors import SeqlabError

# Relative paths inside the data folder (see ../shared/data/README.md for provenance).
NAMED_FILES = {
    "names": "names/makemore_names.txt",
    "tinyshakespeare": "tinyshakespeare/input.txt",
    "latex": "latex/stacks_schemes.tex",
    "linux_c": "linux_c/linux_kernel.txt",
    "word2vec_corpus": "word2vec_corpus/gutenberg8.txt.gz",
    "questions-words": "word_eval/questions-words.txt",
    "wordsim353": "word_eval/wordsim353.tsv",
    "simlex999": "word_eval/simlex999.txt",
    "eng-fra": "translation/eng-fra.txt",
    "sentence_classification": "sentence_classification",
}


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data folder: `explicit`, else $SEQLAB_DATA, else ../shared/data next to a checkout."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("SEQLAB_DATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        cand = parent / "shared" / "data"
        if cand.is_dir():
            return cand
    raise SeqlabError("data folder not found: set SEQLAB_DATA to the folder holding the datasets")


def cache_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Where trained models are cached (the names model): `explicit`, else $SEQLAB_CACHE, else
    ~/.cache/seqlab."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("SEQLAB_CACHE") or Path.home() / ".cache" / "seqlab")


def dataset_path(name: str, root: str | os.PathLike | None = None) -> Path:
    """Path of a named dataset file or folder; a clear error if the name or the file is unknown."""
    if name not in NAMED_FILES:
        raise SeqlabError(f"unknown dataset {name!r}; known: {', '.join(sorted(NAMED_FILES))}")
    p = data_dir(root) / NAMED_FILES[name]
    if not p.exists():
        raise SeqlabError(f"dataset {name!r} not found at {p} (set SEQLAB_DATA)")
    return p


def resolve_file(spec: str | os.PathLike) -> Path:
    """A path as given, or the file of a named dataset when no such path exists ("tinyshakespeare",
    "eng-fra", ...). The path itself is checked by whoever reads it."""
    p = Path(spec)
    if not p.exists() and str(spec) in NAMED_FILES:
        return dataset_path(str(spec))
    return p


def bundled_names_dir() -> Path:
    """The names lists shipped inside the package (makemore's names.txt and the 18 languages)."""
    return Path(str(resources.files("seqlab") / "resources" / "names"))


def bundled_names_file() -> Path:
    return bundled_names_dir() / "makemore_names.txt"


def language_files() -> dict[str, Path]:
    """Language name -> surname file, from the bundled PyTorch-tutorial set (18 languages)."""
    d = bundled_names_dir() / "by_language"
    return {p.stem: p for p in sorted(d.glob("*.txt"))}
