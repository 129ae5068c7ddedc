"""CharLM: a character-level language model as one object (train, load, sample, evaluate), and
`train_run`, which trains or resumes a run directory from a text file (what `seqlab lm train` calls).

    lm = seqlab.CharLM.train(path="input.txt", run_dir="runs/shakespeare", max_minutes=15)
    lm = seqlab.CharLM.load("runs/shakespeare")
    lm.sample(length=500, temperature=0.8, prime="ROMEO:", seed=1)      # -> str
    lm.evaluate(path="other.txt")           # -> {"loss", "bpc", "perplexity", "chars"}

Data is given as `path=` (a file, or a dataset name such as "tinyshakespeare") or `text=` (the
string itself); a plain first argument is a file when it exists, and a string that looks like a
path (a known text suffix such as .txt, or a separator and no spaces) but names no file is an
error naming it, never text to train on.

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
from seqlab.charlm.config import LMTrainConfig, check_sampling
from seqlab.charlm.evaluation import evaluate
from seqlab.charlm.model_file import load_model
from seqlab.charlm.sampling import generate_lines, iter_stream
from seqlab.charlm.train import TRAIN_STATE_KIND, train_lm
from seqlab.checkpoint import load_checkpoint
from seqlab.datasets import resolve_file
from seqlab.distributed import Group
from seqlab.errors import ParameterError, SeqlabError
from seqlab.files import check_fingerprint, check_readable, fingerprint, read_text, write_json_atomic
from seqlab.training import check_train_state
from seqlab.vocab import Vocab

CONFIG_NAME = "config.json"
BUDGET_KEYS = ("max_steps", "max_minutes", "epochs")  # what a resumed run may change
MAX_SAMPLE_CHARS = 200_000  # "-n lines" never draws more than this
# A one-line string ending in one of these is a file name, never text (CharLM.train, .evaluate).
TEXT_SUFFIXES = (
    ".txt", ".text", ".md", ".rst", ".csv", ".tsv", ".json", ".jsonl", ".tex", ".c", ".h", ".cc",
    ".cpp", ".py", ".js", ".html", ".xml", ".log", ".dat", ".gz", ".bz2", ".xz", ".zip",
)  # fmt: skip


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
        raise ParameterError(
            "seq_len",
            f"({cfg.seq_len}) leaves no training window: the text is too short ({len(text)} characters, "
            f"need more than seq_len + 1 plus a validation part); lower it or use a longer text",
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


def occupied(run_dir: str | os.PathLike) -> bool:
    """Whether `run_dir` exists as anything but an empty folder (a new run refuses it)."""
    run = Path(run_dir)
    return run.exists() and (not run.is_dir() or any(run.iterdir()))


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
    if resume:  # the run's settings, on the device asked for now (a CUDA run resumes on a CPU)
        device = cfg.device if cfg is not None else "auto"
        cfg, saved = _resume_config(run, dict(changes or {}))
        cfg.device = device
        if path is not None:
            check_fingerprint(saved.get("data_fingerprint"), path, run)
        check_train_state(
            load_checkpoint(run / "last.pt", TRAIN_STATE_KIND)
        )  # damaged: fail before any output
    else:
        if occupied(run):
            raise ParameterError(
                "run_dir", f"{run} already exists and is not empty; choose another, or resume the run in it"
            )
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

    def __repr__(self) -> str:
        c = self.model.config
        parts = [f"{c.cell} {c.num_layers}x{c.hidden_size}", f"vocabulary {len(self.vocab)}", self.mode]
        if self.categories:
            parts.append(f"{len(self.categories)} categories")
        if self.info.get("step") is not None:
            parts.append(f"step {self.info['step']}")
        if self.info.get("val_loss") is not None:
            parts.append(f"val_loss {self.info['val_loss']:.4f}")
        device = next(self.model.parameters()).device
        if device.type != "cpu":
            parts.append(f"device {device}")
        if self.run_dir is not None:
            parts.append(f"run_dir={str(self.run_dir)!r}")
        return f"CharLM({', '.join(parts)})"

    def to(self, device: str | torch.device) -> CharLM:
        """Move the model to `device` ("cpu", "cuda", "auto" or a torch.device) and return self, as
        torch's Module.to does; a seed draws the same text on any device."""
        from seqlab.runtime import resolve_device

        self.model.to(resolve_device(device))
        return self

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def load(cls, run_dir: str | os.PathLike, impl: str | None = None, device: str = "auto") -> CharLM:
        """RUN/model.pt of `seqlab lm train` (or a checkpoint file) on `device` ("cpu", "cuda", or
        "auto" = cuda when torch sees one, else cpu; a run trained on a GPU loads on a CPU-only
        machine). impl: "fused" or "scratch" cells for the same weights (default: as trained)."""
        from seqlab.runtime import resolve_device

        model, ck = load_model(run_dir, impl)
        return cls(model.to(resolve_device(device)), ck, run_dir)

    @classmethod
    def train(
        cls,
        text_or_path: str | os.PathLike | None = None,
        run_dir: str | os.PathLike | None = None,
        mode: str = "stream",
        max_minutes: float | None = None,
        max_steps: int | None = None,
        seed: int = 0,
        show_progress: bool | None = False,
        *,
        text: str | None = None,
        path: str | os.PathLike | None = None,
        **config,
    ) -> CharLM:
        """Train on a file (`path=`, or a dataset name such as "tinyshakespeare") or on a string
        (`text=`), into `run_dir` (default: a new temporary directory), and return the best model.
        A plain first argument is a file when one exists there; a path-like string naming no file
        is a SeqlabError. mode: "stream" or "lines"; the other settings are LMTrainConfig's (cell,
        hidden, layers, lr, dropout, device="auto", preset=None: cuda -> gpu, ...), checked
        (ParameterError naming one) before anything runs."""
        path, text = data_source(text_or_path, text, path)
        cfg = LMTrainConfig(
            mode=mode, max_minutes=max_minutes, max_steps=max_steps, seed=seed, **config
        ).validate()
        made = run_dir is None
        run = Path(tempfile.mkdtemp(prefix="seqlab-charlm-")) if made else Path(run_dir)
        try:
            train_run(run, cfg, path=path, text=text, show_progress=show_progress)
        except BaseException:
            if made:
                shutil.rmtree(run, ignore_errors=True)
            raise
        return cls.load(run, device=cfg.device)

    # -- checks shared by sample and evaluate -------------------------------------------------
    def encode(self, text: str, parameter: str | None = None) -> list[int]:
        """Ids of `text`; characters the model never saw are a SeqlabError (a ParameterError naming
        `parameter` when the text is an argument such as `prime`)."""
        missing = sorted({ch for ch in text if ch not in self.vocab.stoi or ch == lmdata.BOUNDARY})
        if missing:
            problem = f"has character(s) {''.join(missing)!r} that are not in the model's vocabulary"
            if parameter:
                raise ParameterError(parameter, problem + " (never seen in training)")
            raise SeqlabError(f"the text {problem} (never seen in training)")
        return [self.vocab.stoi[ch] for ch in text]

    def category(self, name: str | None) -> int | None:
        """The id of a category (language) name, case-insensitive; None for unconditioned models."""
        if not self.categories:
            if name:
                raise ParameterError("language", "is not used by this model: it is not conditioned on one")
            return None
        if name is None:
            raise ParameterError(
                "language", f"is required by this model, one of: {', '.join(self.categories)}"
            )
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
        check_sampling(temperature, top_k, n=n, max_len=max_len)
        ids = generate_lines(
            self.model,
            n,
            self.vocab.stoi[lmdata.BOUNDARY],
            self.encode(prefix, "prefix"),
            self.category(language),
            max_len=max_len,
            temperature=temperature,
            top_k=top_k,
            generator=generator or _generator(seed),
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
        """The characters of a stream model's continuation of `prime`, one at a time as drawn. Every
        argument is checked here, before the first character is asked for."""
        if self.mode != "stream":
            raise SeqlabError(
                "this is a lines model; use sample(n=...) or sample_lines() instead of stream()"
            )
        check_sampling(temperature, top_k, length=length)
        ids = self.encode(self.default_prime() if prime is None or prime == "" else prime, "prime")
        return (
            self.vocab.itos[i]
            for i in iter_stream(self.model, ids, length, temperature, top_k, _generator(seed))
        )

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
        as many as it takes to write `n` lines (not both). Lines models: `n` lines (default 10)
        starting with `prime`, joined by newlines (`length` caps each line, default 64). Same seed,
        same text. Every argument is checked (ParameterError naming it) before anything is drawn."""
        check_sampling(temperature, top_k, length=length, n=n)
        category = self.category(language)
        if self.mode == "lines":
            prefix = self.encode(prime or "", "prime")
            lines = generate_lines(
                self.model,
                10 if n is None else n,
                self.vocab.stoi[lmdata.BOUNDARY],
                prefix,
                category,
                max_len=64 if length is None else length,
                temperature=temperature,
                top_k=top_k,
                generator=_generator(seed),
            )
            return "\n".join("".join(self.vocab.decode(x)) for x in lines)
        prime = self.default_prime() if prime is None or prime == "" else prime
        ids = self.encode(prime, "prime")
        gen = _generator(seed)
        if n is None:
            out = iter_stream(self.model, ids, 500 if length is None else length, temperature, top_k, gen)
            return prime + "".join(self.vocab.itos[i] for i in out)
        if length is not None:
            raise ParameterError("n", "counts lines; give it or length, not both")
        if "\n" not in self.vocab.stoi:
            raise ParameterError("n", "counts lines, but this model never saw a newline; ask for a length")
        text = prime  # draw in chunks until n new lines have appeared
        while text.count("\n") - prime.count("\n") < n and len(text) < MAX_SAMPLE_CHARS:
            out = iter_stream(self.model, self.encode(text[-256:]), 200, temperature, top_k, gen)
            text += "".join(self.vocab.itos[i] for i in out)
        return prime + "\n".join(text[len(prime) :].split("\n")[:n])

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(
        self,
        text_or_path: str | os.PathLike | None = None,
        language: str | None = None,
        *,
        text: str | None = None,
        path: str | os.PathLike | None = None,
    ) -> dict:
        """Average negative log-likelihood per character of a text (`text=`) or file (`path=`; a
        plain first argument as in `train`): {"loss" (nats), "bpc" (bits), "perplexity", "chars"}.
        Lines models score each line and its end marker."""
        path, text = data_source(text_or_path, text, path)
        category = self.category(language)
        if self.mode == "lines":
            lines = (
                lmcorpus.read_lines(path)
                if path is not None
                else [ln.rstrip() for ln in text.splitlines() if ln.strip()]
            )
            if not lines:
                raise SeqlabError("no lines to evaluate")
            seqs = lmdata.encode_lines(lines, self.vocab)
            cats = torch.full((len(seqs),), category, dtype=torch.long) if category is not None else None
            nll, n = evaluate(self.model, "lines", seqs, cats)
        else:
            ids = lmdata.encode_text(read_text(path) if path is not None else text, self.vocab)
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


def looks_like_path(s: str) -> bool:
    """A one-line string that names a file rather than holding text: it ends in a known text suffix
    (TEXT_SUFFIXES), or holds a path separator and no whitespace ("data/input", "~/corpus")."""
    if "\n" in s or len(s) > 4096 or not s.strip():
        return False
    separators = {"/", os.sep, os.altsep} - {None}
    if any(sep in s for sep in separators) and not any(ch.isspace() for ch in s):
        return True
    return s.strip().lower().endswith(TEXT_SUFFIXES)


def data_source(
    text_or_path: str | os.PathLike | None, text: str | None = None, path: str | os.PathLike | None = None
) -> tuple[Path | None, str | None]:
    """(path, None) or (None, text) from exactly one of the three ways to give data. A first argument
    is a path when it is a PathLike or an existing file or folder, an error when it looks like a path
    (looks_like_path) but names nothing, else text. path= may also be a dataset name."""
    given = [k for k, v in (("text_or_path", text_or_path), ("text", text), ("path", path)) if v is not None]
    if not given:
        raise ParameterError("text", "or path is required: text=STRING or path=FILE")
    if len(given) > 1:
        raise ParameterError(given[1], f"cannot be combined with {given[0]}; give the data one way")
    if path is not None:
        return check_readable(resolve_file(path)), None
    if text is not None:
        if not isinstance(text, str):
            raise ParameterError(
                "text", f"must be a string, got {type(text).__name__} (a file goes in path=)"
            )
        return None, text
    if isinstance(text_or_path, os.PathLike):
        return check_readable(text_or_path), None
    if not isinstance(text_or_path, str):
        raise ParameterError("text_or_path", f"must be a string or a path, got {type(text_or_path).__name__}")
    if "\n" not in text_or_path and len(text_or_path) < 4096 and os.path.exists(text_or_path):
        return check_readable(text_or_path), None
    if looks_like_path(text_or_path):
        raise SeqlabError(f"file not found: {text_or_path} (to use the string itself as text, pass text=...)")
    return None, text_or_path


def _generator(seed: int | None) -> torch.Generator:
    """A torch.Generator seeded with `seed` (None: a fresh random seed)."""
    return torch.Generator().manual_seed(seed if seed is not None else torch.seed() % 2**62)
