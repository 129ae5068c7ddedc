"""A translation run directory: train into it from a pairs file (one model or an ensemble of K
trained in turn within one budget), and resume it with its own data and settings.

    metrics = train_from_file("eng-fra.txt", "runs/fr-en", TrainConfig(max_minutes=15), reverse=True)
    metrics = resume("runs/fr-en", changes={"max_minutes": 20})
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, replace
from pathlib import Path

from seqlab.checkpoint import load_checkpoint
from seqlab.distributed import Group
from seqlab.errors import ParameterError, SeqlabError
from seqlab.files import check_fingerprint, fingerprint, read_text, write_json_atomic
from seqlab.models.ensemble import Ensemble
from seqlab.presets import apply_preset
from seqlab.runtime import resolve_device
from seqlab.training import check_train_state
from seqlab.translate.config import TrainConfig
from seqlab.translate.data import DEFAULT_MAX_LEN, PREFIX_MAX_LEN, PairData, encode_pairs, load_pair_data
from seqlab.translate.run_files import (
    CHECKPOINT_NAME,
    METRICS_NAME,
    TRAIN_STATE_KIND,
    TRAIN_STATE_NAME,
    build_model,
    read_model,
    save_model,
    write_metrics,
)
from seqlab.translate.scoring import bleu, tune_alpha
from seqlab.translate.train import VALID_BLEU_PAIRS, evaluate_loss, finish, fit, prepare
from seqlab.vocab import Vocab

ENSEMBLE_STATE_NAME = "ensemble.json"  # RUN/ensemble.json: config and data of an ensemble run, for --resume
DATA_KEYS = ("pairs", "reverse", "prefix_filter", "max_len_arg")  # what rebuilds the data on resume


def train(
    data: PairData,
    cfg: TrainConfig,
    out_dir: str | os.PathLike,
    data_info: dict | None = None,
    show_progress: bool | None = None,
    max_len: int | None = None,
    resume: bool = False,
    group: Group = Group(),
    device: str = "auto",
    given: Collection[str] | None = None,
) -> dict:
    """One model (seqlab.translate.train), or for cfg.ensemble = K > 1: K members in RUN/member1..K,
    each given an equal share of the time still left (one that stops early leaves its time to the
    next), then decoded as one (RUN/model.pt holds all K). Resumes member by member. group /
    device: see seqlab.distributed (every rank trains every member; rank 0 joins and scores them).
    given: the settings the caller chose, which cfg.preset leaves alone (seqlab.presets.apply_preset).
    Checks the settings (ParameterError naming the field) before anything else."""
    cfg = cfg.validate()
    if not resume:
        cfg = apply_preset(cfg, "translate", resolve_device(device), given)
    return _train(data, cfg, out_dir, data_info, show_progress, max_len, resume, group, device)


def _train(
    data: PairData,
    cfg: TrainConfig,
    out_dir: str | os.PathLike,
    data_info: dict | None,
    show_progress: bool | None,
    max_len: int | None,
    resume: bool,
    group: Group,
    device: str,
) -> dict:
    """`train` with settings already validated (by whichever entry the caller used)."""
    if cfg.ensemble == 1:
        return _train_model(data, cfg, out_dir, data_info, show_progress, max_len, resume, group, device)[0]
    out = Path(out_dir)
    K, budget = cfg.ensemble, cfg.max_minutes * 60.0
    if group.is_main:
        write_json_atomic(
            out / ENSEMBLE_STATE_NAME,
            {"train_config": asdict(cfg), "info": data_info or {}, "max_len": max_len},
        )
    results, bests, used = [], [], 0.0
    for k in range(K):
        mdir = out / f"member{k + 1}"
        done = mdir / METRICS_NAME
        best = None  # a member kept from before a resume: read at the join
        if resume and done.exists() and json.loads(done.read_text())["stop_reason"] != "interrupted":
            m = json.loads(done.read_text())
        else:
            mcfg = replace(
                cfg,
                ensemble=1,
                seed=cfg.seed + k,
                tune_alpha=False,  # the ensemble tunes, once
                max_minutes=max(budget - used, 1e-3) / (K - k) / 60,
            )
            m, best = _train_model(
                data,
                mcfg,
                mdir,
                data_info,
                show_progress,
                max_len,
                resume and (mdir / TRAIN_STATE_NAME).exists(),
                group,
                device,
            )
        results.append(m)
        bests.append(best)
        used += m["seconds"] + m["eval_seconds"]  # its test decode comes out of the budget too
        if m["stop_reason"] == "interrupted":
            return {**m, "stop_reason": "interrupted", "members_done": k}
    if not group.is_main:
        return group.share(None)
    return group.share(_join_ensemble(data, cfg, out, results, bests, used))


def _train_model(
    data: PairData,
    cfg: TrainConfig,
    out: str | os.PathLike,
    data_info: dict | None,
    show_progress: bool | None,
    max_len: int | None,
    resume: bool,
    group: Group,
    device: str,
) -> tuple[dict, dict | None]:
    """One model from validated settings: its metrics, and (rank 0) its best model.pt payload as fit
    holds it in memory (None when that is on disk only)."""
    prep = prepare(data, cfg, out, data_info, max_len, group, device)
    fitted, best = fit(prep, show_progress, resume)
    return finish(prep, fitted, best), best


def _join_ensemble(
    data: PairData, cfg: TrainConfig, out: Path, results: list[dict], bests: list[dict | None], used: float
) -> dict:
    """Join the K members into one model, tune and score it like a single model, in memory; write
    RUN/model.pt once and RUN/metrics.json."""
    K = cfg.ensemble
    payloads = [b if b is not None else read_model(out / f"member{k + 1}") for k, b in enumerate(bests)]
    first = payloads[0]
    model = Ensemble([build_model(p) for p in payloads]).eval()
    src_vocab, tgt_vocab = Vocab.from_dict(first["src_vocab"]), Vocab.from_dict(first["tgt_vocab"])
    info = dict(first["info"])
    max_len = int(info["max_len"])

    def bleu_on(pairs, beam, alpha):
        return bleu(model, pairs, src_vocab, tgt_vocab, max_len, beam, alpha, cfg.backoff)[0]

    alpha = cfg.alpha
    if cfg.tune_alpha:
        alpha, info["alpha_scores"] = tune_alpha(lambda a: bleu_on(data.valid, cfg.beam, a))
    val = evaluate_loss(model, encode_pairs(data.valid, src_vocab, tgt_vocab))
    vbleu = bleu_on(data.valid[:VALID_BLEU_PAIRS], 1, alpha)
    save_model(
        out,
        {
            **first,
            "model": model.state_dict(),
            "ensemble": K,
            "train_config": asdict(cfg),
            "info": {
                **info,
                "members": K,
                "val_loss": val,
                "beam": cfg.beam,
                "alpha": alpha,
                "backoff": cfg.backoff,
            },
        },
    )
    t1 = time.perf_counter()
    test_bleu = bleu_on(data.test, cfg.beam, alpha)
    kept = ("val_loss", "val_bleu", "bleu", "seconds", "epochs", "best_epoch", "stop_reason")
    members = [{k: m[k] for k in kept} for m in results]
    return write_metrics(
        out,
        cfg,
        val_loss=val,
        val_bleu=vbleu,
        bleu=test_bleu,
        precision=results[0]["precision"],
        device=results[0].get("device", "cpu"),
        seconds=used,
        eval_seconds=time.perf_counter() - t1,
        best_epoch=[m["best_epoch"] for m in results],
        epochs=sum(m["epochs"] for m in results),
        steps=sum(m["steps"] for m in results),
        stop_reason=f"ensemble of {K}",
        params=sum(p.numel() for p in model.parameters()),
        data=info,
        members=members,
        history=[],
    )


# ------------------------------------------------------------------------------------ from files, resume


def train_from_file(
    pairs: str | os.PathLike,
    run_dir: str | os.PathLike,
    cfg: TrainConfig | None = None,
    reverse: bool = False,
    prefix_filter: bool = False,
    max_len: int | None = None,
    show_progress: bool | None = None,
    on_data: Callable[[PairData], None] | None = None,
    group: Group = Group(),
    device: str = "auto",
    given: Collection[str] | None = None,
) -> dict:
    """Read a LEFT<TAB>RIGHT pairs file (see seqlab.translate.data), split it 80/10/10 with cfg.seed and
    train into a new run directory. max_len: keep pairs with at most this many words per side
    (default 15, 9 with prefix_filter), also the longest sentence the model accepts. on_data: called
    with the split data once it is read and checked, before training starts (the CLI reports sizes).
    device: "auto" (cuda when torch sees one, else cpu), "cpu", "cuda". cfg.preset (None: the
    device's) sets the model size of every setting not in `given` (seqlab.presets.apply_preset;
    given None: the settings that differ from TrainConfig's defaults). Checks the settings
    (ParameterError naming the field) before reading anything."""
    cfg = apply_preset((cfg or TrainConfig()).validate(), "translate", resolve_device(device), given)
    cfg.validate()
    out = Path(run_dir)
    if holds_run(out):
        raise ParameterError("run_dir", f"{out} already holds a run; choose another, or resume the run in it")
    data = load_pair_data(pairs, reverse=reverse, prefix_filter=prefix_filter, max_len=max_len, seed=cfg.seed)
    info = {
        "pairs": str(pairs),
        "reverse": reverse,
        "prefix_filter": prefix_filter,
        "max_len_arg": max_len,
        "pairs_fingerprint": fingerprint(pairs),
        "n_read": data.n_read,
        "n_kept": data.n_kept,
    }
    limit = max_len or (PREFIX_MAX_LEN if prefix_filter else DEFAULT_MAX_LEN)  # the filter's limit
    group.barrier()  # every rank has checked before rank 0 writes
    if on_data is not None and group.is_main:
        on_data(data)
    return _train(data, cfg, out, info, show_progress, limit, False, group, device)


def holds_run(run_dir: str | os.PathLike) -> bool:
    """Whether `run_dir` already holds a run (a model, a training state or an ensemble's plan)."""
    names = (CHECKPOINT_NAME, TRAIN_STATE_NAME, ENSEMBLE_STATE_NAME)
    return any((Path(run_dir) / name).exists() for name in names)


def resume_state(out_dir: str | os.PathLike) -> tuple[TrainConfig, dict, str]:
    """The settings, data provenance and a one-line position of the run to resume in `out_dir`."""
    out = Path(out_dir)
    state, ens = out / TRAIN_STATE_NAME, out / ENSEMBLE_STATE_NAME
    if ens.exists():  # an ensemble: its finished members are kept, the others resume
        try:
            ck = json.loads(read_text(ens))
            ck["info"] = {**ck["info"], "max_len": ck["max_len"]}
        except (ValueError, KeyError, TypeError):
            raise SeqlabError(f"{ens} is damaged; start a new run") from None
        where = "ensemble: finished members are kept"
    elif state.exists():
        ck = check_train_state(load_checkpoint(state, TRAIN_STATE_KIND))
        where = f"epoch {ck['progress']['epoch']} ({ck['progress']['elapsed'] / 60:.1f} min used)"
    else:
        raise SeqlabError(f"nothing to resume in {out} (no {TRAIN_STATE_NAME})")
    try:
        cfg, info = TrainConfig(**ck["train_config"]), dict(ck["info"])
        [info[k] for k in (*DATA_KEYS, "max_len")]
    except (KeyError, TypeError):
        raise SeqlabError(f"{out}: its training state lacks the data settings; start a new run") from None
    return cfg, info, where


def resume(
    out_dir: str | os.PathLike,
    pairs: str | os.PathLike | None = None,
    changes: dict | None = None,
    show_progress: bool | None = None,
    on_data: Callable[[PairData], None] | None = None,
    group: Group = Group(),
    device: str = "auto",
) -> dict:
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
            raise SeqlabError(
                f"--{key.replace('_', '-')} {value} differs from the run's {getattr(cfg, key)}; "
                "a resumed run keeps its settings (only --max-minutes may change)"
            )
    cfg.validate()
    if pairs is not None:
        check_fingerprint(info.get("pairs_fingerprint") or _legacy_fingerprint(info, pairs), pairs, out_dir)
    elif info.get("pairs_fingerprint"):
        check_fingerprint(info["pairs_fingerprint"], info["pairs"], out_dir)
    data = load_pair_data(
        info["pairs"],
        reverse=info["reverse"],
        prefix_filter=info["prefix_filter"],
        max_len=info["max_len_arg"],
        seed=cfg.seed,
    )
    keep = {k: info[k] for k in info if k in (*DATA_KEYS, "pairs_fingerprint", "n_read", "n_kept")}
    group.barrier()
    if on_data is not None and group.is_main:
        on_data(data)
    return _train(data, cfg, out_dir, keep, show_progress, info["max_len"], True, group, device)


def _legacy_fingerprint(info: dict, pairs) -> dict | None:
    """A run from before fingerprints: compare paths only."""
    if Path(info["pairs"]).resolve() != Path(pairs).resolve():
        raise SeqlabError(f"this run was trained on {info['pairs']}, not {pairs}; resume with the same data")
    return None
