"""--help of every command reads as written (issue 25, part 4): examples one
per line, each option's default said once and never as "(default: None)"."""

from __future__ import annotations

import re

import pytest

from seqlab.cli import main

COMMANDS = [
    ["names"],
    ["lm", "train"],
    ["lm", "sample"],
    ["lm", "eval"],
    ["translate"],
    ["translate", "train"],
    ["translate", "eval"],
    ["translate", "RUN"],  # the translate-a-sentence form
    ["classify", "train"],
    ["classify", "table"],
    ["classify", "predict"],
    ["embed", "train"],
    ["embed", "similar"],
    ["embed", "analogy"],
]
STATES_DEFAULT = re.compile(r"\(default\b|\bdefault: ")  # "(default 15)", "(default: 5)", "; default: x"


def help_text(argv, capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as e:
        main([*argv, "--help"])
    assert e.value.code == 0
    return capsys.readouterr().out


def option_entries(text: str) -> dict[str, str]:
    """Option name -> its whole help text (continuation lines joined), from an argparse help."""
    entries: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if re.match(r"^  -", line):
            current = line.split()[0].rstrip(",")
            entries[current] = line
        elif current and line.startswith("    "):
            entries[current] += " " + line.strip()
        else:
            current = None
    return entries


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_each_option_states_its_default_once_and_never_none(argv, capsys, monkeypatch):
    text = help_text(argv, capsys, monkeypatch)
    assert "(default: None)" not in text and "(default: )" not in text and "(default: False)" not in text
    entries = option_entries(text)
    assert len(entries) >= (1 if argv in (["translate"], ["classify", "predict"]) else 3), text
    for option, entry in entries.items():
        said = STATES_DEFAULT.findall(entry)
        assert len(said) <= 1, f"{' '.join(argv)} {option} states its default {len(said)} times: {entry}"


def test_defaults_that_matter_are_still_shown(capsys, monkeypatch):
    entries = option_entries(help_text(["names"], capsys, monkeypatch))
    assert "(default: 20)" in entries["-n"] and "(default: 2.0)" in entries["--train-minutes"]
    entries = option_entries(help_text(["translate", "train"], capsys, monkeypatch))
    assert "(default: 5)" in entries["--beam"] and "(default 15)" in entries["--max-minutes"]
    entries = option_entries(help_text(["lm", "sample"], capsys, monkeypatch))
    assert "(default: 0)" in entries["--seed"]


def test_names_help_puts_each_example_on_its_own_line(capsys, monkeypatch):
    text = help_text(["names"], capsys, monkeypatch)
    lines = text.splitlines()
    examples = lines[lines.index("examples:") + 1 :]
    assert examples[:4] == [
        "  seqlab names -n 10 --seed 1",
        "  seqlab names --language Russian",
        "  seqlab names --start ma --temperature 0.8",
        "  seqlab names --data my_pets.txt",
    ]
    # the description is still filled to the width, not one long line
    assert max(len(line) for line in lines) <= 100
