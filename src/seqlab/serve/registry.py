"""The models a server holds: loaded once, at start-up, then only read.

    reg = Registry.load(runs={"shakespeare": "runs/shakespeare", "mr": "runs/mr"},
                        vectors={"glove": "glove-6b-50d"})
    reg.run("mr", CLASSIFY)           # the TrainedClassifier; NotFound / WrongKind otherwise
    reg.names = NamesService.start(language=None)   # trained on a thread if not cached yet

A run directory's kind is the "kind" its RUN/model.pt declares (charlm, sentence-classifier,
translate); answers and error messages call each kind by the command that trains it (lm,
classify, translate: `KINDS`), and never name a flag of `seqlab serve`, only fields of the
request. No request can name a path, only the names given here. `loads` counts every model
loaded, so a test can check that serving never loads one again.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from seqlab.errors import SeqlabError

LM, CLASSIFY, TRANSLATE = "charlm", "sentence-classifier", "translate"
KINDS = {LM: "lm", CLASSIFY: "classify", TRANSLATE: "translate"}  # checkpoint kind -> command that made it


class NotFound(SeqlabError):
    """An unknown run, vectors or route: HTTP 404."""


class WrongKind(SeqlabError):
    """A run of another kind than the endpoint serves: HTTP 422."""


class NotReady(SeqlabError):
    """A model still loading or training: HTTP 503 (try again)."""


def run_kind(run_dir: str | os.PathLike) -> str:
    """The kind RUN/model.pt declares; SeqlabError for anything that is not a served run."""
    from seqlab.checkpoint import load_checkpoint

    run = Path(run_dir)
    if not run.is_dir():
        raise SeqlabError(f"run folder not found: {run}")
    kind = load_checkpoint(run / "model.pt").get("kind")
    if kind not in KINDS:
        raise SeqlabError(f"{run} holds a {kind!r} model; seqlab serve takes lm, classify and translate runs")
    return kind


def load_run(run_dir: str | os.PathLike, kind: str | None = None, device: str = "auto"):
    """(kind, model) of a run directory: a CharLM, a TrainedClassifier or a Translator; the language
    models and translators on `device` ("auto": cuda when torch sees one), classifiers on the CPU."""
    kind = kind or run_kind(run_dir)
    if kind == LM:
        from seqlab.charlm.language_model import CharLM

        return kind, CharLM.load(run_dir, device=device)
    if kind == CLASSIFY:
        from seqlab.classify.run import TrainedClassifier

        return kind, TrainedClassifier.load(run_dir)
    from seqlab.translate.translator import Translator

    return kind, Translator.load(run_dir, device=device)


@dataclass
class NamesService:
    """The names model(s): ready at once when given, or loaded (trained on first use, about two
    minutes) on a background thread by `start`, so the server answers meanwhile and the page can
    say that it is training. models: language (None: first names) -> NamesModel."""

    models: dict = field(default_factory=dict)
    state: str = "off"  # off | loading | training | ready | failed
    message: str = "no names model is served here"
    loads: int = 0
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @classmethod
    def ready(cls, models: dict) -> NamesService:
        svc = cls(dict(models), "ready", "ready")
        svc._done.set()
        return svc

    @classmethod
    def start(
        cls,
        data: str | os.PathLike | None = None,
        languages: list[str] = (),
        train_minutes: float = 2.0,
        cache_dir: str | os.PathLike | None = None,
        log: Callable[[str], None] | None = None,
        device: str = "auto",
    ) -> NamesService:
        """Load (or train) the first-names model of `data` (default: the bundled list) and the
        surname model for each of `languages` on a daemon thread, on `device`; returns at once."""
        svc = cls(state="loading", message="loading the names model")
        threading.Thread(
            target=svc._load,
            args=(data, list(languages), train_minutes, cache_dir, log, device),
            name="seqlab-names",
            daemon=True,
        ).start()
        return svc

    @classmethod
    def from_run(cls, run_dir: str | os.PathLike, device: str = "auto") -> NamesService:
        """Serve a lines-mode run of `seqlab lm train --mode lines` (one name per line) as the names
        model; names of its training lines count as known. A run conditioned on categories serves
        each category as a language."""
        from seqlab.charlm.language_model import CharLM
        from seqlab.charlm.names import NamesModel

        lm = CharLM.load(run_dir, device=device)
        if lm.mode != "lines":
            raise SeqlabError(
                f"{run_dir} is a stream model; the names tab needs a run trained with --mode lines"
            )
        cats = lm.categories or [None]
        svc = cls.ready({c: NamesModel(lm, lm.train_lines, c, Path(run_dir)) for c in cats})
        svc.loads = 1
        return svc

    def _load(self, data, languages, train_minutes, cache_dir, log, device) -> None:
        from seqlab.charlm.names import NamesModel

        def on_train(message: str) -> None:
            self.state, self.message = "training", message
            if log:
                log(message)

        try:
            models = {
                None: NamesModel.load_or_train(
                    None, data, train_minutes, cache_dir=cache_dir, on_train=on_train, device=device
                )
            }
            self.loads += 1
            shared = None  # the 18 languages share one conditioned network
            for lang in languages:
                self.message = f"loading the {lang} surnames model"
                m = NamesModel.load_or_train(
                    lang, None, train_minutes, cache_dir=cache_dir, on_train=on_train, device=device
                )
                if shared is None:
                    shared, self.loads = m, self.loads + 1
                elif m.run_dir == shared.run_dir:
                    m = replace(m, lm=shared.lm)
                models[m.category] = m
            self.models, self.state, self.message = models, "ready", "ready"
        except Exception as e:  # the server keeps serving everything else
            why = str(e).splitlines()[0] if str(e) else type(e).__name__
            self.state, self.message = "failed", f"the names model could not be loaded: {why}"
            if log:
                log(self.message)
        finally:
            self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until loading has finished (ready or failed); False on timeout."""
        return self._done.wait(timeout)

    @property
    def languages(self) -> list[str]:
        return sorted(k for k in self.models if k)

    def get(self, language: str | None):
        """The NamesModel for `language` (None: first names)."""
        if self.state in ("loading", "training"):
            raise NotReady(f"the names model is not ready yet: {self.message}")
        if self.state != "ready":
            raise NotFound(self.message)
        if language is None:
            if None not in self.models:
                raise NotFound("no first-names model is served; give a language")
            return self.models[None]
        match = {k.lower(): k for k in self.models if k}.get(language.lower())
        if match is None:
            served = ", ".join(self.languages) or "none"
            raise WrongKind(f"language {language!r} is not served; served languages: {served}")
        return self.models[match]


class Registry:
    """Runs by name (name -> (kind, model)), vectors by name, and the names service."""

    def __init__(
        self, runs: dict | None = None, vectors: dict | None = None, names: NamesService | None = None
    ):
        self.runs: dict[str, tuple[str, object]] = dict(runs or {})
        self.vectors: dict[str, object] = dict(vectors or {})
        self.names = names or NamesService()
        self._loads = 0

    @classmethod
    def load(
        cls,
        runs: dict[str, str | os.PathLike] | None = None,
        vectors: dict[str, str] | None = None,
        names: NamesService | None = None,
        log: Callable[[str], None] | None = None,
        device: str = "auto",
    ) -> Registry:
        """Load every run directory (on `device`, see load_run) and vectors (a name such as
        glove-6b-50d, or a file) once."""
        reg = cls(names=names)
        for name, path in (runs or {}).items():
            reg.add_run(name, path, log, device)
        for name, spec in (vectors or {}).items():
            reg.add_vectors(name, spec, log)
        return reg

    def add_run(
        self,
        name: str,
        path: str | os.PathLike,
        log: Callable[[str], None] | None = None,
        device: str = "auto",
    ) -> None:
        t0 = time.perf_counter()
        kind, model = load_run(path, device=device)
        self.runs[name] = (kind, model)
        self._loads += 1
        if log:
            log(f"loaded run {name!r} ({KINDS[kind]}) from {path} in {time.perf_counter() - t0:.1f} s")

    def add_vectors(
        self, name: str, spec: str | os.PathLike, log: Callable[[str], None] | None = None
    ) -> None:
        from seqlab.embeddings.vector_sources import load_vectors

        t0 = time.perf_counter()
        kv = load_vectors(spec)
        self.vectors[name] = kv
        self._loads += 1
        if log:
            log(
                f"loaded vectors {name!r} ({len(kv.index_to_key):,} words) from {spec} "
                f"in {time.perf_counter() - t0:.1f} s"
            )

    @property
    def loads(self) -> int:
        """Models loaded so far (runs, vectors, names)."""
        return self._loads + self.names.loads

    def kinds(self) -> dict[str, str]:
        """Run name -> its kind, named as the command that trains it (lm, classify, translate)."""
        return {name: KINDS[kind] for name, (kind, _) in self.runs.items()}

    def datasets(self) -> dict[str, str]:
        """Classify run name -> the data set it was trained on, where its checkpoint says."""
        out = {}
        for name, (kind, model) in self.runs.items():
            dataset = getattr(model, "info", {}).get("dataset") if kind == CLASSIFY else None
            if dataset:
                out[name] = str(dataset)
        return out

    def run(self, name: str | None, kind: str):
        """The model of run `name` (None: the first run of `kind`); NotFound / WrongKind."""
        if name is None:
            for kind_, model in self.runs.values():
                if kind_ == kind:
                    return model
            raise NotFound(f"no {KINDS[kind]} run is served here")
        if name not in self.runs:
            served = ", ".join(self.runs) or "none"
            raise NotFound(f"unknown run {name!r}; served runs: {served}")
        kind_, model = self.runs[name]
        if kind_ != kind:
            article = "an" if kind_ == LM else "a"  # "an lm run", "a classify run"
            raise WrongKind(
                f"run {name!r} is {article} {KINDS[kind_]} run; this route serves {KINDS[kind]} runs"
            )
        return model

    def vectors_for(self, name: str | None):
        if name is None:
            if not self.vectors:
                raise NotFound("no word vectors are served here")
            return next(iter(self.vectors.values()))
        if name not in self.vectors:
            raise NotFound(f"unknown vectors {name!r}; served vectors: {', '.join(self.vectors) or 'none'}")
        return self.vectors[name]
