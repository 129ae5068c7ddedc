"""The names model behind `seqlab names` and `seqlab.generate_names`: a character-level LSTM on a
list of names, trained once and cached, then sampled until enough new names are found.

    seqlab.generate_names(10, seed=1)                   # makemore's 32K US names (shipped)
    seqlab.generate_names(5, language="Russian")        # conditioned on 18 languages of surnames

The cache key is a hash of the training lines and NAMES_MODEL_VERSION, so another list (or new
defaults) trains a new model; the cache lives in $SEQLAB_CACHE or ~/.cache/seqlab.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from seqlab import datasets
from seqlab.charlm import corpus as lmcorpus
from seqlab.charlm.config import LMTrainConfig
from seqlab.charlm.language_model import CharLM
from seqlab.charlm.train import train_lm
from seqlab.errors import ParameterError, SeqlabError

NAMES_MODEL_VERSION = "names-v1"  # bump when the names defaults change, so caches retrain
MAX_DRAWS = 50  # rounds of drawing before giving up on finding n new names


@dataclass
class NamesModel:
    """A trained names model, the names it learned from, and the category it draws (language)."""

    lm: CharLM
    known: frozenset[str]
    category: str | None
    run_dir: Path

    @classmethod
    def load_or_train(
        cls,
        language: str | None = None,
        data: str | os.PathLike | None = None,
        train_minutes: float = 2.0,
        retrain: bool = False,
        cache_dir: str | os.PathLike | None = None,
        on_train: Callable[[str], None] | None = None,
    ) -> NamesModel:
        """The cached model for these names, trained first if there is none (about 2 minutes).

        language: one of the 18 languages of the bundled surnames (a model conditioned on the
        language is trained on all of them). data: a file of names, one per line, instead of the
        bundled makemore list. on_train(message) is called before and after a training run.
        """
        if language and data:
            raise ParameterError(
                "language", "draws from the bundled surnames; it cannot be combined with data"
            )
        if language:
            files = datasets.language_files()
            match = {k.lower(): k for k in files}.get(language.lower())
            if match is None:
                raise SeqlabError(f"unknown language {language!r}; known: {', '.join(files)}")
            lines, cats, cat_names = lmcorpus.categorised_lines(files)
            known = frozenset(ln for ln, c in zip(lines, cats) if c == cat_names.index(match))
            source = "by_language"
        else:
            path = Path(data) if data else datasets.bundled_names_file()
            lines, cats, cat_names, match = lmcorpus.read_lines(path), None, None, None
            known = frozenset(lines)
            source = "data"
        key = hashlib.sha256(
            ("\n".join(lines) + f"|{cats is not None}|{NAMES_MODEL_VERSION}").encode()
        ).hexdigest()[:16]
        run = datasets.cache_dir(cache_dir) / f"names-{key}"
        if retrain and run.exists():
            shutil.rmtree(run)
        if not (run / "model.pt").exists():
            _train(
                run,
                lmcorpus.lines_corpus(lines, 0.05, 1337, cats, cat_names),
                train_minutes,
                on_train,
                f"{len(lines):,} {source} lines",
            )
        return cls(CharLM.load(run), known, match, run)

    def generate(
        self,
        n: int = 20,
        start: str = "",
        temperature: float = 1.0,
        seed: int | None = None,
        allow_known: bool = False,
        generator: torch.Generator | None = None,
    ) -> list[str]:
        """Up to n distinct names beginning with `start`, drawn in rounds until n are found; names of
        the training list are skipped unless allow_known (fewer than n come back only when
        MAX_DRAWS rounds found no more: raise the temperature)."""
        if n < 1:
            raise ParameterError("n", f"must be at least 1, got {n}")
        gen = generator or torch.Generator().manual_seed(seed if seed is not None else torch.seed() % 2**62)
        found: list[str] = []
        seen: set[str] = set()
        rows = min(2 * n + 8, 256)  # about half the draws are new names; each step costs per row
        for _ in range(MAX_DRAWS):
            lines = self.lm.sample_lines(rows, start, self.category, temperature, generator=gen)
            rows = min(2 * rows, 512)  # a start or temperature that gives few new names: draw more next round
            for name in lines:
                if not name or name in seen or (not allow_known and name in self.known):
                    continue
                seen.add(name)
                found.append(name)
                if len(found) == n:
                    return found
        return found


def _train(run: Path, corpus, minutes: float, on_train, what: str) -> None:
    """Train into a temporary directory beside `run`, then rename it: a cache entry is whole or absent."""
    cfg = LMTrainConfig(mode="lines", max_minutes=minutes, eval_every=100, patience=20)
    if on_train:
        on_train(f"training a names model on {what} (first run only, up to {minutes:g} min; cached in {run})")
    run.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".names-", dir=run.parent))
    try:
        m = train_lm(corpus, cfg, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if run.exists():
        shutil.rmtree(run)
    os.replace(tmp, run)
    if on_train:
        on_train(
            f"trained: validation loss {m['val_loss']:.3f} nats/char after {m['steps']} steps, "
            f"{m['seconds']:.0f} s"
        )


def generate_names(
    n: int = 20,
    language: str | None = None,
    start: str = "",
    temperature: float = 1.0,
    seed: int | None = None,
    *,
    allow_known: bool = False,
    data: str | os.PathLike | None = None,
    train_minutes: float = 2.0,
    cache_dir: str | os.PathLike | None = None,
) -> list[str]:
    """n new names from the same cached model as `seqlab names` (trained on first use).

    language: draw surnames of one of 18 languages (e.g. "Russian"). start: a prefix every name
    begins with. temperature: < 1 safer, > 1 wilder. seed: same seed, same names. allow_known:
    also return names that are in the training list.
    """
    model = NamesModel.load_or_train(language, data, train_minutes, cache_dir=cache_dir)
    return model.generate(n, start, temperature, seed, allow_known)
