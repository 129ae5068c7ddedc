"""docs/api.md, section "Word embeddings": every python example runs as written, in order."""

import re
from pathlib import Path

import pytest

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"
SECTION = "## Word embeddings"


def section_blocks(text: str, heading: str) -> list[str]:
    """The ```python blocks between `heading` and the next second-level heading."""
    start = text.index(heading + "\n")
    nxt = re.search(r"^## ", text[start + len(heading) :], flags=re.M)
    body = text[start : start + len(heading) + nxt.start()] if nxt else text[start:]
    return re.findall(r"^```python\n(.*?)^```", body, flags=re.M | re.S)


def test_section_extraction_stops_at_the_next_section():
    text = (
        "## A\n```python\nx = 1\n```\n## Word embeddings\n```python\ny = 2\n```\n### sub\n"
        "```python\nz = 3\n```\n## B\n```python\nboom\n```\n"
    )
    assert section_blocks(text, SECTION) == ["y = 2\n", "z = 3\n"]


def test_word_embedding_examples_run(tmp_path, monkeypatch):
    blocks = section_blocks(API_MD.read_text(encoding="utf-8"), SECTION)
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)  # the examples write their small files here
    namespace: dict = {"__name__": "__api_example__"}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"{API_MD.name} (embeddings block {i + 1})", "exec"), namespace)
        except Exception as e:  # name the block that failed
            pytest.fail(f"docs/api.md embeddings block {i + 1} failed: {type(e).__name__}: {e}")
    # the first example's claim: king's neighbours are royals
    model = namespace["model"]
    top = [w for w, _ in model.wv.most_similar("king", topn=3)]
    assert set(top) <= {"queen", "prince", "princess", "throne", "palace"}, top
