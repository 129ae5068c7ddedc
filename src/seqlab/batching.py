"""Batches of variable-length sequences, shared by the LM's lines mode, classification and translation.

    lengths = [5, 2, 9, 3, 4, 8]           bucket_batches(lengths, 2, generator)
    shuffle  -> 3 0 5 1 2 4                 (a fresh permutation every epoch)
    pools    -> [3 0 5 1] [2 4]             (pool * batch_size indices each)
    sort     -> [1 3 0 5] [4 2]             (by length, within the pool)
    cut      -> [1 3] [0 5] [4 2]           (neighbours have similar lengths: little padding)
    shuffle the batches -> [0 5] [4 2] [1 3]

Padding then costs little while every epoch still sees a new order; without a generator
(evaluation) everything is sorted by length and cut. One RNG type: torch.Generator.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def bucket_batches(
    lengths: Sequence[int] | torch.Tensor,
    batch_size: int,
    generator: torch.Generator | None = None,
    pool: int = 50,
    drop_last: bool = False,
) -> list[torch.Tensor]:
    """Index batches (LongTensors) of similar length, as drawn above.

    pool: batches per sorting pool (larger: less padding, less randomness). drop_last: drop the
    final short batch of each pool (the LM keeps every step the same size).
    """
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    n = len(lengths)
    if n == 0:
        return []
    if generator is None:
        order = torch.argsort(lengths, stable=True)
        return list(order.split(batch_size))
    perm = torch.randperm(n, generator=generator)
    batches: list[torch.Tensor] = []
    for chunk in perm.split(batch_size * pool):
        chunk = chunk[torch.argsort(lengths[chunk], stable=True)]
        parts = list(chunk.split(batch_size))
        if drop_last and len(parts[-1]) < batch_size:
            parts.pop()
        batches += parts
    order = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in order]


def pad_sequences(
    seqs: Sequence[Sequence[int] | torch.Tensor], pad_id: int = 0, min_length: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id sequences into one LongTensor (B, T) with T = the longest (at least
    `min_length`); also return the lengths (B,)."""
    lens = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    T = max(int(lens.max()) if len(seqs) else 0, min_length)
    out = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        if len(s):
            out[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out, lens
