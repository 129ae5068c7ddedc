"""The loss curve of a run (a matplotlib Figure drawn without pyplot, so a library call never
changes the backend of a notebook or a GUI session; imported only when used)."""

from __future__ import annotations

from pathlib import Path

from seqlab.files import atomic_path


def plot_loss_curve(history: list[dict], path: str | Path, title: str = "character-level LM") -> None:
    """Training and validation loss (nats/char) against steps and minutes, written atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    steps = [h["step"] for h in history]
    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
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


def _step_to_minutes(history):
    import numpy as np

    s = np.array([0] + [h["step"] for h in history], dtype=float)
    m = np.array([0] + [h["seconds"] / 60 for h in history], dtype=float)
    if len(s) < 2 or s[-1] == 0:
        return (lambda x: x, lambda x: x)
    return (lambda x: np.interp(x, s, m), lambda x: np.interp(x, m, s))
