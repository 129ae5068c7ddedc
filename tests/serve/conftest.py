"""Tiny trained runs for the server's tests, built once per test session (about 10 s in all): a
stream LM, a CNN and an NBSVM classifier, a translator of a copy language, a lines model of a
short list of names, and 6-d word vectors in which king - man + woman is queen."""

from __future__ import annotations

import random
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

from seqlab.cli import main

LM_TEXT = (
    "ROMEO:\nBut soft, what light through yonder window breaks?\nIt is the east, and Juliet is the sun.\n\n"
    "JULIET:\nO Romeo, Romeo, wherefore art thou Romeo?\nDeny thy father and refuse thy name.\n\n"
)
NAMES = [
    "emma",
    "olivia",
    "ava",
    "isabella",
    "sophia",
    "mia",
    "amelia",
    "harper",
    "evelyn",
    "abigail",
    "emily",
    "ella",
    "elizabeth",
    "camila",
    "luna",
    "sofia",
    "avery",
    "mila",
    "aria",
    "scarlett",
]
COPY_WORDS = "ka lo mi nu pe ro sa ti".split()
FILLER = [f"w{i}" for i in range(25)]


def _quiet(argv: list[str]) -> None:
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main([str(a) for a in argv]) == 0, argv
    finally:
        torch.set_num_threads(old)


def write_sentiment(path: Path, n: int = 200) -> Path:
    """good/bad sentences whose label is a cue word (great, superb / awful, dull) among fillers."""
    rng = random.Random(0)
    cue = {"good": ("great", "superb"), "bad": ("awful", "dull")}
    rows = []
    for i in range(n):
        label = ("bad", "good")[i % 2]
        words = rng.sample(FILLER, rng.randint(3, 8)) + [rng.choice(cue[label])]
        rng.shuffle(words)
        rows.append(label + "\t" + " ".join(words))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def write_copy_pairs(path: Path, n: int = 400, seed: int = 0) -> Path:
    """LEFT words -> the same words with an 'x' suffix: a language a tiny model learns in seconds."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        s = [rng.choice(COPY_WORDS) for _ in range(rng.randint(2, 5))]
        lines.append(" ".join(s) + " .\t" + " ".join(w + "x" for w in s) + " .")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_vectors(path: Path) -> Path:
    """word2vec text vectors: axes base, royal, female and 3 of noise, so king - man + woman = queen."""
    rng = np.random.default_rng(0)
    base, royal, female = np.eye(6)[0], np.eye(6)[1], np.eye(6)[2]
    vecs = {
        "man": base,
        "woman": base + female,
        "king": base + royal,
        "queen": base + royal + female,
        "prince": base + 0.9 * royal + 0.1 * female,
        "girl": base + female * 1.1,
    }
    for w in ("frog", "toad", "lizard", "apple", "pear", "paris", "france", "italy", "rome"):
        vecs[w] = rng.normal(size=6)
    vecs = {w: v + 0.01 * rng.normal(size=6) for w, v in vecs.items()}
    rows = [f"{len(vecs)} 6"] + [w + " " + " ".join(f"{x:.5f}" for x in v) for w, v in vecs.items()]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    """name -> run directory (lm, cnn, nbsvm, translate) and the data files behind them."""
    tmp = tmp_path_factory.mktemp("serve_runs")
    text = tmp / "lm.txt"
    text.write_text(LM_TEXT * 30, encoding="utf-8")
    _quiet(
        [
            "lm",
            "train",
            text,
            "-o",
            tmp / "lm",
            "--max-steps",
            30,
            "--layers",
            1,
            "--hidden",
            32,
            "--embed",
            8,
            "--seq-len",
            32,
            "--batch-size",
            8,
            "--eval-every",
            30,
            "--threads",
            1,
        ]
    )
    data = write_sentiment(tmp / "sentiment.tsv")
    _quiet(
        [
            "classify",
            "train",
            data,
            "-o",
            tmp / "cnn",
            "--model",
            "cnn-rand",
            "--epochs",
            3,
            "--folds",
            2,
            "--seed",
            1,
        ]
    )
    _quiet(["classify", "train", data, "-o", tmp / "nbsvm", "--model", "nbsvm", "--folds", 2])
    pairs = write_copy_pairs(tmp / "pairs.tsv")
    _quiet(
        [
            "translate",
            "train",
            pairs,
            "-o",
            tmp / "translate",
            "--max-len",
            6,
            "--emb-size",
            16,
            "--hidden-size",
            32,
            "--batch-size",
            32,
            "--max-epochs",
            2,
            "--lr",
            "0.02",
            "--beam",
            2,
        ]
    )
    names = tmp / "names.txt"
    names.write_text("\n".join(NAMES * 5) + "\n", encoding="utf-8")
    _quiet(
        [
            "lm",
            "train",
            names,
            "-o",
            tmp / "names",
            "--mode",
            "lines",
            "--max-steps",
            60,
            "--layers",
            1,
            "--hidden",
            32,
            "--embed",
            8,
            "--batch-size",
            16,
            "--eval-every",
            60,
            "--threads",
            1,
        ]
    )
    return {
        "lm": tmp / "lm",
        "cnn": tmp / "cnn",
        "nbsvm": tmp / "nbsvm",
        "translate": tmp / "translate",
        "names": tmp / "names",
        "names_file": names,
        "vectors_file": write_vectors(tmp / "vectors.txt"),
    }


@pytest.fixture(scope="session")
def registry(runs):
    from seqlab.serve.registry import NamesService, Registry

    return Registry.load(
        {"lm": runs["lm"], "cnn": runs["cnn"], "nbsvm": runs["nbsvm"], "fr-en": runs["translate"]},
        {"tiny": runs["vectors_file"]},
        NamesService.from_run(runs["names"]),
    )


@pytest.fixture(scope="session")
def client(registry):
    from fastapi.testclient import TestClient

    from seqlab.serve.app import create_app

    with TestClient(create_app(registry, workers=2)) as c:
        yield c


@contextmanager
def serving(app, host: str = "127.0.0.1"):
    """A real uvicorn serving `app` on a free port of `host`, on a thread of this process (so tests
    can serve stand-in models); yields the port."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=0, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    t_end = time.monotonic() + 30
    while not server.started and time.monotonic() < t_end and thread.is_alive():
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def serve_app():
    """serve_app(app, host="127.0.0.1"): a context manager serving `app` for real; yields the port."""
    return serving


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "browser: drives headless Chromium against a live `seqlab serve` "
        "(skips, naming what is missing, without Chromium or Playwright)",
    )
