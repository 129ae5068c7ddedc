"""Why a trained classifier chose its label: the spans of the user's own text that drove it.

    clf = TrainedClassifier.load("runs/mr")
    ex = explain(clf, "What a gorgeous, witty film!")
    ex.label, ex.probabilities         # "positive", {"negative": 0.08, "positive": 0.92}
    ex.highlights                      # [Highlight(start=7, end=21, weight=1.9, text="gorgeous, witty"), ...]

Two explanations, chosen by the model:

- Kim's CNN ("max-pool"): every filter keeps one window of the sentence, the n-gram where its
  ReLU output was largest (the max over time). A kept n-gram's weight is what its winning
  filters add to the predicted class's logit minus the mean logit of the other classes:
  sum over those filters j of (W[c, j] - mean_{c' != c} W[c', j]) * h_j, with h the max-pooled
  features (dropout is off at inference). The weights of all n-grams plus the output bias give
  exactly that margin, so positive weights argue for the label and negative ones against it.
- Every other model (RNNs, the CNN-RNN hybrid, NBSVM, MNB) ("occlusion"): one span per word,
  weighted by the drop in the predicted class's probability when that word alone is removed
  (Zeiler & Fergus 2014's occlusion, on words). Positive: the word supported the label.

Spans are character offsets into the text as given (before Kim's cleaning lowercased and split
it), so a page can mark them in place. Padding windows are clipped to the real words.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from seqlab.errors import SeqlabError

MAX_HIGHLIGHTS = 8  # the strongest spans (by |weight|) a result keeps by default
_HOOKS = threading.Lock()  # held while forward hooks are registered on a model


@dataclass
class Highlight:
    """Characters [start, end) of the raw text, and their weight for the predicted label."""

    start: int
    end: int
    weight: float
    text: str


@dataclass
class Explanation:
    label: str
    probabilities: dict[str, float]
    highlights: list[Highlight] = field(default_factory=list)
    method: str = "occlusion"  # "max-pool" (CNN) or "occlusion"


def token_spans(text: str, tokens: list[str]) -> list[tuple[int, int] | None]:
    """Character span of each cleaned token in the raw `text`, matched left to right without case;
    Kim's cleaning writes "(" as the token "\\(" and splits clitics ("don't" -> "do n't"), so each
    token is a substring of the text once its backslash is dropped. None where a token is not found."""
    low = text.lower()
    spans: list[tuple[int, int] | None] = []
    pos = 0
    for tok in tokens:
        needle = tok.replace("\\", "").lower()
        i = low.find(needle, pos) if needle else -1
        if i < 0:
            spans.append(None)
            continue
        spans.append((i, i + len(needle)))
        pos = i + len(needle)
    return spans


def cnn_ngram_weights(
    model, ids: list[int], target: int
) -> tuple[dict[tuple[int, int], float], torch.Tensor]:
    """{(first token, last token + 1): weight} of the n-grams that won a max-pool for class
    `target`, and the (F,) pooled features. The convolutions' own outputs are caught by forward
    hooks while TextCNN.features runs, so the windows are the model's (a test checks that their
    maxima are the pooled features); a window's first token is its index less the zeros padded
    on the left (width - 1 for wide convolutions, none for narrow ones)."""
    cfg = model.config
    wide = getattr(cfg, "conv", "wide") == "wide"
    outputs: list[torch.Tensor] = []
    # a hook sees every forward pass of the model, so two explanations on two threads (the web
    # page's pool) would catch each other's windows: one at a time while the hooks are on
    with _HOOKS:
        hooks = [
            conv.register_forward_hook(lambda mod, inp, out: outputs.append(out)) for conv in model.convs
        ]
        try:
            pooled = model.features(torch.tensor([ids]))[0]  # (F,)
        finally:
            for h in hooks:
                h.remove()
    W = model.fc.weight  # (C, F)
    others = (
        torch.cat([W[:target], W[target + 1 :]]).mean(dim=0) if W.shape[0] > 1 else torch.zeros_like(W[0])
    )
    margin_w = W[target] - others  # (F,)
    T = len(ids)
    weights: dict[tuple[int, int], float] = {}
    offset = 0
    for conv, out in zip(model.convs, outputs):
        width = conv.kernel_size[0]
        left = width - 1 if wide else 0
        h = F.relu(out[0])  # (maps, windows)
        h[:, max(0, T + width - 1 if wide else T - width + 1) :] = 0.0  # windows past the sentence
        val, where = h.max(dim=1)  # (maps,), (maps,)
        for j in range(h.shape[0]):
            contribution = float(margin_w[offset + j] * val[j])
            start = int(where[j]) - left  # window -> first token
            span = (max(0, start), min(T, start + width))
            if contribution != 0.0 and span[0] < span[1]:
                weights[span] = weights.get(span, 0.0) + contribution
        offset += h.shape[0]
    return weights, pooled


def explain(clf, text: str, top: int = MAX_HIGHLIGHTS) -> Explanation:
    """Label, probabilities and the `top` strongest spans of `text` for a TrainedClassifier."""
    from seqlab.classify.estimators import CNNClassifier

    tokens = clf.clean(text).split()
    if not tokens:
        raise SeqlabError("no words left in the text after cleaning; type a sentence")
    est = clf.estimator
    cleaned = " ".join(tokens)
    probs = np.asarray(est.predict_proba([cleaned])[0], dtype=np.float64)  # (C,)
    target = int(probs.argmax())
    spans = token_spans(text, tokens)
    if isinstance(est, CNNClassifier):
        stoi, unk = est.vocab_.stoi, est.vocab_.stoi["<unk>"]
        with torch.inference_mode():
            weights, _ = cnn_ngram_weights(est.model_, [stoi.get(t, unk) for t in tokens], target)
        method = "max-pool"
    else:
        dropped = [" ".join(tokens[:i] + tokens[i + 1 :]) for i in range(len(tokens))]
        # one word alone: nothing is left to classify without it, so compare with a uniform guess
        p = (
            np.asarray(est.predict_proba(dropped), dtype=np.float64)[:, target]
            if len(tokens) > 1
            else np.full(1, 1.0 / len(probs))
        )
        weights = {(i, i + 1): float(probs[target] - p[i]) for i in range(len(tokens))}
        method = "occlusion"
    highlights = []
    for (a, b), w in weights.items():
        covered = [s for s in spans[a:b] if s is not None]
        if not covered or not np.isfinite(w) or w == 0.0:
            continue
        start, end = covered[0][0], covered[-1][1]
        highlights.append(Highlight(start, end, float(w), text[start:end]))
    highlights = sorted(highlights, key=lambda h: -abs(h.weight))[:top]
    highlights.sort(key=lambda h: (h.start, h.end))
    return Explanation(
        clf.labels[target], {lab: float(q) for lab, q in zip(clf.labels, probs)}, highlights, method
    )
