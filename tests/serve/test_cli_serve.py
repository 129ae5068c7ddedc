"""`seqlab serve`: flags, start-up errors, the loopback default, and the door beyond loopback:
a token (or an explicit --no-auth), a rate limit, a busy port said in one line (uvicorn.run
replaced, so nothing listens)."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("uvicorn", reason="the serve extra is not installed: pip install 'seqlab[serve]'")

import uvicorn  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from seqlab.cli.serve import named  # noqa: E402
from seqlab.errors import SeqlabError  # noqa: E402


def test_help_teaches(cli):
    with pytest.raises(SystemExit) as e:
        cli("serve", "--help")
    assert e.value.code == 0


def test_named_specs():
    assert named(["a=runs/x", "runs/y/"], "run", lambda s: s.rstrip("/").split("/")[-1]) == {
        "a": "runs/x",
        "y": "runs/y/",
    }
    with pytest.raises(SeqlabError, match="two --run are named 'x'"):
        named(["x=a", "x=b"], "run", str)
    with pytest.raises(SeqlabError, match="NAME=VALUE"):
        named(["=a"], "run", str)


@pytest.fixture
def launched(monkeypatch):
    """uvicorn.run replaced: records (app, host, port) instead of serving."""
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: calls.append((app, host, port)))
    monkeypatch.delenv("SEQLAB_TOKEN", raising=False)
    return calls


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def test_loopback_by_default_and_runs_by_name(cli, launched, runs):
    port = free_port()
    code, out, err = cli(
        "serve",
        "--run",
        f"shakespeare={runs['lm']}",
        "--run",
        runs["translate"],
        "--vectors",
        f"tiny={runs['vectors_file']}",
        "--port",
        port,
    )
    assert code == 0, err
    app, host, port_ = launched[0]
    assert (host, port_) == ("127.0.0.1", port)
    assert "WARNING" not in err and "token" not in err and f"http://127.0.0.1:{port}/" in err
    reg = app.state.registry
    assert reg.kinds() == {"shakespeare": "lm", "translate": "translate"} and list(reg.vectors) == ["tiny"]
    assert reg.names.state == "off"  # runs given: no names model unless --names
    assert out == ""  # stdout carries nothing; notes go to stderr
    with TestClient(app, base_url=f"http://127.0.0.1:{port}") as c:  # as before: no token, no limit
        assert all(c.get("/api/health").status_code == 200 for _ in range(60))
        r = c.post("/api/embed/similar", json={"word": "king"}, headers={"host": "evil.example"})
        assert r.status_code == 400  # the Host guard


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "127.0.0.2", "::"])
def test_other_hosts_need_a_token_or_no_auth(cli_error, launched, runs, host):
    line = cli_error(
        "serve", "--host", host, "--run", runs["lm"], match=f"--host {host} lets other machines in"
    )
    assert "--token" in line and "SEQLAB_TOKEN" in line and "--no-auth" in line
    assert not launched


def test_no_auth_serves_without_a_token_and_warns(cli, launched, runs, monkeypatch):
    monkeypatch.setenv("SEQLAB_TOKEN", "left-over-from-class")  # --no-auth is said: no token
    code, _, err = cli(
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--no-auth",
        "--run",
        runs["lm"],
        "--names-run",
        runs["names"],
    )
    assert code == 0, err
    assert "WARNING" in err and "--no-auth" in err
    app = launched[0][0]
    assert app.state.registry.names.state == "ready"
    with TestClient(app) as c:
        assert c.post("/api/names", json={"n": 2, "seed": 1}).status_code == 200


def token_app(cli, launched, runs, *flags):
    code, _, err = cli("serve", "--port", "0", "--names-run", runs["names"], *flags)
    assert code == 0, err
    return launched[-1][0], err


@pytest.mark.parametrize("via", ["flag", "environment"])
def test_a_token_locks_every_api_route_but_health(cli, launched, runs, monkeypatch, via):
    secret = "class-7b-" + via
    if via == "environment":
        monkeypatch.setenv("SEQLAB_TOKEN", secret)
        app, err = token_app(cli, launched, runs, "--host", "0.0.0.0")
    else:
        app, err = token_app(cli, launched, runs, "--host", "0.0.0.0", "--token", secret)
    assert secret not in err and "needs the token" in err  # the log never shows it
    with TestClient(app) as c:
        assert c.get("/api/health").status_code == 200
        assert c.get("/").status_code == 200  # the page, which asks for the token
        for headers in ({}, {"Authorization": "Bearer guess-123"}, {"Authorization": secret}):
            r = c.post("/api/names", json={"n": 2}, headers=headers)
            assert r.status_code == 401 and secret not in r.text and "guess-123" not in r.text
            assert r.headers["www-authenticate"].startswith("Bearer")
        r = c.post("/api/names", json={"n": 2, "seed": 1}, headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 200 and len(r.json()["names"]) == 2


def test_beyond_loopback_each_address_is_rate_limited(cli, launched, runs):
    app, err = token_app(cli, launched, runs, "--host", "0.0.0.0", "--no-auth", "--rate-limit", "3")
    assert "3 requests/s" in err
    with TestClient(app) as c:
        codes = [c.get("/api/health").status_code for _ in range(6)]
    assert codes[:3] == [200] * 3 and codes[3:].count(429) >= 2, codes


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--token", "a b"], "--token must be printable ASCII"),
        (["--token", ""], "--token must be printable ASCII"),
        (["--token", "x", "--no-auth"], "contradict"),
        (["--rate-limit", "-1"], "--rate-limit must be at least 0"),
    ],
)
def test_door_flags_are_checked_first(cli_error, launched, argv, match):
    cli_error("serve", "--host", "0.0.0.0", *argv, match=match)
    assert not launched


def test_a_busy_port_is_one_line_before_any_model_loads(cli_error, launched, runs, monkeypatch):
    from seqlab.serve import registry

    def no_loading(*a, **kw):
        raise AssertionError("models were loaded although the port is busy")

    monkeypatch.setattr(registry.Registry, "load", no_loading)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = cli_error("serve", "--port", port, "--vectors", f"tiny={runs['vectors_file']}", match="in use")
    assert line == f"seqlab: error: port {port} is in use; pass --port"
    assert not launched


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--run", "/nonexistent/run"], "run folder not found"),
        (["--workers", "0", "--no-names"], "--workers must be at least 1"),
        (["--vectors", "nope.txt"], "vectors not found"),
        (["--port", "70000"], "--port must be between"),
    ],
)
def test_start_up_errors_are_one_line(cli_error, launched, argv, match):
    cli_error("serve", *argv, match=match)
    assert not launched


def test_a_run_of_another_kind_is_refused(cli_error, launched, tmp_path):
    from seqlab.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "model.pt", "word2vec", {})
    cli_error("serve", "--run", tmp_path, match="seqlab serve takes lm, classify and translate runs")
