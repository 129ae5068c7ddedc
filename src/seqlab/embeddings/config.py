"""Settings of every embedding method (word2vec, GloVe, PPMI-SVD): defaults, meanings, validation.

Each method's dataclass holds its own defaults (the papers' and gensim's), so a caller who sets
nothing gets the method's usual setting: window 5 for word2vec and PPMI but 10 for GloVe, 5 epochs
for word2vec but 50 for GloVe, a learning rate of 0.025 for skip-gram, 0.05 for CBOW and GloVe.
`config_for(method, **options)` builds one from the option names the three share, leaving out
what is None, so one set of options (the CLI's flags) serves every method.

`validate()` returns the config and raises `seqlab.errors.ParameterError` naming the field for a
value out of range (the one configuration idiom of seqlab).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from seqlab.embeddings.corpus import STORAGES
from seqlab.errors import ParameterError, check_at_least, check_choice, check_positive

METHODS = ("word2vec", "glove", "ppmi", "doc2vec")
SYNCS = ("auto", "hogwild", "replicas")  # how word2vec threads share the vectors (Word2VecConfig.sync)
AUTO_REPLICA_BYTES = 1 << 30  # sync="auto" uses replicas only while the copies fit in 1 GiB


@dataclass
class Word2VecConfig:
    """Hyper-parameters of word2vec (names and defaults follow gensim / word2vec.c).

    model: "skipgram" (predict the context from a word) or "cbow" (predict a word from the mean of
        its context; faster, a little weaker on rare words).
    hs: 1 trains a hierarchical softmax output layer (a Huffman tree over the vocabulary, one
        sigmoid per inner node on the word's path; Mikolov et al. 2013), alone (negative=0) or
        beside negative sampling; 0 (default) negative sampling only. hs=0 with negative=0 trains
        nothing and is refused.
    vector_size: dimensions D (50-300 typical). window: maximum distance between a word and its
        context (2-10); each position uses a window drawn uniformly from 1..window ("dynamic
        window", nearer words count more). negative: noise words per positive pair (5-20 for
        small corpora, 2-5 for large; 0 with hs=1). ns_exponent: noise distribution
        P(w) ∝ count(w)^ns_exponent (0.75 in the paper; 0 uniform, 1 unigram, negative allowed).
    cbow_mean: CBOW's hidden layer is the mean (1) or the sum (0) of the context vectors.
    shrink_windows: True draws each position's window from 1..window (word2vec.c's "dynamic
        window"); False always uses the full window.
    sample: subsampling threshold s; a word making up a fraction z of the corpus is kept with
        probability (sqrt(z/s) + 1) * s / z (1e-3..1e-5; 0 disables).
    min_count: drop words seen fewer times (0 and 1 keep every word). max_vocab: keep only the
        first max_vocab words of the vocabulary order (None: no cap; the CLI's --max-vocab).
        max_final_vocab: gensim's cap: min_count is raised until at most this many words remain
        (ties are kept or dropped together). max_vocab_size: gensim's memory cap while counting:
        whenever more distinct words than this have been seen, the rarest are pruned (None: no
        pruning). sorted_vocab: 1 orders the vocabulary by descending count (ties alphabetical),
        0 keeps the order of first appearance. null_word: 1 adds gensim's padding word "\0".
        epochs: passes over the corpus (>= 1).
    alpha: initial learning rate, decayed linearly to min_alpha over all epochs' words (None:
        0.025 for skip-gram, 0.05 for CBOW, as word2vec.c).
    workers: training threads (0 = all cores). seed: seeds initial vectors and all sampling.
    sync: how threads share the vectors. "hogwild": all threads update one copy without locks
        (Recht et al. 2011; word2vec.c, gensim). "replicas": each thread trains its own copy and
        the copies are merged (master += the sum of every thread's change since the last merge):
        the sync_hot_rows most frequent words' rows every sync_words words per thread, all rows
        every sync_full_words. Between merges no cache line moves between threads, which removes
        CBOW's slow mode (docs/word2vec.md, "CBOW's two speeds"), and jobs go to threads in a
        fixed order, so a run with several workers repeats bit for bit; it costs one more copy
        of both matrices per thread (measured on 17M tokens: CBOW -0.7 analogy points,
        skip-gram +0.9). "auto": replicas with 2+ workers while the copies fit in 1 GiB
        (2 x workers x V x D float32: V = 670,000 words at D = 100 with 2 threads), hogwild
        beyond. One worker: all the same.
    phrases: passes of word2phrase phrase detection before training (0 = none; 2 finds up to
        4-word phrases), with phrase_threshold and phrase_min_count (see seqlab.embeddings.phrases).
    cbow_shared_negatives: CBOW only: consecutive centre words sharing one draw of negatives
        (1 = a fresh draw for every word, as word2vec.c).
    corpus_storage: where the encoded corpus (4 bytes per token) lives while training: "memory",
        "disk" (a memory-mapped temporary file in tmp_dir; peak memory stays at the vocabulary
        plus one chunk), or "auto" (memory up to seqlab.embeddings.corpus.IN_MEMORY_MAX_TOKENS
        = 67M tokens, disk beyond). Both give the same vectors.
    """

    model: str = "skipgram"
    vector_size: int = 100
    window: int = 5
    hs: int = 0
    negative: int = 5
    ns_exponent: float = 0.75
    cbow_mean: int = 1
    shrink_windows: bool = True
    sample: float = 1e-3
    min_count: int = 5
    max_vocab: int | None = None
    max_final_vocab: int | None = None
    max_vocab_size: int | None = None
    sorted_vocab: int = 1
    null_word: int = 0
    epochs: int = 5
    alpha: float | None = None
    min_alpha: float = 1e-4
    workers: int = 0
    phrases: int = 0
    phrase_threshold: float = 100.0
    phrase_min_count: int = 5
    seed: int = 1
    cbow_shared_negatives: int = 1
    corpus_storage: str = "auto"
    tmp_dir: str | None = None
    sync: str = "auto"
    sync_words: int = 50_000
    sync_hot_rows: int = 8192
    sync_full_words: int = 2_000_000

    def validate(self) -> Word2VecConfig:
        if self.model not in ("skipgram", "cbow"):
            raise ParameterError("model", f"must be 'skipgram' or 'cbow', got {self.model!r}")
        check_choice(self, "sync", SYNCS)
        check_choice(self, "corpus_storage", STORAGES)
        check_choice(self, "hs", (0, 1))
        check_choice(self, "cbow_mean", (0, 1))
        check_choice(self, "sorted_vocab", (0, 1))
        check_choice(self, "null_word", (0, 1))
        check_at_least(
            self,
            1,
            "vector_size",
            "window",
            "max_vocab",
            "max_final_vocab",
            "max_vocab_size",
            "epochs",
            "cbow_shared_negatives",
            "phrase_min_count",
            "sync_words",
            "sync_hot_rows",
            "sync_full_words",
        )
        check_at_least(self, 0, "workers", "phrases", "min_count", "negative")
        if self.negative == 0 and not self.hs:
            raise ParameterError(
                "negative", "must be at least 1 when hs=0 (with hs=0 and negative=0 nothing is trained)"
            )
        if self.sample < 0:
            raise ParameterError("sample", f"must be 0 or more, got {self.sample}")
        check_positive(self, "alpha")  # None: the model's default
        if self.min_alpha < 0:
            raise ParameterError("min_alpha", f"must be 0 or more, got {self.min_alpha}")
        return self

    @property
    def start_alpha(self) -> float:
        if self.alpha is not None:
            return float(self.alpha)
        return 0.025 if self.model == "skipgram" else 0.05

    def sync_mode(self, workers: int, vocab_size: int) -> str:
        """The `sync` a run with `workers` threads uses ("auto" resolved: replicas when the
        copies take at most AUTO_REPLICA_BYTES, hogwild otherwise)."""
        if workers < 2:
            return "hogwild"  # one thread: nothing to share, the two are the same training
        if self.sync == "auto":
            extra = 2 * workers * vocab_size * self.vector_size * 4  # two float32 matrices each
            return "replicas" if extra <= AUTO_REPLICA_BYTES else "hogwild"
        return self.sync


@dataclass
class Doc2VecConfig(Word2VecConfig):
    """Word2VecConfig plus Paragraph Vector's settings (Le and Mikolov 2014; gensim's names).

    model: "cbow" is PV-DM (document and context vectors predict a word; gensim's dm=1) and
        "skipgram" PV-DBOW (the document vector predicts each of its words; dm=0), as gensim's
        sg = 1 - dm. cbow_mean: PV-DM averages (1, gensim's dm_mean) or sums (0) its inputs.
    dm_concat: 1 concatenates the document vectors and the `window` words on each side instead
        (PV-DM/C: a (dm_tag_count + 2 window) x vector_size input, much slower).
    dm_tag_count: the tags every document has in dm_concat mode (others are skipped).
    dbow_words: 1 trains word vectors by skip-gram beside PV-DBOW (slower; 0 leaves them random).
    """

    epochs: int = 10
    dm_concat: int = 0
    dm_tag_count: int = 1
    dbow_words: int = 0

    def validate(self) -> Doc2VecConfig:
        super().validate()
        check_choice(self, "dm_concat", (0, 1))
        check_choice(self, "dbow_words", (0, 1))
        check_at_least(self, 1, "dm_tag_count")
        return self


@dataclass
class GloveConfig:
    """GloVe settings (Pennington et al. 2014's defaults).

    vector_size: dimensions D (the paper: 50-300); window: context words each side (10);
    min_count / max_vocab: vocabulary cut-offs; x_max, alpha: the weighting function
    f(x) = min(1, (x / x_max)^alpha) (100 and 0.75; 10 suits corpora of a few million words);
    learning_rate: AdaGrad's initial step (0.05); epochs: passes over the nonzeros (the paper: 50
    below 300 dimensions, 100 otherwise); workers: threads (0 = all cores); seed: initialisation
    and shuffling.
    """

    vector_size: int = 100
    window: int = 10
    min_count: int = 5
    max_vocab: int | None = None
    x_max: float = 100.0
    alpha: float = 0.75
    learning_rate: float = 0.05
    epochs: int = 50
    workers: int = 1
    seed: int = 1

    def validate(self) -> GloveConfig:
        check_at_least(self, 1, "vector_size", "window", "min_count", "max_vocab", "epochs")
        check_at_least(self, 0, "workers")
        check_positive(self, "x_max", "learning_rate")
        return self


@dataclass
class PPMIConfig:
    """Settings of PPMI-SVD vectors (Levy, Goldberg & Dagan 2015's recommended values).

    vector_size: number of singular vectors kept (50-500); window: context words each side (2-10);
    weighting: "uniform" or "harmonic" (a neighbour at distance d counts 1/d);
    min_count / max_vocab: vocabulary cut-offs; cds: context-distribution smoothing exponent
    (0.75; 1 = plain PPMI); shift: PMI shift k (1 = none; k > 1 gives shifted PPMI, log k below
    the PMI that SGNS with k negatives factorises); eig: singular-value exponent in W = U S^eig
    (0.5 symmetric, 1 classic SVD, 0 only U); seed: randomised SVD seed.
    """

    vector_size: int = 100
    window: int = 5
    weighting: str = "uniform"
    min_count: int = 5
    max_vocab: int | None = None
    cds: float = 0.75
    shift: float = 1.0
    eig: float = 0.5
    seed: int = 1

    def validate(self) -> PPMIConfig:
        check_at_least(self, 1, "vector_size", "window", "min_count", "max_vocab")
        if self.weighting not in ("uniform", "harmonic"):
            raise ParameterError("weighting", f"must be 'uniform' or 'harmonic', got {self.weighting!r}")
        check_positive(self, "shift")
        return self


CONFIGS = {"word2vec": Word2VecConfig, "glove": GloveConfig, "ppmi": PPMIConfig, "doc2vec": Doc2VecConfig}
_RENAMED = {"glove": {"alpha": "learning_rate"}}  # shared option name -> the method's field


def config_for(method: str, **options) -> Word2VecConfig | GloveConfig | PPMIConfig:
    """The validated config of `method` from shared option names.

    Options that are None take the method's default; options the method does not have are
    ignored (epochs for PPMI, negative for GloVe ...), so one set of options serves every method.
    `alpha` is the initial learning rate everywhere (GloVe's `learning_rate`).
    """
    if method not in CONFIGS:
        raise ParameterError("method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    cls = CONFIGS[method]
    names = {f.name for f in fields(cls)}
    renamed = _RENAMED.get(method, {})
    kwargs = {renamed.get(k, k): v for k, v in options.items() if v is not None}
    return cls(**{k: v for k, v in kwargs.items() if k in names}).validate()
