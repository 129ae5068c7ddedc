"""benchmarks/gpu_check.py waits for a lent GPU; its agreement check runs here with "cpu" in place
of "cuda", so the script is known to work (and cpu against cpu must agree exactly)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


def test_agreement_check_runs_and_cpu_agrees_with_itself(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.agreement(tmp_path, other="cpu")
    assert set(out) == {"lm_stream", "lm_lines", "translate"}
    for name, r in out.items():
        assert r["max_weight_diff"] == 0.0, name
        assert r["val_loss_cpu"] == r["val_loss_cuda"], name
    assert out["lm_stream"]["cuda_run_samples_on_cpu"] and out["lm_lines"]["cuda_run_samples_on_cpu"]
