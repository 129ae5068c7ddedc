"""Pure sampling functions: next-character draws and text generation with an explicit generator.

Same model, same generator seed -> same output. Temperature divides the logits (T < 1 sharper,
T > 1 flatter); top-k keeps only the k most likely characters before drawing.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from seqlab.errors import ParameterError, SeqlabError


def sample_next(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """logits (B, V) -> sampled ids (B,). temperature 0 means greedy (argmax)."""
    if temperature < 0:
        raise ParameterError("temperature", f"must be 0 (greedy) or more, got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits / temperature
    if top_k is not None and 0 < top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits.double(), dim=-1)  # float64: stable draws
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def iter_stream(
    model,
    prime_ids: list[int],
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> Iterator[int]:
    """Feed `prime_ids`, then yield `length` more ids one at a time, carrying the hidden state
    (so a caller can show text as it is drawn and stop whenever it likes)."""
    if not prime_ids:
        raise SeqlabError("generation needs at least one priming character")
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():  # per call: a generator must not leave grad mode off between yields
        logits, state = model(torch.tensor([prime_ids], device=device))
    for _ in range(length):
        nxt = sample_next(
            logits[:, -1].float().cpu(), temperature, top_k, generator
        )  # (1,): drawn on the CPU,
        yield int(nxt)  # so a seed means the same
        with torch.no_grad():  # text on any device
            logits, state = model(nxt[:, None].to(device), state)


def generate_stream(
    model,
    prime_ids: list[int],
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> list[int]:
    """The `length` ids iter_stream draws after `prime_ids`, as a list."""
    return list(iter_stream(model, prime_ids, length, temperature, top_k, generator))


@torch.no_grad()
def generate_lines(
    model,
    n: int,
    boundary_id: int,
    prefix_ids: list[int] = (),
    category: int | None = None,
    max_len: int = 64,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> list[list[int]]:
    """n sequences drawn in parallel from <s> + prefix until each emits <s> (or reaches max_len)."""
    model.eval()
    device = next(model.parameters()).device
    start = torch.tensor([[boundary_id, *prefix_ids]] * n, device=device)  # (n, 1 + P)
    cats = torch.full((n,), category, dtype=torch.long, device=device) if category is not None else None
    logits, state = model(start, None, cats)
    seqs = [list(prefix_ids) for _ in range(n)]
    done = [False] * n
    for _ in range(max_len):
        nxt = sample_next(
            logits[:, -1].float().cpu(), temperature, top_k, generator
        )  # (n,), drawn on the CPU
        for i, tok in enumerate(nxt.tolist()):
            if not done[i]:
                if tok == boundary_id:
                    done[i] = True
                else:
                    seqs[i].append(tok)
        if all(done):
            break
        logits, state = model(nxt[:, None].to(device), state, cats)
    return seqs
