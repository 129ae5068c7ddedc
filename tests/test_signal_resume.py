"""Resume after a real signal: `seqlab lm train` and `seqlab translate train` are started in a
subprocess, signalled once they have written their first checkpoint, then continued with the same
command and --resume; the final weights must equal, bit for bit, those of the same command run
without a stop (docs/charlm.md: "--resume continues exactly"; docs/translate.md: with --max-epochs
"a resumed run ends with the same weights and BLEU as one never stopped"). The uninterrupted run
and the resumes go through `seqlab.cli.main` in this process (the same command; a subprocess
gives the very same weights, and costs 2-3 s of start-up each).

The in-process tests (tests/charlm/test_charlm.py, tests/translate/test_cli_translate.py) stop the
loop at a clean point, between two steps. A signal lands wherever the process happens to be: in
the middle of drawing a batch, of the backward pass, of the optimizer update. One test here makes
that deterministic: the process sends itself SIGINT from an optimizer-step hook, i.e. right after
the weights were updated and before the loop has counted the step.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from seqlab.cli import main

LM_STEPS = 400
LM_FLAGS = [
    "--seq-len",
    "16",
    "--layers",
    "1",
    "--hidden",
    "16",
    "--embed",
    "8",
    "--batch-size",
    "4",
    "--eval-every",
    "10",
    "--dropout",
    "0.1",
    "--precision",
    "fp32",
    "--threads",
    "1",
    "--patience",
    "100000",
    "--max-steps",
    str(LM_STEPS),
    "--seed",
    "5",
]
TR_EPOCHS = 12
TR_FLAGS = [
    "--max-len",
    "6",
    "--emb-size",
    "16",
    "--hidden-size",
    "16",
    "--batch-size",
    "16",
    "--max-epochs",
    str(TR_EPOCHS),
    "--max-minutes",
    "30",
    "--beam",
    "1",
    "--precision",
    "fp32",
    "--threads",
    "1",
    "--patience",
    "1000",
    "--seed",
    "3",
]
WAIT = 240  # seconds: the most any one wait may take


def lm_text(path: Path) -> Path:
    path.write_text(
        "".join(
            f"the {a} sat on the {b}. "
            for a in "cat dog fox hen owl".split()
            for b in "mat log rug box".split()
        )
        * 8,
        encoding="utf-8",
    )
    return path


def pairs_file(path: Path, n: int = 200) -> Path:
    """A copy language: the same words with an 'x' suffix (as in tests/translate)."""
    rng = random.Random(0)
    words = "ka lo mi nu pe ro sa ti".split()
    lines = []
    for _ in range(n):
        s = [rng.choice(words) for _ in range(rng.randint(2, 5))]
        lines.append(" ".join(s) + "\t" + " ".join(w + "x" for w in s))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start(argv: list[str], cwd: Path) -> subprocess.Popen:
    # SIGINT back to its default in the child: a shell that starts the suite in the background
    # (`pytest &` without job control) ignores SIGINT, and an ignored signal is inherited through exec
    return subprocess.Popen(
        [sys.executable, "-m", "seqlab", *argv],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def signal_after_first_checkpoint(argv: list[str], run: Path, sig: int, exit_codes: tuple) -> str:
    """Start `seqlab ARGV`, send `sig` as soon as RUN/last.pt exists (it is renamed into place whole),
    wait for the process to end with one of `exit_codes`; returns its stderr."""
    proc = start(argv, run.parent)
    try:
        deadline = time.monotonic() + WAIT
        while not (run / "last.pt").exists():
            assert proc.poll() is None, "ended before its first checkpoint: " + proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no checkpoint within the wait"
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be signalled; raise its budget"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode in exit_codes, f"exit {proc.returncode}: {err[-3000:]}"
    return err


def weights(path: Path) -> dict:
    return torch.load(path, weights_only=True, map_location="cpu")


def assert_same_weights(a: dict, b: dict, what: str) -> None:
    assert a.keys() == b.keys()
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    if differ:
        most = max((a[k] - b[k]).abs().max().item() for k in differ)
        pytest.fail(
            f"{what}: {len(differ)} of {len(a)} tensors differ from the uninterrupted run, "
            f"e.g. {differ[:3]} (max |diff| {most:.3g})"
        )


@pytest.fixture(scope="module")
def lm_setup(tmp_path_factory):
    """The text and the uninterrupted run (in this process: the same command, bit for bit the weights
    of a subprocess run, and without its 2-3 s of start-up)."""
    d = tmp_path_factory.mktemp("lm_signal")
    text = lm_text(d / "t.txt")
    assert main(["lm", "train", str(text), "-o", str(d / "straight"), *LM_FLAGS]) == 0
    return d, text


@pytest.fixture(scope="module")
def translate_setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("translate_signal")
    pairs = pairs_file(d / "p.tsv")
    assert main(["translate", "train", str(pairs), "-o", str(d / "straight"), *TR_FLAGS]) == 0
    return d, pairs


def check_lm_resume(d: Path, text: Path, run: Path, how: str) -> None:
    """RUN stopped mid-run: the same command with --resume finishes it, as the uninterrupted run ended."""
    stopped = weights(run / "last.pt")["progress"]["step"]
    assert 10 <= stopped < LM_STEPS, stopped
    assert main(["lm", "train", str(text), "-o", str(run), *LM_FLAGS, "--resume"]) == 0
    a, b = weights(d / "straight" / "last.pt"), weights(run / "last.pt")
    assert a["progress"]["step"] == b["progress"]["step"] == LM_STEPS
    assert_same_weights(a["model"], b["model"], f"lm {how} at step {stopped}, resumed")
    history = [[h["val_loss"] for h in x["progress"]["history"]] for x in (a, b)]
    assert history[0] == history[1]


def test_lm_resumes_exactly_after_sigint(lm_setup):
    d, text = lm_setup
    run = d / "sigint"
    err = signal_after_first_checkpoint(
        ["lm", "train", str(text), "-o", str(run), *LM_FLAGS], run, signal.SIGINT, exit_codes=(130,)
    )
    assert "continue with --resume" in err and "Traceback" not in err, err[-3000:]
    check_lm_resume(d, text, run, "SIGINT")


def test_lm_resumes_exactly_after_sigterm(lm_setup):
    """SIGTERM (what `kill`, docker stop and batch schedulers send) stops like Ctrl-C: the step in
    flight ends, RUN/last.pt is saved there, the exit status is 143 (128 + SIGTERM), and --resume
    ends exactly as the uninterrupted run."""
    d, text = lm_setup
    run = d / "sigterm"
    err = signal_after_first_checkpoint(
        ["lm", "train", str(text), "-o", str(run), *LM_FLAGS],
        run,
        signal.SIGTERM,
        exit_codes=(128 + signal.SIGTERM,),
    )
    assert "continue with --resume" in err and "Traceback" not in err, err[-3000:]
    check_lm_resume(d, text, run, "SIGTERM")


def test_stop_signals_defer_the_first_signal_and_raise_on_the_second():
    from seqlab.training import Interrupted, StopSignals

    before = signal.getsignal(signal.SIGTERM)
    with StopSignals() as stops:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler runs between bytecodes
        assert stops.requested == "SIGTERM"  # the first only asks the loop to stop
        with pytest.raises(Interrupted) as info:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        assert info.value.signal_name == "SIGINT" and isinstance(info.value, KeyboardInterrupt)
    assert signal.getsignal(signal.SIGTERM) is before  # handlers restored
    with StopSignals(deferred=False), pytest.raises(Interrupted):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)


def test_lm_resumes_exactly_after_sigint_right_after_an_optimizer_update(lm_setup):
    """Deterministic: the process sends itself SIGINT from an optimizer step post-hook at step 25,
    so KeyboardInterrupt comes out of `optimizer.step()`: the weights are updated, the step is not
    yet counted. A resume must neither repeat nor skip that update."""
    from torch.optim.optimizer import register_optimizer_step_post_hook

    d, text = lm_setup
    run = d / "hooked"
    calls = {"n": 0}

    def interrupt(optimizer, args, kwargs):
        calls["n"] += 1
        if calls["n"] == 25:
            os.kill(os.getpid(), signal.SIGINT)

    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    handle = register_optimizer_step_post_hook(interrupt)
    try:
        code = main(["lm", "train", str(text), "-o", str(run), *LM_FLAGS])
    finally:
        handle.remove()
        signal.signal(signal.SIGINT, old)
    assert calls["n"] == 25 and code == 130
    assert main(["lm", "train", str(text), "-o", str(run), *LM_FLAGS, "--resume"]) == 0
    a, b = weights(d / "straight" / "last.pt"), weights(run / "last.pt")
    assert a["progress"]["step"] == b["progress"]["step"] == LM_STEPS
    assert_same_weights(a["model"], b["model"], "lm SIGINT inside optimizer.step() at step 25, resumed")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_translate_resumes_exactly_after_a_signal(translate_setup, sig):
    d, pairs = translate_setup
    run = d / sig.name
    # translate catches Ctrl-C and SIGTERM, keeps the best model, still evaluates it and exits 0
    err = signal_after_first_checkpoint(
        ["translate", "train", str(pairs), "-o", str(run), *TR_FLAGS], run, sig, exit_codes=(0,)
    )
    assert "--resume" in err and "Traceback" not in err, err[-3000:]
    assert json.loads((run / "metrics.json").read_text())["stop_reason"] == "interrupted"
    stopped = weights(run / "last.pt")["progress"]["epoch"]  # the last whole epoch
    assert 1 <= stopped < TR_EPOCHS, stopped
    assert main(["translate", "train", str(pairs), "-o", str(run), *TR_FLAGS, "--resume"]) == 0
    a, b = (json.loads((r_ / "metrics.json").read_text()) for r_ in (d / "straight", run))
    assert a["epochs"] == b["epochs"] == TR_EPOCHS and a["steps"] == b["steps"]
    assert [h["val_loss"] for h in a["history"]] == [h["val_loss"] for h in b["history"]]
    assert a["bleu"] == b["bleu"] and a["best_epoch"] == b["best_epoch"]
    how = f"translate {sig.name} after epoch {stopped}, resumed"
    for name in ("last.pt", "model.pt"):  # final and best weights
        a, b = weights(d / "straight" / name)["model"], weights(run / name)["model"]
        assert_same_weights(a, b, f"{how}, {name}")
