"""Names conditioned on a language look like that language, by an independent judge: character-bigram
models (add-one smoothing, written here) fitted on each language's list of surnames.

A small conditioned LSTM is trained on the 18 bundled languages exactly as `seqlab names --language`
builds its data (one network, the language as a category), with a step budget so the test repeats
on any machine; names are drawn through `NamesModel.generate`, the code `generate_names` runs. The
default model (2x512, a time budget of 2 minutes) is too slow for the suite; the cache path of
`generate_names` is checked separately with a budget of about a second.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
import torch

from seqlab import datasets
from seqlab.charlm import corpus as lmcorpus
from seqlab.charlm.config import LMTrainConfig
from seqlab.charlm.language_model import CharLM
from seqlab.charlm.names import NamesModel, generate_names
from seqlab.charlm.train import train_lm

N_NAMES = 200


def read_list(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


class Bigram:
    """P(b | a) = (count(a, b) + 1) / (count(a) + V) over ^name$; V: the shared alphabet with '$'."""

    def __init__(self, names: list[str], alphabet_size: int):
        self.pairs, self.context, self.V = Counter(), Counter(), alphabet_size
        for name in names:
            s = "^" + name + "$"
            for a, b in zip(s, s[1:]):
                self.pairs[a, b] += 1
                self.context[a] += 1

    def mean_log_likelihood(self, names: list[str]) -> float:
        """Mean over the names of log P(name$) / (len(name) + 1): nats per predicted character."""
        per_name = []
        for name in names:
            s = "^" + name + "$"
            ll = sum(math.log((self.pairs[a, b] + 1) / (self.context[a] + self.V)) for a, b in zip(s, s[1:]))
            per_name.append(ll / (len(s) - 1))
        return sum(per_name) / len(per_name)


@pytest.fixture(scope="module")
def surnames() -> dict[str, list[str]]:
    files = datasets.language_files()
    assert len(files) == 18 and {"Japanese", "Russian"} <= set(files)
    return {lang: read_list(path) for lang, path in files.items()}


@pytest.fixture(scope="module")
def judges(surnames) -> dict[str, Bigram]:
    alphabet = set("".join(n for names in surnames.values() for n in names)) | {"$"}
    return {lang: Bigram(names, len(alphabet)) for lang, names in surnames.items()}


@pytest.fixture(scope="module")
def conditioned_run(tmp_path_factory, surnames) -> Path:
    """One LSTM conditioned on the language, as names.py trains it (same data, split and seed for
    the split), at a small size and a fixed step budget: about 5 s on one core."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        lines, cats, cat_names = lmcorpus.categorised_lines(datasets.language_files())
        corpus = lmcorpus.lines_corpus(lines, 0.05, 1337, cats, cat_names)
        cfg = LMTrainConfig(
            mode="lines",
            layers=1,
            hidden=64,
            embed=16,
            dropout=0.0,
            batch_size=64,
            lr=1e-2,
            warmup_steps=20,
            max_steps=1000,
            eval_every=500,
            patience=100,
            precision="fp32",
            seed=0,
        )
        run = tmp_path_factory.mktemp("names_lang") / "run"
        train_lm(corpus, cfg, run, show_progress=False)
    finally:
        torch.set_num_threads(old)
    return run


def draw(run: Path, language: str, surnames: dict) -> list[str]:
    model = NamesModel(CharLM.load(run), frozenset(surnames[language]), language, run)
    return model.generate(N_NAMES, seed=0)


def test_names_drawn_for_a_language_look_like_that_language(conditioned_run, surnames, judges):
    japanese = draw(conditioned_run, "Japanese", surnames)
    russian = draw(conditioned_run, "Russian", surnames)
    assert len(japanese) == len(russian) == N_NAMES
    assert not set(japanese) & set(surnames["Japanese"])  # new names (allow_known=False)
    assert len(set(japanese) & set(russian)) < N_NAMES // 10  # two different distributions

    jj, jr = judges["Japanese"].mean_log_likelihood(japanese), judges["Russian"].mean_log_likelihood(japanese)
    rj, rr = judges["Japanese"].mean_log_likelihood(russian), judges["Russian"].mean_log_likelihood(russian)
    assert jj > jr, f"names for Japanese: {jj:.3f} nats/char under Japanese bigrams, {jr:.3f} under Russian"
    assert rr > rj, f"names for Russian: {rr:.3f} nats/char under Russian bigrams, {rj:.3f} under Japanese"

    # Of all 18 languages, each set is likeliest under its own language's bigrams (a model that
    # drew from the mixture, or from the wrong category, would pick another language).
    for language, names in (("Japanese", japanese), ("Russian", russian)):
        scores = {lang: judge.mean_log_likelihood(names) for lang, judge in judges.items()}
        best = max(scores, key=scores.get)
        assert best == language, f"names for {language} look most like {best}: " + ", ".join(
            f"{lang} {s:.3f}" for lang, s in sorted(scores.items(), key=lambda kv: -kv[1])[:4]
        )


def test_generate_names_keeps_its_model_in_the_cache_it_is_given(tmp_path, monkeypatch, surnames):
    """generate_names(..., cache_dir=D) trains into D and nowhere else (not $SEQLAB_CACHE, not the
    user's ~/.cache/seqlab); every language then reuses that one conditioned model, found through
    cache_dir or $SEQLAB_CACHE, without training again."""
    user_cache = Path.home() / ".cache" / "seqlab"
    before = sorted(p.name for p in user_cache.iterdir()) if user_cache.is_dir() else None
    env_cache = tmp_path / "env_cache"
    monkeypatch.setenv("SEQLAB_CACHE", str(env_cache))
    mine = tmp_path / "mine"

    names = generate_names(3, language="Japanese", seed=0, train_minutes=0.02, cache_dir=mine)
    assert len(names) == 3
    entries = [p for p in mine.iterdir()]
    assert [p.name[:6] for p in entries] == ["names-"] and (entries[0] / "model.pt").is_file()
    assert not env_cache.exists()
    assert (sorted(p.name for p in user_cache.iterdir()) if user_cache.is_dir() else None) == before

    trained = []  # the same budget finds the same entry (the budget is part of the cache key)
    russian = NamesModel.load_or_train("Russian", train_minutes=0.02, cache_dir=mine, on_train=trained.append)
    monkeypatch.setenv("SEQLAB_CACHE", str(mine))
    korean = NamesModel.load_or_train(
        "korean", train_minutes=0.02, on_train=trained.append
    )  # via $SEQLAB_CACHE
    assert trained == []
    assert russian.run_dir == korean.run_dir == entries[0]
    assert (russian.category, korean.category) == ("Russian", "Korean")
    assert russian.known == frozenset(surnames["Russian"]) and korean.known == frozenset(surnames["Korean"])
