"""Run plumbing shared by the training loops of the wings (charlm, translate, classify).

Not a framework: each loop stays explicit in its own wing (torchtune's recipes). This module holds
only what they would otherwise each write again, and had started to write differently:

- `cosine_lr`: warm-up, then cosine decay of the learning rate over a budget fraction;
- `resolve_precision` / `autocast`: "auto" -> bf16 where it pays, else fp32, and the context for it;
- `RunState`: model, optimizer, data position, RNG states and weight average as one object with
  `state_dict()` / `load_state_dict()`, so `--resume` restores the same things in every loop;
- `StopSignals`: Ctrl-C (SIGINT) and SIGTERM end a run at a clean point, so its last checkpoint
  resumes exactly.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
from typing import Any

import torch

from seqlab.checkpoint import rng_state, set_rng_state
from seqlab.ema import WeightEMA
from seqlab.errors import SeqlabError

PRECISIONS = ("auto", "bf16", "fp32")


def cosine_lr(
    peak: float, progress: float, min_ratio: float = 0.0, step: int = 0, warmup_steps: int = 0
) -> float:
    """The learning rate at `progress` (0..1) of the budget.

    Linear warm-up over the first `warmup_steps` steps, then a cosine from `peak` down to
    `peak * min_ratio` at the end of the budget:  lr = lo + (peak - lo) * (1 + cos(pi * p)) / 2.
    """
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    p = min(1.0, max(0.0, progress))
    lo = peak * min_ratio
    return lo + (peak - lo) * 0.5 * (1.0 + math.cos(math.pi * p))


def resolve_precision(name: str, device: torch.device | str = "cpu") -> str:
    """'auto' -> 'bf16' where bfloat16 products pay off (a CPU with AVX512-BF16 or AMX, a CUDA GPU
    with bf16 support), else 'fp32'. 'bf16' and 'fp32' pass through; anything else is an error."""
    if name not in PRECISIONS:
        raise SeqlabError(f"unknown precision {name!r}; use auto, bf16 or fp32")
    if name != "auto":
        return name
    if torch.device(device).type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    from seqlab.runtime import fast_bf16_cpu

    return "bf16" if fast_bf16_cpu() else "fp32"


def autocast(precision: str, device: torch.device | str = "cpu"):
    """The training-step context for a resolved precision: bf16 autocasts the matrix products to
    bfloat16 (weights, optimizer state and the loss stay fp32); fp32 is a no-op context."""
    if precision == "bf16":
        return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


STATE_KEYS = ("model", "optimizer", "data_rng", "rng", "ema", "batcher", "progress")


def check_train_state(d: dict) -> dict:
    """SeqlabError naming what a saved training state lacks (damaged, or from an older seqlab)."""
    missing = [k for k in STATE_KEYS if k not in d]
    if missing:
        raise SeqlabError(
            f"the saved training state lacks {', '.join(missing)} (damaged, or written by an older "
            "seqlab); it cannot be resumed"
        )
    return d


class RunState:
    """What a training loop must save to resume exactly, as one object.

    model, optimizer: their state dicts. generator: the torch.Generator that draws the data order
    (and dropout of words, teacher forcing...). ema: a WeightEMA or None. batcher: anything with
    state_dict()/load_state_dict() that knows the position in the data (None when the loop resumes
    at epoch boundaries). progress: the loop's own counters (step, epoch, elapsed seconds, best
    score, history...) as plain values. The process-wide Python / NumPy / torch RNG states are
    saved too (dropout masks draw from torch's global generator).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        generator: torch.Generator,
        ema: WeightEMA | None = None,
        batcher: Any = None,
        progress: dict | None = None,
    ):
        self.model, self.optimizer, self.generator = model, optimizer, generator
        self.ema, self.batcher = ema, batcher
        self.progress: dict = dict(progress or {})

    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "data_rng": self.generator.get_state(),
            "rng": rng_state(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "batcher": self.batcher.state_dict() if self.batcher is not None else None,
            "progress": dict(self.progress),
        }

    def load_state_dict(self, d: dict) -> None:
        """Restore everything `state_dict` saved; a state saved with or without an EMA must be
        resumed the same way (SeqlabError otherwise)."""
        check_train_state(d)
        if (d.get("ema") is None) != (self.ema is None):
            raise SeqlabError(
                "the saved run "
                + ("kept" if d.get("ema") is not None else "did not keep")
                + " a weight average (--ema); resume it with the same setting"
            )
        self.model.load_state_dict(d["model"])
        self.optimizer.load_state_dict(d["optimizer"])
        self.generator.set_state(d["data_rng"])
        set_rng_state(d["rng"])
        if self.ema is not None:
            self.ema.load_state_dict(d["ema"])
        if self.batcher is not None:
            self.batcher.load_state_dict(d["batcher"])
        self.progress = dict(d["progress"])


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal; `signal_name` says which ("SIGINT" or "SIGTERM"), so the command
    can exit as a shell expects (130 or 143)."""

    def __init__(self, signal_name: str = "SIGINT"):
        super().__init__(signal_name)
        self.signal_name = signal_name


class StopSignals:
    """SIGINT (Ctrl-C) and SIGTERM (kill, a scheduler, `docker stop`) while a loop trains.

    deferred=True: the first signal only sets `requested` (its name); the loop finishes the step in
    flight and stops at the next boundary it checks, so what it saves is one consistent state (data
    position, RNG, weights and step counter agree) and `--resume` continues exactly. A second
    signal raises `Interrupted` (a KeyboardInterrupt) at once. deferred=False: either signal raises
    it at once (for loops that only ever save at clean points). Handlers are installed only in the
    main thread (Python's rule) and restored on exit.
    """

    def __init__(self, deferred: bool = True):
        self.deferred = deferred
        self.requested: str | None = None
        self._previous: dict = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        name = signal.Signals(signum).name
        if not self.deferred or self.requested is not None:
            raise Interrupted(name)
        self.requested = name

    def __exit__(self, *exc) -> bool:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        return False
