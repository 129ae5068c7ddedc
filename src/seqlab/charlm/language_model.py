"""CharLM: a character-level language model as one object (train, load, sample, evaluate), and
`train_run`, which trains or resumes a run directory from a text file (what `seqlab lm train` calls).

    lm = seqlab.CharLM.train("input.txt", "runs/shakespeare", max_minutes=15)
    lm = seqlab.CharLM.load("runs/shakespeare")
    lm.sample(length=500, temperature=0.8, prime="ROMEO:", seed=1)      # -> str
    lm.evaluate("other.txt")                # -> {"loss", "bpc", "perplexity", "chars"}

A run directory holds config.json (the settings and a fingerprint of the data), model.pt (the
best weights with the vocabulary), last.pt (everything --resume needs), metrics.jsonl / .json
and loss.png.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from seqlab.charlm import corpus as lmcorpus
from seqlab.charlm import data as lmdata
from seqlab.charlm.config import LMTrainConfig
from seqlab.charlm.evaluation import evaluate
from seqlab.charlm.model_file import load_model
from seqlab.charlm.sampling import generate_lines, iter_stream
from seqlab.charlm.train import TRAIN_STATE_KIND, train_lm
from seqlab.checkpoint import load_checkpoint
from seqlab.distributed import Group
from seqlab.errors import ParameterError, SeqlabError
from seqlab.files import check_fingerprint, fingerprint, read_text, write_json_atomic
from seqlab.training import check_train_state
from seqlab.vocab import Vocab

CONFIG_NAME = "config.json"
BUDGET_KEYS = ("max_steps", "max_minutes", "epochs")  # what a resumed run may change
MAX_SAMPLE_CHARS = 200_000  # "-n lines" never draws more than this


def read_corpus(cfg: LMTrainConfig, path: str | os.PathLike | None = None, text: str | None = None):
    """The LMCorpus of a file (or of `text`) in cfg.mode, split by cfg.val_fraction; checks that a
    stream text holds at least one training window and a validation part."""
    cfg.validate()
    if cfg.mode == "lines":
        lines = (
            lmcorpus.read_lines(path)
            if text is None
            else [ln.rstrip() for ln in text.splitlines() if ln.strip()]
        )
        if not lines:
            raise SeqlabError("no lines to train on")
        return lmcorpus.lines_corpus(lines, cfg.val_fraction, cfg.seed)
    text = read_text(path) if text is None else text
    corpus = lmcorpus.stream_corpus(text, cfg.val_fraction)
    if len(corpus.train) < cfg.seq_len + 2 or len(corpus.val) < 2:
        raise SeqlabError(
            f"text is too short: {len(text)} characters, need more than one training window "
            f"({cfg.seq_len + 1}) plus a validation part; lower --seq-len or use a longer file"
        )
    return corpus


def _resume_config(run: Path, changes: dict) -> tuple[LMTrainConfig, dict]:
    """The run's own settings with new budgets; any other setting given differently is an error."""
    if not (run / "last.pt").exists() or not (run / CONFIG_NAME).exists():
        raise SeqlabError(f"nothing to resume in {run} (no last.pt / config.json)")
    try:
        saved = json.loads((run / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SeqlabError(f"{run / CONFIG_NAME} is damaged; start a new run") from None
    cfg = LMTrainConfig.from_dict(saved)
    for key, value in changes.items():
        if key in BUDGET_KEYS:
            setattr(cfg, key, value)
        elif key in saved and saved[key] is not None and saved[key] != value:
            raise SeqlabError(
                f"--{key.replace('_', '-')} {value} differs from the run's {saved[key]}; a resumed run "
                "keeps its settings (only --max-steps, --max-minutes and --epochs may change)"
            )
    return cfg, saved


def train_run(
    run_dir: str | os.PathLike,
    cfg: LMTrainConfig | None = None,
    path: str | os.PathLike | None = None,
    text: str | None = None,
    resume: bool = False,
    changes: dict | None = None,
    show_progress: bool | None = None,
    on_start: Callable | None = None,
    on_step=None,
    group: Group = Group(),
) -> dict:
    """Train a new run in `run_dir` on a file (`path`) or a string (`text`), or resume it.

    resume: continue RUN from last.pt with the settings in RUN/config.json; `changes` are the
    settings the caller gives again (only the budgets may differ), and the data must be the very
    file the run was trained on (same content; SeqlabError naming the difference otherwise).
    Nothing in the run changes when a check fails. on_start(cfg, corpus) is called once the data
    is read and checked, before the first step. A new run that fails before its first checkpoint
    leaves no directory behind. group: this process's place in a data-parallel job (every rank
    checks the data; rank 0 alone writes). Returns the metrics (also in RUN/metrics.json).
    """
    run = Path(run_dir)
    if (path is None) == (text is None):
        raise SeqlabError("give the training data as a file path or as text, not both")
    if resume:
        cfg, saved = _resume_config(run, dict(changes or {}))
        if path is not None:
            check_fingerprint(saved.get("data_fingerprint"), path, run)
        check_train_state(
            load_checkpoint(run / "last.pt", TRAIN_STATE_KIND)
        )  # damaged: fail before any output
    else:
        if run.exists() and (not run.is_dir() or any(run.iterdir())):
            raise SeqlabError(f"{run} already exists and is not empty; use --resume or another -o")
        cfg = cfg or LMTrainConfig()
    cfg = cfg.resolved()
    corpus = read_corpus(cfg, path, text)  # every input check happens before RUN is created
    created = not run.exists()
    group.barrier()  # every rank has checked before rank 0 writes
    try:
        if not resume and group.is_main:
            source = (
                {"data": str(path), "data_fingerprint": fingerprint(path)}
                if path is not None
                else {"data": None, "data_fingerprint": None}
            )
            write_json_atomic(run / CONFIG_NAME, {**cfg.__dict__, **source})
        if on_start is not None and group.is_main:
            on_start(cfg, corpus)
        return train_lm(
            corpus, cfg, run, resume=resume, show_progress=show_progress, on_step=on_step, group=group
        )
    except BaseException:
        if created and group.is_main and not (run / "last.pt").exists():
            shutil.rmtree(run, ignore_errors=True)
        raise


class CharLM:
    """A trained character-level model with its vocabulary: sample text, score text.

    mode: "stream" (one long text, sampled as a continuation of a prime) or "lines" (one example
    per line, e.g. names, sampled as whole lines). categories: the names a conditioned model was
    trained with (e.g. 18 languages), else empty.
    """

    def __init__(self, model, checkpoint: dict, run_dir: str | os.PathLike | None = None):
        self.model = model.eval()
        self.vocab = Vocab.from_dict(checkpoint["vocab"])
        self.mode: str = checkpoint["mode"]
        self.categories: list[str] = list(checkpoint.get("categories") or [])
        self.train_lines = frozenset(checkpoint.get("train_lines") or ())
        self.info = {k: checkpoint.get(k) for k in ("step", "val_loss", "train_config", "model_config")}
        self.run_dir = Path(run_dir) if run_dir is not None else None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def load(cls, run_dir: str | os.PathLike, impl: str | None = None, device: str = "cpu") -> CharLM:
        """RUN/model.pt of `seqlab lm train` (or a checkpoint file) on `device` ("cpu", "cuda",
        "auto"; a run trained on a GPU loads on a CPU-only machine). impl: "fused" or "scratch" cells
        for the same weights (default: as trained)."""
        from seqlab.runtime import resolve_device

        model, ck = load_model(run_dir, impl)
        return cls(model.to(resolve_device(device)), ck, run_dir)

    @classmethod
    def train(
        cls,
        text_or_path: str | os.PathLike,
        run_dir: str | os.PathLike | None = None,
        mode: str = "stream",
        max_minutes: float | None = None,
        max_steps: int | None = None,
        seed: int = 0,
        show_progress: bool | None = False,
        **config,
    ) -> CharLM:
        """Train on a file (a path that exists) or on the text itself, into `run_dir` (default: a new
        temporary directory), and return the best model. mode: "stream" or "lines"; the other
        settings are LMTrainConfig's (cell, hidden, layers, lr, dropout, ...)."""
        cfg = LMTrainConfig(mode=mode, max_minutes=max_minutes, max_steps=max_steps, seed=seed, **config)
        path = Path(text_or_path) if isinstance(text_or_path, os.PathLike) or _is_file(text_or_path) else None
        run = Path(run_dir) if run_dir is not None else Path(tempfile.mkdtemp(prefix="seqlab-charlm-"))
        train_run(
            run,
            cfg,
            path=path,
            text=None if path is not None else str(text_or_path),
            show_progress=show_progress,
        )
        return cls.load(run)

    # -- checks shared by sample and evaluate -------------------------------------------------
    def encode(self, text: str) -> list[int]:
        """Ids of `text`; SeqlabError naming characters the model never saw."""
        missing = sorted({ch for ch in text if ch not in self.vocab.stoi or ch == lmdata.BOUNDARY})
        if missing:
            raise SeqlabError(
                f"character(s) {''.join(missing)!r} are not in the model's vocabulary "
                "(never seen in training)"
            )
        return [self.vocab.stoi[ch] for ch in text]

    def category(self, name: str | None) -> int | None:
        """The id of a category (language) name, case-insensitive; None for unconditioned models."""
        if not self.categories:
            if name:
                raise SeqlabError("this model is not conditioned on a category; drop --language")
            return None
        if name is None:
            raise SeqlabError(f"this model needs --language, one of: {', '.join(self.categories)}")
        match = {c.lower(): i for i, c in enumerate(self.categories)}.get(name.lower())
        if match is None:
            raise SeqlabError(f"unknown language {name!r}; known: {', '.join(self.categories)}")
        return match

    # -- sampling -----------------------------------------------------------------------------
    def sample_lines(
        self,
        n: int = 10,
        prefix: str = "",
        language: str | None = None,
        temperature: float = 1.0,
        top_k: int | None = None,
        max_len: int = 64,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> list[str]:
        """n lines of a lines model, each starting with `prefix` (drawn in parallel)."""
        self._check_lines("sample_lines")
        _check_sampling(temperature, top_k, n=n, max_len=max_len)
        gen = generator or _generator(seed)
        ids = generate_lines(
            self.model,
            n,
            self.vocab.stoi[lmdata.BOUNDARY],
            self.encode(prefix),
            self.category(language),
            max_len=max_len,
            temperature=temperature,
            top_k=top_k,
            generator=gen,
        )
        return ["".join(self.vocab.decode(x)) for x in ids]

    def stream(
        self,
        prime: str | None = None,
        length: int = 500,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int | None = None,
    ) -> Iterator[str]:
        """The characters of a stream model's continuation of `prime`, one at a time as drawn."""
        if self.mode != "stream":
            raise SeqlabError("this is a lines model; use sample_lines (or -n) instead of streaming text")
        _check_sampling(temperature, top_k, length=length)
        ids = self.encode(self.default_prime() if prime is None or prime == "" else prime)
        for i in iter_stream(self.model, ids, length, temperature, top_k, _generator(seed)):
            yield self.vocab.itos[i]

    def default_prime(self) -> str:
        """A newline where the text has them (a new paragraph), else the first character."""
        return "\n" if "\n" in self.vocab.stoi else self.vocab.itos[0]

    def sample(
        self,
        length: int | None = None,
        temperature: float = 1.0,
        top_k: int | None = None,
        prime: str | None = None,
        seed: int | None = None,
        n: int | None = None,
        language: str | None = None,
    ) -> str:
        """Generated text. Stream models: `prime` followed by `length` characters (default 500), or by
        as many as it takes to write `n` lines. Lines models: `n` lines (default 10) starting with
        `prime`, joined by newlines (`length` caps each line). Same seed, same text."""
        if self.mode == "lines":
            lines = self.sample_lines(
                n if n is not None else 10,
                prime or "",
                language,
                temperature,
                top_k,
                max_len=length or 64,
                seed=seed,
            )
            return "\n".join(lines)
        self.category(language)
        prime = self.default_prime() if prime is None or prime == "" else prime
        gen = _generator(seed)
        if n is None:
            _check_sampling(temperature, top_k, length=500 if length is None else length)
            out = iter_stream(
                self.model, self.encode(prime), 500 if length is None else length, temperature, top_k, gen
            )
            return prime + "".join(self.vocab.itos[i] for i in out)
        _check_sampling(temperature, top_k, n=n)
        if "\n" not in self.vocab.stoi:
            raise SeqlabError("this model never saw a newline; ask for a length instead of a number of lines")
        text = prime  # draw in chunks until n new lines have appeared
        while text.count("\n") - prime.count("\n") < n and len(text) < MAX_SAMPLE_CHARS:
            out = iter_stream(self.model, self.encode(text[-256:]), 200, temperature, top_k, gen)
            text += "".join(self.vocab.itos[i] for i in out)
        return prime + "\n".join(text[len(prime) :].split("\n")[:n])

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self, text_or_path: str | os.PathLike, language: str | None = None) -> dict:
        """Average negative log-likelihood per character of a text (or file): {"loss" (nats),
        "bpc" (bits), "perplexity", "chars"}. Lines models score each line and its end marker."""
        is_path = isinstance(text_or_path, os.PathLike) or _is_file(text_or_path)
        category = self.category(language)
        if self.mode == "lines":
            lines = (
                lmcorpus.read_lines(text_or_path)
                if is_path
                else [ln.rstrip() for ln in str(text_or_path).splitlines() if ln.strip()]
            )
            if not lines:
                raise SeqlabError("no lines to evaluate")
            seqs = lmdata.encode_lines(lines, self.vocab)
            cats = torch.full((len(seqs),), category, dtype=torch.long) if category is not None else None
            nll, n = evaluate(self.model, "lines", seqs, cats)
        else:
            ids = lmdata.encode_text(read_text(text_or_path) if is_path else str(text_or_path), self.vocab)
            if len(ids) < 2:
                raise SeqlabError("text is too short to evaluate (need at least 2 characters)")
            nll, n = evaluate(self.model, "stream", ids, batch_size=max(1, min(64, len(ids) // 2048)))
        loss = nll / n
        return {"loss": loss, "bpc": loss / math.log(2), "perplexity": math.exp(loss), "chars": n}

    def _check_lines(self, what: str) -> None:
        if self.mode != "lines":
            raise SeqlabError(
                f"{what} needs a lines model (trained with mode='lines'); this one is a stream model"
            )


def _is_file(x) -> bool:
    return isinstance(x, str) and "\n" not in x and len(x) < 4096 and os.path.isfile(x)


def _generator(seed: int | None) -> torch.Generator:
    """A torch.Generator seeded with `seed` (None: a fresh random seed)."""
    return torch.Generator().manual_seed(seed if seed is not None else torch.seed() % 2**62)


def _check_sampling(temperature: float, top_k: int | None, **counts) -> None:
    if temperature < 0:
        raise ParameterError("temperature", f"must be 0 (greedy) or more, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ParameterError("top_k", f"must be at least 1, got {top_k}")
    for name, value in counts.items():
        if value is not None and value < 1:
            raise ParameterError(name, f"must be at least 1, got {value}")
