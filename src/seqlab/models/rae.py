"""Semi-supervised recursive autoencoder (Socher et al., EMNLP 2011, "Semi-Supervised Recursive
Autoencoders for Predicting Sentiment Distributions").

No parser: each sentence's tree is built greedily, merging at every step the adjacent pair whose
parent reconstructs its children best.

    p        = tanh(W1 [c1; c2] + b1) / ||tanh(W1 [c1; c2] + b1)||        (eq. 2, unit length, §2.3)
    [c1'; c2'] = W2 p + b2                                               (eq. 3)
    E_rec    = n1/(n1+n2) ||c1 - c1'||^2 + n2/(n1+n2) ||c2 - c2'||^2     (eq. 4, n = words under a child)
    d        = softmax(Wc x + bc) at every node x                       (eq. 7)
    E        = alpha sum_merges E_rec + (1 - alpha) [sum_words CE + beta sum_parents CE]

(The authors' code puts the classifier on words too, weighting parents by beta = 0.5.) Batched:
`search` scores every adjacent pair of every sentence of a batch in one matrix product per merge
step (no gradient), `forward` replays the chosen merges with autograd, one (B, d) step per merge.

A frontier is the row of vectors still to be merged, left-aligned in (B, L, d); merging positions
j and j+1 writes p at j and shifts everything right of j+1 one to the left:

    step 0:  [the] [cat] [sat]      j* = 1  ->  [the] [cat sat]
    step 1:  [the] [cat sat]        j* = 0  ->  [the cat sat]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class RAEConfig:
    vocab_size: int
    num_classes: int = 2
    dim: int = 50  # d, the authors' embedding_size
    alpha: float = 0.2  # weight of the reconstruction error (the authors' alpha_cat)
    beta: float = 0.5  # weight of the parents' cross-entropy against the words'

    def validate(self) -> RAEConfig:
        from seqlab.errors import ParameterError

        for name in ("vocab_size", "num_classes", "dim"):
            if getattr(self, name) < 1:
                raise ParameterError(name, f"must be at least 1, got {getattr(self, name)}")
        for name in ("alpha", "beta"):
            if not 0 <= getattr(self, name) <= 1:
                raise ParameterError(name, f"must be in [0, 1], got {getattr(self, name)}")
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RAEConfig:
        return cls(**d)


class RAE(nn.Module):
    """Word vectors, encoder W1, decoder W2 and the node classifier Wc. Ids: (B, L) padded with
    anything; `lengths` (B,) say how many are real (each at least 1)."""

    def __init__(self, cfg: RAEConfig):
        super().__init__()
        self.cfg = cfg.validate()
        d = cfg.dim
        self.embedding = nn.Embedding(cfg.vocab_size, d)
        self.encoder = nn.Linear(2 * d, d)  # W1, b1
        self.decoder = nn.Linear(d, 2 * d)  # W2, b2
        self.classifier = nn.Linear(d, cfg.num_classes)  # Wc, bc
        nn.init.normal_(self.embedding.weight, 0.0, 0.1)

    def compose(self, c1: torch.Tensor, c2: torch.Tensor) -> torch.Tensor:
        """(..., d), (..., d) -> unit-length parent (..., d)."""
        p = torch.tanh(self.encoder(torch.cat([c1, c2], dim=-1)))
        return p / p.norm(dim=-1, keepdim=True).clamp_min(1e-12)

    def reconstruction_error(self, c1, c2, p, n1, n2) -> torch.Tensor:
        """Eq. 4 for pairs (..., d) with span sizes n1, n2 (...): the span-weighted squared error."""
        r1, r2 = self.decoder(p).chunk(2, dim=-1)  # (..., d) each
        w1 = n1 / (n1 + n2)
        return w1 * (c1 - r1).pow(2).sum(-1) + (1 - w1) * (c2 - r2).pow(2).sum(-1)

    @torch.no_grad()
    def search(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The greedy trees: (B, L-1) merge positions, step t merging frontier items j and j+1
        (-1 once a sentence is a single node). Every adjacent pair of the batch is scored at once."""
        B, L = ids.shape
        nodes = self.embedding(ids)  # (B, L, d) the frontier
        spans = torch.ones(B, L, dtype=nodes.dtype, device=ids.device)  # (B, L) words under each item
        count = lengths.clone()  # (B,) items on each frontier
        merges = torch.full((B, max(L - 1, 0)), -1, dtype=torch.long, device=ids.device)
        for t in range(L - 1):
            width = int(count.max())
            if width < 2:
                break
            c1, c2 = nodes[:, : width - 1], nodes[:, 1:width]  # (B, W-1, d) every adjacent pair
            n1, n2 = spans[:, : width - 1], spans[:, 1:width]
            err = self.reconstruction_error(c1, c2, self.compose(c1, c2), n1, n2)  # (B, W-1)
            pos = torch.arange(width - 1, device=ids.device)
            err = err.masked_fill(pos[None] >= (count - 1)[:, None], float("inf"))
            j = err.argmin(dim=1)  # (B,)
            active = count >= 2
            merges[:, t] = torch.where(active, j, -1)
            nodes, spans = self._merge(nodes, spans, j, active)
            count = count - active.long()
        return merges

    def _merge(self, nodes, spans, j, active, parent=None):
        """The frontier after merging items j and j+1 of each active row: the parent at j (computed
        here unless given), the rest shifted left. Differentiable in `nodes` and `parent`."""
        B, L, d = nodes.shape
        rows = torch.arange(B, device=nodes.device)
        jj = j.clamp_min(0)
        if parent is None:
            parent = self.compose(nodes[rows, jj], nodes[rows, (jj + 1).clamp_max(L - 1)])  # (B, d)
        pos = torch.arange(L, device=nodes.device)[None]  # (1, L)
        src = torch.where(active[:, None] & (pos > jj[:, None]), (pos + 1).clamp_max(L - 1), pos)  # (B, L)
        shifted = nodes.gather(1, src[..., None].expand(B, L, d))
        new_span = spans[rows, jj] + spans[rows, (jj + 1).clamp_max(L - 1)]  # (B,)
        spans = spans.gather(1, src)
        here = active[:, None] & (pos == jj[:, None])  # (B, L)
        nodes = torch.where(here[..., None], parent[:, None, :], shifted)
        spans = torch.where(here, new_span[:, None], spans)
        return nodes, spans

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, merges: torch.Tensor):
        """Replay the merges with autograd. Returns the node vectors (B, 2L-1, d) (words first, then
        parents in merge order; rows past a sentence's 2n-1 nodes are zero), their mask (B, 2L-1),
        each merge's reconstruction error (B, L-1) (0 where no merge) and the top node (B, d)."""
        B, L = ids.shape
        words = self.embedding(ids)  # (B, L, d)
        nodes = words
        spans = torch.ones(B, L, dtype=words.dtype, device=ids.device)
        rows = torch.arange(B, device=ids.device)
        parents, errors = [], []
        for t in range(merges.shape[1]):
            j = merges[:, t]
            active = j >= 0
            jj = j.clamp_min(0)
            c1, c2 = nodes[rows, jj], nodes[rows, jj + 1]  # (B, d)
            p = self.compose(c1, c2)  # (B, d)
            e = self.reconstruction_error(c1, c2, p, spans[rows, jj], spans[rows, jj + 1])  # (B,)
            parents.append(p * active[:, None])
            errors.append(e * active)
            nodes, spans = self._merge(nodes, spans, j, active, parent=p)
        word_mask = torch.arange(L, device=ids.device)[None] < lengths[:, None]  # (B, L)
        parent_mask = merges >= 0  # (B, L-1)
        all_nodes = torch.cat([words * word_mask[..., None]] + [p[:, None] for p in parents], dim=1)
        mask = torch.cat([word_mask, parent_mask], dim=1)  # (B, 2L-1)
        err = torch.stack(errors, dim=1) if errors else words.new_zeros(B, 0)
        return all_nodes, mask, err, nodes[:, 0]

    def loss(self, ids, lengths, merges, labels) -> torch.Tensor:
        """Mean over sentences of alpha sum E_rec + (1 - alpha) (sum_words CE + beta sum_parents CE)."""
        nodes, mask, err, _ = self(ids, lengths, merges)
        L = ids.shape[1]
        ce = F.cross_entropy(
            self.classifier(nodes).flatten(0, 1), labels.repeat_interleave(nodes.shape[1]), reduction="none"
        ).view_as(mask)  # (B, 2L-1)
        weight = torch.ones_like(ce)
        weight[:, L:] = self.cfg.beta
        sup = (ce * weight * mask).sum(1)  # (B,)
        a = self.cfg.alpha
        return (a * err.sum(1) + (1 - a) * sup).mean()

    @torch.no_grad()
    def features(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, 2d) sentence features: [top node; mean of all the sentence's nodes] on greedy trees."""
        nodes, mask, _, top = self(ids, lengths, self.search(ids, lengths))
        mean = nodes.sum(1) / mask.sum(1, keepdim=True)
        return torch.cat([top, mean], dim=1)
