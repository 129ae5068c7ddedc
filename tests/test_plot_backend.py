"""Library plots draw on their own Figure: a call never switches the caller's matplotlib backend
(a notebook's inline backend kept working after training a model)."""

from __future__ import annotations

import matplotlib
import pytest


@pytest.fixture
def svg_backend():
    before = matplotlib.get_backend()
    matplotlib.use("svg", force=True)  # a backend no library call would pick by itself
    yield
    matplotlib.use(before, force=True)


def test_loss_curve_and_attention_map_leave_the_backend_alone(svg_backend, tmp_path):
    from seqlab.charlm.plot import plot_loss_curve
    from seqlab.translate.plot import save_attention_png

    history = [{"step": s, "train_loss": 3.0 / s, "val_loss": 3.2 / s, "seconds": 2.0 * s} for s in (1, 2, 3)]
    plot_loss_curve(history, tmp_path / "loss.png")
    save_attention_png(tmp_path / "att.png", ["je", "suis"], ["i", "am"], [[0.9, 0.1], [0.2, 0.8]])
    assert matplotlib.get_backend() == "svg"
    for name in ("loss.png", "att.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
