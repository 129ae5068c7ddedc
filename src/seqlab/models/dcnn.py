"""The Dynamic CNN of Kalchbrenner, Grefenstette & Blunsom (2014), "A Convolutional Neural Network
for Modelling Sentences", ACL 2014 — with its dynamic k-max pooling op.

    ids (B, s) -> embeddings, as d x s sentence matrices             (B, 1, d, s)
      layer 1: wide convolution, width m1 = 7, 1 -> 6 maps           (B, 6, d, s+6)
               dynamic k-max pooling, k1 = max(k_top, ceil(s/2))     (B, 6, d, k1)
               + bias, tanh
      layer 2: wide convolution, width m2 = 5, 6 -> 14 maps          (B, 14, d, k1+4)
               folding: rows 2i and 2i+1 summed                      (B, 14, d/2, k1+4)
               k-max pooling, k_top = 4                              (B, 14, d/2, 4)
               + bias, tanh
      flatten, dropout 0.5 -> linear -> (B, C) logits (softmax lives in the loss)

with d = 48, the paper's sentiment setting (Section 5.2: two convolutional layers of widths 7 and 5
with 6 and 14 feature maps, k_top = 4, folding, tanh, dropout on the penultimate layer).

The convolution is one-dimensional, as in the paper (Section 3.1): each of the d rows of a map has
its own filter row, and map j of layer l sums the convolutions of every map k of layer l-1,
F_j = sum_k m_{j,k} * F_k. That is a grouped Conv1d with the rows as groups (see `WideConv`).
Dynamic k-max pooling (Section 3.3) keeps the k largest values of each row *in their original
order*; for layer l of L, k_l = max(k_top, ceil((L - l) / L * s)) with s the sentence length.

Variable lengths. A batch is right-padded; every operation here is computed on each sentence's
own length only (convolution windows past a sentence's end see zeros, as the wide convolution's own
padding; k-max ignores positions past the sentence's valid length; pooled positions past k are 0),
so a sentence's logits do not depend on its batch (tested).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from seqlab.errors import ParameterError, check_at_least, check_range


def dynamic_k(length: torch.Tensor | int, layer: int, num_layers: int, k_top: int):
    """k_l = max(k_top, ceil((L - l) / L * s)) for layer l of L (1-based) and sentence length s;
    the top layer (l = L) gives k_top. Works on an int or a LongTensor of lengths."""
    if isinstance(length, int):
        return max(k_top, math.ceil((num_layers - layer) * length / num_layers))
    k = torch.div((num_layers - layer) * length + num_layers - 1, num_layers, rounding_mode="floor")  # ceil
    return k.clamp(min=k_top)


def kmax_pool(x: torch.Tensor, k: int | torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """k-max pooling over the last axis: the k largest values of each row, in their original order.

    x (B, ..., T); k an int or a LongTensor (B,) (one k per sentence); lengths (B,) the valid
    prefix of each sentence's rows (default T: all). Returns (B, ..., K) with K = max(k).
    Ties: among equal values the earlier position is kept. Short rows and smaller k: row b keeps
    min(k_b, lengths_b) values and is filled with zeros up to K (so a row shorter than k keeps all
    its values, in order, then zeros).
    """
    B, T = x.shape[0], x.shape[-1]
    k = torch.full((B,), k, dtype=torch.long, device=x.device) if isinstance(k, int) else k.to(x.device)
    lengths = (
        torch.full((B,), T, dtype=torch.long, device=x.device) if lengths is None else lengths.to(x.device)
    )
    K = int(k.max())
    if K > T:  # room for K candidates
        x = F.pad(x, (0, K - T))
    view = (B,) + (1,) * (x.dim() - 1)  # broadcast per-sentence values
    kk = torch.minimum(k, lengths).view(view)  # values row b keeps
    pos = torch.arange(x.shape[-1], device=x.device)
    masked = x.masked_fill(pos >= lengths.view(view), float("-inf"))
    top = masked.topk(K, dim=-1).values  # (B, ..., K) descending
    kth = top.gather(-1, (kk - 1).clamp(min=0).expand(*top.shape[:-1], 1))  # the kk-th largest
    kth = kth.masked_fill(kk == 0, float("inf"))
    above = masked > kth
    tied = masked == kth  # ties at the threshold:
    need = kk - above.sum(dim=-1, keepdim=True)  # take the earliest `need`
    chosen = above | (tied & (tied.cumsum(dim=-1) <= need))  # exactly kk per row, in order
    slot = torch.where(chosen, chosen.cumsum(dim=-1) - 1, K)  # output column; K = discarded
    out = x.new_zeros(*x.shape[:-1], K + 1).scatter(-1, slot, x)
    return out[..., :K]


def fold(x: torch.Tensor) -> torch.Tensor:
    """Folding: sum rows 2i and 2i+1 of every map. (B, maps, d, T) -> (B, maps, d/2, T)."""
    B, J, d, T = x.shape
    return x.view(B, J, d // 2, 2, T).sum(dim=3)


class WideConv(nn.Module):
    """One-dimensional wide convolution between maps: F_j = sum_k m_{j,k} * F_k, row by row.

    Weights m (maps_out, maps_in, rows, width): row r of output map j is sum over input maps k of
    the 1-D wide convolution of row r of F_k with the filter row m[j, k, r]. Computed as one Conv1d
    with `rows` groups over the channels (row, map), padding width-1 on each side (no bias: the
    DCNN adds its bias after pooling)."""

    def __init__(self, maps_in: int, maps_out: int, rows: int, width: int):
        super().__init__()
        self.maps_in, self.maps_out, self.rows, self.width = maps_in, maps_out, rows, width
        self.conv = nn.Conv1d(
            rows * maps_in, rows * maps_out, width, padding=width - 1, groups=rows, bias=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, K, d, T = x.shape  # (B, maps_in, rows, T)
        y = self.conv(x.transpose(1, 2).reshape(B, d * K, T))  # (B, rows * maps_out, T+w-1)
        return y.view(B, d, self.maps_out, -1).transpose(1, 2)  # (B, maps_out, rows, T+w-1)


@dataclass
class DCNNConfig:
    vocab_size: int
    num_classes: int
    embedding_dim: int = 48  # d (paper, sentiment: 48)
    widths: tuple[int, ...] = (7, 5)  # filter width per convolutional layer
    maps: tuple[int, ...] = (6, 14)  # feature maps per layer
    k_top: int = 4
    fold_last: bool = True  # folding in the last convolutional layer (Figure 3)
    fold_every: bool = False  # folding after every convolutional layer (the authors' code)
    dropout: float = 0.5
    padding_idx: int = 0

    def validate(self) -> DCNNConfig:
        """Check every field (ParameterError naming it); returns self."""
        if len(self.widths) != len(self.maps) or not self.widths:
            raise ParameterError(
                "widths", f"need one width per layer: widths {self.widths}, maps {self.maps}"
            )
        check_at_least(self, 1, "vocab_size", "embedding_dim", "k_top")
        check_at_least(self, 2, "num_classes")
        check_range(self, "dropout", 0, 1)
        folds = self.folds()
        if self.embedding_dim % (2 ** sum(folds)):
            raise ParameterError(
                "embedding_dim",
                f"must be divisible by {2 ** sum(folds)} for folding "
                f"{sum(folds)} time(s) (even, for one fold), got {self.embedding_dim}",
            )
        return self

    def folds(self) -> list[bool]:
        """Whether each convolutional layer is followed by folding."""
        L = len(self.widths)
        return [self.fold_every or (self.fold_last and layer == L) for layer in range(1, L + 1)]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["widths"], d["maps"] = list(self.widths), list(self.maps)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DCNNConfig:
        d = dict(d)
        d["widths"], d["maps"] = tuple(d["widths"]), tuple(d["maps"])
        return cls(**d)


class DCNN(nn.Module):
    def __init__(self, config: DCNNConfig, pretrained: torch.Tensor | None = None):
        """`pretrained` (vocab_size, embedding_dim) initialises the (always trained) embeddings;
        else they start U[-0.25, 0.25], as Kim's CNN-rand (the paper initialises them randomly)."""
        super().__init__()
        self.config = config.validate()
        self.folds = folds = config.folds()
        V, d = config.vocab_size, config.embedding_dim
        if pretrained is None:
            init = torch.empty(V, d).uniform_(-0.25, 0.25)  # as Kim's CNN-rand
        else:
            if tuple(pretrained.shape) != (V, d):
                raise ParameterError("pretrained", f"has shape {tuple(pretrained.shape)}, not ({V}, {d})")
            init = pretrained.detach().float().clone()
        init[config.padding_idx] = 0.0
        self.embedding = nn.Embedding(V, d, padding_idx=config.padding_idx, _weight=init)
        self.convs = nn.ModuleList()
        self.biases = nn.ParameterList()
        maps_in, rows = 1, d
        for (w, J), folded in zip(zip(config.widths, config.maps), folds):
            self.convs.append(WideConv(maps_in, J, rows, w))
            rows = rows // 2 if folded else rows
            self.biases.append(nn.Parameter(torch.zeros(J, rows, 1)))  # one bias per row of each map
            maps_in = J
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(config.maps[-1] * rows * config.k_top, config.num_classes)

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        """The penultimate layer, before dropout. ids (B, s), right-padded -> (B, maps * rows * k_top)."""
        cfg = self.config
        L = len(cfg.widths)
        s = (ids != cfg.padding_idx).sum(dim=1)  # (B,) sentence lengths
        x = self.embedding(ids).transpose(1, 2).unsqueeze(1)  # (B, 1, d, T)
        valid = s  # valid columns of x
        for l, (conv, bias) in enumerate(zip(self.convs, self.biases), 1):
            c = conv(x)  # (B, J, d, T+w-1)
            valid = valid + conv.width - 1  # wide: s -> s+w-1
            if self.folds[l - 1]:
                c = fold(c)  # (B, J, rows/2, T+w-1)
            k = dynamic_k(s, l, L, cfg.k_top)  # (B,)
            p = kmax_pool(c, k, valid)  # (B, J, rows, K)
            keep = (torch.arange(p.shape[-1], device=ids.device) < k[:, None])[:, None, None, :]
            x = torch.tanh(p + bias).masked_fill(~keep, 0.0)  # zeros past each k
            valid = k
        return x.flatten(1)  # (B, J * rows * k_top)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(ids)))  # (B, C)
