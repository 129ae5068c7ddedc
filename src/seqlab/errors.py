"""The exceptions the CLI turns into one clean error line (no traceback), and the checks that raise them.

One configuration idiom runs through every wing: a dataclass whose `validate()` checks each field,
returns self, and raises `ParameterError` naming the **Python parameter** (`length must be at least
1`). The CLI rewrites the parameter into its flag in one place (`--length must be at least 1`).
"""

from __future__ import annotations


class SeqlabError(Exception):
    """A user-facing problem: bad input, missing file, unknown name. The message is one line."""


class ParameterError(SeqlabError, ValueError):
    """A setting out of range: `parameter` is the Python name (a config field or keyword argument),
    `problem` what is wrong with it ("must be at least 1, got 0"). Also a ValueError, as a Python
    caller expects of a bad argument."""

    def __init__(self, parameter: str, problem: str):
        super().__init__(f"{parameter} {problem}")
        self.parameter = parameter
        self.problem = problem


def check_at_least(owner, minimum, *names: str) -> None:
    """Each of `names` (attributes of `owner`; None allowed and skipped) is >= minimum."""
    for name in names:
        value = getattr(owner, name)
        if value is not None and value < minimum:
            raise ParameterError(name, f"must be at least {minimum}, got {value}")


def check_positive(owner, *names: str) -> None:
    """Each of `names` (None skipped) is > 0."""
    for name in names:
        value = getattr(owner, name)
        if value is not None and not value > 0:
            raise ParameterError(name, f"must be positive, got {value}")


def check_range(owner, name: str, lo: float, hi: float, *, closed: bool = False) -> None:
    """lo <= value < hi (or <= hi when `closed`)."""
    value = getattr(owner, name)
    if value is None:
        return
    if not (lo <= value <= hi if closed else lo <= value < hi):
        raise ParameterError(name, f"must be in [{lo}, {hi}{']' if closed else ')'}, got {value}")


def check_choice(owner, name: str, allowed) -> None:
    """The value is one of `allowed`."""
    value = getattr(owner, name)
    if value not in allowed:
        raise ParameterError(name, f"must be one of {', '.join(map(str, allowed))}, got {value!r}")
