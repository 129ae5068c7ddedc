"""Sentence pairs for translation: reading, normalisation, filters, splits, vocabularies, batches.

The file format is the PyTorch seq2seq tutorial's (Tatoeba via manythings.org/anki):
one pair per line, ``LEFT<TAB>RIGHT`` (``eng-fra.txt`` is English<TAB>French; extra tab-separated
columns such as attribution are ignored). Direction: the left column is the source and the right
column the target; ``reverse=True`` swaps them, so French->English on ``eng-fra`` is ``reverse=True``
(the tutorial's ``readLangs('eng', 'fra', reverse=True)``).

Normalisation is the current tutorial's, so that its "prefix filter" subset has the known size
(9,250 pairs on our 76K-pair file, checked by a test): Unicode NFD with accents stripped,
lowercase, ``!`` and ``?`` split off as tokens, every other non-letter -- the full stop and the
apostrophe included -- turned into a space ("I'm tired." -> "i m tired"). Sentences are then
whitespace-tokenised word lists. (Keeping "." as a token gives 9,054 prefix pairs and a few BLEU
points for free; we follow the tutorial so scores compare with its reference numbers.)
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.batching import pad_sequences
from seqlab.errors import ParameterError, SeqlabError
from seqlab.files import read_text
from seqlab.vocab import Vocab

PAD, SOS, EOS, UNK = "<pad>", "<sos>", "<eos>", "<unk>"
SPECIALS = (PAD, SOS, EOS, UNK)
PAD_ID, SOS_ID, EOS_ID, UNK_ID = range(4)

# The tutorial's English prefixes ("i m" is "I'm" after normalisation).
ENG_PREFIXES = (
    "i am ",
    "i m ",
    "he is",
    "he s ",
    "she is",
    "she s ",
    "you are",
    "you re ",
    "we are",
    "we re ",
    "they are",
    "they re ",
)
PREFIX_MAX_LEN = 9  # the tutorial keeps pairs with both sides < 10 words
DEFAULT_MAX_LEN = 15


def normalize(s: str) -> str:
    """Tutorial normalisation: strip accents, lowercase, split off !?, keep only letters and !?"""
    s = "".join(c for c in unicodedata.normalize("NFD", s.lower().strip()) if unicodedata.category(c) != "Mn")
    s = re.sub(r"([.!?])", r" \1", s)
    s = re.sub(r"[^a-z!?]+", " ", s)
    return " ".join(s.split())


def tokenize(s: str) -> list[str]:
    """Normalise then split on whitespace."""
    return normalize(s).split()


@dataclass
class PairData:
    """Normalised pairs split 80/10/10; each pair is (source words, target words)."""

    train: list[tuple[list[str], list[str]]]
    valid: list[tuple[list[str], list[str]]]
    test: list[tuple[list[str], list[str]]]
    n_read: int  # well-formed lines in the file
    n_kept: int  # pairs left after filters


def read_pairs(path: str | os.PathLike, reverse: bool = False) -> list[tuple[str, str]]:
    """Raw (source, target) strings from a tab-separated file; malformed lines raise SeqlabError.

    A line is malformed if it has no tab or an empty side. Blank lines are skipped.
    """
    text = read_text(path)
    pairs = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 2 or not cols[0].strip() or not cols[1].strip():
            raise SeqlabError(f"{Path(path)}: line {lineno} is not a pair 'SOURCE<TAB>TARGET': {line[:60]!r}")
        a, b = cols[0], cols[1]
        pairs.append((b, a) if reverse else (a, b))
    if not pairs:
        raise SeqlabError(f"{Path(path)}: no sentence pairs found")
    return pairs


def filter_pairs(
    pairs: Sequence[tuple[str, str]],
    max_len: int,
    prefix_filter: bool = False,
    english_is_source: bool = True,
) -> list[tuple[list[str], list[str]]]:
    """Normalise and keep pairs whose sides both have 1..max_len words.

    ``prefix_filter`` keeps only English sentences starting "i am / he is / she is / you are /
    we are / they are" (and the contracted forms); the English side is the source unless
    ``english_is_source`` is False (i.e. the pairs were reversed).
    """
    out = []
    for a, b in pairs:
        na, nb = normalize(a), normalize(b)
        sa, sb = na.split(), nb.split()
        if not (0 < len(sa) <= max_len and 0 < len(sb) <= max_len):
            continue
        if prefix_filter and not (na if english_is_source else nb).startswith(ENG_PREFIXES):
            continue
        out.append((sa, sb))
    return out


def split_pairs(pairs: list, seed: int, fractions=(0.8, 0.1, 0.1)) -> tuple[list, list, list]:
    """Deterministic shuffle by `seed`, then cut into train/valid/test (80/10/10 by default)."""
    order = np.random.RandomState(seed).permutation(len(pairs))
    n_train = int(round(fractions[0] * len(pairs)))
    n_valid = int(round(fractions[1] * len(pairs)))
    pick = [pairs[i] for i in order]
    return pick[:n_train], pick[n_train : n_train + n_valid], pick[n_train + n_valid :]


def load_pair_data(
    path: str | os.PathLike,
    reverse: bool = False,
    prefix_filter: bool = False,
    max_len: int | None = None,
    seed: int = 0,
) -> PairData:
    """Read, normalise, filter and split a pairs file.

    ``max_len`` defaults to 15 words, or 9 with ``prefix_filter`` (the tutorial's "< 10").
    """
    if max_len is None:
        max_len = PREFIX_MAX_LEN if prefix_filter else DEFAULT_MAX_LEN
    if max_len < 1:
        raise ParameterError("max_len", f"must be at least 1, got {max_len}")
    raw = read_pairs(path, reverse=reverse)
    kept = filter_pairs(raw, max_len, prefix_filter, english_is_source=not reverse)
    if len(kept) < 10:
        raise SeqlabError(
            f"{Path(path)}: only {len(kept)} pairs left after filtering "
            f"(max {max_len} words{', prefix filter' if prefix_filter else ''}); need at least 10 "
            "for a train/validation/test split"
        )
    train, valid, test = split_pairs(kept, seed)
    return PairData(train, valid, test, n_read=len(raw), n_kept=len(kept))


def build_vocab(sentences, min_count: int = 1) -> Vocab:
    """Word vocabulary with <pad>,<sos>,<eos>,<unk> at ids 0..3; rarer words than min_count -> <unk>."""
    counts = Counter(w for s in sentences for w in s)
    return Vocab.from_counts(counts, specials=SPECIALS, unk=UNK, min_count=min_count)


def encode_pairs(pairs, src_vocab: Vocab, tgt_vocab: Vocab) -> list[tuple[list[int], list[int]]]:
    """Word pairs -> id pairs; the target gets <eos> appended (the decoder's stop signal)."""
    return [(src_vocab.encode(s), tgt_vocab.encode(t) + [EOS_ID]) for s, t in pairs]


def collate(encoded, index: Sequence[int]):
    """Batch of id pairs -> src (B, S), src_lens (B,), tgt_in (B, T) = <sos> y, tgt_out (B, T) = y <eos>."""
    import torch

    src, src_lens = pad_sequences([encoded[i][0] for i in index], PAD_ID)
    tgt, _ = pad_sequences([encoded[i][1] for i in index], PAD_ID)

    sos = tgt.new_full((tgt.shape[0], 1), SOS_ID)
    tgt_in = torch.cat([sos, tgt[:, :-1]], dim=1)  # teacher forcing input: <sos> y1 .. y_{T-1}
    return src, src_lens, tgt_in, tgt
