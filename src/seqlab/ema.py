"""Polyak averaging: an exponential moving average of a model's weights, swapped in to validate and save."""

from __future__ import annotations

import torch


class WeightEMA:
    """ema <- d*ema + (1-d)*w after every step. With `warmup`, d_t = min(d, (1+t)/(10+t)) so the
    first steps are not averaged with the random initial weights for thousands of steps."""

    def __init__(self, model: torch.nn.Module, decay: float, warmup: bool = False):
        self.decay, self.warmup, self.steps = decay, warmup, 0
        self.params = [p for p in model.parameters()]
        self.shadow = [p.detach().clone() for p in self.params]

    @torch.no_grad()
    def update(self) -> None:
        self.steps += 1
        d = min(self.decay, (1 + self.steps) / (10 + self.steps)) if self.warmup else self.decay
        torch._foreach_mul_(self.shadow, d)
        torch._foreach_add_(self.shadow, [p.detach() for p in self.params], alpha=1 - d)

    def state_dict(self) -> dict:
        """Decay, warm-up flag, update count and the averaged tensors (weights_only-loadable)."""
        return {
            "decay": self.decay,
            "warmup": self.warmup,
            "steps": self.steps,
            "shadow": [s.detach().clone() for s in self.shadow],
        }

    @torch.no_grad()
    def load_state_dict(self, d: dict) -> None:
        if len(d["shadow"]) != len(self.shadow):
            raise ValueError(
                f"the saved average has {len(d['shadow'])} tensors, the model {len(self.shadow)}"
            )
        self.decay, self.warmup, self.steps = float(d["decay"]), bool(d["warmup"]), int(d["steps"])
        for s, v in zip(self.shadow, d["shadow"]):
            s.copy_(v)

    @torch.no_grad()
    def swap(self) -> None:
        """Exchange live and averaged weights (call twice to restore)."""
        for p, s in zip(self.params, self.shadow):
            tmp = p.detach().clone()
            p.copy_(s)
            s.copy_(tmp)
