"""Tiny SST-style treebanks for the recursive nets' tests: neutral filler words, then a cue word
whose node and the root carry the sentence's label, so a tree model learns them in a few epochs."""

import numpy as np

from seqlab.classify.sst_trees import parse_tree

CUES = {0: ["awful", "dull"], 1: ["bad"], 2: ["okay"], 3: ["good"], 4: ["great", "superb"]}


def tiny_lines(n, seed=0, labels=(0, 1, 3, 4)):
    """n trees in PTB bracket form, labels cycling through `labels`."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = labels[i % len(labels)]
        words = [f"w{j}" for j in rng.choice(12, size=rng.integers(1, 5), replace=False)]
        filler = f"(2 {words[-1]})"
        for w in reversed(words[:-1]):
            filler = f"(2 (2 {w}) {filler})"
        out.append(f"({label} {filler} ({label} {rng.choice(CUES[label])}))")
    return out


def tiny_trees(n, seed=0, labels=(0, 1, 3, 4)):
    return [parse_tree(t) for t in tiny_lines(n, seed, labels)]
