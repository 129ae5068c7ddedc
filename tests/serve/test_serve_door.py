"""The classroom door (seqlab.serve.guard): the token, the per-address rate limit and the Host
guard, first through the app factory with clients at chosen addresses, then through real
`seqlab serve` processes: one on 127.0.0.1 (as before: no token, no limit, Host checked) and one
on 127.0.0.2 with --token and --rate-limit. 127.0.0.2 is loopback to the kernel, so the test needs
no network, but `seqlab serve` counts only 127.0.0.1, localhost and ::1 as loopback (docs/serve.md).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install 'seqlab[serve]'")
httpx = pytest.importorskip("httpx", reason="httpx is needed for the in-process ASGI client")

from seqlab.errors import ParameterError  # noqa: E402
from seqlab.serve.app import create_app  # noqa: E402
from seqlab.serve.guard import RateLimiter, bearer_matches  # noqa: E402
from seqlab.serve.registry import NamesService, Registry  # noqa: E402

TOKEN = "room-101-secret"


class Names:
    known: frozenset = frozenset()

    def generate(self, n, start="", temperature=1.0, seed=None, allow_known=False):
        return [f"name{i}" for i in range(n)]


def names_app(**door):
    return create_app(Registry(names=NamesService.ready({None: Names()})), **door)


def send(app, requests: list[tuple], client: str = "192.0.2.10") -> list[httpx.Response]:
    """(method, path, headers) requests sent one after another from `client`'s address."""

    async def go():
        transport = httpx.ASGITransport(app=app, client=(client, 50123))
        async with httpx.AsyncClient(transport=transport, base_url="http://192.0.2.1:8000") as c:
            return [
                await c.request(m, path, headers=h, json={"n": 2} if m == "POST" else None)
                for m, path, h in requests
            ]

    return asyncio.run(go())


# -------------------------------------------------------------------------------- the pieces
def test_rate_limiter_is_a_token_bucket_per_address():
    now = [100.0]
    rl = RateLimiter(4, clock=lambda: now[0])  # 4 per second, bursts of 4
    assert [rl.wait("a") for _ in range(4)] == [0.0] * 4
    assert rl.wait("a") == pytest.approx(0.25)  # empty: one request refills in 1/4 s
    assert rl.wait("b") == 0.0  # another address has its own bucket
    now[0] += 0.25
    assert rl.wait("a") == 0.0 and rl.wait("a") == pytest.approx(0.25)
    now[0] += 10  # idle: full again, and forgotten at the next sweep
    assert rl.wait("c") == 0.0 and set(rl._buckets) == {"c"}
    assert [rl.wait("a") for _ in range(5)].count(0.0) == 4
    with pytest.raises(ValueError):
        RateLimiter(0)


@pytest.mark.parametrize(
    "header, ok",
    [
        (b"Bearer " + TOKEN.encode(), True),
        (b"bearer " + TOKEN.encode(), True),
        (b"Bearer  " + TOKEN.encode() + b" ", True),
        (None, False),
        (b"", False),
        (TOKEN.encode(), False),
        (b"Basic " + TOKEN.encode(), False),
        (b"Bearer " + TOKEN.encode()[:-1], False),
        (b"Bearer " + TOKEN.encode() + b"x", False),
        (b"Bearer \xff\xfe", False),
    ],
)
def test_bearer_matches(header, ok):
    assert bearer_matches(header, TOKEN) is ok


def test_create_app_checks_its_door_parameters():
    for bad in ("", "two words", "caf\u00e9"):
        with pytest.raises(ParameterError, match="token"):
            names_app(token=bad)
    with pytest.raises(ParameterError, match="rate_limit"):
        names_app(rate_limit=-1)


# ---------------------------------------------------------------------- the app, by address
def test_with_a_token_every_api_route_but_health_needs_it():
    app = names_app(token=TOKEN)
    good = {"Authorization": f"Bearer {TOKEN}"}
    r = send(
        app,
        [
            ("GET", "/api/health", {}),
            ("GET", "/", {}),
            ("GET", "/api/names/status", {}),
            ("POST", "/api/names", {}),
            ("POST", "/api/names", {"Authorization": "Bearer guess-42"}),
            ("POST", "/api/names", good),
            ("GET", "/api/names/status", good),
            ("GET", "/api/nope", {}),
        ],
    )
    assert [x.status_code for x in r] == [200, 200, 401, 401, 401, 200, 200, 401]
    for refused in (r[2], r[3], r[4], r[7]):
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in refused.text and "guess-42" not in refused.text
        assert set(refused.json()) == {"error"} and "Bearer TOKEN" in refused.json()["error"]
    assert "no token" in r[3].json()["error"] and "wrong token" in r[4].json()["error"]
    assert r[5].json()["names"] == ["name0", "name1"]
    assert "default-src 'self'" in r[3].headers["content-security-policy"]  # refusals too


def test_the_rate_limit_is_per_client_address():
    app = names_app(rate_limit=3)
    burst = [("GET", "/api/health", {})] * 8
    a = [x.status_code for x in send(app, burst, client="192.0.2.10")]
    assert a[:3] == [200] * 3 and a[3:].count(429) >= 4, a  # a refill of at most one in the burst
    b = send(app, burst[:3], client="192.0.2.11")
    assert [x.status_code for x in b] == [200] * 3  # another address: its own budget
    refused = send(app, burst, client="192.0.2.10")[-1]
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert "at most 3 per second" in refused.json()["error"]
    assert send(app, [("GET", "/", {})] * 6, client="192.0.2.10")[-1].status_code == 200  # the page is not


def test_without_a_door_nothing_is_limited():
    statuses = [x.status_code for x in send(names_app(), [("POST", "/api/names", {})] * 60)]
    assert statuses == [200] * 60


# ----------------------------------------------------------------------------- real servers
def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def get(host, port, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers or {})
    r = conn.getresponse()
    return r.status, dict(r.getheaders()), r.read()


@pytest.fixture(scope="module")
def servers(runs, tmp_path_factory):
    """{"loopback": (host, port), "shared": (host, port)}: two `seqlab serve` processes, started
    together; their logs are read after they stop."""
    try:
        shared_port = free_port("127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 cannot be bound on this system (only 127.0.0.1 is configured)")
    logs = tmp_path_factory.mktemp("door")
    common = ["--names-run", str(runs["names"]), "--vectors", f"tiny={runs['vectors_file']}"]
    where = {"loopback": ("127.0.0.1", free_port("127.0.0.1")), "shared": ("127.0.0.2", shared_port)}
    extra = {"loopback": [], "shared": ["--token", TOKEN, "--rate-limit", "5"]}
    procs = {}
    for name, (host, port) in where.items():
        argv = [sys.executable, "-m", "seqlab", "serve", "--host", host, "--port", str(port), *common]
        with open(logs / f"{name}.log", "w") as err:
            procs[name] = subprocess.Popen(argv + extra[name], stdout=subprocess.DEVNULL, stderr=err)
    try:
        t_end = time.monotonic() + 90
        for name, (host, port) in where.items():
            while True:
                assert procs[name].poll() is None, (logs / f"{name}.log").read_text()
                assert time.monotonic() < t_end, (logs / f"{name}.log").read_text()
                try:
                    if get(host, port, "GET", "/api/health")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
        yield where, logs
    finally:
        for p in procs.values():
            p.terminate()
            p.wait(20)


JSON = {"Content-Type": "application/json"}


def test_a_shared_address_needs_the_token(servers):
    host, port = servers[0]["shared"]
    assert get(host, port, "GET", "/api/health")[0] == 200
    status, headers, body = get(host, port, "POST", "/api/names", JSON, {"n": 2})
    assert status == 401 and headers["www-authenticate"].startswith("Bearer") and TOKEN.encode() not in body
    assert get(host, port, "POST", "/api/names", {**JSON, "Authorization": "Bearer nope"}, {"n": 2})[0] == 401
    status, _, body = get(
        host, port, "POST", "/api/names", {**JSON, "Authorization": f"Bearer {TOKEN}"}, {"n": 2}
    )
    assert status == 200 and len(json.loads(body)["names"]) == 2


def test_a_shared_address_is_rate_limited(servers):
    host, port = servers[0]["shared"]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    statuses, retry = [], None
    for _ in range(12):
        conn.request("GET", "/api/health")
        r = conn.getresponse()
        r.read()
        statuses.append(r.status)
        retry = r.getheader("retry-after") or retry
    assert statuses.count(200) <= 6 and statuses[-5:] == [429] * 5, statuses  # a bucket of 5, refilling
    time.sleep(float(retry))
    assert get(host, port, "GET", "/api/health")[0] == 200  # and it comes back


def test_loopback_is_as_before(servers):
    host, port = servers[0]["loopback"]
    status, _, body = get(host, port, "POST", "/api/names", JSON, {"n": 2, "seed": 1})  # no token
    assert status == 200 and len(json.loads(body)["names"]) == 2
    conn = http.client.HTTPConnection(host, port, timeout=10)
    for _ in range(40):  # no limit
        conn.request("GET", "/api/health")
        r = conn.getresponse()
        r.read()
        assert r.status == 200
    status, _, body = get(host, port, "GET", "/api/health", {"Host": "evil.example"})
    assert status == 400 and b"evil.example" in body  # the Host guard (DNS rebinding)


def test_a_busy_port_exits_2_with_one_line(servers):
    host, port = servers[0]["loopback"]  # held by the server above
    t0 = time.monotonic()
    p = subprocess.run(
        [sys.executable, "-m", "seqlab", "serve", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr == f"seqlab: error: port {port} is in use; pass --port\n"
    assert time.monotonic() - t0 < 30  # no model was loaded or trained first


def test_the_logs_never_show_the_token(servers):
    where, logs = servers
    text = (logs / "shared.log").read_text()
    assert "serving http://127.0.0.2:" in text and "needs the token" in text and TOKEN not in text
