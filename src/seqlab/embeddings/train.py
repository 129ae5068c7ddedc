"""`train_vectors(corpus, config)`: train whichever method a config describes (the CLI's one call).

The config (seqlab.embeddings.config: `Word2VecConfig`, `GloveConfig`, `PPMIConfig`, or
`config_for(method, **options)`) picks the method; each method's functional layer does the work:
`word2vec_train.train_word2vec`, `glove.train_glove`, `ppmi.train_ppmi`; a `Doc2VecConfig` goes to
`train_doc2vec`, which returns the model (document and word vectors) instead.
"""

from __future__ import annotations

from seqlab.embeddings import glove, ppmi, word2vec_train
from seqlab.embeddings.config import Doc2VecConfig, GloveConfig, PPMIConfig, Word2VecConfig
from seqlab.errors import SeqlabError


def train_vectors(corpus, config: Word2VecConfig | GloveConfig | PPMIConfig, progress: bool | None = None):
    """Train the method `config` describes on `corpus` (a path or token lists); returns
    (KeyedVectors, stats). Every method's stats have words_per_sec, seconds, vocab_size and
    corpus_words; word2vec and GloVe add loss_per_epoch and final_loss."""
    if isinstance(config, Doc2VecConfig):
        model = train_doc2vec(corpus, config, progress)
        return model.wv, model.stats
    if isinstance(config, Word2VecConfig):
        return word2vec_train.train_word2vec(corpus, config, progress)
    if isinstance(config, GloveConfig):
        return glove.train_glove(corpus, config, progress)
    if isinstance(config, PPMIConfig):
        return ppmi.train_ppmi(corpus, config, progress)
    raise SeqlabError(f"not an embedding config: {type(config).__name__}")


def train_doc2vec(corpus, config: Doc2VecConfig, progress: bool | None = None):
    """A Doc2Vec trained on `corpus`: a path (one document per line, tagged by its line number)
    or an iterable of TaggedDocument. alpha None means gensim's 0.025 for both PV-DM and PV-DBOW."""
    import dataclasses
    import os

    from seqlab.embeddings.doc2vec import Doc2Vec

    config = dataclasses.replace(config, alpha=0.025 if config.alpha is None else config.alpha).validate()
    model = Doc2Vec(progress=progress)
    model.config = config
    is_file = isinstance(corpus, (str, os.PathLike))
    model._fit(model._documents(None if is_file else corpus, corpus if is_file else None))
    return model
