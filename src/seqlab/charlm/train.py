"""The character-level language-model training loop: one explicit loop, no framework.

AdamW with gradient clipping, warm-up then cosine decay of the learning rate over whichever
budget ends first (steps, minutes or epochs), validation every `eval_every` steps with early
stopping, the best weights kept in RUN/model.pt and the full training state in RUN/last.pt so
`resume=True` continues the optimizer, step, data order and RNG states exactly.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F

from seqlab.charlm import data as lmdata
from seqlab.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from seqlab.ema import WeightEMA
from seqlab.errors import SeqlabError
from seqlab.files import write_json_atomic
from seqlab.charlm.config import MODE_DEFAULTS, LMTrainConfig  # noqa: F401  (re-exported for callers)
from seqlab.charlm.corpus import LMCorpus
from seqlab.models.rnn import CharRNN, CharRNNConfig, detach_state
from seqlab.runtime import progress

def model_config(cfg: LMTrainConfig, corpus: LMCorpus) -> CharRNNConfig:
    return CharRNNConfig(vocab_size=len(corpus.vocab), cell=cfg.cell, impl=cfg.impl, embed_size=cfg.embed,
                         hidden_size=cfg.hidden, num_layers=cfg.layers, dropout=cfg.dropout,
                         num_categories=len(corpus.categories))


def lr_at(cfg: LMTrainConfig, step: int, progress_frac: float) -> float:
    """Linear warm-up for `warmup_steps`, then cosine from lr to lr*min_lr_ratio over the budget."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if cfg.schedule == "constant":
        return cfg.lr
    p = min(1.0, max(0.0, progress_frac))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * p)))


@torch.no_grad()
def evaluate(model: CharRNN, corpus_mode: str, data, categories=None, batch_size: int = 64,
             seq_len: int = 256, context: torch.Tensor | None = None, warm: int = 256) -> tuple[float, int]:
    """Summed negative log-likelihood (nats) and the number of predicted characters.

    stream: the text folded into columns, hidden state carried down each column. With `context`
    (the text just before `data`, e.g. the training part) of more than `warm` characters, each
    column's state is first warmed on the `warm` characters that precede it, so every character
    is scored once, given real history: -log P(x_t | x_<t) as a single stream would have it.
    Without context, each column starts from a zero state and its first character is not scored.
    lines: every character and the end marker of each line.
    """
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        if corpus_mode == "stream" and context is not None and len(context) > warm and len(data) >= 2:
            text = torch.cat([context[-(warm + 1):], data])             # warm+1 chars of history, then data
            B = max(1, min(batch_size, len(data) // max(warm, seq_len)))
            rows = len(data) // B
            starts = (warm + 1) + torch.arange(B) * rows                 # first scored char of each column
            seqs = text[starts[:, None] - (warm + 1) + torch.arange(warm + rows)[None, :]]   # (B, warm+rows)
            _, state = model(seqs[:, :warm], None)                       # history only: nothing scored
            for r in range(warm, warm + rows, seq_len):
                x = seqs[:, r: r + seq_len]                              # input x_{t-1} ...
                y = text[(starts[:, None] + (r - warm) + torch.arange(x.shape[1])[None, :])]  # ... target x_t
                logits, state = model(x, state)
                total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
                count += y.numel()
        elif corpus_mode == "stream":
            cols = lmdata.fold_columns(data, max(1, min(batch_size, len(data) // (seq_len + 1) or 1)))  # (R, B)
            state = None
            for r in range(0, cols.shape[0] - 1, seq_len):
                chunk = cols[r: r + seq_len + 1]
                x, y = chunk[:-1].t(), chunk[1:].t()
                logits, state = model(x, state)
                total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
                count += y.numel()
        else:
            for i in range(0, len(data), batch_size):
                x, y = lmdata.pad_lines(data[i: i + batch_size])
                cats = categories[i: i + batch_size] if categories is not None else None
                logits, _ = model(x, None, cats)
                total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                         ignore_index=lmdata.IGNORE, reduction="sum").item()
                count += int((y != lmdata.IGNORE).sum())
    finally:
        model.train(was_training)
    return total, count


def save_model(path: Path, model: CharRNN, corpus: LMCorpus, cfg: LMTrainConfig, extra: dict) -> None:
    """The inference checkpoint: weights, vocabulary, categories, model and training config."""
    save_checkpoint(path, "charlm", {
        "model": model.state_dict(), "model_config": model.config.to_dict(), "train_config": asdict(cfg),
        "vocab": corpus.vocab.to_dict(), "mode": corpus.mode, "categories": list(corpus.categories),
        "train_lines": list(corpus.train_lines), **extra,
    })


def load_model(run_dir: str | Path) -> tuple[CharRNN, dict]:
    """Load RUN/model.pt (or a checkpoint file) for sampling and evaluation."""
    p = Path(run_dir)
    path = p / "model.pt" if p.is_dir() else p
    if p.is_dir() and not path.exists():
        raise SeqlabError(f"{p} is not a trained run (no model.pt inside)")
    ck = load_checkpoint(path, kind="charlm")
    try:
        model = CharRNN(CharRNNConfig(**ck["model_config"]))
        model.load_state_dict(ck["model"])
    except (KeyError, TypeError, RuntimeError) as e:
        raise SeqlabError(f"checkpoint {path} does not match its model config: {str(e).splitlines()[0][:120]}") from None
    model.eval()
    return model, ck


def train_lm(corpus: LMCorpus, cfg: LMTrainConfig, run_dir: str | Path, resume: bool = False,
             show_progress: bool | None = None, on_step=None) -> dict:
    """Train (or resume) a CharRNN on `corpus`, writing checkpoints and metrics into `run_dir`.

    on_step(step) is called after each optimizer step (tests use it to simulate Ctrl-C).
    Returns the final metrics dict (also written to RUN/metrics.json).
    """
    cfg = cfg.resolved()
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    model = CharRNN(model_config(cfg, corpus))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
    gen = torch.Generator().manual_seed(cfg.seed)
    if corpus.mode == "stream":
        batcher = lmdata.StreamBatcher(corpus.train, cfg.batch_size, cfg.seq_len, cfg.windows == "sequential")
        if len(corpus.val) < 2:
            raise SeqlabError("text is too short to hold out a validation part; use a longer file")
    else:
        batcher = lmdata.LineBatcher(corpus.train, corpus.train_categories, cfg.batch_size)
    n_params = sum(p.numel() for p in model.parameters())

    step, elapsed, train_time, train_chars = 0, 0.0, 0.0, 0
    best = {"val_loss": float("inf"), "step": 0}
    bad_evals, history, state = 0, [], None
    ema = WeightEMA(model, cfg.ema) if cfg.ema > 0 else None
    if resume:
        ck = load_checkpoint(run / "last.pt", kind="charlm-train")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        gen.set_state(ck["data_rng"])
        batcher.load_state_dict(ck["batcher"])
        set_rng_state(ck["rng"])
        step, elapsed, train_time, train_chars = ck["step"], ck["elapsed"], ck["train_time"], ck["train_chars"]
        best, bad_evals, history, state = ck["best"], ck["bad_evals"], ck["history"], ck["state"]
        if ema is not None:
            for s_, v in zip(ema.shadow, ck["ema"]):
                s_.copy_(v)

    steps_per_epoch = batcher.steps_per_epoch()
    max_seconds = cfg.max_minutes * 60 if cfg.max_minutes else None
    total_steps = cfg.epochs * steps_per_epoch
    if cfg.max_steps:
        total_steps = min(total_steps, cfg.max_steps)

    def budget_fraction() -> float:
        fr = step / total_steps
        if max_seconds:
            fr = max(fr, elapsed / max_seconds)
        return fr

    def save_last() -> None:
        save_checkpoint(run / "last.pt", "charlm-train", {
            "model": model.state_dict(), "optimizer": opt.state_dict(), "data_rng": gen.get_state(),
            "batcher": batcher.state_dict(), "rng": rng_state(), "step": step, "elapsed": elapsed,
            "train_time": train_time, "train_chars": train_chars, "best": best, "bad_evals": bad_evals,
            "history": history, "state": detach_state(state), "train_config": asdict(cfg),
            "ema": list(ema.shadow) if ema is not None else [],
        })

    def run_eval(last_loss: float) -> None:
        nonlocal bad_evals
        if ema is not None:
            ema.swap()                                         # validate (and keep) the averaged weights
        try:
            _eval_and_keep(last_loss)
        finally:
            if ema is not None:
                ema.swap()

    def _eval_and_keep(last_loss: float) -> None:
        nonlocal bad_evals
        context = corpus.train if corpus.mode == "stream" else None     # validation text continues the training text
        nll, n = evaluate(model, corpus.mode, corpus.val, corpus.val_categories, context=context)
        val_loss = nll / max(n, 1)
        rec = {"step": step, "epoch": round(step / steps_per_epoch, 3), "seconds": round(elapsed, 2),
               "train_loss": round(last_loss, 5), "val_loss": round(val_loss, 5),
               "lr": round(lr_at(cfg, step, budget_fraction()), 7)}
        history.append(rec)
        with open(run / "metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
        if val_loss < best["val_loss"]:
            best.update(val_loss=val_loss, step=step)
            bad_evals = 0
            save_model(run / "model.pt", model, corpus, cfg, {"step": step, "val_loss": val_loss})
        else:
            bad_evals += 1

    # bf16 autocast: matrix products in bfloat16 (about 1.5x faster on CPUs with AVX512-BF16), weights,
    # optimizer and loss in fp32; validation always runs in fp32.
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.precision == "bf16")
    stop_reason = None
    bar = progress(total=total_steps, desc="train", unit="step", enabled=show_progress)
    bar.update(step)
    model.train()
    t_last = time.perf_counter()
    running = None
    try:
        while stop_reason is None:
            if step >= total_steps:
                stop_reason = "max_steps" if cfg.max_steps and step >= cfg.max_steps else "epochs"
                break
            if max_seconds and elapsed >= max_seconds:
                stop_reason = "max_minutes"
                break
            if bad_evals >= cfg.patience:
                stop_reason = "early_stopping"
                break
            t0 = time.perf_counter()
            for group in opt.param_groups:
                group["lr"] = lr_at(cfg, step, budget_fraction())
            if corpus.mode == "stream":
                x, y, reset = batcher.next(gen)
                if reset:
                    state = None
                with autocast:
                    logits, state = model(x, state)                    # (B, T, V)
                state = detach_state(state, torch.float32)
                loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))
                n_chars = y.numel()
            else:
                x, y, cats = batcher.next(gen)
                with autocast:
                    logits, _ = model(x, None, cats)
                loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1),
                                       ignore_index=lmdata.IGNORE)
                n_chars = int((y != lmdata.IGNORE).sum())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            if ema is not None:
                ema.update()
            step += 1
            t1 = time.perf_counter()
            train_time += t1 - t0
            train_chars += n_chars
            running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
            bar.update(1)
            if step % 10 == 0:
                left = (total_steps - step) * elapsed / max(step, 1)    # by steps, then capped by the clock
                if max_seconds:
                    left = min(left, max_seconds - elapsed)
                bar.set_postfix(loss=f"{running:.3f}", chars_s=f"{train_chars / max(train_time, 1e-9):,.0f}",
                                best=f"{best['val_loss']:.3f}" if best["step"] else "-",
                                eta=time.strftime("%H:%M:%S", time.gmtime(max(0.0, left))))
            if step % cfg.eval_every == 0:
                run_eval(running)             # counts against --max-minutes (wall clock), not chars/s
                save_last()
            if on_step is not None:
                on_step(step)
            now = time.perf_counter()
            elapsed += now - t_last
            t_last = now
    except KeyboardInterrupt:
        bar.close()
        save_last()
        _write_metrics(run, best, step, elapsed, train_chars, train_time, n_params, "interrupted", history,
                       plot=False)                 # exit promptly; the resumed run draws the curve
        raise
    bar.close()
    if not history or history[-1]["step"] != step:
        run_eval(running if running is not None else float("nan"))
    save_last()
    return _write_metrics(run, best, step, elapsed, train_chars, train_time, n_params, stop_reason, history)


def _write_metrics(run: Path, best: dict, step: int, elapsed: float, train_chars: int, train_time: float,
                   n_params: int, stop_reason, history: list, plot: bool = True) -> dict:
    val = best["val_loss"]
    metrics = {
        "val_loss": val, "val_bpc": val / math.log(2), "best_step": best["step"],
        "train_chars_per_sec": train_chars / max(train_time, 1e-9), "steps": step,
        "seconds": round(elapsed, 2), "params": n_params, "stop_reason": stop_reason,
        "train_chars": train_chars,
    }
    write_json_atomic(run / "metrics.json", metrics)
    if history and plot:
        from seqlab.charlm.plot import plot_loss_curve

        plot_loss_curve(history, run / "loss.png")
    return metrics
