"""`Doc2Vec`: Paragraph Vector (Le and Mikolov 2014) with gensim's API, on word2vec's machinery.

    docs = [seqlab.TaggedDocument(words, [i]) for i, words in enumerate(sentences)]
    model = seqlab.Doc2Vec(docs, vector_size=100, dm=0, epochs=20)    # PV-DBOW
    model.dv[0]                            # the first document's vector (a KeyedVectors of tags)
    model.infer_vector(["a", "new", "document"])                     # a vector for unseen text
    model.save("d2v.npz"); seqlab.Doc2Vec.load("d2v.npz")

A Doc2Vec is a Word2Vec whose input layer also holds one vector per document tag: PV-DM
(dm=1) predicts each word from the mean of its document's vector and its context words, PV-DBOW
(dm=0) predicts the words of a document from its vector alone. Vocabulary, subsampling, output
layers, threads and replicas are word2vec's (seqlab.embeddings.word2vec, word2vec_train); the
compiled loop is seqlab.embeddings.doc2vec_kernels, the documents seqlab.embeddings.doc2vec_corpus.
"""

from __future__ import annotations

import logging
import os
from inspect import signature

import numpy as np

from seqlab.embeddings import doc2vec_kernels as DK
from seqlab.embeddings import word2vec_train as T
from seqlab.embeddings.config import Doc2VecConfig
from seqlab.embeddings.corpus import EmptyVocabularyError, EncodedCorpus, Vocabulary
from seqlab.embeddings.doc2vec_corpus import (
    TaggedDocument,
    TaggedLines,
    TagIndex,
    document_words,
    encode_documents,
    lockf_of,
    scan_documents,
    tag_vectors,
)
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.embeddings.word2vec import Word2Vec
from seqlab.embeddings.word2vec_vocab import NULL_WORD
from seqlab.errors import ParameterError, SeqlabError

__all__ = ["Doc2Vec", "TaggedDocument"]
logger = logging.getLogger(__name__)
_WORD2VEC_ARGS = set(signature(Word2Vec.__init__).parameters) - {"self", "sentences", "corpus_file", "sg"}
_ALL = DK.LEARN_DOCS | DK.LEARN_WORDS | DK.LEARN_HIDDEN


class CorpusArgumentError(SeqlabError, TypeError):
    """Neither or both of corpus_iterable / corpus_file, or one of the wrong type (a TypeError,
    as gensim raises)."""


class Doc2Vec(Word2Vec):
    """Paragraph Vector: PV-DM (dm=1; mean, sum or concatenation of the inputs) or PV-DBOW
    (dm=0, optionally with skip-gram word training, dbow_words=1), with negative sampling and/or
    hierarchical softmax; gensim's parameters, defaults and workflow.

    Args (gensim's; the rest are Word2Vec's: alpha 0.025, min_count 5, sample 1e-3, negative 5,
    hs 0, workers 3, seed 1, ...):
        documents: an iterable of TaggedDocument (any objects with .words, a token list, and
            .tags, a list of int or string tags); corpus_file: a text file instead, one
            document per line, tagged by line number (gensim's TaggedLineDocument).
        dm: 1 PV-DM, 0 PV-DBOW. dm_mean: PV-DM averages (1, default) or sums (0) its inputs.
        dm_concat: 1 concatenates the tag vectors and `window` words each side (PV-DM/C).
        dm_tag_count: tags per document in dm_concat mode. dbow_words: 1 trains word vectors by
            skip-gram beside PV-DBOW. epochs: 10 (gensim's Doc2Vec default).
        dv, dv_mapfile: accepted for gensim's signature; the document vectors are made by
            build_vocab.

    After build_vocab: `dv` (a KeyedVectors of the tags: int tags are their own rows, string
    tags follow), `wv`, `syn1neg` / `syn1` ((V, L) output rows, L = vector_size or, with
    dm_concat, (dm_tag_count + 2 window) vector_size), `corpus_count` (documents). `save`/`load`
    use seqlab's .npz format, never pickles (loading runs no code).
    """

    _config_cls = Doc2VecConfig
    _aliases = {"layer1_size": lambda c: _layer1_size(c)}

    def __init__(
        self, documents=None, corpus_file=None, vector_size=100, dm_mean=None, dm=1, dbow_words=0,
        dm_concat=0, dm_tag_count=1, dv=None, dv_mapfile=None, comment=None, trim_rule=None, callbacks=(),
        window=5, epochs=10, shrink_windows=True, **kwargs,
    ):  # fmt: skip
        if dm not in (0, 1, True, False):
            raise ParameterError("dm", f"must be 1 (PV-DM) or 0 (PV-DBOW), got {dm!r}")
        unknown = set(kwargs) - _WORD2VEC_ARGS
        if unknown:
            raise TypeError(f"Doc2Vec got unexpected keyword arguments: {', '.join(sorted(unknown))}")
        if dm_mean is not None:
            kwargs["cbow_mean"] = int(dm_mean)
        self.dv = dv if dv is not None else KeyedVectors(max(int(vector_size), 1))
        self.dv_mapfile = dv_mapfile
        super().__init__(
            None, None, vector_size=vector_size, window=window, epochs=epochs, shrink_windows=shrink_windows,
            sg=(1 + int(dm)) % 2, null_word=int(bool(dm_concat)), comment=comment, trim_rule=trim_rule,
            callbacks=callbacks, **kwargs,
        )  # fmt: skip
        self.config.dm_concat, self.config.dm_tag_count = int(dm_concat), int(dm_tag_count)
        self.config.dbow_words = int(dbow_words)
        self.config.validate()
        corpus = documents if corpus_file is None else None
        if documents is not None or corpus_file is not None:
            self._fit(self._documents(corpus, corpus_file))

    @property
    def dm(self) -> int:
        return int(self.config.model == "cbow")

    @property
    def dbow(self) -> int:
        return int(self.config.model == "skipgram")

    # ---- the corpus ----------------------------------------------------------------------------
    @staticmethod
    def _documents(corpus_iterable, corpus_file):
        """The one corpus of gensim's two arguments, as a re-iterable of documents."""
        if corpus_iterable is not None and corpus_file is not None:
            raise CorpusArgumentError("give corpus_iterable or corpus_file, not both")
        if corpus_file is not None:
            if not isinstance(corpus_file, (str, os.PathLike)):
                raise CorpusArgumentError(
                    f"corpus_file must be a path, got {type(corpus_file).__name__} (documents go to "
                    "corpus_iterable)"
                )
            return TaggedLines(corpus_file)
        if corpus_iterable is None:
            raise CorpusArgumentError("one of corpus_iterable or corpus_file must be given")
        if isinstance(corpus_iterable, (str, bytes)) or not hasattr(corpus_iterable, "__iter__"):
            raise CorpusArgumentError(
                f"corpus_iterable must be an iterable of TaggedDocument, got {type(corpus_iterable).__name__}"
            )
        if iter(corpus_iterable) is corpus_iterable:  # a one-shot iterator: read it once, keep it
            corpus_iterable = list(corpus_iterable)
        return corpus_iterable

    def _fit(self, documents) -> None:
        trim_rule, callbacks = self._pending
        self._in_fit = True  # the same corpus twice: train reuses build_vocab's reading
        try:
            self.build_vocab(documents, trim_rule=trim_rule)
            epochs = self.config.epochs
            self.train(documents, total_examples=self.corpus_count, epochs=epochs, callbacks=callbacks)
        finally:
            self._in_fit = False
            self.__dict__.pop("_scan", None)

    @staticmethod
    def _corpus_key(docs) -> tuple:
        """What identifies a corpus between build_vocab and train: a file by its path, size and
        time; an iterable by identity (trusted only within one constructor call)."""
        if isinstance(docs, TaggedLines):
            st = os.stat(docs.path)
            return ("file", str(docs.path), st.st_size, st.st_mtime_ns)
        return ("object", id(docs))

    def _encoded(self, docs):
        """The documents as id arrays: from build_vocab's reading when it read the same corpus,
        else read now."""
        key, scan = self._corpus_key(docs), self.__dict__.get("_scan")
        if scan is not None and scan[0] == key and (key[0] == "file" or self.__dict__.get("_in_fit")):
            return scan[1].encode(self.wv.key_to_index, self._tag_row)
        return encode_documents(docs, self.wv.key_to_index, self._tag_row)

    # ---- the vocabulary: words as word2vec's, plus the tags ------------------------------------
    def build_vocab(
        self, corpus_iterable=None, corpus_file=None, update=False, progress_per=10000, keep_raw_vocab=False,
        trim_rule=None, **kwargs,
    ):  # fmt: skip
        """Count the words and collect the tags of a corpus; make the vocabulary, the document
        vectors and fresh weights (gensim's). Doc2Vec does not grow a vocabulary (update=True)."""
        if update:
            raise SeqlabError("Doc2Vec cannot add to its vocabulary (update=True): build a new model")
        docs = self._documents(corpus_iterable, corpus_file)
        super().build_vocab(docs, None, False, progress_per, keep_raw_vocab, trim_rule, **kwargs)

    def build_vocab_from_freq(
        self, word_freq, keep_raw_vocab=False, corpus_count=None, trim_rule=None, update=False
    ):
        """build_vocab from a {word: count} table; the documents are tagged 0..corpus_count-1."""
        self._tags = TagIndex()
        self._tags.max_int = (corpus_count or 0) - 1
        super().build_vocab_from_freq(word_freq, keep_raw_vocab, corpus_count, trim_rule, update)

    def scan_vocab(
        self, corpus_iterable=None, corpus_file=None, progress_per=10000, workers=None, trim_rule=None
    ):
        """The counting pass: raw_vocab ({word: count}) and the tags; returns (words, documents)."""
        from seqlab.embeddings import word2vec_vocab as V

        docs = self._documents(corpus_iterable, corpus_file)
        self.__dict__.pop("_scan", None)
        if self.config.max_vocab_size is not None:  # gensim's pruning while counting
            tags = TagIndex()
            raw = V.scan_vocab(
                document_words(docs, tags), self.config.max_vocab_size, trim_rule, self.progress
            )
            words, counts, total = raw.words, raw.counts, raw.total_words
        else:  # count and encode in one pass (train on the same corpus reads it no more)
            scanned = scan_documents(docs, self.progress)
            self._scan = (self._corpus_key(docs), scanned)
            tags, words, counts, total = scanned.tag_index, scanned.words, scanned.counts, len(scanned.ids)
        self.raw_vocab = dict(zip(words, counts.tolist()))
        self.corpus_count, self.corpus_total_words = tags.documents, int(total)
        self._tags = tags
        return int(total), tags.documents

    def prepare_vocab(self, update=False, keep_raw_vocab=False, trim_rule=None, **kwargs):
        """word2vec's prepare_vocab; a corpus whose words all fall below min_count leaves an empty
        word vocabulary (the tags still get vectors, as gensim's), which train then refuses."""
        try:
            return super().prepare_vocab(update, keep_raw_vocab, trim_rule, **kwargs)
        except EmptyVocabularyError as e:
            if kwargs.get("dry_run"):
                raise
            logger.warning("no word kept for the vocabulary: %s", e)
            self.wv, self.raw_vocab = KeyedVectors(self.config.vector_size), {}
            return {"num_retained_words": 0}

    def prepare_weights(self, update=False) -> None:
        """word2vec's weights (output rows widened for dm_concat) and the document vectors,
        uniform in ±1/D like the word vectors. An empty vocabulary is allowed here (gensim's
        build_vocab allows it); train refuses it."""
        cfg, n = self.config, len(self.wv)
        if n:
            super().prepare_weights(update)
        else:
            self.syn1neg = self.syn1 = None
        L = _layer1_size(cfg)
        for name in ("syn1neg", "syn1"):
            if getattr(self, name) is not None and L != cfg.vector_size:
                setattr(self, name, np.zeros((n, L), dtype=np.float32))
        tags = self.__dict__.get("_tags") or TagIndex()
        vectors, _ = T.init_vectors(len(tags), cfg.vector_size, cfg.seed + 1_000_003)
        self.dv = tag_vectors(tags.keys(), np.ascontiguousarray(vectors[:, : cfg.vector_size]))
        for attr, counts in (("doc_count", tags.doc_count), ("word_count", tags.word_count)):
            self.dv.expandos[attr] = np.array(
                [counts.get(k, 0) for k in self.dv.index_to_key], dtype=np.int64
            )

    def _check_output_layers(self) -> None:
        self.config.validate()
        if len(self.wv):
            shape = (len(self.wv), _layer1_size(self.config))
            for name, wanted in (("syn1neg", self.config.negative), ("syn1", self.config.hs)):
                if wanted and getattr(self, name) is None:
                    setattr(self, name, np.zeros(shape, dtype=np.float32))

    def reset_from(self, other_model) -> None:
        """Take `other_model`'s words and tags, with fresh weights (gensim's)."""
        self._tags = TagIndex()
        keys = other_model.dv.index_to_key
        ints = [k for k in keys if not isinstance(k, str)]
        self._tags.max_int = max(ints) if ints else -1
        self._tags.strings = {k: i for i, k in enumerate(k for k in keys if isinstance(k, str))}
        super().reset_from(other_model)

    # ---- training ------------------------------------------------------------------------------
    def train(
        self, corpus_iterable=None, corpus_file=None, total_examples=None, total_words=None, epochs=None,
        start_alpha=None, end_alpha=None, word_count=0, queue_factor=2, report_delay=1.0, callbacks=(),
        **kwargs,
    ):  # fmt: skip
        """Train word, document and output vectors for `epochs` passes (gensim's rules: epochs and
        total_examples or total_words must be given); tags that build_vocab did not see are left
        out. Returns (trained words, raw words)."""
        docs = self._documents(corpus_iterable, corpus_file)
        self._begin_train(docs, total_examples, total_words, epochs, start_alpha, end_alpha)
        enc, encoded = self._encode(docs)
        sync = self.config.sync
        if sync == "auto" and (self.dm or _repeats(encoded.tag_ids)):
            # replicas would keep runs bit for bit, but PV-DM's document vectors lose their
            # consistency with them (gensim's Lee corpus x20: cosine of a document's copies 0.94
            # with one thread or Hogwild, 0.7 with 2 replicas); a tag shared by documents that
            # two threads train at once is Hogwild anyway
            self.config.sync = "hogwild"
        try:
            kernel = self.job_kernel(encoded, _ALL)
            self._train_encoded(enc, tuple(callbacks), kernel, f"doc2vec {_name(self.config)}")
        finally:
            self.config.sync = sync
        return self.stats["train_words"] * self.config.epochs, encoded.raw_words * self.config.epochs

    def _encode(self, docs) -> tuple[EncodedCorpus, object]:
        encoded = self._encoded(docs)
        for a in (encoded.ids, encoded.starts):
            a.flags.writeable = False  # word2vec's array type: one compiled kernel
        vocab = Vocabulary(
            self.wv.index_to_key, self.wv.expandos["count"], encoded.raw_words, len(encoded.starts) - 1
        )
        return EncodedCorpus(vocab, encoded.ids, encoded.starts, "memory"), encoded

    def _tag_row(self, tag) -> int | None:
        if isinstance(tag, str):
            return self.dv.key_to_index.get(tag)
        if isinstance(tag, (int, np.integer)) and 0 <= tag < len(self.dv):
            return int(tag)
        return None

    def job_kernel(self, docs, learn: int, n_docs: int | None = None):
        """What one job runs: the document kernel with this model's settings; n_docs: rows of
        new document vectors (inference) instead of the model's dv."""
        cfg, D = self.config, self.config.vector_size
        mode = DK.DBOW if not self.dm else (DK.DMC if cfg.dm_concat else DK.DM)
        null_index = self.wv.key_to_index.get(NULL_WORD, 0)
        word_lockf = lockf_of(self.wv)
        doc_lockf = lockf_of(self.dv) if n_docs is None else np.ones(n_docs, dtype=np.float32)
        dummy = np.zeros((1, 1), dtype=np.float32)
        no_seeds = np.zeros(0, dtype=np.uint64)

        def kernel(mats, where, tab, sig, logsig, lr, seeds=None):
            syn1neg = mats[1] if cfg.negative else dummy
            syn1 = mats[1 + bool(cfg.negative)] if cfg.hs else dummy
            ids, starts, s_lo, s_hi, keep = where
            DK.train_document_job(
                mats[0], syn1neg, syn1, mats[-1], ids, starts, docs.tag_ids, docs.tag_starts, s_lo, s_hi,
                keep,
                tab.neg_threshold, tab.neg_alias, tab.codes, tab.points, tab.offsets, sig, logsig,
                mode, cfg.cbow_mean, cfg.dbow_words, cfg.window, cfg.negative, cfg.hs, null_index,
                cfg.dm_tag_count, *lr, D, int(bool(cfg.shrink_windows)), learn, word_lockf, doc_lockf,
                no_seeds if seeds is None else seeds,
            )  # fmt: skip

        return kernel

    def _weights(self) -> T.Weights:
        w = super()._weights()
        w.dv = T.Weights.from_arrays(self.dv.vectors, None, None).syn0
        if not self.dm and not self.config.dbow_words:  # PV-DBOW never writes a word vector
            w.shared = ("syn0", "dv")
        return w

    def _publish(self, weights: T.Weights) -> None:
        cfg, L = self.config, _layer1_size(self.config)
        self.wv.vectors, self.wv.norms = np.ascontiguousarray(weights.syn0[:, : cfg.vector_size]), None
        if weights.syn1neg is not None:
            self.syn1neg = np.ascontiguousarray(weights.syn1neg[:, :L])
        if weights.syn1 is not None:
            self.syn1 = np.ascontiguousarray(weights.syn1[:, :L])
        self.dv.vectors, self.dv.norms = np.ascontiguousarray(weights.dv[:, : cfg.vector_size]), None

    # ---- using the model -----------------------------------------------------------------------
    def infer_vector(self, doc_words, alpha=None, min_alpha=None, epochs=None) -> np.ndarray:
        """A vector for a new document (a token list): a fresh document vector trained for
        `epochs` passes (default the model's) with everything else frozen, the learning rate
        falling from alpha to min_alpha across the passes (gensim's)."""
        if isinstance(doc_words, str):
            raise TypeError("doc_words must be a list of tokens, not a single string (split it first)")
        return self.infer_vectors([doc_words], alpha, min_alpha, epochs)[0]

    def infer_vectors(self, documents, alpha=None, min_alpha=None, epochs=None, workers=None) -> np.ndarray:
        """infer_vector for many token lists at once, on `workers` threads (default the model's):
        (n, D) float32. Each document's result depends on its words and the seed only (not on the
        batch or the threads), as gensim seeds inference by the words."""
        from seqlab.embeddings.doc2vec_infer import infer_vectors

        return infer_vectors(self, documents, alpha, min_alpha, epochs, workers)

    def similarity_unseen_docs(
        self, doc_words1, doc_words2, alpha=None, min_alpha=None, epochs=None
    ) -> float:
        """Cosine similarity of two new documents' inferred vectors (gensim's)."""
        v1, v2 = self.infer_vectors([doc_words1, doc_words2], alpha, min_alpha, epochs)
        return float(v1 @ v2 / max(np.linalg.norm(v1) * np.linalg.norm(v2), 1e-12))

    def __getitem__(self, tag):
        """A word's vector if `tag` is a known word, else the tag's document vector (gensim's);
        a list of them stacks."""
        if isinstance(tag, (str, int, np.integer)):
            return self.wv[tag] if tag in self.wv else self.dv[tag]
        return np.vstack([self[t] for t in tag])

    def save_word2vec_format(
        self, fname, doctag_vec=False, word_vec=True, prefix="*dt_", fvocab=None, binary=False
    ):
        """Word vectors and/or document vectors (tags written as prefix + tag) in one word2vec
        file, words first (gensim's)."""
        total = len(self.wv) + len(self.dv) if word_vec and doctag_vec else None
        if word_vec:
            self.wv.save_word2vec_format(fname, fvocab, binary, total)
        if doctag_vec:
            dv = KeyedVectors.from_arrays([str(k) for k in self.dv.index_to_key], self.dv.vectors)
            dv.expandos["doc_count"] = self.dv.expandos.get("doc_count", np.zeros(len(dv), np.int64))
            dv.save_word2vec_format(
                fname, prefix=prefix, binary=binary, write_header=not word_vec, append=word_vec,
                sort_attr="doc_count",
            )  # fmt: skip

    def _save_more(self, meta: dict, arrays: dict) -> None:
        meta["tags"] = [k if isinstance(k, str) else int(k) for k in self.dv.index_to_key]
        arrays["dv_vectors"] = np.asarray(self.dv.vectors, dtype=np.float32)
        for attr in ("doc_count", "word_count"):
            if attr in self.dv.expandos:
                arrays[f"dv_{attr}"] = np.asarray(self.dv.expandos[attr], dtype=np.int64)

    def _load_more(self, meta: dict, arrays: dict) -> None:
        self.dv = tag_vectors(meta["tags"], arrays["dv_vectors"])
        for attr in ("doc_count", "word_count"):
            if f"dv_{attr}" in arrays:
                self.dv.expandos[attr] = arrays[f"dv_{attr}"]
        self.raw_vocab, self._pending, self.hashfxn = {}, (None, ()), hash

    def __str__(self) -> str:
        cfg = self.config
        comment = self.__dict__.get("comment")
        parts = ([f'"{comment}"'] if comment else []) + [_name(cfg)]
        parts += [f"d{cfg.vector_size}", f"n{cfg.negative}"] + (["hs"] if cfg.hs else [])
        parts += [f"w{cfg.window}"] if self.dm or cfg.dbow_words else []
        parts += [f"mc{cfg.min_count}", f"s{cfg.sample}", f"t{cfg.workers}"]
        return f"Doc2Vec<{','.join(parts)}>"


def _repeats(tag_ids: np.ndarray) -> bool:
    """Whether a tag belongs to more than one document."""
    return len(tag_ids) > 0 and int(np.bincount(tag_ids).max()) > 1


def _layer1_size(cfg: Doc2VecConfig) -> int:
    """The hidden layer's size: vector_size, or with dm_concat the tags and 2 windows of words."""
    if getattr(cfg, "dm_concat", 0) and cfg.model == "cbow":
        return (cfg.dm_tag_count + 2 * cfg.window) * cfg.vector_size
    return cfg.vector_size


def _name(cfg: Doc2VecConfig) -> str:
    if cfg.model == "skipgram":
        return "dbow+w" if cfg.dbow_words else "dbow"
    if cfg.dm_concat:
        return "dm/c"
    return "dm/m" if cfg.cbow_mean else "dm/s"
