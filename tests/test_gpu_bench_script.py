"""benchmarks/gpu_bench.py waits for a lent GPU; what can run on a CPU runs here: staging, the plan,
and each piece checked against the peers' own code (makemore's split, nanoGPT's prepare.py and the
lines their training prints, in runs of a step or two on the CPU)."""

import importlib.util
import pickle
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT.parent / "shared" / "peers"
needs_peers = pytest.mark.skipif(not (PEERS / "nanogpt").exists(), reason="../shared/peers not here")


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("gpu_bench", ROOT / "benchmarks" / "gpu_bench.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def names_file(path, n=300):
    rng = random.Random(0)
    path.write_text(
        "\n".join("".join(rng.choice("abdeiklmnorstu") for _ in range(5)) for _ in range(n)) + "\n"
    )
    return path


def fake_shared(tmp_path, bench):
    shared = tmp_path / "shared"
    for name in bench.DATA_DIRS:
        (shared / "data" / name).mkdir(parents=True)
        (shared / "data" / name / "f.txt").write_text(name)
    for peer in ("nanogpt", "makemore"):
        (shared / "peers" / peer).mkdir(parents=True)
        (shared / "peers" / peer / "x.py").write_text("# peer")
    return shared


def test_stage_copies_once_and_the_dry_run_prints_the_plan(tmp_path, bench, monkeypatch, capsys):
    shared = fake_shared(tmp_path, bench)
    monkeypatch.delenv("SEQLAB_DATA", raising=False)
    monkeypatch.setattr(bench, "STAGE", tmp_path / "stage")
    monkeypatch.setattr(bench, "SHARED", shared)
    assert bench.main(["--stage-only"]) == 0
    assert (tmp_path / "stage" / "data" / "names" / "f.txt").read_text() == "names"
    assert (tmp_path / "stage" / "peers" / "makemore" / "x.py").exists()
    shutil.rmtree(shared)  # as on the GPU machine: only the staged copy
    assert bench.main(["--dry-run", "--tasks", "shakespeare,translate", "--budget", "translate=60"]) == 0
    out = capsys.readouterr().out
    assert "train.py config/train_shakespeare_char.py" in out and "--max-minutes 5.0" in out
    assert "translate train eng-fra --reverse" in out and "--max-minutes 1.0" in out
    assert "makemore" not in out and "classify" not in out


@pytest.mark.parametrize(
    "argv", [["--tasks", "shakespeare,bogus"], ["--scale", "0"], ["--budget", "names"], ["--budget", "x=5"]]
)
def test_bad_arguments_fail_before_anything_is_staged(tmp_path, bench, monkeypatch, argv):
    monkeypatch.setattr(bench, "STAGE", tmp_path / "stage")
    with pytest.raises(SystemExit) as e:
        bench.main(argv)
    assert e.value.code == 2 and not (tmp_path / "stage").exists()


def test_budgets_scale_and_a_task_can_be_set():
    spec = importlib.util.spec_from_file_location("b", ROOT / "benchmarks" / "gpu_bench.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    steps = mod.plan(["names"], {**mod.BUDGETS, "names": 30}, Path("/stage"))
    assert [s["name"] for s in steps] == ["makemore transformer", "makemore gru", "seqlab", "seqlab eval"]
    assert steps[0]["timeout"] == steps[1]["timeout"] == 30 and "0.5" in steps[2]["argv"]


@needs_peers
def test_makemore_split_is_makemores_own(tmp_path, bench):
    import runpy
    import types

    stub = types.ModuleType("torch.utils.tensorboard")
    stub.SummaryWriter = object
    saved = sys.modules.get("torch.utils.tensorboard")
    sys.modules["torch.utils.tensorboard"] = stub
    try:
        makemore = runpy.run_path(str(PEERS / "makemore" / "makemore.py"), run_name="makemore")
    finally:
        if saved is None:
            del sys.modules["torch.utils.tensorboard"]
        else:
            sys.modules["torch.utils.tensorboard"] = saved
    path = names_file(tmp_path / "names.txt")
    torch.manual_seed(bench.MAKEMORE_SEED)  # as makemore's main does before create_datasets
    train_ds, test_ds = makemore["create_datasets"](str(path))
    train, test = bench.makemore_split(path)
    assert (train, test) == (train_ds.words, test_ds.words) and len(test) == 30


@needs_peers
def test_nanogpt_prepare_writes_what_prepare_py_writes(tmp_path, bench):
    pytest.importorskip("requests")  # prepare.py imports it (the file exists, so it downloads nothing)
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 50
    ref = tmp_path / "ref"
    ref.mkdir()
    shutil.copy(PEERS / "nanogpt" / "data" / "shakespeare_char" / "prepare.py", ref)
    (ref / "input.txt").write_text(text)
    subprocess.run([sys.executable, "prepare.py"], cwd=ref, check=True, capture_output=True)
    mine = tmp_path / "mine"
    mine.mkdir()
    bench.nanogpt_prepare(text, mine)
    for name in ("train.bin", "val.bin"):
        assert (mine / name).read_bytes() == (ref / name).read_bytes()
    with open(ref / "meta.pkl", "rb") as f, open(mine / "meta.pkl", "rb") as g:
        assert pickle.load(f) == pickle.load(g)


@pytest.mark.slow  # about 35 s on 2 cores
@needs_peers
def test_the_peers_print_what_the_parser_reads(tmp_path, bench):
    """One or two CPU steps of each peer (tiny models): their evaluation lines parse."""
    nano = tmp_path / "nanogpt"
    shutil.copytree(PEERS / "nanogpt", nano)
    bench.nanogpt_prepare(
        "To be, or not to be, that is the question.\n" * 200, nano / "data" / "shakespeare_char"
    )
    tiny = ["--device=cpu", "--compile=False", "--dtype=float32", "--max_iters=1", "--eval_iters=2",
            "--batch_size=2", "--block_size=16", "--n_layer=1", "--n_head=1", "--n_embd=16"]  # fmt: skip
    step = {"task": "t", "name": "nanoGPT", "cwd": str(nano), "timeout": 120,
            "argv": [sys.executable, "train.py", "config/train_shakespeare_char.py", *tiny]}  # fmt: skip
    out = bench.run_step(step, None, tmp_path / "logs")
    assert out["rc"] == 0, out["lines"][-5:]
    evals = bench.parse_evals(bench.NANOGPT_EVAL, out["lines"])
    assert evals[0]["step"] == 0 and 0 < evals[0]["val"] < 10
    mm = tmp_path / "makemore"
    shutil.copytree(PEERS / "makemore", mm)
    names_file(mm / "names.txt", 600)
    tiny = ["--device", "cpu", "--max-steps", "502", "--num-workers", "0", "--n-embd", "8", "--n-embd2", "8"]
    argv = [
        sys.executable,
        "-c",
        bench.MAKEMORE_RUNNER,
        "-i",
        "names.txt",
        "-o",
        "out",
        "--type",
        "gru",
        *tiny,
    ]
    out = bench.run_step(
        {"task": "t", "name": "makemore", "cwd": str(mm), "timeout": 120, "argv": argv}, None, tmp_path
    )
    assert out["rc"] == 0, out["lines"][-5:]
    evals = bench.parse_evals(bench.MAKEMORE_EVAL, out["lines"])
    assert [e["step"] for e in evals] == [500] and 0 < evals[0]["val"] < 10


def test_a_step_past_its_budget_is_stopped(tmp_path, bench):
    code = "import time; print('hi', flush=True); time.sleep(60)"
    step = {
        "task": "t",
        "name": "sleep",
        "cwd": str(tmp_path),
        "timeout": 1,
        "argv": [sys.executable, "-c", code],
    }
    out = bench.run_step(step, None, tmp_path)
    assert out["stopped_at_budget"] and out["wall_s"] < 30 and out["lines"][0][1] == "hi"


def test_window_loss_is_nanogpts_estimate(bench):
    """Batched windows from a fresh state equal a brute-force loop over the same windows."""
    from seqlab.models.rnn import CharRNN, CharRNNConfig

    torch.manual_seed(0)
    model = CharRNN(CharRNNConfig(vocab_size=7, embed_size=4, hidden_size=8, num_layers=1)).eval()
    ids = torch.randint(7, (300,))
    got = bench.window_loss(model, ids, block=16, batches=3, batch_size=4, seed=5)
    gen = torch.Generator().manual_seed(5)
    total = 0.0
    with torch.no_grad():
        for _ in range(3):
            losses = []
            for s in torch.randint(300 - 16 - 1, (4,), generator=gen).tolist():
                logits, _ = model(ids[s : s + 16][None])  # (1, 16, 7)
                logp = torch.log_softmax(logits[0], -1)  # (16, 7)
                losses += [-float(logp[t, ids[s + 1 + t]]) for t in range(16)]
            total += sum(losses) / len(losses)
    assert got == pytest.approx(total / 3, rel=1e-5)
