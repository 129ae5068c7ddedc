"""Translator and Translation as a notebook user meets them (issue 25): short reprs that say what
the object is (no tensor dump), `.to(device)` returning the translator, a pairs path naming no file
refused before anything is written, and messages in Python's words."""

from __future__ import annotations

import random

import pytest
import torch

from seqlab.errors import ParameterError, SeqlabError
from seqlab.translate.translator import Translation, Translator

WORDS = "ka lo mi nu pe ro".split()
TINY = dict(emb_size=16, hidden_size=16, batch_size=16, max_epochs=2, max_minutes=1, lr=0.02, beam=2, seed=0)


def write_pairs(path, n=120, seed=0):
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(n):
            s = [rng.choice(WORDS) for _ in range(rng.randint(2, 4))]
            f.write(" ".join(s) + "\t" + " ".join(w + "x" for w in s) + "\n")
    return path


@pytest.fixture(scope="module")
def tr(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tr")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return Translator.train(write_pairs(tmp / "pairs.tsv"), tmp / "run", max_len=5, **TINY)
    finally:
        torch.set_num_threads(old)


def test_translator_repr_names_its_shape(tr):
    r = repr(tr)
    c = tr.model.cfg
    assert r.startswith(f"Translator({c.attention} attention, rnn encoder, lstm {c.hidden_size} hidden"), r
    assert f"vocabulary {len(tr.src_vocab)} -> {len(tr.tgt_vocab)}" in r
    assert f"max_len {tr.max_len}" in r and f"beam {tr.beam}" in r
    assert f"val_loss {tr.metrics['val_loss']:.4f}" in r and f"run_dir={str(tr.run_dir)!r}" in r
    assert len(r) < 300 and "tensor" not in r


def test_translation_repr_is_text_and_sizes_not_a_tensor(tr):
    t = tr.translate("ka lo mi")
    r = repr(t)
    assert r.startswith(f"Translation({t.text!r}, source 3 words, output {len(t.output)} words")
    assert f"attention {len(t.output) + 1}x3" in r and "tensor" not in r and len(r) < 200
    t2 = Translation(["zz", "ka"], ["kax"], torch.full((2, 2), 0.5), unknown=["zz"])
    assert "unknown ['zz']" in repr(t2)


def test_to_returns_the_translator_and_it_still_translates(tr):
    before = [t.text for t in tr.translate(["ka lo", "mi nu pe"], beam=2)]
    assert tr.to("cpu") is tr and next(tr.model.parameters()).device.type == "cpu"
    assert [t.text for t in tr.translate(["ka lo", "mi nu pe"], beam=2)] == before


def test_a_missing_pairs_file_is_refused_naming_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SeqlabError, match=r"pairs file not found: data/prs\.tsv"):
        Translator.train("data/prs.tsv", tmp_path / "run", **TINY)
    with pytest.raises(ParameterError) as info:
        Translator.train("ka lo\tkax lox\nmi\tmix\n", tmp_path / "run", **TINY)
    assert info.value.parameter == "pairs_path"
    assert not (tmp_path / "run").exists()


def test_python_messages_name_parameters(tr, tmp_path):
    with pytest.raises(ParameterError, match="^beam must be at least 1") as info:
        tr.translate("", beam=0)  # the argument is checked before the sentence
    assert info.value.parameter == "beam"
    with pytest.raises(SeqlabError) as info:
        tr.translate("ka lo mi nu pe ro ka lo")
    assert "at most 5" in str(info.value) and "--" not in str(info.value)
    with pytest.raises(ParameterError) as info:
        Translator.train(write_pairs(tmp_path / "p.tsv"), tr.run_dir, **TINY)  # holds a run already
    assert info.value.parameter == "run_dir" and "--" not in str(info.value)
