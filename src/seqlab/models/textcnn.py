"""Kim's sentence CNN (Kim 2014, "Convolutional Neural Networks for Sentence Classification").

    ids (B, T) -> embeddings (B, T, D) -> conv widths 3, 4, 5 x 100 maps (narrow or wide)
      -> ReLU -> max over time -> concat (B, 300) -> dropout 0.5 -> linear (B, C) logits
      (softmax lives in the loss)

A filter w in R^{hD} of width h slides over the sentence x_1..x_n (the lecture's slide):

    c_i = f(w^T x_{i:i+h-1} + b)
    narrow:  c = [c_1, ..., c_{n-h+1}] in R^{n-h+1}   only windows inside the sentence
    wide:    c = [c_1, ..., c_{n+h-1}] in R^{n+h-1}   the sentence zero-padded by h-1 on each
                                                      side, so every word meets every filter
                                                      position (Kalchbrenner et al. 2014, 2.1)
    c_hat = max(c)                                    max-over-time pooling

    narrow, h = 3, n = 5:   [x1 x2 x3 x4 x5]            -> 3 windows
    wide,   h = 3, n = 5:   [0 0 x1 x2 x3 x4 x5 0 0]    -> 7 windows

A batch is padded on the right to its longest sentence; windows that reach into that padding
(narrow) or hold only padding (wide) are not windows of the sentence, so they are masked out
before the max. A sentence shorter than h has no narrow window for that filter: its feature is
0, the value ReLU's max can never go below. (Kim's Theano code instead zero-pads every sentence
by max(h) - 1 = 4 on each side for all widths; that is wide for h = 5 and adds all-padding
windows, worth ReLU(b), for h = 3, 4. seqlab until issue 13 did the same.)

Variants (Kim, Section 3.1): `rand` (embeddings random, trained), `static` (pretrained, frozen),
`non-static` (pretrained, fine-tuned), `multichannel` (a frozen and a tuned copy; each filter is
applied to both channels and the results are added). Because convolution is linear, applying one
filter to two channels and adding equals applying it once to their sum, so multichannel costs one
convolution, not two.

The max-norm constraint (||w_c||_2 <= 3 for each class's output weights) is applied by the training
loop after every update via `apply_max_norm`. The model does no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from seqlab.errors import ParameterError, check_at_least, check_choice, check_range

VARIANTS = ("rand", "static", "non-static", "multichannel")
CONVS = ("narrow", "wide")


class FilterWidths:
    """to_dict/from_dict for a config dataclass with a `filter_widths` tuple (a list in JSON)."""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["filter_widths"] = list(self.filter_widths)
        return d

    @classmethod
    def from_dict(cls, d: dict):
        d = dict(d)
        d["filter_widths"] = tuple(d["filter_widths"])
        return cls(**d)


def check_filter_widths(widths) -> None:
    """Kim's window sizes h: one or more, each at least 1 (ParameterError otherwise)."""
    if not widths or min(widths) < 1:
        raise ParameterError("filter_widths", f"must be one or more widths >= 1, got {widths}")


@dataclass
class TextCNNConfig(FilterWidths):
    vocab_size: int
    num_classes: int
    embedding_dim: int = 300  # Kim: 300 (word2vec); glove-6b-50d gives 50
    filter_widths: tuple[int, ...] = (3, 4, 5)
    num_filters: int = 100  # feature maps per width
    dropout: float = 0.5
    variant: str = "rand"  # one of VARIANTS
    padding_idx: int = 0  # its embedding is zero and never trained
    conv: str = "narrow"  # one of CONVS: c in R^{n-h+1} (narrow) or R^{n+h-1} (wide)

    def validate(self) -> TextCNNConfig:
        """Check every field (ParameterError naming it); returns self."""
        check_choice(self, "variant", VARIANTS)
        check_choice(self, "conv", CONVS)
        check_at_least(self, 1, "vocab_size", "embedding_dim", "num_filters")
        check_at_least(self, 2, "num_classes")
        check_filter_widths(self.filter_widths)
        check_range(self, "dropout", 0, 1)
        return self


class TextCNN(nn.Module):
    def __init__(self, config: TextCNNConfig, pretrained: torch.Tensor | None = None):
        """`pretrained` (vocab_size, embedding_dim) initialises the embeddings (all variants but
        rand require it; rand uses U[-0.25, 0.25] as Kim's code does)."""
        super().__init__()
        self.config = config.validate()
        V, D = config.vocab_size, config.embedding_dim
        if pretrained is None:
            if config.variant != "rand":
                raise ParameterError("pretrained", f"is needed by variant {config.variant!r}")
            init = torch.empty(V, D).uniform_(-0.25, 0.25)
        else:
            if tuple(pretrained.shape) != (V, D):
                raise ParameterError("pretrained", f"has shape {tuple(pretrained.shape)}, not ({V}, {D})")
            init = pretrained.detach().float().clone()
        init[config.padding_idx] = 0.0
        self.embedding = nn.Embedding(V, D, padding_idx=config.padding_idx, _weight=init.clone())
        if config.variant == "static":
            self.embedding.weight.requires_grad_(False)
        if config.variant == "multichannel":
            self.static_embedding = nn.Embedding(V, D, padding_idx=config.padding_idx, _weight=init.clone())
            self.static_embedding.weight.requires_grad_(False)
        self.convs = nn.ModuleList(nn.Conv1d(D, config.num_filters, w) for w in config.filter_widths)
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(config.num_filters * len(config.filter_widths), config.num_classes)

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        """Max-pooled feature vector per sentence, before dropout. ids (B, T), right-padded with
        `padding_idx` -> (B, maps * widths)."""
        n = (ids != self.config.padding_idx).sum(dim=1)  # (B,) sentence lengths
        x = self.embedding(ids)  # (B, T, D)
        if self.config.variant == "multichannel":
            x = x + self.static_embedding(ids)  # same filters on both channels
        x = x.transpose(1, 2)  # (B, D, T)
        wide = self.config.conv == "wide"
        out = []
        for conv in self.convs:
            h = conv.kernel_size[0]
            # wide: h-1 zeros each side -> n+h-1 windows; narrow: none -> n-h+1 (at least one
            # window is computed, so that a batch shorter than h still has a (masked) column)
            xp = F.pad(x, (h - 1, h - 1)) if wide else F.pad(x, (0, max(0, h - x.shape[2])))
            c = F.relu(conv(xp))  # (B, maps, windows)
            valid = n + (h - 1) if wide else n - (h - 1)  # (B,) windows of each sentence
            keep = torch.arange(c.shape[2], device=ids.device)[None, :] < valid[:, None]  # (B, windows)
            out.append(c.masked_fill(~keep[:, None, :], 0.0).amax(dim=2))  # (B, maps); 0 if none
        return torch.cat(out, dim=1)  # (B, maps * widths)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(ids)))  # (B, C)


@torch.no_grad()
def apply_max_norm(linear: nn.Linear, max_norm: float) -> None:
    """Rescale each output row w_c (one class) to L2 norm `max_norm` where it is larger (Kim's s=3)."""
    linear.weight.renorm_(2, 0, max_norm)
