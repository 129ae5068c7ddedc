"""The attention encoder-decoder (seqlab.models.seq2seq): shapes, masking, attention, learning."""

import math

import pytest
import torch
import torch.nn.functional as F

from seqlab.errors import ParameterError
from seqlab.models.seq2seq import Seq2Seq, Seq2SeqConfig
from seqlab.translate.config import TrainConfig
from seqlab.translate.data import PAD_ID, PairData, split_pairs
from seqlab.translate.scoring import corpus_bleu
from seqlab.translate.train import train_translator
from seqlab.translate.translator import Translator


@pytest.fixture(autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only add overhead on a shared 2-core box
    yield
    torch.set_num_threads(old)


def make_model(attention="additive", encoder="rnn", cell="lstm", seed=0, **kw):
    torch.manual_seed(seed)
    cfg = Seq2SeqConfig(
        src_vocab_size=20,
        tgt_vocab_size=15,
        emb_size=12,
        hidden_size=16,
        encoder=encoder,
        cell=cell,
        attention=attention,
        dropout=0.1,
        **kw,
    )
    return Seq2Seq(cfg).eval()


def batch(lengths, S=None, T=5, seed=1):
    g = torch.Generator().manual_seed(seed)
    S = S or max(lengths)
    src = torch.randint(4, 20, (len(lengths), S), generator=g)
    for i, n in enumerate(lengths):
        src[i, n:] = PAD_ID
    tgt_in = torch.randint(4, 15, (len(lengths), T), generator=g)
    tgt_in[:, 0] = 1
    return src, torch.tensor(lengths), tgt_in


ALL = [(a, e, c) for a in ("additive", "dot", "general") for e in ("rnn", "cnn") for c in ("lstm", "gru")]


@pytest.mark.parametrize("attention,encoder,cell", ALL)
def test_attention_sums_to_one_and_is_zero_on_padding(attention, encoder, cell):
    model = make_model(attention, encoder, cell)
    src, lens, tgt_in = batch([6, 3, 1])
    logits, attn = model(src, lens, tgt_in)
    assert logits.shape == (3, 5, 15) and attn.shape == (3, 5, 6)
    torch.testing.assert_close(attn.sum(-1), torch.ones(3, 5))
    for i, n in enumerate([6, 3, 1]):
        assert torch.all(attn[i, :, n:] == 0)
        assert torch.all(attn[i, :, :n] > 0)


@pytest.mark.parametrize("attention,encoder,cell", ALL + [("none", "rnn", "lstm"), ("none", "cnn", "gru")])
def test_padding_a_batch_does_not_change_a_sentence(attention, encoder, cell):
    model = make_model(attention, encoder, cell)
    src, lens, tgt_in = batch([4])
    alone_logits, alone_attn = model(src, lens, tgt_in)
    # Same sentence in a batch with a longer one, plus extra padding columns.
    other, _, _ = batch([9], seed=5)
    big = torch.zeros(2, 11, dtype=torch.long)
    big[0, :4] = src[0]
    big[1, :9] = other[0]
    logits, attn = model(big, torch.tensor([4, 9]), torch.cat([tgt_in, tgt_in]))
    torch.testing.assert_close(logits[0], alone_logits[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(attn[0, :, :4], alone_attn[0], atol=1e-6, rtol=1e-5)


def test_no_attention_returns_zero_weights_and_has_no_attention_module():
    model = make_model("none")
    src, lens, tgt_in = batch([5, 2])
    _, attn = model(src, lens, tgt_in)
    assert torch.all(attn == 0)
    assert model.attention is None


def test_initial_loss_is_about_log_vocab():
    model = make_model()
    src, lens, tgt_in = batch([5, 4, 3, 6], T=7)
    with torch.no_grad():
        logits, _ = model(src, lens, tgt_in)
    loss = F.cross_entropy(logits.reshape(-1, 15), torch.randint(4, 15, (4 * 7,)))
    assert abs(float(loss) - math.log(15)) < 0.3


def test_teacher_forcing_ratio_uses_the_generator():
    model = make_model()
    src, lens, tgt_in = batch([5, 4, 3], T=6)
    full, _ = model(src, lens, tgt_in, teacher_forcing=1.0)
    a, _ = model(src, lens, tgt_in, 0.5, torch.Generator().manual_seed(0))
    b, _ = model(src, lens, tgt_in, 0.5, torch.Generator().manual_seed(0))
    own, _ = model(src, lens, tgt_in, 0.0)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(full[:, 0], own[:, 0])  # the first input is always <sos>
    assert not torch.allclose(full, own)


def test_bad_config_is_rejected_naming_the_field():
    """The model checks its config when it is built (Seq2SeqConfig.validate, a ParameterError: a
    ValueError naming the field)."""
    with pytest.raises(ValueError, match="^attention must be one of additive, dot, general, none, got 'mul'"):
        Seq2Seq(Seq2SeqConfig(10, 10, attention="mul"))
    with pytest.raises(ParameterError, match="^encoder must be one of"):
        Seq2Seq(Seq2SeqConfig(10, 10, encoder="transformer"))
    with pytest.raises(ParameterError, match=r"^dropout must be in \[0, 1\), got 1.0"):
        Seq2SeqConfig(10, 10, dropout=1.0).validate()
    cfg = Seq2SeqConfig(10, 10)
    assert cfg.validate() is cfg


def reverse_language(n=600, seed=0):
    """A synthetic language pair: the target is the source word-reversed, in another alphabet."""
    g = torch.Generator().manual_seed(seed)
    words = "ka lo mi nu pe ro sa ti".split()
    pairs = []
    for _ in range(n):
        k = int(torch.randint(2, 7, (1,), generator=g))
        s = [words[int(i)] for i in torch.randint(0, len(words), (k,), generator=g)]
        pairs.append((s, [w.upper().lower() + "x" for w in reversed(s)]))
    return pairs


def test_learns_to_reverse_a_tiny_language_and_bleu_is_high(tmp_path):
    pairs = reverse_language()
    tr, va, te = split_pairs(pairs, seed=0)
    data = PairData(tr, va, te, n_read=len(pairs), n_kept=len(pairs))
    cfg = TrainConfig(
        emb_size=32,
        hidden_size=64,
        dropout=0.0,
        label_smoothing=0.0,
        batch_size=32,
        lr=1e-2,
        max_epochs=12,
        max_minutes=2.0,
        beam=3,
        seed=0,
    )
    m = train_translator(data, cfg, tmp_path, show_progress=False)
    assert m["val_loss"] < 0.5, m  # initial loss is ln(V) ~ 2.5
    assert m["bleu"] > 90, m  # held-out sentences of the synthetic language, beam 3
    translator = Translator.load(tmp_path)
    bleu, outputs = translator.bleu(te, beam=1)
    assert bleu > 90
    # A scrambled "translation" scores low: the metric is not trivially high here.
    assert corpus_bleu([" ".join(reversed(o.split())) for o in outputs], [" ".join(t) for _, t in te]) < 40


# Fixed strings with a known corpus BLEU: 19/23, 11/19, 6/15 and 3/11 clipped n-gram matches,
# hypothesis length 23 > reference length 21 (no brevity penalty) -> 47.79 (sacreBLEU 2.x, 13a).
HYPS = ["the cat is on the mat", "there is a cat on the mat", "i am tired of it", "he s a good man"]
REFS = ["the cat is on the mat", "a cat is on the mat", "i am very tired", "he is a good man"]


def brute_force_bleu(hyps, refs):
    """Papineni et al. 2002 corpus BLEU on whitespace tokens, one reference, no smoothing."""
    from collections import Counter

    match, total = [0] * 4, [0] * 4
    for h, r in zip(hyps, refs):
        h, r = h.split(), r.split()
        for n in range(1, 5):
            hc = Counter(tuple(h[i : i + n]) for i in range(len(h) - n + 1))
            rc = Counter(tuple(r[i : i + n]) for i in range(len(r) - n + 1))
            match[n - 1] += sum(min(c, rc[g]) for g, c in hc.items())
            total[n - 1] += max(len(h) - n + 1, 0)
    c, r = sum(len(h.split()) for h in hyps), sum(len(x.split()) for x in refs)
    bp = 1.0 if c > r else math.exp(1 - r / c)
    return 100 * bp * math.exp(sum(math.log(m / t) for m, t in zip(match, total)) / 4)


def test_corpus_bleu_is_corpus_level_sacrebleu_with_a_known_score():
    assert corpus_bleu(HYPS, REFS) == pytest.approx(47.79, abs=0.005)
    assert corpus_bleu(HYPS, REFS) == pytest.approx(brute_force_bleu(HYPS, REFS), abs=1e-9)
    short = ["the cat is on the mat", "a cat is on", "i am very tired", "he is a good man"]
    assert corpus_bleu(short, REFS) == pytest.approx(
        brute_force_bleu(short, REFS), abs=1e-9
    )  # brevity penalty
    assert corpus_bleu(short, REFS) == pytest.approx(
        100 * math.exp(1 - 21 / 19)
    )  # every n-gram right, 19 of 21 words
    assert corpus_bleu(REFS, REFS) == pytest.approx(100.0)


def test_bleu_scores_against_normalised_lowercased_references():
    """Translator.bleu compares its output with the references as the data module normalises them
    (lowercase, accents stripped, "." dropped, "!" split off, "I'm" -> "i m"): outputs equal to the
    normalised references score 100, and fixed outputs score a pinned 35.40. Scoring against the raw
    sentences would give 18.09, against merely lowercased ones 26.92."""
    from types import SimpleNamespace

    from seqlab.translate.data import SPECIALS, build_vocab, filter_pairs
    from seqlab.vocab import Vocab

    raw = [
        ("Le chat est sur le tapis.", "The cat is on the mat."),
        ("Un chat est sur le tapis !", "A cat is on the mat!"),
        ("Je suis très fatigué.", "I'm very tired."),
        ("C'est un homme bon.", "He's a good man."),
    ]
    pairs = filter_pairs(raw, max_len=15)
    assert [" ".join(t) for _, t in pairs] == [
        "the cat is on the mat",
        "a cat is on the mat !",
        "i m very tired",
        "he s a good man",
    ]
    outputs = ["the cat sat on the mat", "a cat is on a mat !", "i m tired", "he s a man"]
    words = sorted({w for s in outputs for w in s.split()} | {w for _, t in pairs for w in t})
    tgt_vocab = Vocab(words, specials=SPECIALS, unk=SPECIALS[3])
    src_vocab = build_vocab([s for s, _ in pairs], 1)
    tr = Translator(make_model(), src_vocab, tgt_vocab, max_len=15, beam=1)

    def fixed(decoded):
        return lambda sources, beam=None: [SimpleNamespace(ids=tgt_vocab.encode(s.split())) for s in decoded]

    tr.decode_ids = fixed([" ".join(t) for _, t in pairs])
    assert tr.bleu(pairs)[0] == pytest.approx(100.0)
    tr.decode_ids = fixed(outputs)
    bleu, got = tr.bleu(pairs)
    assert got == outputs and bleu == pytest.approx(35.40, abs=0.005)
    assert corpus_bleu(outputs, [t for _, t in raw]) == pytest.approx(18.09, abs=0.005)
    assert corpus_bleu(outputs, [t.lower() for _, t in raw]) == pytest.approx(26.92, abs=0.005)


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_best_epoch_is_picked_by_validation_bleu(tmp_path, ema):
    """select="bleu": the kept checkpoint is the epoch with the best greedy validation BLEU, and
    decoding the validation set with it gives that BLEU again — with ema, the averaged weights are
    the ones validated and saved."""
    pairs = reverse_language(300, seed=1)
    tr, va, te = split_pairs(pairs, seed=0)
    data = PairData(tr, va, te, n_read=len(pairs), n_kept=len(pairs))
    cfg = TrainConfig(
        emb_size=16,
        hidden_size=32,
        dropout=0.0,
        batch_size=32,
        lr=1e-2,
        max_epochs=6,
        max_minutes=2.0,
        beam=1,
        seed=0,
        select="bleu",
        precision="fp32",
        ema=ema,
    )
    m = train_translator(data, cfg, tmp_path, show_progress=False)
    scores = [h["val_bleu"] for h in m["history"]]
    assert m["best_epoch"] == 1 + scores.index(max(scores))
    assert m["val_bleu"] == pytest.approx(max(scores), abs=0.01)
    again, _ = Translator.load(tmp_path).bleu(va, beam=1)
    assert again == pytest.approx(max(scores), abs=1e-6)
    if ema:  # the average is not the raw weights: validation differs from the plain run's
        plain = train_translator(
            data, TrainConfig(**{**cfg.__dict__, "ema": 0.0}), tmp_path / "plain", show_progress=False
        )
        assert [h["val_loss"] for h in plain["history"]] != [h["val_loss"] for h in m["history"]]
        assert [h["train_loss"] for h in plain["history"]] == [h["train_loss"] for h in m["history"]]
        with pytest.raises(ParameterError, match="^ema must be in"):
            train_translator(data, TrainConfig(ema=1.0, max_epochs=1), tmp_path / "x", show_progress=False)
        with pytest.raises(ParameterError, match="^select must be one of bleu, loss"):
            train_translator(
                data, TrainConfig(select="accuracy", max_epochs=1), tmp_path / "x", show_progress=False
            )


def test_tied_embeddings_share_one_matrix():
    cfg = Seq2SeqConfig(10, 12, emb_size=16, hidden_size=16, tie_embeddings=True)
    model = Seq2Seq(cfg)
    assert model.out.weight is model.tgt_emb.weight
    n_untied = sum(
        p.numel() for p in Seq2Seq(Seq2SeqConfig(10, 12, emb_size=16, hidden_size=16)).parameters()
    )
    assert sum(p.numel() for p in model.parameters()) == n_untied - 12 * 16
    with pytest.raises(ValueError, match="^tie_embeddings needs emb_size == hidden_size"):
        Seq2Seq(Seq2SeqConfig(10, 12, emb_size=8, hidden_size=16, tie_embeddings=True))
    state = model.state_dict()  # a checkpoint round trip keeps them tied
    back = Seq2Seq(Seq2SeqConfig(**cfg.to_dict()))
    back.load_state_dict(state)
    assert back.out.weight is back.tgt_emb.weight and torch.equal(back.out.weight, model.out.weight)


@pytest.mark.parametrize("attention,cell", [("additive", "lstm"), ("general", "gru"), ("none", "lstm")])
def test_forward_equals_step_by_step_decoding(attention, cell):
    model = make_model(attention, cell=cell)
    src, lens, tgt_in = batch([6, 2], T=4)
    logits, attn = model(src, lens, tgt_in)
    memory = model.encode(src, lens)
    state = model.start(memory)
    for t in range(4):
        step_logits, state, step_attn = model.step(tgt_in[:, t], state, memory)
        torch.testing.assert_close(step_logits, logits[:, t], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(step_attn, attn[:, t])


def test_an_ensemble_of_one_decodes_like_its_member_and_averages_log_probs():
    from seqlab.models.ensemble import Ensemble
    from seqlab.translate.decoding import beam_decode, greedy_decode

    torch.manual_seed(0)
    cfg = Seq2SeqConfig(12, 14, emb_size=16, hidden_size=16, dropout=0.0)
    a, b = Seq2Seq(cfg).eval(), Seq2Seq(cfg).eval()
    src = torch.randint(3, 12, (4, 6))
    lens = torch.tensor([6, 5, 3, 2])
    one = Ensemble([a]).eval()
    for dec in (
        lambda m: greedy_decode(m, src, lens, 2, 1, 8),
        lambda m: beam_decode(m, src, lens, 2, 1, 8, 3),
    ):
        ha, h1 = dec(a), dec(one)
        assert [h.ids for h in ha] == [h.ids for h in h1]
        assert [h.logprob for h in ha] == pytest.approx([h.logprob for h in h1], abs=1e-5)
    both = Ensemble([a, b]).eval()
    tgt = torch.randint(3, 14, (4, 5))
    with torch.no_grad():
        lp, attn = both(src, lens, tgt)
        la, aa = a(src, lens, tgt)
        lb, ab = b(src, lens, tgt)
    mean = (torch.log_softmax(la, -1) + torch.log_softmax(lb, -1)) / 2
    torch.testing.assert_close(lp, torch.log_softmax(mean, -1))
    torch.testing.assert_close(attn, (aa + ab) / 2)
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(4, 5))


def test_tune_alpha_picks_the_best_exponent_on_validation_and_saves_it(tmp_path):
    from seqlab.translate.scoring import ALPHA_GRID

    pairs = reverse_language(300, seed=2)
    tr, va, te = split_pairs(pairs, seed=0)
    data = PairData(tr, va, te, n_read=len(pairs), n_kept=len(pairs))
    cfg = TrainConfig(
        emb_size=16,
        hidden_size=32,
        dropout=0.0,
        batch_size=32,
        lr=1e-2,
        max_epochs=3,
        max_minutes=2.0,
        beam=3,
        seed=0,
        precision="fp32",
        tune_alpha=True,
    )
    m = train_translator(data, cfg, tmp_path, show_progress=False)
    loaded = Translator.load(tmp_path)
    scores = {}
    for a in ALPHA_GRID:
        loaded.alpha = a
        scores[a] = loaded.bleu(va, beam=3)[0]
    best = max(scores, key=lambda a: (scores[a], -a))
    assert Translator.load(tmp_path).alpha == best
    loaded.alpha = best
    assert loaded.bleu(te, beam=3)[0] == pytest.approx(m["bleu"], abs=0.006)


def test_word_dropout_replaces_only_real_words_at_about_its_rate(tmp_path):
    from seqlab.translate.data import SPECIALS, UNK_ID
    from seqlab.translate.train import drop_words

    ids = torch.randint(len(SPECIALS), 50, (200, 30))
    ids[:, -5:] = PAD_ID
    ids[:, 0] = 1  # a special token: never dropped
    out = drop_words(ids, 0.2, torch.Generator().manual_seed(0))
    changed = out != ids
    assert (out[changed] == UNK_ID).all()
    assert not changed[:, -5:].any() and not changed[:, 0].any()
    assert 0.17 < changed[:, 1:-5].float().mean() < 0.23
    assert torch.equal(drop_words(ids, 0.2, torch.Generator().manual_seed(0)), out)  # seeded
    with pytest.raises(ParameterError, match=r"^word_dropout must be in \[0, 1\), got 1.0"):
        train_translator(
            PairData([(["a"], ["b"])], [(["a"], ["b"])], [(["a"], ["b"])], 1, 1),
            TrainConfig(word_dropout=1.0, max_epochs=1),
            tmp_path,
            show_progress=False,
        )


def test_backoff_reads_an_unseen_inflection_as_its_known_form():
    """With backoff an unseen 'kalamos' is decoded exactly as the known 'kalamo'; without, as <unk>."""
    from seqlab.translate.data import SPECIALS, build_vocab
    from seqlab.vocab import Vocab

    src_vocab = build_vocab([["kalamo", "peroni", "sa"]], 1)
    tgt_vocab = Vocab(["x", "y", "z", "w"], specials=SPECIALS, unk=SPECIALS[3])
    torch.manual_seed(0)
    model = Seq2Seq(Seq2SeqConfig(len(src_vocab), len(tgt_vocab), emb_size=8, hidden_size=8, dropout=0.0))
    tr = Translator(model, src_vocab, tgt_vocab, max_len=6, beam=2)
    (seen,) = tr.translate(["kalamo peroni sa"])
    (inflected,) = tr.translate(["kalamos peroni sa"])
    assert inflected.respelled == {"kalamos": "kalamo"} and inflected.unknown == ["kalamos"]
    assert inflected.output == seen.output
    torch.testing.assert_close(inflected.weights, seen.weights)
    assert tr.bleu([(["kalamos", "peroni", "sa"], seen.output)])[0] == pytest.approx(100.0)
    tr.backoff = False
    (plain,) = tr.translate(["kalamos peroni sa"])
    assert plain.respelled == {} and tr.encode_source(["kalamos"])[0] == [src_vocab.index(SPECIALS[3])]
    assert not torch.equal(plain.weights, seen.weights)
