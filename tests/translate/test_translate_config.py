"""The translate wing's settings: TrainConfig.validate names the Python parameter, the CLI shows the
flag; the Translator's keyword arguments are checked the same way; translate/ imports one way."""

import pytest
import torch

from seqlab.cli import main
from seqlab.errors import ParameterError
from seqlab.translate.config import TrainConfig


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"max_epochs": 0}, "max_epochs must be at least 1, got 0"),
        ({"max_minutes": 0}, "max_minutes must be positive, got 0"),
        ({"batch_size": -1}, "batch_size must be positive, got -1"),
        ({"teacher_forcing": 1.5}, "teacher_forcing must be in [0, 1], got 1.5"),
        ({"label_smoothing": 1.0}, "label_smoothing must be in [0, 1), got 1.0"),
        ({"attention": "cosine"}, "attention must be one of additive, dot, general, none, got 'cosine'"),
        ({"precision": "fp16"}, "precision must be one of auto, bf16, fp32, got 'fp16'"),
        (
            {"tie_embeddings": True, "emb_size": 8},
            "tie_embeddings needs emb_size == hidden_size, got 8 and 256",
        ),
    ],
)
def test_validate_names_the_python_parameter(changes, message):
    with pytest.raises(ParameterError) as e:
        TrainConfig(**changes).validate()
    assert str(e.value) == message and e.value.parameter == next(iter(changes))
    assert isinstance(e.value, ValueError)
    cfg = TrainConfig()
    assert cfg.validate() is cfg


def test_translator_train_names_the_keyword_argument(tmp_path):
    from seqlab.translate.translator import Translator

    pairs = tmp_path / "p.tsv"
    pairs.write_text("".join(f"ka lo {i}\tkax lox {i}\n" for i in range(20)), encoding="utf-8")
    with pytest.raises(ParameterError, match="^max_epochs must be at least 1, got 0$"):
        Translator.train(pairs, tmp_path / "run", max_epochs=0)
    with pytest.raises(ParameterError, match="^max_len must be at least 1, got 0$"):
        Translator.train(pairs, tmp_path / "run", max_len=0)
    assert not (tmp_path / "run").exists()


def test_translate_names_the_beam_keyword():
    from seqlab.models.seq2seq import Seq2Seq, Seq2SeqConfig
    from seqlab.translate.data import SPECIALS, build_vocab
    from seqlab.translate.translator import Translator
    from seqlab.vocab import Vocab

    src_vocab = build_vocab([["ka", "lo"]], 1)
    tgt_vocab = Vocab(["x", "y"], specials=SPECIALS, unk=SPECIALS[3])
    torch.manual_seed(0)
    model = Seq2Seq(Seq2SeqConfig(len(src_vocab), len(tgt_vocab), emb_size=8, hidden_size=8))
    tr = Translator(model, src_vocab, tgt_vocab, max_len=4, beam=2)
    with pytest.raises(ParameterError, match="^beam must be at least 1, got 0$"):
        tr.translate("ka lo", beam=0)
    assert tr.translate("ka lo", beam=1).output == tr.translate(["ka lo"], beam=1)[0].output


@pytest.mark.parametrize(
    "flags,line",
    [
        (["--max-epochs", "0"], "seqlab: error: --max-epochs must be at least 1, got 0"),
        (["--max-len", "0"], "seqlab: error: --max-len must be at least 1, got 0"),
        (["--word-dropout", "1"], "seqlab: error: --word-dropout must be in [0, 1), got 1.0"),
        (["--nproc", "0"], "seqlab: error: --nproc must be at least 1, got 0"),
    ],
)
def test_the_cli_shows_the_flag(tmp_path, capsys, flags, line):
    pairs = tmp_path / "p.tsv"
    pairs.write_text("".join(f"ka lo {i}\tkax lox {i}\n" for i in range(20)), encoding="utf-8")
    assert main(["translate", "train", str(pairs), "-o", str(tmp_path / "r"), *flags]) == 2
    assert capsys.readouterr().err.strip() == line
    assert not (tmp_path / "r").exists()
