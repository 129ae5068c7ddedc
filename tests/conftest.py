"""Shared test fixtures: small generated corpora and a private cache/run area."""


import pytest
import torch

# Small tests run faster single-threaded, and a shared 2-core machine punishes oversubscription.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    yield
