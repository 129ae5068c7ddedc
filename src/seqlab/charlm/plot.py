"""Plots and tables of results (matplotlib with the Agg backend, imported only when used)."""

from __future__ import annotations

from pathlib import Path

from seqlab.files import atomic_path


def plot_loss_curve(history: list[dict], path: str | Path, title: str = "character-level LM") -> None:
    """Training and validation loss (nats/char) against steps and minutes, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(steps, [h["train_loss"] for h in history], label="train (running)")
    ax.plot(steps, [h["val_loss"] for h in history], label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats per character)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    secax = ax.secondary_xaxis("top", functions=_step_to_minutes(history))
    secax.set_xlabel("minutes")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def _step_to_minutes(history):
    import numpy as np

    s = np.array([0] + [h["step"] for h in history], dtype=float)
    m = np.array([0] + [h["seconds"] / 60 for h in history], dtype=float)
    if len(s) < 2 or s[-1] == 0:
        return (lambda x: x, lambda x: x)
    return (lambda x: np.interp(x, s, m), lambda x: np.interp(x, m, s))
