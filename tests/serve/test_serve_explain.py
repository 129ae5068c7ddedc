"""seqlab.classify.explain: spans of the raw text, CNN max-pool winners checked on a hand-built
network, occlusion on a linear baseline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqlab.classify.data import clean_str
from seqlab.classify.estimators import PAD, UNK, CNNClassifier
from seqlab.classify.explain import cnn_ngram_weights, explain, token_spans
from seqlab.classify.run import TrainedClassifier
from seqlab.errors import SeqlabError
from seqlab.models.textcnn import TextCNN, TextCNNConfig
from seqlab.vocab import Vocab


def test_token_spans_find_kims_tokens_in_the_raw_text():
    text = "Don't (really) STOP, it's Great!"
    tokens = clean_str(text).split()  # do n't \( really \) stop , it 's great !
    spans = token_spans(text, tokens)
    assert None not in spans
    assert [text[a:b].lower() for a, b in spans] == [t.replace("\\", "") for t in tokens]
    assert token_spans("abc", ["zzz", "abc"]) == [None, (0, 3)]


def hand_built(conv: str = "wide") -> TrainedClassifier:
    """A CNN whose one width-2 filter fires on the bigram "not good" and pushes towards "bad";
    every other window gives nothing (one-hot embeddings, zero biases)."""
    words = ["not", "good", "film", "a"]
    vocab = Vocab.from_iterable(words, specials=[PAD, UNK], unk=UNK)
    V = len(vocab)
    kwargs = {"conv": conv} if "conv" in TextCNNConfig.__dataclass_fields__ else {}
    cfg = TextCNNConfig(V, 2, embedding_dim=V, filter_widths=(2,), num_filters=2, dropout=0.0, **kwargs)
    model = TextCNN(cfg, torch.eye(V))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.embedding.weight.copy_(torch.eye(V))
        model.embedding.weight[0] = 0
        w = model.convs[0].weight  # (maps, D, width)
        w[0, vocab.stoi["not"], 0] = 1.0  # filter 0: "not" then "good"
        w[0, vocab.stoi["good"], 1] = 1.0
        model.convs[0].bias[0] = -1.0  # fires only when both are there
        w[1, vocab.stoi["good"], 0] = 0.5  # filter 1: "good" alone, weakly
        model.fc.weight[0, 0], model.fc.weight[1, 0] = 2.0, -2.0  # filter 0 -> "bad" (class 0)
        model.fc.weight[1, 1], model.fc.weight[0, 1] = 1.0, -1.0  # filter 1 -> "good"
    model.eval()
    est = CNNClassifier(embedding_dim=V)
    est.vocab_, est.classes_, est.model_ = vocab, np.array([0, 1]), model
    return TrainedClassifier(est, ["bad", "good"], "kim")


@pytest.mark.parametrize("conv", ["wide", "narrow"])
def test_cnn_highlights_the_winning_ngram_with_its_margin(conv):
    if conv == "narrow" and "conv" not in TextCNNConfig.__dataclass_fields__:
        pytest.skip("this TextCNN has wide convolutions only")
    clf = hand_built(conv)
    text = "A film, NOT good"
    ex = explain(clf, text)
    assert ex.method == "max-pool" and ex.label == "bad"
    by_text = {h.text: h.weight for h in ex.highlights}
    # filter 0 wins on "NOT good" with h = 1: margin weight (2 - (-2)) * 1 = 4. Filter 1 needs "good"
    # first in its window: only the wide convolution has one ("good" + right padding), h = 0.5,
    # margin weight (-1 - 1) * 0.5 = -1; narrow windows never start at the last word.
    assert by_text == pytest.approx({"NOT good": 4.0, "good": -1.0} if conv == "wide" else {"NOT good": 4.0})
    assert sum(ex.probabilities.values()) == pytest.approx(1.0)


def test_hooked_maxima_are_the_pooled_features(registry):
    clf = registry.run("cnn", "sentence-classifier")
    ids = [clf.estimator.vocab_.stoi.get(t, 1) for t in "w1 great w2 w3 superb".split()]
    with torch.inference_mode():
        weights, pooled = cnn_ngram_weights(clf.estimator.model_, ids, 1)
        features = clf.estimator.model_.features(torch.tensor([ids]))[0]
    assert torch.equal(pooled, features)
    assert all(0 <= a < b <= len(ids) for a, b in weights)


def test_occlusion_and_empty_text(registry):
    clf = registry.run("nbsvm", "sentence-classifier")
    ex = explain(clf, "w5 superb w6")
    assert ex.method == "occlusion" and ex.label == "good"
    assert max(ex.highlights, key=lambda h: h.weight).text == "superb"
    one = explain(clf, "dull")  # one word: compared with a uniform guess
    assert one.highlights[0].weight == pytest.approx(one.probabilities["bad"] - 0.5)
    with pytest.raises(SeqlabError, match="no words left"):
        explain(clf, "§ ¤")
