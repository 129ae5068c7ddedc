"""How a training command runs as one process of a data-parallel job (docs/scaling.md)."""

from __future__ import annotations

from seqlab.errors import ParameterError


def run_job(args, body) -> int:
    """Run `body(group, device)` as this process's part of a training job: relaunched under torchrun
    when --nproc N > 1 asks for it, joined to torchrun's job when launched by it (gloo on CPU, nccl
    on CUDA), with cores / local processes threads unless --threads says otherwise."""
    from seqlab import distributed
    from seqlab.runtime import set_threads

    nproc = getattr(args, "nproc", None)
    if nproc is not None and nproc < 1:
        raise ParameterError("nproc", f"must be at least 1, got {nproc}")
    if nproc and nproc > 1 and not distributed.launched_by_torchrun():
        distributed.launch(nproc, ["-m", "seqlab", *_without_option(args.argv, "--nproc")])
        return 0
    group, device = distributed.init(getattr(args, "device", "cpu"))
    set_threads(distributed.threads_per_process(group, getattr(args, "threads", None)))
    try:
        return body(group, device)
    finally:
        distributed.shutdown()


def _without_option(argv: list[str], name: str) -> list[str]:
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == name:
            skip = True
        elif not a.startswith(name + "="):
            out.append(a)
    return out
