"""The names cache holds what changes the model, checks every argument before training, and never
keeps a half-trained folder (issue 25).

- the training budget is part of the cache key: a quick `train_minutes` model is never served to a
  call with another budget (the default one included); `retrain=True` trains again in place;
- a bad argument fails at once, before torch is imported, on a machine with an empty cache;
- a run stopped by SIGTERM (a real signal, to a real `seqlab names`) leaves no `.names-*` folder,
  and folders left by killed processes are removed once they are a day old.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from seqlab.charlm import names as names_mod
from seqlab.charlm.names import NamesModel, NamesSource, generate_names
from seqlab.errors import ParameterError
from seqlab.training import Interrupted

PETS = ["rex", "max", "bella", "luna", "charlie", "lucy", "cooper", "daisy", "milo", "coco"] * 20
QUICK = 0.01  # minutes: a few dozen steps of the names model


@pytest.fixture
def pets(tmp_path) -> Path:
    p = tmp_path / "pets.txt"
    p.write_text("\n".join(PETS) + "\n", encoding="utf-8")
    return p


@pytest.fixture(autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def entries(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.is_dir() else []


def test_each_budget_is_its_own_cache_entry_and_retrain_trains_again(tmp_path, pets):
    cache = tmp_path / "cache"
    told: list[str] = []
    got = generate_names(
        3, data=pets, train_minutes=QUICK, seed=0, temperature=1.5, cache_dir=cache, on_train=told.append
    )
    assert len(got) == 3 and len(told) == 2 and told[0].startswith("training a names model")
    [quick] = entries(cache)

    # the default budget (what `seqlab names --data pets.txt` and generate_names(data=...) use) would
    # not find the quick model: its entry is another one, and nothing is there
    default_entry = NamesSource.read(data=pets).cache_entry(2.0, cache)
    assert default_entry.name != quick and not default_entry.exists()

    # another budget trains its own model; the first budget again finds its own, untrained
    told.clear()
    other = NamesModel.load_or_train(data=pets, train_minutes=0.005, cache_dir=cache, on_train=told.append)
    assert told and other.run_dir.name != quick and sorted([quick, other.run_dir.name]) == entries(cache)
    told.clear()
    again = NamesModel.load_or_train(data=pets, train_minutes=QUICK, cache_dir=cache, on_train=told.append)
    assert told == [] and again.run_dir.name == quick

    # retrain=True trains again into the same entry (a new model.pt), leaving no partial folder
    before = (cache / quick / "model.pt").stat().st_mtime_ns
    generate_names(2, data=pets, train_minutes=QUICK, retrain=True, cache_dir=cache, on_train=told.append)
    assert told and told[0].startswith("training")
    assert (cache / quick / "model.pt").stat().st_mtime_ns != before
    assert entries(cache) == sorted([quick, other.run_dir.name])


def test_stale_partial_folders_are_removed_fresh_ones_kept(tmp_path, pets, monkeypatch):
    cache = tmp_path / "cache"
    old, fresh = cache / ".names-killed", cache / ".names-training-now"
    for d in (old, fresh):
        d.mkdir(parents=True)
        (d / "last.pt").write_bytes(b"x")
    two_days_ago = time.time() - 2 * 24 * 3600
    for p in (old / "last.pt", old):
        os.utime(p, (two_days_ago, two_days_ago))
    monkeypatch.setattr(names_mod, "_train", lambda run, *a: (run.mkdir(), (run / "model.pt").touch()))
    monkeypatch.setattr("seqlab.charlm.language_model.CharLM.load", classmethod(lambda cls, run, **kw: None))
    NamesModel.load_or_train(data=pets, train_minutes=QUICK, cache_dir=cache)  # a load sweeps the cache
    assert not old.exists() and fresh.exists()


def test_a_signal_outside_the_training_loop_also_removes_the_partial_folder(tmp_path, pets, monkeypatch):
    """SIGTERM between the folder's creation and the loop's own handler (building the model, writing
    the metrics) stops at once and still cleans up; inside the loop, seqlab.training.StopSignals
    stops at a step boundary (the subprocess test below)."""
    import seqlab.charlm.train as train_mod

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
        raise AssertionError("SIGTERM was not turned into a stop")

    monkeypatch.setattr(train_mod, "train_lm", killed)
    before = signal.getsignal(signal.SIGTERM)
    cache = tmp_path / "cache"
    with pytest.raises(Interrupted) as info:
        NamesModel.load_or_train(data=pets, train_minutes=QUICK, cache_dir=cache)
    assert info.value.signal_name == "SIGTERM"
    assert entries(cache) == []
    assert signal.getsignal(signal.SIGTERM) == before  # handlers restored


def test_sigterm_while_training_leaves_no_partial_folder(tmp_path, pets):
    cache = tmp_path / "cache"
    env = {**os.environ, "SEQLAB_CACHE": str(cache), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "seqlab", "names", "-n", "3", "--data", str(pets), "--train-minutes", "1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not list(cache.glob(".names-*")) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert list(cache.glob(".names-*")), "training never started"
        time.sleep(0.5)  # training: building the model or in the loop, either must clean up
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == "seqlab: interrupted" and "Traceback" not in err
    assert out == "" and entries(cache) == []


# ------------------------------------------------------------------------------ checked first
@pytest.mark.parametrize(
    "flags, flag",
    [
        (["--temperature", "-1"], "--temperature"),
        (["-n", "0"], "-n"),
        (["--train-minutes", "0"], "--train-minutes"),
        (["--start", "Zq"], "--start"),  # the bundled names are lower case
    ],
)
def test_bad_names_flags_fail_at_once_and_train_nothing(tmp_path, flags, flag):
    """The command contract: on a machine with no cached model, one line, exit 2, well under 5 s,
    nothing written to the cache."""
    cache = tmp_path / "empty_cache"
    env = {**os.environ, "SEQLAB_CACHE": str(cache)}
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "seqlab", "names", *flags], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"seqlab: error: {flag} "), r.stderr
    assert seconds < 5 and not cache.exists()


@pytest.mark.parametrize(
    "kwargs, parameter",
    [
        ({"temperature": -1}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"n": 0}, "n"),
        ({"n": 2.5}, "n"),
        ({"train_minutes": 0}, "train_minutes"),
        ({"train_minutes": float("inf")}, "train_minutes"),
        ({"start": "Zq"}, "start"),
        ({"language": "Russian", "data": "pets.txt"}, "language"),
    ],
)
def test_python_api_checks_its_arguments_before_training(tmp_path, kwargs, parameter):
    cache = tmp_path / "cache"
    with pytest.raises(ParameterError) as info:
        generate_names(**{"n": 3, **kwargs}, cache_dir=cache)
    assert info.value.parameter == parameter and str(info.value).startswith(parameter + " ")
    assert not cache.exists()


def test_load_or_train_checks_its_budget_before_reading_anything(tmp_path):
    with pytest.raises(ParameterError, match="^train_minutes must be positive"):
        NamesModel.load_or_train(data=tmp_path / "no_such_file.txt", train_minutes=-1, cache_dir=tmp_path)
