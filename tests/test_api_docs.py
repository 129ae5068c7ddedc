"""docs/api.md, sections for parts 2-4 of the lecture: every python example runs as written, in
order, on the tiny data it makes itself, and says what the text around it says."""

import re
from pathlib import Path

import pytest

API_MD = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def blocks(heading: str) -> list[str]:
    """The ```python blocks between `heading` and the next second-level heading."""
    text = API_MD.read_text(encoding="utf-8")
    start = text.index(heading + "\n")
    nxt = re.search(r"^## ", text[start + len(heading) :], flags=re.M)
    body = text[start : start + len(heading) + nxt.start()] if nxt else text[start:]
    return re.findall(r"^```python\n(.*?)^```", body, flags=re.M | re.S)


def run_blocks(heading: str, skip=lambda code: None) -> dict:
    ns: dict = {"__name__": "__api_example__"}
    for i, code in enumerate(blocks(heading)):
        reason = skip(code)
        if reason:
            continue
        try:
            exec(compile(code, f"docs/api.md {heading} block {i + 1}", "exec"), ns)
        except Exception as e:
            pytest.fail(f"docs/api.md {heading!r} block {i + 1} failed: {type(e).__name__}: {e}")
    return ns


def test_recurrent_network_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = run_blocks("## Recurrent networks")
    assert ns["lm"].mode == "stream" and ns["names"].mode == "lines"
    assert (tmp_path / "runs" / "hamlet" / "model.pt").exists()
    sample = ns["lm"].sample(length=40, prime="To be", seed=1)
    assert sample.startswith("To be") and len(sample) == 45
    assert ns["lm"].evaluate("To be\n")["bpc"] > 0


def test_cnn_part_examples(tmp_path, monkeypatch):
    from seqlab.datasets import dataset_path
    from seqlab.errors import SeqlabError

    try:
        dataset_path("sentence_classification")
        skip = lambda code: None  # noqa: E731
    except SeqlabError:
        skip = lambda code: "no data" if "load_dataset(" in code else None  # noqa: E731
    monkeypatch.chdir(tmp_path)
    ns = run_blocks("## Relation to CNNs", skip)
    assert list(ns["clf"].predict(["the cast very funny", "the plot very dull"])) == [1, 0]
    assert ns["clf"].score(ns["X"], ns["y"]) > 0.9


def test_attention_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = run_blocks("## Attention")
    t = ns["t"]
    assert t.text == "kax lox mix" and len(t.attention) == len(t.output_tokens) == 4
    assert all(abs(sum(row) - 1) < 1e-4 for row in t.attention)
