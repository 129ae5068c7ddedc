"""The names model behind `seqlab names` and `seqlab.generate_names`: a character-level LSTM on a
list of names, trained once and cached, then sampled until enough new names are found.

    seqlab.generate_names(10, seed=1)                   # makemore's 32K US names (shipped)
    seqlab.generate_names(5, language="Russian")        # conditioned on 18 languages of surnames

The cache key holds everything that changes the model: the training lines (the bundled list, the
18 languages or a file of your own, by content), whether it is conditioned on the language, the
training budget and NAMES_MODEL_VERSION; so a quick `train_minutes=0.1` model is never served to a
later call with the default budget. The cache lives in $SEQLAB_CACHE or ~/.cache/seqlab
(seqlab.datasets.cache_dir). A model trains into a `.names-*` folder beside its entry and is
renamed into place when done: a run stopped by Ctrl-C or SIGTERM removes its folder, and one left
by a killed process is removed by any later call once it is a day old.

Every argument is checked before a model is loaded or trained (ParameterError naming it), and
this module imports torch only once a model is needed, so a bad argument fails in a moment.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING

from seqlab import datasets
from seqlab.charlm.config import LMTrainConfig, check_sampling
from seqlab.errors import ParameterError, SeqlabError
from seqlab.files import read_text
from seqlab.presets import choose_preset

if TYPE_CHECKING:
    import torch

    from seqlab.charlm.language_model import CharLM

NAMES_MODEL_VERSION = "names-v2"  # bump when the names defaults change, so caches retrain
MAX_DRAWS = 50  # rounds of drawing before giving up on finding n new names
PARTIAL_PREFIX = ".names-"  # a model being trained: renamed to names-KEY when done
STALE_SECONDS = 24 * 3600  # a partial folder untouched this long was left by a killed process


@dataclass(frozen=True)
class NamesSource:
    """What a names model learns from: the lines, their category ids and names (conditioned models),
    the category this source draws (a language, else None) and the names it must not repeat."""

    lines: tuple[str, ...] = field(repr=False)
    categories: tuple[int, ...] | None = field(repr=False)
    category_names: tuple[str, ...] | None
    category: str | None
    known: frozenset[str] = field(repr=False)
    label: str  # "32,033 data lines", for the training message

    @classmethod
    def read(cls, language: str | None = None, data: str | os.PathLike | None = None) -> NamesSource:
        """The bundled names, a file of your own (`data`, one name per line), or the 18 languages'
        surnames with `language` drawn; SeqlabError for an unknown language or an unreadable file."""
        if language is not None and not isinstance(language, str):
            raise ParameterError("language", f"must be a language name, got {type(language).__name__}")
        if language and data:
            raise ParameterError(
                "language", "draws from the bundled surnames; it cannot be combined with data"
            )
        if language:
            files = datasets.language_files()
            match = {k.lower(): k for k in files}.get(language.lower())
            if match is None:
                raise SeqlabError(f"unknown language {language!r}; known: {', '.join(files)}")
            lines, cats, names = [], [], sorted(files)  # as seqlab.charlm.corpus.categorised_lines
            for ci, name in enumerate(names):
                own = _read_lines(files[name])
                lines += own
                cats += [ci] * len(own)
            known = frozenset(ln for ln, c in zip(lines, cats) if c == names.index(match))
            return cls(
                tuple(lines), tuple(cats), tuple(names), match, known, f"{len(lines):,} by_language lines"
            )
        lines = _read_lines(Path(data) if data else datasets.bundled_names_file())
        return cls(tuple(lines), None, None, None, frozenset(lines), f"{len(lines):,} data lines")

    def check_start(self, start: str) -> None:
        """ParameterError naming `start` when it holds characters no training line has (the model
        could never write them)."""
        if not isinstance(start, str):
            raise ParameterError("start", f"must be a string, got {type(start).__name__}")
        alphabet = set().union(*self.lines)
        missing = sorted(set(start) - alphabet)
        if missing:
            raise ParameterError(
                "start",
                f"has character(s) {''.join(missing)!r} that no name in the training list has "
                "(not in the model's vocabulary)",
            )

    def cache_entry(
        self, train_minutes: float, cache_dir: str | os.PathLike | None = None, preset: str = "cpu"
    ) -> Path:
        """The cache folder of the model these lines train with this budget and preset (the cpu
        preset's key is the one from before presets, so CPU caches stay valid)."""
        what = "\n".join(self.lines) + f"|{self.categories is not None}|{float(train_minutes)!r}"
        what += "" if preset == "cpu" else f"|{preset}"
        key = hashlib.sha256(f"{what}|{NAMES_MODEL_VERSION}".encode()).hexdigest()[:16]
        return datasets.cache_dir(cache_dir) / f"names-{key}"


def _read_lines(path: Path) -> list[str]:
    """Non-empty lines of a UTF-8 file, trailing whitespace removed (seqlab.charlm.corpus.read_lines,
    without importing torch)."""
    lines = [ln.rstrip() for ln in read_text(path).splitlines() if ln.strip()]
    if not lines:
        raise SeqlabError(f"no lines in {path}")
    return lines


def check_train_minutes(train_minutes: float) -> None:
    if isinstance(train_minutes, bool) or not isinstance(train_minutes, Real):
        raise ParameterError("train_minutes", f"must be a number of minutes, got {train_minutes!r}")
    if not 0 < train_minutes < math.inf:
        raise ParameterError("train_minutes", f"must be positive, got {train_minutes}")


def remove_stale_partials(cache: Path, max_age: float = STALE_SECONDS) -> list[Path]:
    """Remove the `.names-*` folders in `cache` that nothing has written to for `max_age` seconds
    (left by a process killed while training); returns them. Fresher ones may be another process
    training right now, and are left alone."""
    removed = []
    now = time.time()
    for d in cache.glob(PARTIAL_PREFIX + "*") if cache.is_dir() else ():
        try:
            newest = max([d.stat().st_mtime] + [f.stat().st_mtime for f in d.iterdir()])
        except OSError:  # removed meanwhile by another process
            continue
        if now - newest > max_age:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


@dataclass
class NamesModel:
    """A trained names model, the names it learned from, and the category it draws (language)."""

    lm: CharLM
    known: frozenset[str] = field(repr=False)
    category: str | None = None
    run_dir: Path | None = None

    @classmethod
    def load_or_train(
        cls,
        language: str | None = None,
        data: str | os.PathLike | None = None,
        train_minutes: float = 2.0,
        retrain: bool = False,
        cache_dir: str | os.PathLike | None = None,
        on_train: Callable[[str], None] | None = None,
        device: str = "auto",
        preset: str | None = None,
    ) -> NamesModel:
        """The cached model for these names and this budget, trained first if there is none (about
        `train_minutes`), or again when `retrain`.

        language: one of the 18 languages of the bundled surnames (a model conditioned on the
        language is trained on all of them). data: a file of names, one per line, instead of the
        bundled makemore list. train_minutes: the training budget, part of the cache key (a model
        trained with another budget is another entry). on_train(message) is called before and
        after a training run. device: "auto" (cuda when present, else cpu), "cpu" or "cuda".
        preset: "cpu" or "gpu" model size (default: the device's; part of the cache key). Every
        argument is checked before anything is trained.
        """
        check_train_minutes(train_minutes)
        source = NamesSource.read(language, data)
        return cls.from_source(source, train_minutes, retrain, cache_dir, on_train, device, preset)

    @classmethod
    def from_source(
        cls,
        source: NamesSource,
        train_minutes: float = 2.0,
        retrain: bool = False,
        cache_dir: str | os.PathLike | None = None,
        on_train: Callable[[str], None] | None = None,
        device: str = "auto",
        preset: str | None = None,
    ) -> NamesModel:
        """load_or_train for lines already read."""
        from seqlab.charlm.language_model import CharLM
        from seqlab.runtime import resolve_device

        check_train_minutes(train_minutes)
        dev = resolve_device(device)
        preset = choose_preset(preset, dev)
        run = source.cache_entry(train_minutes, cache_dir, preset)
        remove_stale_partials(run.parent)
        if retrain or not (run / "model.pt").exists():
            _train(run, source, train_minutes, on_train, str(dev), preset)
        return cls(CharLM.load(run, device=dev), source.known, source.category, run)

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
        MAX_DRAWS rounds found no more: raise the temperature). At temperature 0 every draw is the
        same greedy name, so at most one comes back."""
        import torch

        check_sampling(temperature, n=n)
        if not isinstance(start, str):
            raise ParameterError("start", f"must be a string, got {type(start).__name__}")
        self.lm.encode(start, "start")
        gen = generator or torch.Generator().manual_seed(seed if seed is not None else torch.seed() % 2**62)
        found: list[str] = []
        seen: set[str] = set()
        rows = 1 if temperature == 0 else min(2 * n + 8, 256)  # about half the draws are new names
        for _ in range(1 if temperature == 0 else MAX_DRAWS):
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


def _train(run: Path, source: NamesSource, minutes: float, on_train, device: str, preset: str) -> None:
    """Train into a temporary folder beside `run`, then rename it: a cache entry is whole or absent.
    Ctrl-C or SIGTERM at any point (the loop stops at a step boundary, seqlab.training.StopSignals)
    removes the temporary folder before the stop goes on."""
    from seqlab.charlm import corpus as lmcorpus
    from seqlab.charlm.train import train_lm
    from seqlab.training import StopSignals

    cats = list(source.categories) if source.categories is not None else None
    names = list(source.category_names) if source.category_names is not None else None
    corpus = lmcorpus.lines_corpus(list(source.lines), 0.05, 1337, cats, names)
    cfg = LMTrainConfig(
        mode="lines", max_minutes=minutes, eval_every=100, patience=20, device=device, preset=preset
    )
    if on_train:
        on_train(
            f"training a names model on {source.label} (device: {device}, preset {preset}; first run "
            f"only, up to {minutes:g} min; cached in {run})"
        )
    run.parent.mkdir(parents=True, exist_ok=True)
    with StopSignals(deferred=False):  # a signal outside the loop's own handling stops at once, here too
        tmp = Path(tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=run.parent))
        try:
            m = train_lm(corpus, cfg, tmp)
            if run.exists():
                shutil.rmtree(run)
            os.replace(tmp, run)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
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
    retrain: bool = False,
    cache_dir: str | os.PathLike | None = None,
    on_train: Callable[[str], None] | None = None,
    device: str = "auto",
    preset: str | None = None,
) -> list[str]:
    """n new names from the same cached model as `seqlab names` (trained on first use).

    language: draw surnames of one of 18 languages (e.g. "Russian"). start: a prefix every name
    begins with. temperature: 0 greedy (one name), < 1 safer, > 1 wilder. seed: same seed, same
    names. allow_known: also return names that are in the training list. data: a file of names to
    train on instead. train_minutes: the training budget of a model not cached yet (each budget
    is its own cache entry). retrain: train again even if the model is cached. on_train(message):
    told when a training run starts (the device and preset first) and ends. device: "auto" (cuda
    when torch sees one, else cpu), "cpu" or "cuda". preset: "cpu" or "gpu" model size (default:
    the device's). Every argument is checked (ParameterError naming it) before a model is loaded
    or trained. Fewer than n names come back only when no more new
    ones could be drawn (raise the temperature).
    """
    check_sampling(temperature, n=n)
    check_train_minutes(train_minutes)
    choose_preset(preset, "cpu")  # a bad preset fails here, before anything is read or trained
    source = NamesSource.read(language, data)
    source.check_start(start)
    model = NamesModel.from_source(source, train_minutes, retrain, cache_dir, on_train, device, preset)
    return model.generate(n, start, temperature, seed, allow_known)
