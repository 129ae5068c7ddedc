"""Character-level LM training: batching, overfitting, exact resume, sampling, makemore's eval."""

import math

import pytest
import torch

from seqlab.charlm import corpus as lmcorpus
from seqlab.charlm import data as lmdata
from seqlab.charlm.config import LMTrainConfig
from seqlab.charlm.evaluation import evaluate
from seqlab.charlm.model_file import load_model
from seqlab.charlm.sampling import generate_lines, generate_stream, sample_next
from seqlab.charlm.train import train_lm
from seqlab.vocab import Vocab

TINY = dict(layers=1, hidden=32, embed=8, dropout=0.0, batch_size=4, lr=1e-2, warmup_steps=5)


def test_sequential_windows_continue_each_column():
    ids = torch.arange(1000)
    b = lmdata.StreamBatcher(ids, batch_size=4, seq_len=10, sequential=True)
    gen = torch.Generator().manual_seed(0)
    x1, y1, reset1 = b.next(gen)
    x2, y2, reset2 = b.next(gen)
    assert reset1 and not reset2
    assert torch.equal(y1, x1 + 1)  # targets are inputs shifted by one char
    assert torch.equal(x2[:, 0], x1[:, -1] + 1)  # row b of batch k+1 continues row b of batch k


def test_padded_lines_mask_targets():
    vocab = lmdata.line_vocab(["ab", "b"])
    x, y = lmdata.pad_lines(lmdata.encode_lines(["ab", "b"], vocab))
    assert x.tolist() == [[0, 1, 2], [0, 2, 0]]
    assert y.tolist() == [[1, 2, 0], [2, 0, lmdata.IGNORE]]


def test_line_batches_group_similar_lengths_and_cover_every_line():
    seqs = [torch.zeros(n) for n in torch.randint(3, 20, (400,)).tolist()]
    b = lmdata.LineBatcher(seqs, None, batch_size=8)
    gen = torch.Generator().manual_seed(0)
    order = b._epoch_order(gen)
    assert sorted(order.tolist()) == list(range(400))
    spread = [
        max(len(seqs[i]) for i in blk) - min(len(seqs[i]) for i in blk) for blk in order.view(-1, 8).tolist()
    ]
    assert sum(spread) / len(spread) <= 1.0  # random batches would differ by ~12 characters
    assert not torch.equal(order, b._epoch_order(gen))  # a new order every epoch


def test_overfits_a_tiny_names_list_and_samples_them(tmp_path):
    names = ["anna", "bob", "carol", "dave", "eve", "frank"]
    corpus = lmcorpus.lines_corpus(names * 4, val_fraction=0.2, seed=0)
    cfg = LMTrainConfig(
        mode="lines", max_steps=250, eval_every=50, patience=100, seed=0, **{**TINY, "hidden": 64}
    )
    m = train_lm(corpus, cfg, tmp_path / "run", show_progress=False)
    assert m["val_loss"] < 0.9  # ln(8 symbols) = 2.08 at the start
    model, ck = load_model(tmp_path / "run")
    vocab = Vocab.from_dict(ck["vocab"])
    out = [
        "".join(vocab.decode(s))
        for s in generate_lines(model, 20, 0, temperature=0.5, generator=torch.Generator().manual_seed(0))
    ]
    assert sum(o in names for o in out) >= 15


def test_stream_model_learns_a_repeating_text(tmp_path):
    corpus = lmcorpus.stream_corpus("the cat sat on the mat. " * 60, val_fraction=0.1)
    cfg = LMTrainConfig(mode="stream", seq_len=16, max_steps=150, eval_every=50, seed=0, **TINY)
    m = train_lm(corpus, cfg, tmp_path / "run", show_progress=False)
    assert m["val_loss"] < 0.3
    assert set(m) >= {"val_loss", "val_bpc", "train_chars_per_sec", "steps", "seconds", "params"}
    assert m["val_bpc"] == pytest.approx(m["val_loss"] / math.log(2))
    assert (tmp_path / "run" / "loss.png").stat().st_size > 1000


@pytest.mark.parametrize("mode", ["stream", "lines"])
def test_resume_after_interrupt_equals_uninterrupted_run(tmp_path, mode):
    """N steps, Ctrl-C, resume to 2N == 2N steps straight (optimizer, data order, RNG, state)."""
    if mode == "stream":
        corpus = lmcorpus.stream_corpus("abcdefghij klmnop qrstuvw xyz. " * 40, 0.1)
    else:
        corpus = lmcorpus.lines_corpus(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"] * 5, 0.2, 0)
    cfg = LMTrainConfig(
        mode=mode,
        seq_len=8,
        max_steps=30,
        eval_every=10,
        seed=3,
        ema=0.9 if mode == "lines" else 0.0,
        **{**TINY, "dropout": 0.2, "layers": 2},
    )

    train_lm(corpus, cfg, tmp_path / "straight", show_progress=False)

    def interrupt(step):
        if step == 15:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_lm(corpus, cfg, tmp_path / "resumed", show_progress=False, on_step=interrupt)
    train_lm(corpus, cfg, tmp_path / "resumed", resume=True, show_progress=False)

    from seqlab.checkpoint import load_checkpoint

    a = load_checkpoint(tmp_path / "straight" / "last.pt")
    b = load_checkpoint(tmp_path / "resumed" / "last.pt")
    assert a["progress"]["step"] == b["progress"]["step"] == 30
    for k in a["model"]:
        torch.testing.assert_close(a["model"][k], b["model"][k], atol=0, rtol=0, msg=k)
    if cfg.ema:
        assert a["ema"]["steps"] == b["ema"]["steps"] == 30  # the average's count survives resume
        for x, y in zip(a["ema"]["shadow"], b["ema"]["shadow"]):
            torch.testing.assert_close(x, y, atol=0, rtol=0)


def test_ema_tracks_the_average_of_the_weights():
    from seqlab.ema import WeightEMA

    lin = torch.nn.Linear(2, 1, bias=False)
    torch.nn.init.zeros_(lin.weight)
    ema = WeightEMA(lin, 0.5)
    with torch.no_grad():
        lin.weight.fill_(4.0)
    ema.update()  # 0.5*0 + 0.5*4
    torch.testing.assert_close(ema.shadow[0], torch.full((1, 2), 2.0))
    ema.swap()
    torch.testing.assert_close(lin.weight.detach(), torch.full((1, 2), 2.0))
    ema.swap()
    torch.testing.assert_close(lin.weight.detach(), torch.full((1, 2), 4.0))
    warm = WeightEMA(lin, 0.999, warmup=True)  # step 1: d = 2/11, not 0.999
    with torch.no_grad():
        lin.weight.fill_(15.0)
    warm.update()
    torch.testing.assert_close(warm.shadow[0], torch.full((1, 2), 4.0 * 2 / 11 + 15.0 * 9 / 11))


def test_lines_eval_counts_every_char_and_the_end_marker():
    torch.manual_seed(0)
    from seqlab.models.rnn import CharRNN, CharRNNConfig

    vocab = lmdata.line_vocab(["abc", "de"])
    model = CharRNN(CharRNNConfig(vocab_size=len(vocab), hidden_size=8, num_layers=1, embed_size=4))
    seqs = lmdata.encode_lines(["abc", "de"], vocab)
    nll, n = evaluate(model, "lines", seqs)
    assert n == (3 + 1) + (2 + 1)
    manual = 0.0
    model.eval()  # evaluate() switches dropout off too
    with torch.no_grad():
        for s in seqs:
            logits, _ = model(s[None, :-1])
            manual += torch.nn.functional.cross_entropy(logits[0], s[1:], reduction="sum").item()
    assert nll == pytest.approx(manual, rel=1e-5)


@pytest.mark.parametrize("n_data", [40, 97])
def test_stream_eval_with_context_scores_every_char_given_its_history(n_data):
    """Each column is warmed on the `warm` chars before it (from the context for the first one), then
    every data char is scored once: the same sums as running each column's window from scratch."""
    torch.manual_seed(0)
    from seqlab.models.rnn import CharRNN, CharRNNConfig

    model = CharRNN(CharRNNConfig(vocab_size=7, hidden_size=8, num_layers=2, embed_size=4, dropout=0.3))
    context, data = torch.randint(0, 7, (30,)), torch.randint(0, 7, (n_data,))
    warm, seq_len, B = 6, 5, 4
    nll, n = evaluate(model, "stream", data, batch_size=B, seq_len=seq_len, context=context, warm=warm)
    text = torch.cat([context, data])
    cols = max(1, min(B, n_data // max(warm, seq_len)))
    rows = n_data // cols
    manual, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for b in range(cols):
            s = len(context) + b * rows  # first scored char of column b
            window = text[s - warm - 1 : s + rows]  # warm history + inputs + last target
            logits, _ = model(window[None, :-1])
            manual += torch.nn.functional.cross_entropy(
                logits[0, warm:], window[warm + 1 :], reduction="sum"
            ).item()
            count += rows
    assert n == count == cols * rows
    assert nll == pytest.approx(manual, rel=1e-5)


def test_sampling_is_a_pure_function_of_the_generator():
    torch.manual_seed(0)
    from seqlab.models.rnn import CharRNN, CharRNNConfig

    model = CharRNN(CharRNNConfig(vocab_size=12, hidden_size=16, num_layers=1))
    a = generate_stream(model, [1, 2], 50, generator=torch.Generator().manual_seed(7))
    b = generate_stream(model, [1, 2], 50, generator=torch.Generator().manual_seed(7))
    c = generate_stream(model, [1, 2], 50, generator=torch.Generator().manual_seed(8))
    assert a == b and a != c


def test_sample_next_temperature_and_top_k():
    logits = torch.tensor([[0.0, 1.0, 5.0, 2.0]])
    assert sample_next(logits, temperature=0).tolist() == [2]
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([sample_next(logits, 1.0, top_k=2, generator=g) for _ in range(200)])
    assert set(draws.flatten().tolist()) <= {2, 3}
    g = torch.Generator().manual_seed(0)
    cold = torch.stack([sample_next(logits, 0.1, generator=g) for _ in range(100)])
    assert (cold == 2).all()


def test_bf16_runs_the_training_products_in_bfloat16_and_tracks_fp32(tmp_path):
    """precision="bf16": the layers' outputs in training steps are bfloat16 (fp32: float32) and
    validation runs in float32; the run's loss differs from fp32's (so bf16 was really used) by little."""
    corpus = lmcorpus.stream_corpus("the quick brown fox jumps over the lazy dog. " * 40, 0.1)
    losses, dtypes, current = {}, {}, {}

    def record(module, args, out):
        if isinstance(module, torch.nn.Linear):  # the output layer W_out h + b_out
            dtypes.setdefault((current["prec"], module.training), set()).add(out.dtype)

    hook = torch.nn.modules.module.register_module_forward_hook(record)
    try:
        for prec in ("fp32", "bf16"):
            current["prec"] = prec
            cfg = LMTrainConfig(
                mode="stream", seq_len=16, max_steps=40, eval_every=20, seed=0, precision=prec, **TINY
            )
            losses[prec] = train_lm(corpus, cfg, tmp_path / prec, show_progress=False)["val_loss"]
    finally:
        hook.remove()
    assert dtypes[("bf16", True)] == {torch.bfloat16}
    assert dtypes[("fp32", True)] == dtypes[("bf16", False)] == dtypes[("fp32", False)] == {torch.float32}
    assert 1e-6 < abs(losses["bf16"] - losses["fp32"]) < 0.05
    assert LMTrainConfig(precision="auto").resolved().precision in ("fp32", "bf16")
