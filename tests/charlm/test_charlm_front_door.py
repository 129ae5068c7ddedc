"""CharLM as a notebook user meets it (issue 25): a mistyped path is an error naming it, never text
to train on; `text=` and `path=` say which is meant; a short repr; `.to(device)` returns the model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from seqlab.charlm.language_model import CharLM, looks_like_path
from seqlab.errors import ParameterError, SeqlabError

TEXT = "To be, or not to be, that is the question.\n" * 40
SMALL = dict(
    layers=1, hidden=16, embed=8, batch_size=4, seq_len=16, eval_every=5, precision="fp32", max_steps=10
)


@pytest.fixture(scope="module")
def play(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("front") / "play.txt"
    p.write_text(TEXT, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def trained(play, tmp_path_factory):
    """The same settings trained three ways: the file positionally, path=, text=."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = tmp_path_factory.mktemp("runs")
        return {
            "positional": CharLM.train(str(play), runs / "a", **SMALL),
            "path": CharLM.train(path=play, run_dir=runs / "b", **SMALL),
            "text": CharLM.train(text=TEXT, run_dir=runs / "c", **SMALL),
        }
    finally:
        torch.set_num_threads(old)


@pytest.mark.parametrize("typo", ["data/inptu.txt", "inptu.txt", "data/inptu", "notes.md", "corpus.txt.gz"])
def test_a_mistyped_path_is_an_error_naming_it(tmp_path, monkeypatch, typo):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SeqlabError, match="file not found: " + typo.replace(".", r"\.")):
        CharLM.train(typo, tmp_path / "run", **SMALL)
    assert not (tmp_path / "run").exists()
    with pytest.raises(SeqlabError, match="file not found"):
        CharLM.train(path=typo, run_dir=tmp_path / "run", **SMALL)
    assert not (tmp_path / "run").exists()


def test_text_keyword_is_text_even_when_it_looks_like_a_path(tmp_path):
    """text= is never opened: a path-like string is trained on as its characters (here too short)."""
    with pytest.raises(ParameterError, match="too short") as info:
        CharLM.train(text="data/inptu.txt", run_dir=tmp_path / "run", **SMALL)
    assert info.value.parameter == "seq_len"


@pytest.mark.parametrize(
    "s, path_like",
    [
        ("data/input.txt", True),
        ("input.TXT", True),
        ("~/corpus", True),
        ("runs/x.tex", True),
        ("To be, or not to be", False),
        ("either/or is a phrase", False),  # a separator among words is text
        ("line one\nline two.txt", False),  # more than one line is text
        ("", False),
    ],
)
def test_what_looks_like_a_path(s, path_like):
    assert looks_like_path(s) is path_like


def test_the_three_ways_to_give_data_train_the_same_model(trained, play):
    a, b, c = trained["positional"], trained["path"], trained["text"]
    samples = {k: m.sample(length=60, seed=3) for k, m in trained.items()}
    assert len(set(samples.values())) == 1
    # a path trained as text would have the path's characters as its vocabulary
    assert sorted(a.vocab.itos) == sorted(set(TEXT)) == sorted(b.vocab.itos) == sorted(c.vocab.itos)


def test_evaluate_takes_text_or_path_and_refuses_a_missing_file(trained, play, tmp_path, monkeypatch):
    lm = trained["path"]
    by_path, by_kw, by_text = lm.evaluate(str(play)), lm.evaluate(path=play), lm.evaluate(text=TEXT)
    assert by_path == by_kw == by_text and by_path["chars"] == len(TEXT) - 1  # every char after the first
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SeqlabError, match=r"file not found: missing\.txt"):
        lm.evaluate("missing.txt")
    with pytest.raises(ParameterError) as info:
        lm.evaluate("To be", text="To be")
    assert info.value.parameter == "text"
    with pytest.raises(ParameterError, match="^text or path is required"):
        lm.evaluate()


def test_repr_says_what_the_model_is(trained):
    lm = trained["path"]
    metrics = json.loads((lm.run_dir / "metrics.json").read_text())
    r = repr(lm)
    assert r.startswith("CharLM(lstm 1x16, ") and len(r) < 200, r
    assert f"vocabulary {len(set(TEXT))}" in r and "stream" in r
    assert f"step {metrics['best_step']}" in r and f"val_loss {metrics['val_loss']:.4f}" in r
    assert str(lm.run_dir) in r and "tensor" not in r


def test_to_returns_the_model_and_sampling_still_works(trained):
    lm = trained["text"]
    before = lm.sample(length=40, seed=1)
    assert lm.to("cpu") is lm and lm.to(torch.device("cpu")) is lm
    assert next(lm.model.parameters()).device.type == "cpu"
    assert lm.sample(length=40, seed=1) == before
    with pytest.raises(SeqlabError, match="unknown device"):
        lm.to("tpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_to_cuda_draws_the_same_text(trained):
    lm = trained["text"]
    before = lm.sample(length=40, seed=1)
    try:
        assert lm.to("cuda") is lm and "device cuda" in repr(lm)
        assert lm.sample(length=40, seed=1) == before
    finally:
        lm.to("cpu")


def test_stream_checks_its_arguments_when_called(trained):
    lm = trained["path"]
    with pytest.raises(ParameterError, match="^length must be at least 1"):
        lm.stream(length=0)  # not on the first next()
    with pytest.raises(ParameterError, match="^prime has character"):
        lm.stream(prime="§")


def test_a_temporary_run_dir_is_removed_when_training_fails(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ParameterError):
        CharLM.train(text="too short", **SMALL)  # fails after the run directory was made
    assert os.listdir(tmp_path) == []
