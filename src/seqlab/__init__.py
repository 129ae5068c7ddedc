"""seqlab: neural sequence models of text, from one lecture on recurrent networks.

The front door. One name per idea of the lecture, each imported on first use, so `import seqlab`
stays cheap (no torch, no matplotlib) and the word-embedding names work without torch:

    import seqlab
    w2v = seqlab.Word2Vec(corpus_file="corpus.txt", vector_size=100, sg=1)     # part 1: embeddings
    w2v.wv.most_similar(positive=["king", "woman"], negative=["man"])
    lm = seqlab.CharLM.train("input.txt", max_minutes=5)                         # part 2: RNNs
    print(lm.sample(length=200, temperature=0.8, prime="ROMEO:"))
    clf = seqlab.CNNClassifier().fit(texts, labels)                              # part 3: CNNs
    tr = seqlab.Translator.load("runs/fr-en")                                   # part 4: attention
    tr.translate("je suis tres fatigue .").attention

docs/api.md shows every name with a runnable example.
"""

from __future__ import annotations

import importlib

from seqlab.errors import SeqlabError

__version__ = "0.1.0"

# public name -> module that defines it (imported lazily by __getattr__)
_LAZY = {
    # part 1: word embeddings (no torch)
    "Word2Vec": "seqlab.embeddings.word2vec",
    "Doc2Vec": "seqlab.embeddings.doc2vec",
    "TaggedDocument": "seqlab.embeddings.doc2vec_corpus",
    "GloVe": "seqlab.embeddings.glove",
    "PPMI": "seqlab.embeddings.ppmi",
    "KeyedVectors": "seqlab.embeddings.keyedvectors",
    "load_vectors": "seqlab.embeddings.vector_sources",
    "evaluate_vectors": "seqlab.embeddings.benchmark",
    # data: where a named dataset lives ($SEQLAB_DATA, or ../shared/data beside the checkout)
    "dataset_path": "seqlab.datasets",
    # part 2: recurrent networks
    "CharLM": "seqlab.charlm.language_model",
    "generate_names": "seqlab.charlm.names",
    # part 3: relation to CNNs
    "load_dataset": "seqlab.classify.data",
    "CNNClassifier": "seqlab.classify.estimators",
    "RNNClassifier": "seqlab.classify.estimators",
    "NBSVMClassifier": "seqlab.classify.baselines",
    "MNBClassifier": "seqlab.classify.baselines",
    # part 4: attention
    "Translator": "seqlab.translate.translator",
}

__all__ = ["SeqlabError", "__version__", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'seqlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
