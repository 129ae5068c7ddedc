"""Model-size presets per device: `cpu` (the defaults every benchmark on 2 CPU cores chose) and `gpu`
(larger models, bigger batches, more dropout, where a GPU's speed makes them win). No torch import.

A run with no preset follows its resolved device (cuda -> gpu, cpu -> cpu); a preset given forces
one; a setting the caller gives explicitly always beats the preset's value. The gpu values are
provisional (docs/scaling.md): the LM's come from issue 27's one H200 run, the others are sane
guesses until a sweep on a lent GPU replaces them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields, replace

from seqlab.errors import ParameterError

PRESETS = ("cpu", "gpu")

# What the gpu preset changes, per trainer; the cpu preset changes nothing (today's defaults).
GPU_PRESET = {
    # issue 27, one H200: 3x1024, dropout 0.5, batch 128 reached validation 1.391 in 75 s (2x512: 1.412)
    "lm.stream": dict(layers=3, hidden=1024, dropout=0.5, batch_size=128),
    # names (lines mode): provisional, not swept
    "lm.lines": dict(hidden=1024, dropout=0.5, batch_size=256),
    # translate: provisional, not swept
    "translate": dict(emb_size=512, hidden_size=512, dropout=0.3, batch_size=128),
}


def choose_preset(preset: str | None, device) -> str:
    """The preset a run uses: `preset` when given, else the device's ("cuda..." -> gpu, else cpu)."""
    if preset is None:
        return "gpu" if str(device).startswith("cuda") else "cpu"
    if preset not in PRESETS:
        raise ParameterError("preset", f"must be one of {', '.join(PRESETS)}, got {preset!r}")
    return preset


def preset_values(kind: str, preset: str) -> dict:
    """The settings `preset` gives trainer `kind` ("lm.stream", "lm.lines", "translate"); {} for cpu."""
    return dict(GPU_PRESET[kind]) if preset == "gpu" else {}


def apply_preset(cfg, kind: str, device, given: Collection[str] | None = None):
    """A copy of dataclass `cfg` with `cfg.preset` decided for `device` and the preset's values set on
    every field not in `given` (the settings the caller gave explicitly). given None: the fields
    whose value differs from the dataclass default count as given (a Python caller's config cannot
    tell a default passed on purpose; the CLI and Translator.train pass what was really given)."""
    chosen = choose_preset(cfg.preset, device)
    if given is None:
        blank = type(cfg)()
        given = {f.name for f in fields(cfg) if getattr(cfg, f.name) != getattr(blank, f.name)}
    values = {k: v for k, v in preset_values(kind, chosen).items() if k not in given}
    return replace(cfg, preset=chosen, **values)
