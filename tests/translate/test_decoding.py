"""Greedy and beam-search decoding (seqlab.translate.decoding): B=1 parity, optimality on a toy
model, batching."""

import copy
import functools
import itertools
import math

import pytest
import torch

from seqlab.models.seq2seq import Seq2Seq, Seq2SeqConfig
from seqlab.translate.decoding import beam_decode, greedy_decode, sequence_logprob

SOS, EOS = 1, 2


@pytest.fixture(autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@functools.cache
def random_model(attention="additive", encoder="rnn", seed=0, steps=30):
    """A small model, briefly trained to reverse random id strings so its outputs vary in length."""
    torch.manual_seed(seed)
    cfg = Seq2SeqConfig(
        src_vocab_size=30,
        tgt_vocab_size=12,
        emb_size=16,
        hidden_size=24,
        attention=attention,
        encoder=encoder,
        dropout=0.0,
    )
    model = Seq2Seq(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        lens = torch.randint(1, 8, (32,), generator=g)
        src = torch.zeros(32, 7, dtype=torch.long)
        tgt = torch.zeros(32, 8, dtype=torch.long)
        for i, n in enumerate(lens.tolist()):
            src[i, :n] = torch.randint(4, 30, (n,), generator=g)
            tgt[i, :n] = (src[i, :n].flip(0) % 8) + 4
            tgt[i, n] = EOS
        tgt_in = torch.cat([torch.full((32, 1), SOS), tgt[:, :-1]], 1)
        logits, _ = model(src, lens, tgt_in)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 12), tgt.reshape(-1), ignore_index=0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def sources(lengths, seed=1):
    g = torch.Generator().manual_seed(seed)
    src = torch.zeros(len(lengths), max(lengths), dtype=torch.long)
    for i, n in enumerate(lengths):
        src[i, :n] = torch.randint(4, 30, (n,), generator=g)
    return src, torch.tensor(lengths)


@pytest.mark.parametrize(
    "attention,encoder", [("additive", "rnn"), ("dot", "rnn"), ("general", "cnn"), ("none", "rnn")]
)
def test_beam_of_one_is_greedy(attention, encoder):
    model = random_model(attention, encoder)
    src, lens = sources([5, 3, 7, 1, 4, 6])
    g = greedy_decode(model, src, lens, EOS, SOS, max_len=8)
    b = beam_decode(model, src, lens, EOS, SOS, max_len=8, beam_size=1)
    assert [h.ids for h in g] == [h.ids for h in b]
    assert any(len(h.ids) > 0 for h in g)
    for hg, hb in zip(g, b):
        assert hg.logprob == pytest.approx(hb.logprob, abs=1e-5)
        torch.testing.assert_close(hg.attention, hb.attention)
        assert hg.attention.shape == (len(hg.ids) + 1, src.shape[1])


def test_reported_scores_match_a_recomputation_and_batching_changes_nothing():
    model = random_model()
    src, lens = sources([5, 3, 7, 2])
    hyps = beam_decode(model, src, lens, EOS, SOS, max_len=8, beam_size=4, alpha=1.0)
    for i, h in enumerate(hyps):
        n = int(lens[i])
        lp = sequence_logprob(model, src[i : i + 1, :n], lens[i : i + 1], h.ids, EOS, SOS)
        assert h.logprob == pytest.approx(lp, abs=1e-4)
        assert h.score == pytest.approx(lp / (len(h.ids) + 1), abs=1e-4)
        alone = beam_decode(model, src[i : i + 1, :n], lens[i : i + 1], EOS, SOS, max_len=8, beam_size=4)[0]
        assert alone.ids == h.ids
        torch.testing.assert_close(alone.attention, h.attention[:, :n])


def test_beam_never_scores_below_greedy_on_random_models():
    for seed in range(2):
        model = random_model(seed=seed)
        src, lens = sources([4, 6, 2, 5, 3], seed=seed)
        g = greedy_decode(model, src, lens, EOS, SOS, max_len=8)
        b = beam_decode(model, src, lens, EOS, SOS, max_len=8, beam_size=6)
        assert all(hb.score >= hg.score - 1e-5 for hg, hb in zip(g, b))


class ToyModel:
    """Next-word distributions depend only on the previous word (a fixed table of probabilities).

    After <sos>: "a" 0.55, "b" 0.45. After "a": flat-ish (<eos> 0.3, a/b 0.25, c 0.2).
    After "b": <eos> 0.95. After "c": <eos> 0.9. Greedy takes "a" then stops: p = 0.165;
    the best sentence is "b": p = 0.4275, which only a beam keeps alive.
    """

    V = 6  # 0 pad, 1 sos, 2 eos, 3 a, 4 b, 5 c

    def __init__(self):
        p = torch.full((self.V, self.V), 1e-9)
        p[SOS, 3], p[SOS, 4] = 0.55, 0.45
        p[3, EOS], p[3, 3], p[3, 4], p[3, 5] = 0.3, 0.25, 0.25, 0.2
        p[4, EOS], p[4, 5] = 0.95, 0.05
        p[5, EOS], p[5, 3] = 0.9, 0.1
        p[EOS, EOS] = p[0, EOS] = 1.0
        self.logits = (p / p.sum(-1, keepdim=True)).log()

    def encode(self, src, lengths):
        return (torch.arange(src.shape[1]).unsqueeze(0) < lengths.unsqueeze(1),)

    def start(self, memory):
        return (torch.zeros(memory[0].shape[0]),)

    def step(self, prev, state, memory):
        mask = memory[0].float()
        return self.logits[prev], state, mask / mask.sum(-1, keepdim=True)


def test_beam_finds_a_better_sentence_than_greedy_on_a_toy_model():
    model = ToyModel()
    src, lens = torch.ones(1, 3, dtype=torch.long), torch.tensor([3])
    g = greedy_decode(model, src, lens, EOS, SOS, max_len=4)[0]
    b = beam_decode(model, src, lens, EOS, SOS, max_len=4, beam_size=2, alpha=0.0)[0]
    assert g.ids == [3] and b.ids == [4]
    assert g.logprob == pytest.approx(math.log(0.55 * 0.3), abs=1e-6)
    assert b.logprob == pytest.approx(math.log(0.45 * 0.95), abs=1e-6)
    assert b.logprob > g.logprob


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_wide_beam_matches_brute_force_search_on_the_toy_model(alpha):
    model = ToyModel()
    src, lens = torch.ones(1, 2, dtype=torch.long), torch.tensor([2])
    max_len = 3
    best, best_ids = -math.inf, None
    for n in range(0, max_len + 1):
        for ids in itertools.product([3, 4, 5], repeat=n):
            lp = sequence_logprob(model, src, lens, list(ids), EOS, SOS)
            if lp / (n + 1) ** alpha > best:
                best, best_ids = lp / (n + 1) ** alpha, list(ids)
    b = beam_decode(model, src, lens, EOS, SOS, max_len=max_len, beam_size=9, alpha=alpha)[0]
    assert b.ids == best_ids
    assert b.score == pytest.approx(best, abs=1e-5)


def test_length_is_capped_and_eos_is_forced():
    model = copy.deepcopy(random_model())
    with torch.no_grad():
        model.out.bias[EOS] -= 100.0  # never wants to stop
    src, lens = sources([3, 4])
    for h in greedy_decode(model, src, lens, EOS, SOS, max_len=5) + beam_decode(
        model, src, lens, EOS, SOS, 5, 3
    ):
        assert len(h.ids) == 5 and h.finished and EOS not in h.ids
