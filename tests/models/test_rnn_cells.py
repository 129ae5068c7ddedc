"""Scratch cells (the lecture's equations) against torch.nn.RNN/LSTM/GRU: outputs and gradients."""

import math

import pytest
import torch

from seqlab.models.rnn import CELLS, CharRNN, CharRNNConfig, ScratchRecurrent, make_recurrent


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
def test_scratch_matches_fused_outputs_and_gradients(cell, layers):
    torch.manual_seed(0)
    scratch = make_recurrent(cell, "scratch", 6, 8, layers)
    fused = make_recurrent(cell, "fused", 6, 8, layers)
    fused.load_state_dict(scratch.state_dict())  # same parameter names, copied unchanged
    x = torch.randn(3, 5, 6)
    if cell == "lstm":
        h0 = (torch.randn(layers, 3, 8), torch.randn(layers, 3, 8))
    else:
        h0 = torch.randn(layers, 3, 8)
    xs, xf = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_s, st_s = scratch(xs, h0)
    out_f, st_f = fused(xf, h0)
    torch.testing.assert_close(out_s, out_f, atol=1e-5, rtol=0)
    finals_s = st_s if isinstance(st_s, tuple) else (st_s,)
    finals_f = st_f if isinstance(st_f, tuple) else (st_f,)
    for a, b in zip(finals_s, finals_f):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    w = torch.randn_like(out_s)
    ((out_s * w).sum() + sum(s.sum() for s in finals_s)).backward()
    ((out_f * w).sum() + sum(s.sum() for s in finals_f)).backward()
    torch.testing.assert_close(xs.grad, xf.grad, atol=1e-5, rtol=0)
    gs = dict(scratch.named_parameters())
    for name, p in fused.named_parameters():
        torch.testing.assert_close(gs[name].grad, p.grad, atol=1e-5, rtol=0, msg=name)


def test_lstm_step_is_the_lecture_formula():
    """One step by hand: f, i, C~, C_t = f*C + i*C~, o, h = o*tanh(C) with W over [h, x]."""
    torch.manual_seed(1)
    H, D = 4, 3
    m = ScratchRecurrent("lstm", D, H)
    x, h, c = torch.randn(1, 1, D), torch.randn(1, 1, H), torch.randn(1, 1, H)
    out, (h1, c1) = m(x, (h, c))
    W = torch.cat([m.weight_hh_l0, m.weight_ih_l0], dim=1)  # W acting on [h, x]
    b = m.bias_ih_l0 + m.bias_hh_l0
    z = W @ torch.cat([h[0, 0], x[0, 0]]) + b
    i, f, g, o = z.split(H)
    C = torch.sigmoid(f) * c[0, 0] + torch.sigmoid(i) * torch.tanh(g)
    torch.testing.assert_close(c1[0, 0], C)
    torch.testing.assert_close(h1[0, 0], torch.sigmoid(o) * torch.tanh(C))


def test_vanilla_rnn_step_is_tanh_of_w_on_concatenation():
    torch.manual_seed(2)
    m = ScratchRecurrent("rnn", 3, 4)
    x, h = torch.randn(1, 1, 3), torch.randn(1, 1, 4)
    _, h1 = m(x, h)
    W = torch.cat([m.weight_hh_l0, m.weight_ih_l0], dim=1)
    expected = torch.tanh(W @ torch.cat([h[0, 0], x[0, 0]]) + m.bias_ih_l0 + m.bias_hh_l0)
    torch.testing.assert_close(h1[0, 0], expected)


@pytest.mark.parametrize("cell", CELLS)
def test_charrnn_initial_loss_near_log_vocab_and_shapes(cell):
    torch.manual_seed(0)
    V = 30
    model = CharRNN(CharRNNConfig(vocab_size=V, cell=cell, hidden_size=32, num_layers=2, embed_size=8))
    idx = torch.randint(0, V, (4, 12))
    logits, state = model(idx)
    assert logits.shape == (4, 12, V)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), idx.reshape(-1))
    assert abs(loss.item() - math.log(V)) < 0.3


def test_category_conditioning_changes_predictions():
    torch.manual_seed(0)
    model = CharRNN(CharRNNConfig(vocab_size=10, hidden_size=16, num_layers=1, num_categories=3, dropout=0))
    idx = torch.randint(0, 10, (2, 5))
    a, _ = model(idx, category=torch.tensor([0, 0]))
    b, _ = model(idx, category=torch.tensor([1, 1]))
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError):
        model(idx)


@pytest.mark.parametrize("cell", CELLS)
def test_fused_layerwise_dropout_matches_scratch_in_training(cell):
    """Training mode with dropout: both stacks draw the same byte masks between layers (same seed),
    so the fused layer-by-layer path must equal the scratch equations, outputs and gradients."""
    torch.manual_seed(0)
    scratch = make_recurrent(cell, "scratch", 6, 8, 3, dropout=0.4).train()
    fused = make_recurrent(cell, "fused", 6, 8, 3, dropout=0.4).train()
    fused.load_state_dict(scratch.state_dict())
    x = torch.randn(4, 7, 6)
    torch.manual_seed(5)
    out_s, _ = scratch(x)
    torch.manual_seed(5)
    out_f, _ = fused(x)
    torch.testing.assert_close(out_s, out_f, atol=1e-5, rtol=0)
    out_s.sum().backward()
    out_f.sum().backward()
    gs = dict(scratch.named_parameters())
    for name, p in fused.named_parameters():
        torch.testing.assert_close(gs[name].grad, p.grad, atol=1e-5, rtol=0, msg=name)
    torch.manual_seed(6)
    assert not torch.allclose(fused(x)[0], out_f), "a new seed must draw new masks"


def test_fast_dropout_rate_and_expectation():
    from seqlab.models.rnn import fast_dropout

    torch.manual_seed(0)
    x = torch.ones(200_000)
    y = fast_dropout(x, 0.3)
    cut = round(0.3 * 256)
    assert abs((y == 0).float().mean().item() - cut / 256) < 0.005
    assert abs(y.mean().item() - 1.0) < 0.01  # inverted scaling keeps the mean
    assert torch.equal(fast_dropout(x, 0.3, training=False), x)
    assert torch.equal(fast_dropout(x, 0.0), x)
