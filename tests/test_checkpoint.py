"""Checkpoints refuse what they are not, in one line: another kind of run, a future format, a damaged
file; and a run killed in the middle of writing a checkpoint keeps the previous one loadable."""

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from seqlab.checkpoint import load_checkpoint, save_checkpoint

TEXT = "To be, or not to be, that is the question.\n" * 60
SMALL = [
    "--layers",
    "1",
    "--hidden",
    "16",
    "--embed",
    "8",
    "--batch-size",
    "4",
    "--seq-len",
    "16",
    "--eval-every",
    "5",
    "--precision",
    "fp32",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One tiny run of each kind: lm, translate, classify."""
    from seqlab.cli import main

    d = tmp_path_factory.mktemp("runs")
    (d / "t.txt").write_text(TEXT)
    assert main(["lm", "train", str(d / "t.txt"), "-o", str(d / "lm"), "--max-steps", "10", *SMALL]) == 0
    (d / "p.tsv").write_text(
        "\n".join(f"{a} {b}\t{a}x {b}x" for a in "ka lo mi su".split() for b in "no vi pe".split()) * 3 + "\n"
    )
    assert (
        main(
            [
                "translate",
                "train",
                str(d / "p.tsv"),
                "-o",
                str(d / "tr"),
                "--max-epochs",
                "1",
                "--emb-size",
                "8",
                "--hidden-size",
                "8",
                "--beam",
                "1",
                "--precision",
                "fp32",
            ]
        )
        == 0
    )
    (d / "c.tsv").write_text(
        "\n".join(
            f"{'pos' if i % 2 else 'neg'}\t{'good' if i % 2 else 'bad'} film {i % 5}" for i in range(40)
        )
        + "\n"
    )
    assert (
        main(["classify", "train", str(d / "c.tsv"), "-o", str(d / "clf"), "--model", "mnb", "--folds", "2"])
        == 0
    )
    return d


@pytest.mark.parametrize(
    "argv, found",
    [
        (["translate", "eval", "{lm}"], "holds a character-level language model"),
        (["translate", "{lm}", "ka lo"], "holds a character-level language model"),
        (["lm", "sample", "{clf}"], "holds a sentence classifier"),
        (["lm", "eval", "{tr}", "{text}"], "holds a translation model"),
        (["classify", "predict", "{tr}", "good film"], "holds a translation model"),
        (["lm", "sample", "{lm}/last.pt"], "holds the training state of a language model"),
    ],
)
def test_a_run_of_another_kind_is_one_line(runs, cli_error, argv, found):
    argv = [a.format(lm=runs / "lm", tr=runs / "tr", clf=runs / "clf", text=runs / "t.txt") for a in argv]
    line = cli_error(*argv, match=found)
    assert ", not a " in line


def test_a_checkpoint_from_a_future_format_is_one_line(runs, tmp_path, cli_error):
    ck = load_checkpoint(runs / "lm" / "model.pt")
    ck["version"] = 7
    future = tmp_path / "future.pt"
    torch.save(ck, future)
    cli_error("lm", "sample", future, match="written by a newer seqlab (checkpoint format 7")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "pickle", "missing keys"])
def test_a_damaged_checkpoint_is_one_line(runs, tmp_path, cli_error, damage):
    import shutil

    run = tmp_path / "lm"
    shutil.copytree(runs / "lm", run)
    last = run / "last.pt"
    if damage == "truncated":
        last.write_bytes(last.read_bytes()[:300])
    elif damage == "garbage":
        last.write_bytes(os.urandom(2000))
    elif damage == "pickle":  # an arbitrary pickle is refused, never executed
        torch.save(
            {"format": "seqlab", "version": 1, "kind": "charlm-train", "x": RuntimeError("x")},
            last,
            _use_new_zipfile_serialization=True,
        )
    else:
        ck = load_checkpoint(last)
        del ck["progress"]
        save_checkpoint(
            last, "charlm-train", {k: v for k, v in ck.items() if k not in ("format", "version", "kind")}
        )
    match = {
        "missing keys": "lacks progress",
        "garbage": "last.pt: damaged, truncated or not a seqlab checkpoint (not a zip archive",
    }.get(damage, "last.pt")
    cli_error("lm", "train", runs / "t.txt", "-o", run, "--resume", "--max-steps", "20", match=match)


def test_a_run_killed_while_writing_a_checkpoint_keeps_the_previous_one(runs, tmp_path):
    """SIGKILL in the middle of torch.save (half the bytes written to the temporary file): the
    previous RUN/last.pt is untouched and still loads."""
    import shutil

    run = tmp_path / "lm"
    shutil.copytree(runs / "lm", run)
    before = (run / "last.pt").read_bytes()
    script = textwrap.dedent(f"""
        import os, signal, torch
        real = torch.save
        def dying_save(obj, f, *a, **k):
            real(obj, f, *a, **k)
            data = open(f, "rb").read()
            open(f, "wb").write(data[: len(data) // 2])      # half written ...
            os.kill(os.getpid(), signal.SIGKILL)             # ... and killed
        torch.save = dying_save
        from seqlab.cli import main
        main(["lm", "train", {str(runs / "t.txt")!r}, "-o", {str(run)!r}, "--resume", "--max-steps", "20"])
    """)
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert p.returncode == -9, p.stderr[-2000:]
    assert (run / "last.pt").read_bytes() == before
    assert load_checkpoint(run / "last.pt", "charlm-train")["progress"]["step"] == 10
    from seqlab.cli import main

    assert main(["lm", "train", str(runs / "t.txt"), "-o", str(run), "--resume", "--max-steps", "20"]) == 0
    assert load_checkpoint(run / "last.pt")["progress"]["step"] == 20


def test_a_damaged_translation_state_is_one_line(runs, tmp_path, cli_error):
    import shutil

    run = tmp_path / "tr"
    shutil.copytree(runs / "tr", run)
    ck = load_checkpoint(run / "last.pt")
    save_checkpoint(
        run / "last.pt",
        "translate-train",
        {k: v for k, v in ck.items() if k not in ("format", "version", "kind", "progress")},
    )
    cli_error("translate", "train", runs / "p.tsv", "-o", run, "--resume", match="lacks progress")
    (run / "last.pt").write_bytes(b"not a checkpoint at all")
    cli_error("translate", "train", runs / "p.tsv", "-o", run, "--resume", match="damaged, truncated")
