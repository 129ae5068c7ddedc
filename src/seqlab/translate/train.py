"""The attention translator's training loop: one explicit loop, checkpoints, early stopping.

    data = load_pair_data(path, reverse=True, prefix_filter=True)     # seqlab.translate.data
    result = train(data, TrainConfig(attention="additive"), "runs/fr-en")

Training: Adam with a cosine learning-rate decay over the time budget (so a 5-minute and a
15-minute run both end annealed; with `max_epochs` set, the decay follows the steps of those
epochs instead, so the run repeats exactly whatever the machine load), label-smoothed cross-entropy, gradient-norm clipping, teacher
forcing ratio, batches of similar source length. After every epoch the validation loss (plain
cross-entropy per target word, teacher forced) is measured; the best model so far is written to
RUN/model.pt (atomically, via seqlab.checkpoint) and training stops early after `patience`
epochs without improvement, at `max_epochs`, or when `max_minutes` is spent. Ctrl-C stops
training, keeps the best checkpoint and still evaluates. Test BLEU (sacreBLEU, 13a tokenisation,
on the normalised lowercase text) is then measured with the best model and the default decoder.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from seqlab.checkpoint import (load_checkpoint, pack_numpy_state, rng_state, save_checkpoint, set_rng_state,
                               unpack_numpy_state)
from seqlab.ema import WeightEMA
from seqlab.errors import SeqlabError
from seqlab.files import write_json_atomic
from seqlab.models.ensemble import Ensemble
from seqlab.models.seq2seq import Seq2Seq
from seqlab.runtime import progress, seed_everything
from seqlab.translate.config import TrainConfig
from seqlab.translate.data import (PAD_ID, SPECIALS, UNK_ID, PairData, build_vocab, collate, encode_pairs,
                                   make_batches)
from seqlab.translate.translator import CHECKPOINT_KIND, CHECKPOINT_NAME, Translator, corpus_bleu  # noqa: F401
from seqlab.vocab import Vocab

TRAIN_STATE_KIND = "translate-train"   # RUN/last.pt: everything --resume needs, written every epoch
TRAIN_STATE_NAME = "last.pt"
METRICS_NAME = "metrics.json"


def lr_at(cfg: TrainConfig, frac: float) -> float:
    """Cosine decay from cfg.lr to cfg.lr * min_lr_frac as `frac` of the time budget goes by."""
    frac = min(max(frac, 0.0), 1.0)
    lo = cfg.lr * cfg.min_lr_frac
    return lo + (cfg.lr - lo) * 0.5 * (1.0 + math.cos(math.pi * frac))


def drop_words(ids: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """Word dropout: each real word (not padding or a special token) becomes <unk> with probability p."""
    drop = (torch.rand(ids.shape, generator=gen) < p) & (ids >= len(SPECIALS))
    return ids.masked_fill(drop, UNK_ID)


def evaluate_loss(model: Seq2Seq, encoded, batch_size: int = 256) -> float:
    """Mean cross-entropy per target word (incl. <eos>), teacher forced, dropout off."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for idx in make_batches(encoded, batch_size):
            src, lens, tgt_in, tgt_out = collate(encoded, idx)
            logits, _ = model(src, lens, tgt_in)
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                                           ignore_index=PAD_ID, reduction="sum"))
            count += int((tgt_out != PAD_ID).sum())
    return total / max(count, 1)


VALID_BLEU_PAIRS = 2000  # validation pairs decoded (greedy) per epoch for --select bleu


def _checkpoint_payload(model, model_cfg, src_vocab, tgt_vocab, cfg, data_info, state, test) -> dict:
    return {
        "test_pairs": [[" ".join(s), " ".join(t)] for s, t in test],
        "model": model.state_dict(),
        "model_config": model_cfg.to_dict(),
        "train_config": asdict(cfg),
        "src_vocab": src_vocab.to_dict(),
        "tgt_vocab": tgt_vocab.to_dict(),
        "info": {**data_info, "beam": cfg.beam, "alpha": cfg.alpha, "backoff": cfg.backoff, **state},
    }


def train_translator(data: PairData, cfg: TrainConfig, out_dir: str | os.PathLike,
                     data_info: dict | None = None, show_progress: bool | None = None,
                     max_len: int | None = None, resume: bool = False) -> dict:
    """Train on data.train, early-stop on data.valid, write RUN/model.pt and RUN/metrics.json.

    data_info: extra provenance stored in the checkpoint and metrics (file, direction, filters).
    max_len: the source length limit recorded for later translation (default: longest source seen).
    Every epoch also writes RUN/last.pt (weights, optimizer, averages, RNG states, elapsed time);
    resume=True continues from it as if never stopped (the same data and config are needed).
    Returns the metrics dict (also written to RUN/metrics.json).
    """
    seed_everything(cfg.seed)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SeqlabError(f"output path exists and is not a directory: {out}")
    src_vocab = build_vocab([s for s, _ in data.train], cfg.min_count)
    tgt_vocab = build_vocab([t for _, t in data.train], cfg.min_count)
    train_enc = encode_pairs(data.train, src_vocab, tgt_vocab)
    valid_enc = encode_pairs(data.valid, src_vocab, tgt_vocab)
    longest = max(len(s) for s, _ in data.train + data.valid + data.test)
    max_len = max_len or longest
    if not 0.0 <= cfg.word_dropout < 1.0:
        raise SeqlabError(f"word dropout must be in [0, 1), got {cfg.word_dropout}")
    if not 0.0 <= cfg.ema < 1.0:
        raise SeqlabError(f"ema must be in [0, 1), got {cfg.ema}")
    if cfg.tie_embeddings and cfg.emb_size != cfg.hidden_size:
        raise SeqlabError(f"tied embeddings need --emb-size equal to --hidden-size, got {cfg.emb_size} "
                          f"and {cfg.hidden_size}")
    if cfg.select not in ("bleu", "loss"):
        raise SeqlabError(f"select must be bleu or loss, got {cfg.select!r}")
    precision = cfg.precision
    if precision == "auto":
        from seqlab.runtime import fast_bf16_cpu

        precision = "bf16" if fast_bf16_cpu() else "fp32"
    if precision not in ("bf16", "fp32"):
        raise SeqlabError(f"precision must be auto, bf16 or fp32, got {cfg.precision!r}")
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")
    model_cfg = cfg.model_config(len(src_vocab), len(tgt_vocab), max(max_len, longest))
    model = Seq2Seq(model_cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    ema = WeightEMA(model, cfg.ema, warmup=True) if cfg.ema > 0 else None
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.RandomState(cfg.seed)
    info = {**(data_info or {}), "max_len": max_len, "n_train": len(data.train), "n_valid": len(data.valid),
            "n_test": len(data.test), "src_vocab_size": len(src_vocab), "tgt_vocab_size": len(tgt_vocab)}
    budget = cfg.max_minutes * 60.0
    max_epochs = cfg.max_epochs if cfg.max_epochs is not None else 10**9
    best_val, best_bleu, best_score, best_epoch, bad_epochs, step, epoch = (float("inf"), None, float("-inf"),
                                                                            0, 0, 0, 0)
    history = []
    stop_reason = "max_epochs"
    t0 = time.perf_counter()
    ckpt_path = out / CHECKPOINT_NAME
    if resume:
        ck = load_checkpoint(out / TRAIN_STATE_NAME, TRAIN_STATE_KIND)
        if ck["model_config"] != model_cfg.to_dict():
            raise SeqlabError(f"{out / TRAIN_STATE_NAME} was trained with other data or model settings; "
                              "resume with the same pairs file and flags")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        if ema is not None:
            for sh, v in zip(ema.shadow, ck["ema"]):
                sh.copy_(v)
            ema.steps = ck["step"]
        gen.set_state(ck["data_rng"])
        rng.set_state(unpack_numpy_state(ck["batch_rng"]))
        set_rng_state(ck["rng"])
        (epoch, step, best_val, best_score, best_epoch, bad_epochs, history) = (
            ck["epoch"], ck["step"], ck["best_val"], ck["best_score"], ck["best_epoch"], ck["bad_epochs"],
            ck["history"])
        best_bleu = ck["best_bleu"] if ck["best_bleu"] >= 0 else None
        t0 -= ck["elapsed"]                      # the time budget and the LR schedule go on where they were

    def save_last():
        save_checkpoint(out / TRAIN_STATE_NAME, TRAIN_STATE_KIND, {
            "model": model.state_dict(), "optimizer": opt.state_dict(), "model_config": model_cfg.to_dict(),
            "ema": list(ema.shadow) if ema is not None else [], "data_rng": gen.get_state(),
            "batch_rng": pack_numpy_state(rng.get_state()), "rng": rng_state(), "epoch": epoch, "step": step,
            "best_val": best_val, "best_score": best_score, "best_epoch": best_epoch,
            "best_bleu": -1.0 if best_bleu is None else best_bleu, "bad_epochs": bad_epochs,
            "history": history, "elapsed": time.perf_counter() - t0, "train_config": asdict(cfg), "info": info})

    def save_best(val: float):
        state = {"epoch": epoch, "step": step, "val_loss": val}
        save_checkpoint(ckpt_path, CHECKPOINT_KIND,
                        _checkpoint_payload(model, model_cfg, src_vocab, tgt_vocab, cfg, info, state, data.test))

    if resume and bad_epochs >= cfg.patience:     # it had already stopped early: just evaluate again
        stop_reason, max_epochs = "early_stopping", epoch
    try:
        while epoch < max_epochs:
            model.train()
            batches = make_batches(train_enc, cfg.batch_size, rng)
            bar = progress(len(batches), desc=f"epoch {epoch + 1}", unit="batch", enabled=show_progress)
            total, words = 0.0, 0
            out_of_time = False
            for idx in batches:
                frac = (time.perf_counter() - t0) / budget if budget > 0 else 1.0
                if frac >= 1.0:
                    out_of_time = True
                    break
                if cfg.max_epochs is not None:  # a step-based decay: repeatable, whatever the machine load
                    frac = step / (cfg.max_epochs * len(batches))
                for g in opt.param_groups:
                    g["lr"] = lr_at(cfg, frac)
                src, lens, tgt_in, tgt_out = collate(train_enc, idx)
                if cfg.word_dropout > 0:
                    src = drop_words(src, cfg.word_dropout, gen)
                with autocast:
                    logits, _ = model(src, lens, tgt_in, cfg.teacher_forcing, gen)
                loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                                       ignore_index=PAD_ID, label_smoothing=cfg.label_smoothing)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
                opt.step()
                step += 1
                if ema is not None:
                    ema.update()
                n = int((tgt_out != PAD_ID).sum())
                total += float(loss.detach()) * n
                words += n
                bar.update(1)
                bar.set_postfix(loss=f"{total / max(words, 1):.3f}", lr=f"{opt.param_groups[0]['lr']:.1e}",
                                left=f"{max(0.0, budget - (time.perf_counter() - t0)) / 60:.1f}m")
            bar.close()
            if words == 0:  # the budget ran out before this epoch's first batch
                stop_reason = "time"
                break
            epoch += 1
            if ema is not None:
                ema.swap()                          # validate (and save) the averaged weights
            val = evaluate_loss(model, valid_enc)
            vbleu = None
            if cfg.select == "bleu":                # the current weights, greedy, as Translator decodes
                vbleu = Translator(model, src_vocab, tgt_vocab, max_len, backoff=cfg.backoff).bleu(data.valid[:VALID_BLEU_PAIRS], beam=1)[0]
            history.append({"epoch": epoch, "step": step, "train_loss": total / words, "val_loss": val,
                            "val_bleu": vbleu, "seconds": round(time.perf_counter() - t0, 1)})
            score = vbleu if cfg.select == "bleu" else -val
            if score > best_score:
                best_score, best_val, best_bleu, best_epoch, bad_epochs = score, val, vbleu, epoch, 0
                save_best(val)
            else:
                bad_epochs += 1
            if ema is not None:
                ema.swap()
            save_last()
            if out_of_time:
                stop_reason = "time"
                break
            if bad_epochs >= cfg.patience:
                stop_reason = "early_stopping"
                break
    except KeyboardInterrupt:
        stop_reason = "interrupted"
        if best_epoch == 0:  # nothing saved yet: keep what we have
            best_val = evaluate_loss(model, valid_enc)
            save_best(best_val)
    if best_epoch == 0 and stop_reason != "interrupted":
        best_val = evaluate_loss(model, valid_enc)
        save_best(best_val)
    seconds = time.perf_counter() - t0

    translator = Translator.load(ckpt_path)
    t1 = time.perf_counter()
    if cfg.tune_alpha and stop_reason != "interrupted":
        ck = load_checkpoint(ckpt_path, CHECKPOINT_KIND)
        ck["info"]["alpha"] = translator.tune_alpha(data.valid, cfg.beam)
        save_checkpoint(ckpt_path, CHECKPOINT_KIND, {k: v for k, v in ck.items() if k not in ("format", "version", "kind")})
    bleu, outputs = translator.bleu(data.test, cfg.beam)
    metrics = {
        "val_loss": round(best_val, 4),
        "val_bleu": None if best_bleu is None else round(best_bleu, 2),
        "bleu": round(bleu, 2),
        "precision": precision,
        "decoder": "greedy" if cfg.beam == 1 else f"beam{cfg.beam}",
        "seconds": round(seconds, 1),
        "eval_seconds": round(time.perf_counter() - t1, 1),
        "best_epoch": best_epoch,
        "epochs": epoch,
        "steps": step,
        "stop_reason": stop_reason,
        "params": sum(p.numel() for p in model.parameters()),
        "train_config": asdict(cfg),
        "data": info,
        "history": history,
    }
    write_json_atomic(out / METRICS_NAME, metrics)
    return metrics


ENSEMBLE_STATE_NAME = "ensemble.json"   # RUN/ensemble.json: config and data of an ensemble run, for --resume


def train(data: PairData, cfg: TrainConfig, out_dir: str | os.PathLike, data_info: dict | None = None,
          show_progress: bool | None = None, max_len: int | None = None, resume: bool = False) -> dict:
    """train_translator, or for cfg.ensemble = K > 1: K members in RUN/member1..K, each given an equal
    share of the time still left (one that stops early leaves its time to the next), then decoded as
    one (RUN/model.pt holds all K). Resumes member by member."""
    if cfg.ensemble < 1:
        raise SeqlabError(f"ensemble must be at least 1, got {cfg.ensemble}")
    if cfg.ensemble == 1:
        return train_translator(data, cfg, out_dir, data_info, show_progress, max_len, resume)
    out = Path(out_dir)
    K, budget = cfg.ensemble, cfg.max_minutes * 60.0
    write_json_atomic(out / ENSEMBLE_STATE_NAME, {"train_config": asdict(cfg), "info": data_info or {},
                                                  "max_len": max_len})
    results, used = [], 0.0
    for k in range(K):
        mdir = out / f"member{k + 1}"
        done = mdir / METRICS_NAME
        if resume and done.exists() and json.loads(done.read_text())["stop_reason"] != "interrupted":
            m = json.loads(done.read_text())
        else:
            mcfg = replace(cfg, ensemble=1, seed=cfg.seed + k, tune_alpha=False,   # the ensemble tunes, once
                           max_minutes=max(budget - used, 0.0) / (K - k) / 60)
            m = train_translator(data, mcfg, mdir, data_info, show_progress, max_len,
                                 resume=resume and (mdir / TRAIN_STATE_NAME).exists())
        results.append(m)
        used += m["seconds"] + m["eval_seconds"]          # its test decode comes out of the budget too
        if m["stop_reason"] == "interrupted":
            return {**m, "stop_reason": "interrupted", "members_done": k}
    first = load_checkpoint(out / "member1" / CHECKPOINT_NAME, CHECKPOINT_KIND)
    members = [Translator.load(out / f"member{k + 1}").model for k in range(K)]
    model = Ensemble(members).eval()
    src_vocab, tgt_vocab = Vocab.from_dict(first["src_vocab"]), Vocab.from_dict(first["tgt_vocab"])
    info = dict(first["info"])
    translator = Translator(model, src_vocab, tgt_vocab, int(info["max_len"]), cfg.beam, cfg.alpha, info,
                            cfg.backoff)
    alpha = translator.tune_alpha(data.valid, cfg.beam) if cfg.tune_alpha else cfg.alpha
    valid_enc = encode_pairs(data.valid, src_vocab, tgt_vocab)
    val = evaluate_loss(model, valid_enc)
    vbleu = translator.bleu(data.valid[:VALID_BLEU_PAIRS], beam=1)[0]
    state = {"members": K, "val_loss": val}
    payload = {**first, "model": model.state_dict(), "ensemble": K, "train_config": asdict(cfg),
               "info": {**info, **state, "beam": cfg.beam, "alpha": alpha, "backoff": cfg.backoff}}
    for key in ("format", "version", "kind"):
        payload.pop(key, None)
    save_checkpoint(out / CHECKPOINT_NAME, CHECKPOINT_KIND, payload)
    t1 = time.perf_counter()
    bleu, _ = Translator.load(out).bleu(data.test, cfg.beam)
    metrics = {
        "val_loss": round(val, 4), "val_bleu": round(vbleu, 2), "bleu": round(bleu, 2),
        "precision": results[0]["precision"], "decoder": "greedy" if cfg.beam == 1 else f"beam{cfg.beam}",
        "seconds": round(used, 1), "eval_seconds": round(time.perf_counter() - t1, 1),
        "best_epoch": [m["best_epoch"] for m in results], "epochs": sum(m["epochs"] for m in results),
        "steps": sum(m["steps"] for m in results), "stop_reason": f"ensemble of {K}",
        "params": sum(p.numel() for p in model.parameters()), "train_config": asdict(cfg), "data": info,
        "members": [{k: m[k] for k in ("val_loss", "val_bleu", "bleu", "seconds", "epochs", "best_epoch",
                                       "stop_reason")} for m in results],
        "history": [],
    }
    write_json_atomic(out / METRICS_NAME, metrics)
    return metrics
