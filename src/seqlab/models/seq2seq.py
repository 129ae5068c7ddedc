"""Encoder-decoder with attention for translation.

Encoders: a bidirectional LSTM/GRU (Bahdanau, Cho & Bengio 2015, "Neural Machine Translation by
Jointly Learning to Align and Translate"), or a CNN of stacked 1-D convolutions over word vectors
(the lecture's "CNN as encoder, RNN as decoder", Kalchbrenner & Blunsom 2013, "Recurrent Continuous
Translation Models"). Decoder: an LSTM/GRU cell with Luong-style input feeding (Luong, Pham &
Manning 2015, "Effective Approaches to Attention-based NMT"). At each step the new decoder state
s_t queries the encoder memory h_1..h_S:

    additive (Bahdanau):  score(s, h) = v . tanh(W_q s + W_k h)
    dot (Luong):          score(s, h) = s . h
    general (Luong):      score(s, h) = s . W h
    none:                 no attention: c_t = the encoder's sentence summary at every step (the
                          RNNencdec baseline of Cho et al. 2014 that Bahdanau et al. compare with)

    a_t = softmax(score) over real source words (padding masked to exactly 0)
    c_t = sum_j a_tj h_j;   o_t = tanh(W_o [s_t; c_t]);   logits_t = W_v o_t

and o_t is fed back into the next step's input next to the previous word's embedding.

The model is free of I/O and never computes the loss: ``forward`` returns logits and attention.
Decoding (greedy, beam) lives in seqlab.translate.decoding and uses ``encode`` / ``start`` / ``step``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from seqlab.errors import ParameterError, check_at_least, check_choice, check_range

ATTENTIONS = ("additive", "dot", "general", "none")
ENCODERS = ("rnn", "cnn")
CELLS = ("lstm", "gru")


@dataclass
class Seq2SeqConfig:
    """Model hyper-parameters (saved in checkpoints as a plain dict).

    src_vocab_size, tgt_vocab_size: vocabulary sizes (specials included; id 0 is padding).
    emb_size: word vector size (128-512). hidden_size: encoder memory / decoder state size.
    encoder: "rnn" (bidirectional `cell`) or "cnn" (`cnn_layers` residual convolutions of width
    `kernel_size` with learned position vectors up to `max_positions`).
    cell: "lstm" or "gru" for the RNN encoder and the decoder. attention: see ATTENTIONS.
    dropout: on embeddings, memory and the attentional vector (0.1-0.3 helps on ~10K pairs).
    tie_embeddings: the output layer reuses the target word vectors (Press & Wolf 2017): one
    matrix fewer to learn from little data; needs emb_size == hidden_size.
    """

    src_vocab_size: int
    tgt_vocab_size: int
    emb_size: int = 256
    hidden_size: int = 256
    encoder: str = "rnn"
    cell: str = "lstm"
    attention: str = "additive"
    cnn_layers: int = 3
    kernel_size: int = 3
    max_positions: int = 128
    dropout: float = 0.2
    pad_id: int = 0
    tie_embeddings: bool = False

    def validate(self) -> Seq2SeqConfig:
        """Check every field (ParameterError naming it); returns self. Seq2Seq calls it."""
        check_choice(self, "attention", ATTENTIONS)
        check_choice(self, "encoder", ENCODERS)
        check_choice(self, "cell", CELLS)
        check_at_least(
            self,
            1,
            "src_vocab_size",
            "tgt_vocab_size",
            "emb_size",
            "hidden_size",
            "cnn_layers",
            "kernel_size",
            "max_positions",
        )
        check_at_least(self, 0, "pad_id")
        check_range(self, "dropout", 0, 1)
        if self.tie_embeddings and self.emb_size != self.hidden_size:
            raise ParameterError(
                "tie_embeddings", f"needs emb_size == hidden_size, got {self.emb_size} and {self.hidden_size}"
            )
        return self

    def to_dict(self) -> dict:
        return asdict(self)


class Memory(NamedTuple):
    """What the encoder hands the decoder; every field has the batch on dim 0."""

    values: torch.Tensor  # (B, S, H) encoder outputs h_j
    keys: torch.Tensor  # (B, S, A) precomputed key projections (W_k h or W h), or values for dot
    mask: torch.Tensor  # (B, S) True at real source words
    summary: torch.Tensor  # (B, H) sentence summary: the decoder's initial state (and context for "none")


class RNNEncoder(nn.Module):
    """Bidirectional LSTM/GRU over packed sequences; both directions concatenated then projected to H."""

    def __init__(self, cfg: Seq2SeqConfig):
        super().__init__()
        rnn = nn.LSTM if cfg.cell == "lstm" else nn.GRU
        self.rnn = rnn(cfg.emb_size, cfg.hidden_size, batch_first=True, bidirectional=True)
        self.proj = nn.Linear(2 * cfg.hidden_size, cfg.hidden_size)
        self.summ = nn.Linear(2 * cfg.hidden_size, cfg.hidden_size)

    def forward(self, emb, lengths, mask):
        packed = nn.utils.rnn.pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, last = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(
            out, batch_first=True, total_length=emb.shape[1]
        )  # (B, S, 2H)
        h_n = last[0] if isinstance(last, tuple) else last  # (2, B, H): forward end, backward start
        summary = torch.tanh(self.summ(torch.cat([h_n[0], h_n[1]], dim=-1)))  # (B, H)
        return self.proj(out), summary  # (B, S, H), (B, H)


class CNNEncoder(nn.Module):
    """Stacked residual 1-D convolutions (GLU) over word + position vectors; padding kept at zero.

    Zeroing padded positions before every convolution makes each real position's output the same
    whatever the padding, exactly like the convolution's own zero padding at the sentence end.
    """

    def __init__(self, cfg: Seq2SeqConfig):
        super().__init__()
        H = cfg.hidden_size
        self.pos = nn.Embedding(cfg.max_positions, cfg.emb_size)
        self.inp = nn.Linear(cfg.emb_size, H)
        self.convs = nn.ModuleList(
            nn.Conv1d(H, 2 * H, cfg.kernel_size, padding=cfg.kernel_size // 2) for _ in range(cfg.cnn_layers)
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.summ = nn.Linear(H, H)
        self.max_positions = cfg.max_positions

    def forward(self, emb, lengths, mask):
        S = emb.shape[1]
        if S > self.max_positions:
            raise ValueError(f"CNN encoder handles at most {self.max_positions} words, got {S}")
        pos = torch.arange(S, device=emb.device)
        m = mask.unsqueeze(-1).to(emb.dtype)  # (B, S, 1)
        x = self.inp(emb + self.pos(pos)) * m  # (B, S, H)
        for conv in self.convs:
            y = F.glu(conv(self.drop(x).transpose(1, 2)), dim=1).transpose(1, 2)  # (B, S, H)
            x = (x + y) * (0.5**0.5) * m
        mean = x.sum(1) / lengths.clamp(min=1).unsqueeze(-1).to(x.dtype)  # (B, H)
        return x, torch.tanh(self.summ(mean))


class Attention(nn.Module):
    """Scores of one decoder state against every source position, softmaxed over real words."""

    def __init__(self, kind: str, hidden_size: int):
        super().__init__()
        self.kind = kind
        H = hidden_size
        if kind == "additive":
            self.w_k = nn.Linear(H, H, bias=False)
            self.w_q = nn.Linear(H, H)
            self.v = nn.Linear(H, 1, bias=False)
        elif kind == "general":
            self.w_k = nn.Linear(H, H, bias=False)

    def keys(self, values):
        """Per-sentence key projections, computed once per source (B, S, H)."""
        return self.w_k(values) if self.kind in ("additive", "general") else values

    def forward(self, query, keys, mask):
        """query (B, H), keys (B, S, H), mask (B, S) -> weights (B, S), summing to 1 over real words."""
        if self.kind == "additive":
            scores = self.v(torch.tanh(keys + self.w_q(query).unsqueeze(1))).squeeze(-1)  # (B, S)
        else:  # dot and general: s . h or s . W h
            scores = torch.bmm(keys, query.unsqueeze(-1)).squeeze(-1)  # (B, S)
        scores = scores.masked_fill(~mask, float("-inf"))
        return torch.softmax(scores, dim=-1)


class Seq2Seq(nn.Module):
    """Encoder + attention decoder. Batch-first; id 0 is padding on both sides."""

    def __init__(self, cfg: Seq2SeqConfig):
        super().__init__()
        self.cfg = cfg = cfg.validate()
        H, E = cfg.hidden_size, cfg.emb_size
        self.src_emb = nn.Embedding(cfg.src_vocab_size, E, padding_idx=cfg.pad_id)
        self.tgt_emb = nn.Embedding(cfg.tgt_vocab_size, E, padding_idx=cfg.pad_id)
        self.encoder = RNNEncoder(cfg) if cfg.encoder == "rnn" else CNNEncoder(cfg)
        cell = nn.LSTMCell if cfg.cell == "lstm" else nn.GRUCell
        self.cell = cell(E + H, H)
        self.init_h = nn.Linear(H, H)
        self.attention = Attention(cfg.attention, H) if cfg.attention != "none" else None
        self.combine = nn.Linear(2 * H, H)
        self.out = nn.Linear(H, cfg.tgt_vocab_size)
        if cfg.tie_embeddings:  # logits = o_t . e_w + b_w: the word's own input vector scores it
            self.out.weight = self.tgt_emb.weight
        self.drop = nn.Dropout(cfg.dropout)

    # -- the three pieces decoding uses -------------------------------------------------------
    def encode(self, src: torch.Tensor, lengths: torch.Tensor) -> Memory:
        """src (B, S) ids, lengths (B,) -> Memory. Positions at or past a sentence's length are padding."""
        mask = torch.arange(src.shape[1], device=src.device).unsqueeze(0) < lengths.unsqueeze(1)  # (B, S)
        emb = self.drop(self.src_emb(src))  # (B, S, E)
        values, summary = self.encoder(emb, lengths, mask)  # (B, S, H), (B, H)
        values = self.drop(values)
        keys = self.attention.keys(values) if self.attention is not None else values
        return Memory(values, keys, mask, summary)

    def start(self, memory: Memory) -> tuple:
        """Initial decoder state: (h, c, feed) for LSTM, (h, feed) for GRU; all (B, H)."""
        h = torch.tanh(self.init_h(memory.summary))  # (B, H)
        feed = torch.zeros_like(h)
        return (h, torch.zeros_like(h), feed) if self.cfg.cell == "lstm" else (h, feed)

    def step(self, prev: torch.Tensor, state: tuple, memory: Memory):
        """One decoder step: prev (B,) ids -> logits (B, V), new state, attention (B, S)."""
        o, new_state, attn = self._advance(prev, state, memory)
        return self.out(self.drop(o)), new_state, attn  # (B, V)

    def _advance(self, prev, state, memory):
        """The recurrent part of a step: attentional vector o_t (B, H), new state, attention (B, S)."""
        x = torch.cat([self.drop(self.tgt_emb(prev)), state[-1]], dim=-1)  # (B, E + H)
        if self.cfg.cell == "lstm":
            h, c = self.cell(x, (state[0], state[1]))
        else:
            h = self.cell(x, state[0])
        if self.attention is not None:
            attn = self.attention(h, memory.keys, memory.mask)  # (B, S)
            context = torch.bmm(attn.unsqueeze(1), memory.values).squeeze(1)  # (B, H)
            o = torch.tanh(self.combine(torch.cat([h, context], dim=-1)))  # (B, H)
        else:  # Cho et al. 2014: the same sentence summary c is the context at every step
            attn = memory.mask.new_zeros(memory.mask.shape, dtype=h.dtype)
            o = torch.tanh(self.combine(torch.cat([h, memory.summary], dim=-1)))
        new_state = (h, c, o) if self.cfg.cell == "lstm" else (h, o)
        return o, new_state, attn

    # -- training ------------------------------------------------------------------------------
    def forward(
        self, src, src_lens, tgt_in, teacher_forcing: float = 1.0, generator: torch.Generator | None = None
    ):
        """Teacher-forced decoding of a batch.

        src (B, S), src_lens (B,), tgt_in (B, T) = <sos> y_1 .. y_{T-1}. With `teacher_forcing` < 1
        each step after the first feeds the model's own previous argmax instead of the true word
        with probability 1 - teacher_forcing (drawn from `generator`).
        Returns logits (B, T, V) and attention (B, T, S) (zeros for attention="none").
        """
        memory = self.encode(src, src_lens)
        state = self.start(memory)
        if teacher_forcing >= 1.0:  # inputs known in advance: one big output projection at the end
            outs, attns = [], []
            for t in range(tgt_in.shape[1]):
                o, state, attn = self._advance(tgt_in[:, t], state, memory)
                outs.append(o)
                attns.append(attn)
            return self.out(self.drop(torch.stack(outs, 1))), torch.stack(attns, 1)  # (B, T, V), (B, T, S)
        logits, attns = [], []
        prev = tgt_in[:, 0]
        for t in range(tgt_in.shape[1]):
            if t > 0:
                prev = tgt_in[:, t]
                use_own = torch.rand(prev.shape, generator=generator, device=prev.device) >= teacher_forcing
                prev = torch.where(use_own, logits[-1].argmax(-1), prev)
            step_logits, state, attn = self.step(prev, state, memory)
            logits.append(step_logits)
            attns.append(attn)
        return torch.stack(logits, 1), torch.stack(attns, 1)  # (B, T, V), (B, T, S)
