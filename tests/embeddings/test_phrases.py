"""word2phrase phrase detection against a brute-force count of the score."""

from collections import Counter

import numpy as np
import pytest

from seqlab.embeddings.phrases import Phrases
from seqlab.errors import SeqlabError


def corpus(seed=0, n=500):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(30)]
    out = []
    for _ in range(n):
        s = list(rng.choice(words, size=10))
        if rng.random() < 0.6:
            s[2:4] = ["new", "york"]
        if rng.random() < 0.6:
            s[6:8] = ["city", "hall"]
        out.append(s)
    return out


def brute_force_scores(sents, delta):
    uni = Counter(w for s in sents for w in s)
    bi = Counter(p for s in sents for p in zip(s, s[1:]))
    n = sum(uni.values())
    return {
        (a, b): ((c - delta) / (uni[a] * uni[b]) * n if uni[a] >= delta and uni[b] >= delta else 0.0)
        for (a, b), c in bi.items()
    }


def test_scores_and_choices_match_brute_force():
    sents = corpus()
    ph = Phrases(threshold=5.0, min_count=5).fit(sents)
    want = brute_force_scores(sents, 5)
    chosen = {k: v for k, v in want.items() if v > 5.0}
    assert set(ph.layers_[0]) == set(chosen)
    for k, v in chosen.items():
        assert ph.layers_[0][k] == pytest.approx(v)
    assert {"new_york", "city_hall"} <= set(ph.phrases_)
    assert ph.total_words_ == [5000]


def test_join_is_greedy_left_to_right_without_overlap():
    ph = Phrases()
    ph.layers_ = [{("a", "b"): 200.0, ("b", "c"): 300.0}]
    assert ph.transform(["a", "b", "c", "b", "c"]) == ["a_b", "c", "b_c"]
    assert ph.transform(["x"]) == ["x"] and ph.transform([]) == []


def test_two_passes_build_longer_phrases_and_threshold_matters():
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(50)]
    sents = []
    for _ in range(600):
        s = list(rng.choice(words, size=12))
        s[4:8] = ["new", "york", "city", "hall"]
        sents.append(s)
    one = Phrases(passes=1, threshold=5.0).fit(sents)
    two = Phrases(passes=2, threshold=5.0).fit(lambda: iter(sents))  # a factory of streams works
    assert "new_york" in one.transform(sents[0]) and "city_hall" in one.transform(sents[0])
    assert "new_york_city_hall" in two.transform(sents[0])
    none = Phrases(threshold=1e9).fit(sents)
    assert none.transform(sents[0]) == sents[0]
    joined = list(two.transform_stream(sents[:3]))
    assert all(len(j) == 9 for j in joined)


def test_errors():
    with pytest.raises(SeqlabError, match="empty"):
        Phrases().fit([])
    with pytest.raises(SeqlabError, match="fit"):
        Phrases().transform(["a"])
    with pytest.raises(SeqlabError, match="lists of tokens"):
        Phrases().fit(["new york"])
    with pytest.raises(SeqlabError):
        Phrases(passes=0).fit([["a"]])
