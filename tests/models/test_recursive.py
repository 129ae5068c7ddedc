"""Recursive nets: the level-batched forward equals a plain node-by-node replay of each paper's
formula (outputs and gradients), the batching is right on trees of any shape, and the lecture's
slide: the composition over every adjacent pair is a width-2 convolution."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqlab.errors import ParameterError
from seqlab.models.recursive import COMPOSITIONS, RecNNCell, RecursiveConfig, RecursiveNet
from seqlab.models.tree_batch import TreeArrays, TreeBatch

V, C = 12, 5


def hand_trees():
    """Trees of different heights and shapes: balanced, left- and right-branching, one word, two words."""
    return [
        TreeArrays.from_children([3, 4, 5, 6], [[1, 2], [4, 3], [0, 5]]),  # (w0 ((w1 w2) w3)), height 3
        TreeArrays.from_children([1, 2, 3, 4], [[0, 1], [2, 3], [4, 5]]),  # ((w0 w1) (w2 w3)), height 2
        TreeArrays.from_children([7, 8, 9], [[0, 1], [3, 2]]),  # ((w0 w1) w2), left-branching
        TreeArrays.right_branching([11, 10, 9, 8, 7, 6]),  # height 5
        TreeArrays.right_branching([5]),  # one word: the root is a leaf
        TreeArrays.right_branching([2, 0]),
    ]


def reference_logits(net: RecursiveNet, tree: TreeArrays) -> torch.Tensor:
    """Node by node in the tree's own numbering, each formula written out from its paper."""
    cfg, cell = net.config, net.cell
    d, H = cfg.embedding_dim, cfg.hidden_size
    sig = torch.sigmoid
    n = len(tree.words)
    vec, mat, h, c = {}, {}, {}, {}
    for i, w in enumerate(tree.words.tolist()):
        x = net.embedding.weight[w]
        if cfg.composition == "tree-lstm":
            Wl, bl = cell.leaf_gates.weight, cell.leaf_gates.bias
            ig, og = sig(Wl[:H] @ x + bl[:H]), sig(Wl[H : 2 * H] @ x + bl[H : 2 * H])
            ug = torch.tanh(Wl[2 * H :] @ x + bl[2 * H :])
            c[i] = ig * ug
            h[i] = og * torch.tanh(c[i])
        else:
            vec[i] = torch.tanh(x) if cfg.composition in ("recnn", "rntn") else x  # CoreNLP's leaves
            if cfg.composition == "mv-rnn" and not cfg.matrix_rank:
                mat[i] = net.word_matrices.weight[w].view(d, d)
            elif cfg.composition == "mv-rnn":  # A = U V + diag(a), the row holding [vec(U); vec(V); a]
                row, r = net.word_matrices.weight[w], cfg.matrix_rank
                U, Vm, a = row[: d * r].view(d, r), row[d * r : 2 * d * r].view(r, d), row[2 * d * r :]
                mat[i] = U @ Vm + torch.diag(a)
    for j, (l, r) in enumerate(tree.children.tolist()):
        p = n + j
        if cfg.composition == "recnn":
            vec[p] = torch.tanh(cell.W.weight @ torch.cat([vec[l], vec[r]]) + cell.W.bias)
        elif cfg.composition == "rntn":
            x = torch.cat([vec[l], vec[r]])
            tensor = torch.stack([x @ cell.V[k] @ x for k in range(d)])
            vec[p] = torch.tanh(tensor + cell.W.weight @ x + cell.W.bias)
        elif cfg.composition == "mv-rnn":
            a, A, b, B = vec[l], mat[l], vec[r], mat[r]
            vec[p] = torch.tanh(cell.W.weight @ torch.cat([B @ a, A @ b]) + cell.W.bias)
            mat[p] = cell.WM @ torch.cat([A, B], 0)  # W_M (d, 2d) @ [A; B] (2d, d)
        else:
            U, bU = cell.U.weight, cell.U.bias
            z = U @ torch.cat([h[l], h[r]]) + bU
            ig, fl, fr, og = (sig(z[k * H : (k + 1) * H]) for k in range(4))
            ug = torch.tanh(z[4 * H :])
            c[p] = ig * ug + fl * c[l] + fr * c[r]
            h[p] = og * torch.tanh(c[p])
    out = h if cfg.composition == "tree-lstm" else vec
    states = torch.stack([out[i] for i in range(tree.num_nodes)])
    return states @ net.fc.weight.T + net.fc.bias


@pytest.mark.parametrize("composition, rank", [(c, 0) for c in COMPOSITIONS] + [("mv-rnn", 2)])
def test_batched_forward_and_gradients_equal_a_node_by_node_replay(composition, rank):
    torch.manual_seed(0)
    cfg = RecursiveConfig(V, C, composition, embedding_dim=4, hidden_size=3, matrix_rank=rank)
    net = RecursiveNet(cfg).double()
    with torch.no_grad():  # move away from the near-identity start so every term matters
        for p in net.parameters():
            p.add_(0.3 * torch.randn_like(p))
    trees = hand_trees()
    batch = TreeBatch.build(trees)
    got = net(batch)  # (N, C) batch order
    want = torch.cat([reference_logits(net, t) for t in trees])  # (N, C) trees' own order
    assert torch.allclose(got, batch.to_batch_order(want), atol=1e-12)
    weights = torch.randn_like(want)
    (got * batch.to_batch_order(weights)).sum().backward()
    grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    (want * weights).sum().backward()
    for (name, p), g in zip(net.named_parameters(), grads):
        assert torch.allclose(g, p.grad, atol=1e-10), name
        assert p.grad.abs().sum() > 0, name  # every parameter is used


def test_tree_batch_orders_nodes_by_height_in_contiguous_levels():
    trees = hand_trees()
    batch = TreeBatch.build(trees)
    height = batch.to_batch_order(torch.from_numpy(np.concatenate([t.height for t in trees])))
    n_leaves = sum(len(t.words) for t in trees)
    assert (height[:n_leaves] == 0).all() and (height[n_leaves:] > 0).all()
    assert batch.words.tolist() == [w for t in trees for w in t.words.tolist()]
    for k, (s, e, left, right) in enumerate(batch.levels, 1):
        assert (height[s:e] == k).all()
        assert (height[left] < k).all() and (height[right] < k).all()
        assert (torch.maximum(height[left], height[right]) == k - 1).all()
    assert batch.levels[-1][1] == batch.num_nodes == sum(t.num_nodes for t in trees)
    own_roots = np.cumsum([t.num_nodes for t in trees]) - 1
    assert batch.roots.tolist() == batch.index[own_roots].tolist()


@pytest.mark.parametrize("composition", COMPOSITIONS)
def test_a_tree_gets_the_same_logits_alone_or_in_any_batch(composition):
    torch.manual_seed(1)
    net = RecursiveNet(RecursiveConfig(V, C, composition, embedding_dim=5, hidden_size=4)).double()
    trees = hand_trees()
    alone = [net(TreeBatch.build([t]))[TreeBatch.build([t]).roots] for t in trees]
    for order in (range(len(trees)), reversed(range(len(trees)))):
        ts = [trees[i] for i in order]
        batch = TreeBatch.build(ts)
        roots = net(batch)[batch.roots]
        for i, r in zip(order, roots):
            assert torch.allclose(r, alone[i][0], atol=1e-12)


def test_right_branching_and_malformed_trees():
    t = TreeArrays.right_branching([4, 5, 6])  # (w0 (w1 w2))
    assert t.children.tolist() == [[1, 2], [0, 3]] and t.height.tolist() == [0, 0, 0, 1, 2]
    with pytest.raises(ValueError, match="inner nodes"):
        TreeArrays.from_children([1, 2, 3], [[0, 1]])
    with pytest.raises(ValueError, match="not a tree"):
        TreeArrays.from_children([1, 2, 3], [[0, 1], [0, 2]])  # node 0 used twice


def test_config_names_the_bad_parameter():
    with pytest.raises(ParameterError, match="composition"):
        RecursiveConfig(V, C, "rnn").validate()
    with pytest.raises(ParameterError, match="dropout"):
        RecursiveConfig(V, C, dropout=1.5).validate()


def test_mv_rnn_word_matrices_start_near_identity():
    net = RecursiveNet(RecursiveConfig(50, C, "mv-rnn", embedding_dim=6))
    mats = net.word_matrices.weight.view(50, 6, 6)
    assert (mats - torch.eye(6)).abs().max() <= 0.01
    assert (mats - torch.eye(6)).abs().max() > 0  # noise, not exactly identity


def test_low_rank_word_matrices_start_near_identity_with_fewer_numbers():
    net = RecursiveNet(RecursiveConfig(50, C, "mv-rnn", embedding_dim=6, matrix_rank=3))
    assert net.word_matrices.weight.shape == (50, 2 * 6 * 3 + 6)
    mats = net.leaf_matrices(torch.arange(50)).view(50, 6, 6)
    assert 0 < (mats - torch.eye(6)).abs().max() <= 0.05


def test_the_slide_every_pair_composition_is_a_width_2_convolution():
    """The lecture: p = tanh(W [c1; c2] + b) for every adjacent pair "can be interpreted as
    convolution over the word vectors": same W and b, same numbers."""
    torch.manual_seed(0)
    d, T = 6, 9
    cell = RecNNCell(d).double()
    x = torch.randn(T, d, dtype=torch.float64)  # a sentence's word vectors
    pairs = cell(x[:-1], x[1:])  # the recursive composition on pairs (i, i+1): (T-1, d)
    kernel = cell.W.weight.view(d, 2, d).transpose(1, 2)  # (out d, in d, width 2)
    conv = torch.tanh(F.conv1d(x.T.unsqueeze(0), kernel, cell.W.bias))[0].T  # (T-1, d)
    assert torch.allclose(pairs, conv, atol=1e-12)
    # and by hand, one pair, against the formula
    i = 3
    assert torch.allclose(pairs[i], torch.tanh(cell.W.weight @ torch.cat([x[i], x[i + 1]]) + cell.W.bias))


@pytest.mark.parametrize("std", [0.1, 1.0])
def test_random_words_start_at_word_std(std):
    """Random word vectors are N(0, word_std^2) (CoreNLP scales by 0.1; its 2013 code did not)."""
    torch.manual_seed(0)
    net = RecursiveNet(RecursiveConfig(4000, 5, "rntn", 25, word_std=std))
    w = net.embedding.weight.detach()
    assert abs(float(w.std()) - std) < 0.02 * std and abs(float(w.mean())) < 0.02 * std
