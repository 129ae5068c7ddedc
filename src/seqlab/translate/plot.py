"""Attention heatmaps as in the lecture's figure (Bahdanau et al. 2015, Fig. 3).

Source words run along the x axis (top), output words down the y axis; cell (i, j) is how much
output word i attended to source word j (each row sums to 1). matplotlib (Agg) is imported only
when a plot is drawn, so the rest of seqlab does not pay for it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from seqlab.errors import SeqlabError
from seqlab.files import atomic_path


def check_png_path(path: str | os.PathLike) -> None:
    """SeqlabError unless `path` ends in .png (the CLI checks it before translating anything)."""
    if not str(path).lower().endswith(".png"):
        raise SeqlabError(f"plot file must end in .png: {path}")


def save_attention_png(
    path: str | os.PathLike, source: Sequence[str], output: Sequence[str], attention, title: str | None = None
) -> None:
    """Write a heatmap PNG of `attention` (len(output), len(source)) atomically to `path`.

    `output` may include the final "<eos>" row; extra rows/columns in `attention` beyond the word
    lists are an error (they would mislabel the axes).
    """
    import numpy as np

    a = np.asarray(attention.detach().cpu() if hasattr(attention, "detach") else attention, dtype=float)
    if a.ndim != 2 or a.shape != (len(output), len(source)):
        raise SeqlabError(
            f"attention has shape {a.shape}, expected ({len(output)}, {len(source)}) "
            "(output words x source words)"
        )
    check_png_path(path)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    w = max(3.0, 0.55 * len(source) + 1.8)
    h = max(2.5, 0.45 * len(output) + 1.5)
    fig = Figure(figsize=(w, h))  # no pyplot: the caller's backend (a notebook's inline) is left alone
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    im = ax.imshow(a, cmap="gray", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source)))
    ax.set_xticklabels(source, rotation=60, ha="left")
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(output)))
    ax.set_yticklabels(output)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    if title:
        ax.set_title(title, fontsize=9, pad=40)
    fig.colorbar(im, ax=ax, fraction=0.04)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
