"""The character-level language-model training loop: one explicit loop, no framework.

AdamW with gradient clipping, warm-up then cosine decay of the learning rate over whichever
budget ends first (steps, minutes or epochs), validation every `eval_every` steps with early
stopping, the best weights kept in RUN/model.pt and the full training state in RUN/last.pt so
`resume=True` continues the optimizer, step, data order and RNG states exactly.

A time budget (`max_minutes`) is turned into a step budget once: at the end of the warm-up the
run validates, and the steps done so far and the seconds they took (that validation included)
give the number of steps the budget holds. From then on the schedule and the stop follow steps only, so a
run stopped and resumed follows the same learning-rate curve and ends at the same step as one
that never stopped (the planned step count is saved in RUN/last.pt). Before that point the run
stops on the clock.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from seqlab.charlm import data as lmdata
from seqlab.charlm.config import LMTrainConfig
from seqlab.charlm.corpus import LMCorpus
from seqlab.charlm.evaluation import evaluate
from seqlab.charlm.model_file import save_model
from seqlab.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from seqlab.distributed import Group, wrap
from seqlab.ema import WeightEMA
from seqlab.errors import ParameterError, SeqlabError
from seqlab.files import write_json_atomic
from seqlab.models.rnn import CharRNN, CharRNNConfig, detach_state
from seqlab.runtime import progress, resolve_device
from seqlab.training import Interrupted, RunState, StopSignals, autocast, cosine_lr

TRAIN_STATE_KIND = "charlm-train"  # RUN/last.pt: everything --resume needs


def model_config(cfg: LMTrainConfig, corpus: LMCorpus) -> CharRNNConfig:
    return CharRNNConfig(
        vocab_size=len(corpus.vocab),
        cell=cfg.cell,
        impl=cfg.impl,
        embed_size=cfg.embed,
        hidden_size=cfg.hidden,
        num_layers=cfg.layers,
        dropout=cfg.dropout,
        num_categories=len(corpus.categories),
    )


def lr_at(cfg: LMTrainConfig, step: int, progress_frac: float) -> float:
    """Linear warm-up for `warmup_steps`, then cosine from lr to lr*min_lr_ratio over the budget
    (or the peak lr throughout with schedule="constant")."""
    frac = progress_frac if cfg.schedule == "cosine" else 0.0
    return cosine_lr(cfg.lr, frac, cfg.min_lr_ratio, step, cfg.warmup_steps)


@torch.no_grad()
def differences(saved: dict, now: dict) -> str:
    """'hidden_size 512 (run) vs 256 (now), ...' for the keys whose values differ."""
    keys = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
    return ", ".join(f"{k} {saved.get(k)!r} (run) vs {now.get(k)!r} (now)" for k in keys)


# ------------------------------------------------------------------------------------ the loop


@dataclass
class _Loop:
    """One training run in progress: what the loop reads and updates."""

    corpus: LMCorpus
    cfg: LMTrainConfig
    run: Path
    device: torch.device
    state: RunState
    net: torch.nn.Module  # what trains: the model, or DDP around it
    group: Group
    steps_per_epoch: int
    base_steps: int  # from epochs and max_steps
    max_seconds: float | None

    @property
    def p(self) -> dict:
        return self.state.progress

    def total_steps(self) -> int:
        planned = self.p["planned_steps"]
        return self.base_steps if planned is None else min(self.base_steps, planned)

    def budget_fraction(self) -> float:
        fr = self.p["step"] / self.total_steps()
        if self.max_seconds and self.p["planned_steps"] is None:  # not converted to steps yet
            fr = max(fr, self.p["elapsed"] / self.max_seconds)
        return fr


def _start(corpus: LMCorpus, cfg: LMTrainConfig, run: Path, resume: bool, group: Group) -> _Loop:
    """Build model, optimizer, batcher and run state (from RUN/last.pt when resuming)."""
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    model = CharRNN(model_config(cfg, corpus)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
    if corpus.mode == "stream":
        if len(corpus.val) < 2:
            raise SeqlabError("text is too short to hold out a validation part; use a longer file")
        batcher = lmdata.StreamBatcher(corpus.train, cfg.batch_size, cfg.seq_len, cfg.windows == "sequential")
    else:
        batcher = lmdata.LineBatcher(corpus.train, corpus.train_categories, cfg.batch_size)
    if batcher.batch_size < group.world_size:
        raise ParameterError(
            "batch_size",
            f"({batcher.batch_size} sequences) cannot be shared by {group.world_size} processes; "
            "raise it or use fewer processes",
        )
    state = RunState(
        model,
        opt,
        torch.Generator().manual_seed(cfg.seed),
        ema=WeightEMA(model, cfg.ema) if cfg.ema > 0 else None,
        batcher=batcher,
        progress={
            "step": 0,
            "elapsed": 0.0,
            "train_time": 0.0,
            "train_chars": 0,
            "best": {"val_loss": float("inf"), "step": 0},
            "bad_evals": 0,
            "history": [],
            "hidden": None,
            "planned_steps": None,
        },
    )
    if resume:
        ck = load_checkpoint(run / "last.pt", kind=TRAIN_STATE_KIND)
        if ck.get("vocab") is not None and ck["vocab"] != corpus.vocab.to_dict():
            raise SeqlabError(
                f"{run} was trained on text with another vocabulary ({len(ck['vocab']['itos'])} "
                f"characters, now {len(corpus.vocab)}); resume with the same data"
            )
        saved_model = ck.get("model_config")
        if saved_model is not None and saved_model != model.config.to_dict():
            raise SeqlabError(
                f"{run} holds another model: {differences(saved_model, model.config.to_dict())}"
            )
        saved_world = int(ck.get("world_size", 1))
        if saved_world != group.world_size:
            raise SeqlabError(
                f"{run} was trained by {saved_world} process(es); resume it with {saved_world} "
                f"(now {group.world_size}) so every process gets its own random state back"
            )
        state.load_state_dict(ck)
        if group.enabled:  # each rank's own dropout RNG and hidden state
            mine = ck["ranks"][group.rank]
            set_rng_state(mine["rng"])
            state.progress["hidden"] = mine["hidden"]
    steps_per_epoch = batcher.steps_per_epoch()
    base = cfg.epochs * steps_per_epoch
    if cfg.max_steps:
        base = min(base, cfg.max_steps)
    return _Loop(
        corpus,
        cfg,
        run,
        device,
        state,
        wrap(model, group),
        group,
        steps_per_epoch,
        base,
        cfg.max_minutes * 60 if cfg.max_minutes else None,
    )


def _save_last(loop: _Loop) -> None:
    """RUN/last.pt, written by rank 0. Under DDP it also holds every rank's RNG state and carried
    hidden state (each rank's is that of its own columns), so a resume needs the same world size."""
    p = loop.p
    p["hidden"] = detach_state(p["hidden"])
    ranks = loop.group.gather({"rng": rng_state(), "hidden": p["hidden"]}) if loop.group.enabled else None
    if loop.group.is_main:
        save_checkpoint(
            loop.run / "last.pt",
            TRAIN_STATE_KIND,
            {
                **loop.state.state_dict(),
                "train_config": asdict(loop.cfg),
                "model_config": loop.state.model.config.to_dict(),
                "vocab": loop.corpus.vocab.to_dict(),
                "mode": loop.corpus.mode,
                "world_size": loop.group.world_size,
                "ranks": ranks,
            },
        )
    loop.group.barrier()  # no rank reads last.pt (to resume) before rank 0 has written it


def _validate(loop: _Loop, last_loss: float) -> None:
    """Validation loss of the (averaged) weights; the best weights go to RUN/model.pt."""
    p, model, ema = loop.p, loop.state.model, loop.state.ema
    if ema is not None:
        ema.swap()  # validate (and keep) the averaged weights
    try:
        val_loss = 0.0
        if loop.group.is_main:  # rank 0 validates, the others wait for its number
            context = (
                loop.corpus.train if loop.corpus.mode == "stream" else None
            )  # validation continues the text
            nll, n = evaluate(
                model, loop.corpus.mode, loop.corpus.val, loop.corpus.val_categories, context=context
            )
            val_loss = nll / max(n, 1)
        val_loss = loop.group.agree(val_loss)
        rec = {
            "step": p["step"],
            "epoch": round(p["step"] / loop.steps_per_epoch, 3),
            "seconds": round(p["elapsed"], 2),
            "train_loss": round(last_loss, 5),
            "val_loss": round(val_loss, 5),
            "lr": round(lr_at(loop.cfg, p["step"], loop.budget_fraction()), 7),
        }
        p["history"].append(rec)
        if loop.group.is_main:
            with open(loop.run / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(rec) + "\n")
        if val_loss < p["best"]["val_loss"]:
            p["best"] = {"val_loss": val_loss, "step": p["step"]}
            p["bad_evals"] = 0
            if loop.group.is_main:
                save_model(
                    loop.run / "model.pt",
                    model,
                    loop.corpus,
                    loop.cfg,
                    {"step": p["step"], "val_loss": val_loss},
                )
        else:
            p["bad_evals"] += 1
    finally:
        if ema is not None:
            ema.swap()


def _train_step(loop: _Loop, precision: str) -> tuple[float, int]:
    """One optimizer step on the next global batch (this rank's shard of it); returns the global
    batch's mean loss and its number of predicted characters."""
    net, opt, gen, p, g = loop.net, loop.state.optimizer, loop.state.generator, loop.p, loop.group
    for group in opt.param_groups:
        group["lr"] = lr_at(loop.cfg, p["step"], loop.budget_fraction())
    if loop.corpus.mode == "stream":
        x, y, reset = loop.state.batcher.next(gen)  # (B, T): every rank draws the same
        rows = g.shard(x.shape[0])  # this rank's columns of the stream
        x, y = x[rows].to(loop.device), y[rows].to(loop.device)
        with autocast(precision, loop.device):
            logits, hidden = net(x, None if reset else p["hidden"])  # (B/N, T, V)
        p["hidden"] = detach_state(hidden, torch.float32)
        loss_sum = F.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum"
        )
        n_chars = y.numel()
    else:
        x, y, cats = loop.state.batcher.next(gen)
        rows = g.shard(x.shape[0])  # this rank's lines of the batch
        x, y = x[rows].to(loop.device), y[rows].to(loop.device)
        cats = cats[rows].to(loop.device) if cats is not None else None
        with autocast(precision, loop.device):
            logits, _ = net(x, None, cats)
        loss_sum = F.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]),
            y.reshape(-1),
            ignore_index=lmdata.IGNORE,
            reduction="sum",
        )
        n_chars = int((y != lmdata.IGNORE).sum())
    count, total = g.totals(n_chars, float(loss_sum.detach()))  # over the global batch
    loss = loss_sum * (g.world_size / max(count, 1.0))  # DDP's mean of these = the global mean's gradient
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if loop.cfg.clip > 0:
        torch.nn.utils.clip_grad_norm_(loop.state.model.parameters(), loop.cfg.clip)
    opt.step()
    if loop.state.ema is not None:
        loop.state.ema.update()
    p["step"] += 1
    return total / max(count, 1.0), int(count)


def _stop_reason(loop: _Loop) -> str | None:
    p, cfg = loop.p, loop.cfg
    if p["step"] >= loop.total_steps():
        if p["planned_steps"] is not None and p["planned_steps"] <= loop.base_steps:
            return "max_minutes"
        return "max_steps" if cfg.max_steps and p["step"] >= cfg.max_steps else "epochs"
    if loop.max_seconds and p["planned_steps"] is None and p["elapsed"] >= loop.max_seconds:
        return "max_minutes"
    if p["bad_evals"] >= cfg.patience:
        return "early_stopping"
    return None


def _fit(loop: _Loop, show_progress: bool | None, on_step) -> str:
    """Steps until a budget or early stopping ends the run. Ctrl-C or SIGTERM lets the step in
    flight finish (with its validation and checkpoint when due), saves RUN/last.pt there and raises
    KeyboardInterrupt; a second signal stops at once and keeps the last checkpoint saved at a clean
    point, never a half-done step (seqlab.training.StopSignals)."""
    p = loop.p
    bar = progress(
        total=loop.total_steps(),
        desc="train",
        unit="step",
        enabled=show_progress if loop.group.is_main else False,
    )
    bar.update(p["step"])
    loop.state.model.train()
    clean = [True]  # False from a step's first change of state to the end of its bookkeeping
    try:
        with StopSignals() as signals:
            stop, running = _steps(loop, bar, on_step, signals, clean)
    except KeyboardInterrupt:
        bar.close()
        if clean[0]:
            _save_last(loop)
        raise
    bar.close()
    if not p["history"] or p["history"][-1]["step"] != p["step"]:
        _validate(loop, running if running is not None else float("nan"))
    _save_last(loop)
    return stop


def _steps(loop: _Loop, bar, on_step, signals: StopSignals, clean: list) -> tuple[str, float | None]:
    """The loop itself: step, progress line, validation and checkpoint when due; returns the stop
    reason and the running training loss. A stop signal is honoured between steps only."""
    p, cfg = loop.p, loop.cfg
    running, t_last = None, time.perf_counter()
    while (stop := _stop_reason(loop)) is None:
        clean[0] = False
        t0 = time.perf_counter()
        loss, n_chars = _train_step(loop, cfg.precision)
        t1 = time.perf_counter()
        p["train_time"] += t1 - t0
        p["train_chars"] += n_chars
        running = loss if running is None else 0.95 * running + 0.05 * loss
        bar.update(1)
        if p["step"] % 10 == 0:
            left = (loop.total_steps() - p["step"]) * p["elapsed"] / max(p["step"], 1)
            if loop.max_seconds and p["planned_steps"] is None:
                left = min(left, loop.max_seconds - p["elapsed"])
            bar.set_postfix(
                loss=f"{running:.3f}",
                chars_s=f"{p['train_chars'] / max(p['train_time'], 1e-9):,.0f}",
                best=f"{p['best']['val_loss']:.3f}" if p["best"]["step"] else "-",
                eta=time.strftime("%H:%M:%S", time.gmtime(max(0.0, left))),
            )
        planning = bool(loop.max_seconds) and p["planned_steps"] is None and p["step"] == cfg.warmup_steps
        validating = p["step"] % cfg.eval_every == 0 or planning
        if validating:
            _validate(loop, running)  # counts against --max-minutes (wall clock), not chars/s
        now = time.perf_counter()
        p["elapsed"] = loop.group.agree(p["elapsed"] + now - t_last)  # rank 0's clock decides
        t_last = now
        if validating:
            if planning:
                _plan_steps(loop, bar)
            _save_last(loop)
        clean[0] = True
        if on_step is not None:
            on_step(p["step"])
        if loop.group.agree(signals.requested is not None):  # every rank stops after the same step
            raise Interrupted(signals.requested or "SIGINT")
    return stop, running


def _plan_steps(loop: _Loop, bar) -> None:
    """Once, at the end of the warm-up (just validated, so its cost counts): how many steps the
    time budget holds at the speed so far."""
    p = loop.p
    p["planned_steps"] = max(p["step"] + 1, int(p["step"] * loop.max_seconds / max(p["elapsed"], 1e-9)))
    bar.total = loop.total_steps()
    bar.refresh()


def train_lm(
    corpus: LMCorpus,
    cfg: LMTrainConfig,
    run_dir: str | Path,
    resume: bool = False,
    show_progress: bool | None = None,
    on_step=None,
    group: Group = Group(),
) -> dict:
    """Train (or resume) a CharRNN on `corpus`, writing checkpoints and metrics into `run_dir`.

    on_step(step) is called after each optimizer step (tests use it to simulate Ctrl-C). group:
    this process's place in a data-parallel job (seqlab.distributed; default: one process).
    Returns the final metrics dict (also written to RUN/metrics.json by rank 0).
    """
    cfg = cfg.resolved()
    run = Path(run_dir)
    if group.is_main:
        run.mkdir(parents=True, exist_ok=True)
    loop = _start(corpus, cfg, run, resume, group)
    n_params = sum(q.numel() for q in loop.state.model.parameters())
    try:
        stop = _fit(loop, show_progress, on_step)
    except KeyboardInterrupt:
        _write_metrics(loop, n_params, "interrupted", plot=False)  # exit promptly; resume draws the curve
        raise
    return _write_metrics(loop, n_params, stop)


def _write_metrics(loop: _Loop, n_params: int, stop_reason, plot: bool = True) -> dict:
    p, run = loop.p, loop.run
    val = p["best"]["val_loss"]
    metrics = {
        "val_loss": val,
        "val_bpc": val / math.log(2),
        "best_step": p["best"]["step"],
        "train_chars_per_sec": p["train_chars"] / max(p["train_time"], 1e-9),
        "steps": p["step"],
        "seconds": round(p["elapsed"], 2),
        "params": n_params,
        "stop_reason": stop_reason,
        "train_chars": p["train_chars"],
        "planned_steps": p["planned_steps"],
        "world_size": loop.group.world_size,
        "global_batch_size": loop.state.batcher.batch_size,
        "device": loop.cfg.device,
        "preset": loop.cfg.preset,
    }
    if not loop.group.is_main:
        return metrics
    write_json_atomic(run / "metrics.json", metrics)
    if p["history"] and plot:
        from seqlab.charlm.plot import plot_loss_curve

        plot_loss_curve(p["history"], run / "loss.png")
    return metrics
