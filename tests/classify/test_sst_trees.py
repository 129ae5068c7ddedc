"""The SST tree reader and Kim's phrase-level training sets: hand-written trees (escapes, malformed
lines with their line numbers), post-order dedup, SST-2 relabelling, and the real treebank against
the stsa.* files."""

import collections

import numpy as np
import pytest

from seqlab.classify.sst_trees import (
    Tree,
    node_count,
    parse_tree,
    phrase_examples,
    read_trees,
    sentence_examples,
)
from seqlab.errors import SeqlabError

# "The film -LRB- sort of -RRB- works ." / "Comedy\/drama , not bad" / "the film" again
TREES = [
    "(3 (2 (2 The) (2 film)) (3 (2 (1 -LRB-) (2 (2 sort) (2 (2 of) (2 -RRB-)))) (3 (3 works) (2 .))))",
    "(1 (2 (2 Comedy\\/drama) (2 ,)) (1 (1 not) (3 bad)))",
    "(4 (2 (2 the) (2 film)) (4 rocks))",
]


def test_leaves_labels_and_postorder():
    t = parse_tree(TREES[0])
    assert t.label == 3 and t.word is None and len(t.children) == 2
    assert t.leaves() == ["The", "film", "-LRB-", "sort", "of", "-RRB-", "works", "."]  # kept as released
    order = [(" ".join(n.leaves()), n.label) for n in t.postorder()]
    assert order[:3] == [("The", 2), ("film", 2), ("The film", 2)]  # children first
    assert order[-1] == ("The film -LRB- sort of -RRB- works .", 3)  # the root last
    assert node_count([t]) == 15  # 8 leaves + 7 inner nodes
    assert parse_tree(TREES[1]).leaves()[0] == "Comedy\\/drama"
    u = parse_tree(TREES[0], unescape=True)
    assert u.leaves()[2] == "(" and u.leaves()[5] == ")"
    assert parse_tree(TREES[1], unescape=True).leaves()[0] == "Comedy/drama"
    assert parse_tree("(2 8\xa01\\/2)").word == "8\xa01\\/2"  # a no-break space stays inside a token
    assert parse_tree("(0 x)") == Tree(0, word="x")


@pytest.mark.parametrize(
    "line,match",
    [
        ("(3 (2 The) (2 film)", "unbalanced brackets"),
        ("(3 (2 The) (2 film)))", "unbalanced brackets"),
        ("(3 (2 The)) (2 film)", "unbalanced brackets .text after the tree"),
        ("(x (2 The) (2 film))", "integer label"),
        ("(3 (2 The film))", "one token"),
        ("(3 )", "without a token"),
        ("The film", "expected '\\('"),
    ],
)
def test_malformed_trees_are_clear_errors(line, match):
    with pytest.raises(SeqlabError, match=match):
        parse_tree(line)


def test_read_trees_names_the_file_and_line(tmp_path):
    p = tmp_path / "train.txt"
    p.write_text(TREES[0] + "\n\n" + TREES[1] + "\n(3 (2 a) (2 b)\n", encoding="utf-8")
    with pytest.raises(SeqlabError, match=r"train.txt:4: unbalanced brackets \(3 '\(' and 2 '\)'\)"):
        read_trees(p)
    p.write_text(TREES[0] + "\n\n" + TREES[1] + "\n", encoding="utf-8")
    assert len(read_trees(p)) == 2  # blank lines skipped


def test_phrase_sets_dedup_in_postorder_and_relabel_for_sst2():
    trees = [parse_tree(t) for t in TREES]
    x1, y1 = phrase_examples(trees, "sst1")
    assert x1[:3] == ["the", "film", "the film"] and y1[:3] == [2, 2, 2]
    assert len(x1) == len(set(x1))  # distinct phrases only
    assert x1.count("the film") == 1  # tree 3 repeats it (after lowercasing)
    assert ("comedy\\/drama , not bad", 1) in zip(x1, y1)
    assert len(x1) == 15 + 7 + 2  # tree 3 adds "rocks" and its root only
    x2, y2 = phrase_examples(trees, "sst2")
    assert dict(zip(x2, y2)) == {
        "-lrb-": 0,
        "works": 1,
        "works .": 1,
        "-lrb- sort of -rrb- works .": 1,
        "the film -lrb- sort of -rrb- works .": 1,
        "not": 0,
        "bad": 1,
        "not bad": 0,
        "comedy\\/drama , not bad": 0,
        "rocks": 1,
        "the film rocks": 1,
    }
    s2 = sentence_examples(trees, "sst2")
    assert s2 == (
        ["the film -lrb- sort of -rrb- works .", "comedy\\/drama , not bad", "the film rocks"],
        [1, 0, 1],
    )
    assert sentence_examples([parse_tree("(2 (2 a) (2 b))")], "sst2") == ([], [])  # neutral sentences go
    with pytest.raises(SeqlabError, match="unknown SST task"):
        phrase_examples(trees, "sst3")


def _stsa_lines(folder, name):
    return sorted(ln for ln in (folder / name).read_text(encoding="utf-8").split("\n") if ln.strip())


@pytest.mark.needs_data("sentence_classification")
def test_dev_tree_roots_reproduce_the_stsa_dev_files():
    """The root labels of the dev trees give stsa.fine.dev and stsa.binary.dev line for line (as
    multisets: the files are in another order). The slow test below checks train and test too."""
    from seqlab.datasets import dataset_path

    folder = dataset_path("sentence_classification")
    trees = read_trees(folder / "sst_trees" / "dev.txt")
    for task, name in (("sst1", "stsa.fine.dev"), ("sst2", "stsa.binary.dev")):
        x, y = sentence_examples(trees, task)
        assert sorted(f"{b} {a}" for a, b in zip(x, y)) == _stsa_lines(folder, name)


@pytest.mark.slow
@pytest.mark.needs_data("sentence_classification")
def test_treebank_counts_and_every_stsa_file():
    """All three tree files reproduce the six stsa.* files; the phrase counts stated in
    docs/classify.md and the data README (318,582 nodes, 159,274 distinct phrase strings, 77,616 of
    them not neutral; Kim's lowercased sets: SST-1 156,817, SST-2 76,961)."""
    from seqlab.classify.data import load_dataset
    from seqlab.datasets import dataset_path

    folder = dataset_path("sentence_classification")
    parts = {p: read_trees(folder / "sst_trees" / f"{p}.txt") for p in ("train", "dev", "test")}
    assert {p: len(t) for p, t in parts.items()} == {"train": 8544, "dev": 1101, "test": 2210}
    for part, trees in parts.items():
        for task, name in (("sst1", "fine"), ("sst2", "binary")):
            x, y = sentence_examples(trees, task)
            assert sorted(f"{b} {a}" for a, b in zip(x, y)) == _stsa_lines(folder, f"stsa.{name}.{part}")
    train = parts["train"]
    assert node_count(train) == 318582
    labels = collections.defaultdict(set)
    for t in train:
        for n in t.postorder():
            labels[" ".join(n.leaves())].add(n.label)
    assert len(labels) == 159274 and all(len(v) == 1 for v in labels.values())
    assert sum(1 for v in labels.values() if 2 not in v) == 77616
    x1, y1 = phrase_examples(train, "sst1")
    x2, y2 = phrase_examples(train, "sst2")
    assert (len(x1), len(x2)) == (156817, 76961)
    assert np.bincount(y1).tolist() == [7189, 27513, 79856, 33016, 9243]
    assert np.bincount(y2).tolist() == [34702, 42259]
    ds = load_dataset("sst2")  # phrases by default, then clean_str_sst
    assert len(ds.train[0]) == 76961 and ds.train[0][0] == "new"
