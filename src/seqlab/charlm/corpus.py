"""Turn a text file (or the bundled names lists) into an encoded, split language-model corpus."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from seqlab.charlm import data as lmdata
from seqlab.errors import SeqlabError
from seqlab.files import read_text
from seqlab.vocab import Vocab


@dataclass
class LMCorpus:
    """Everything the trainer needs: mode, vocabulary, train/validation parts, category names."""

    mode: str  # "stream" | "lines"
    vocab: Vocab
    train: object  # stream: ids (N,); lines: list of id tensors
    val: object
    train_categories: torch.Tensor | None = None
    val_categories: torch.Tensor | None = None
    categories: list[str] = field(default_factory=list)
    train_lines: list[str] = field(default_factory=list)

    @property
    def train_chars(self) -> int:
        if self.mode == "stream":
            return int(len(self.train))
        return int(sum(len(s) - 1 for s in self.train))


def read_lines(path: str | Path) -> list[str]:
    """Non-empty lines of a UTF-8 file, trailing whitespace removed."""
    lines = [ln.rstrip() for ln in read_text(path).splitlines()]
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        raise SeqlabError(f"no lines in {path}")
    return lines


def stream_corpus(text: str, val_fraction: float = 0.1) -> LMCorpus:
    vocab = lmdata.char_vocab(text)
    ids = lmdata.encode_text(text, vocab)
    train, val = lmdata.split_stream(ids, val_fraction)
    return LMCorpus("stream", vocab, train, val)


def lines_corpus(
    lines: list[str],
    val_fraction: float = 0.1,
    seed: int = 0,
    categories: list[int] | None = None,
    category_names: list[str] | None = None,
) -> LMCorpus:
    """Lines (optionally each with a category id) -> shuffled train/validation split by seed."""
    vocab = lmdata.line_vocab(lines)
    items = list(zip(lines, categories)) if categories is not None else [(ln, None) for ln in lines]
    train_items, val_items = lmdata.split_lines(items, val_fraction, seed)

    def cats(part):
        return torch.tensor([c for _, c in part], dtype=torch.long) if categories is not None else None

    return LMCorpus(
        "lines",
        vocab,
        lmdata.encode_lines([ln for ln, _ in train_items], vocab),
        lmdata.encode_lines([ln for ln, _ in val_items], vocab),
        cats(train_items),
        cats(val_items),
        list(category_names or []),
        train_lines=[ln for ln, _ in train_items],
    )


def categorised_lines(files: dict[str, Path]) -> tuple[list[str], list[int], list[str]]:
    """{category name: file} -> all lines, their category ids, the category names (sorted)."""
    names = sorted(files)
    lines, cats = [], []
    for ci, name in enumerate(names):
        for ln in read_lines(files[name]):
            lines.append(ln)
            cats.append(ci)
    return lines, cats, names
