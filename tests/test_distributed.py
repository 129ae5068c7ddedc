"""Data-parallel training (seqlab.distributed): two gloo processes on 127.0.0.1 against one.

Each case trains the same model on the same global batches in one process and in two; with
dropout off the weights must agree to float tolerance (the loss is scaled so DDP's gradient mean
is the global batch's gradient). Rank 1 is given a run directory of its own: it must stay empty.
Also: resume under two processes, a killed rank ending the job, and two torchrun "machines".
"""

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from seqlab.distributed import Group

TEXT = "".join(
    random.Random(0).choice(["the cat sat ", "on a mat. ", "a dog ran\n", "to the sea "]) for _ in range(400)
)
NAMES = ["anna", "bob", "carla", "dmitri", "eve", "fatima", "gus", "hana", "ivan", "jo", "kemal", "lena"] * 6
PAIRS = (
    "\n".join(
        f"{a} {b}.\t{a}x {b}x !"
        for a in ["ka", "lo", "mi", "su", "te", "ra"]
        for b in ["no", "vi", "pe", "do", "zu"]
    )
    * 3
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_case(case: str, tmp: Path, group: Group):
    """Train one case; returns the trained weights (a state dict)."""
    from seqlab.checkpoint import load_checkpoint

    run = tmp / f"{case}-w{group.world_size}-r{group.rank}"
    torch.set_num_threads(1)
    if case in ("stream", "lines", "stream-resume"):
        from seqlab.charlm.config import LMTrainConfig
        from seqlab.charlm.corpus import lines_corpus, stream_corpus
        from seqlab.charlm.train import train_lm

        lines = case == "lines"
        corpus = lines_corpus(NAMES, 0.1, 0) if lines else stream_corpus(TEXT, 0.1)
        cfg = LMTrainConfig(
            mode="lines" if lines else "stream",
            seq_len=16,
            layers=1,
            hidden=24,
            embed=8,
            batch_size=6,
            max_steps=8,
            eval_every=4,
            precision="fp32",
            seed=3,
            dropout=0.2 if case == "stream-resume" else 0.0,
        )
        if case == "stream-resume":  # stopped at step 5, then resumed: exact under two processes
            run = tmp / f"{case}-w{group.world_size}"  # every rank reads last.pt to resume

            def stop(step):
                if step == 5:
                    raise KeyboardInterrupt

            try:
                train_lm(corpus, cfg, run, show_progress=False, on_step=stop, group=group)
            except KeyboardInterrupt:
                pass
            train_lm(corpus, cfg, run, resume=True, show_progress=False, group=group)
            straight = tmp / "straight"
            train_lm(corpus, cfg, straight, show_progress=False, group=group)
            if group.is_main:
                a, b = (load_checkpoint(d / "last.pt")["model"] for d in (run, straight))
                assert all(torch.equal(a[k], b[k]) for k in a), "resumed run differs"
        else:
            train_lm(corpus, cfg, run, show_progress=False, group=group)
        return load_checkpoint(run / "last.pt")["model"] if group.is_main else None
    if case == "translate":
        from seqlab.translate.config import TrainConfig
        from seqlab.translate.data import load_pair_data
        from seqlab.translate.train import train_translator

        (tmp / "pairs.tsv").write_text(PAIRS + "\n", encoding="utf-8")
        data = load_pair_data(tmp / "pairs.tsv", max_len=6, seed=0)
        cfg = TrainConfig(
            emb_size=16,
            hidden_size=24,
            batch_size=12,
            max_epochs=2,
            max_minutes=5,
            beam=1,
            precision="fp32",
            dropout=0.0,
            select="loss",
            seed=1,
        )
        train_translator(data, cfg, run, show_progress=False, group=group)
        return load_checkpoint(run / "last.pt")["model"] if group.is_main else None
    if case == "cnn":
        from seqlab.classify.estimators import CNNClassifier

        rng = random.Random(2)
        X = [
            " ".join(
                rng.choice(["good", "bad", "film", "plot", "very", "the"]) for _ in range(rng.randint(3, 8))
            )
            for _ in range(90)
        ]
        y = [int("good" in s) for s in X]
        est = CNNClassifier(embedding_dim=8, num_filters=4, dropout=0.0, epochs=2, batch_size=10, seed=0)
        est.fit(X, y)
        return {k: v.clone() for k, v in est.model_.state_dict().items()}
    raise ValueError(case)


def _worker(rank: int, port: int, tmp: str, cases: list[str], out: str) -> None:
    torch.distributed.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2
    )
    try:
        group = Group(rank, 2, rank, 2)
        results = {c: run_case(c, Path(tmp), group) for c in cases}
        if rank == 0:
            torch.save(results, out)
    finally:
        torch.distributed.destroy_process_group()


def two_processes(tmp: Path, cases: list[str]) -> dict:
    out = tmp / "two.pt"
    ctx = mp.spawn(_worker, args=(free_port(), str(tmp), cases, str(out)), nprocs=2, join=False)
    deadline = time.time() + 240
    while not ctx.join(timeout=5):
        if time.time() > deadline:
            for p in ctx.processes:
                p.kill()
            pytest.fail("two-process training did not finish in 240 s")
    return torch.load(out, weights_only=True)


def test_two_processes_train_the_same_weights_as_one(tmp_path):
    cases = ["stream", "lines", "translate", "cnn", "stream-resume"]
    two = two_processes(tmp_path, cases)
    for case in cases[:-1]:
        one = run_case(case, tmp_path, Group())
        for k in one:
            torch.testing.assert_close(two[case][k], one[k], atol=1e-5, rtol=1e-4, msg=f"{case}: {k}")
    for case in ("stream", "lines", "translate"):  # rank 1 wrote nothing, rank 0 a whole run
        assert not (tmp_path / f"{case}-w2-r1").exists() or not any((tmp_path / f"{case}-w2-r1").iterdir())
        assert (tmp_path / f"{case}-w2-r0" / "last.pt").exists()
    metrics = json.loads((tmp_path / "stream-w2-r0" / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["global_batch_size"] == 6


def test_group_shards_cover_a_batch_once():
    for n in (1, 5, 6, 7):
        parts = [list(range(n))[Group(r, 3).shard(n)] for r in range(3)]
        assert sum(parts, []) == list(range(n))
        assert max(map(len, parts)) - min(map(len, parts)) <= 1


# -------------------------------------------------------------------------- torchrun end to end


def _text_file(tmp: Path) -> Path:
    p = tmp / "t.txt"
    p.write_text(TEXT, encoding="utf-8")
    return p


SMALL = [
    "--layers",
    "1",
    "--hidden",
    "24",
    "--embed",
    "8",
    "--batch-size",
    "6",
    "--seq-len",
    "16",
    "--eval-every",
    "4",
    "--precision",
    "fp32",
    "--dropout",
    "0",
    "--threads",
    "1",
    "--seed",
    "3",
]


def _torchrun(*args, env=None):
    return [sys.executable, "-m", "torch.distributed.run", *args]


def test_two_machines_rendezvous_on_loopback(tmp_path):
    """Two launchers with --nnodes 2 (one process each) meet at 127.0.0.1 and train like one process."""
    from seqlab.checkpoint import load_checkpoint
    from seqlab.cli import main

    text = _text_file(tmp_path)
    assert main(["lm", "train", str(text), "-o", str(tmp_path / "one"), "--max-steps", "8", *SMALL]) == 0
    port = free_port()
    procs = [
        subprocess.Popen(
            _torchrun(
                "--nnodes",
                "2",
                "--node-rank",
                str(r),
                "--nproc-per-node",
                "1",
                "--rdzv-backend",
                "c10d",
                "--rdzv-endpoint",
                f"127.0.0.1:{port}",
                "--rdzv-id",
                "seqlab-test",
                "-m",
                "seqlab",
                "lm",
                "train",
                str(text),
                "-o",
                str(tmp_path / "two"),
                "--max-steps",
                "8",
                *SMALL,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in (0, 1)
    ]
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
    a, b = (load_checkpoint(tmp_path / d / "last.pt")["model"] for d in ("one", "two"))
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-5, rtol=1e-4)
    assert json.loads((tmp_path / "two" / "metrics.json").read_text())["world_size"] == 2


def _children(pid: int) -> list[int]:
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(d.name))
    return kids


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the worker processes")
def test_a_killed_rank_ends_the_job_and_keeps_the_checkpoint(tmp_path):
    from seqlab.checkpoint import load_checkpoint

    text = _text_file(tmp_path)
    run = tmp_path / "run"
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seqlab",
            "lm",
            "train",
            str(text),
            "-o",
            str(run),
            "--max-steps",
            "100000",
            "--nproc",
            "2",
            *SMALL,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 120
        while not (run / "last.pt").exists():
            assert p.poll() is None, p.communicate()[1][-2000:]
            assert time.time() < deadline, "no checkpoint after 120 s"
            time.sleep(0.2)
        workers = _children(p.pid)  # the launcher runs inside `seqlab`; these are the ranks
        assert len(workers) == 2, workers
        t0 = time.time()
        os.kill(workers[1], signal.SIGKILL)
        _, err = p.communicate(timeout=90)
        assert p.returncode == 2 and time.time() - t0 < 90
        last = err.strip().splitlines()[-1]
        assert last.startswith("seqlab: error: training process 1 of 2 was killed by signal SIGKILL"), err[
            -3000:
        ]
    finally:
        if p.poll() is None:
            p.kill()
    assert load_checkpoint(run / "last.pt", "charlm-train")["progress"]["step"] >= 4


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without a GPU")
def test_asking_for_cuda_without_a_gpu_is_one_line(tmp_path, capsys):
    from seqlab.cli import main

    text = _text_file(tmp_path)
    assert main(["lm", "train", str(text), "-o", str(tmp_path / "run"), "--max-steps", "4", *SMALL]) == 0
    (tmp_path / "pairs.tsv").write_text(PAIRS + "\n", encoding="utf-8")
    capsys.readouterr()
    for argv in (
        ["lm", "train", str(text), "-o", str(tmp_path / "gpu"), "--device", "cuda"],
        ["lm", "sample", str(tmp_path / "run"), "--device", "cuda"],
        ["lm", "eval", str(tmp_path / "run"), str(text), "--device", "cuda"],
        ["translate", "train", str(tmp_path / "pairs.tsv"), "-o", str(tmp_path / "t"), "--device", "cuda"],
        ["translate", "eval", str(tmp_path / "run"), "--device", "cuda"],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "no CUDA GPU" in err[0], (argv, err)
    assert not (tmp_path / "gpu").exists() and not (tmp_path / "t").exists()
