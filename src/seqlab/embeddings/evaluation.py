"""Intrinsic evaluation of word vectors as pure functions: analogies (3CosAdd / 3CosMul) and
word-pair similarity, plus the analogy query syntax "king - man + woman".

The functions take any vectors object with `index_to_key` and `get_normed_vectors()` (a
KeyedVectors) and import nothing of it: `KeyedVectors.evaluate_word_analogies` /
`evaluate_word_pairs` call down into this module, and `seqlab.embeddings.benchmark.evaluate_vectors`
(the one-call benchmark suite) sits above both.

Results match gensim's `KeyedVectors.evaluate_word_analogies` / `evaluate_word_pairs` question for
question (same vocabulary restriction, same case folding, same exclusion of the input words), but:
- the object is never mutated (gensim temporarily swaps `key_to_index` while it evaluates);
- analogy questions are answered in batches, as matrix products `(B, D) @ (D, R)`, instead of one
  `most_similar` call per question, so 19,544 questions against 300K words take seconds;
- each section also reports how many questions were `seen` (all four words in the restricted
  vocabulary) and `skipped`.

Analogy file format (Mikolov et al. 2013, `questions-words.txt`): sections start with
`: name`; every other non-blank line is `a b c d`, read "a is to b as c is to d". The prediction is
the word closest to b - a + c among the first `restrict_vocab` words, the three inputs excluded.

Similarity file format (WordSim353, SimLex-999, MEN ...): `word1<TAB>word2<TAB>score`, lines
starting with `#` ignored. The score is Spearman's rho (and Pearson's r) between human scores and
cosines, over the pairs whose two words are known.

References: Mikolov et al. 2013 "Efficient estimation of word representations in vector space";
Levy & Goldberg 2014 "Linguistic regularities in sparse and explicit word representations"
(3CosMul); Finkelstein et al. 2002 (WordSim353); Hill et al. 2015 (SimLex-999).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from seqlab.errors import SeqlabError
from seqlab.files import read_text

# At most this many similarity scores (B x R floats) are held at once while batching analogies.
_BLOCK_FLOATS = 1 << 24


# ---- the analogy query syntax -------------------------------------------------------------------
def parse_expression(expr: str, known=None) -> tuple[list[str], list[str]]:
    """'king - man + woman' -> (['king', 'woman'], ['man']): the positive and negative words of
    `KeyedVectors.most_similar` (3CosAdd), as `seqlab embed analogy` and the web API take them.
    Operators are separate tokens or glued to the front of a word ('-man'); hyphens inside words
    are kept ('well-known'). known: the vocabulary (e.g. the KeyedVectors); when given, a token
    it does not hold is split at the operators inside it, so 'king-man+woman' reads as
    'king - man + woman' while a known 'well-known' stays one word."""
    positive: list[str] = []
    negative: list[str] = []
    sign = None
    tokens = expr.split()
    if known is not None:
        tokens = [t for tok in tokens for t in _split_glued(tok, known)]
    for tok in tokens:
        if tok in ("+", "-"):
            if sign is not None:
                raise SeqlabError(f"two operators in a row in {expr!r}")
            sign = tok
            continue
        if tok[0] in "+-" and len(tok) > 1:
            if sign is not None:
                raise SeqlabError(f"two operators in a row in {expr!r}")
            sign, tok = tok[0], tok[1:]
        if sign is None and (positive or negative):
            raise SeqlabError(f"missing + or - between words in {expr!r} (write e.g. 'king - man + woman')")
        (negative if sign == "-" else positive).append(tok)
        sign = None
    if sign is not None:
        raise SeqlabError(f"expression {expr!r} ends with an operator")
    if not positive:
        raise SeqlabError(f"expression {expr!r} needs at least one word added (e.g. 'king - man + woman')")
    return positive, negative


def _split_glued(tok: str, known) -> list[str]:
    """'king-man+woman' -> ['king', '-', 'man', '+', 'woman'] unless `known` holds the word."""
    if tok.lstrip("+-") in known or not any(c in "+-" for c in tok.lstrip("+-")):
        return [tok]
    out, word = [], ""
    for c in tok:
        if c in "+-":
            out += [word, c] if word else [c]
            word = ""
        else:
            word += c
    return out + ([word] if word else [])


# ---- analogy and similarity files ---------------------------------------------------------------
@dataclass(frozen=True)
class AnalogySection:
    name: str
    questions: list[tuple[str, str, str, str]]


def read_analogies(path: str | os.PathLike) -> list[AnalogySection]:
    """Parse a questions-words file into sections; SeqlabError (with the line) if malformed."""
    sections: list[AnalogySection] = []
    for line_no, line in enumerate(read_text(path).splitlines(), start=1):
        if line.startswith(":"):
            sections.append(AnalogySection(line.lstrip(": ").strip(), []))
            continue
        words = line.split()
        if not words:
            continue
        if not sections:
            raise SeqlabError(f"{path}: line {line_no}: question before the first ': section' header")
        if len(words) != 4:
            raise SeqlabError(f"{path}: line {line_no}: expected 4 words 'a b c d', got {len(words)}")
        sections[-1].questions.append(tuple(words))
    if not any(s.questions for s in sections):
        raise SeqlabError(
            f"{path}: no analogy questions found (expected ': section' headers and lines 'a b c d')"
        )
    return sections


def read_word_pairs(path: str | os.PathLike, delimiter: str = "\t") -> list[tuple[str, str, float]]:
    """Parse a similarity file into (word1, word2, score) triples.

    `#` lines and blank lines are skipped; so is a first line whose score is not a number (a
    column header). Any other malformed line raises SeqlabError naming it.
    """
    pairs: list[tuple[str, str, float]] = []
    first = True
    for line_no, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(delimiter)
        try:
            if len(parts) != 3:
                raise ValueError
            a, b, score = parts[0].strip(), parts[1].strip(), float(parts[2])
        except ValueError:
            if first:
                first = False
                continue
            raise SeqlabError(
                f"{path}: line {line_no}: expected 'word1{delimiter!r}word2"
                f"{delimiter!r}score', got {line[:60]!r}"
            ) from None
        first = False
        pairs.append((a, b, score))
    if not pairs:
        raise SeqlabError(f"{path}: no word pairs found (expected 'word1<TAB>word2<TAB>score')")
    return pairs


class _RestrictedVocab:
    """The first R words, looked up the way gensim does: with case folding, every word maps to
    the row of its first (most frequent) case variant, and `variants` lists all rows sharing it.
    """

    def __init__(self, kv, restrict_vocab: int | None, case_insensitive: bool):
        keys = kv.index_to_key[:restrict_vocab]
        self.size = len(keys)
        self.fold = str.upper if case_insensitive else (lambda s: s)
        self.lookup: dict[str, int] = {}
        canon = np.empty(self.size, dtype=np.int64)  # (R,) row of each row's first variant
        for i, k in enumerate(keys):
            canon[i] = self.lookup.setdefault(self.fold(k), i)
        # rows grouped by canonical row: variants of c are order[start[c]:start[c] + count[c]]
        self.order = np.argsort(canon, kind="stable")
        self.count = np.bincount(canon, minlength=self.size)
        self.start = np.concatenate([[0], np.cumsum(self.count)[:-1]])
        self.canon = canon

    def rows_of(self, canon_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For a (B, K) array of canonical rows: (batch index, row) of every case variant."""
        b, k = canon_rows.shape
        flat = canon_rows.ravel()
        cnt = self.count[flat]
        total = int(cnt.sum())
        # position j of the ragged output belongs to flat item `owner[j]`
        owner = np.repeat(np.arange(flat.size), cnt)
        within = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        rows = self.order[self.start[flat][owner] + within]
        return owner // k, rows


def _answer(normed: np.ndarray, q: np.ndarray, vocab: _RestrictedVocab, method: str) -> np.ndarray:
    """Predicted canonical rows for questions q (B, 4) of canonical rows (a, b, c, expected)."""
    preds = np.empty(len(q), dtype=np.int64)
    step = max(1, _BLOCK_FLOATS // max(vocab.size, 1))
    for s in range(0, len(q), step):
        a, b, c = (q[s : s + step, j] for j in range(3))
        if method == "most_similar":
            query = normed[b] - normed[a] + normed[c]  # (B, D); ranking ignores its norm
            sims = query @ normed.T  # (B, R)
        else:  # 3CosMul with cosines shifted to [0, 1], as in gensim
            sims = (
                (1 + normed[b] @ normed.T)
                * (1 + normed[c] @ normed.T)
                / 4
                / ((1 + normed[a] @ normed.T) / 2 + 1e-6)
            )  # (B, R)
        bi, rows = vocab.rows_of(q[s : s + step, :3])
        sims[bi, rows] = -np.inf
        preds[s : s + step] = vocab.canon[np.argmax(sims, axis=1)]
    return preds


def evaluate_word_analogies(
    kv,
    analogies,
    restrict_vocab: int | None = 300000,
    case_insensitive: bool = True,
    dummy4unknown: bool = False,
    similarity_function: str = "most_similar",
):
    """Accuracy on an analogy file, as gensim's `evaluate_word_analogies` but without side effects.

    Args:
        kv: a KeyedVectors (vocabulary sorted by frequency for `restrict_vocab` to make sense).
        analogies: path of a questions-words file.
        restrict_vocab: only the first N words are candidates, and questions using any other
            word are skipped (30000 is the usual setting for comparing models).
        case_insensitive: fold case (upper) for the file and vocabulary; a word's vector is that
            of its most frequent case variant.
        dummy4unknown: count skipped questions as incorrect instead of leaving them out.
        similarity_function: "most_similar" (3CosAdd) or "most_similar_cosmul" (3CosMul).

    Returns:
        (accuracy, sections): accuracy in [0, 1] over the seen questions; sections is a list of
        dicts with `section`, `correct` and `incorrect` (lists of 4-tuples, case-folded as in
        gensim), `seen` and `skipped`, followed by a "Total accuracy" entry over all sections.
    """
    if similarity_function not in ("most_similar", "most_similar_cosmul"):
        raise SeqlabError(
            f"unknown similarity_function {similarity_function!r}; "
            "use 'most_similar' or 'most_similar_cosmul'"
        )
    sections = read_analogies(analogies)
    vocab = _RestrictedVocab(kv, restrict_vocab, case_insensitive)
    fold = vocab.fold
    # every question as 4 folded words, with its section number, and whether all words are known
    folded = [tuple(fold(w) for w in q) for s in sections for q in s.questions]
    sec_of = np.repeat(np.arange(len(sections)), [len(s.questions) for s in sections])
    lookup = vocab.lookup
    known = np.array([all(w in lookup for w in q) for q in folded], dtype=bool)
    q_rows = np.array([[lookup[w] for w in q] for q, ok in zip(folded, known) if ok], dtype=np.int64).reshape(
        -1, 4
    )
    correct = np.zeros(len(folded), dtype=bool)
    if len(q_rows):
        normed = np.ascontiguousarray(kv.get_normed_vectors()[: vocab.size])  # (R, D)
        preds = _answer(normed, q_rows, vocab, similarity_function)
        correct[np.nonzero(known)[0]] = preds == q_rows[:, 3]

    out = []
    for si, s in enumerate(sections):
        idx = np.nonzero(sec_of == si)[0]
        sec = {
            "section": s.name,
            "correct": [],
            "incorrect": [],
            "seen": int(known[idx].sum()),
            "skipped": int((~known[idx]).sum()),
        }
        for i in idx:
            if known[i]:
                sec["correct" if correct[i] else "incorrect"].append(folded[i])
            elif dummy4unknown:
                sec["incorrect"].append(folded[i])
        out.append(sec)
    total = {
        "section": "Total accuracy",
        "correct": [q for s in out for q in s["correct"]],
        "incorrect": [q for s in out for q in s["incorrect"]],
        "seen": int(known.sum()),
        "skipped": int((~known).sum()),
    }
    out.append(total)
    n = len(total["correct"]) + len(total["incorrect"])
    accuracy = len(total["correct"]) / n if n else 0.0
    return accuracy, out


def evaluate_word_pairs(
    kv,
    pairs,
    delimiter: str = "\t",
    restrict_vocab: int | None = 300000,
    case_insensitive: bool = True,
    dummy4unknown: bool = False,
):
    """Correlation of cosines with human similarity scores, as gensim's `evaluate_word_pairs`.

    Returns:
        (pearson, spearman, oov_ratio): scipy results `(statistic, pvalue)` for Pearson's r and
        Spearman's rho over the pairs with both words among the first `restrict_vocab` (all
        pairs, unknown ones scored 0, with `dummy4unknown`), and the percentage of pairs with an
        unknown word.
    """
    from scipy import stats

    triples = read_word_pairs(pairs, delimiter)
    vocab = _RestrictedVocab(kv, restrict_vocab, case_insensitive)
    fold, lookup = vocab.fold, vocab.lookup
    known = np.array([fold(a) in lookup and fold(b) in lookup for a, b, _ in triples])
    gold = np.array([t[2] for t in triples], dtype=np.float64)
    rows = np.array(
        [[lookup[fold(a)], lookup[fold(b)]] for (a, b, _), ok in zip(triples, known) if ok], dtype=np.int64
    ).reshape(-1, 2)
    normed = kv.get_normed_vectors()
    model = np.zeros(len(triples), dtype=np.float64)
    model[known] = np.einsum("ij,ij->i", normed[rows[:, 0]], normed[rows[:, 1]])
    keep = np.ones_like(known) if dummy4unknown else known
    if keep.sum() < 3:
        raise SeqlabError(
            f"{pairs}: only {int(keep.sum())} pairs have both words in the "
            "vocabulary; at least 3 are needed for a correlation"
        )
    pearson = stats.pearsonr(gold[keep], model[keep])
    spearman = stats.spearmanr(gold[keep], model[keep])
    oov_ratio = 100.0 * float((~known).sum()) / len(triples)
    return pearson, spearman, oov_ratio
