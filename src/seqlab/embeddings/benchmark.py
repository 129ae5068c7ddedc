"""`evaluate_vectors`: the standard intrinsic benchmarks of any word vectors in one call.

The Google analogy questions (Mikolov et al. 2013) and the WordSim353 / SimLex-999 word-pair sets,
found by name in the data folder (`seqlab.datasets`), scored by the pure functions of
`seqlab.embeddings.evaluation` and returned as the one flat dict that `seqlab embed eval --json`
prints. It sits on top of `KeyedVectors` (it loads vectors given by name or path), so that the
scoring functions below it never import the object they score.
"""

from __future__ import annotations

import os
from pathlib import Path

from seqlab.datasets import resolve_file
from seqlab.embeddings.evaluation import evaluate_word_analogies, evaluate_word_pairs
from seqlab.embeddings.vector_sources import load_vectors
from seqlab.errors import ParameterError


def evaluate_vectors(
    kv,
    analogies="questions-words",
    similarity=("wordsim353", "simlex999"),
    restrict_vocab: int | None = 30000,
    similarity_restrict_vocab: int | None = 300000,
    case_insensitive: bool = True,
) -> dict:
    """Run the analogy and similarity benchmarks and return one flat dict of scores: the dict
    that `seqlab embed eval --json` prints.

    Args:
        kv: a KeyedVectors, or anything `load_vectors` takes (a vectors file, "glove-6b-50d").
        analogies: a questions-words file, or a dataset name of the data folder
            ("questions-words", the default); None skips the analogies.
        similarity: word-pair files (`word1<TAB>word2<TAB>score`) or dataset names (default
            WordSim353 and SimLex-999); empty skips them.
        restrict_vocab: analogies use only the N most frequent words, and questions with another
            word are skipped (30000, the usual setting for comparing models).
        similarity_restrict_vocab: pairs with a word outside the N most frequent are skipped
            (gensim's 300000).
        case_insensitive: fold case as gensim does (a word's vector is that of its most frequent
            case variant).

    Keys: `analogy.accuracy` (0-1), `analogy.seen`, `analogy.skipped`, `analogy.<section>` per
    section accuracy (when any question in it was seen), and for each similarity file (named by
    its stem, e.g. `wordsim353`) `similarity.<name>.spearman`, `.pearson` and `.oov_ratio` (%).
    The vectors are not modified.
    """
    for name, value in (
        ("restrict_vocab", restrict_vocab),
        ("similarity_restrict_vocab", similarity_restrict_vocab),
    ):
        if value is not None and value < 1:
            raise ParameterError(name, f"must be at least 1, got {value}")
    if isinstance(kv, (str, os.PathLike)):
        kv = load_vectors(kv)
    out: dict = {}
    if analogies is not None:
        acc, sections = evaluate_word_analogies(
            kv, resolve_file(analogies), restrict_vocab=restrict_vocab, case_insensitive=case_insensitive
        )
        total = sections[-1]
        out["analogy.accuracy"] = acc
        out["analogy.seen"] = total["seen"]
        out["analogy.skipped"] = total["skipped"]
        for s in sections[:-1]:
            if s["seen"]:
                out[f"analogy.{s['section']}"] = len(s["correct"]) / s["seen"]
    if isinstance(similarity, (str, os.PathLike)):
        similarity = [similarity]
    for spec in similarity or ():
        path = resolve_file(spec)
        name = Path(path).name.split(".")[0]
        pearson, spearman, oov = evaluate_word_pairs(
            kv, path, restrict_vocab=similarity_restrict_vocab, case_insensitive=case_insensitive
        )
        out[f"similarity.{name}.spearman"] = float(spearman[0])
        out[f"similarity.{name}.pearson"] = float(pearson[0])
        out[f"similarity.{name}.oov_ratio"] = oov
    return out
