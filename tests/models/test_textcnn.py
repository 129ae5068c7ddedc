"""Kim's CNN (narrow and wide), the DCNN and the RNN/hybrid networks: shapes, a near-uniform start
with gradient in every trainable parameter, overfitting, max-norm, frozen/tuned embeddings,
brute-force convolution parity, and invariance to the padding that bucketing adds."""

import math

import pytest
import torch
import torch.nn.functional as F

from seqlab.models.dcnn import DCNN, DCNNConfig
from seqlab.models.textcnn import TextCNN, TextCNNConfig, apply_max_norm
from seqlab.models.textrnn import CNNRNN, CNNRNNConfig, TextRNN, TextRNNConfig

V, C = 40, 3


def _ids(B=6, T=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, V, (B, T), generator=g)
    ids[0, 5:] = 0  # a shorter sentence, right-padded
    return ids


def _cnn(variant="rand", D=16, seed=0, pre_sd=1.0, conv="narrow"):
    torch.manual_seed(seed)
    pre = None if variant == "rand" else torch.randn(V, D) * pre_sd
    return TextCNN(TextCNNConfig(V, C, D, (3, 4, 5), 8, 0.5, variant, conv=conv), pre)


def _rnn(kind, seed=0):
    torch.manual_seed(seed)
    if kind == "cnn-rnn":
        return CNNRNN(CNNRNNConfig(V, C, 16, 12, "lstm", (3, 4, 5), 8))
    cell, bi, pool = kind
    return TextRNN(TextRNNConfig(V, C, 16, 12, cell, bi, 1, pool))


ALL = (
    [("cnn", v) for v in ("rand", "static", "non-static", "multichannel")]
    + [("cnn-wide", "rand"), ("dcnn", 16)]
    + [
        ("rnn", k)
        for k in (
            ("lstm", False, "max"),
            ("lstm", True, "max"),
            ("gru", False, "mean"),
            ("lstm", True, "last"),
            "cnn-rnn",
        )
    ]
)


def _make(kind, arg, **kw):
    if kind == "dcnn":
        torch.manual_seed(0)
        return DCNN(DCNNConfig(V, C, embedding_dim=arg))
    if kind.startswith("cnn"):
        return _cnn(arg, conv="wide" if kind == "cnn-wide" else "narrow", **kw)
    return _rnn(arg)


@pytest.mark.parametrize("kind,arg", ALL)
def test_initial_predictions_are_near_uniform_and_every_trainable_weight_gets_gradient(kind, arg):
    """As built (no weights touched): loss ln(C) and no class above 1/C + 0.15 for any sentence; one
    backward pass reaches every trainable parameter and none of the frozen ones. Pretrained vectors
    here have word2vec's scale (sd 0.15, like Kim's U[-0.25, 0.25] for unknown words)."""
    m = _make(kind, arg, pre_sd=0.15)
    ids = _ids(B=64, T=12)
    m.eval()
    with torch.no_grad():
        logits = m(ids)
    assert logits.shape == (64, C)
    y = torch.randint(0, C, (64,), generator=torch.Generator().manual_seed(0))
    assert abs(float(F.cross_entropy(logits, y)) - math.log(C)) < 0.05
    assert float((logits.softmax(-1) - 1 / C).abs().max()) < 0.15
    m.train()
    F.cross_entropy(m(ids), y).backward()
    for name, p in m.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and float(p.grad.abs().sum()) > 0, name
        else:
            assert p.grad is None, name
    frozen = {n for n, p in m.named_parameters() if not p.requires_grad}
    assert frozen == (
        {"embedding.weight"}
        if arg == "static"
        else {"static_embedding.weight"}
        if arg == "multichannel"
        else set()
    )


@pytest.mark.parametrize("kind,arg", ALL)
def test_padding_does_not_change_the_output(kind, arg):
    """Bucketing pads a sentence to its batch's length: extra pad ids must change nothing."""
    m = _make(kind, arg).eval()
    ids = _ids()
    longer = torch.cat([ids, torch.zeros(ids.shape[0], 7, dtype=torch.long)], dim=1)
    with torch.no_grad():
        assert torch.allclose(m(ids), m(longer), atol=1e-5)
        single = m(ids[:1, :5])  # sentence 0 alone, without any padding
        assert torch.allclose(single, m(ids)[:1], atol=1e-5)


@pytest.mark.parametrize(
    "kind,arg", [("cnn", "rand"), ("cnn", "non-static"), ("rnn", ("lstm", True, "max")), ("rnn", "cnn-rnn")]
)
def test_overfits_a_tiny_set(kind, arg):
    m = _make(kind, arg)
    ids = _ids(B=20, T=8, seed=1)
    y = torch.randint(0, C, (20,), generator=torch.Generator().manual_seed(2))
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=0.01)
    for _ in range(150):
        loss = F.cross_entropy(m(ids), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    with torch.no_grad():
        assert float(F.cross_entropy(m(ids), y)) < 0.05
    assert (m(ids).argmax(1) == y).all()


@pytest.mark.parametrize("conv", ["narrow", "wide"])
def test_cnn_features_match_the_slides_formula(conv):
    """c_i = f(w^T x_{i:i+h-1} + b), c in R^{n-h+1} (narrow) or R^{n+h-1} (wide: h-1 zero vectors each
    side), c_hat = max(c), computed window by window on each unpadded sentence. A sentence shorter
    than h has no narrow window: its feature is 0."""
    torch.manual_seed(0)
    m = TextCNN(TextCNNConfig(V, C, 16, (3, 4, 5), 8, 0.5, "rand", conv=conv)).eval()
    ids = _ids(B=3, T=6)
    ids[1, 3:] = 0  # 3 words: narrow windows for h = 3 only
    feats = m.features(ids)  # (3, 24)
    emb = m.embedding.weight.detach()
    for b in range(3):
        n = int((ids[b] != 0).sum())
        expect = []
        for conv_layer in m.convs:
            w, bias = conv_layer.weight.detach(), conv_layer.bias.detach()  # (F, D, h), (F,)
            h = w.shape[2]
            x = emb[ids[b, :n]]  # (n, D)
            if conv == "wide":
                x = torch.cat([torch.zeros(h - 1, 16), x, torch.zeros(h - 1, 16)])
            c = [torch.relu((w * x[i : i + h].T).sum(dim=(1, 2)) + bias) for i in range(x.shape[0] - h + 1)]
            assert len(c) == (n + h - 1 if conv == "wide" else max(0, n - h + 1))
            expect.append(torch.stack(c).max(0).values if c else torch.zeros(8))  # max over time
        assert torch.allclose(feats[b], torch.cat(expect), atol=1e-5)
    assert feats[1, 8:].abs().sum() == 0 if conv == "narrow" else feats[1, 8:].abs().sum() > 0


def test_multichannel_equals_each_filter_on_both_channels():
    m = _cnn("multichannel").eval()
    with torch.no_grad():
        m.embedding.weight.add_(torch.randn_like(m.embedding.weight) * 0.3)  # channels now differ
        m.embedding.weight[0] = 0
    ids = _ids()
    ids[0, 5:] = ids[0, :4].repeat(2)[:4]  # full-length sentences: no masking
    conv = m.convs[0]
    x1 = m.embedding(ids).transpose(1, 2)
    x2 = m.static_embedding(ids).transpose(1, 2)
    both = F.conv1d(x1, conv.weight) + F.conv1d(x2, conv.weight) + conv.bias[None, :, None]
    assert torch.allclose(m.features(ids)[:, :8], F.relu(both).amax(2), atol=1e-5)


def test_max_norm_holds_after_a_step():
    m = _cnn("rand")
    with torch.no_grad():
        m.fc.weight.mul_(50.0)  # rows far above norm 3
    opt = torch.optim.Adadelta(m.parameters(), lr=1.0, rho=0.95, eps=1e-6)
    loss = F.cross_entropy(m(_ids()), torch.zeros(6, dtype=torch.long))
    loss.backward()
    opt.step()
    assert m.fc.weight.norm(dim=1).max() > 3.5  # the step alone does not enforce it
    apply_max_norm(m.fc, 3.0)
    norms = m.fc.weight.norm(dim=1)
    assert torch.all(norms <= 3.0 + 1e-5) and torch.allclose(norms, torch.full_like(norms, 3.0), atol=1e-4)
    small = torch.nn.Linear(4, 2)
    with torch.no_grad():
        small.weight.fill_(0.1)
    before = small.weight.clone()
    apply_max_norm(small, 3.0)
    assert torch.equal(small.weight, before)  # rows under the limit are untouched


@pytest.mark.parametrize("variant", ["rand", "static", "non-static", "multichannel"])
def test_which_embeddings_train(variant):
    m = _cnn(variant)
    before = m.embedding.weight.detach().clone()
    static_before = m.static_embedding.weight.detach().clone() if variant == "multichannel" else None
    opt = torch.optim.Adadelta([p for p in m.parameters() if p.requires_grad], lr=1.0, rho=0.95, eps=1e-6)
    for _ in range(3):
        loss = F.cross_entropy(m(_ids()), torch.arange(6) % C)
        opt.zero_grad()
        loss.backward()
        opt.step()
    changed = not torch.equal(m.embedding.weight, before)
    assert changed == (variant != "static")
    assert torch.all(m.embedding.weight[0] == 0)  # the padding vector stays zero
    if variant == "multichannel":
        assert torch.equal(m.static_embedding.weight, static_before)
