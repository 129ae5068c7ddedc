"""The `seqlab` command: a thin layer that parses flags, calls the library and prints results.

Each feature registers its own subcommands (cli/lm.py, cli/embed.py, ...); shared flags live in
cli/arguments.py and the data-parallel launch in cli/launch.py. Every SeqlabError and the usual OS
errors become one line on stderr and a non-zero exit (a ParameterError shown with the flag of the
parameter it names); Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import sys

from seqlab import __version__
from seqlab.cli.arguments import flag_for, record_flags
from seqlab.errors import ParameterError, SeqlabError

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM


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
    record_flags(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        return int(args.func(args) or 0)
    except ParameterError as e:  # named by its Python parameter: say the flag the user typed
        print(f"seqlab: error: {flag_for(args, e.parameter)} {e.problem}", file=sys.stderr)
        return EXIT_ERROR
    except SeqlabError as e:
        print(f"seqlab: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM turned into a clean stop by a training loop
        print("seqlab: interrupted", file=sys.stderr)
        return EXIT_TERMINATED if getattr(e, "signal_name", None) == "SIGTERM" else EXIT_INTERRUPTED
    except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
        print(f"seqlab: error: {e.strerror or e}: {e.filename}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return 0
