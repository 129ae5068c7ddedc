"""Recursive networks over binary parse trees, one batched composition per tree level.

Every node gets a vector from its two children's (the leaves from their word), and a softmax
classifier reads every node (Socher et al. 2013 label every phrase of the Sentiment Treebank):

    recnn      p = tanh(W [c1; c2] + b)                      the lecture's slide; Socher et al. 2013
               (recnn and rntn leaves: tanh(word vector), as Stanford CoreNLP)
    rntn       p = tanh([c1; c2]^T V^[1:d] [c1; c2] + W [c1; c2] + b)    Socher et al. 2013
    mv-rnn     (a, A), (b, B) -> p = tanh(W [B a; A b] + b_W),  P = W_M [A; B]   Socher et al. 2012
    tree-lstm  the constituency (binary N-ary) Tree-LSTM of Tai et al. 2015:
               i, f_l, f_r, o = sigmoid(U [h_l; h_r] + b),  u = tanh(U_u [h_l; h_r] + b_u)
               c = i * u + f_l * c_l + f_r * c_r,  h = o * tanh(c)
               leaves take their word x instead of children: i, o, u from W x + b, c = i * u

Batching (seqlab.models.tree_batch): the nodes of all trees of a batch are ordered by height; the
leaves' states come from one embedding lookup, then each height is ONE composition over all of its
nodes in all trees, reading its children's rows from the states already computed:

    state = [ leaves (L, S) | height 1 (n1, S) | height 2 (n2, S) | ... ]
    state[s:e] = compose(state[left], state[right])        for each level (s, e, left, right)

Each composition keeps a flat state per node (S columns: recnn/rntn d; mv-rnn d + d*d, the vector
and its matrix; tree-lstm 2H, [h; c]) and says which part the classifier reads (`hidden`).
Models return logits of every node (N, C), in batch order; the loss is the caller's.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

from seqlab.errors import check_at_least, check_choice, check_range
from seqlab.models.tree_batch import TreeBatch

COMPOSITIONS = ("recnn", "rntn", "mv-rnn", "tree-lstm")


@dataclass
class RecursiveConfig:
    vocab_size: int
    num_classes: int
    composition: str = "rntn"  # one of COMPOSITIONS
    embedding_dim: int = 25  # word vectors; recnn, rntn and mv-rnn compose in this size too
    hidden_size: int = 25  # tree-lstm's memory size (Tai et al.: 150); the others use embedding_dim
    dropout: float = 0.0  # on the leaves' input and on the classifier's input (Tai et al.: 0.5)
    matrix_noise: float = 0.01  # mv-rnn: word matrices start as identity + U[-noise, noise]
    word_std: float = 0.1  # random word vectors N(0, word_std^2): CoreNLP 0.1, its 2013 code 1.0
    classifier_bias: str = "zero"  # the softmax's bias at the start: zero, or "uniform" U(0, 1) (CoreNLP)
    matrix_rank: int = 0  # mv-rnn: 0 full word matrices; r > 0: A = U V + diag(a), U (d, r), V (r, d)

    def validate(self) -> RecursiveConfig:
        """Check every field (ParameterError naming it); returns self."""
        check_choice(self, "composition", COMPOSITIONS)
        check_at_least(self, 1, "vocab_size", "embedding_dim", "hidden_size")
        check_at_least(self, 2, "num_classes")
        check_range(self, "dropout", 0, 1)
        check_at_least(self, 0, "matrix_noise", "word_std")
        check_choice(self, "classifier_bias", ("zero", "uniform"))
        check_at_least(self, 0, "matrix_rank")
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RecursiveConfig:
        return cls(**d)

    @property
    def state_size(self) -> int:
        d = self.embedding_dim
        return {"mv-rnn": d + d * d, "tree-lstm": 2 * self.hidden_size}.get(self.composition, d)

    @property
    def output_size(self) -> int:
        return self.hidden_size if self.composition == "tree-lstm" else self.embedding_dim


def _transform_init(linear: nn.Linear, d: int) -> None:
    """CoreNLP's RNTN initialisation of W (d, 2d): [I + U(-r, r), I + U(-r, r)], r = 1/(2 sqrt(d)),
    bias 0: a parent starts as (roughly) the sum of its children."""
    r = 1.0 / (2.0 * math.sqrt(d))
    with torch.no_grad():
        linear.weight.uniform_(-r, r)
        linear.weight[:, :d] += torch.eye(d)
        linear.weight[:, d:] += torch.eye(d)
        linear.bias.zero_()


class RecNNCell(nn.Module):
    """The slide's composition p = tanh(W [c1; c2] + b); a leaf's state is tanh(its word vector), as
    Stanford CoreNLP's RNN/RNTN (SentimentCostAndGradient.forwardPropagateTree) have it."""

    def __init__(self, d: int):
        super().__init__()
        self.W = nn.Linear(2 * d, d)
        _transform_init(self.W, d)

    def leaf(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x)

    def forward(self, c1: torch.Tensor, c2: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.W(torch.cat([c1, c2], 1)))  # (n, 2d) -> (n, d)

    def hidden(self, state: torch.Tensor) -> torch.Tensor:
        return state


class RNTNCell(RecNNCell):
    """Adds the tensor term: p_k = tanh(x^T V[k] x + (W x + b)_k), x = [c1; c2] (n, 2d), V (d, 2d, 2d)."""

    def __init__(self, d: int):
        super().__init__(d)
        r = 1.0 / (4.0 * d)  # CoreNLP's randomBinaryTensor range
        self.V = nn.Parameter(torch.empty(d, 2 * d, 2 * d).uniform_(-r, r))

    def forward(self, c1: torch.Tensor, c2: torch.Tensor) -> torch.Tensor:
        x = torch.cat([c1, c2], 1)  # (n, 2d)
        tensor = torch.einsum("ni,kij,nj->nk", x, self.V, x)  # (n, d)
        return torch.tanh(tensor + self.W(x))


class MVRNNCell(nn.Module):
    """Socher et al. 2012: a node is a vector a (d) and a matrix A (d, d), kept flat as [a; vec(A)].
    p = tanh(W [B a; A b] + b_W) and P = W_M [A; B] (no nonlinearity on P), for children (a, A), (b, B)."""

    def __init__(self, d: int):
        super().__init__()
        self.d = d
        self.W = nn.Linear(2 * d, d)
        _transform_init(self.W, d)
        # W_M (d, 2d) starts as [I I] / 2 + small noise: a phrase's matrix the mean of its children's
        eye = torch.eye(d)
        self.WM = nn.Parameter(torch.cat([eye, eye], 1) * 0.5 + torch.empty(d, 2 * d).uniform_(-0.01, 0.01))

    def leaf(self, x: torch.Tensor) -> torch.Tensor:
        return x  # the leaf rows of the embedding table are already [a; vec(A)]

    def forward(self, s1: torch.Tensor, s2: torch.Tensor) -> torch.Tensor:
        d = self.d
        a, A = s1[:, :d], s1[:, d:].view(-1, d, d)  # (n, d), (n, d, d)
        b, B = s2[:, :d], s2[:, d:].view(-1, d, d)
        Ba = torch.bmm(B, a.unsqueeze(2)).squeeze(2)  # (n, d)
        Ab = torch.bmm(A, b.unsqueeze(2)).squeeze(2)  # (n, d)
        p = torch.tanh(self.W(torch.cat([Ba, Ab], 1)))  # (n, d)
        P = torch.matmul(self.WM[:, :d], A) + torch.matmul(self.WM[:, d:], B)  # W_M [A; B]: (n, d, d)
        return torch.cat([p, P.flatten(1)], 1)  # (n, d + d*d)

    def hidden(self, state: torch.Tensor) -> torch.Tensor:
        return state[:, : self.d]


class TreeLSTMCell(nn.Module):
    """Tai et al. 2015's binary constituency Tree-LSTM; the state is [h; c] (n, 2H)."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.H = hidden_size
        self.leaf_gates = nn.Linear(input_size, 3 * hidden_size)  # i, o, u from the word
        self.U = nn.Linear(2 * hidden_size, 5 * hidden_size)  # i, f_l, f_r, o, u from [h_l; h_r]
        with torch.no_grad():
            self.U.bias[hidden_size : 3 * hidden_size].fill_(1.0)  # forget gates start open

    def leaf(self, x: torch.Tensor) -> torch.Tensor:
        i, o, u = self.leaf_gates(x).chunk(3, 1)  # (n, H) each
        c = torch.sigmoid(i) * torch.tanh(u)
        return torch.cat([torch.sigmoid(o) * torch.tanh(c), c], 1)  # (n, 2H)

    def forward(self, s1: torch.Tensor, s2: torch.Tensor) -> torch.Tensor:
        H = self.H
        gates = self.U(torch.cat([s1[:, :H], s2[:, :H]], 1))  # (n, 5H)
        ifo = torch.sigmoid(gates[:, : 4 * H])
        i, fl, fr, o = ifo.chunk(4, 1)
        u = torch.tanh(gates[:, 4 * H :])
        c = i * u + fl * s1[:, H:] + fr * s2[:, H:]  # (n, H)
        return torch.cat([o * torch.tanh(c), c], 1)

    def hidden(self, state: torch.Tensor) -> torch.Tensor:
        return state[:, : self.H]


class _LevelByLevel(torch.autograd.Function):
    """The level loop with a backward that costs O(nodes), not O(nodes x levels).

    Written plainly (`state[s:e] = cell(state[left], state[right])` on one buffer), autograd's
    backward would zero-fill and copy the whole (N, S) gradient once per level for the gathers and
    slice writes: for MV-RNN (S = 650) that was most of the step. Here each level keeps its own
    small graph from detached inputs, and the backward walks the levels top-down, adding each
    level's input gradients into one (N, S) buffer (index_add_); the cell's parameters get their
    gradients from the per-level backward calls (as torch.utils.checkpoint's reentrant variant)."""

    @staticmethod
    def forward(ctx, leaves, cell, batch):
        state = leaves.new_empty(batch.num_nodes, leaves.shape[1])  # (N, S)
        state[: len(leaves)] = leaves
        graphs = []
        with torch.enable_grad():
            for s, e, left, right in batch.levels:
                xl = state[left].requires_grad_()  # (n_k, S) copies: no link to `state`
                xr = state[right].requires_grad_()
                out = cell(xl, xr)  # (n_k, S)
                state[s:e] = out.detach()
                graphs.append((xl, xr, out))
        ctx.graphs, ctx.batch, ctx.n_leaves = graphs, batch, len(leaves)
        ctx.params = [p for p in cell.parameters() if p.requires_grad]
        return state

    @staticmethod
    def backward(ctx, grad_state):
        grad = grad_state.clone()  # (N, S): grows as the levels above hand gradients down
        for (s, e, left, right), (xl, xr, out) in zip(reversed(ctx.batch.levels), reversed(ctx.graphs)):
            torch.autograd.backward(out, grad[s:e], inputs=[xl, xr, *ctx.params])
            grad.index_add_(0, left, xl.grad)
            grad.index_add_(0, right, xr.grad)
        ctx.graphs = None
        return grad[: ctx.n_leaves], None, None


class RecursiveNet(nn.Module):
    """Word vectors -> a composition applied level by level -> a softmax classifier on every node."""

    def __init__(self, config: RecursiveConfig, pretrained: torch.Tensor | None = None):
        super().__init__()
        self.config = cfg = config.validate()
        d = cfg.embedding_dim
        self.embedding = nn.Embedding(cfg.vocab_size, d)
        with torch.no_grad():
            if pretrained is not None:
                self.embedding.weight.copy_(pretrained)
            else:
                self.embedding.weight.normal_(0.0, cfg.word_std)
        self.word_matrices = None
        r = cfg.matrix_rank
        if cfg.composition == "mv-rnn" and not r:  # Socher et al. 2012: identity + small noise per word
            self.word_matrices = nn.Embedding(cfg.vocab_size, d * d)
            with torch.no_grad():
                noise = torch.empty(cfg.vocab_size, d, d).uniform_(-cfg.matrix_noise, cfg.matrix_noise)
                self.word_matrices.weight.copy_((noise + torch.eye(d)).flatten(1))
        elif cfg.composition == "mv-rnn":  # low rank plus diagonal, [vec(U); vec(V); a] per word
            self.word_matrices = nn.Embedding(cfg.vocab_size, 2 * d * r + d)
            with torch.no_grad():  # U V starts small (entries ~ noise), a = 1 + noise: A ~ I
                w = self.word_matrices.weight
                w[:, : 2 * d * r].uniform_(-1.0, 1.0).mul_(math.sqrt(3 * cfg.matrix_noise / r))
                w[:, 2 * d * r :].uniform_(-cfg.matrix_noise, cfg.matrix_noise).add_(1.0)
        self.cell = {
            "recnn": lambda: RecNNCell(d),
            "rntn": lambda: RNTNCell(d),
            "mv-rnn": lambda: MVRNNCell(d),
            "tree-lstm": lambda: TreeLSTMCell(d, cfg.hidden_size),
        }[cfg.composition]()
        self.dropout = nn.Dropout(cfg.dropout)
        self.fc = nn.Linear(cfg.output_size, cfg.num_classes)
        r = 1.0 / math.sqrt(cfg.output_size)  # CoreNLP's classification matrix
        with torch.no_grad():
            self.fc.weight.uniform_(-r, r)
            self.fc.bias.zero_() if cfg.classifier_bias == "zero" else self.fc.bias.uniform_(0.0, 1.0)

    def word_tables(self) -> list[nn.Embedding]:
        """The per-word parameters (regularised on the rows a batch uses, as CoreNLP does)."""
        return [self.embedding] + ([self.word_matrices] if self.word_matrices is not None else [])

    def leaf_matrices(self, words: torch.Tensor) -> torch.Tensor:
        """(L, d*d) the words' matrices A, flat: the table's rows, or U V + diag(a) at low rank."""
        rows, d, r = self.word_matrices(words), self.config.embedding_dim, self.config.matrix_rank
        if not r:
            return rows
        U, V = rows[:, : d * r].view(-1, d, r), rows[:, d * r : 2 * d * r].view(-1, r, d)
        return (torch.bmm(U, V) + torch.diag_embed(rows[:, 2 * d * r :])).flatten(1)  # (L, d*d)

    def states(self, batch: TreeBatch) -> torch.Tensor:
        """(N, S) state of every node of the batch, in batch order."""
        x = self.dropout(self.embedding(batch.words))  # (L, d)
        if self.word_matrices is not None:
            x = torch.cat([x, self.leaf_matrices(batch.words)], 1)  # (L, d + d*d)
        leaves = self.cell.leaf(x)  # (L, S)
        if torch.is_grad_enabled() and leaves.requires_grad:
            return _LevelByLevel.apply(leaves, self.cell, batch)
        state = leaves.new_empty(batch.num_nodes, leaves.shape[1])  # (N, S)
        state[: len(leaves)] = leaves
        for s, e, left, right in batch.levels:  # one composition per height, all trees at once
            state[s:e] = self.cell(state[left], state[right])  # (n_k, S)
        return state

    def forward(self, batch: TreeBatch) -> torch.Tensor:
        """Logits (N, C) of every node, in batch order (batch.roots picks the sentences')."""
        h = self.cell.hidden(self.states(batch))  # (N, d or H)
        return self.fc(self.dropout(h))
