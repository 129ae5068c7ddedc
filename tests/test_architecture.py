"""The package's shape (STYLE.md): imports run one way, with no circles; files stay readable.

The import graph is built from the source with `ast`, counting imports inside functions too (an
import-graph tool such as grimp counts them, and a lazy import still ties two modules together).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import seqlab

SRC = Path(seqlab.__file__).resolve().parent
WINGS = ("embeddings", "charlm", "classify", "translate", "cli", "serve")
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = ["seqlab", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the seqlab modules it imports (a `from package import name` counts the submodule
    when `name` is one, else the package)."""
    files = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(
                        package.split(".")[: len(package.split(".")) - node.level + 1] + [base]
                    ).strip(".")
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in files:  # `import seqlab.x.y` as a name inside a module
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    graph[mod].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _wing(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in WINGS else None


def test_the_graph_sees_real_imports():
    g = import_graph()
    assert "seqlab.models.rnn" in g["seqlab.charlm.train"] or any(
        "seqlab.models.rnn" in g[m] for m in g if m.startswith("seqlab.charlm.")
    )
    assert "seqlab.cli.arguments" in g["seqlab.cli"]
    # a circle is found when there is one
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circles():
    assert cycles(import_graph()) == []


def test_lower_layers_import_no_wing():
    """models/ and the shared modules (errors, files, runtime, checkpoint, ...) sit below the wings."""
    g = import_graph()
    upward = sorted(
        (m, t)
        for m, targets in g.items()
        for t in targets
        if _wing(m) is None and m not in ("seqlab", "seqlab.__main__") and _wing(t) is not None
    )
    assert upward == []


def test_wings_do_not_import_the_front_doors():
    """Only the front doors (cli, serve, `python -m seqlab`) import cli or serve."""
    g = import_graph()
    wrong = sorted(
        (m, t)
        for m, targets in g.items()
        for t in targets
        if _wing(t) in ("cli", "serve") and _wing(m) not in ("cli", "serve") and m not in ("seqlab.__main__",)
    )
    assert wrong == []


@pytest.mark.parametrize(
    "front, below",
    [
        ("translate.translator", ("train", "run", "scoring", "decoding", "config", "data")),
        ("charlm.language_model", ("train", "corpus", "data", "sampling", "config")),
        ("embeddings.word2vec", ("word2vec_train", "word2vec_kernels", "model", "corpus", "keyedvectors")),
    ],
)
def test_the_object_a_user_holds_sits_on_top_of_the_loop_that_trains_it(front, below):
    """Translator, CharLM, Word2Vec: nothing they stand on reaches them, directly or through others."""
    g = import_graph()
    wing = "seqlab." + front.split(".")[0] + "."
    for start in below:
        seen, todo = set(), [wing + start]
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo.extend(g.get(m, ()))
        assert "seqlab." + front not in seen, start


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_over_500_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES
