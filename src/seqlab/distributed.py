"""Data-parallel training over processes and machines with PyTorch's own engine: torchrun launches
the processes, torch.distributed connects them (gloo on CPU, nccl on CUDA), DistributedDataParallel
averages the gradients.

    torchrun --standalone --nproc-per-node 2 -m seqlab lm train input.txt -o RUN
    seqlab lm train input.txt -o RUN --nproc 2          # the same, launched for you

Semantics (docs/scaling.md): every process draws the same global batch from the same data
generator and keeps its own shard of it (stream mode: a block of the batch's columns; lines,
sentences and pairs: a block of the batch's rows); the loss of a shard is its summed loss divided by
the global count (characters, words, sentences) times the number of processes, so that DDP's mean
of the gradients is exactly the gradient of the global batch's mean loss. Every process therefore
runs the same number of steps. Decisions that depend on the clock (time budgets, the learning rate
of a time-budgeted schedule) are rank 0's, broadcast to the others; validation runs on rank 0 and
its result is broadcast. Rank 0 alone writes files and shows progress.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch

from seqlab.errors import SeqlabError

TIMEOUT = timedelta(minutes=10)  # how long a collective waits for a silent peer before failing


@dataclass(frozen=True)
class Group:
    """This process's place in the job: rank among world_size processes, local_rank among the
    local_world_size processes of its machine. The default is a single process."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, n: int) -> slice:
        """This rank's block of n items (rows or columns of a global batch): as even as possible."""
        lo = n * self.rank // self.world_size
        hi = n * (self.rank + 1) // self.world_size
        return slice(lo, hi)

    # -- collectives (no-ops in a single process) ---------------------------------------------
    def agree(self, value: float) -> float:
        """Rank 0's value of a number every rank must agree on (elapsed seconds, a score)."""
        if not self.enabled:
            return value
        t = torch.tensor([float(value)], dtype=torch.float64)
        _collective(torch.distributed.broadcast, t, src=0)
        return float(t.item())

    def totals(self, *values: float) -> list[float]:
        """The sums over all ranks of a few numbers at once (e.g. the characters of the global batch
        and their summed loss): one all-reduce."""
        if not self.enabled:
            return [float(v) for v in values]
        t = torch.tensor([float(v) for v in values], dtype=torch.float64)
        _collective(torch.distributed.all_reduce, t)
        return t.tolist()

    def gather(self, obj) -> list:
        """Every rank's `obj` (picklable), in rank order, on every rank."""
        if not self.enabled:
            return [obj]
        out = [None] * self.world_size
        _collective(torch.distributed.all_gather_object, out, obj)
        return out

    def share(self, obj):
        """Rank 0's `obj` (picklable) on every rank."""
        if not self.enabled:
            return obj
        box = [obj if self.is_main else None]
        _collective(torch.distributed.broadcast_object_list, box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.enabled:
            _collective(torch.distributed.barrier)


def _collective(fn, *args, **kw):
    """A collective whose failure (a peer that died or hung) becomes one clear line."""
    try:
        return fn(*args, **kw)
    except (RuntimeError, ValueError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise SeqlabError(
            f"another training process stopped or stopped answering ({first}); "
            "the last checkpoint is kept, continue with --resume"
        ) from None


def current_group() -> Group:
    """The group of the job this process has joined (seqlab.distributed.init), else one process:
    for code such as scikit-learn estimators, whose parameters cannot carry a process group."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        env = os.environ
        return Group(
            torch.distributed.get_rank(),
            torch.distributed.get_world_size(),
            int(env.get("LOCAL_RANK", 0)),
            int(env.get("LOCAL_WORLD_SIZE", 1)),
        )
    return Group()


def launched_by_torchrun() -> bool:
    """torchrun (and torch.distributed.run) put RANK and WORLD_SIZE in each process's environment."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def init(device: str = "auto") -> tuple[Group, str]:
    """Join the job torchrun started (gloo on CPU, nccl on CUDA) and return this process's group and
    device, resolved ("cpu", "cuda", "cuda:LOCAL_RANK" under torchrun; never "auto"). Outside
    torchrun: a single-process group."""
    from seqlab.runtime import resolve_device

    if not launched_by_torchrun():
        return Group(), str(resolve_device(device))  # an unusable device fails here, before any work
    env = os.environ
    group = Group(
        int(env["RANK"]),
        int(env["WORLD_SIZE"]),
        int(env.get("LOCAL_RANK", 0)),
        int(env.get("LOCAL_WORLD_SIZE", 1)),
    )
    dev = resolve_device(device)
    device = str(dev)  # "auto" resolved: what config.json and metrics.json record
    if dev.type == "cuda":
        torch.cuda.set_device(group.local_rank)
        device = f"cuda:{group.local_rank}"
    if not torch.distributed.is_initialized():
        try:
            torch.distributed.init_process_group("nccl" if dev.type == "cuda" else "gloo", timeout=TIMEOUT)
        except (RuntimeError, ValueError) as e:
            raise SeqlabError(f"could not join the training job: {str(e).splitlines()[0][:160]}") from None
    return group, device


def launch(nproc: int, python_args: list[str]) -> None:
    """Run `python <python_args>` as `nproc` processes of one job on this machine, exactly as
    `torchrun --standalone --nproc-per-node N` does (its own launcher, in this process). A process
    that fails (an error, a signal) stops the others; that becomes one SeqlabError line."""
    import uuid

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import elastic_launch
    from torch.distributed.run import config_from_args, parse_args

    # each process's threads: the cores shared out (our own rule, also applied in init); setting it
    # here keeps torchrun from forcing 1 thread and warning about it
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    targs = parse_args(["--standalone", f"--nproc-per-node={nproc}", *python_args])
    targs.rdzv_backend, targs.rdzv_endpoint, targs.rdzv_id = "c10d", "localhost:0", str(uuid.uuid4())
    config, cmd, cmd_args = config_from_args(targs)
    try:
        elastic_launch(config=config, entrypoint=cmd)(*cmd_args)
    except ChildFailedError as e:
        rank, failure = e.get_first_failure()
        how = (
            f"was killed by signal {failure.signal_name()}"
            if failure.exitcode < 0
            else f"exited with code {failure.exitcode}"
        )
        raise SeqlabError(
            f"training process {rank} of {nproc} {how}; the others were stopped and the last "
            "checkpoint is kept (continue with --resume)"
        ) from None


def shutdown() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def threads_per_process(group: Group, threads: int | None) -> int | None:
    """CPU threads for this process: `threads` if given, else the machine's cores divided among its
    local processes (torchrun sets OMP_NUM_THREADS=1 when it starts several; we override that so
    the cores are used, without oversubscribing them). None in a single process (all cores)."""
    if threads:
        return threads
    if not group.enabled:
        return None
    return max(1, (os.cpu_count() or 1) // group.local_world_size)


def wrap(model: torch.nn.Module, group: Group) -> torch.nn.Module:
    """The model DDP trains (gradients averaged across ranks), or the model itself in one process."""
    if not group.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel

    dev = next(model.parameters()).device
    return DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
