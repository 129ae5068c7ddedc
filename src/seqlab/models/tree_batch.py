"""Binary trees as integer arrays, and many of them batched level by level (by height).

One tree of n words is `TreeArrays`: its leaves' word ids, the (left, right) children of each of its
n - 1 inner nodes and every node's height. Its nodes are numbered leaves first (0 .. n-1, left to
right), then inner nodes children before parents (n .. 2n-2; the root is last):

         6            words    = [w0, w1, w2, w3]      (nodes 0-3, height 0)
       /   \\          children = [[1, 2],             node 4 = (w1 w2), height 1
      0     5                     [4, 3],             node 5 = ((w1 w2) w3), height 2
           / \\                    [0, 5]]             node 6 = the root, height 3
          4   3
         / \\
        1   2

`TreeBatch.build` renumbers the nodes of a batch of trees so that all nodes of one height, in every
tree, form one contiguous block (leaves = height 0 first). A level's children all sit in lower
blocks, so the network computes each block with one batched composition after the blocks below it
(DGL's `prop_nodes_topo`, with the frontiers precomputed by a stable sort on height):

    batch ids  [ leaves of all trees | height 1 of all trees | height 2 ... | ... ]
    levels[k]  (start, end, left ids, right ids) of block k + 1
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class TreeArrays:
    """One binary tree: `words` (n,) word ids of the leaves left to right, `children` (n-1, 2) the
    left and right child of each inner node in post-order, `height` (2n-1,) of every node."""

    words: np.ndarray
    children: np.ndarray
    height: np.ndarray

    @classmethod
    def from_children(cls, words, children) -> TreeArrays:
        """Check the numbering (children before parents, every node but the root used once) and
        compute the heights."""
        words = np.asarray(words, dtype=np.int64).reshape(-1)
        n = len(words)
        children = np.asarray(children, dtype=np.int64).reshape(-1, 2)
        if n < 1 or len(children) != n - 1:
            raise ValueError(
                f"a binary tree of {n} words has {max(n - 1, 0)} inner nodes, got {len(children)}"
            )
        height = np.zeros(2 * n - 1, dtype=np.int64)
        used = np.zeros(2 * n - 1, dtype=bool)
        for j, (a, b) in enumerate(children.tolist()):
            node = n + j
            if not (0 <= a < node and 0 <= b < node) or a == b or used[a] or used[b]:
                raise ValueError(f"inner node {node} has children ({a}, {b}): not a tree in post-order")
            used[a] = used[b] = True
            height[node] = 1 + max(height[a], height[b])
        return cls(words, children, height)

    @classmethod
    def right_branching(cls, words) -> TreeArrays:
        """(w0 (w1 (w2 ... (w_{n-2} w_{n-1})))): the tree given to text that comes without one."""
        n = len(words)
        children, right = [], n - 1
        for i in range(n - 2, -1, -1):
            children.append((i, right))
            right = n + len(children) - 1
        return cls.from_children(words, children)

    @property
    def num_nodes(self) -> int:
        return len(self.height)


@dataclass
class TreeBatch:
    """Many trees in one height-ordered numbering (see the module docstring).

    words (L,): word ids of the leaves, batch ids 0 .. L-1. levels: (start, end, left, right) per
    height >= 1, left/right (end - start,) batch ids of the children. roots (B,): each tree's root.
    index (N,): the batch id of every node of the trees in their own numbering, tree after tree
    (`to_batch_order` moves per-node values such as labels from that order into the batch's)."""

    words: torch.Tensor
    levels: list[tuple[int, int, torch.Tensor, torch.Tensor]]
    roots: torch.Tensor
    index: torch.Tensor
    num_nodes: int

    @classmethod
    def build(cls, trees: Sequence[TreeArrays]) -> TreeBatch:
        """Renumber `trees` by height with NumPy (no Python loop over nodes)."""
        sizes = np.array([t.num_nodes for t in trees])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        height = np.concatenate([t.height for t in trees])  # (N,) in the trees' own numbering
        order = np.argsort(height, kind="stable")  # batch id -> own id; leaves keep their order
        index = np.empty_like(order)
        index[order] = np.arange(len(order))  # own id -> batch id
        nwords = np.array([len(t.words) for t in trees])
        words = np.concatenate([t.words for t in trees])  # (L,) already in batch order
        inner = [t.children + off for t, off in zip(trees, offsets)]
        children = np.concatenate(inner) if inner else np.zeros((0, 2), np.int64)
        parents = np.concatenate([off + n + np.arange(n - 1) for off, n in zip(offsets, nwords)])
        left = np.zeros(len(order), dtype=np.int64)
        right = np.zeros(len(order), dtype=np.int64)
        left[index[parents]] = index[children[:, 0]]
        right[index[parents]] = index[children[:, 1]]
        counts = np.bincount(height)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        levels = []
        lt, rt = torch.from_numpy(left), torch.from_numpy(right)
        for k in range(1, len(counts)):
            s, e = int(bounds[k]), int(bounds[k + 1])
            levels.append((s, e, lt[s:e], rt[s:e]))
        return cls(
            torch.from_numpy(words),
            levels,
            torch.from_numpy(index[offsets + sizes - 1]),
            torch.from_numpy(index),
            len(order),
        )

    def to_batch_order(self, values: torch.Tensor) -> torch.Tensor:
        """Per-node `values` (N, ...) in the trees' own numbering, tree after tree -> batch order."""
        out = torch.empty_like(values)
        out[self.index] = values
        return out

    def to(self, device) -> TreeBatch:
        return TreeBatch(
            self.words.to(device),
            [(s, e, lt.to(device), rt.to(device)) for s, e, lt, rt in self.levels],
            self.roots.to(device),
            self.index.to(device),
            self.num_nodes,
        )
