"""Shared test fixtures: small generated corpora, a private cache/run area, the `needs_data` marker
and a CLI runner that checks the one-line error contract."""

import pytest
import torch

from seqlab.cli import main
from seqlab.errors import SeqlabError

# Small tests run faster single-threaded, and a shared 2-core machine punishes oversubscription.
torch.set_num_threads(1)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "needs_data(*names): skip (naming the dataset) unless these seqlab.datasets names are "
        "found, via SEQLAB_DATA or ../shared/data next to the checkout",
    )


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.needs_data("tinyshakespeare")`: without the data folder the test is skipped with
    a reason that names what is missing, never errors."""
    from seqlab.datasets import dataset_path

    missing: dict[str, str | None] = {}
    for item in items:
        for mark in item.iter_markers("needs_data"):
            for name in mark.args:
                if name not in missing:
                    try:
                        dataset_path(name)
                        missing[name] = None
                    except SeqlabError as e:  # "dataset 'x' not found at ..." or "data folder not found"
                        missing[name] = str(e) if repr(name) in str(e) else f"dataset {name!r}: {e}"
                if missing[name]:
                    item.add_marker(pytest.mark.skip(reason=missing[name]))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    yield


@pytest.fixture
def cli(capsys):
    """cli(*argv) -> (exit code, stdout, stderr) of `seqlab ARGV` run in-process."""

    def run(*argv):
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def cli_error(cli):
    """cli_error(*argv, match=...) runs a command that must fail cleanly: a non-zero exit, exactly one
    line on stderr starting 'seqlab: error:' and holding `match`, no traceback; returns that line."""

    def run(*argv, match):
        code, _, err = cli(*argv)
        assert code != 0, err
        assert err.startswith("seqlab: error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err and match in err, err
        return err.strip()

    return run


@pytest.fixture(scope="session")
def long_line_file(tmp_path_factory):
    """A 10 MB file holding one line (no newline anywhere): words of 3-9 letters and a tab halfway."""
    import numpy as np

    rng = np.random.default_rng(0)
    letters = np.frombuffer(b"abcdefghij", dtype=np.uint8)
    n = 10_000_000
    buf = letters[rng.integers(0, len(letters), size=n)]
    spaces = np.cumsum(rng.integers(4, 10, size=n // 4))  # every 4-9 bytes
    buf[spaces[spaces < n]] = ord(" ")
    buf[n // 2] = ord("\t")
    path = tmp_path_factory.mktemp("long") / "one_line.txt"
    path.write_bytes(buf.tobytes())
    return path
