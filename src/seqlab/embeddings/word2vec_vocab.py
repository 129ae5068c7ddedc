"""Word2Vec's vocabulary, by gensim's rules, and the Huffman tree of hierarchical softmax.

Plain data in, plain data out (a KeyedVectors of the vocabulary at the end: `new_vectors`,
`grow_vectors`); `seqlab.embeddings.word2vec.Word2Vec` keeps the result.

- `scan_vocab`: one counting pass (corpus.count_words), or, with `max_vocab_size`, gensim's
  pruning scan: whenever more distinct words than max_vocab_size have been counted (checked after
  each sentence), words counted fewer than `min_reduce` times go and min_reduce grows by one
  (gensim.utils.prune_vocab, word2vec.c's ReduceVocab).
- `choose_words`: which counted words stay and in what order: `trim_rule(word, count,
  min_count)` may answer RULE_KEEP / RULE_DISCARD / RULE_DEFAULT (gensim's constants, so gensim's
  rules work unchanged); `max_final_vocab` raises min_count until at most that many words remain
  (gensim's effective_min_count); `sorted_vocab` orders by the wing's rule (count descending,
  ties alphabetical) or keeps first appearance.
- `merge_update`: gensim's online update (build_vocab(update=True)): known words add the new
  counts, new words that pass the rule are appended after the old ones.
- `huffman_tree`: word2vec.c's CreateBinaryTree (Mikolov et al. 2013; Huffman 1952) in linear
  time on the counts sorted once, as flat arrays the kernels read: word w's path from the root is
  points[offsets[w]:offsets[w+1]] (inner nodes, rows of syn1) with codes (0/1, the branch taken).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from seqlab.embeddings.corpus import EmptyVocabularyError, count_words, order_vocabulary, read_sentences
from seqlab.embeddings.keyedvectors import KeyedVectors

RULE_DEFAULT, RULE_DISCARD, RULE_KEEP = 0, 1, 2  # gensim.utils' trim_rule answers
NULL_WORD = "\0"  # gensim's padding word (null_word=1): only ever input, never predicted


@dataclass
class RawVocab:
    """A counting pass: distinct words (first appearance), their counts, tokens and sentences read."""

    words: list[str]
    counts: np.ndarray  # (W,) int64
    total_words: int
    sentences: int


def scan_vocab(corpus, max_vocab_size: int | None = None, trim_rule=None, progress=None) -> RawVocab:
    """Count the words of `corpus` (see the module doc for max_vocab_size's pruning)."""
    if max_vocab_size is None:
        return RawVocab(*count_words(corpus, progress))
    vocab: dict = {}
    total = sentences = 0
    min_reduce = 1
    for sentence in read_sentences(corpus):
        for w in sentence:
            vocab[w] = vocab.get(w, 0) + 1
        total += len(sentence)
        sentences += 1
        if len(vocab) > max_vocab_size:
            vocab = {w: c for w, c in vocab.items() if keep_word(w, c, min_reduce, trim_rule)}
            min_reduce += 1
    return RawVocab(list(vocab), np.fromiter(vocab.values(), np.int64, len(vocab)), total, sentences)


def keep_word(word, count: int, min_count: int, trim_rule=None) -> bool:
    """gensim's keep_vocab_item: the trim rule's answer, or count >= min_count by default."""
    rule = RULE_DEFAULT if trim_rule is None else trim_rule(word, count, min_count)
    if rule == RULE_KEEP:
        return True
    if rule == RULE_DISCARD:
        return False
    return count >= min_count


def effective_min_count(counts: np.ndarray, min_count: int, max_final_vocab: int | None) -> int:
    """min_count raised until at most max_final_vocab words reach it (gensim's rule)."""
    if max_final_vocab is None or max_final_vocab >= len(counts):
        return max(min_count, 1) if max_final_vocab is not None else min_count
    nth = np.sort(np.asarray(counts))[::-1][max_final_vocab]  # the first word that must go
    return max(int(nth) + 1, min_count)


def choose_words(
    words, counts, min_count, max_final_vocab=None, trim_rule=None, sorted_vocab=1, max_vocab=None
):
    """Indices into `words` of the kept words, in vocabulary order (see the module doc)."""
    counts = np.asarray(counts, dtype=np.int64)
    floor = effective_min_count(counts, min_count, max_final_vocab)
    if trim_rule is None:
        kept = np.nonzero(counts >= floor)[0]
    else:
        kept = np.array(
            [i for i, (w, c) in enumerate(zip(words, counts.tolist())) if keep_word(w, c, floor, trim_rule)],
            dtype=np.int64,
        )
    return order_vocabulary(words, counts, floor, max_vocab, kept=kept, sort=bool(sorted_vocab))


def vocab_report(counts: np.ndarray, kept: np.ndarray, sample: float) -> dict:
    """gensim's prepare_vocab report: drop_unique, retain_total, downsample_unique,
    downsample_total (the expected tokens left after subsampling), num_retained_words."""
    from seqlab.embeddings.word2vec_sampling import keep_probabilities

    counts = np.asarray(counts, dtype=np.int64)
    retained = counts[kept]
    p = keep_probabilities(retained, sample) if len(retained) else np.ones(0)
    return {
        "drop_unique": int(len(counts) - len(kept)),
        "retain_total": int(retained.sum()),
        "downsample_unique": int((p < 1.0).sum()),
        "downsample_total": int((p * retained).sum()),
        "num_retained_words": int(len(kept)),
    }


def sample_thresholds(counts, sample: float) -> np.ndarray:
    """uint32 keep thresholds (gensim's sample_int) of words with these counts, the fraction of
    each taken among them (word2vec_sampling.keep_probabilities)."""
    from seqlab.embeddings.word2vec_sampling import keep_probabilities, keep_thresholds

    counts = np.asarray(counts, dtype=np.int64)
    return (
        keep_thresholds(keep_probabilities(np.maximum(counts, 1), sample))
        if len(counts)
        else np.zeros(0, np.uint32)
    )


def merge_update(old_words, old_counts, raw: RawVocab, min_count, trim_rule=None):
    """gensim's online update: (words, counts) with the old words first (counts increased by the
    new scan) and the new words that pass the rule appended in order of first appearance."""
    index = {w: i for i, w in enumerate(old_words)}
    counts = np.array(old_counts, dtype=np.int64)
    added, added_counts = [], []
    for w, c in zip(raw.words, raw.counts.tolist()):
        if not keep_word(w, c, min_count, trim_rule):
            continue
        if w in index:
            counts[index[w]] += c
        else:
            added.append(w)
            added_counts.append(c)
    return list(old_words) + added, np.concatenate([counts, np.asarray(added_counts, dtype=np.int64)])


def new_vectors(words, counts, dim: int, null_word: int = 0, hs: int = 0) -> KeyedVectors:
    """A KeyedVectors of the vocabulary (zero vectors until prepare_weights), with gensim's
    vecattrs: "count", "sample_int" (all kept until set) and with hs, "code" and "point"."""
    words, counts = list(words), np.asarray(counts, dtype=np.int64)
    if null_word:
        words, counts = words + [NULL_WORD], np.append(counts, 1)
    wv = KeyedVectors.from_arrays(words, np.zeros((len(words), dim), np.float32), counts)
    wv.expandos["sample_int"] = np.full(len(words), 0xFFFFFFFF, dtype=np.uint32)
    _store_paths(wv, hs)
    return wv


def grow_vectors(wv: KeyedVectors, words, counts, sample: float, hs: int = 0) -> int:
    """Apply merge_update's (words, counts) to `wv` in place: new words get zero rows (for
    prepare_weights); returns the number of rows before."""
    old = len(wv)
    if "sample_int" not in wv.expandos:  # a loaded model: from the counts, as training does
        wv.expandos["sample_int"] = sample_thresholds(wv.expandos["count"], sample)
    wv.expandos["count"] = np.asarray(counts[:old], dtype=np.int64)
    if len(words) > old:
        wv.add_vectors(list(words[old:]), np.zeros((len(words) - old, wv.vector_size), np.float32))
        wv.expandos["count"][old:] = counts[old:]
        wv.expandos["sample_int"][old:] = 0xFFFFFFFF
    _store_paths(wv, hs)
    return old


def _store_paths(wv: KeyedVectors, hs: int) -> None:
    """hs=1: each word's Huffman code and path as the vecattrs "code" and "point" (gensim's)."""
    if hs:
        codes, points, offsets = huffman_tree(wv.expandos["count"])
        for name, flat in (("code", codes), ("point", points)):
            column = np.empty(len(wv), dtype=object)
            column[:] = [flat[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
            wv.expandos[name] = column


def check_vocabulary(words) -> None:
    if not len(words):
        raise EmptyVocabularyError("no word in the vocabulary: build_vocab on a corpus first")


# ---- the Huffman tree ---------------------------------------------------------------------------
@njit(cache=True)
def _build_tree(sorted_counts):
    """word2vec.c's CreateBinaryTree on counts sorted in descending order: two queues (the leaves
    from the rarest up, the inner nodes in creation order) give the two smallest in O(1). Returns
    (parent (2V-1,), binary (2V-1,)); node V + k is the k-th inner node created, the root last."""
    V = sorted_counts.shape[0]
    count = np.empty(2 * V - 1, dtype=np.int64)
    count[:V] = sorted_counts
    parent = np.zeros(2 * V - 1, dtype=np.int64)
    binary = np.zeros(2 * V - 1, dtype=np.uint8)
    pos1 = V - 1  # next leaf (from the rarest)
    pos2 = V  # next inner node
    for a in range(V - 1):
        pair = np.empty(2, dtype=np.int64)
        for k in range(2):  # the smaller of the two queue heads; a tie takes the inner node (word2vec.c)
            if pos1 >= 0 and (pos2 >= V + a or count[pos1] < count[pos2]):
                pair[k] = pos1
                pos1 -= 1
            else:
                pair[k] = pos2
                pos2 += 1
        count[V + a] = count[pair[0]] + count[pair[1]]
        parent[pair[0]] = V + a
        parent[pair[1]] = V + a
        binary[pair[1]] = 1  # the second smallest takes branch 1
    return parent, binary


def huffman_tree(counts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes (P,) uint8, points (P,) int32, offsets (V+1,) int64) of every word, any count order.

    Word w's path from the root: inner nodes points[offsets[w]:offsets[w+1]] (0..V-2, the root
    is V-2), and codes, the branch taken at each (1 - code is its label in the sigmoid). Frequent
    words get short paths; sum_w count(w) * len(path w) is minimal (a Huffman code). One word has
    an empty path (no tree, as gensim).
    """
    counts = np.asarray(counts, dtype=np.int64)
    V = len(counts)
    if V < 2:
        return np.zeros(0, np.uint8), np.zeros(0, np.int32), np.zeros(V + 1, np.int64)
    order = np.argsort(-counts, kind="stable")  # rank r -> word; word2vec.c sorts the vocabulary first
    parent, binary = _build_tree(counts[order])
    depth = np.zeros(2 * V - 1, dtype=np.int64)
    for node in range(2 * V - 3, -1, -1):  # parents come after their children: walk down from the root
        depth[node] = depth[parent[node]] + 1
    lengths = np.empty(V, dtype=np.int64)
    lengths[order] = depth[:V]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    codes = np.empty(offsets[-1], dtype=np.uint8)
    points = np.empty(offsets[-1], dtype=np.int32)
    _fill_paths(order, parent, binary, depth, offsets, codes, points, V)
    return codes, points, offsets


@njit(cache=True)
def _fill_paths(order, parent, binary, depth, offsets, codes, points, V):
    for r in range(V):
        w = order[r]
        node = r
        at = offsets[w] + depth[r] - 1
        while node != 2 * V - 2:  # up to the root, writing the path backwards
            codes[at] = binary[node]
            points[at] = parent[node] - V
            node = parent[node]
            at -= 1
