"""Training configuration of the character-level language models (no torch import, so the CLI
can build its --help quickly)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from numbers import Integral, Real

from seqlab.errors import ParameterError, check_at_least, check_choice, check_positive, check_range
from seqlab.presets import PRESETS, choose_preset, preset_values

# Defaults that depend on the data mode (None in LMTrainConfig means "take these").
# stream: chosen by a 50-candidate sweep with the characters that fit 15 CPU minutes
# (benchmarks/sweep_charlm_gpu.py): at that budget the model is short of updates more than of
# regularisation, so a high learning rate and light dropout win, with strong weight decay.
MODE_DEFAULTS = {
    "stream": dict(
        layers=2,
        hidden=512,
        embed=64,
        dropout=0.2,
        batch_size=64,
        lr=4e-3,
        weight_decay=0.2,
        epochs=50,
        ema=0.0,
        eval_every=100,
    ),
    "lines": dict(
        layers=2,
        hidden=512,
        embed=64,
        dropout=0.3,
        batch_size=64,
        lr=2e-3,
        weight_decay=0.01,
        epochs=200,
        ema=0.0,
        eval_every=200,
    ),
}


@dataclass
class LMTrainConfig:
    """How to train a character-level model. Fields left None take MODE_DEFAULTS[mode], with the gpu
    preset's values on top when the preset is gpu (seqlab.presets)."""

    mode: str = "stream"  # stream: one long text | lines: one example per line
    cell: str = "lstm"  # rnn | lstm | gru
    impl: str = "fused"  # fused (torch kernels) | scratch (the equations, step by step)
    layers: int | None = None
    hidden: int | None = None
    embed: int | None = None
    dropout: float | None = None
    seq_len: int = 128  # stream mode: characters per truncated-BPTT window
    windows: str = "sequential"  # stream mode: sequential (state carried) | random
    batch_size: int | None = None
    lr: float | None = None
    weight_decay: float | None = None
    clip: float = 1.0
    warmup_steps: int = 100
    schedule: str = "cosine"  # cosine | constant
    min_lr_ratio: float = 0.05  # cosine decays to lr * min_lr_ratio at the end of the budget
    epochs: int | None = None
    max_steps: int | None = None
    max_minutes: float | None = None
    eval_every: int | None = None
    patience: int = 10  # evaluations without improvement before stopping
    val_fraction: float = 0.1
    precision: str = "auto"  # fp32 | bf16 (autocast products to bfloat16 in training; weights stay
    # fp32) | auto = bf16 where the CPU does it natively, else fp32
    ema: float | None = None  # >0: validate and keep an exponential moving average of the weights
    seed: int = 1337
    device: str = "auto"  # cpu | cuda | auto = cuda when torch sees one, else cpu (recorded resolved)
    preset: str | None = None  # cpu | gpu: the defaults of the fields left None (seqlab.presets);
    # None follows the resolved device (cuda -> gpu); recorded resolved

    def validate(self) -> LMTrainConfig:
        """Check every field a caller can get wrong (ParameterError naming it); returns self.
        Fields left None are checked once `resolved()` fills them in."""
        from seqlab.models.rnn import CELLS, IMPLS  # the nn layer names its cells

        check_choice(self, "mode", tuple(MODE_DEFAULTS))
        check_choice(self, "cell", CELLS)
        check_choice(self, "impl", IMPLS)
        check_choice(self, "windows", ("sequential", "random"))
        check_choice(self, "schedule", ("cosine", "constant"))
        check_choice(self, "precision", ("auto", "fp32", "bf16"))
        if self.preset is not None:
            check_choice(self, "preset", PRESETS)
        check_at_least(
            self,
            1,
            "layers",
            "hidden",
            "embed",
            "seq_len",
            "batch_size",
            "epochs",
            "max_steps",
            "eval_every",
            "patience",
        )
        check_at_least(self, 0, "warmup_steps", "weight_decay")
        check_positive(self, "lr", "clip", "max_minutes")
        check_range(self, "dropout", 0, 1)
        if not 0 < self.val_fraction < 1:
            raise ParameterError("val_fraction", f"must be between 0 and 1, got {self.val_fraction}")
        check_range(self, "min_lr_ratio", 0, 1, closed=True)
        check_range(self, "ema", 0, 1)
        return self

    def resolved(self) -> LMTrainConfig:
        """A validated copy with `device` resolved ("auto" -> "cuda" or "cpu"), the preset decided for
        it, the fields left None filled from the mode's defaults as the preset sets them, and
        `precision` decided for the device."""
        from seqlab.runtime import resolve_device
        from seqlab.training import resolve_precision

        self.validate()
        d = asdict(self)
        device = resolve_device(self.device)
        d["device"] = str(device)
        d["preset"] = choose_preset(self.preset, device)
        for k, v in {**MODE_DEFAULTS[self.mode], **preset_values(f"lm.{self.mode}", d["preset"])}.items():
            if d[k] is None:
                d[k] = v
        c = LMTrainConfig(**d).validate()
        c.precision = resolve_precision(c.precision, device)
        return c

    @classmethod
    def from_dict(cls, d: dict) -> LMTrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def check_sampling(temperature: float = 1.0, top_k: int | None = None, **counts: int | None) -> None:
    """The sampling settings every generator shares (CharLM.sample, .stream, the names model),
    checked before a model is loaded or trained: temperature a finite number, 0 (greedy) or more;
    top_k and each of `counts` (n, length, max_len, ...) None or a whole number, at least 1.
    ParameterError names the parameter."""
    if isinstance(temperature, bool) or not isinstance(temperature, Real) or not 0 <= temperature < math.inf:
        raise ParameterError("temperature", f"must be 0 (greedy) or more, got {temperature!r}")
    for name, value in {"top_k": top_k, **counts}.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise ParameterError(name, f"must be a whole number, got {value!r}")
        if value < 1:
            raise ParameterError(name, f"must be at least 1, got {value}")
