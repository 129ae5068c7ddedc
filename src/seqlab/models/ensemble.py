"""Several trained encoder-decoders decoding as one: at every step the members' log-probabilities
are averaged (a renormalised product of experts), which smooths out each member's own mistakes.

It offers the same encode / start / step surface as Seq2Seq, so seqlab.translate.decoding's greedy and beam
search decode an ensemble unchanged; the attention it returns is the members' average.
"""

from __future__ import annotations

import torch
from torch import nn

from seqlab.errors import ParameterError


class Ensemble(nn.Module):
    def __init__(self, members: list[nn.Module]):
        super().__init__()
        if not members:
            raise ParameterError("members", "must hold at least one model, got none")
        self.members = nn.ModuleList(members)
        self.cfg = members[0].cfg

    def encode(self, src: torch.Tensor, lengths: torch.Tensor) -> tuple:
        return tuple(m.encode(src, lengths) for m in self.members)

    def start(self, memory: tuple) -> tuple:
        return tuple(m.start(mem) for m, mem in zip(self.members, memory))

    def step(self, prev: torch.Tensor, state: tuple, memory: tuple):
        """log p(y_t) = mean_k log p_k(y_t) (unnormalised; decoding applies log_softmax), new states,
        mean attention (N, S)."""
        lps, states, attns = [], [], []
        for m, st, mem in zip(self.members, state, memory):
            logits, new_state, attn = m.step(prev, st, mem)
            lps.append(torch.log_softmax(logits.float(), dim=-1))
            states.append(new_state)
            attns.append(attn.float())
        return torch.stack(lps).mean(0), tuple(states), torch.stack(attns).mean(0)

    def forward(self, src, src_lens, tgt_in, teacher_forcing: float = 1.0, generator=None):
        """Teacher-forced log-probabilities (B, T, V) of the ensemble (renormalised) and mean attention."""
        outs = [m(src, src_lens, tgt_in) for m in self.members]
        lp = torch.stack([torch.log_softmax(o.float(), dim=-1) for o, _ in outs]).mean(0)
        return torch.log_softmax(lp, dim=-1), torch.stack([a.float() for _, a in outs]).mean(0)
