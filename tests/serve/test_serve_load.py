"""A small version of benchmarks/bench_serve.py: a real uvicorn server on 127.0.0.1 (in this
process, so the registry can be checked), 20 concurrent clients, 120 mixed requests. Every answer
must be 200 and equal to the answer of the same request sent alone (seeded sampling: concurrency
neither corrupts nor mixes up state), and no model is loaded again."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="the serve extra is not installed: pip install 'seqlab[serve]'")

import uvicorn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_serve import load, mix  # noqa: E402
from seqlab.serve.app import create_app  # noqa: E402


@pytest.fixture
def live(registry):
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(registry, workers=2), host="127.0.0.1", port=0, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    t_end = time.monotonic() + 30
    while not server.started and time.monotonic() < t_end:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(10)


def answer(record: dict):
    """The content of an answer: JSON, or a stream's text joined (its chunking depends on timing)."""
    if record["kind"] == "lm_stream":
        events = [b for b in record["body"].decode().split("\n\n") if b.startswith("data:")]
        return "".join(json.loads(e[5:]).get("text", "") for e in events)
    return json.loads(record["body"])


def test_twenty_clients_get_the_answers_one_client_gets(live, registry):
    inputs = {
        "names": True,
        "lm": "lm",
        "classify": "cnn",
        "translate": "fr-en",
        "vectors": "tiny",
        "sentences": ["w1 great w2", "awful w3 w4 w5", "superb"],
        "french": ["ka lo .", "mi nu pe ."],
        "analogies": ["king - man + woman", "queen - woman + man"],
        "words": ["king", "frog"],
        "prime": "ROMEO:",
    }
    requests = mix(120, inputs, seed=5)
    assert {k for k, _, _ in requests} == {
        "names",
        "analogy",
        "similar",
        "classify",
        "translate",
        "lm_sample",
        "lm_stream",
    }
    loads = registry.loads
    together = load(live, requests, clients=20, timeout=120)
    alone = load(live, requests, clients=1, timeout=120)
    assert len(together) == len(alone) == 120
    assert [r["status"] for r in together] == [200] * 120, [
        r["body"][:200] for r in together if r["status"] != 200
    ]
    assert [answer(r) for r in together] == [answer(r) for r in alone]
    assert registry.loads == loads
