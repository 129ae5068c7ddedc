"""Sentence-classification data: README counts, Kim's clean_str, folds, bucketed batches, user files."""

import re

import numpy as np
import pytest

from seqlab.classify.data import (
    clean_str,
    clean_str_sst,
    holdout_split,
    load_any,
    load_dataset,
    load_user_file,
    stratified_folds,
)
from seqlab.errors import SeqlabError


def kim_clean_str(string, TREC=False):
    """Kim's process_data.py clean_str, copied rule for rule. (" \\( " is the same string value as
    Kim's " \\( " written without the doubled backslash, which Python 3.12 warns about.)"""
    string = re.sub(r"[^A-Za-z0-9(),!?\'\`]", " ", string)
    string = re.sub(r"\'s", " 's", string)
    string = re.sub(r"\'ve", " 've", string)
    string = re.sub(r"n\'t", " n't", string)
    string = re.sub(r"\'re", " 're", string)
    string = re.sub(r"\'d", " 'd", string)
    string = re.sub(r"\'ll", " 'll", string)
    string = re.sub(r",", " , ", string)
    string = re.sub(r"!", " ! ", string)
    string = re.sub(r"\(", " \\( ", string)
    string = re.sub(r"\)", " \\) ", string)
    string = re.sub(r"\?", " \\? ", string)
    string = re.sub(r"\s{2,}", " ", string)
    return string.strip() if TREC else string.strip().lower()


def kim_clean_str_sst(string):
    string = re.sub(r"[^A-Za-z0-9(),!?\'\`]", " ", string)
    string = re.sub(r"\s{2,}", " ", string)
    return string.strip().lower()


EXAMPLES = [
    "It's a film that doesn't know what it's doing (really)!",
    "I'd've thought they'll say \"no\"... we're here, aren't we?",
    "the rock is destined to be the 21st century's new \" conan \" and that he's going to make a splash",
    "What is the capital of Nepal ?  How did serfdom develop in and then leave Russia ?",
    "café — naïve résumé; 50% off: $3.99 `quoted' text",
    "",
]


@pytest.mark.parametrize("text", EXAMPLES)
def test_clean_str_matches_kim(text):
    assert clean_str(text) == kim_clean_str(text)
    assert clean_str(text, trec=True) == kim_clean_str(text, TREC=True)
    assert clean_str_sst(text) == kim_clean_str_sst(text)


@pytest.mark.needs_data("sentence_classification")
def test_clean_str_on_real_lines_matches_kim():
    from seqlab.datasets import dataset_path

    folder = dataset_path("sentence_classification")
    for name in ("rt-polarity.all", "TREC.train.all", "custrev.all"):
        lines = (folder / name).read_text(encoding="utf-8").split("\n")[:300]
        for ln in lines:
            text = ln.partition(" ")[2]
            assert clean_str(text, trec=name.startswith("TREC")) == kim_clean_str(
                text, TREC=name.startswith("TREC")
            )


README_COUNTS = {  # shared/data/README.md, sentence_classification table
    "mr": ([5331, 5331], None, None),
    "sst1": ([1092, 2218, 1624, 2322, 1288], [139, 289, 229, 279, 165], [279, 633, 389, 510, 399]),
    "sst2": ([3310, 3610], [428, 444], [912, 909]),
    "subj": ([5000, 5000], None, None),
    "trec": ([1162, 1250, 86, 1223, 835, 896], None, [138, 94, 9, 65, 81, 113]),
    "cr": ([1368, 2407], None, None),
    "mpqa": ([7294, 3312], None, None),
}


@pytest.mark.needs_data("sentence_classification")
@pytest.mark.parametrize("name", list(README_COUNTS))
def test_loaders_give_readme_counts(name):
    ds = load_dataset(name, sst_train="sentences")  # SST: the stsa.*.train sentences
    train, dev, test = README_COUNTS[name]
    assert np.bincount(ds.train[1]).tolist() == train
    assert len(ds.train[0]) == sum(train)
    assert (None if ds.dev is None else np.bincount(ds.dev[1]).tolist()) == dev
    assert (None if ds.test is None else np.bincount(ds.test[1]).tolist()) == test
    assert ds.cv == (name in ("mr", "subj", "cr", "mpqa"))
    assert len(ds.labels) == len(train)


@pytest.mark.needs_data("sentence_classification")
def test_loaders_keep_empty_sentences_and_case_rules():
    # README: CR has 4 and MPQA 3 lines with a label and no text; cleaning may empty a few more
    assert sum(1 for s in load_dataset("cr").train[0] if not s) >= 4
    assert sum(1 for s in load_dataset("mpqa").train[0] if not s) >= 3
    trec = load_dataset("trec")
    # case kept; "?" without the backslash Kim's clean_str leaves (issue 25)
    assert trec.train[0][0] == "How did serfdom develop in and then leave Russia ?"
    assert all(s == s.lower() for s in load_dataset("mr").train[0][:200])


def test_unknown_dataset_is_a_clean_error():
    with pytest.raises(SeqlabError, match="unknown dataset"):
        load_dataset("imdb")
    with pytest.raises(SeqlabError, match="unknown SST training set 'trees'; use phrases or sentences"):
        load_any("sst2", sst_train="trees")
    with pytest.raises(SeqlabError, match="not an existing file"):
        load_any("no/such/file.tsv")


def test_stratified_folds_partition_stratify_and_repeat():
    y = np.array([0] * 530 + [1] * 240 + [2] * 30)
    folds = stratified_folds(y, 10, seed=3)
    assert len(folds) == 10
    all_test = np.concatenate([te for _, te in folds])
    assert sorted(all_test.tolist()) == list(range(len(y)))  # each row tested exactly once
    for tr, te in folds:
        assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == len(y)
        counts = np.bincount(y[te], minlength=3)
        assert np.all(np.abs(counts - np.array([53, 24, 3])) <= 1)  # proportions kept per fold
    again = stratified_folds(y, 10, seed=3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    other = stratified_folds(y, 10, seed=4)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other))
    with pytest.raises(SeqlabError, match="at least 10 examples"):
        stratified_folds(np.array([0] * 50 + [1] * 5), 10)


def test_holdout_split_is_a_partition():
    tr, dv = holdout_split(101, 0.1, seed=0)
    assert len(dv) == 10 and sorted(np.concatenate([tr, dv]).tolist()) == list(range(101))


def test_user_files_tab_and_csv(tmp_path):
    tsv = tmp_path / "d.tsv"
    tsv.write_text("pos\tA great movie!\nneg\tDull, dull, dull.\npos\tLoved it\n", encoding="utf-8")
    ds = load_user_file(tsv)
    assert ds.labels == ("neg", "pos") and ds.train[1].tolist() == [1, 0, 1]
    assert ds.train[0][0] == "a great movie !"
    csv = tmp_path / "d.csv"
    csv.write_text('label,text\nspam,"Win money, now"\nham,see you at 5\n', encoding="utf-8")
    ds = load_user_file(csv)
    assert ds.labels == ("ham", "spam") and ds.train[0][0] == "win money , now"


@pytest.mark.parametrize(
    "content,match",
    [
        ("pos\tgood\nno label here\n", "without a label"),
        ("pos\tgood\npos\tfine\n", "only one class"),
        ("", "empty"),
        ("\tgood\npos\tok\n", "without a label"),
    ],
)
def test_user_file_errors(tmp_path, content, match):
    p = tmp_path / "bad.tsv"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(SeqlabError, match=match):
        load_user_file(p)


def test_dataset_repr_is_a_short_summary():
    from seqlab.classify.data import SentenceDataset

    texts = ["a long sentence of many words " * 20] * 5000
    ds = SentenceDataset("mine", ("bad", "good"), "kim", True, (texts, np.zeros(5000, dtype=int)))
    assert repr(ds) == "SentenceDataset('mine', train=5000, labels=('bad', 'good'), cross-validated)"
    many = SentenceDataset("x", tuple(f"c{i}" for i in range(30)), "kim", False, ([], []), None, ([], []))
    assert "'c9', ... (30 in all)" in repr(many) and "'c10'" not in repr(many) and "test=0" in repr(many)


@pytest.mark.needs_data("sentence_classification")
def test_trec_repr_and_cleaning_without_kims_backslashes():
    from seqlab.classify.data import CLEANERS
    from seqlab.datasets import dataset_path

    trec = load_dataset("trec")
    labels = "('DESC', 'ENTY', 'ABBR', 'HUM', 'LOC', 'NUM')"
    assert repr(trec) == f"SentenceDataset('trec', train=5452, test=500, labels={labels}, fixed test split)"
    assert not any("\\" in s for s in trec.train[0] + trec.test[0])
    # Kim's clean_str, token for token, only without the backslash it writes before ? ( )
    raw = (dataset_path("sentence_classification") / "TREC.train.all").read_text(encoding="utf-8")
    for line, cleaned in zip(raw.split("\n")[:500], trec.train[0]):
        kim = kim_clean_str(line.partition(" ")[2], TREC=True)
        assert cleaned.split() == [t.replace("\\", "") for t in kim.split()]
    assert sum(s.endswith(" ?") for s in trec.train[0]) > 5000
    # checkpoints trained before issue 25 say "kim-trec" and keep cleaning as their data was
    assert CLEANERS["kim-trec"]("Where is it (now)?") == kim_clean_str("Where is it (now)?", TREC=True)
