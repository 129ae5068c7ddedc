"""Greedy and beam-search decoding for encoder-decoder models, batched, with attention per step.

Pure functions of a model that offers three methods (seqlab.models.seq2seq.Seq2Seq does):

    memory = model.encode(src (N, S), lengths (N,))      # tuple/NamedTuple of batch-first tensors
    state  = model.start(memory)                          # tuple of batch-first tensors
    logits, state, attn = model.step(prev (N,), state, memory)   # (N, V), state, (N, S)

Beam search keeps B hypotheses per sentence. At each step the top B of all B*V extensions are
taken; those ending in <eos> are finished (scored by log-probability / length**alpha, the length
counting <eos>) and leave the beam, so with B=1 it is exactly greedy decoding. It stops when no
hypothesis is alive, at `max_len`, or when no alive hypothesis can beat the best finished one
(its log-probability only falls, and the best it could be divided by is max_len**alpha).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seqlab.errors import ParameterError


@dataclass
class Hypothesis:
    """One decoded sentence: ids (without <eos>), attention (len(ids)+1, S) incl. the <eos> step, scores."""

    ids: list[int]
    attention: torch.Tensor
    logprob: float
    score: float  # logprob / length**alpha (length counts <eos> when present)
    finished: bool


def _index(obj, idx):
    """Select rows `idx` along dim 0 of a tensor or of every tensor in a (named) tuple."""
    if obj is None:
        return None
    if isinstance(obj, torch.Tensor):
        return obj[idx]
    items = [_index(x, idx) for x in obj]
    return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)


@torch.no_grad()
def greedy_decode(
    model,
    src: torch.Tensor,
    lengths: torch.Tensor,
    eos_id: int,
    sos_id: int,
    max_len: int,
    alpha: float = 1.0,
) -> list[Hypothesis]:
    """Pick the most probable word at each step until <eos> (forced after `max_len` words); N at once."""
    memory = model.encode(src, lengths)
    state = model.start(memory)
    N, S = src.shape
    prev = torch.full((N,), sos_id, dtype=torch.long, device=src.device)
    done = torch.zeros(N, dtype=torch.bool, device=src.device)
    logprob = torch.zeros(N, device=src.device)
    ids, attns = [], []
    for t in range(max_len + 1):
        logits, state, attn = model.step(prev, state, memory)
        lp = torch.log_softmax(logits.float(), dim=-1)  # (N, V)
        best_lp, tok = lp.max(-1)
        if t == max_len:  # out of room: end here, as beam search does
            tok = torch.full_like(tok, eos_id)
            best_lp = lp[:, eos_id]
        logprob = logprob + torch.where(done, torch.zeros_like(best_lp), best_lp)
        ids.append(torch.where(done, torch.full_like(tok, eos_id), tok))
        attns.append(attn)
        done = done | (tok == eos_id)
        prev = tok
        if bool(done.all()):
            break
    ids_t = torch.stack(ids, 1)  # (N, T)
    attn_t = torch.stack(attns, 1)  # (N, T, S)
    out = []
    for n in range(N):
        row = ids_t[n].tolist()
        k = row.index(eos_id)  # always present: <eos> is forced at max_len
        out.append(
            Hypothesis(
                row[:k], attn_t[n, : k + 1], float(logprob[n]), float(logprob[n]) / (k + 1) ** alpha, True
            )
        )
    return out


@torch.no_grad()
def beam_decode(
    model,
    src: torch.Tensor,
    lengths: torch.Tensor,
    eos_id: int,
    sos_id: int,
    max_len: int,
    beam_size: int = 5,
    alpha: float = 1.0,
) -> list[Hypothesis]:
    """Length-normalised beam search of width `beam_size` for N sentences at once.

    alpha: length-normalisation exponent (0 = raw log-probability, favours short outputs; 1 =
    per-word average). Returns the best finished hypothesis per sentence (or the best unfinished
    one if none finished within `max_len` words).
    """
    B = beam_size
    if B < 1:
        raise ParameterError("beam_size", f"must be at least 1, got {B}")
    N, S = src.shape
    dev = src.device
    memory = model.encode(src, lengths)
    rows = torch.arange(N, device=dev).repeat_interleave(B)  # (N*B,) sentence of each beam row
    memory = _index(memory, rows)
    state = model.start(memory)
    neg_inf = float("-inf")
    scores = torch.full((N, B), neg_inf, device=dev)
    scores[:, 0] = 0.0  # all beams start identical: keep one
    prev = torch.full((N * B,), sos_id, dtype=torch.long, device=dev)
    hist_ids = torch.zeros((N, B, 0), dtype=torch.long, device=dev)
    hist_attn = torch.zeros((N, B, 0, S), device=dev)
    best_score = torch.full((N,), neg_inf, device=dev)
    best_lp = torch.full((N,), neg_inf, device=dev)
    best_ids = torch.full((N, max_len + 1), eos_id, dtype=torch.long, device=dev)
    best_len = torch.zeros(N, dtype=torch.long, device=dev)
    best_attn = torch.zeros((N, max_len + 1, S), device=dev)
    for t in range(max_len + 1):
        logits, state, attn = model.step(prev, state, memory)
        lp = torch.log_softmax(logits.float(), dim=-1)  # (N*B, V)
        V = lp.shape[-1]
        if t == max_len:  # out of room: only <eos> may follow
            forced = torch.full_like(lp, neg_inf)
            forced[:, eos_id] = lp[:, eos_id]
            lp = forced
        cand = (scores.unsqueeze(-1) + lp.view(N, B, V)).view(N, B * V)  # (N, B*V)
        top, flat = cand.topk(B, dim=-1)  # (N, B)
        beam_idx, tok = flat // V, flat % V  # (N, B)
        gather = (torch.arange(N, device=dev).unsqueeze(1) * B + beam_idx).view(-1)  # (N*B,)
        hist_ids = torch.cat([hist_ids.view(N * B, -1)[gather].view(N, B, -1), tok.unsqueeze(-1)], -1)
        step_attn = attn.float()[gather].view(N, B, 1, S)
        hist_attn = torch.cat([hist_attn.view(N * B, t, S)[gather].view(N, B, t, S), step_attn], 2)
        # Hypotheses that just emitted <eos> are finished; keep the best per sentence.
        ended = (tok == eos_id) & torch.isfinite(top)  # (N, B)
        norm = top / float(t + 1) ** alpha
        norm = torch.where(ended, norm, torch.full_like(norm, neg_inf))
        cand_best, which = norm.max(-1)  # (N,)
        better = cand_best > best_score
        if bool(better.any()):
            sel = which[better]
            nb = better.nonzero().squeeze(-1)
            best_score[nb] = cand_best[better]
            best_lp[nb] = top[nb, sel]
            best_len[nb] = t  # words before <eos>
            best_ids[nb, : t + 1] = hist_ids[nb, sel]
            best_attn[nb, : t + 1] = hist_attn[nb, sel]
        scores = torch.where(ended, torch.full_like(top, neg_inf), top)
        state = _index(state, gather)
        prev = tok.view(-1)
        alive = torch.isfinite(scores)
        if not bool(alive.any()):
            break
        # Optimistic bound: an alive beam's log-prob can only fall; its best normaliser is max_len+1.
        bound = scores.max(-1).values / float(max_len + 1) ** alpha
        if bool((best_score >= torch.where(alive.any(-1), bound, torch.full_like(bound, neg_inf))).all()):
            break
    out = []
    for n in range(N):
        if torch.isfinite(best_score[n]):
            k = int(best_len[n])
            out.append(
                Hypothesis(
                    best_ids[n, :k].tolist(),
                    best_attn[n, : k + 1],
                    float(best_lp[n]),
                    float(best_score[n]),
                    True,
                )
            )
        else:  # cannot happen with max_len forcing <eos>, kept for safety
            out.append(Hypothesis([], best_attn[n, :1], neg_inf, neg_inf, False))
    return out


def sequence_logprob(
    model, src: torch.Tensor, lengths: torch.Tensor, ids: list[int], eos_id: int, sos_id: int
) -> float:
    """Log-probability of `ids` + <eos> given one source sentence (src (1, S)); for tests and scoring."""
    with torch.no_grad():
        memory = model.encode(src, lengths)
        state = model.start(memory)
        prev = torch.tensor([sos_id], device=src.device)
        total = 0.0
        for tok in list(ids) + [eos_id]:
            logits, state, _ = model.step(prev, state, memory)
            total += float(torch.log_softmax(logits.float(), -1)[0, tok])
            prev = torch.tensor([tok], device=src.device)
    return total
