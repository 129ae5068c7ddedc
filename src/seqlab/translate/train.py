"""The attention translator's training loop: one explicit loop, checkpoints, early stopping.

    data = load_pair_data(path, reverse=True, prefix_filter=True)     # seqlab.translate.data
    metrics = train_translator(data, TrainConfig(attention="additive"), "runs/fr-en")

Training: Adam with a cosine learning-rate decay over the time budget (so a 5-minute and a
15-minute run both end annealed; with `max_epochs` set, the decay follows the steps of those epochs
instead, so the run repeats exactly whatever the machine load), label-smoothed cross-entropy,
gradient-norm clipping, teacher forcing ratio, batches of similar source length. After every epoch
the validation loss (plain cross-entropy per target word, teacher forced) is measured; the best
model so far is written to RUN/model.pt (seqlab.translate.run_files, atomically) and training stops
early after `patience` epochs without improvement, at `max_epochs`, or when `max_minutes` is spent.
Ctrl-C stops training, keeps the best checkpoint and still evaluates. Test BLEU (sacreBLEU, 13a
tokenisation, on the normalised lowercase text) is then measured with the best model and the
default decoder, held in memory since its epoch (seqlab.translate.scoring), as is the tuning of its
length exponent.
"""

from __future__ import annotations

import copy
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from seqlab.batching import bucket_batches
from seqlab.checkpoint import rng_state, set_rng_state
from seqlab.distributed import Group, wrap
from seqlab.ema import WeightEMA
from seqlab.errors import SeqlabError
from seqlab.models.seq2seq import Seq2Seq, Seq2SeqConfig
from seqlab.runtime import progress, resolve_device, seed_everything
from seqlab.training import RunState, StopSignals, autocast, cosine_lr, resolve_precision
from seqlab.translate.config import TrainConfig
from seqlab.translate.data import PAD_ID, SPECIALS, UNK_ID, PairData, build_vocab, collate, encode_pairs
from seqlab.translate.run_files import (
    build_model,
    read_model,
    read_train_state,
    save_model,
    save_train_state,
    write_metrics,
)
from seqlab.translate.scoring import bleu, tune_alpha
from seqlab.vocab import Vocab

VALID_BLEU_PAIRS = 2000  # validation pairs decoded (greedy) per epoch for select="bleu"


def drop_words(ids: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """Word dropout: each real word (not padding or a special token) becomes <unk> with probability p."""
    drop = (torch.rand(ids.shape, generator=gen) < p) & (ids >= len(SPECIALS))
    return ids.masked_fill(drop, UNK_ID)


def source_lengths(encoded) -> list[int]:
    return [len(s) for s, _ in encoded]


def evaluate_loss(model: Seq2Seq, encoded, batch_size: int = 256) -> float:
    """Mean cross-entropy per target word (incl. <eos>), teacher forced, dropout off."""
    model.eval()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    with torch.no_grad():
        for idx in bucket_batches(source_lengths(encoded), batch_size):
            src, lens, tgt_in, tgt_out = (t.to(device) for t in collate(encoded, idx.tolist()))
            logits, _ = model(src, lens, tgt_in)
            total += float(
                F.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]),
                    tgt_out.reshape(-1),
                    ignore_index=PAD_ID,
                    reduction="sum",
                )
            )
            count += int((tgt_out != PAD_ID).sum())
    return total / max(count, 1)


# ------------------------------------------------------------------------------------ prepare


@dataclass
class Prepared:
    """Everything a run needs before its first step: checked settings, vocabularies, id pairs."""

    data: PairData
    cfg: TrainConfig
    out: Path
    src_vocab: Vocab
    tgt_vocab: Vocab
    train_enc: list
    valid_enc: list
    max_len: int
    model_cfg: Seq2SeqConfig
    precision: str
    info: dict = field(default_factory=dict)
    group: Group = field(default_factory=Group)  # this process's place in a data-parallel job
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))


def prepare(
    data: PairData,
    cfg: TrainConfig,
    out_dir: str | os.PathLike,
    data_info: dict | None = None,
    max_len: int | None = None,
    group: Group = Group(),
    device: str = "auto",
) -> Prepared:
    """Build the vocabularies (from the training pairs only) and encode; cfg: settings already
    validated (train_translator and seqlab.translate.run check them once, on entry).

    data_info: provenance stored in the checkpoint and metrics (file, direction, filters).
    max_len: the source length limit recorded for later translation (default: longest source seen).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SeqlabError(f"output path exists and is not a directory: {out}")
    src_vocab = build_vocab([s for s, _ in data.train], cfg.min_count)
    tgt_vocab = build_vocab([t for _, t in data.train], cfg.min_count)
    longest = max(len(s) for s, _ in data.train + data.valid + data.test)
    max_len = max_len or longest
    info = {
        **(data_info or {}),
        "max_len": max_len,
        "n_train": len(data.train),
        "n_valid": len(data.valid),
        "n_test": len(data.test),
        "src_vocab_size": len(src_vocab),
        "tgt_vocab_size": len(tgt_vocab),
    }
    dev = resolve_device(device)
    return Prepared(
        data,
        cfg,
        out,
        src_vocab,
        tgt_vocab,
        encode_pairs(data.train, src_vocab, tgt_vocab),
        encode_pairs(data.valid, src_vocab, tgt_vocab),
        max_len,
        cfg.model_config(len(src_vocab), len(tgt_vocab), max(max_len, longest)),
        resolve_precision(cfg.precision, dev),
        info,
        group,
        dev,
    )


def _save_best(prep: Prepared, model: Seq2Seq, progress_: dict, val: float) -> dict | None:
    """RUN/model.pt (rank 0): the weights with the vocabularies, settings and the held-out test split.
    Returns what it wrote, with a copy of the weights (training goes on), for `finish` to score in
    memory; None on the other ranks."""
    cfg = prep.cfg
    if not prep.group.is_main:
        return None
    payload = {
        "test_pairs": [[" ".join(s), " ".join(t)] for s, t in prep.data.test],
        "model": copy.deepcopy(model.state_dict()),  # deepcopy keeps tied weights one tensor
        "model_config": prep.model_cfg.to_dict(),
        "train_config": asdict(cfg),
        "src_vocab": prep.src_vocab.to_dict(),
        "tgt_vocab": prep.tgt_vocab.to_dict(),
        "info": {
            **prep.info,
            "beam": cfg.beam,
            "alpha": cfg.alpha,
            "backoff": cfg.backoff,
            "epoch": progress_["epoch"],
            "step": progress_["step"],
            "val_loss": val,
        },
    }
    save_model(prep.out, payload)
    return payload


# ------------------------------------------------------------------------------------ fit


def _train_epoch(
    prep: Prepared,
    state: RunState,
    net: torch.nn.Module,
    aux: torch.Generator,
    t0: float,
    show_progress: bool | None,
) -> tuple[float, int, bool]:
    """One pass over shuffled length buckets, stopping early when the time budget is spent.
    Every rank draws the same global batches and trains on its block of rows (net: the model or
    DDP around it; aux: this rank's generator for teacher forcing). Returns (summed loss of the
    global batches, their target words, out of time)."""
    cfg, g, p = prep.cfg, prep.group, state.progress
    model, opt, gen = state.model, state.optimizer, state.generator
    budget = cfg.max_minutes * 60.0
    batches = bucket_batches(source_lengths(prep.train_enc), cfg.batch_size, gen, pool=50)
    bar = progress(
        len(batches),
        desc=f"epoch {p['epoch'] + 1}",
        unit="batch",
        enabled=show_progress if g.is_main else False,
    )
    total, words = 0.0, 0
    model.train()
    try:
        for idx in batches:
            frac = g.agree((time.perf_counter() - t0) / budget)  # rank 0's clock decides
            if frac >= 1.0:
                return total, words, True
            if cfg.max_epochs is not None:  # a step-based decay: repeatable, whatever the machine load
                frac = p["step"] / (cfg.max_epochs * len(batches))
            for group in opt.param_groups:
                group["lr"] = cosine_lr(cfg.lr, frac, cfg.min_lr_frac)
            src, lens, tgt_in, tgt_out = collate(prep.train_enc, idx.tolist())  # the global batch
            if cfg.word_dropout > 0:
                src = drop_words(src, cfg.word_dropout, gen)  # drawn for the global batch
            rows = g.shard(len(idx))
            src, lens, tgt_in, tgt_out = (t[rows].to(prep.device) for t in (src, lens, tgt_in, tgt_out))
            with autocast(prep.precision, prep.device):
                logits, _ = net(src, lens, tgt_in, cfg.teacher_forcing, aux)  # (B/N, T, V)
            loss_sum = F.cross_entropy(
                logits.float().reshape(-1, logits.shape[-1]),
                tgt_out.reshape(-1),
                ignore_index=PAD_ID,
                label_smoothing=cfg.label_smoothing,
                reduction="sum",
            )
            n, batch_loss = g.totals(int((tgt_out != PAD_ID).sum()), float(loss_sum.detach()))
            opt.zero_grad(set_to_none=True)
            (loss_sum * (g.world_size / max(n, 1.0))).backward()  # DDP's mean = the global mean's gradient
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            p["step"] += 1
            if state.ema is not None:
                state.ema.update()
            total += batch_loss
            words += int(n)
            bar.update(1)
            bar.set_postfix(
                loss=f"{total / max(words, 1):.3f}",
                lr=f"{opt.param_groups[0]['lr']:.1e}",
                left=f"{max(0.0, budget - (time.perf_counter() - t0)) / 60:.1f}m",
            )
    finally:
        bar.close()
    return total, words, False


def _validate(prep: Prepared, state: RunState, train_loss: float, t0: float) -> dict | None:
    """Validation loss (and greedy BLEU for select="bleu") of the (averaged) weights; keep the best
    (returns _save_best's payload when this epoch is the best so far, else None)."""
    cfg, model, p = prep.cfg, state.model, state.progress
    if state.ema is not None:
        state.ema.swap()  # validate (and save) the averaged weights
    kept = None
    try:
        val, vbleu = 0.0, 0.0
        if prep.group.is_main:  # rank 0 validates, the others wait for its numbers
            val = evaluate_loss(model, prep.valid_enc)
            if cfg.select == "bleu":  # the current weights, greedy, as Translator decodes
                vbleu = bleu(
                    model,
                    prep.data.valid[:VALID_BLEU_PAIRS],
                    prep.src_vocab,
                    prep.tgt_vocab,
                    prep.max_len,
                    beam=1,
                    backoff=cfg.backoff,
                )[0]
        val, vbleu = prep.group.agree(val), prep.group.agree(vbleu)
        vbleu = vbleu if cfg.select == "bleu" else None
        p["history"].append(
            {
                "epoch": p["epoch"],
                "step": p["step"],
                "train_loss": train_loss,
                "val_loss": val,
                "val_bleu": vbleu,
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
        score = vbleu if cfg.select == "bleu" else -val
        if score > p["best_score"]:
            p.update(best_score=score, best_val=val, best_bleu=vbleu, best_epoch=p["epoch"], bad_epochs=0)
            kept = _save_best(prep, model, p, val)
        else:
            p["bad_epochs"] += 1
    finally:
        if state.ema is not None:
            state.ema.swap()
    return kept


def _save_last(prep: Prepared, state: RunState, aux: torch.Generator, t0: float) -> None:
    """RUN/last.pt (rank 0), with every rank's own RNG states (dropout, teacher forcing)."""
    g = prep.group
    state.progress["elapsed"] = g.agree(time.perf_counter() - t0)
    ranks = g.gather({"rng": rng_state(), "aux_rng": aux.get_state()})
    if g.is_main:
        save_train_state(
            prep.out,
            {
                **state.state_dict(),
                "model_config": prep.model_cfg.to_dict(),
                "train_config": asdict(prep.cfg),
                "info": prep.info,
                "world_size": g.world_size,
                "ranks": ranks,
            },
        )
    g.barrier()  # no rank reads last.pt (to resume) before rank 0 has written it


def fit(prep: Prepared, show_progress: bool | None = None, resume: bool = False) -> tuple[dict, dict | None]:
    """The training loop: epochs until the budget, max_epochs or early stopping; RUN/model.pt holds
    the best epoch, RUN/last.pt the full state after every epoch (resume=True continues from it as
    if never stopped: the same data and settings are needed). Ctrl-C keeps the best model.
    Returns the run's progress counters and its stop reason, and (rank 0) the best epoch's model.pt
    payload held in memory (None when that epoch came before a resume: it is on disk only)."""
    cfg, g = prep.cfg, prep.group
    seed_everything(cfg.seed)
    model = Seq2Seq(prep.model_cfg).to(prep.device)
    aux = torch.Generator().manual_seed(cfg.seed + 7919 * (g.rank + 1))  # this rank's teacher-forcing draws
    state = RunState(
        model,
        torch.optim.Adam(model.parameters(), lr=cfg.lr),
        torch.Generator().manual_seed(cfg.seed),
        ema=WeightEMA(model, cfg.ema, warmup=True) if cfg.ema > 0 else None,
        progress={
            "epoch": 0,
            "step": 0,
            "best_val": float("inf"),
            "best_score": float("-inf"),
            "best_bleu": None,
            "best_epoch": 0,
            "bad_epochs": 0,
            "history": [],
            "elapsed": 0.0,
        },
    )
    t0 = time.perf_counter()
    if resume:
        ck = read_train_state(prep.out, prep.model_cfg.to_dict(), g.world_size)
        state.load_state_dict(ck)
        if ck.get("ranks"):
            set_rng_state(ck["ranks"][g.rank]["rng"])
            aux.set_state(ck["ranks"][g.rank]["aux_rng"])
        t0 -= state.progress["elapsed"]  # the time budget and the LR schedule go on where they were
    net = wrap(model, g)
    p = state.progress
    best = None
    max_epochs = cfg.max_epochs if cfg.max_epochs is not None else 10**9
    stop_reason = "early_stopping" if p["bad_epochs"] >= cfg.patience else "max_epochs"
    try:  # Ctrl-C or SIGTERM: last.pt stays at the last whole epoch; the best model is still scored
        with StopSignals(deferred=False):
            while stop_reason == "max_epochs" and p["epoch"] < max_epochs:
                total, words, out_of_time = _train_epoch(prep, state, net, aux, t0, show_progress)
                if words == 0:  # the budget ran out before this epoch's first batch
                    stop_reason = "time"
                    break
                p["epoch"] += 1
                best = _validate(prep, state, total / words, t0) or best
                _save_last(prep, state, aux, t0)
                if out_of_time:
                    stop_reason = "time"
                elif p["bad_epochs"] >= cfg.patience:
                    stop_reason = "early_stopping"
    except KeyboardInterrupt:
        stop_reason = "interrupted"
    if p["best_epoch"] == 0:  # nothing saved yet: keep what we have
        p["best_val"] = evaluate_loss(model, prep.valid_enc) if g.is_main else 0.0
        best = _save_best(prep, model, p, p["best_val"])
    return {
        **p,
        "seconds": time.perf_counter() - t0,
        "stop_reason": stop_reason,
        "params": sum(q.numel() for q in model.parameters()),
    }, best


# ------------------------------------------------------------------------------------ finish


def finish(prep: Prepared, fitted: dict, best: dict | None) -> dict:
    """Test BLEU of the best model (`best`: fit's payload; read from RUN/model.pt only when fit
    does not hold that epoch) with the default decoder, after tuning its length exponent on the
    validation pairs if asked -- in memory, then RUN/model.pt is written once more, with it.
    Rank 0 writes RUN/metrics.json and every rank returns it."""
    if not prep.group.is_main:
        return prep.group.share(None)
    cfg = prep.cfg
    if best is None or best["info"]["epoch"] != fitted["best_epoch"]:  # kept before a resume (or Ctrl-C
        best = read_model(prep.out)  # between saving and keeping it)
    model = build_model(best)  # on the CPU, as Translator.load would give it
    t1 = time.perf_counter()
    alpha = cfg.alpha

    def bleu_on(pairs, alpha_):
        return bleu(
            model, pairs, prep.src_vocab, prep.tgt_vocab, prep.max_len, cfg.beam, alpha_, cfg.backoff
        )[0]

    if cfg.tune_alpha and fitted["stop_reason"] != "interrupted":
        alpha, _ = tune_alpha(lambda a: bleu_on(prep.data.valid, a))
        best["info"]["alpha"] = alpha
        save_model(prep.out, best)
    test_bleu = bleu_on(prep.data.test, alpha)
    metrics = write_metrics(
        prep.out,
        cfg,
        val_loss=fitted["best_val"],
        val_bleu=fitted["best_bleu"],
        bleu=test_bleu,
        precision=prep.precision,
        device=str(prep.device),
        seconds=fitted["seconds"],
        eval_seconds=time.perf_counter() - t1,
        best_epoch=fitted["best_epoch"],
        epochs=fitted["epoch"],
        steps=fitted["step"],
        stop_reason=fitted["stop_reason"],
        params=fitted["params"],
        data=prep.info,
        history=fitted["history"],
        world_size=prep.group.world_size,
        global_batch_size=cfg.batch_size,
    )
    return prep.group.share(metrics)


def train_translator(
    data: PairData,
    cfg: TrainConfig,
    out_dir: str | os.PathLike,
    data_info: dict | None = None,
    show_progress: bool | None = None,
    max_len: int | None = None,
    resume: bool = False,
    group: Group = Group(),
    device: str = "auto",
) -> dict:
    """One model: validate the settings, prepare, fit, finish. Returns the metrics (also in
    RUN/metrics.json). (seqlab.translate.run trains run directories and ensembles.)"""
    prep = prepare(data, cfg.validate(), out_dir, data_info, max_len, group, device)
    fitted, best = fit(prep, show_progress, resume)
    return finish(prep, fitted, best)
