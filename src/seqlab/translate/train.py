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
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from seqlab.batching import bucket_batches
from seqlab.checkpoint import load_checkpoint, save_checkpoint
from seqlab.ema import WeightEMA
from seqlab.errors import SeqlabError
from seqlab.files import check_fingerprint, fingerprint, read_text, write_json_atomic
from seqlab.models.ensemble import Ensemble
from seqlab.models.seq2seq import Seq2Seq, Seq2SeqConfig
from seqlab.runtime import progress, seed_everything
from seqlab.training import RunState, autocast, cosine_lr, resolve_precision
from seqlab.translate.config import TrainConfig
from seqlab.translate.data import (DEFAULT_MAX_LEN, PAD_ID, PREFIX_MAX_LEN, SPECIALS, UNK_ID, PairData, build_vocab,
                                   collate, encode_pairs, load_pair_data)
from seqlab.translate.translator import CHECKPOINT_KIND, CHECKPOINT_NAME, Translator
from seqlab.vocab import Vocab

TRAIN_STATE_KIND = "translate-train"   # RUN/last.pt: everything --resume needs, written every epoch
TRAIN_STATE_NAME = "last.pt"
METRICS_NAME = "metrics.json"
ENSEMBLE_STATE_NAME = "ensemble.json"  # RUN/ensemble.json: config and data of an ensemble run, for --resume
VALID_BLEU_PAIRS = 2000                # validation pairs decoded (greedy) per epoch for select="bleu"
DATA_KEYS = ("pairs", "reverse", "prefix_filter", "max_len_arg")   # what rebuilds the data on resume


def drop_words(ids: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """Word dropout: each real word (not padding or a special token) becomes <unk> with probability p."""
    drop = (torch.rand(ids.shape, generator=gen) < p) & (ids >= len(SPECIALS))
    return ids.masked_fill(drop, UNK_ID)


def source_lengths(encoded) -> list[int]:
    return [len(s) for s, _ in encoded]


def evaluate_loss(model: Seq2Seq, encoded, batch_size: int = 256) -> float:
    """Mean cross-entropy per target word (incl. <eos>), teacher forced, dropout off."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for idx in bucket_batches(source_lengths(encoded), batch_size):
            src, lens, tgt_in, tgt_out = collate(encoded, idx.tolist())
            logits, _ = model(src, lens, tgt_in)
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                                           ignore_index=PAD_ID, reduction="sum"))
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


def prepare(data: PairData, cfg: TrainConfig, out_dir: str | os.PathLike, data_info: dict | None = None,
            max_len: int | None = None) -> Prepared:
    """Check the settings, build the vocabularies (from the training pairs only) and encode.

    data_info: provenance stored in the checkpoint and metrics (file, direction, filters).
    max_len: the source length limit recorded for later translation (default: longest source seen).
    """
    cfg.validate()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SeqlabError(f"output path exists and is not a directory: {out}")
    src_vocab = build_vocab([s for s, _ in data.train], cfg.min_count)
    tgt_vocab = build_vocab([t for _, t in data.train], cfg.min_count)
    longest = max(len(s) for s, _ in data.train + data.valid + data.test)
    max_len = max_len or longest
    info = {**(data_info or {}), "max_len": max_len, "n_train": len(data.train), "n_valid": len(data.valid),
            "n_test": len(data.test), "src_vocab_size": len(src_vocab), "tgt_vocab_size": len(tgt_vocab)}
    return Prepared(data, cfg, out, src_vocab, tgt_vocab, encode_pairs(data.train, src_vocab, tgt_vocab),
                    encode_pairs(data.valid, src_vocab, tgt_vocab), max_len,
                    cfg.model_config(len(src_vocab), len(tgt_vocab), max(max_len, longest)),
                    resolve_precision(cfg.precision), info)


def _save_best(prep: Prepared, model: Seq2Seq, progress_: dict, val: float) -> None:
    """RUN/model.pt: the weights with the vocabularies, settings and the held-out test split."""
    cfg = prep.cfg
    save_checkpoint(prep.out / CHECKPOINT_NAME, CHECKPOINT_KIND, {
        "test_pairs": [[" ".join(s), " ".join(t)] for s, t in prep.data.test],
        "model": model.state_dict(),
        "model_config": prep.model_cfg.to_dict(),
        "train_config": asdict(cfg),
        "src_vocab": prep.src_vocab.to_dict(),
        "tgt_vocab": prep.tgt_vocab.to_dict(),
        "info": {**prep.info, "beam": cfg.beam, "alpha": cfg.alpha, "backoff": cfg.backoff,
                 "epoch": progress_["epoch"], "step": progress_["step"], "val_loss": val},
    })


# ------------------------------------------------------------------------------------ fit


def _train_epoch(prep: Prepared, state: RunState, t0: float, show_progress: bool | None) -> tuple[float, int, bool]:
    """One pass over shuffled length buckets, stopping early when the time budget is spent.
    Returns (summed loss, target words, out of time)."""
    cfg, model, opt, gen, p = prep.cfg, state.model, state.optimizer, state.generator, state.progress
    budget = cfg.max_minutes * 60.0
    batches = bucket_batches(source_lengths(prep.train_enc), cfg.batch_size, gen, pool=50)
    bar = progress(len(batches), desc=f"epoch {p['epoch'] + 1}", unit="batch", enabled=show_progress)
    total, words = 0.0, 0
    model.train()
    try:
        for idx in batches:
            frac = (time.perf_counter() - t0) / budget
            if frac >= 1.0:
                return total, words, True
            if cfg.max_epochs is not None:      # a step-based decay: repeatable, whatever the machine load
                frac = p["step"] / (cfg.max_epochs * len(batches))
            for g in opt.param_groups:
                g["lr"] = cosine_lr(cfg.lr, frac, cfg.min_lr_frac)
            src, lens, tgt_in, tgt_out = collate(prep.train_enc, idx.tolist())
            if cfg.word_dropout > 0:
                src = drop_words(src, cfg.word_dropout, gen)
            with autocast(prep.precision):
                logits, _ = model(src, lens, tgt_in, cfg.teacher_forcing, gen)        # (B, T, V)
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                                   ignore_index=PAD_ID, label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            p["step"] += 1
            if state.ema is not None:
                state.ema.update()
            n = int((tgt_out != PAD_ID).sum())
            total += float(loss.detach()) * n
            words += n
            bar.update(1)
            bar.set_postfix(loss=f"{total / max(words, 1):.3f}", lr=f"{opt.param_groups[0]['lr']:.1e}",
                            left=f"{max(0.0, budget - (time.perf_counter() - t0)) / 60:.1f}m")
    finally:
        bar.close()
    return total, words, False


def _validate(prep: Prepared, state: RunState, train_loss: float, t0: float) -> None:
    """Validation loss (and greedy BLEU for select="bleu") of the (averaged) weights; keep the best."""
    cfg, model, p = prep.cfg, state.model, state.progress
    if state.ema is not None:
        state.ema.swap()                        # validate (and save) the averaged weights
    try:
        val = evaluate_loss(model, prep.valid_enc)
        vbleu = None
        if cfg.select == "bleu":                # the current weights, greedy, as Translator decodes
            tr = Translator(model, prep.src_vocab, prep.tgt_vocab, prep.max_len, backoff=cfg.backoff)
            vbleu = tr.bleu(prep.data.valid[:VALID_BLEU_PAIRS], beam=1)[0]
        p["history"].append({"epoch": p["epoch"], "step": p["step"], "train_loss": train_loss, "val_loss": val,
                             "val_bleu": vbleu, "seconds": round(time.perf_counter() - t0, 1)})
        score = vbleu if cfg.select == "bleu" else -val
        if score > p["best_score"]:
            p.update(best_score=score, best_val=val, best_bleu=vbleu, best_epoch=p["epoch"], bad_epochs=0)
            _save_best(prep, model, p, val)
        else:
            p["bad_epochs"] += 1
    finally:
        if state.ema is not None:
            state.ema.swap()


def _save_last(prep: Prepared, state: RunState, t0: float) -> None:
    state.progress["elapsed"] = time.perf_counter() - t0
    save_checkpoint(prep.out / TRAIN_STATE_NAME, TRAIN_STATE_KIND, {
        **state.state_dict(), "model_config": prep.model_cfg.to_dict(), "train_config": asdict(prep.cfg),
        "info": prep.info})


def fit(prep: Prepared, show_progress: bool | None = None, resume: bool = False) -> dict:
    """The training loop: epochs until the budget, max_epochs or early stopping; RUN/model.pt holds
    the best epoch, RUN/last.pt the full state after every epoch (resume=True continues from it as
    if never stopped: the same data and settings are needed). Ctrl-C keeps the best model.
    Returns the run's progress counters and its stop reason."""
    cfg = prep.cfg
    seed_everything(cfg.seed)
    model = Seq2Seq(prep.model_cfg)
    state = RunState(model, torch.optim.Adam(model.parameters(), lr=cfg.lr), torch.Generator().manual_seed(cfg.seed),
                     ema=WeightEMA(model, cfg.ema, warmup=True) if cfg.ema > 0 else None,
                     progress={"epoch": 0, "step": 0, "best_val": float("inf"), "best_score": float("-inf"),
                               "best_bleu": None, "best_epoch": 0, "bad_epochs": 0, "history": [], "elapsed": 0.0})
    t0 = time.perf_counter()
    if resume:
        ck = load_checkpoint(prep.out / TRAIN_STATE_NAME, TRAIN_STATE_KIND)
        if ck["model_config"] != prep.model_cfg.to_dict():
            raise SeqlabError(f"{prep.out / TRAIN_STATE_NAME} was trained with other data or model settings; "
                              "resume with the same pairs file and flags")
        state.load_state_dict(ck)
        t0 -= state.progress["elapsed"]          # the time budget and the LR schedule go on where they were
    p = state.progress
    max_epochs = cfg.max_epochs if cfg.max_epochs is not None else 10**9
    stop_reason = "early_stopping" if p["bad_epochs"] >= cfg.patience else "max_epochs"
    try:
        while stop_reason == "max_epochs" and p["epoch"] < max_epochs:
            total, words, out_of_time = _train_epoch(prep, state, t0, show_progress)
            if words == 0:                       # the budget ran out before this epoch's first batch
                stop_reason = "time"
                break
            p["epoch"] += 1
            _validate(prep, state, total / words, t0)
            _save_last(prep, state, t0)
            if out_of_time:
                stop_reason = "time"
            elif p["bad_epochs"] >= cfg.patience:
                stop_reason = "early_stopping"
    except KeyboardInterrupt:
        stop_reason = "interrupted"
    if p["best_epoch"] == 0:                     # nothing saved yet: keep what we have
        p["best_val"] = evaluate_loss(model, prep.valid_enc)
        _save_best(prep, model, p, p["best_val"])
    return {**p, "seconds": time.perf_counter() - t0, "stop_reason": stop_reason,
            "params": sum(q.numel() for q in model.parameters())}


# ------------------------------------------------------------------------------------ finish


def finish(prep: Prepared, fitted: dict) -> dict:
    """Test BLEU of the best model with the default decoder (after tuning its length exponent on
    the validation pairs if asked); writes and returns RUN/metrics.json."""
    cfg, ckpt_path = prep.cfg, prep.out / CHECKPOINT_NAME
    translator = Translator.load(ckpt_path)
    t1 = time.perf_counter()
    if cfg.tune_alpha and fitted["stop_reason"] != "interrupted":
        ck = load_checkpoint(ckpt_path, CHECKPOINT_KIND)
        ck["info"]["alpha"] = translator.tune_alpha(prep.data.valid, cfg.beam)
        save_checkpoint(ckpt_path, CHECKPOINT_KIND, {k: v for k, v in ck.items() if k not in ("format", "version", "kind")})
    bleu, _ = translator.bleu(prep.data.test, cfg.beam)
    metrics = {
        "val_loss": round(fitted["best_val"], 4),
        "val_bleu": None if fitted["best_bleu"] is None else round(fitted["best_bleu"], 2),
        "bleu": round(bleu, 2),
        "precision": prep.precision,
        "decoder": "greedy" if cfg.beam == 1 else f"beam{cfg.beam}",
        "seconds": round(fitted["seconds"], 1),
        "eval_seconds": round(time.perf_counter() - t1, 1),
        "best_epoch": fitted["best_epoch"],
        "epochs": fitted["epoch"],
        "steps": fitted["step"],
        "stop_reason": fitted["stop_reason"],
        "params": fitted["params"],
        "train_config": asdict(cfg),
        "data": prep.info,
        "history": fitted["history"],
    }
    write_json_atomic(prep.out / METRICS_NAME, metrics)
    return metrics


def train_translator(data: PairData, cfg: TrainConfig, out_dir: str | os.PathLike,
                     data_info: dict | None = None, show_progress: bool | None = None,
                     max_len: int | None = None, resume: bool = False) -> dict:
    """One model: prepare, fit, finish. Returns the metrics (also in RUN/metrics.json)."""
    prep = prepare(data, cfg, out_dir, data_info, max_len)
    return finish(prep, fit(prep, show_progress, resume))


# ------------------------------------------------------------------------------------ ensembles


def train(data: PairData, cfg: TrainConfig, out_dir: str | os.PathLike, data_info: dict | None = None,
          show_progress: bool | None = None, max_len: int | None = None, resume: bool = False) -> dict:
    """train_translator, or for cfg.ensemble = K > 1: K members in RUN/member1..K, each given an equal
    share of the time still left (one that stops early leaves its time to the next), then decoded as
    one (RUN/model.pt holds all K). Resumes member by member."""
    cfg.validate()
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
                           max_minutes=max(budget - used, 1e-3) / (K - k) / 60)
            m = train_translator(data, mcfg, mdir, data_info, show_progress, max_len,
                                 resume=resume and (mdir / TRAIN_STATE_NAME).exists())
        results.append(m)
        used += m["seconds"] + m["eval_seconds"]          # its test decode comes out of the budget too
        if m["stop_reason"] == "interrupted":
            return {**m, "stop_reason": "interrupted", "members_done": k}
    return _finish_ensemble(data, cfg, out, results, used)


def _finish_ensemble(data: PairData, cfg: TrainConfig, out: Path, results: list[dict], used: float) -> dict:
    """Join the K members into one checkpoint, tune and score it like a single model."""
    K = cfg.ensemble
    first = load_checkpoint(out / "member1" / CHECKPOINT_NAME, CHECKPOINT_KIND)
    model = Ensemble([Translator.load(out / f"member{k + 1}").model for k in range(K)]).eval()
    src_vocab, tgt_vocab = Vocab.from_dict(first["src_vocab"]), Vocab.from_dict(first["tgt_vocab"])
    info = dict(first["info"])
    translator = Translator(model, src_vocab, tgt_vocab, int(info["max_len"]), cfg.beam, cfg.alpha, info,
                            cfg.backoff)
    alpha = translator.tune_alpha(data.valid, cfg.beam) if cfg.tune_alpha else cfg.alpha
    val = evaluate_loss(model, encode_pairs(data.valid, src_vocab, tgt_vocab))
    vbleu = translator.bleu(data.valid[:VALID_BLEU_PAIRS], beam=1)[0]
    payload = {**first, "model": model.state_dict(), "ensemble": K, "train_config": asdict(cfg),
               "info": {**info, "members": K, "val_loss": val, "beam": cfg.beam, "alpha": alpha,
                        "backoff": cfg.backoff}}
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


# ------------------------------------------------------------------------------------ from files, resume


def train_from_file(pairs: str | os.PathLike, out_dir: str | os.PathLike, cfg: TrainConfig | None = None,
                    reverse: bool = False, prefix_filter: bool = False, max_len: int | None = None,
                    show_progress: bool | None = None, on_data: Callable[[PairData], None] | None = None) -> dict:
    """Read a LEFT<TAB>RIGHT pairs file (see seqlab.translate.data), split it 80/10/10 with cfg.seed and
    train into a new run directory. max_len: keep pairs with at most this many words per side
    (default 15, 9 with prefix_filter), also the longest sentence the model accepts. on_data: called
    with the split data once it is read and checked, before training starts (the CLI reports sizes)."""
    cfg = (cfg or TrainConfig()).validate()
    out = Path(out_dir)
    if any((out / f).exists() for f in (CHECKPOINT_NAME, TRAIN_STATE_NAME, ENSEMBLE_STATE_NAME)):
        raise SeqlabError(f"{out} already holds a run; use --resume to continue it, or another -o")
    data = load_pair_data(pairs, reverse=reverse, prefix_filter=prefix_filter, max_len=max_len, seed=cfg.seed)
    info = {"pairs": str(pairs), "reverse": reverse, "prefix_filter": prefix_filter, "max_len_arg": max_len,
            "pairs_fingerprint": fingerprint(pairs), "n_read": data.n_read, "n_kept": data.n_kept}
    limit = max_len or (PREFIX_MAX_LEN if prefix_filter else DEFAULT_MAX_LEN)      # the filter's limit
    if on_data is not None:
        on_data(data)
    return train(data, cfg, out, data_info=info, max_len=limit, show_progress=show_progress)


def resume_state(out_dir: str | os.PathLike) -> tuple[TrainConfig, dict, str]:
    """The settings, data provenance and a one-line position of the run to resume in `out_dir`."""
    out = Path(out_dir)
    state, ens = out / TRAIN_STATE_NAME, out / ENSEMBLE_STATE_NAME
    if ens.exists():                   # an ensemble: its finished members are kept, the others resume
        try:
            ck = json.loads(read_text(ens))
            ck["info"] = {**ck["info"], "max_len": ck["max_len"]}
        except (ValueError, KeyError, TypeError):
            raise SeqlabError(f"{ens} is damaged; start a new run") from None
        where = "ensemble: finished members are kept"
    elif state.exists():
        ck = load_checkpoint(state, TRAIN_STATE_KIND)
        where = f"epoch {ck['progress']['epoch']} ({ck['progress']['elapsed'] / 60:.1f} min used)"
    else:
        raise SeqlabError(f"nothing to resume in {out} (no {TRAIN_STATE_NAME})")
    try:
        cfg, info = TrainConfig(**ck["train_config"]), dict(ck["info"])
        [info[k] for k in (*DATA_KEYS, "max_len")]
    except (KeyError, TypeError):
        raise SeqlabError(f"{out}: its training state lacks the data settings; start a new run") from None
    return cfg, info, where


def resume(out_dir: str | os.PathLike, pairs: str | os.PathLike | None = None, changes: dict | None = None,
           show_progress: bool | None = None, on_data: Callable[[PairData], None] | None = None) -> dict:
    """Continue the run in `out_dir` with its own data and settings.

    pairs: the pairs file the caller names (checked to be the one the run was trained on: same
    content, SeqlabError naming the difference otherwise). changes: settings the caller asks for;
    only max_minutes may differ from the run's (it extends or shortens the budget), any other
    difference is an error, so a resumed run never silently trains something else. on_data: as in
    train_from_file, called once every check has passed."""
    cfg, info, _ = resume_state(out_dir)
    for key, value in (changes or {}).items():
        if key == "max_minutes":
            cfg.max_minutes = value
        elif getattr(cfg, key) != value:
            raise SeqlabError(f"--{key.replace('_', '-')} {value} differs from the run's {getattr(cfg, key)}; "
                              "a resumed run keeps its settings (only --max-minutes may change)")
    cfg.validate()
    if pairs is not None:
        check_fingerprint(info.get("pairs_fingerprint") or _legacy_fingerprint(info, pairs), pairs, out_dir)
    elif info.get("pairs_fingerprint"):
        check_fingerprint(info["pairs_fingerprint"], info["pairs"], out_dir)
    data = load_pair_data(info["pairs"], reverse=info["reverse"], prefix_filter=info["prefix_filter"],
                          max_len=info["max_len_arg"], seed=cfg.seed)
    keep = {k: info[k] for k in info if k in (*DATA_KEYS, "pairs_fingerprint", "n_read", "n_kept")}
    if on_data is not None:
        on_data(data)
    return train(data, cfg, out_dir, data_info=keep, max_len=info["max_len"], resume=True,
                 show_progress=show_progress)


def _legacy_fingerprint(info: dict, pairs) -> dict | None:
    """A run from before fingerprints: compare paths only."""
    if Path(info["pairs"]).resolve() != Path(pairs).resolve():
        raise SeqlabError(f"this run was trained on {info['pairs']}, not {pairs}; resume with the same data")
    return None
