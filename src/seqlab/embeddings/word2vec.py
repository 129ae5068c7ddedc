"""`Word2Vec`: word2vec (Mikolov et al. 2013) with gensim's API, where gensim's users look for it.

    model = seqlab.Word2Vec(corpus_file="corpus.txt.gz", vector_size=100, window=5, sg=1)
    model.wv.most_similar("king")          # a seqlab.KeyedVectors
    model.save("w2v.npz"); seqlab.Word2Vec.load("w2v.npz")

The layers under it, as in gensim: the training driver (`seqlab.embeddings.word2vec_train`:
corpus encoding, threads, replicas, stats) and its compiled kernels
(`seqlab.embeddings.word2vec_kernels`); what every model shares (training once, attributes,
.npz files) is `seqlab.embeddings.model.EmbeddingModel`.
"""

from __future__ import annotations

from seqlab.embeddings.config import Word2VecConfig
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.embeddings.model import EmbeddingModel, corpus_argument
from seqlab.embeddings.word2vec_train import fit_word2vec
from seqlab.errors import ParameterError


class Word2Vec(EmbeddingModel):
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

    def __init__(
        self,
        sentences=None,
        corpus_file=None,
        vector_size: int = 100,
        window: int = 5,
        min_count: int = 5,
        sg: int = 1,
        negative: int = 5,
        sample: float = 1e-3,
        epochs: int = 5,
        workers: int = 0,
        seed: int = 1,
        *,
        alpha: float | None = None,
        min_alpha: float = 1e-4,
        ns_exponent: float = 0.75,
        max_final_vocab: int | None = None,
        phrases: int = 0,
        phrase_threshold: float = 100.0,
        phrase_min_count: int = 5,
        cbow_shared_negatives: int = 1,
        corpus_storage: str = "auto",
        tmp_dir: str | None = None,
        sync: str = "auto",
        progress: bool | None = None,
    ):
        if sg not in (0, 1):
            raise ParameterError("sg", f"must be 1 (skip-gram) or 0 (CBOW), got {sg!r}")
        config = Word2VecConfig(
            model="skipgram" if sg else "cbow",
            vector_size=vector_size,
            window=window,
            negative=negative,
            ns_exponent=ns_exponent,
            sample=sample,
            min_count=min_count,
            max_vocab=max_final_vocab,
            epochs=epochs,
            alpha=alpha,
            min_alpha=min_alpha,
            workers=workers,
            phrases=phrases,
            phrase_threshold=phrase_threshold,
            phrase_min_count=phrase_min_count,
            seed=seed,
            cbow_shared_negatives=cbow_shared_negatives,
            corpus_storage=corpus_storage,
            tmp_dir=tmp_dir,
            sync=sync,
        )
        self.syn1neg = None
        super().__init__(corpus_argument(sentences, corpus_file), config, progress)

    def _fit(self, corpus) -> None:
        vocab, syn0, syn1, stats = fit_word2vec(corpus, self.config, self.progress)
        self.wv = KeyedVectors.from_arrays(vocab.words, syn0, counts=vocab.counts)
        self.syn1neg, self.stats = syn1, stats
