"""The embeddings wing's front door: `Word2Vec`, `GloVe` and `PPMI` in gensim's style.

    model = seqlab.Word2Vec(corpus_file="corpus.txt.gz", vector_size=100, window=5, sg=1)
    model.wv.most_similar("king")          # a seqlab.KeyedVectors
    model.save("w2v.npz"); seqlab.Word2Vec.load("w2v.npz")

Each class takes gensim's parameter names, turns them into its method's config dataclass
(seqlab.embeddings.config, where the values are validated), trains at construction when given a
corpus (as gensim does) and then holds `wv`, `config` and `stats` (the same keys as the CLI's
JSON line). The training itself is the functional layer: seqlab.embeddings.word2vec, glove and
counts; `train_vectors(corpus, config)` runs whichever method a config describes (the CLI's call).

Model files are one .npz archive, never a pickle: `meta` (UTF-8 JSON: format name and version,
class, config, stats, the words), `vectors` (V, D) float32, `counts` (V,) int64, and for Word2Vec
the output weights `syn1neg` (V, D). `save` writes it atomically (temp file, then rename);
`load` of a damaged or foreign file raises a one-line SeqlabError.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, fields

import numpy as np

from seqlab.embeddings.config import GloveConfig, PPMIConfig, Word2VecConfig
from seqlab.embeddings.corpus import keyed_vectors
from seqlab.errors import SeqlabError
from seqlab.files import atomic_path, check_readable

FORMAT = "seqlab-embedding-model"
FORMAT_VERSION = 1


def train_vectors(corpus, config: Word2VecConfig | GloveConfig | PPMIConfig,
                  progress: bool | None = None):
    """Train the method `config` describes on `corpus` (a path or token lists); returns
    (KeyedVectors, stats). Every method's stats have words_per_sec, seconds, vocab_size and
    corpus_words; word2vec and GloVe add loss_per_epoch and final_loss."""
    from seqlab.embeddings import counts, glove, word2vec

    if isinstance(config, Word2VecConfig):
        return word2vec.train_word2vec(corpus, config, progress)
    if isinstance(config, GloveConfig):
        return glove.train_glove(corpus, config, progress)
    if isinstance(config, PPMIConfig):
        return counts.train_ppmi(corpus, config, progress)
    raise SeqlabError(f"not an embedding config: {type(config).__name__}")


def _corpus(sentences, corpus_file):
    """The one corpus among gensim's two arguments, or None when neither is given."""
    if sentences is not None and corpus_file is not None:
        raise SeqlabError("give sentences or corpus_file, not both")
    if isinstance(sentences, (str, bytes, os.PathLike)):
        raise SeqlabError("sentences must be an iterable of token lists; pass a file as "
                          "corpus_file=")
    return corpus_file if corpus_file is not None else sentences


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


class _Model:
    """What the three trainers share: training once, attribute names, saving and loading."""

    _config_cls: type = Word2VecConfig
    _extra_arrays: tuple[str, ...] = ()  # arrays saved besides vectors and counts
    _aliases: dict = {}  # gensim attribute name -> function of the config

    def __init__(self, corpus, config, progress):
        config.validate()
        self.config = config
        self.progress = progress
        self.wv = None  # a KeyedVectors once trained
        self.stats: dict = {}
        if corpus is not None:
            self._fit(corpus)

    def train(self, sentences=None, corpus_file=None):
        """Train on a corpus (a model made without one); returns self. A trained model refuses
        (seqlab does not continue training: build a new model instead)."""
        corpus = _corpus(sentences, corpus_file)
        if corpus is None:
            raise SeqlabError("train needs sentences or corpus_file")
        if self.wv is not None:
            raise SeqlabError(f"this {type(self).__name__} is already trained; continued "
                              "training is not supported, build a new model")
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

    def __repr__(self) -> str:
        state = f"{len(self.wv)} words" if self.wv is not None else "untrained"
        return f"{type(self).__name__}({state}, vector_size={self.config.vector_size})"

    # ---- files ----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the model to one .npz file at `path` (any name), atomically."""
        if self.wv is None:
            raise SeqlabError(f"nothing to save: this {type(self).__name__} is not trained")
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "model": type(self).__name__,
                "config": asdict(self.config), "stats": self.stats,
                "words": list(self.wv.index_to_key)}
        blob = np.frombuffer(json.dumps(meta, default=_jsonable).encode("utf-8"), dtype=np.uint8)
        counts = self.wv.expandos.get("count", np.zeros(len(self.wv), dtype=np.int64))
        arrays = {"meta": blob, "vectors": np.asarray(self.wv.vectors, dtype=np.float32),
                  "counts": np.asarray(counts, dtype=np.int64)}
        arrays.update({k: getattr(self, k) for k in self._extra_arrays})
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike):
        """A model written by `save`; SeqlabError (one line) for a damaged or foreign file."""
        p = check_readable(path)
        try:
            with np.load(p, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
        except Exception as e:  # zip, npy, JSON and key errors all mean: not our file
            raise SeqlabError(f"{p}: not a seqlab model file ({_one_line(e)})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise SeqlabError(f"{p}: not a seqlab model file (no {FORMAT!r} header)")
        if meta.get("version") != FORMAT_VERSION:
            raise SeqlabError(f"{p}: model file version {meta.get('version')!r}; this seqlab "
                              f"reads version {FORMAT_VERSION}")
        if meta.get("model") != cls.__name__:
            raise SeqlabError(f"{p}: holds a {meta.get('model')} model, not {cls.__name__}; "
                              f"load it with seqlab.{meta.get('model')}.load")
        try:
            config = cls._config_cls(**meta["config"])
            words, vectors, counts = meta["words"], arrays["vectors"], arrays["counts"]
            extras = {k: arrays[k] for k in cls._extra_arrays}
        except (KeyError, TypeError) as e:
            raise SeqlabError(f"{p}: damaged model file (missing or unknown {_one_line(e)})") from None
        for name, a in extras.items():
            if a.shape != vectors.shape:
                raise SeqlabError(f"{p}: damaged model file ({name} has shape {a.shape}, "
                                  f"vectors {vectors.shape})")
        model = cls.__new__(cls)
        model.config, model.progress, model.stats = config, None, meta.get("stats", {})
        model.wv = keyed_vectors(words, vectors, counts)
        model.__dict__.update(extras)
        return model


def _jsonable(x):
    try:
        return x.item()  # numpy scalars
    except AttributeError:
        return str(x)


class Word2Vec(_Model):
    """word2vec (Mikolov et al. 2013): skip-gram or CBOW with negative sampling, gensim's API.

    Trains at construction when given `sentences` or `corpus_file`; otherwise call `train`.

    Args:
        sentences: an iterable of token lists (a list, or any re-iterable; a one-shot iterator
            works unless phrases > 0 needs several passes).
        corpus_file: a path instead (plain or gzip UTF-8 text, whitespace tokens, one sentence
            per line, streamed; windows never cross line ends).
        vector_size: dimensions of the vectors (50-300 typical).
        window: maximum distance between a word and a context word (2-10); each position draws
            its window from 1..window, so nearer words count more.
        min_count: ignore words seen fewer times (1 for toy corpora, 5-100 for real ones).
        sg: 1 skip-gram (predict the context from the word; better for rare words), 0 CBOW
            (predict the word from the mean of its context; several times faster).
        negative: noise words per positive pair (5-20 for small corpora, 2-5 for large ones).
        sample: subsampling threshold: a word that makes up a fraction z of the corpus is kept
            with probability (sqrt(z/sample) + 1) * sample / z (1e-3 to 1e-5; 0 keeps every word).
        epochs: passes over the corpus (5 typical; more for small corpora).
        workers: training threads (0 = all cores). With 1 worker and a seed, a run repeats bit
            for bit; with more, Hogwild updates race and vectors differ slightly between runs.
        seed: seeds the initial vectors and every random draw.
        alpha, min_alpha: the learning rate falls linearly from alpha to min_alpha over all
            epochs (alpha None: 0.025 for skip-gram, 0.05 for CBOW).
        ns_exponent: noise words are drawn with P(w) ∝ count(w)^ns_exponent (0.75; 0 uniform).
        max_final_vocab: keep only the N most frequent words (None: no cap).
        phrases: passes of phrase detection first (1 joins "new york" into new_york, 2 finds up
            to 4-word phrases); phrase_threshold and phrase_min_count as in word2phrase.
        corpus_storage: "auto" (the encoded corpus in memory up to 67M tokens, on disk beyond),
            "memory" or "disk" (a memory-mapped temporary file in tmp_dir: peak memory stays at
            the vocabulary plus one chunk whatever the corpus size). Same vectors either way.
        sync: how threads share the vectors: "hogwild" (one copy, no locks, as gensim),
            "replicas" (a copy per thread, merged every 50,000 words: steady speed, bit-for-bit
            repeatable with any workers) or "auto" (replicas while the copies fit in 1 GiB).
        progress: progress bars on stderr (None: only when stderr is a terminal).

    After training: `wv` (KeyedVectors), `syn1neg` (output vectors, (V, D)), `stats` (dict),
    `config` (Word2VecConfig); hyper-parameters read as attributes (`model.window`, `model.sg`).
    """

    _config_cls = Word2VecConfig
    _extra_arrays = ("syn1neg",)
    _aliases = {"sg": lambda c: int(c.model == "skipgram"), "max_final_vocab": lambda c: c.max_vocab}

    def __init__(self, sentences=None, corpus_file=None, vector_size: int = 100, window: int = 5,
                 min_count: int = 5, sg: int = 1, negative: int = 5, sample: float = 1e-3,
                 epochs: int = 5, workers: int = 0, seed: int = 1, *,
                 alpha: float | None = None, min_alpha: float = 1e-4,
                 ns_exponent: float = 0.75, max_final_vocab: int | None = None,
                 phrases: int = 0, phrase_threshold: float = 100.0, phrase_min_count: int = 5,
                 cbow_shared_negatives: int = 1, corpus_storage: str = "auto",
                 tmp_dir: str | None = None, sync: str = "auto", progress: bool | None = None):
        if sg not in (0, 1):
            raise SeqlabError(f"sg must be 1 (skip-gram) or 0 (CBOW), got {sg!r}")
        config = Word2VecConfig(
            model="skipgram" if sg else "cbow", vector_size=vector_size, window=window,
            negative=negative, ns_exponent=ns_exponent, sample=sample, min_count=min_count,
            max_vocab=max_final_vocab, epochs=epochs, alpha=alpha, min_alpha=min_alpha,
            workers=workers, phrases=phrases, phrase_threshold=phrase_threshold,
            phrase_min_count=phrase_min_count, seed=seed,
            cbow_shared_negatives=cbow_shared_negatives, corpus_storage=corpus_storage,
            tmp_dir=tmp_dir, sync=sync)
        self.syn1neg = None
        super().__init__(_corpus(sentences, corpus_file), config, progress)

    def _fit(self, corpus) -> None:
        from seqlab.embeddings.word2vec import fit_word2vec

        vocab, syn0, syn1, stats = fit_word2vec(corpus, self.config, self.progress)
        self.wv, self.syn1neg, self.stats = vocab.keyed_vectors(syn0), syn1, stats


class GloVe(_Model):
    """GloVe (Pennington et al. 2014): weighted least squares on log co-occurrence counts.

    Args:
        sentences / corpus_file: the corpus, as for Word2Vec.
        vector_size: dimensions (50-300).
        window: context words on each side (10, the paper's); a neighbour at distance d counts 1/d.
        min_count: ignore words seen fewer times. max_final_vocab: keep only the N most frequent.
        epochs: AdaGrad passes over the nonzero co-occurrences (the paper: 50 below 300
            dimensions, 100 above; 10-25 already give usable vectors on small corpora).
        workers: threads (0 = all cores; 1 repeats bit for bit with a seed).
        seed: initialisation and shuffling.
        x_max, alpha: the weight f(x) = min(1, (x / x_max)^alpha) of a count x (100 and 0.75;
            x_max 10 suits corpora of a few million words).
        learning_rate: AdaGrad's initial step (0.05; lower it if the loss is not finite).
        progress: progress bars on stderr (None: only on a terminal).

    After training: `wv` (the paper's w + w~), `stats` (loss_per_epoch, final_loss, ...), `config`.
    """

    _config_cls = GloveConfig
    _aliases = {"max_final_vocab": lambda c: c.max_vocab}

    def __init__(self, sentences=None, corpus_file=None, vector_size: int = 100, window: int = 10,
                 min_count: int = 5, epochs: int = 50, workers: int = 1, seed: int = 1, *,
                 x_max: float = 100.0, alpha: float = 0.75, learning_rate: float = 0.05,
                 max_final_vocab: int | None = None, progress: bool | None = None):
        config = GloveConfig(vector_size=vector_size, window=window, min_count=min_count,
                             max_vocab=max_final_vocab, x_max=x_max, alpha=alpha,
                             learning_rate=learning_rate, epochs=epochs, workers=workers,
                             seed=seed)
        super().__init__(_corpus(sentences, corpus_file), config, progress)

    def _fit(self, corpus) -> None:
        from seqlab.embeddings.glove import train_glove

        self.wv, self.stats = train_glove(corpus, self.config, self.progress)


class PPMI(_Model):
    """PPMI-SVD vectors (Levy, Goldberg & Dagan 2015): the truncated SVD of the positive PMI
    matrix of word-context counts, W = U S^eig.

    Args:
        sentences / corpus_file: the corpus, as for Word2Vec.
        vector_size: number of singular vectors kept (50-500).
        window: context words on each side (2-10; small windows favour syntactic similarity).
        min_count: ignore words seen fewer times. max_final_vocab: keep only the N most frequent.
        seed: seed of the randomised SVD.
        cds: context-distribution smoothing exponent (0.75; 1 = plain PPMI).
        shift: PMI shift k (1 = none; k > 1 subtracts log k, as SGNS with k negatives).
        eig: singular-value exponent (0.5 symmetric; 1 classic SVD; 0 only U).
        weighting: "uniform" (every neighbour counts 1) or "harmonic" (1/d).
        progress: progress bars on stderr (None: only on a terminal).

    After training: `wv`, `stats` (seconds, nonzeros, ...), `config`.
    """

    _config_cls = PPMIConfig
    _aliases = {"max_final_vocab": lambda c: c.max_vocab}

    def __init__(self, sentences=None, corpus_file=None, vector_size: int = 100, window: int = 5,
                 min_count: int = 5, seed: int = 1, *, cds: float = 0.75, shift: float = 1.0,
                 eig: float = 0.5, weighting: str = "uniform",
                 max_final_vocab: int | None = None, progress: bool | None = None):
        config = PPMIConfig(vector_size=vector_size, window=window, weighting=weighting,
                            min_count=min_count, max_vocab=max_final_vocab, cds=cds,
                            shift=shift, eig=eig, seed=seed)
        super().__init__(_corpus(sentences, corpus_file), config, progress)

    def _fit(self, corpus) -> None:
        from seqlab.embeddings.counts import train_ppmi

        self.wv, self.stats = train_ppmi(corpus, self.config, self.progress)
