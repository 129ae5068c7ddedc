"""Character-level language-model data: vocabularies, splits and the two batchers.

stream mode - one long text. Sequential windows fold the stream into B columns and walk down
them T characters at a time, so the hidden state of row b carries on to the next batch (truncated
BPTT, as in pytorch/examples word_language_model):

    a g m s          each column is a contiguous slice of the text;
    b h n t          batch k is rows [k*T, (k+1)*T) of every column,
    c i o u   --->   targets are the same rows shifted down by one.
    d j p v
    e k q w
    f l r x

Random windows instead draw B offsets uniformly each step (state starts from zero).

lines mode - each line is one example: input <s> c1 .. cn, target c1 .. cn <s>, where the
boundary token <s> (id 0) marks both the beginning and the end (makemore's convention);
padding targets are -1 and ignored by the loss.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from seqlab.batching import bucket_batches, pad_sequences
from seqlab.errors import ParameterError, SeqlabError
from seqlab.vocab import Vocab

BOUNDARY = "<s>"
IGNORE = -1
MAX_LINE_CHARS = 10_000  # lines mode: longer "lines" are running text, for stream mode


def char_vocab(text: str) -> Vocab:
    """Characters of `text` in sorted order (deterministic ids)."""
    return Vocab(sorted(set(text)))


def line_vocab(lines: list[str]) -> Vocab:
    """Boundary token at id 0, then the characters of all lines in sorted order."""
    return Vocab(sorted(set("".join(lines))), specials=[BOUNDARY])


def encode_text(text: str, vocab: Vocab) -> torch.Tensor:
    """Text -> int64 ids; characters outside the vocabulary are a clear error."""
    unknown = sorted(set(text) - set(vocab.stoi))
    if unknown:
        shown = "".join(unknown[:20])
        raise SeqlabError(f"{len(unknown)} character(s) not in the model's vocabulary: {shown!r}")
    lut = vocab.stoi
    return torch.tensor([lut[ch] for ch in text], dtype=torch.long)


def split_stream(ids: torch.Tensor, val_fraction: float) -> tuple[torch.Tensor, torch.Tensor]:
    """First (1 - val_fraction) for training, the rest for validation (nanoGPT's split)."""
    n_val = int(len(ids) * val_fraction)
    return ids[: len(ids) - n_val], ids[len(ids) - n_val :]


def split_lines(items: list, val_fraction: float, seed: int) -> tuple[list, list]:
    """Shuffle by `seed`, hold out val_fraction (at least one item when there are two or more)."""
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    n_val = max(1, int(round(len(items) * val_fraction))) if len(items) > 1 and val_fraction > 0 else 0
    val = [items[i] for i in order[:n_val]]
    train = [items[i] for i in order[n_val:]]
    return train, val


def fold_columns(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """(N,) -> (N // B, B): B contiguous columns, the tail that does not fill a row dropped."""
    rows = len(ids) // batch_size
    return ids[: rows * batch_size].view(batch_size, rows).t().contiguous()


@dataclass
class StreamBatcher:
    """Windows of T+1 characters over a training stream; state is (epoch, position, shift)."""

    ids: torch.Tensor
    batch_size: int
    seq_len: int
    sequential: bool = True

    def __post_init__(self):
        if len(self.ids) < self.batch_size * (self.seq_len + 1) and self.sequential:
            # Fall back to fewer columns for short texts rather than refusing them.
            self.batch_size = max(1, len(self.ids) // (self.seq_len + 1))
        if len(self.ids) < self.seq_len + 1:
            raise ParameterError(
                "seq_len",
                f"({self.seq_len}) leaves no training window: the text is too short ({len(self.ids)} "
                "characters, need more than seq_len + 1); lower it",
            )
        self.epoch, self.pos, self.columns = 0, 0, None

    def steps_per_epoch(self) -> int:
        if self.sequential:
            return max(1, (len(self.ids) // self.batch_size - 1) // self.seq_len)
        return max(1, len(self.ids) // (self.batch_size * self.seq_len))

    def _new_epoch(self, gen: torch.Generator) -> None:
        # A random shift each epoch so window boundaries move and every char starts a column sometime.
        max_shift = max(0, min(self.seq_len, len(self.ids) - self.batch_size * (self.seq_len + 1)))
        shift = int(torch.randint(0, max_shift + 1, (1,), generator=gen)) if max_shift else 0
        self.columns = fold_columns(self.ids[shift:], self.batch_size)  # (rows, B)
        self.pos = 0

    def next(self, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """(x (B, T), y (B, T), reset_state) for the next step."""
        if not self.sequential:
            hi = len(self.ids) - self.seq_len - 1
            starts = torch.randint(0, hi + 1, (self.batch_size,), generator=gen)
            idx = starts[:, None] + torch.arange(self.seq_len + 1)
            win = self.ids[idx]  # (B, T+1)
            return win[:, :-1], win[:, 1:], True
        reset = False
        if self.columns is None or self.pos + self.seq_len + 1 > self.columns.shape[0]:
            if self.columns is not None:
                self.epoch += 1
            self._new_epoch(gen)
            reset = True
        chunk = self.columns[self.pos : self.pos + self.seq_len + 1]  # (T+1, B)
        self.pos += self.seq_len
        return chunk[:-1].t().contiguous(), chunk[1:].t().contiguous(), reset

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "pos": self.pos, "batch_size": self.batch_size, "columns": self.columns}

    def load_state_dict(self, d: dict) -> None:
        self.epoch, self.pos, self.batch_size, self.columns = (
            d["epoch"],
            d["pos"],
            d["batch_size"],
            d["columns"],
        )


def encode_lines(lines: list[str], vocab: Vocab) -> list[torch.Tensor]:
    """Each line -> ids of <s> c1..cn <s> (input is [:-1], target [1:]). SeqlabError for a line
    longer than MAX_LINE_CHARS or a character the vocabulary lacks."""
    longest = max(map(len, lines), default=0)
    if longest > MAX_LINE_CHARS:  # each line is run as one sequence: a 10 MB line would never finish
        raise SeqlabError(
            f"a line of {longest:,} characters: lines mode takes one short example per line "
            f"(at most {MAX_LINE_CHARS:,} characters); use stream mode for running text"
        )
    unknown = sorted(set("".join(lines)) - set(vocab.stoi))
    if unknown:
        raise SeqlabError(
            f"{len(unknown)} character(s) not in the model's vocabulary: {''.join(unknown[:20])!r}"
        )
    b = vocab.stoi[BOUNDARY]
    lut = vocab.stoi
    return [torch.tensor([b] + [lut[ch] for ch in line] + [b], dtype=torch.long) for line in lines]


def pad_lines(seqs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Encoded lines -> x (B, T) padded with id 0, y (B, T) = x shifted by one, padded with IGNORE."""
    padded, _ = pad_sequences(seqs, pad_id=IGNORE, min_length=2)  # (B, T+1)
    x, y = padded[:, :-1], padded[:, 1:]
    return x.masked_fill(x == IGNORE, 0), y


@dataclass
class LineBatcher:
    """Shuffled mini-batches of whole lines (and their categories), reshuffled every epoch."""

    seqs: list[torch.Tensor]
    categories: torch.Tensor | None
    batch_size: int

    def __post_init__(self):
        if not self.seqs:
            raise SeqlabError("no training lines")
        self.batch_size = min(self.batch_size, len(self.seqs))
        self.epoch, self.pos, self.order = 0, 0, None

    def steps_per_epoch(self) -> int:
        return max(1, len(self.seqs) // self.batch_size)

    def _epoch_order(self, gen: torch.Generator) -> torch.Tensor:
        """This epoch's line order: full batches of similar length in a shuffled order
        (seqlab.batching.bucket_batches, pools of 50 batches)."""
        batches = bucket_batches([len(q) for q in self.seqs], self.batch_size, gen, pool=50, drop_last=True)
        return torch.cat(batches)

    def next(self, gen: torch.Generator):
        """(x (B, T), y (B, T), categories (B,) or None)."""
        if self.order is None or self.pos + self.batch_size > len(self.order):
            if self.order is not None:
                self.epoch += 1
            self.order = self._epoch_order(gen)
            self.pos = 0
        idx = self.order[self.pos : self.pos + self.batch_size]
        self.pos += self.batch_size
        x, y = pad_lines([self.seqs[i] for i in idx.tolist()])
        cats = self.categories[idx] if self.categories is not None else None
        return x, y, cats

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "pos": self.pos, "order": self.order}

    def load_state_dict(self, d: dict) -> None:
        self.epoch, self.pos, self.order = d["epoch"], d["pos"], d["order"]
