"""`seqlab serve --workers N` bounds the model calls running at once to N, and they do reach N.

The model is a stand-in whose `generate` counts the callers inside it (enter: +1, a short sleep,
leave: -1) and keeps the maximum. 4N requests are sent at once through an in-process ASGI client;
the maximum must be exactly N: more means the limit leaks, fewer means requests were serialised
(or the test never overlapped them, and could not have seen a leak).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

NO_SERVE = "the serve extra is not installed: pip install 'seqlab[serve]'"
pytest.importorskip("fastapi", reason=NO_SERVE)
uvicorn = pytest.importorskip("uvicorn", reason=NO_SERVE)
httpx = pytest.importorskip("httpx", reason="httpx is needed for the in-process ASGI client")

from seqlab.serve.app import create_app  # noqa: E402
from seqlab.serve.registry import NamesService, Registry  # noqa: E402

HOLD = 0.15  # seconds each call stays inside the model: long against scheduling noise


class CountingNames:
    """Quacks like a NamesModel for /api/names; records how many calls overlap."""

    known: frozenset = frozenset()

    def __init__(self):
        self.lock = threading.Lock()
        self.inside = self.most = self.calls = 0

    def generate(self, n, start="", temperature=1.0, seed=None, allow_known=False):
        with self.lock:
            self.inside += 1
            self.calls += 1
            self.most = max(self.most, self.inside)
        try:
            time.sleep(HOLD)
            return [f"{start}name{seed}-{i}" for i in range(n)]
        finally:
            with self.lock:
                self.inside -= 1


def fire(app, n_requests: int) -> list:
    """n_requests POST /api/names at once; the responses in order."""

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=60) as client:
            return await asyncio.gather(
                *(client.post("/api/names", json={"n": 2, "seed": i}) for i in range(n_requests))
            )

    return asyncio.run(go())


def check(app, model: CountingNames, workers: int) -> None:
    t0 = time.perf_counter()
    responses = fire(app, 4 * workers)
    seconds = time.perf_counter() - t0
    assert [r.status_code for r in responses] == [200] * (4 * workers), [r.text for r in responses][:3]
    expected = [[f"name{i}-0", f"name{i}-1"] for i in range(4 * workers)]  # each request its own answer
    assert [r.json()["names"] for r in responses] == expected
    assert model.calls == 4 * workers and model.inside == 0
    assert model.most == workers, f"{model.most} model calls ran at once with workers={workers}"
    assert seconds >= 4 * HOLD * 0.9  # four rounds of N at most: a leak would finish sooner


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_create_app_runs_at_most_workers_model_calls_at_once(workers):
    model = CountingNames()
    app = create_app(Registry(names=NamesService.ready({None: model})), workers=workers)
    check(app, model, workers)


def test_the_workers_flag_reaches_the_app(cli, monkeypatch, tmp_path):
    """`seqlab serve --workers 3`: the app the command would serve (uvicorn.run replaced) holds its
    model calls to 3 at a time."""
    import torch

    launched = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: launched.append(app))
    vectors = tmp_path / "v.txt"
    vectors.write_text("2 2\na 1.0 0.0\nb 0.0 1.0\n", encoding="utf-8")
    threads = torch.get_num_threads()
    try:
        code, _, err = cli(
            "serve", "--workers", "3", "--vectors", f"tiny={vectors}", "--no-names", "--port", "0"
        )
    finally:
        torch.set_num_threads(threads)  # the command gives torch cores / workers threads
    assert code == 0, err
    app = launched[0]
    model = CountingNames()
    app.state.registry.names = NamesService.ready({None: model})  # the routes read the registry per request
    check(app, model, 3)
