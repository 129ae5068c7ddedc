"""Errors in Python name Python parameters; the CLI names flags (issue 25, part 3).

Each bad call below goes through both doors: the Python API (CharLM, generate_names, Translator)
must raise a ParameterError whose message starts with the keyword argument the caller typed and
mentions no command-line flag; `seqlab lm ...`, `seqlab names` and `seqlab translate ...` must print
one line that starts with the flag. A second list holds messages that are not about one argument:
they must name no flag in Python either.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from seqlab.charlm.language_model import CharLM
from seqlab.charlm.names import generate_names
from seqlab.errors import ParameterError, SeqlabError
from seqlab.translate.translator import Translator

FLAG = re.compile(r"(?<![\w-])--?[a-z]")  # --beam, -n, -o (not "lines-mode" or "x-axis")
LM_SMALL = dict(layers=1, hidden=16, embed=8, batch_size=4, seq_len=16, eval_every=5, precision="fp32")
TR_SMALL = dict(emb_size=16, hidden_size=16, batch_size=16, max_epochs=1, max_minutes=1, seed=0)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> SimpleNamespace:
    """A tiny stream model, a tiny translator, their data and a names list, made once."""
    tmp = tmp_path_factory.mktemp("doors")
    text = tmp / "play.txt"
    text.write_text("To be, or not to be, that is the question.\n" * 40, encoding="utf-8")
    short = tmp / "short.txt"
    short.write_text("To be, or not to be.\n", encoding="utf-8")
    pets = tmp / "pets.txt"
    pets.write_text("\n".join(["rex", "max", "bella", "luna", "milo"] * 10), encoding="utf-8")
    rng = random.Random(0)
    pairs = tmp / "pairs.tsv"
    with open(pairs, "w", encoding="utf-8") as f:
        for _ in range(100):
            s = [rng.choice(["ka", "lo", "mi", "nu"]) for _ in range(rng.randint(2, 4))]
            f.write(" ".join(s) + "\t" + " ".join(w + "x" for w in s) + "\n")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        lm = CharLM.train(path=text, run_dir=tmp / "lm", max_steps=5, **LM_SMALL)
        tr = Translator.train(pairs, tmp / "tr", max_len=5, **TR_SMALL)
    finally:
        torch.set_num_threads(old)
    return SimpleNamespace(
        tmp=tmp, text=text, short=short, pets=pets, pairs=pairs, lm=lm, tr=tr, cache=tmp / "cache"
    )


# (python call, parameter it must name, CLI words, flag the line must start with)
BOTH_DOORS = [
    # seqlab names / generate_names
    (
        lambda c: generate_names(3, temperature=-1, cache_dir=c.cache),
        "temperature",
        lambda c: ["names", "--temperature", "-1", "--cache-dir", c.cache],
        "--temperature",
    ),
    (lambda c: generate_names(0, cache_dir=c.cache), "n", lambda c: ["names", "-n", "0"], "-n"),
    (
        lambda c: generate_names(3, train_minutes=0, cache_dir=c.cache),
        "train_minutes",
        lambda c: ["names", "--train-minutes", "0"],
        "--train-minutes",
    ),
    (
        lambda c: generate_names(3, start="Q", data=c.pets, cache_dir=c.cache),
        "start",
        lambda c: ["names", "--start", "Q", "--data", c.pets],
        "--start",
    ),
    (
        lambda c: generate_names(3, language="Irish", data=c.pets, cache_dir=c.cache),
        "language",
        lambda c: ["names", "--language", "Irish", "--data", c.pets],
        "--language",
    ),
    # seqlab lm sample / CharLM.sample
    (
        lambda c: c.lm.sample(length=0),
        "length",
        lambda c: ["lm", "sample", c.lm.run_dir, "--length", "0"],
        "--length",
    ),
    (lambda c: c.lm.sample(n=0), "n", lambda c: ["lm", "sample", c.lm.run_dir, "-n", "0"], "-n"),
    (
        lambda c: c.lm.sample(top_k=0),
        "top_k",
        lambda c: ["lm", "sample", c.lm.run_dir, "--top-k", "0"],
        "--top-k",
    ),
    (
        lambda c: c.lm.sample(temperature=-0.5),
        "temperature",
        lambda c: ["lm", "sample", c.lm.run_dir, "--temperature", "-0.5"],
        "--temperature",
    ),
    (
        lambda c: c.lm.sample(prime="§"),
        "prime",
        lambda c: ["lm", "sample", c.lm.run_dir, "--prime", "§"],
        "--prime",
    ),
    (
        lambda c: c.lm.sample(language="French"),
        "language",
        lambda c: ["lm", "sample", c.lm.run_dir, "--language", "French"],
        "--language",
    ),
    # seqlab lm eval / CharLM.evaluate
    (
        lambda c: c.lm.evaluate(path=c.text, language="French"),
        "language",
        lambda c: ["lm", "eval", c.lm.run_dir, c.text, "--language", "French"],
        "--language",
    ),
    # seqlab lm train / CharLM.train
    (
        lambda c: CharLM.train(path=c.short, run_dir=c.tmp / "new_lm", max_steps=1),
        "seq_len",
        lambda c: ["lm", "train", c.short, "-o", c.tmp / "new_lm", "--max-steps", "1"],
        "--seq-len",
    ),
    # seqlab translate RUN SENTENCE / eval / Translator
    (
        lambda c: c.tr.translate("ka lo", beam=0),
        "beam",
        lambda c: ["translate", c.tr.run_dir, "ka lo", "--beam", "0"],
        "--beam",
    ),
    (
        lambda c: c.tr.bleu(c.tr.test_pairs, beam=0),
        "beam",
        lambda c: ["translate", "eval", c.tr.run_dir, "--beam", "0"],
        "--beam",
    ),
    # seqlab translate train / Translator.train
    (
        lambda c: Translator.train(c.pairs, c.tmp / "new_tr", max_len=0, **TR_SMALL),
        "max_len",
        lambda c: ["translate", "train", c.pairs, "-o", c.tmp / "new_tr", "--max-len", "0"],
        "--max-len",
    ),
    (
        lambda c: Translator.train(c.pairs, c.tmp / "new_tr", **{**TR_SMALL, "max_epochs": 0}),
        "max_epochs",
        lambda c: ["translate", "train", c.pairs, "-o", c.tmp / "new_tr", "--max-epochs", "0"],
        "--max-epochs",
    ),
]


@pytest.mark.parametrize("call, parameter, argv, flag", BOTH_DOORS, ids=[case[3] for case in BOTH_DOORS])
def test_python_names_the_parameter_and_the_cli_the_flag(ctx, cli_error, call, parameter, argv, flag):
    with pytest.raises(ParameterError) as info:
        call(ctx)
    message = str(info.value)
    assert info.value.parameter == parameter and message.startswith(parameter + " "), message
    assert not FLAG.search(message), f"a flag in a Python message: {message}"

    line = cli_error(*argv(ctx), match=flag)
    assert line.startswith(f"seqlab: error: {flag} "), line
    assert not (ctx.tmp / "new_lm").exists() and not (ctx.tmp / "new_tr").exists()
    assert not ctx.cache.exists()  # nothing trained


OCCUPIED = [
    (
        lambda c: CharLM.train(path=c.text, run_dir=c.lm.run_dir, max_steps=1),
        lambda c: ["lm", "train", c.text, "-o", c.lm.run_dir, "--max-steps", "1"],
    ),
    (
        lambda c: Translator.train(c.pairs, c.tr.run_dir, **TR_SMALL),
        lambda c: ["translate", "train", c.pairs, "-o", c.tr.run_dir],
    ),
]


@pytest.mark.parametrize("call, argv", OCCUPIED, ids=["lm", "translate"])
def test_an_occupied_run_directory_is_run_dir_in_python_and_resume_or_o_in_the_cli(
    ctx, cli_error, call, argv
):
    with pytest.raises(ParameterError) as info:
        call(ctx)
    assert info.value.parameter == "run_dir" and not FLAG.search(str(info.value)), str(info.value)
    line = cli_error(*argv(ctx), match="--resume")
    assert "another -o" in line


# Messages about the data or the model rather than one argument: no flag in Python either.
PYTHON_ONLY = [
    (lambda c: c.tr.translate("ka lo mi nu ka lo"), "at most 5"),
    (lambda c: c.lm.evaluate("missing.txt"), "file not found: missing.txt"),
    (lambda c: CharLM.train("data/inptu.txt", max_steps=1), "file not found: data/inptu.txt"),
    (lambda c: Translator.train(c.tmp / "prs.tsv", c.tmp / "new_tr"), "not found"),
    (lambda c: c.lm.sample(n=2, length=5), "not both"),
    (lambda c: c.lm.sample_lines(3), "lines model"),
]


@pytest.mark.parametrize("call, needle", PYTHON_ONLY)
def test_other_python_messages_name_no_flag(ctx, call, needle):
    with pytest.raises(SeqlabError) as info:
        call(ctx)
    assert needle in str(info.value) and not FLAG.search(str(info.value)), str(info.value)


def test_a_lines_model_names_python_words_for_what_it_cannot_do(ctx):
    lines = CharLM.train(path=ctx.pets, run_dir=ctx.tmp / "lines", mode="lines", max_steps=3, **LM_SMALL)
    for call in (lambda: lines.stream(), lambda: lines.sample(language="Irish")):
        with pytest.raises(SeqlabError) as info:
            call()
        assert not FLAG.search(str(info.value)), str(info.value)
    assert Path(ctx.tmp / "lines" / "model.pt").exists()
