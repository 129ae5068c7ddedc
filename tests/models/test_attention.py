"""Attention scores of seqlab.models.seq2seq against the papers' formulas, on small hand-made tensors.

    additive (Bahdanau et al. 2015, eq. 6, with the bias the module adds):
                               e_j = v . tanh(W [s; h_j] + b)        (W = [W_s | W_h], one matrix)
    dot (Luong et al. 2015):   e_j = s . h_j
    general (Luong et al.):    e_j = s^T W h_j
    a = softmax(e) over the real source words (padding exactly 0);  c = sum_j a_j h_j

The expected values are computed here position by position with 1-D products (no broadcasting, no
call into the module's code), from weights set by hand or read from the module. `Attention.forward`
returns only the softmax weights, so the scores are checked through them: log a_j - log a_k = e_j - e_k
(softmax keeps exactly the score differences). The context vector is checked inside a real decoder
step, read from the input of the output combination layer (o_t = tanh(W_o [s_t; c_t])).
"""

import math

import pytest
import torch

from seqlab.models.seq2seq import Attention, Seq2Seq, Seq2SeqConfig

H = 3
# Two sentences of a batch: the first has 4 real words, the second 2 (positions 2 and 3 are padding).
LENGTHS = [4, 2]
VALUES = torch.tensor(
    [
        [[0.5, -1.0, 0.25], [1.0, 0.0, -0.5], [-0.75, 0.5, 1.5], [0.0, 2.0, -1.0]],
        [[1.5, 0.5, 0.0], [-1.0, 1.0, 0.5], [900.0, -900.0, 900.0], [-900.0, 900.0, 900.0]],
    ],
    dtype=torch.float64,
)  # (B, S, H); huge values at the padding must not leak in
QUERY = torch.tensor([[0.3, -0.6, 1.2], [-0.4, 0.8, 0.2]], dtype=torch.float64)  # (B, H): decoder states s
MASK = torch.tensor([[True, True, True, True], [True, True, False, False]])
W_S = torch.tensor([[0.5, -0.2, 0.1], [0.3, 0.4, -0.6], [-0.1, 0.2, 0.7]], dtype=torch.float64)
W_H = torch.tensor([[0.2, 0.1, -0.3], [-0.5, 0.6, 0.2], [0.4, -0.3, 0.1]], dtype=torch.float64)
BIAS = torch.tensor([0.05, -0.1, 0.2], dtype=torch.float64)
V = torch.tensor([0.7, -1.1, 0.4], dtype=torch.float64)
W_GENERAL = torch.tensor([[1.0, 0.5, 0.0], [-0.5, 0.25, 1.0], [0.0, -1.0, 0.5]], dtype=torch.float64)


def paper_score(kind: str, s: torch.Tensor, h: torch.Tensor, w: dict) -> float:
    """One score from the formula as the papers write it; s, h are (H,) vectors."""
    if kind == "additive":
        W = torch.cat([w["W_s"], w["W_h"]], dim=1)  # (H, 2H): W [s; h]
        return float(torch.dot(w["v"], torch.tanh(W @ torch.cat([s, h]) + w["b"])))
    if kind == "dot":
        return float(torch.dot(s, h))
    if kind == "general":
        return float(torch.dot(s, w["W"] @ h))
    raise ValueError(kind)


def paper_attention(kind, query, values, lengths, w):
    """Scores (B, S) of the real positions (nan at padding), weights (B, S) and contexts (B, H)."""
    B, S, _ = values.shape
    scores = torch.full((B, S), float("nan"), dtype=torch.float64)
    weights = torch.zeros(B, S, dtype=torch.float64)
    contexts = torch.zeros(B, values.shape[2], dtype=torch.float64)
    for b in range(B):
        e = [paper_score(kind, query[b], values[b, j], w) for j in range(lengths[b])]
        top = max(e)
        z = sum(math.exp(x - top) for x in e)
        for j, x in enumerate(e):
            scores[b, j] = x
            weights[b, j] = math.exp(x - top) / z
            contexts[b] += weights[b, j] * values[b, j]
    return scores, weights, contexts


def hand_set(att: Attention, kind: str) -> dict:
    """Write the hand-made matrices into the module; return them under the papers' names."""
    with torch.no_grad():
        if kind == "additive":
            att.w_q.weight.copy_(W_S)  # the query (decoder state) side: W_s s + b
            att.w_q.bias.copy_(BIAS)
            att.w_k.weight.copy_(W_H)  # the key (encoder output) side: W_h h
            att.v.weight.copy_(V.unsqueeze(0))
            return {"W_s": W_S, "W_h": W_H, "b": BIAS, "v": V}
        if kind == "general":
            att.w_k.weight.copy_(W_GENERAL)
            return {"W": W_GENERAL}
    return {}


def assert_scores_match(weights, scores, lengths):
    """log a_j - log a_0 = e_j - e_0 on every real position."""
    for b, n in enumerate(lengths):
        got = torch.log(weights[b, :n]) - torch.log(weights[b, 0])
        torch.testing.assert_close(got, scores[b, :n] - scores[b, 0], rtol=0, atol=1e-10)


@pytest.mark.parametrize("kind", ["additive", "dot", "general"])
def test_attention_module_follows_the_paper_formula(kind):
    att = Attention(kind, H).double()
    w = hand_set(att, kind)
    scores, expected, _ = paper_attention(kind, QUERY, VALUES, LENGTHS, w)
    got = att(QUERY, att.keys(VALUES), MASK)  # (B, S)

    assert got.shape == (2, 4)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)
    assert_scores_match(got, scores, LENGTHS)
    assert torch.equal(got[1, 2:], torch.zeros(2, dtype=torch.float64))  # padding: exactly zero
    torch.testing.assert_close(got.sum(-1), torch.ones(2, dtype=torch.float64), rtol=0, atol=1e-12)


def test_dot_attention_by_hand():
    """s = (1, 0, 2), h_1 = (1, 1, 1), h_2 = (0, 1, 0): scores 3 and 0, weights sigmoid(3), sigmoid(-3)."""
    att = Attention("dot", 3).double()
    s = torch.tensor([[1.0, 0.0, 2.0]], dtype=torch.float64)
    h = torch.tensor([[[1.0, 1.0, 1.0], [0.0, 1.0, 0.0], [5.0, 5.0, 5.0]]], dtype=torch.float64)
    a = att(s, att.keys(h), torch.tensor([[True, True, False]]))
    e3 = math.exp(3.0)
    torch.testing.assert_close(
        a, torch.tensor([[e3 / (e3 + 1), 1 / (e3 + 1), 0.0]], dtype=torch.float64), rtol=1e-12, atol=0
    )


def test_additive_is_not_the_general_or_dot_score():
    """The three formulas give different weights on the same inputs, so the checks above tell them apart."""
    out = {}
    for kind in ("additive", "dot", "general"):
        att = Attention(kind, H).double()
        hand_set(att, kind)
        out[kind] = att(QUERY, att.keys(VALUES), MASK)
    assert not torch.allclose(out["additive"], out["dot"], atol=1e-3)
    assert not torch.allclose(out["general"], out["dot"], atol=1e-3)
    assert not torch.allclose(out["additive"], out["general"], atol=1e-3)


@pytest.mark.parametrize("kind", ["additive", "dot", "general"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_decoder_step_queries_with_its_new_state_and_sums_the_encoder_outputs(kind, cell):
    """In Seq2Seq.step the query is the new decoder state s_t, the weights follow the formula over
    the encoder outputs, and the context fed to o_t = tanh(W_o [s_t; c_t]) is sum_j a_j h_j."""
    torch.manual_seed(0)
    cfg = Seq2SeqConfig(
        src_vocab_size=11, tgt_vocab_size=9, emb_size=5, hidden_size=4, cell=cell, attention=kind, dropout=0.0
    )
    model = Seq2Seq(cfg).double().eval()
    src = torch.tensor([[4, 5, 6, 7, 8], [9, 10, 4, 0, 0]])  # second sentence: 3 words, 2 pads
    lengths = torch.tensor([5, 3])
    seen = []
    model.combine.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].detach().clone()))

    with torch.no_grad():
        memory = model.encode(src, lengths)
        state = model.start(memory)
        prev = torch.tensor([1, 1])
        for _ in range(2):  # the second step: s_t moved on
            _, state, attn = model.step(prev, state, memory)
            prev = torch.tensor([3, 2])
    combined = seen[-1]  # (B, 2H) = [s_t; c_t]
    s_t, context = combined[:, :4], combined[:, 4:]
    torch.testing.assert_close(s_t, state[0], rtol=0, atol=0)  # the query is the new state h_t

    att = model.attention
    if kind == "additive":
        w = {"W_s": att.w_q.weight, "W_h": att.w_k.weight, "b": att.w_q.bias, "v": att.v.weight[0]}
    elif kind == "general":
        w = {"W": att.w_k.weight}
    else:
        w = {}
    w = {k: v.detach() for k, v in w.items()}
    scores, expected, expected_context = paper_attention(kind, s_t, memory.values, [5, 3], w)
    torch.testing.assert_close(attn, expected, rtol=1e-10, atol=1e-12)
    assert_scores_match(attn, scores, [5, 3])
    assert torch.equal(attn[1, 3:], torch.zeros(2, dtype=torch.float64))
    torch.testing.assert_close(context, expected_context, rtol=1e-10, atol=1e-12)


def test_no_attention_uses_the_sentence_summary_as_context():
    """attention="none" (Cho et al. 2014): the context is the encoder's summary at every step."""
    torch.manual_seed(0)
    model = (
        Seq2Seq(
            Seq2SeqConfig(
                src_vocab_size=11, tgt_vocab_size=9, emb_size=5, hidden_size=4, attention="none", dropout=0.0
            )
        )
        .double()
        .eval()
    )
    seen = []
    model.combine.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].detach().clone()))
    with torch.no_grad():
        memory = model.encode(torch.tensor([[4, 5, 6], [7, 8, 0]]), torch.tensor([3, 2]))
        _, _, attn = model.step(torch.tensor([1, 1]), model.start(memory), memory)
    torch.testing.assert_close(seen[-1][:, 4:], memory.summary, rtol=0, atol=0)
    assert torch.equal(attn, torch.zeros(2, 3, dtype=torch.float64))
