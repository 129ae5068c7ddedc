"""`evaluate`: the summed negative log-likelihood of a character model over a text, the one measure
behind validation, `lm eval` and CharLM.evaluate (stream models carry their state across windows)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from seqlab.charlm import data as lmdata
from seqlab.models.rnn import CharRNN


def evaluate(
    model: CharRNN,
    corpus_mode: str,
    data,
    categories=None,
    batch_size: int = 64,
    seq_len: int = 256,
    context: torch.Tensor | None = None,
    warm: int = 256,
) -> tuple[float, int]:
    """Summed negative log-likelihood (nats) and the number of predicted characters.

    stream: the text folded into columns, hidden state carried down each column. With `context`
    (the text just before `data`, e.g. the training part) of more than `warm` characters, each
    column's state is first warmed on the `warm` characters that precede it, so every character
    is scored once, given real history: -log P(x_t | x_<t) as a single stream would have it.
    Without context, each column starts from a zero state and its first character is not scored.
    lines: every character and the end marker of each line.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    try:
        if corpus_mode == "stream" and context is not None and len(context) > warm and len(data) >= 2:
            text = torch.cat([context[-(warm + 1) :], data]).to(device)  # warm+1 chars of history, then data
            B = max(1, min(batch_size, len(data) // max(warm, seq_len)))
            rows = len(data) // B
            starts = (warm + 1) + torch.arange(B, device=device) * rows  # first scored char of each column
            seqs = text[
                starts[:, None] - (warm + 1) + torch.arange(warm + rows, device=device)[None, :]
            ]  # (B, warm+rows)
            _, state = model(seqs[:, :warm], None)  # history only: nothing scored
            for r in range(warm, warm + rows, seq_len):
                x = seqs[:, r : r + seq_len]  # input x_{t-1} ...
                y = text[
                    (starts[:, None] + (r - warm) + torch.arange(x.shape[1], device=device)[None, :])
                ]  # ... x_t
                logits, state = model(x, state)
                total += F.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum"
                ).item()
                count += y.numel()
        elif corpus_mode == "stream":
            cols = lmdata.fold_columns(data, max(1, min(batch_size, len(data) // (seq_len + 1) or 1))).to(
                device
            )  # (R, B)
            state = None
            for r in range(0, cols.shape[0] - 1, seq_len):
                chunk = cols[r : r + seq_len + 1]
                x, y = chunk[:-1].t(), chunk[1:].t()
                logits, state = model(x, state)
                total += F.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum"
                ).item()
                count += y.numel()
        else:
            for i in range(0, len(data), batch_size):
                x, y = (t.to(device) for t in lmdata.pad_lines(data[i : i + batch_size]))
                cats = categories[i : i + batch_size].to(device) if categories is not None else None
                logits, _ = model(x, None, cats)
                total += F.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]),
                    y.reshape(-1),
                    ignore_index=lmdata.IGNORE,
                    reduction="sum",
                ).item()
                count += int((y != lmdata.IGNORE).sum())
    finally:
        model.train(was_training)
    return total, count
