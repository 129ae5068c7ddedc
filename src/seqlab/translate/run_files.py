"""The files a translation model's training leaves in RUN: model.pt (the best model, which Translator
reads without the training loop), last.pt (the state --resume needs) and metrics.json."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import torch

from seqlab.checkpoint import load_checkpoint, save_checkpoint
from seqlab.errors import SeqlabError
from seqlab.files import write_json_atomic
from seqlab.models.ensemble import Ensemble
from seqlab.models.seq2seq import Seq2Seq, Seq2SeqConfig
from seqlab.translate.config import TrainConfig

CHECKPOINT_KIND = "translate"  # RUN/model.pt: the best weights, vocabularies, settings, test split
CHECKPOINT_NAME = "model.pt"
TRAIN_STATE_KIND = "translate-train"  # RUN/last.pt: everything --resume needs, written every epoch
TRAIN_STATE_NAME = "last.pt"
METRICS_NAME = "metrics.json"


# ------------------------------------------------------------------------------------ RUN/model.pt


def save_model(out_dir: str | os.PathLike, payload: dict) -> None:
    """Write RUN/model.pt: {"model": state dict, "model_config", "train_config", "src_vocab",
    "tgt_vocab", "test_pairs", "info": {max_len, beam, alpha, backoff, ...}} (+ "ensemble": K)."""
    save_checkpoint(Path(out_dir) / CHECKPOINT_NAME, CHECKPOINT_KIND, payload)


def model_path(run: str | os.PathLike) -> Path:
    """RUN/model.pt of a run directory, or the checkpoint file itself."""
    path = Path(run)
    return path / CHECKPOINT_NAME if path.is_dir() else path


def read_model(run: str | os.PathLike) -> dict:
    """The payload `save_model` wrote (SeqlabError if missing, damaged or of another kind)."""
    ck = load_checkpoint(model_path(run), CHECKPOINT_KIND)
    return {k: v for k, v in ck.items() if k not in ("format", "version", "kind")}


def build_model(payload: dict, device: str | torch.device = "cpu") -> torch.nn.Module:
    """The Seq2Seq (or Ensemble of payload["ensemble"] members) of a model.pt payload, with its
    weights, in eval mode on `device`."""
    members = int(payload.get("ensemble", 1))
    cfg = Seq2SeqConfig(**payload["model_config"])
    model = Seq2Seq(cfg) if members == 1 else Ensemble([Seq2Seq(cfg) for _ in range(members)])
    model.load_state_dict(payload["model"])
    return model.to(device).eval()


# ------------------------------------------------------------------------------------ RUN/last.pt


def save_train_state(out_dir: str | os.PathLike, state: dict) -> None:
    """Write RUN/last.pt: RunState.state_dict() with "model_config", "train_config", "info",
    "world_size" and "ranks" (every rank's own RNG states)."""
    save_checkpoint(Path(out_dir) / TRAIN_STATE_NAME, TRAIN_STATE_KIND, state)


def read_train_state(out_dir: str | os.PathLike, model_config: dict, world_size: int) -> dict:
    """RUN/last.pt, checked against the run resuming it: SeqlabError unless it was trained with the
    same model settings (`model_config`, which the data's vocabularies size) by as many processes."""
    out = Path(out_dir)
    ck = load_checkpoint(out / TRAIN_STATE_NAME, TRAIN_STATE_KIND)
    if ck["model_config"] != model_config:
        raise SeqlabError(
            f"{out / TRAIN_STATE_NAME} was trained with other data or model settings; "
            "resume with the same pairs file and flags"
        )
    if int(ck.get("world_size", 1)) != world_size:
        raise SeqlabError(
            f"{out} was trained by {ck.get('world_size', 1)} process(es); resume it with "
            f"as many (now {world_size}) so every process gets its own random state back"
        )
    return ck


# ------------------------------------------------------------------------------------ RUN/metrics.json


def write_metrics(
    out: Path,
    cfg: TrainConfig,
    *,
    val_loss: float,
    val_bleu: float | None,
    bleu: float,
    precision: str,
    device: str,
    seconds: float,
    eval_seconds: float,
    best_epoch,
    epochs: int,
    steps: int,
    stop_reason: str,
    params: int,
    data: dict,
    **tail,
) -> dict:
    """RUN/metrics.json of one model or an ensemble, written atomically and returned: the scores
    (teacher-forced val_loss, greedy val_bleu, test bleu with the default decoder), timings (training
    seconds; eval_seconds for the test decode, with alpha tuning for one model), counts, the settings
    and the data's provenance, then `tail` (one model: history, world_size, global_batch_size; an
    ensemble: members, history)."""
    metrics = {
        "val_loss": round(val_loss, 4),
        "val_bleu": None if val_bleu is None else round(val_bleu, 2),
        "bleu": round(bleu, 2),
        "precision": precision,
        "device": device,  # resolved: cpu, cuda (never auto)
        "preset": cfg.preset,
        "decoder": "greedy" if cfg.beam == 1 else f"beam{cfg.beam}",
        "seconds": round(seconds, 1),
        "eval_seconds": round(eval_seconds, 1),
        "best_epoch": best_epoch,
        "epochs": epochs,
        "steps": steps,
        "stop_reason": stop_reason,
        "params": params,
        "train_config": asdict(cfg),
        "data": data,
        **tail,
    }
    write_json_atomic(out / METRICS_NAME, metrics)
    return metrics
