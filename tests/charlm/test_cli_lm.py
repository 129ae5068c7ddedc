"""`seqlab names` and `seqlab lm ...` end to end on tiny data, and every bad input's error line."""

import json
import subprocess
import sys

import pytest
import torch

from seqlab.cli import main

TEXT = "To be, or not to be, that is the question.\n" * 80
SMALL = ["--layers", "1", "--hidden", "32", "--embed", "8", "--batch-size", "4", "--eval-every", "20"]


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def text_file(tmp_path):
    p = tmp_path / "play.txt"
    p.write_text(TEXT)
    return p


@pytest.fixture
def trained_run(tmp_path, text_file, capsys):
    run = tmp_path / "run"
    code, out, err = run_cli(
        capsys, "lm", "train", text_file, "-o", run, "--max-steps", 40, "--seq-len", 16, *SMALL
    )
    assert code == 0, err
    return run, out


def test_train_writes_the_contract_files(trained_run):
    run, out = trained_run
    metrics = json.loads((run / "metrics.json").read_text())
    for key in ("val_loss", "val_bpc", "train_chars_per_sec", "steps", "seconds", "params"):
        assert key in metrics
    assert metrics["steps"] == 40
    assert json.loads(out.strip().splitlines()[-1])["steps"] == 40
    for name in ("config.json", "model.pt", "last.pt", "metrics.jsonl", "loss.png"):
        assert (run / name).exists(), name


def test_sample_same_seed_same_output(trained_run, capsys):
    run, _ = trained_run
    _, a, _ = run_cli(capsys, "lm", "sample", run, "--length", 80, "--seed", 5, "--prime", "To")
    _, b, _ = run_cli(capsys, "lm", "sample", run, "--length", 80, "--seed", 5, "--prime", "To")
    _, c, _ = run_cli(capsys, "lm", "sample", run, "--length", 80, "--seed", 6, "--prime", "To")
    assert a == b != c
    assert a.startswith("To") and len(a) == 2 + 80 + 1


def test_sample_n_lines_from_a_stream_model(trained_run, capsys):
    run, _ = trained_run
    code, out, _ = run_cli(capsys, "lm", "sample", run, "-n", 3, "--seed", 1, "--prime", "To")
    assert code == 0 and out.startswith("To") and out.count("\n") == 3


def test_eval_prints_loss_bpc_perplexity(trained_run, text_file, capsys):
    run, _ = trained_run
    code, out, _ = run_cli(capsys, "lm", "eval", run, text_file)
    res = json.loads(out)
    assert code == 0 and set(res) >= {"loss", "bpc", "perplexity", "chars"}
    assert res["perplexity"] == pytest.approx(2.718281828 ** res["loss"], rel=1e-6)


def test_resume_continues_to_a_larger_budget(trained_run, text_file, capsys):
    run, _ = trained_run
    code, out, err = run_cli(capsys, "lm", "train", text_file, "-o", run, "--resume", "--max-steps", 60)
    assert code == 0, err
    assert json.loads((run / "metrics.json").read_text())["steps"] == 60


def test_lines_mode_and_eval_with_end_markers(tmp_path, capsys):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(["emma", "olivia", "ava", "isabella", "sophia", "mia"] * 10))
    run = tmp_path / "names_run"
    code, _, err = run_cli(
        capsys, "lm", "train", names, "-o", run, "--mode", "lines", "--max-steps", 30, *SMALL
    )
    assert code == 0, err
    code, out, _ = run_cli(capsys, "lm", "eval", run, names)
    assert (
        json.loads(out)["chars"]
        == sum(len(n) + 1 for n in ["emma", "olivia", "ava", "isabella", "sophia", "mia"]) * 10
    )
    code, out, _ = run_cli(capsys, "lm", "sample", run, "-n", 5, "--seed", 1)
    assert code == 0 and len(out.splitlines()) == 5


def test_names_command_prints_new_names(tmp_path, capsys):
    data = tmp_path / "pets.txt"
    data.write_text(
        "\n".join(["rex", "max", "bella", "luna", "charlie", "lucy", "cooper", "daisy", "milo"] * 20)
    )
    code, out, err = run_cli(
        capsys, "names", "-n", 8, "--seed", 1, "--data", data, "--train-minutes", 0.05, "--temperature", 1.5
    )
    assert code == 0, err
    got = out.splitlines()
    assert len(got) == 8 and len(set(got)) == 8
    assert not set(got) & set(data.read_text().split())
    # cached: the second call with the same budget trains nothing and, with the same seed, prints
    # the same names (another budget is another cache entry: tests/charlm/test_names_cache.py)
    code, out2, err2 = run_cli(
        capsys, "names", "-n", 8, "--seed", 1, "--data", data, "--train-minutes", 0.05, "--temperature", 1.5
    )
    assert out2 == out and "training" not in err2


def test_names_by_language_is_conditioned(capsys):
    code, out, err = run_cli(
        capsys,
        "names",
        "-n",
        3,
        "--seed",
        0,
        "--language",
        "russian",
        "--train-minutes",
        0.03,
        "--temperature",
        1.3,
    )
    assert code == 0, err
    assert len(out.splitlines()) == 3


# ----------------------------------------------------------------------------------- bad input
def _bad(capsys, tmp_path, *argv):
    code, out, err = run_cli(capsys, *argv)
    assert code != 0
    assert err.startswith("seqlab: error:") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "content,needle",
    [
        (None, "not found"),
        (b"", "empty"),
        (b"\x00\x01\x02binary\x00" * 50, "binary"),
        (b"caf\xe9 au lait " * 40, "UTF-8"),
        (b"too short", "too short"),
    ],
)
def test_bad_training_files(tmp_path, capsys, content, needle):
    f = tmp_path / "input.txt"
    if content is not None:
        f.write_bytes(content)
    run = tmp_path / "run"
    err = _bad(capsys, tmp_path, "lm", "train", f, "-o", run, "--max-steps", 1)
    assert needle in err
    assert not run.exists()  # no half-written run directory


def test_bad_checkpoints(tmp_path, capsys, text_file):
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "model.pt").write_bytes(b"not a zip at all")
    assert "cannot load checkpoint" in _bad(capsys, tmp_path, "lm", "sample", junk)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    torch.save({"weights": torch.zeros(3)}, foreign / "model.pt")
    assert "not a seqlab checkpoint" in _bad(capsys, tmp_path, "lm", "eval", foreign, text_file)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    evil = tmp_path / "evil"
    evil.mkdir()
    torch.save({"format": "seqlab", "obj": Evil()}, evil / "model.pt")
    assert "cannot load checkpoint" in _bad(capsys, tmp_path, "lm", "sample", evil)
    assert "no model.pt" in _bad(capsys, tmp_path, "lm", "sample", tmp_path)


def test_other_bad_input(tmp_path, capsys, trained_run, text_file):
    run, _ = trained_run
    assert "unknown language" in _bad(capsys, tmp_path, "names", "--language", "Klingon")
    assert "already exists" in _bad(capsys, tmp_path, "lm", "train", text_file, "-o", run)
    assert "not conditioned" in _bad(capsys, tmp_path, "lm", "sample", run, "--language", "French")
    assert "vocabulary" in _bad(capsys, tmp_path, "lm", "sample", run, "--prime", "§§")
    assert "nothing to resume" in _bad(
        capsys, tmp_path, "lm", "train", text_file, "-o", tmp_path / "new", "--resume"
    )


def test_module_entry_point_and_help():
    r = subprocess.run(
        [sys.executable, "-m", "seqlab", "lm", "train", "--help"], capture_output=True, text=True
    )
    assert r.returncode == 0 and "--max-minutes" in r.stdout and "truncated BPTT" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "seqlab", "lm", "sample", "/nonexistent"], capture_output=True, text=True
    )
    assert r.returncode != 0 and "Traceback" not in r.stderr and "seqlab: error" in r.stderr


def test_building_the_cli_does_not_import_torch():
    """`seqlab --help` and the embedding commands stay fast: torch is imported only when a command
    needs it."""
    code = "import sys, seqlab.cli; seqlab.cli.build_parser(); print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "False", r.stderr


def test_ctrl_c_saves_a_checkpoint_that_resumes(tmp_path, text_file):
    """A real SIGINT: exit 130, one line saying where the checkpoint is, and --resume carries on."""
    import signal
    import time

    run = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "seqlab",
        "lm",
        "train",
        str(text_file),
        "-o",
        str(run),
        "--seq-len",
        "16",
        "--layers",
        "1",
        "--hidden",
        "16",
        "--eval-every",
        "5",
        "--threads",
        "1",
        "--patience",
        "100000",  # never stops by itself: on a fast machine early stopping beat the signal
        "--epochs",
        "100000",
    ]
    # SIGINT back to its default in the child: a shell that starts the suite in the background
    # (`pytest &` without job control) ignores SIGINT, and an ignored signal is inherited through exec
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 300
    while not (run / "last.pt").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert (run / "last.pt").exists(), "no checkpoint to keep: " + proc.communicate(timeout=60)[1][-2000:]
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "continue with --resume" in err and "Traceback" not in err
    steps = json.loads((run / "metrics.json").read_text())["steps"]
    assert steps >= 5
    r = subprocess.run(cmd[:-2] + ["--resume", "--max-steps", str(steps + 5)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["steps"] == steps + 5


def test_resume_refuses_another_file_and_other_shape_flags(trained_run, text_file, tmp_path, capsys):
    run, _ = trained_run
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
    other = tmp_path / "other.txt"
    other.write_text("Some other text entirely, with its own letters: zqxj!\n" * 60)
    code, _, err = run_cli(capsys, "lm", "train", other, "-o", run, "--resume", "--max-steps", 60)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert str(text_file.resolve()) in err and str(other.resolve()) in err
    code, _, err = run_cli(
        capsys, "lm", "train", text_file, "-o", run, "--resume", "--hidden", 64, "--max-steps", 60
    )
    assert code == 2 and "--hidden 64 differs from the run's 32" in err and len(err.strip().splitlines()) == 1
    text_file.write_text(TEXT + "one more line\n")  # same path, other content
    code, _, err = run_cli(capsys, "lm", "train", text_file, "-o", run, "--resume", "--max-steps", 60)
    assert code == 2 and "has changed since" in err
    assert {p.name: p.stat().st_mtime_ns for p in run.iterdir()} == before  # nothing in the run changed


def test_time_budget_becomes_steps_once_and_resume_keeps_them(tmp_path, text_file):
    """docs/charlm.md: --max-minutes becomes a step count at the end of the warm-up; the run then
    ends at that step, and a run stopped and resumed after that point ends with the very weights of
    a run given that step count as --max-steps."""
    from seqlab.charlm.config import LMTrainConfig
    from seqlab.charlm.language_model import read_corpus
    from seqlab.charlm.train import train_lm
    from seqlab.checkpoint import load_checkpoint

    base = dict(
        seq_len=16,
        layers=1,
        hidden=16,
        embed=8,
        batch_size=4,
        eval_every=7,
        warmup_steps=10,
        precision="fp32",
        seed=2,
        dropout=0.1,
    )
    cfg = LMTrainConfig(max_minutes=0.04, **base)
    corpus = read_corpus(cfg.resolved(), path=text_file)

    def stop(step):
        if step == 12:  # after the plan (made at step 10)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_lm(corpus, cfg, tmp_path / "cut", show_progress=False, on_step=stop)
    planned = load_checkpoint(tmp_path / "cut" / "last.pt")["progress"]["planned_steps"]
    assert planned is not None and planned > 12
    resumed = train_lm(corpus, cfg, tmp_path / "cut", resume=True, show_progress=False)
    assert resumed["steps"] == resumed["planned_steps"] == planned and resumed["stop_reason"] == "max_minutes"
    by_steps = train_lm(
        corpus, LMTrainConfig(max_steps=planned, **base), tmp_path / "steps", show_progress=False
    )
    assert by_steps["steps"] == planned
    a, b = (load_checkpoint(tmp_path / d / "last.pt")["model"] for d in ("cut", "steps"))
    assert all(torch.equal(a[k], b[k]) for k in a)
