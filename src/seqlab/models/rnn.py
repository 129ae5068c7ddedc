"""Recurrent cells written from the lecture's equations, and the character-level language model.

Two implementations of the same networks, selected by `impl`:
  "scratch" - each cell step written out below (the lecture's formulas, one time step at a time);
  "fused"   - torch.nn.RNN / LSTM / GRU (one fused kernel per layer, the fast default).
The scratch stacks name their parameters exactly as torch does (weight_ih_l0, weight_hh_l0,
bias_ih_l0, bias_hh_l0, ...), so a state dict moves between the two unchanged; tests check that
outputs and gradients agree.

Equations (W [h, x] is one matrix over the concatenation; we keep it split as W_hh h + W_ih x,
which is the same product, so the input half can be computed for all time steps at once):
  RNN   h_t = tanh(W [h_{t-1}, x_t] + b)
  LSTM  f_t = sigma(W_f [h_{t-1}, x_t] + b_f)          forget gate
        i_t = sigma(W_i [h_{t-1}, x_t] + b_i)          input gate
        C~_t = tanh(W_C [h_{t-1}, x_t] + b_C)          candidate cell
        C_t = f_t * C_{t-1} + i_t * C~_t
        o_t = sigma(W_o [h_{t-1}, x_t] + b_o)          output gate
        h_t = o_t * tanh(C_t)                           (Hochreiter & Schmidhuber 1997; colah's diagrams)
  GRU   r_t = sigma(W_r [h_{t-1}, x_t] + b_r),  z_t = sigma(W_z [h_{t-1}, x_t] + b_z)
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}          (Cho et al. 2014, torch's variant)
  Output P(x_{t+1}) = softmax(W_out h_t + b_out).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

from seqlab.errors import ParameterError, check_at_least, check_choice, check_range

CELLS = ("rnn", "lstm", "gru")
IMPLS = ("scratch", "fused")  # the equations step by step | torch's fused kernels
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # blocks of hidden_size rows in W_ih / W_hh


def rnn_step(x_proj, h, w_hh, b_hh):
    """h_t = tanh(W [h_{t-1}, x_t] + b); x_proj = W_ih x_t + b_ih precomputed."""
    return torch.tanh(x_proj + h @ w_hh.t() + b_hh)


def lstm_step(x_proj, state, w_hh, b_hh):
    """One LSTM step with the lecture's gates (torch's row order: i, f, C~, o)."""
    h, c = state
    gates = x_proj + h @ w_hh.t() + b_hh  # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=-1)
    f = torch.sigmoid(f)  # forget gate f_t
    i = torch.sigmoid(i)  # input gate i_t
    c_tilde = torch.tanh(g)  # candidate C~_t
    c = f * c + i * c_tilde  # C_t = f*C_{t-1} + i*C~_t
    o = torch.sigmoid(o)  # output gate o_t
    h = o * torch.tanh(c)  # h_t = o_t * tanh(C_t)
    return h, c


def gru_step(x_proj, h, w_hh, b_hh):
    """One GRU step (torch's row order: r, z, n)."""
    h_proj = h @ w_hh.t() + b_hh  # (B, 3H)
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    h_r, h_z, h_n = h_proj.chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)  # reset gate
    z = torch.sigmoid(x_z + h_z)  # update gate
    n = torch.tanh(x_n + r * h_n)  # candidate
    return (1 - z) * n + z * h


class ScratchRecurrent(nn.Module):
    """A multi-layer RNN/LSTM/GRU stepped in Python, parameter-compatible with torch.nn.{RNN,LSTM,GRU}.

    Batch-first: input (B, T, input_size) -> output (B, T, hidden_size), final state
    (h (L, B, H) or (h, c) for the LSTM), the same contract as the torch modules.
    """

    def __init__(
        self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0
    ):
        super().__init__()
        if cell not in CELLS:
            raise ParameterError("cell", f"must be one of {', '.join(CELLS)}, got {cell!r}")
        self.cell, self.hidden_size, self.num_layers, self.dropout = cell, hidden_size, num_layers, dropout
        g = GATES[cell]
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size
            self.register_parameter(
                f"weight_ih_l{layer}", nn.Parameter(torch.empty(g * hidden_size, in_size))
            )
            self.register_parameter(
                f"weight_hh_l{layer}", nn.Parameter(torch.empty(g * hidden_size, hidden_size))
            )
            self.register_parameter(f"bias_ih_l{layer}", nn.Parameter(torch.empty(g * hidden_size)))
            self.register_parameter(f"bias_hh_l{layer}", nn.Parameter(torch.empty(g * hidden_size)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)  # torch's init, so both impls start alike
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x, state=None):
        B, T, _ = x.shape
        H, L = self.hidden_size, self.num_layers
        if state is None:
            zeros = x.new_zeros(L, B, H)
            state = (zeros, zeros.clone()) if self.cell == "lstm" else zeros
        finals_h, finals_c = [], []
        out = x
        for layer in range(L):
            w_ih, w_hh = getattr(self, f"weight_ih_l{layer}"), getattr(self, f"weight_hh_l{layer}")
            b_ih, b_hh = getattr(self, f"bias_ih_l{layer}"), getattr(self, f"bias_hh_l{layer}")
            if layer > 0 and self.dropout > 0 and self.training:
                out = fast_dropout(out, self.dropout)
            x_proj = out @ w_ih.t() + b_ih  # (B, T, G*H): input half for all t
            if self.cell == "lstm":
                s = (state[0][layer], state[1][layer])
            else:
                s = state[layer]
            steps = []
            for t in range(T):
                if self.cell == "lstm":
                    s = lstm_step(x_proj[:, t], s, w_hh, b_hh)
                    steps.append(s[0])
                elif self.cell == "gru":
                    s = gru_step(x_proj[:, t], s, w_hh, b_hh)
                    steps.append(s)
                else:
                    s = rnn_step(x_proj[:, t], s, w_hh, b_hh)
                    steps.append(s)
            out = torch.stack(steps, dim=1)  # (B, T, H)
            if self.cell == "lstm":
                finals_h.append(s[0])
                finals_c.append(s[1])
            else:
                finals_h.append(s)
        h_n = torch.stack(finals_h)  # (L, B, H)
        return out, ((h_n, torch.stack(finals_c)) if self.cell == "lstm" else h_n)


def fast_dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """Inverted dropout whose mask comes from random bytes: drop where byte < round(256 p).

    Same job as F.dropout (zero a fraction p, scale the rest by 1/(1-p)), with p rounded to a
    multiple of 1/256 and the scale taken from that rounded p so the expectation is exact. On the
    CPU, torch's bernoulli_ spends ~8 ns per element; eight mask bytes per 64-bit random draw
    make dropout ~7x cheaper, which was a tenth of a char-LSTM training step.
    """
    if not training or p <= 0:
        return x
    cut = min(255, round(p * 256))
    n = x.numel()
    bits = torch.randint(-(2**63), 2**63 - 1, ((n + 7) // 8,), dtype=torch.int64, device=x.device)
    keep = bits.view(torch.uint8)[:n].view(x.shape) >= cut  # P(keep) = 1 - cut/256
    return x * keep.to(x.dtype) * (256.0 / (256 - cut))


class FastDropout(nn.Module):
    """nn.Dropout with the byte-mask sampler above (no parameters, so checkpoints are unchanged)."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x):
        return fast_dropout(x, self.p, self.training)


_FUSED_OPS = {"rnn": torch.rnn_tanh, "lstm": torch.lstm, "gru": torch.gru}


class _LayerwiseDropout:
    """Mixin for torch.nn.RNN/LSTM/GRU: in training with dropout, run the fused kernel one layer at a
    time with fast_dropout between layers (torch's own between-layer dropout uses bernoulli_).
    Parameters, names and results in eval mode are torch's, untouched."""

    def forward(self, x, hx=None):
        if not (self.training and self.dropout > 0 and self.num_layers > 1):
            return super().forward(x, hx)
        B, L, H = x.shape[0], self.num_layers, self.hidden_size
        is_lstm = isinstance(self, nn.LSTM)
        if hx is None:
            zeros = x.new_zeros(L, B, H)
            hx = (zeros, zeros) if is_lstm else zeros
        op = _FUSED_OPS[self.cell_name]
        w = self._flat_weights
        out, h_n, c_n = x, [], []
        for layer in range(L):
            if layer > 0:
                out = fast_dropout(out, self.dropout)
            params = w[4 * layer : 4 * layer + 4]  # W_ih, W_hh, b_ih, b_hh of this layer
            state = (hx[0][layer : layer + 1], hx[1][layer : layer + 1]) if is_lstm else hx[layer : layer + 1]
            res = op(
                out,
                state,
                params,
                has_biases=True,
                num_layers=1,
                dropout=0.0,
                train=True,
                bidirectional=False,
                batch_first=True,
            )
            if is_lstm:
                out, h, c = res
                c_n.append(c)
            else:
                out, h = res
            h_n.append(h)
        h_n = torch.cat(h_n)
        return out, ((h_n, torch.cat(c_n)) if is_lstm else h_n)


class FusedRNN(_LayerwiseDropout, nn.RNN):
    cell_name = "rnn"


class FusedLSTM(_LayerwiseDropout, nn.LSTM):
    cell_name = "lstm"


class FusedGRU(_LayerwiseDropout, nn.GRU):
    cell_name = "gru"


def make_recurrent(
    cell: str, impl: str, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0
) -> nn.Module:
    """The recurrent stack for `cell` in the chosen implementation (same parameters either way)."""
    if impl not in IMPLS:
        raise ParameterError("impl", f"must be one of {', '.join(IMPLS)}, got {impl!r}")
    if impl == "scratch":
        return ScratchRecurrent(cell, input_size, hidden_size, num_layers, dropout)
    cls = {"rnn": FusedRNN, "lstm": FusedLSTM, "gru": FusedGRU}[cell]
    kw = {"nonlinearity": "tanh"} if cell == "rnn" else {}
    return cls(
        input_size,
        hidden_size,
        num_layers,
        batch_first=True,
        dropout=dropout if num_layers > 1 else 0.0,
        **kw,
    )


@dataclass
class CharRNNConfig:
    """Shape of a character-level language model."""

    vocab_size: int
    cell: str = "lstm"  # rnn | lstm | gru
    impl: str = "fused"  # scratch | fused
    embed_size: int = 64  # character embedding (a learned one-hot projection)
    hidden_size: int = 512
    num_layers: int = 2
    dropout: float = 0.25  # on embeddings, between layers and before the output layer
    num_categories: int = 0  # >0: condition every step on a category (e.g. a name's language)
    category_size: int = 16

    def validate(self) -> CharRNNConfig:
        """Check every field (ParameterError naming it); returns self."""
        check_choice(self, "cell", CELLS)
        check_choice(self, "impl", IMPLS)
        check_at_least(self, 1, "vocab_size", "embed_size", "hidden_size", "num_layers", "category_size")
        check_at_least(self, 0, "num_categories")
        check_range(self, "dropout", 0, 1)
        return self

    def to_dict(self) -> dict:
        return asdict(self)


class CharRNN(nn.Module):
    """Embedding -> [category] -> recurrent stack -> dropout -> W_out h + b_out (logits over chars)."""

    def __init__(self, config: CharRNNConfig):
        super().__init__()
        self.config = c = config.validate()
        self.embed = nn.Embedding(c.vocab_size, c.embed_size)
        in_size = c.embed_size
        if c.num_categories > 0:
            self.category = nn.Embedding(c.num_categories, c.category_size)
            in_size += c.category_size
        self.rnn = make_recurrent(c.cell, c.impl, in_size, c.hidden_size, c.num_layers, c.dropout)
        self.drop = FastDropout(c.dropout)
        self.head = nn.Linear(c.hidden_size, c.vocab_size)

    def forward(self, idx, state=None, category=None):
        """idx (B, T) int64 -> logits (B, T, V), new recurrent state."""
        x = self.drop(self.embed(idx))  # (B, T, E)
        if self.config.num_categories > 0:
            if category is None:
                raise ParameterError("category", "is needed: this model is conditioned on a category (B,)")
            cat = self.category(category)[:, None, :].expand(-1, idx.shape[1], -1)  # (B, T, C)
            x = torch.cat([x, cat], dim=-1)
        out, state = self.rnn(x, state)  # (B, T, H)
        return self.head(self.drop(out)), state  # (B, T, V)


def detach_state(state, dtype=None):
    """Cut the graph between truncated-BPTT windows, keeping the values (optionally cast)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach().to(dtype) if dtype else s.detach() for s in state)
    return state.detach().to(dtype) if dtype else state.detach()
