"""`Word2Vec`: word2vec (Mikolov et al. 2013) with gensim's API and workflow, where gensim's users
look for it.

    model = seqlab.Word2Vec(corpus_file="corpus.txt.gz", vector_size=100, window=5, sg=1)
    model.wv.most_similar("king")          # a seqlab.KeyedVectors
    model.save("w2v.npz"); seqlab.Word2Vec.load("w2v.npz")

    model = seqlab.Word2Vec(min_count=1)   # gensim's two steps, and online learning
    model.build_vocab(sentences)
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    model.build_vocab(more_sentences, update=True)
    model.train(more_sentences, total_examples=model.corpus_count, epochs=model.epochs)

The layers under it, as in gensim: the vocabulary rules and the Huffman tree
(`seqlab.embeddings.word2vec_vocab`), the training driver (`seqlab.embeddings.word2vec_train`:
threads, replicas, stats) and its compiled kernels (`word2vec_kernels`, `word2vec_hs_kernels`);
what every model shares (attributes, .npz files) is `seqlab.embeddings.model.EmbeddingModel`.
"""

from __future__ import annotations

import logging
from dataclasses import fields

import numpy as np

from seqlab.embeddings import word2vec_train as T
from seqlab.embeddings import word2vec_vocab as V
from seqlab.embeddings.config import Word2VecConfig
from seqlab.embeddings.corpus import Vocabulary, encode_corpus
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.embeddings.model import EmbeddingModel, ModelStateError, corpus_argument
from seqlab.errors import ParameterError, SeqlabError

logger = logging.getLogger(__name__)  # gensim's warnings, with gensim's words
_CONFIG_FIELDS = {f.name for f in fields(Word2VecConfig)} - {"model"}


class Word2Vec(EmbeddingModel):
    """word2vec (Mikolov et al. 2013): skip-gram or CBOW with negative sampling and/or hierarchical
    softmax; gensim's parameters, defaults, positional order and workflow.

    Trains at construction when given `sentences` or `corpus_file` (build_vocab, then train for
    `epochs`); otherwise call `build_vocab` and `train` as in gensim.

    Args:
        sentences: an iterable of token lists (a list, or any re-iterable; a one-shot iterator
            works at construction).
        corpus_file: a path instead (plain or gzip UTF-8 text, whitespace tokens, one sentence
            per line, streamed; windows never cross line ends).
        vector_size: dimensions of the vectors (50-300 typical).
        alpha, min_alpha: the learning rate falls linearly from alpha to min_alpha over each
            train call's epochs (0.025 -> 0.0001; CBOW often does better with 0.05).
        window: maximum distance between a word and a context word (2-10).
        min_count: ignore words seen fewer times (1 for toy corpora, 5-100 for real ones).
        max_vocab_size: cap on distinct words while counting (the rarest are pruned whenever
            the cap is passed; about 1 GB of RAM per 10M words). None: no cap.
        sample: subsampling threshold: a word that makes up a fraction z of the corpus is kept
            with probability (sqrt(z/sample) + 1) * sample / z (1e-3 to 1e-5; 0 keeps every word).
        seed: seeds the initial vectors and every random draw.
        workers: training threads (0 = all cores). With 1 worker and a seed a run repeats bit
            for bit; with sync="replicas" (the default while the copies fit) any number does.
        sg: 1 skip-gram (predict the context from the word; better for rare words), 0 CBOW
            (predict the word from its context; several times faster).
        hs: 1 hierarchical softmax (a Huffman tree over the vocabulary; with negative=0, or
            beside negative sampling), 0 negative sampling only. hs=0 with negative=0 is refused.
        negative: noise words per positive pair (5-20 for small corpora, 2-5 for large ones).
        ns_exponent: noise words are drawn with P(w) ∝ count(w)^ns_exponent (0.75; 0 uniform;
            negative values prefer rare words).
        cbow_mean: CBOW's hidden layer is the mean (1) or the sum (0) of the context vectors.
        hashfxn: accepted for gensim's positional order; the initial vectors come from `seed`.
        epochs: passes over the corpus (5 typical; more for small corpora).
        null_word: 1 adds gensim's padding word "\\0" (never in a corpus) to the vocabulary.
        trim_rule: trim_rule(word, count, min_count) -> gensim.utils.RULE_KEEP / RULE_DISCARD /
            RULE_DEFAULT (2 / 1 / 0 here too); used by build_vocab, not stored.
        sorted_vocab: 1 orders the vocabulary by descending count (ties alphabetical: seqlab's
            one vocabulary order), 0 keeps the order of first appearance.
        batch_words: accepted for gensim's positional order; seqlab's jobs are 50,000 words.
        compute_loss: accepted; seqlab's kernels always sum the loss (get_latest_training_loss).
        callbacks: gensim CallbackAny2Vec objects (on_train_begin, on_epoch_begin, on_epoch_end,
            on_train_end, each called with the model; model.wv holds the vectors of the moment).
        comment: a note kept with the model. max_final_vocab: raise min_count until at most
            this many words remain. shrink_windows: True draws each position's window from
            1..window (nearer words count more), False always uses the whole window.
        phrases, phrase_threshold, phrase_min_count: passes of phrase detection first (at
            construction only; see seqlab.embeddings.phrases).
        cbow_shared_negatives, corpus_storage, tmp_dir, sync, progress: seqlab's (see
            Word2VecConfig): negatives shared by consecutive CBOW centres, where the encoded
            corpus lives ("auto", "memory", "disk"), how threads share the vectors ("auto",
            "hogwild", "replicas"), progress bars on stderr (None: when stderr is a terminal).

    After build_vocab: `wv` (KeyedVectors, per-word "count"), `syn1neg` (negative-sampling
    output vectors, (V, D), or None), `syn1` (hierarchical-softmax inner nodes, (V, D), or None),
    `corpus_count`, `corpus_total_words`, `effective_min_count`; after training also `stats`
    (the CLI's JSON line) and the loss. Hyper-parameters read and write as attributes.
    """

    _config_cls = Word2VecConfig
    _extra_arrays = ("syn1neg", "syn1")
    _state_attrs = (
        "corpus_count",
        "corpus_total_words",
        "epochs_trained",
        "train_count",
        "running_training_loss",
        "min_alpha_yet_reached",
        "effective_min_count",
        "comment",
    )
    _aliases = {"layer1_size": lambda c: c.vector_size}

    def __init__(
        self,
        sentences=None,
        corpus_file=None,
        vector_size: int = 100,
        alpha: float = 0.025,
        window: int = 5,
        min_count: int = 5,
        max_vocab_size: int | None = None,
        sample: float = 1e-3,
        seed: int = 1,
        workers: int = 3,
        min_alpha: float = 0.0001,
        sg: int = 0,
        hs: int = 0,
        negative: int = 5,
        ns_exponent: float = 0.75,
        cbow_mean: int = 1,
        hashfxn=hash,
        epochs: int = 5,
        null_word: int = 0,
        trim_rule=None,
        sorted_vocab: int = 1,
        batch_words: int = 10000,
        compute_loss: bool = False,
        callbacks=(),
        comment: str | None = None,
        max_final_vocab: int | None = None,
        shrink_windows: bool = True,
        *,
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
        # every argument named like a Word2VecConfig field goes to the config (checked there)
        settings = {k: v for k, v in locals().items() if k in _CONFIG_FIELDS}
        config = self._config_cls(model="skipgram" if sg else "cbow", **settings)
        self.syn1neg = self.syn1 = None
        self.corpus_count = self.corpus_total_words = 0
        self.epochs_trained = self.train_count = 0
        self.running_training_loss = 0.0
        self.min_alpha_yet_reached = float(alpha)
        self.effective_min_count = min_count
        self.raw_vocab: dict = {}
        self.hashfxn, self.batch_words = hashfxn, batch_words  # gensim's, unused (see the docstring)
        self.compute_loss, self.comment = compute_loss, comment
        self._pending = (trim_rule, tuple(callbacks))  # for the training at construction only
        self.wv = KeyedVectors(max(int(vector_size), 1))  # empty until build_vocab, as gensim's
        super().__init__(corpus_argument(sentences, corpus_file), config, progress)

    @property
    def sg(self) -> int:
        return int(self.config.model == "skipgram")

    @sg.setter
    def sg(self, value) -> None:
        self.config.model = "skipgram" if value else "cbow"

    # ---- construction with a corpus: one reading pass ------------------------------------------
    def _fit(self, corpus) -> None:
        trim_rule, callbacks = self._pending
        cfg = self.config
        if cfg.max_vocab_size is not None:  # the pruning scan is its own pass
            self.build_vocab(corpus, trim_rule=trim_rule)
            self.train(corpus, total_examples=self.corpus_count, epochs=cfg.epochs, callbacks=callbacks)
            return
        self._check_output_layers()

        def choose(words, counts):
            order = V.choose_words(
                words, counts, cfg.min_count, cfg.max_final_vocab, trim_rule, cfg.sorted_vocab, cfg.max_vocab
            )
            self.effective_min_count = V.effective_min_count(counts, cfg.min_count, cfg.max_final_vocab)
            return order

        enc = T.prepare_corpus(corpus, cfg, self.progress, choose=choose)
        try:
            self.corpus_count, self.corpus_total_words = enc.vocab.sentences, enc.vocab.corpus_words
            self.wv = V.new_vectors(enc.vocab.words, enc.vocab.counts, cfg.vector_size, cfg.null_word, cfg.hs)
            self.wv.expandos["sample_int"][: len(enc.vocab.words)] = V.sample_thresholds(
                enc.vocab.counts, cfg.sample
            )
            enc.vocab = Vocabulary(self.wv.index_to_key, self.wv.expandos["count"], enc.vocab.corpus_words)
            self.prepare_weights()
            self._train_encoded(enc, callbacks)
        finally:
            enc.close()

    # ---- the vocabulary (gensim's build_vocab and its parts) -------------------------------------
    def build_vocab(
        self, corpus_iterable=None, corpus_file=None, update=False, progress_per=10000, keep_raw_vocab=False,
        trim_rule=None, **kwargs,
    ):  # fmt: skip
        """Count the words of a corpus and make the vocabulary and fresh weights (gensim's).

        update=True adds the corpus's new words (those passing min_count / trim_rule in it) after
        the old ones, adds its counts to the known words' and keeps the trained weights (online
        learning). kwargs go to prepare_vocab (min_count, sample, dry_run)."""
        self.scan_vocab(corpus_iterable, corpus_file, progress_per, trim_rule=trim_rule)
        self.prepare_vocab(update=update, keep_raw_vocab=keep_raw_vocab, trim_rule=trim_rule, **kwargs)
        self.prepare_weights(update=update)

    def build_vocab_from_freq(
        self, word_freq, keep_raw_vocab=False, corpus_count=None, trim_rule=None, update=False
    ):
        """build_vocab from a {word: count} table instead of a corpus (gensim's)."""
        self.raw_vocab = dict(word_freq)
        self.corpus_count = corpus_count or 0
        self.prepare_vocab(update=update, keep_raw_vocab=keep_raw_vocab, trim_rule=trim_rule)
        self.prepare_weights(update=update)

    def scan_vocab(
        self, corpus_iterable=None, corpus_file=None, progress_per=10000, workers=None, trim_rule=None
    ):
        """The counting pass: sets raw_vocab ({word: count}), returns (total words, sentences)."""
        corpus = corpus_argument(corpus_iterable, corpus_file)
        if corpus is None:
            raise SeqlabError("build_vocab needs corpus_iterable or corpus_file")
        raw = V.scan_vocab(corpus, self.config.max_vocab_size, trim_rule, self.progress)
        self.raw_vocab = dict(zip(raw.words, raw.counts.tolist()))
        self.corpus_count, self.corpus_total_words = raw.sentences, raw.total_words
        return raw.total_words, raw.sentences

    def prepare_vocab(
        self, update=False, keep_raw_vocab=False, trim_rule=None, min_count=None, sample=None, dry_run=False
    ):
        """Apply min_count / max_final_vocab / trim_rule / sorted_vocab / null_word to raw_vocab
        and return gensim's report (drop_unique, retain_total, downsample_unique,
        downsample_total, num_retained_words). dry_run only reports."""
        cfg = self.config
        min_count = cfg.min_count if min_count is None else min_count
        sample = cfg.sample if sample is None else sample
        words = list(self.raw_vocab)
        counts = np.fromiter(self.raw_vocab.values(), dtype=np.int64, count=len(words))
        self.effective_min_count = V.effective_min_count(counts, min_count, cfg.max_final_vocab)
        if update:
            if not len(self.wv):
                raise ModelStateError("an online vocabulary update needs a vocabulary: build_vocab first")
            old_counts = self.wv.expandos["count"]
            new_words, new_counts = V.merge_update(
                self.wv.index_to_key,
                old_counts,
                V.RawVocab(words, counts, 0, 0),
                self.effective_min_count,
                trim_rule,
            )
            merged = set(new_words)
            kept = np.array([i for i, w in enumerate(words) if w in merged], dtype=np.int64)
        else:
            kept = V.choose_words(
                words, counts, min_count, cfg.max_final_vocab, trim_rule, cfg.sorted_vocab, cfg.max_vocab
            )
            new_words, new_counts = [words[i] for i in kept], counts[kept]
        report = V.vocab_report(counts, kept, sample)
        if dry_run:
            return report
        self.min_count, self.sample = min_count, sample
        if update:
            self._grown_from = V.grow_vectors(self.wv, new_words, new_counts, sample, cfg.hs)
        else:
            self.wv = V.new_vectors(new_words, new_counts, cfg.vector_size, cfg.null_word, cfg.hs)
        # gensim's sample_int: subsampling thresholds of the words this scan kept, from this
        # scan's counts (after an update, the other words keep theirs)
        rows = [self.wv.key_to_index[words[i]] for i in kept]
        self.wv.expandos["sample_int"][rows] = V.sample_thresholds(counts[kept], sample)
        if not keep_raw_vocab:
            self.raw_vocab = {}
        return report

    def prepare_weights(self, update=False) -> None:
        """Initial weights for the vocabulary: input vectors uniform in ±1/D, output layers zero;
        with update=True only the new words' rows (the trained ones stay)."""
        cfg = self.config
        n, D = len(self.wv), cfg.vector_size
        V.check_vocabulary(self.wv.index_to_key)
        old = self.__dict__.pop("_grown_from", n) if update else 0
        if not update:
            vectors, _ = T.init_vectors(n, D, cfg.seed)
            self.wv.vectors = np.ascontiguousarray(vectors[:, :D])
        else:  # the new rows from their own seed: the old vectors are unchanged
            fresh, _ = T.init_vectors(n - old, D, cfg.seed + old)
            self.wv.vectors[old:] = fresh[:, :D]
        self.wv.norms = None
        for name, wanted in (("syn1neg", cfg.negative), ("syn1", cfg.hs)):
            current = getattr(self, name) if update else None
            if not wanted:
                setattr(self, name, None)
                continue
            grown = np.zeros((n, D), dtype=np.float32)
            if current is not None:
                grown[: len(current)] = current[:n]
            setattr(self, name, grown)

    def reset_from(self, other_model) -> None:
        """Take `other_model`'s vocabulary and corpus counts, with fresh weights (gensim's)."""
        other, cfg = other_model, self.config
        self.wv = V.new_vectors(other.wv.index_to_key, other.wv.expandos["count"], cfg.vector_size, 0, cfg.hs)
        self.corpus_count, self.corpus_total_words = other.corpus_count, other.corpus_total_words
        self.prepare_weights()

    # ---- training ------------------------------------------------------------------------------
    def train(
        self, corpus_iterable=None, corpus_file=None, total_examples=None, total_words=None, epochs=None,
        start_alpha=None, end_alpha=None, word_count=0, queue_factor=2, report_delay=1.0, compute_loss=False,
        callbacks=(), **kwargs,
    ):  # fmt: skip
        """Train the weights on a corpus for `epochs` passes, with the vocabulary made by
        build_vocab (words outside it are skipped); returns (trained words, raw words), gensim's.

        As in gensim, `epochs` and one of `total_examples` (sentences) / `total_words` must be
        given (ValueError otherwise); seqlab reads the corpus once and decays the learning rate
        over the words it actually holds. start_alpha / end_alpha replace alpha / min_alpha (and
        are kept). Training again continues from the trained weights (online learning)."""
        corpus = corpus_argument(corpus_iterable, corpus_file)
        self._begin_train(corpus, total_examples, total_words, epochs, start_alpha, end_alpha)
        self.compute_loss = compute_loss
        known = Vocabulary(self.wv.index_to_key, self.wv.expandos["count"], 0)
        cfg = self.config
        where = dict(storage=cfg.corpus_storage, tmp_dir=cfg.tmp_dir, progress=self.progress)
        enc = encode_corpus(corpus, max_sentence=T.MAX_SENTENCE, known=known, **where)
        try:
            self._train_encoded(enc, tuple(callbacks))
        finally:
            enc.close()
        return self.stats["train_words"] * self.config.epochs, self.stats["corpus_words"] * self.config.epochs

    def _begin_train(self, corpus, total_examples, total_words, epochs, start_alpha, end_alpha) -> None:
        """train's checks, before any reading (gensim's rules), and its settings into the config."""
        self.config.alpha = start_alpha or self.config.alpha
        self.config.min_alpha = end_alpha or self.config.min_alpha
        self.config.epochs = epochs if epochs is not None else self.config.epochs
        self.config.validate()
        if not len(self.wv):
            raise ModelStateError("you must first build vocabulary before training the model")
        if total_examples is None and total_words is None:
            raise ParameterError(
                "total_examples",
                "or total_words must be given (total_examples=model.corpus_count after build_vocab)",
            )
        if epochs is None or epochs <= 0:
            raise ParameterError("epochs", f"must be given and positive (epochs=model.epochs), got {epochs}")
        if corpus is None:
            raise SeqlabError("train needs corpus_iterable or corpus_file")
        if self.config.phrases:
            raise ParameterError("phrases", "applies only to the corpus given to the constructor")
        self._check_output_layers()

    def _check_output_layers(self) -> None:
        """Zero output layers where the settings want one that the model lacks (vectors loaded
        from a file into a fresh model, or hs/negative switched on later)."""
        self.config.validate()
        if len(self.wv):
            shape = (len(self.wv), self.config.vector_size)
            for name, wanted in (("syn1neg", self.config.negative), ("syn1", self.config.hs)):
                if wanted and getattr(self, name) is None:
                    setattr(self, name, np.zeros(shape, dtype=np.float32))

    def _weights(self) -> T.Weights:
        """Padded copies of the arrays that training changes."""
        cfg = self.config
        return T.Weights.from_arrays(
            self.wv.vectors, self.syn1neg if cfg.negative else None, self.syn1 if cfg.hs else None
        )

    def _publish(self, weights: T.Weights) -> None:
        """The trained arrays back into the model (what callbacks and the caller read)."""
        syn0, syn1neg, syn1 = weights.unpadded(self.config.vector_size)
        self.wv.vectors, self.wv.norms = syn0, None
        self.syn1neg = syn1neg if syn1neg is not None else self.syn1neg
        self.syn1 = syn1 if syn1 is not None else self.syn1

    def _train_encoded(self, enc, callbacks, kernel=None, desc: str | None = None) -> None:
        cfg = self.config
        if cfg.hs and cfg.negative:
            logger.warning(
                "Both hierarchical softmax and negative sampling are activated. This is probably a "
                "mistake. You should set either 'hs=0' or 'negative=0' to disable one of them. "
            )
        if cfg.alpha > self.min_alpha_yet_reached:
            logger.warning("Effective 'alpha' higher than previous training cycles")
        weights = self._weights()
        lockf = getattr(self.wv, "vectors_lockf", None)
        if lockf is not None and np.all(np.asarray(lockf) == 1.0):
            lockf = None  # the compiled variant without it
        self.running_training_loss = 0.0

        def publish(loss_sum: float) -> None:
            self._publish(weights)
            self.running_training_loss = loss_sum

        def epoch_end(epoch: int, loss_sum: float) -> None:
            publish(loss_sum)
            for cb in callbacks:
                cb.on_epoch_end(self)

        for cb in callbacks:
            cb.on_train_begin(self)

        def epoch_begin(epoch: int) -> None:
            for cb in callbacks:
                cb.on_epoch_begin(self)

        hooks = dict(on_epoch_begin=epoch_begin, on_epoch_end=epoch_end) if callbacks else {}
        keep = self.wv.expandos.get("sample_int")
        first = self.epochs_trained
        stats = T.train_weights(
            enc, cfg, weights, self.progress, first_epoch=first, lockf=lockf, keep=keep, kernel=kernel,
            desc=desc, **hooks,
        )  # fmt: skip
        publish(stats["loss_sum"])
        self.stats = stats
        self.epochs_trained += cfg.epochs
        self.train_count += 1
        self.min_alpha_yet_reached = float(cfg.min_alpha)
        for cb in callbacks:
            cb.on_train_end(self)

    def get_latest_training_loss(self) -> float:
        """The summed loss (-log sigmoid of every logit) of the last train call, or so far in it."""
        return float(self.running_training_loss)

    # ---- using the output layer ----------------------------------------------------------------
    def predict_output_word(self, context_words_list, topn: int = 10):
        """The topn most probable centre words given context words (or their indices): a softmax
        of the mean (cbow_mean=1) or sum of the context vectors against syn1neg, as gensim's.
        None when no context word is known; negative sampling models only."""
        if not self.config.negative:
            raise ModelStateError("predict_output_word needs negative sampling (negative > 0)")
        if self.syn1neg is None or not len(self.wv):
            raise ModelStateError("Parameters required for predicting the output words not found.")
        rows = [self.wv.get_index(w) for w in context_words_list if w in self.wv]
        if not rows:
            return None
        h = self.wv.vectors[rows].sum(axis=0)
        if self.config.cbow_mean:
            h /= len(rows)
        logits = self.syn1neg @ h  # (V,)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        top = np.argsort(-p, kind="stable")[:topn]
        return [(self.wv.index_to_key[i], float(p[i])) for i in top]

    def score(self, sentences, total_sentences=int(1e6), chunksize=100, queue_factor=2, report_delay=1):
        """log P(sentence) for each of the first total_sentences sentences under the hierarchical
        softmax (hs=1 models; gensim's score, after Taddy 2015): an (n,) float32 array."""
        from seqlab.embeddings.word2vec_hs_kernels import score_sentence

        if not len(self.wv):
            raise ModelStateError("you must first build vocabulary before scoring new data")
        if not self.config.hs or self.syn1 is None:
            raise ModelStateError("score needs a hierarchical softmax model (hs=1)")
        codes, points, offsets = V.huffman_tree(self.wv.expandos["count"])
        get, out = self.wv.key_to_index.get, []
        for k, sentence in enumerate(sentences):
            if k >= total_sentences:
                break
            ids = np.array([i for i in map(get, sentence) if i is not None], dtype=np.int64)
            out.append(
                score_sentence(
                    self.wv.vectors,
                    self.syn1,
                    ids,
                    codes,
                    points,
                    offsets,
                    self.window,
                    self.sg,
                    self.cbow_mean,
                )
            )
        return np.array(out, dtype=np.float32)

    def __str__(self) -> str:
        cfg = self.config
        return f"Word2Vec<vocab={len(self.wv)}, vector_size={cfg.vector_size}, alpha={cfg.alpha}>"
