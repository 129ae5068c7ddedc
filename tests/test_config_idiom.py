"""One configuration idiom: validate() returns self and names the Python parameter; the CLI shows the flag."""

from __future__ import annotations

import pytest

from seqlab.cli import main
from seqlab.errors import ParameterError, SeqlabError


def test_parameter_error_names_the_parameter_and_is_a_value_error():
    e = ParameterError("max_epochs", "must be at least 1, got 0")
    assert str(e) == "max_epochs must be at least 1, got 0"
    assert (e.parameter, e.problem) == ("max_epochs", "must be at least 1, got 0")
    assert isinstance(e, SeqlabError) and isinstance(e, ValueError)


def test_lm_config_validate_returns_self_and_names_the_field():
    from seqlab.charlm.config import LMTrainConfig

    cfg = LMTrainConfig(hidden=32)
    assert cfg.validate() is cfg
    with pytest.raises(ParameterError, match=r"^val_fraction must be between 0 and 1, got 2") as info:
        LMTrainConfig(val_fraction=2).validate()
    assert info.value.parameter == "val_fraction"
    with pytest.raises(ParameterError, match=r"^seq_len must be at least 1, got 0"):
        LMTrainConfig(seq_len=0).resolved()


@pytest.mark.parametrize(
    "make",
    [
        lambda: __import__("seqlab.models.rnn", fromlist=["x"]).CharRNNConfig(vocab_size=5, dropout=1.0),
        lambda: __import__("seqlab.models.textcnn", fromlist=["x"]).TextCNNConfig(5, 2, conv="full"),
        lambda: __import__("seqlab.models.textrnn", fromlist=["x"]).TextRNNConfig(5, 2, pooling="sum"),
        lambda: __import__("seqlab.models.dcnn", fromlist=["x"]).DCNNConfig(5, 2, embedding_dim=7),
    ],
)
def test_model_configs_validate_with_parameter_names(make):
    with pytest.raises(ParameterError) as info:
        make().validate()
    assert str(info.value).startswith(info.value.parameter + " ")


def test_python_callers_see_parameter_names_not_flags():
    from seqlab.classify.estimators import make_estimator

    with pytest.raises(ParameterError, match=r"^dev_checks must be at least 1, got 0$"):
        make_estimator("cnn-rand", dev_checks=0)


@pytest.mark.parametrize(
    "argv, line",
    [
        (
            ["lm", "train", "{f}", "-o", "{d}/r", "--val-fraction", "2"],
            "--val-fraction must be between 0 and 1, got 2.0",
        ),
        (["lm", "train", "{f}", "-o", "{d}/r", "--hidden", "0"], "--hidden must be at least 1, got 0"),
        (
            ["classify", "train", "mr", "-o", "{d}/c", "--model", "cnn-rand", "--dev-checks", "0"],
            "--dev-checks must be at least 1, got 0",
        ),
    ],
)
def test_cli_shows_the_flag_of_the_parameter(tmp_path, capsys, argv, line):
    f = tmp_path / "a.txt"
    f.write_text("hello world\n" * 50, encoding="utf-8")
    argv = [a.format(f=f, d=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"seqlab: error: {line}"]
    assert not (tmp_path / "r").exists() and not (tmp_path / "c").exists()


def test_flag_map_covers_short_options_and_declared_renames():
    import argparse

    from seqlab.cli.arguments import flag_for, record_flags

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("x")
    p.add_argument("-n", type=int)
    p.add_argument("--max-len", dest="max_len", type=int)
    p.add_argument("--alpha", type=float)
    p.set_defaults(_param_flags={"learning_rate": "--alpha"})
    record_flags(parser)
    args = parser.parse_args(["x"])
    assert flag_for(args, "n") == "-n"
    assert flag_for(args, "max_len") == "--max-len"
    assert flag_for(args, "learning_rate") == "--alpha"
    assert flag_for(args, "unknown_thing") == "unknown_thing"
