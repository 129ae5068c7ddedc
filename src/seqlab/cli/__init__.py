"""The `seqlab` command: a thin layer that parses flags, calls the library and prints results.

Each feature registers its own subcommands (cli/lm.py, cli/embed.py, ...). Every SeqlabError and
the usual OS errors become one line on stderr and a non-zero exit; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import sys

from seqlab import __version__
from seqlab.errors import SeqlabError

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    from seqlab.cli import classify, embed, lm, serve, translate

    parser = argparse.ArgumentParser(
        prog="seqlab",
        description="Neural sequence models of text: word embeddings, character-level RNN/LSTM/GRU "
        "language models, sentence CNNs and attention translation, all on a laptop CPU.",
        epilog="Run `seqlab COMMAND --help` for each command. Start with `seqlab names`.",
    )
    parser.add_argument("--version", action="version", version=f"seqlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (lm, embed, classify, translate, serve):
        module.register(sub)
    return parser


def explicit_args(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Only the options `argv` really gives, without defaults: what a resumed run compares with
    its own settings (a flag given with its default value still counts as given)."""
    for action in parser._actions:
        action.default = argparse.SUPPRESS
        action.required = False
    return parser.parse_args(argv)


def add_device_argument(p, default: str = "cpu") -> None:
    p.add_argument("--device", default=default, choices=("cpu", "cuda", "auto"),
                   help="where the model runs: cpu, cuda (one line of error without a GPU) or auto "
                        "(cuda when present); checkpoints always load on a CPU-only machine too")


def add_scale_arguments(p) -> None:
    """--device, --nproc and --threads, the same on every neural trainer (docs/scaling.md)."""
    add_device_argument(p)
    p.add_argument("--nproc", type=int, default=None, metavar="N",
                   help="train with N data-parallel processes on this machine (a shortcut for "
                        "`torchrun --standalone --nproc-per-node N -m seqlab ...`; see docs/scaling.md)")


def run_job(args, body) -> int:
    """Run `body(group, device)` as this process's part of a training job: relaunched under torchrun
    when --nproc N > 1 asks for it, joined to torchrun's job when launched by it (gloo on CPU, nccl
    on CUDA), with cores / local processes threads unless --threads says otherwise."""
    from seqlab import distributed
    from seqlab.runtime import set_threads

    nproc = getattr(args, "nproc", None)
    if nproc is not None and nproc < 1:
        raise SeqlabError(f"--nproc must be at least 1, got {nproc}")
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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        return int(args.func(args) or 0)
    except SeqlabError as e:
        print(f"seqlab: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("seqlab: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
        print(f"seqlab: error: {e.strerror or e}: {e.filename}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return 0
