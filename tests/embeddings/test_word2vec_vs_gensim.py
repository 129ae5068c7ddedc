"""word2vec against gensim on the same corpus and settings: a similarity-quality margin.

The corpus has a known geometry: 200 words on a circle; each sentence picks a point on it and draws
its words near that point, so the true similarity of two words is the cosine of their angle apart.
The score is the Spearman correlation between the vectors' cosine similarities and that truth, over
all word pairs (a WordSim353 whose answers are exact).
"""

import numpy as np
import pytest
from scipy.stats import spearmanr

from seqlab.embeddings.config import Word2VecConfig
from seqlab.embeddings.word2vec_train import train_word2vec


def circle_corpus(n_words=200, n_sentences=1000, length=10, kappa=4.0, seed=0):
    rng = np.random.default_rng(seed)
    theta = 2 * np.pi * np.arange(n_words) / n_words
    sentences = []
    for _ in range(n_sentences):
        p = np.exp(kappa * np.cos(theta - rng.uniform(0, 2 * np.pi)))  # von Mises around a point
        sentences.append([f"w{i}" for i in rng.choice(n_words, size=length, p=p / p.sum())])
    return sentences, theta


def similarity_score(vector_of, theta):
    n = len(theta)
    V = np.stack([vector_of(f"w{i}") for i in range(n)])
    V = V / np.linalg.norm(V, axis=1, keepdims=True)
    upper = np.triu_indices(n, 1)
    return spearmanr((V @ V.T)[upper], np.cos(theta[:, None] - theta[None, :])[upper]).correlation


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_similarity_quality_is_at_least_gensims(model):
    """Same corpus, dimensions, window, negatives, subsampling, epochs, one worker: seqlab scores
    within 0.02 of gensim or above (measured: skip-gram 0.986 vs 0.987, CBOW 0.984 vs 0.84-0.94 over
    seeds 1-3). Note: with 3 epochs instead of 10, seqlab's skip-gram lags (0.09 vs 0.52): its
    negatives and gradients are shared across a window from the old values (Ji et al. 2016), which
    starts slower while the output vectors are still near zero."""
    gensim_models = pytest.importorskip("gensim.models")
    sentences, theta = circle_corpus()
    settings = dict(
        vector_size=16, window=3, negative=5, sample=1e-3, min_count=1, epochs=10, workers=1, seed=1
    )
    kv, _ = train_word2vec(sentences, Word2VecConfig(model=model, **settings))
    g = gensim_models.Word2Vec(sentences, sg=int(model == "skipgram"), hs=0, ns_exponent=0.75, **settings)
    ours, theirs = similarity_score(lambda w: kv[w], theta), similarity_score(lambda w: g.wv[w], theta)
    assert ours > 0.95, (ours, theirs)
    assert ours >= theirs - 0.02, (ours, theirs)
