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
    from seqlab.cli import classify, embed, lm, translate

    parser = argparse.ArgumentParser(
        prog="seqlab",
        description="Neural sequence models of text: word embeddings, character-level RNN/LSTM/GRU "
        "language models, sentence CNNs and attention translation, all on a laptop CPU.",
        epilog="Run `seqlab COMMAND --help` for each command. Start with `seqlab names`.",
    )
    parser.add_argument("--version", action="version", version=f"seqlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (lm, embed, classify, translate):
        module.register(sub)
    return parser


def explicit_args(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Only the options `argv` really gives, without defaults: what a resumed run compares with
    its own settings (a flag given with its default value still counts as given)."""
    for action in parser._actions:
        action.default = argparse.SUPPRESS
        action.required = False
    return parser.parse_args(argv)


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
