"""RUN/model.pt, the inference checkpoint of a character model: weights, vocabulary, categories and
both configs (`save_model`), loaded on any machine with either implementation (`load_model`)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from seqlab.charlm.config import LMTrainConfig
from seqlab.charlm.corpus import LMCorpus
from seqlab.checkpoint import load_checkpoint, save_checkpoint
from seqlab.errors import SeqlabError
from seqlab.models.rnn import CharRNN, CharRNNConfig

MODEL_KIND = "charlm"  # RUN/model.pt: the best weights, for sampling and evaluation


def save_model(path: Path, model: CharRNN, corpus: LMCorpus, cfg: LMTrainConfig, extra: dict) -> None:
    """The inference checkpoint: weights, vocabulary, categories, model and training config."""
    save_checkpoint(
        path,
        MODEL_KIND,
        {
            "model": model.state_dict(),
            "model_config": model.config.to_dict(),
            "train_config": asdict(cfg),
            "vocab": corpus.vocab.to_dict(),
            "mode": corpus.mode,
            "categories": list(corpus.categories),
            "train_lines": list(corpus.train_lines),
            **extra,
        },
    )


def load_model(run_dir: str | Path, impl: str | None = None) -> tuple[CharRNN, dict]:
    """Load RUN/model.pt (or a checkpoint file) for sampling and evaluation. impl: run the weights
    with "fused" torch kernels or the "scratch" cells (the same parameters either way; default:
    what the run trained with)."""
    p = Path(run_dir)
    path = p / "model.pt" if p.is_dir() else p
    if p.is_dir() and not path.exists():
        raise SeqlabError(f"{p} is not a trained run (no model.pt inside)")
    ck = load_checkpoint(path, kind=MODEL_KIND)
    try:
        config = {**ck["model_config"], **({"impl": impl} if impl else {})}
        model = CharRNN(CharRNNConfig(**config))
        model.load_state_dict(ck["model"])
    except (KeyError, TypeError, RuntimeError) as e:
        raise SeqlabError(
            f"checkpoint {path} does not match its model config: {str(e).splitlines()[0][:120]}"
        ) from None
    model.eval()
    return model, ck
