"""2-D maps of word vectors with arrows between word pairs (the lecture's man->woman, king->queen,
company->CEO pictures): parallel arrows are what "relations are directions" looks like.

Projection by PCA (linear, so parallel offsets stay parallel: the honest picture) or t-SNE
(neighbourhoods, distorts offsets). matplotlib is imported only when plotting, and only its
object API with the Agg canvas, so no global backend is switched and nothing opens a window.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seqlab.errors import SeqlabError
from seqlab.files import atomic_path

METHODS = ("pca", "tsne")


def project_2d(X: np.ndarray, method: str = "pca", seed: int = 1) -> np.ndarray:
    """(n, D) -> (n, 2) coordinates. PCA: top two principal components of the centred rows;
    t-SNE: scikit-learn's, perplexity scaled down for small n (falls back to PCA below 4 points)."""
    X = np.asarray(X, dtype=np.float64)
    if method not in METHODS:
        raise SeqlabError(f"unknown projection {method!r}; use one of {', '.join(METHODS)}")
    if len(X) < 2:
        raise SeqlabError("need at least two words to draw a map")
    if method == "tsne" and len(X) >= 4:
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, (len(X) - 1) / 3))
        return TSNE(
            n_components=2, perplexity=perplexity, init="pca", random_state=seed, metric="cosine"
        ).fit_transform(X)
    Xc = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(Xc, full_matrices=False)
    Y = Xc @ Vt[:2].T  # (n, <=2)
    if Y.shape[1] < 2:
        Y = np.hstack([Y, np.zeros((len(Y), 2 - Y.shape[1]))])
    # fix the sign of each axis (SVD signs are arbitrary) so the same vectors give the same map
    return Y * np.sign(Y[np.argmax(np.abs(Y), axis=0), [0, 1]] + 1e-300)


def parse_pairs(specs: Sequence[str]) -> list[tuple[str, str]]:
    """'a:b' strings -> (a, b) tuples; SeqlabError for anything else."""
    pairs = []
    for s in specs:
        parts = s.split(":")
        if len(parts) != 2 or not all(parts):
            raise SeqlabError(f"pair {s!r} should look like word1:word2 (e.g. man:woman)")
        pairs.append((parts[0], parts[1]))
    return pairs


def plot_words(
    kv,
    words: Sequence[str] = (),
    pairs: Sequence[tuple[str, str]] = (),
    method: str = "pca",
    seed: int = 1,
    title: str | None = None,
):
    """A matplotlib Figure: every word (and every word of `pairs`) as a labelled point, with an
    arrow from a to b for each pair (a, b). Unknown words raise SeqlabError naming them."""
    from matplotlib.figure import Figure

    names: list[str] = []
    for w in list(words) + [w for p in pairs for w in p]:
        if w not in names:
            names.append(w)
    X = np.stack([kv.get_vector(w, norm=True) for w in names])  # (n, D); raises for unknown
    Y = project_2d(X, method, seed)  # (n, 2)
    pos = {w: Y[i] for i, w in enumerate(names)}
    fig = Figure(figsize=(7, 6), dpi=110)
    ax = fig.add_subplot()
    paired = {w for p in pairs for w in p}
    ax.scatter(Y[:, 0], Y[:, 1], s=18, c=["tab:red" if w in paired else "tab:blue" for w in names], zorder=3)
    for w in names:
        ax.annotate(w, pos[w], xytext=(4, 4), textcoords="offset points", fontsize=9, zorder=4)
    for a, b in pairs:
        ax.annotate(
            "",
            xy=pos[b],
            xytext=pos[a],
            zorder=2,
            arrowprops=dict(arrowstyle="->", color="tab:gray", lw=1.2, shrinkA=4, shrinkB=4),
        )
    ax.set_title(title or f"word vectors, {method.upper()} projection ({len(names)} words)")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.margins(0.12)
    fig.tight_layout()
    return fig


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Write the figure atomically; the format (png, pdf, svg) comes from the suffix."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "pdf", "svg"):
        raise SeqlabError(f"plot file must end in .png, .pdf or .svg, got {path.name!r}")
    FigureCanvasAgg(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt)
    return path
