"""GPU check (issue 14), for a machine with a CUDA GPU (the `device` tool, when one is lent):

1. agreement: the same tiny LM (stream and lines) and translator trained for a few steps with
   dropout off on cuda and on cpu: their losses and weights agree within float tolerance, and the
   CUDA run's checkpoint loads and samples on the CPU;
2. speed: chars/s of the Shakespeare model (2x512 LSTM, batch 64 x 128, bf16 where supported) and
   pairs/s of the translator (eng-fra, the defaults) on the GPU, over --steps steps / one epoch.

    python benchmarks/gpu_check.py [--steps 100]        # writes benchmarks/results/gpu_check.{json,md}
    python benchmarks/gpu_check.py --dry-run            # no GPU: the agreement check cpu against cpu

--dry-run runs every line of the agreement check with "cpu" in place of "cuda" (and no speed
part), so the script is known to work before a GPU is lent; the suite runs it too
(tests/test_gpu_check_script.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, write_results  # noqa: E402
from seqlab.charlm.config import LMTrainConfig  # noqa: E402
from seqlab.charlm.language_model import CharLM, read_corpus, train_run  # noqa: E402
from seqlab.checkpoint import load_checkpoint  # noqa: E402
from seqlab.datasets import dataset_path  # noqa: E402
from seqlab.translate.config import TrainConfig  # noqa: E402
from seqlab.translate.data import load_pair_data  # noqa: E402
from seqlab.translate.train import train_translator  # noqa: E402

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 40


def max_diff(a: dict, b: dict) -> float:
    return max(float((a[k].float().cpu() - b[k].float().cpu()).abs().max()) for k in a)


def agreement(tmp: Path, other: str = "cuda") -> dict:
    """Tiny LM (stream, lines) and translator runs on cpu and on `other`; results keyed as if
    `other` were cuda."""
    out = {}
    devices = {"cpu": "cpu", "cuda": other}
    for mode in ("stream", "lines"):
        runs = {}
        for name, dev in devices.items():
            cfg = LMTrainConfig(
                mode=mode,
                layers=2,
                hidden=64,
                embed=16,
                batch_size=8,
                seq_len=32,
                max_steps=20,
                eval_every=10,
                dropout=0.0,
                precision="fp32",
                device=dev,
                preset="cpu",  # the same model on both devices
                seed=1,
            )
            run = tmp / f"lm-{mode}-{name}"
            runs[name] = train_run(run, cfg, text=TEXT, show_progress=False)
            runs[name + "_weights"] = load_checkpoint(run / "last.pt")["model"]
        cpu_lm = CharLM.load(tmp / f"lm-{mode}-cuda", device="cpu")  # a CUDA run on the CPU
        out[f"lm_{mode}"] = {
            "val_loss_cpu": runs["cpu"]["val_loss"],
            "val_loss_cuda": runs["cuda"]["val_loss"],
            "max_weight_diff": max_diff(runs["cpu_weights"], runs["cuda_weights"]),
            "cuda_run_samples_on_cpu": len(cpu_lm.sample(length=20, seed=0)) > 0,
        }
    pairs = tmp / "pairs.tsv"
    pairs.write_text(
        "\n".join(f"{a} {b}.\t{a}x {b}x" for a in "ka lo mi su te".split() for b in "no vi pe do".split()) * 4
        + "\n",
        encoding="utf-8",
    )
    data = load_pair_data(pairs, max_len=6, seed=0)
    res = {}
    for name, dev in devices.items():
        cfg = TrainConfig(
            emb_size=32,
            hidden_size=32,
            max_epochs=3,
            max_minutes=5,
            beam=1,
            dropout=0.0,
            precision="fp32",
            select="loss",
            seed=0,
            preset="cpu",
        )
        res[name] = train_translator(data, cfg, tmp / f"tr-{name}", show_progress=False, device=dev)
    out["translate"] = {
        "val_loss_cpu": res["cpu"]["val_loss"],
        "val_loss_cuda": res["cuda"]["val_loss"],
        "max_weight_diff": max_diff(
            load_checkpoint(tmp / "tr-cpu" / "last.pt")["model"],
            load_checkpoint(tmp / "tr-cuda" / "last.pt")["model"],
        ),
    }
    return out


def speed(tmp: Path, steps: int) -> dict:
    cfg = LMTrainConfig(max_steps=steps, eval_every=10**6, device="cuda", preset="cpu", seed=1)  # 2x512
    corpus = read_corpus(cfg.resolved(), path=dataset_path("tinyshakespeare"))
    from seqlab.charlm.train import train_lm

    m = train_lm(corpus, cfg, tmp / "shakespeare", show_progress=False)
    data = load_pair_data(dataset_path("eng-fra"), reverse=True, max_len=15, seed=0)
    t0 = time.perf_counter()
    r = train_translator(
        data,
        TrainConfig(max_epochs=1, max_minutes=60, beam=1, preset="cpu"),
        tmp / "fr-en",
        show_progress=False,
        device="cuda",
    )
    return {
        "shakespeare_chars_per_sec": round(m["train_chars_per_sec"]),
        "shakespeare_precision": cfg.resolved().precision,
        "translate_pairs_per_sec": round(len(data.train) / r["seconds"]),
        "translate_epoch_seconds": r["seconds"],
        "translate_wall_seconds": round(time.perf_counter() - t0, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--dry-run", action="store_true", help="no GPU needed: agreement check cpu vs cpu")
    args = ap.parse_args()
    if args.dry_run:
        with tempfile.TemporaryDirectory() as tmp:
            agree = agreement(Path(tmp), other="cpu")
        for name, r in agree.items():
            print(
                f"{name}: val loss {r['val_loss_cpu']:.5f} vs {r['val_loss_cuda']:.5f}, "
                f"max weight difference {r['max_weight_diff']:.2e}"
            )
        return 0
    if not torch.cuda.is_available():
        print("gpu_check: torch sees no CUDA GPU here; run it on a machine with one", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        agree = agreement(Path(tmp))
        fast = speed(Path(tmp), args.steps)
    info = {**machine_info(), "gpu": torch.cuda.get_device_name(0)}
    md = [
        f"# GPU check on {info['gpu']}",
        "",
        "| check | cpu | cuda | max weight difference |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, r in agree.items():
        md.append(
            f"| {name} val loss | {r['val_loss_cpu']:.5f} | {r['val_loss_cuda']:.5f} "
            f"| {r['max_weight_diff']:.2e} |"
        )
    md += [
        "",
        f"Shakespeare 2x512 LSTM: {fast['shakespeare_chars_per_sec']:,} chars/s "
        f"({fast['shakespeare_precision']}); "
        f"translation (eng-fra, defaults): {fast['translate_pairs_per_sec']:,} pairs/s.",
    ]
    write_results("gpu_check", {"agreement": agree, "speed": fast, "machine": info}, "\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
