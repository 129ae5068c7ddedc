"""`seqlab serve`: flags, start-up errors, the loopback default and the warning for other hosts
(uvicorn.run replaced, so nothing listens)."""

from __future__ import annotations

import pytest

pytest.importorskip("uvicorn", reason="the serve extra is not installed: pip install 'seqlab[serve]'")

import uvicorn  # noqa: E402

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
    return calls


def test_loopback_by_default_and_runs_by_name(cli, launched, runs):
    code, out, err = cli(
        "serve",
        "--run",
        f"shakespeare={runs['lm']}",
        "--run",
        runs["translate"],
        "--vectors",
        f"tiny={runs['vectors_file']}",
        "--port",
        "8123",
    )
    assert code == 0, err
    app, host, port = launched[0]
    assert (host, port) == ("127.0.0.1", 8123)
    assert "no authentication" not in err and "http://127.0.0.1:8123/" in err
    reg = app.state.registry
    assert reg.kinds() == {"shakespeare": "charlm", "translate": "translate"} and list(reg.vectors) == [
        "tiny"
    ]
    assert reg.names.state == "off"  # runs given: no names model unless --names
    assert out == ""  # stdout carries nothing; notes go to stderr


def test_other_hosts_warn_that_there_is_no_authentication(cli, launched, runs):
    code, _, err = cli("serve", "--host", "0.0.0.0", "--run", runs["lm"], "--names-run", runs["names"])
    assert code == 0
    assert "WARNING" in err and "no authentication" in err
    assert launched[0][0].state.registry.names.state == "ready"


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
