"""What `Word2Vec`, `GloVe` and `PPMI` share, in gensim's style: `EmbeddingModel`.

    model = seqlab.Word2Vec(corpus_file="corpus.txt.gz", vector_size=100, window=5, sg=1)
    model.wv.most_similar("king")          # a seqlab.KeyedVectors
    model.save("w2v.npz"); seqlab.Word2Vec.load("w2v.npz")

A model takes gensim's parameter names, turns them into its method's config dataclass
(seqlab.embeddings.config, where the values are validated), trains at construction when given a
corpus (as gensim does) and then holds `wv`, `config` and `stats` (the same keys as the CLI's
JSON line); hyper-parameters read and write as attributes (`model.window`, `model.sg`; a write
changes the config, checked when the model next trains). Each subclass only says how to fit
(`_fit`) and which arrays it saves besides the vectors. `load` is called on the class (as in
gensim, `model.load(...)` on an instance raises AttributeError: it would not change `model`).

Model files are one .npz archive, never a pickle (seqlab.embeddings.file_formats.write_model):
`meta` (class, config, stats, the words), `vectors` (V, D) float32, `counts` (V,) int64, and the
subclass's extra arrays (Word2Vec's output weights `syn1neg` and `syn1` (V, D), those it has)
and its `_state_attrs` (plain numbers such as Word2Vec's corpus_count). `save` writes it
atomically; `load` of a damaged or foreign file raises a one-line SeqlabError.
"""

from __future__ import annotations

import os
from dataclasses import asdict, fields

import numpy as np

from seqlab.embeddings.file_formats import read_model, write_model
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.errors import SeqlabError


class ModelStateError(SeqlabError, RuntimeError):
    """The model is not in a state for this call (no vocabulary yet, no output weights for a
    prediction). A RuntimeError too, as gensim raises for the same cases."""


class WrongModelFileError(SeqlabError, AttributeError):
    """A model file that holds another class's model (an AttributeError too, as gensim raises)."""


class _ClassOnly:
    """A classmethod that refuses to be called on an instance (gensim's `call_on_class_only`):
    `model.load(path)` returns a new model and leaves `model` as it was, a quiet mistake."""

    def __init__(self, fn):
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __get__(self, obj, cls):
        if obj is not None:
            raise AttributeError(f"load is called on the class: {cls.__name__}.load(path), not on a model")
        return self.fn.__get__(cls, cls)


def corpus_argument(sentences, corpus_file):
    """The one corpus among gensim's two arguments, or None when neither is given."""
    if sentences is not None and corpus_file is not None:
        raise SeqlabError("give sentences or corpus_file, not both")
    if isinstance(sentences, (str, bytes, os.PathLike)):
        raise SeqlabError("sentences must be an iterable of token lists; pass a file as corpus_file=")
    return corpus_file if corpus_file is not None else sentences


class EmbeddingModel:
    """The shared life of an embedding model: train once, read settings, save and load.

    Subclasses set `_config_cls` (their config dataclass), `_extra_arrays` (arrays saved besides
    vectors and counts, held as attributes of the same name), `_aliases` (gensim attribute name ->
    function of the config) and implement `_fit(corpus)`, which sets `wv` and `stats`.
    """

    _config_cls: type | None = None
    _extra_arrays: tuple[str, ...] = ()
    _state_attrs: tuple[str, ...] = ()
    _aliases: dict = {}

    def __init__(self, corpus, config, progress):
        self.config = config.validate()
        self.progress = progress
        self.wv: KeyedVectors | None = self.__dict__.get("wv")  # set once trained
        self.stats: dict = {}
        if corpus is not None:
            self._fit(corpus)

    def train(self, sentences=None, corpus_file=None):
        """Train on a corpus (a model made without one); returns self. A trained model refuses
        (seqlab does not continue training: build a new model instead)."""
        corpus = corpus_argument(sentences, corpus_file)
        if corpus is None:
            raise SeqlabError("train needs sentences or corpus_file")
        if self._trained():
            raise SeqlabError(
                f"this {type(self).__name__} is already trained; continued "
                "training is not supported, build a new model"
            )
        self._fit(corpus)
        return self

    def _fit(self, corpus) -> None:
        raise NotImplementedError

    def __getattr__(self, name: str):
        # gensim reads hyper-parameters as attributes (model.window, model.sg, ...)
        if name in type(self)._aliases:
            return type(self)._aliases[name](self.config)
        config = self.__dict__.get("config")
        if config is not None and name in {f.name for f in fields(config)}:
            return getattr(config, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value) -> None:
        # a hyper-parameter written as an attribute changes the config (model.alpha = 0.01)
        config = self.__dict__.get("config")
        if config is not None and name in {f.name for f in fields(config)}:
            setattr(config, name, value)
        else:
            object.__setattr__(self, name, value)

    def _trained(self) -> bool:
        return self.wv is not None and len(self.wv) > 0

    def __repr__(self) -> str:
        state = f"{len(self.wv)} words" if self._trained() else "untrained"
        return f"{type(self).__name__}({state}, vector_size={self.config.vector_size})"

    # ---- files ----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the model to one .npz file at `path` (any name), atomically: seqlab's own format
        (JSON settings + plain arrays), never a pickle, so loading it runs no code."""
        if not self._trained():
            raise SeqlabError(f"nothing to save: this {type(self).__name__} is not trained")
        meta = {
            "model": type(self).__name__,
            "config": asdict(self.config),
            "stats": self.stats,
            "words": list(self.wv.index_to_key),
            "state": {k: getattr(self, k, None) for k in self._state_attrs},
        }
        counts = self.wv.expandos.get("count", np.zeros(len(self.wv), dtype=np.int64))
        arrays = {
            "vectors": np.asarray(self.wv.vectors, dtype=np.float32),
            "counts": np.asarray(counts, dtype=np.int64),
        }
        arrays.update({k: getattr(self, k) for k in self._extra_arrays if getattr(self, k, None) is not None})
        self._save_more(meta, arrays)
        write_model(path, meta, arrays)

    def _save_more(self, meta: dict, arrays: dict) -> None:
        """What a subclass saves besides (Doc2Vec: its document vectors)."""

    def _load_more(self, meta: dict, arrays: dict) -> None:
        """Read back what `_save_more` wrote (KeyError/TypeError/ValueError: a damaged file)."""

    @_ClassOnly
    def load(cls, path: str | os.PathLike):
        """A model written by `save` (call it on the class); SeqlabError (one line) for a damaged
        or foreign file. The file holds JSON and plain arrays only (no pickle is ever read)."""
        p, meta, arrays = read_model(path)
        if meta.get("model") != cls.__name__:
            raise WrongModelFileError(
                f"{p}: holds a {meta.get('model')} model, not {cls.__name__}; "
                f"load it with seqlab.{meta.get('model')}.load"
            )
        try:
            config = cls._config_cls(**meta["config"])
            words, vectors, counts = meta["words"], arrays["vectors"], arrays["counts"]
            extras = {k: arrays.get(k) for k in cls._extra_arrays}
            if cls._extra_arrays and all(a is None for a in extras.values()):
                raise KeyError(cls._extra_arrays[0])
        except (KeyError, TypeError) as e:
            raise SeqlabError(f"{p}: damaged model file (missing or unknown {_one_line(e)})") from None
        for name, a in extras.items():
            if a is not None and (a.ndim != 2 or a.shape[0] != vectors.shape[0]):
                raise SeqlabError(
                    f"{p}: damaged model file ({name} has shape {a.shape}, vectors {vectors.shape})"
                )
        model = cls.__new__(cls)
        model.config, model.progress, model.stats = config, None, meta.get("stats", {})
        model.wv = KeyedVectors.from_arrays(words, vectors, counts=counts)
        model.__dict__.update(extras)
        model.__dict__.update({k: meta.get("state", {}).get(k) for k in cls._state_attrs})
        try:
            model._load_more(meta, arrays)
        except (KeyError, TypeError, ValueError) as e:
            raise SeqlabError(f"{p}: damaged model file ({_one_line(e)})") from None
        return model


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
