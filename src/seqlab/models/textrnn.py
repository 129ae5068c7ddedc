"""Recurrent sentence classifiers and the lecture's "combining RNN and CNN worlds" hybrid.

TextRNN:  ids (B, T) -> embeddings -> LSTM/GRU (optionally bidirectional, packed by length)
            -> pool over the real time steps (max, mean, or the last state) -> dropout -> linear.
CNNRNN:   ids (B, T) -> embeddings -> bidirectional LSTM/GRU (B, T, 2H)
            -> Kim's convolution (widths 3,4,5 x 100, ReLU, max over time) over the RNN states
            -> dropout -> linear.  The recurrent layer sits *under* the convolution, so every
            n-gram filter sees words already in their sentence context (as in Lai et al. 2015's
            RCNN, but with Kim's filters on top).

Both read padding id 0 as "no word": lengths come from the ids, padded steps are packed away in
the RNN and masked out of the pooling. Models do no I/O and return logits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlab.errors import ParameterError, check_at_least, check_choice, check_range
from seqlab.models.textcnn import FilterWidths, check_filter_widths

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}
POOLINGS = ("max", "mean", "last")


@dataclass
class TextRNNConfig:
    vocab_size: int
    num_classes: int
    embedding_dim: int = 300
    hidden_size: int = 150  # per direction
    cell: str = "lstm"  # "lstm" | "gru"
    bidirectional: bool = False
    num_layers: int = 1
    pooling: str = "max"  # how the states become one vector: "max" | "mean" | "last"
    dropout: float = 0.5
    padding_idx: int = 0

    def validate(self) -> TextRNNConfig:
        """Check every field (ParameterError naming it); returns self."""
        check_choice(self, "cell", tuple(CELLS))
        check_choice(self, "pooling", POOLINGS)
        check_at_least(self, 1, "vocab_size", "embedding_dim", "hidden_size", "num_layers")
        check_at_least(self, 2, "num_classes")
        check_range(self, "dropout", 0, 1)
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TextRNNConfig:
        return cls(**d)


@dataclass
class CNNRNNConfig(FilterWidths):
    vocab_size: int
    num_classes: int
    embedding_dim: int = 300
    hidden_size: int = 100  # per direction; the convolution sees 2 * hidden_size channels
    cell: str = "lstm"
    filter_widths: tuple[int, ...] = (3, 4, 5)
    num_filters: int = 100
    dropout: float = 0.5
    padding_idx: int = 0

    def validate(self) -> CNNRNNConfig:
        """Check every field (ParameterError naming it); returns self."""
        check_choice(self, "cell", tuple(CELLS))
        check_at_least(self, 1, "vocab_size", "embedding_dim", "hidden_size", "num_filters")
        check_at_least(self, 2, "num_classes")
        check_filter_widths(self.filter_widths)
        check_range(self, "dropout", 0, 1)
        return self


def _embedding(V: int, D: int, padding_idx: int, pretrained: torch.Tensor | None) -> nn.Embedding:
    init = (
        torch.empty(V, D).uniform_(-0.25, 0.25) if pretrained is None else pretrained.detach().float().clone()
    )
    if tuple(init.shape) != (V, D):
        raise ParameterError("pretrained", f"has shape {tuple(init.shape)}, not ({V}, {D})")
    init[padding_idx] = 0.0
    return nn.Embedding(V, D, padding_idx=padding_idx, _weight=init)


def _run_rnn(rnn: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """x (B, T, D), lengths (B,) >= 1 -> states (B, T, H*dirs), zeros after each sentence's end."""
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    out, _ = rnn(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out


class TextRNN(nn.Module):
    def __init__(self, config: TextRNNConfig, pretrained: torch.Tensor | None = None):
        super().__init__()
        config.validate()
        self.config = config
        self.embedding = _embedding(config.vocab_size, config.embedding_dim, config.padding_idx, pretrained)
        self.rnn = CELLS[config.cell](
            config.embedding_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
            bidirectional=config.bidirectional,
        )
        dirs = 2 if config.bidirectional else 1
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(config.hidden_size * dirs, config.num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = ids != self.config.padding_idx  # (B, T)
        lengths = mask.sum(1).clamp(min=1)  # (B,) empty -> 1 pad step
        mask[:, 0] = True
        x = self.dropout(self.embedding(ids))  # (B, T, D)
        h = _run_rnn(self.rnn, x, lengths)  # (B, T, H*dirs)
        pool = self.config.pooling
        if pool == "max":
            z = h.masked_fill(~mask[..., None], float("-inf")).amax(dim=1)  # (B, H*dirs)
        elif pool == "mean":
            z = (h * mask[..., None]).sum(1) / lengths[:, None].to(h.dtype)
        else:  # last: forward direction's final step; backward direction's first step
            H = self.config.hidden_size
            last = h[torch.arange(h.shape[0]), lengths - 1]  # (B, H*dirs)
            z = torch.cat([last[:, :H], h[:, 0, H:]], dim=1) if self.config.bidirectional else last
        return self.fc(self.dropout(z))  # (B, C)


class CNNRNN(nn.Module):
    def __init__(self, config: CNNRNNConfig, pretrained: torch.Tensor | None = None):
        super().__init__()
        config.validate()
        self.config = config
        self.embedding = _embedding(config.vocab_size, config.embedding_dim, config.padding_idx, pretrained)
        self.rnn = CELLS[config.cell](
            config.embedding_dim, config.hidden_size, batch_first=True, bidirectional=True
        )
        self.pad = max(config.filter_widths) - 1
        self.convs = nn.ModuleList(
            nn.Conv1d(2 * config.hidden_size, config.num_filters, w) for w in config.filter_widths
        )
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(config.num_filters * len(config.filter_widths), config.num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        lengths = (ids != self.config.padding_idx).sum(1).clamp(min=1)  # (B,)
        h = _run_rnn(self.rnn, self.embedding(ids), lengths)  # (B, T, 2H), 0 after end
        x = F.pad(h.transpose(1, 2), (self.pad, self.pad))  # (B, 2H, T + 2 pad)
        z = torch.cat([F.relu(conv(x)).amax(dim=2) for conv in self.convs], 1)  # (B, maps * widths)
        return self.fc(self.dropout(z))  # (B, C)
