"""Pair reading, normalisation, filters, splits, vocabularies and batches (seqlab.translate.data)."""

import pytest
import torch

from seqlab.errors import SeqlabError
from seqlab.translate.data import (
    EOS_ID,
    PAD_ID,
    SOS_ID,
    UNK_ID,
    build_vocab,
    collate,
    encode_pairs,
    filter_pairs,
    load_pair_data,
    normalize,
    read_pairs,
    split_pairs,
)


def test_normalize_follows_the_tutorial():
    assert normalize("Je suis très fatigué.") == "je suis tres fatigue"
    assert normalize("I'm tired!") == "i m tired !"
    assert normalize("Qui est-ce\u202f?") == "qui est ce ?"
    assert normalize("  Ça alors\u00a0! ") == "ca alors !"
    assert normalize("...") == ""


def _write(tmp_path, text, name="p.tsv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_read_pairs_direction_and_extra_columns(tmp_path):
    p = _write(tmp_path, "Go.\tVa !\tCC-BY attribution\n\nHi.\tSalut.\n")
    assert read_pairs(p) == [("Go.", "Va !"), ("Hi.", "Salut.")]
    assert read_pairs(p, reverse=True) == [("Va !", "Go."), ("Salut.", "Hi.")]


@pytest.mark.parametrize(
    "text,match",
    [
        ("Go.\tVa !\nno tab here\n", "line 2"),
        ("Go.\t\n", "line 1"),
        ("\tVa !\n", "line 1"),
    ],
)
def test_malformed_lines_name_the_line(tmp_path, text, match):
    with pytest.raises(SeqlabError, match=match):
        read_pairs(_write(tmp_path, text))


def test_bad_files(tmp_path):
    with pytest.raises(SeqlabError, match="empty"):
        read_pairs(_write(tmp_path, ""))
    with pytest.raises(SeqlabError, match="not found"):
        read_pairs(tmp_path / "missing.tsv")
    b = tmp_path / "b.bin"
    b.write_bytes(b"\x00\x01\x02\tabc")
    with pytest.raises(SeqlabError, match="binary"):
        read_pairs(b)


def test_filter_counts_words_and_prefix_uses_the_english_side():
    pairs = [
        ("I am cold.", "J'ai froid."),
        ("You are tall.", "Tu es grand."),
        ("Go away.", "Pars."),
        ("I am a very very very very very very long one.", "Court."),
    ]
    assert len(filter_pairs(pairs, max_len=15)) == 4
    assert len(filter_pairs(pairs, max_len=3)) == 3
    kept = filter_pairs(pairs, max_len=15, prefix_filter=True)
    assert [s for s, _ in kept] == [
        ["i", "am", "cold"],
        ["you", "are", "tall"],
        "i am a very very very very very very long one".split(),
    ]
    rev = [(b, a) for a, b in pairs]  # French first: the prefix is checked on the target side
    assert len(filter_pairs(rev, max_len=15, prefix_filter=True, english_is_source=False)) == 3


def test_split_is_deterministic_disjoint_and_80_10_10():
    items = list(range(1000))
    a = split_pairs(items, seed=3)
    assert a == split_pairs(items, seed=3)
    assert [len(x) for x in a] == [800, 100, 100]
    assert sorted(a[0] + a[1] + a[2]) == items
    assert split_pairs(items, seed=4)[2] != a[2]


def test_vocab_specials_min_count_and_unk():
    v = build_vocab([["a", "b", "a"], ["a", "c"]], min_count=2)
    assert v.itos[:4] == ["<pad>", "<sos>", "<eos>", "<unk>"]
    assert (PAD_ID, SOS_ID, EOS_ID, UNK_ID) == (0, 1, 2, 3)
    assert v.encode(["a", "b", "zzz"]) == [4, UNK_ID, UNK_ID]


def test_collate_shifts_targets_and_pads():
    sv = build_vocab([["x", "y", "z"]])
    tv = build_vocab([["p", "q"]])
    enc = encode_pairs([(["x", "y", "z"], ["p"]), (["y"], ["q", "p"])], sv, tv)
    src, lens, tgt_in, tgt_out = collate(enc, [0, 1])
    assert lens.tolist() == [3, 1]
    assert src[1].tolist() == [sv.index("y"), PAD_ID, PAD_ID]
    p, q = tv.index("p"), tv.index("q")
    assert tgt_out.tolist() == [[p, EOS_ID, PAD_ID], [q, p, EOS_ID]]
    assert tgt_in.tolist() == [[SOS_ID, p, EOS_ID], [SOS_ID, q, p]]  # position 2 of row 0 is never scored
    assert tgt_in.dtype == torch.long


@pytest.mark.needs_data("eng-fra")
def test_eng_fra_prefix_subset_has_the_tutorials_9250_pairs():
    from seqlab.datasets import dataset_path

    path = dataset_path("eng-fra")
    d = load_pair_data(path, reverse=True, prefix_filter=True, seed=0)
    assert d.n_read == 76037  # data README
    assert d.n_kept == 9250  # data README: the tutorial's filter
    assert (len(d.train), len(d.valid), len(d.test)) == (7400, 925, 925)
    src, tgt = d.train[0]
    assert tgt[:2] in (
        ["i", "am"],
        ["i", "m"],
        ["he", "is"],
        ["he", "s"],
        ["she", "is"],
        ["she", "s"],
        ["you", "are"],
        ["you", "re"],
        ["we", "are"],
        ["we", "re"],
        ["they", "are"],
        ["they", "re"],
    )
    assert all(len(s) <= 9 and len(t) <= 9 for s, t in d.train + d.valid + d.test)
