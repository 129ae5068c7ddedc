"""Flags that several commands share, and the one place that turns a Python parameter name into the
flag a shell user typed (`length must be at least 1` -> `--length must be at least 1`)."""

from __future__ import annotations

import argparse
import re


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """--help text as a reader wants it: each option's default said once, and not at all when it is
    None or an off switch (argparse would add "(default: None)" after "(default 15)"); paragraphs
    of the description and epilog are filled, lines that begin with spaces (examples) kept as
    written, each on its own line."""

    SAYS_DEFAULT = re.compile(r"\(default\b|\bdefault:|\bdefault \d|%\(default\)")

    def _get_help_string(self, action) -> str:
        text = action.help or ""
        unset = action.default is None or action.default is False or action.default == ""
        if unset or action.default is argparse.SUPPRESS or self.SAYS_DEFAULT.search(text):
            return text
        return super()._get_help_string(action)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out = []
        for block in text.split("\n\n"):
            lines = block.splitlines()
            if any(ln.startswith(" ") for ln in lines):  # examples: as written
                out.append("\n".join(indent + ln for ln in lines))
            else:
                out.append(super()._fill_text(block, width, indent))
        return "\n\n".join(out)


def explicit_args(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Only the options `argv` really gives, without defaults: what a resumed run compares with
    its own settings (a flag given with its default value still counts as given)."""
    for action in parser._actions:
        action.default = argparse.SUPPRESS
        action.required = False
    given = parser.parse_args(argv)
    for name in [k for k in vars(given) if k.startswith("_")]:  # bookkeeping such as _flags
        delattr(given, name)
    return given


def add_device_argument(p, default: str = "auto") -> None:
    p.add_argument(
        "--device",
        default=default,
        choices=("cpu", "cuda", "auto"),
        help="where the model runs: auto = cuda when torch sees a GPU, else cpu (on a CPU-only "
        "machine bit for bit the same as cpu); cpu forces the CPU; cuda (one line of error without "
        "a GPU). The device used is printed and recorded; checkpoints always load on a CPU-only machine too "
        f"(default: {default})",
    )


def add_preset_argument(p) -> None:
    """--preset cpu|gpu: the model-size defaults of a trainer (seqlab.presets, docs/scaling.md)."""
    p.add_argument(
        "--preset",
        choices=("cpu", "gpu"),
        default=None,
        help="model-size defaults: cpu (sized for a few CPU cores) or gpu (larger model, bigger "
        "batch, more dropout; provisional values, docs/scaling.md). Default: the device's "
        "(cuda -> gpu, cpu -> cpu). Shape flags given explicitly always win over the preset",
    )


def add_scale_arguments(p) -> None:
    """--device (auto by default), --nproc and --threads, the same on every neural trainer
    (docs/scaling.md)."""
    add_device_argument(p)
    p.add_argument(
        "--nproc",
        type=int,
        default=None,
        metavar="N",
        help="train with N data-parallel processes on this machine (a shortcut for "
        "`torchrun --standalone --nproc-per-node N -m seqlab ...`; see docs/scaling.md)",
    )


def record_flags(parser: argparse.ArgumentParser, inherited: dict[str, str] | None = None) -> None:
    """Store on every (sub)command the map parameter name -> flag, as the `_flags` default, so an
    error naming a parameter can be shown with the flag of the command that ran.

    A flag's parameter is its argparse `dest` (`--max-epochs` -> max_epochs); a command whose flag
    and parameter differ says so with `parser.set_defaults(_param_flags={"parameter": "--flag"})`.
    """
    flags = dict(inherited or {})
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        names = [o for o in action.option_strings if o.startswith("--")] or action.option_strings
        if names and action.dest not in (argparse.SUPPRESS, "help"):
            flags[action.dest] = names[0]
        elif not action.option_strings and action.dest != argparse.SUPPRESS:
            flags[action.dest] = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    flags.update(parser._defaults.get("_param_flags", {}))
    parser.set_defaults(_flags=flags)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                record_flags(child, flags)


def flag_for(args: argparse.Namespace, parameter: str) -> str:
    """The flag of `parameter` in the command `args` came from (the parameter itself if none)."""
    return getattr(args, "_flags", {}).get(parameter, parameter)
