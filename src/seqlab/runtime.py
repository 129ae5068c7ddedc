"""Seeds, devices and the one progress-bar helper shared by every long-running job."""

from __future__ import annotations

import random
import sys

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and (if imported) torch, so a run with the same seed repeats."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)


def resolve_device(name: str | None = "auto"):
    """'auto' -> cuda when available, else cpu; "cpu", "cuda", "cuda:1" as torch names them.
    SeqlabError for an unknown name or a GPU that torch cannot see."""
    import torch

    from seqlab.errors import SeqlabError

    name = name or "cpu"
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise SeqlabError(f"unknown device {name!r}; use cpu, cuda or auto") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SeqlabError(f"device {name!r} asked for, but torch sees no CUDA GPU; use cpu")
    return dev


def set_threads(n: int | None) -> None:
    """The one place that sets CPU thread counts: torch's intra-op pool and numba's pool (the word2vec
    and GloVe kernels run on their own Python threads, sized by their `workers`). None or 0 keeps
    the libraries' defaults (all cores)."""
    if not n:
        return
    if n < 0:
        from seqlab.errors import ParameterError

        raise ParameterError("threads", f"must be positive, got {n}")
    if "torch" in sys.modules or _importable("torch"):
        import torch

        torch.set_num_threads(int(n))
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(min(int(n), numba.config.NUMBA_NUM_THREADS))


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def fast_bf16_cpu() -> bool:
    """True when this CPU computes bfloat16 natively (AVX512-BF16 or AMX), where bf16 autocast pays off."""
    import torch

    cpu = getattr(torch, "cpu", None)
    try:
        return bool(cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported())
    except AttributeError:
        return False


def progress(total=None, desc: str = "", unit: str = "it", enabled: bool | None = None, **kw):
    """A tqdm bar on stderr (rate and ETA). `enabled=None` hides it when stderr is not a TTY."""
    from tqdm.std import tqdm  # not tqdm.auto: no ipywidgets warning in notebooks, text bars on stderr

    disable = None if enabled is None else (not enabled)
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=disable,
        dynamic_ncols=True,
        leave=False,
        **kw,
    )
