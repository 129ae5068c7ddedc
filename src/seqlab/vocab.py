"""Vocab: tokens <-> ids with special tokens at fixed ids and a deterministic order.

Order: specials first (in the order given), then tokens by descending count, ties alphabetical,
so the same corpus always gives the same ids. Serialises to a plain dict for checkpoints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from seqlab.errors import SeqlabError


class Vocab:
    """A fixed token list; `unk` (if given) is where unknown tokens go, otherwise they raise."""

    def __init__(self, tokens: Sequence[str], specials: Sequence[str] = (), unk: str | None = None):
        self.specials = list(specials)
        self.itos: list[str] = list(self.specials) + [t for t in tokens if t not in set(self.specials)]
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("duplicate tokens in vocabulary")
        if unk is not None and unk not in self.stoi:
            raise ValueError(f"unk token {unk!r} must be one of the specials")
        self.unk = unk

    @classmethod
    def from_counts(
        cls,
        counts: Counter | dict,
        specials: Sequence[str] = (),
        unk: str | None = None,
        min_count: int = 1,
        max_size: int | None = None,
    ) -> Vocab:
        items = sorted(((t, c) for t, c in counts.items() if c >= min_count), key=lambda tc: (-tc[1], tc[0]))
        if max_size is not None:
            items = items[: max(0, max_size - len(specials))]
        return cls([t for t, _ in items], specials, unk)

    @classmethod
    def from_iterable(cls, tokens: Iterable[str], **kw) -> Vocab:
        return cls.from_counts(Counter(tokens), **kw)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def index(self, token: str) -> int:
        i = self.stoi.get(token)
        if i is None:
            if self.unk is None:
                raise SeqlabError(f"unknown token {token!r} (not in the vocabulary)")
            return self.stoi[self.unk]
        return i

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return [self.index(t) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.itos[int(i)] for i in ids]

    def to_dict(self) -> dict:
        return {"itos": list(self.itos), "specials": list(self.specials), "unk": self.unk}

    @classmethod
    def from_dict(cls, d: dict) -> Vocab:
        specials = list(d.get("specials", []))
        return cls(list(d["itos"])[len(specials) :], specials, d.get("unk"))
