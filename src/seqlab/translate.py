"""Training and using an attention translator: the explicit loop, checkpoints, BLEU.

    data = load_pair_data(path, reverse=True, prefix_filter=True)     # seqlab.pairs
    result = train_translator(data, TrainConfig(attention="additive"), "runs/fr-en")
    tr = Translator.load("runs/fr-en");  tr.translate(["je suis tres fatigue"], beam=5)

Training: Adam with a cosine learning-rate decay over the time budget (so a 5-minute and a
15-minute run both end annealed; with `max_epochs` set, the decay follows the steps of those
epochs instead, so the run repeats exactly whatever the machine load), label-smoothed cross-entropy, gradient-norm clipping, teacher
forcing ratio, batches of similar source length. After every epoch the validation loss (plain
cross-entropy per target word, teacher forced) is measured; the best model so far is written to
RUN/model.pt (atomically, via seqlab.checkpoint) and training stops early after `patience`
epochs without improvement, at `max_epochs`, or when `max_minutes` is spent. Ctrl-C stops
training, keeps the best checkpoint and still evaluates. Test BLEU (sacreBLEU, 13a tokenisation,
on the normalised lowercase text) is then measured with the best model and the default decoder.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from seqlab.backoff import SpellingBackoff
from seqlab.checkpoint import (load_checkpoint, pack_numpy_state, rng_state, save_checkpoint, set_rng_state,
                               unpack_numpy_state)
from seqlab.decoding import Hypothesis, beam_decode, greedy_decode
from seqlab.ema import WeightEMA
from seqlab.errors import SeqlabError
from seqlab.files import write_json_atomic
from seqlab.models.ensemble import Ensemble
from seqlab.models.seq2seq import Seq2Seq, Seq2SeqConfig
from seqlab.pairs import (EOS_ID, PAD_ID, SOS_ID, SPECIALS, UNK_ID, PairData, build_vocab, collate,
                          encode_pairs, make_batches, pad_batch, tokenize)
from seqlab.runtime import progress, seed_everything
from seqlab.vocab import Vocab

CHECKPOINT_KIND = "translate"
CHECKPOINT_NAME = "model.pt"
TRAIN_STATE_KIND = "translate-train"   # RUN/last.pt: everything --resume needs, written every epoch
TRAIN_STATE_NAME = "last.pt"
METRICS_NAME = "metrics.json"


@dataclass
class TrainConfig:
    """Training settings; the defaults are the ones benchmarked in docs/translate.md.

    attention / encoder / cell / emb_size / hidden_size / dropout: see Seq2SeqConfig.
    lr: Adam's peak learning rate, decayed by a cosine to lr * min_lr_frac over the time budget
    (over max_epochs' steps when max_epochs is set).
    batch_size: pairs per step. label_smoothing: 0-0.2; 0.1 regularises small data sets.
    teacher_forcing: probability of feeding the true previous word (1.0 = always).
    clip: max gradient norm. max_minutes: training time budget (evaluation not included).
    max_epochs: epoch cap (None = as many as fit). select: what picks the best epoch and drives
    early stopping: "bleu" (greedy BLEU on up to 2,000 validation pairs; with label smoothing the
    validation cross-entropy turns up epochs before translations stop improving) or "loss".
    patience: epochs without a better `select` score before stopping. min_count: rarer training
    words become <unk>. beam / alpha: the default decoder (beam width; 1 = greedy) and its
    length-normalisation exponent. precision: "bf16" autocasts training products to bfloat16
    (weights, optimizer and evaluation stay fp32), "fp32", or "auto" = bf16 where the CPU has it.
    ema: keep an exponential moving average of the weights (decay per step, e.g. 0.999; 0 = off)
    and validate, keep and save that average instead of the raw weights (Polyak averaging).
    word_dropout: probability of replacing each source word of a training batch by <unk>, so the
    model learns to translate around words it has never seen and leans less on any single word
    (Sennrich & Zhang 2019). tie_embeddings: see Seq2SeqConfig. ensemble: train this many models
    (seeds seed, seed+1, ...) one after another within the one time budget and decode with all of
    them (seqlab.models.ensemble). backoff: at validation and test, read source words unseen in
    training as the known word they most likely inflect (seqlab.backoff) instead of <unk>; on the
    prefix set it adds 1.2-1.9 test BLEU (a fifth of the test sentences hold an unseen word).
    tune_alpha: after training, pick the length-normalisation exponent from ALPHA_GRID by beam BLEU
    on the validation pairs (never the test pairs) and save it as the model's default.
    """

    attention: str = "additive"
    encoder: str = "rnn"
    cell: str = "lstm"
    emb_size: int = 256
    hidden_size: int = 256
    dropout: float = 0.2
    lr: float = 2e-3
    min_lr_frac: float = 0.02
    batch_size: int = 64
    label_smoothing: float = 0.1
    teacher_forcing: float = 1.0
    clip: float = 1.0
    max_minutes: float = 15.0
    max_epochs: int | None = None
    select: str = "bleu"
    patience: int = 6
    min_count: int = 1
    beam: int = 5
    alpha: float = 1.0
    seed: int = 0
    precision: str = "auto"
    ema: float = 0.0
    tie_embeddings: bool = False
    ensemble: int = 1
    tune_alpha: bool = False
    word_dropout: float = 0.0
    backoff: bool = True

    def model_config(self, src_vocab_size: int, tgt_vocab_size: int, max_len: int) -> Seq2SeqConfig:
        return Seq2SeqConfig(src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size,
                             emb_size=self.emb_size, hidden_size=self.hidden_size, encoder=self.encoder,
                             cell=self.cell, attention=self.attention, dropout=self.dropout,
                             max_positions=max(max_len + 1, 16), pad_id=PAD_ID,
                             tie_embeddings=self.tie_embeddings)


@dataclass
class Translation:
    """A translated sentence: normalised source words, output words, attention (len(output)+1, len(source))."""

    source: list[str]
    output: list[str]
    attention: torch.Tensor
    unknown: list[str] = field(default_factory=list)  # source words the model has never seen
    respelled: dict[str, str] = field(default_factory=dict)  # unknown words read as a known one (backoff)
    score: float = 0.0


class Translator:
    """A trained model with its vocabularies: translate sentences and score BLEU.

    max_len: the longest source sentence (in words) the model was trained on; longer input is
    rejected. beam / alpha: the default decoder. backoff: read unknown source words as the known
    word they most likely inflect (seqlab.backoff) instead of <unk>.
    """

    def __init__(self, model: Seq2Seq, src_vocab: Vocab, tgt_vocab: Vocab, max_len: int,
                 beam: int = 5, alpha: float = 1.0, info: dict | None = None, backoff: bool = True):
        self.model = model.eval()
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.max_len, self.beam, self.alpha = max_len, beam, alpha
        self.backoff = backoff
        self.speller = SpellingBackoff(src_vocab.itos[len(src_vocab.specials):])
        self.info = info or {}
        self.test_pairs: list[tuple[list[str], list[str]]] = []  # the held-out split, when loaded from a run

    @classmethod
    def load(cls, run: str | os.PathLike) -> "Translator":
        """Load RUN/model.pt (or a checkpoint file given directly)."""
        path = Path(run)
        if path.is_dir():
            path = path / CHECKPOINT_NAME
        ck = load_checkpoint(path, kind=CHECKPOINT_KIND)
        try:
            members = int(ck.get("ensemble", 1))
            model_cfg = Seq2SeqConfig(**ck["model_config"])
            model = Seq2Seq(model_cfg) if members == 1 else Ensemble([Seq2Seq(model_cfg) for _ in range(members)])
            model.load_state_dict(ck["model"])
            src_vocab, tgt_vocab = Vocab.from_dict(ck["src_vocab"]), Vocab.from_dict(ck["tgt_vocab"])
            info = dict(ck["info"])
            tr = cls(model, src_vocab, tgt_vocab, int(info["max_len"]), int(info["beam"]),
                     float(info["alpha"]), info, bool(info.get("backoff", True)))
            tr.test_pairs = [(str(s).split(), str(t).split()) for s, t in ck["test_pairs"]]
            return tr
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise SeqlabError(f"{path}: damaged translate checkpoint ({type(e).__name__}: {str(e)[:100]})") from None

    def encode_source(self, words: list[str]) -> tuple[list[int], dict[str, str]]:
        """Source ids of normalised words (unknown ones backed off when self.backoff, else <unk>), and
        {unknown word: known word read instead}."""
        respelled = {}
        if self.backoff:
            words, respelled = self.speller.respell(words)
        return self.src_vocab.encode(words), respelled

    def source_ids(self, sentence: str) -> tuple[list[str], list[int], list[str], dict[str, str]]:
        """Normalise and encode one source sentence: (words, ids, unknown words, backed-off words);
        SeqlabError if empty, too long or without a single known word."""
        words = tokenize(sentence)
        if not words:
            raise SeqlabError("empty sentence: nothing to translate (only punctuation or spaces?)")
        if len(words) > self.max_len:
            raise SeqlabError(f"sentence has {len(words)} words after normalisation; this model takes "
                              f"at most {self.max_len} (its training --max-len)")
        unknown = [w for w in words if w not in self.src_vocab.stoi]
        if len(unknown) == len(words):
            raise SeqlabError(f"no known words in the sentence ({' '.join(words)!r}); is it in the "
                              f"model's source language?")
        ids, respelled = self.encode_source(words)
        return words, ids, unknown, respelled

    def decode_ids(self, sources: list[list[int]], beam: int | None = None,
                   batch_size: int = 256) -> list[Hypothesis]:
        """Decode id lists in batches; beam=1 is greedy."""
        beam = self.beam if beam is None else beam
        if beam < 1:
            raise SeqlabError(f"--beam must be at least 1, got {beam}")
        out: list[Hypothesis] = []
        max_out = self.max_len + 2
        for i in range(0, len(sources), batch_size):
            src, lens = pad_batch(sources[i:i + batch_size])
            if beam == 1:
                out += greedy_decode(self.model, src, lens, EOS_ID, SOS_ID, max_out, alpha=self.alpha)
            else:
                out += beam_decode(self.model, src, lens, EOS_ID, SOS_ID, max_out, beam, alpha=self.alpha)
        return out

    def translate(self, sentences: list[str], beam: int | None = None) -> list[Translation]:
        encoded = [self.source_ids(s) for s in sentences]
        hyps = self.decode_ids([ids for _, ids, _, _ in encoded], beam)
        return [Translation(words, self.tgt_vocab.decode(h.ids), h.attention, unk, resp, h.score)
                for (words, _, unk, resp), h in zip(encoded, hyps)]

    def tune_alpha(self, pairs: list[tuple[list[str], list[str]]], beam: int | None = None,
                   grid: tuple[float, ...] = None) -> float:
        """Set (and return) the length-normalisation exponent with the best BLEU on `pairs` — give it
        validation pairs; ties keep the smaller exponent."""
        scores = {}
        for a in grid or ALPHA_GRID:
            self.alpha = a
            scores[a] = self.bleu(pairs, beam)[0]
        self.alpha = max(scores, key=lambda a: (scores[a], -a))
        self.info["alpha_scores"] = {str(a): round(v, 2) for a, v in scores.items()}
        return self.alpha

    def bleu(self, pairs: list[tuple[list[str], list[str]]], beam: int | None = None) -> tuple[float, list[str]]:
        """Corpus BLEU (sacreBLEU) of the decoded sources against their references; and the outputs."""
        hyps = self.decode_ids([self.encode_source(s)[0] for s, _ in pairs], beam)
        outputs = [" ".join(self.tgt_vocab.decode(h.ids)) for h in hyps]
        return corpus_bleu(outputs, [" ".join(t) for _, t in pairs]), outputs


def corpus_bleu(hypotheses: list[str], references: list[str]) -> float:
    """sacreBLEU corpus score (0-100) with one reference per sentence."""
    import sacrebleu

    return float(sacrebleu.corpus_bleu(hypotheses, [references]).score)


def lr_at(cfg: TrainConfig, frac: float) -> float:
    """Cosine decay from cfg.lr to cfg.lr * min_lr_frac as `frac` of the time budget goes by."""
    frac = min(max(frac, 0.0), 1.0)
    lo = cfg.lr * cfg.min_lr_frac
    return lo + (cfg.lr - lo) * 0.5 * (1.0 + math.cos(math.pi * frac))


def drop_words(ids: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """Word dropout: each real word (not padding or a special token) becomes <unk> with probability p."""
    drop = (torch.rand(ids.shape, generator=gen) < p) & (ids >= len(SPECIALS))
    return ids.masked_fill(drop, UNK_ID)


def evaluate_loss(model: Seq2Seq, encoded, batch_size: int = 256) -> float:
    """Mean cross-entropy per target word (incl. <eos>), teacher forced, dropout off."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for idx in make_batches(encoded, batch_size):
            src, lens, tgt_in, tgt_out = collate(encoded, idx)
            logits, _ = model(src, lens, tgt_in)
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                                           ignore_index=PAD_ID, reduction="sum"))
            count += int((tgt_out != PAD_ID).sum())
    return total / max(count, 1)


ALPHA_GRID = (0.6, 0.8, 1.0, 1.2)  # length-normalisation exponents tried by TrainConfig.tune_alpha
VALID_BLEU_PAIRS = 2000  # validation pairs decoded (greedy) per epoch for --select bleu


def _checkpoint_payload(model, model_cfg, src_vocab, tgt_vocab, cfg, data_info, state, test) -> dict:
    return {
        "test_pairs": [[" ".join(s), " ".join(t)] for s, t in test],
        "model": model.state_dict(),
        "model_config": model_cfg.to_dict(),
        "train_config": asdict(cfg),
        "src_vocab": src_vocab.to_dict(),
        "tgt_vocab": tgt_vocab.to_dict(),
        "info": {**data_info, "beam": cfg.beam, "alpha": cfg.alpha, "backoff": cfg.backoff, **state},
    }


def train_translator(data: PairData, cfg: TrainConfig, out_dir: str | os.PathLike,
                     data_info: dict | None = None, show_progress: bool | None = None,
                     max_len: int | None = None, resume: bool = False) -> dict:
    """Train on data.train, early-stop on data.valid, write RUN/model.pt and RUN/metrics.json.

    data_info: extra provenance stored in the checkpoint and metrics (file, direction, filters).
    max_len: the source length limit recorded for later translation (default: longest source seen).
    Every epoch also writes RUN/last.pt (weights, optimizer, averages, RNG states, elapsed time);
    resume=True continues from it as if never stopped (the same data and config are needed).
    Returns the metrics dict (also written to RUN/metrics.json).
    """
    seed_everything(cfg.seed)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SeqlabError(f"output path exists and is not a directory: {out}")
    src_vocab = build_vocab([s for s, _ in data.train], cfg.min_count)
    tgt_vocab = build_vocab([t for _, t in data.train], cfg.min_count)
    train_enc = encode_pairs(data.train, src_vocab, tgt_vocab)
    valid_enc = encode_pairs(data.valid, src_vocab, tgt_vocab)
    longest = max(len(s) for s, _ in data.train + data.valid + data.test)
    max_len = max_len or longest
    if not 0.0 <= cfg.word_dropout < 1.0:
        raise SeqlabError(f"word dropout must be in [0, 1), got {cfg.word_dropout}")
    if not 0.0 <= cfg.ema < 1.0:
        raise SeqlabError(f"ema must be in [0, 1), got {cfg.ema}")
    if cfg.tie_embeddings and cfg.emb_size != cfg.hidden_size:
        raise SeqlabError(f"tied embeddings need --emb-size equal to --hidden-size, got {cfg.emb_size} "
                          f"and {cfg.hidden_size}")
    if cfg.select not in ("bleu", "loss"):
        raise SeqlabError(f"select must be bleu or loss, got {cfg.select!r}")
    precision = cfg.precision
    if precision == "auto":
        from seqlab.runtime import fast_bf16_cpu

        precision = "bf16" if fast_bf16_cpu() else "fp32"
    if precision not in ("bf16", "fp32"):
        raise SeqlabError(f"precision must be auto, bf16 or fp32, got {cfg.precision!r}")
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")
    model_cfg = cfg.model_config(len(src_vocab), len(tgt_vocab), max(max_len, longest))
    model = Seq2Seq(model_cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    ema = WeightEMA(model, cfg.ema, warmup=True) if cfg.ema > 0 else None
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.RandomState(cfg.seed)
    info = {**(data_info or {}), "max_len": max_len, "n_train": len(data.train), "n_valid": len(data.valid),
            "n_test": len(data.test), "src_vocab_size": len(src_vocab), "tgt_vocab_size": len(tgt_vocab)}
    budget = cfg.max_minutes * 60.0
    max_epochs = cfg.max_epochs if cfg.max_epochs is not None else 10**9
    best_val, best_bleu, best_score, best_epoch, bad_epochs, step, epoch = (float("inf"), None, float("-inf"),
                                                                            0, 0, 0, 0)
    history = []
    stop_reason = "max_epochs"
    t0 = time.perf_counter()
    ckpt_path = out / CHECKPOINT_NAME
    if resume:
        ck = load_checkpoint(out / TRAIN_STATE_NAME, TRAIN_STATE_KIND)
        if ck["model_config"] != model_cfg.to_dict():
            raise SeqlabError(f"{out / TRAIN_STATE_NAME} was trained with other data or model settings; "
                              "resume with the same pairs file and flags")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        if ema is not None:
            for sh, v in zip(ema.shadow, ck["ema"]):
                sh.copy_(v)
            ema.steps = ck["step"]
        gen.set_state(ck["data_rng"])
        rng.set_state(unpack_numpy_state(ck["batch_rng"]))
        set_rng_state(ck["rng"])
        (epoch, step, best_val, best_score, best_epoch, bad_epochs, history) = (
            ck["epoch"], ck["step"], ck["best_val"], ck["best_score"], ck["best_epoch"], ck["bad_epochs"],
            ck["history"])
        best_bleu = ck["best_bleu"] if ck["best_bleu"] >= 0 else None
        t0 -= ck["elapsed"]                      # the time budget and the LR schedule go on where they were

    def save_last():
        save_checkpoint(out / TRAIN_STATE_NAME, TRAIN_STATE_KIND, {
            "model": model.state_dict(), "optimizer": opt.state_dict(), "model_config": model_cfg.to_dict(),
            "ema": list(ema.shadow) if ema is not None else [], "data_rng": gen.get_state(),
            "batch_rng": pack_numpy_state(rng.get_state()), "rng": rng_state(), "epoch": epoch, "step": step,
            "best_val": best_val, "best_score": best_score, "best_epoch": best_epoch,
            "best_bleu": -1.0 if best_bleu is None else best_bleu, "bad_epochs": bad_epochs,
            "history": history, "elapsed": time.perf_counter() - t0, "train_config": asdict(cfg), "info": info})

    def save_best(val: float):
        state = {"epoch": epoch, "step": step, "val_loss": val}
        save_checkpoint(ckpt_path, CHECKPOINT_KIND,
                        _checkpoint_payload(model, model_cfg, src_vocab, tgt_vocab, cfg, info, state, data.test))

    if resume and bad_epochs >= cfg.patience:     # it had already stopped early: just evaluate again
        stop_reason, max_epochs = "early_stopping", epoch
    try:
        while epoch < max_epochs:
            model.train()
            batches = make_batches(train_enc, cfg.batch_size, rng)
            bar = progress(len(batches), desc=f"epoch {epoch + 1}", unit="batch", enabled=show_progress)
            total, words = 0.0, 0
            out_of_time = False
            for idx in batches:
                frac = (time.perf_counter() - t0) / budget if budget > 0 else 1.0
                if frac >= 1.0:
                    out_of_time = True
                    break
                if cfg.max_epochs is not None:  # a step-based decay: repeatable, whatever the machine load
                    frac = step / (cfg.max_epochs * len(batches))
                for g in opt.param_groups:
                    g["lr"] = lr_at(cfg, frac)
                src, lens, tgt_in, tgt_out = collate(train_enc, idx)
                if cfg.word_dropout > 0:
                    src = drop_words(src, cfg.word_dropout, gen)
                with autocast:
                    logits, _ = model(src, lens, tgt_in, cfg.teacher_forcing, gen)
                loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                                       ignore_index=PAD_ID, label_smoothing=cfg.label_smoothing)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
                opt.step()
                step += 1
                if ema is not None:
                    ema.update()
                n = int((tgt_out != PAD_ID).sum())
                total += float(loss.detach()) * n
                words += n
                bar.update(1)
                bar.set_postfix(loss=f"{total / max(words, 1):.3f}", lr=f"{opt.param_groups[0]['lr']:.1e}",
                                left=f"{max(0.0, budget - (time.perf_counter() - t0)) / 60:.1f}m")
            bar.close()
            if words == 0:  # the budget ran out before this epoch's first batch
                stop_reason = "time"
                break
            epoch += 1
            if ema is not None:
                ema.swap()                          # validate (and save) the averaged weights
            val = evaluate_loss(model, valid_enc)
            vbleu = None
            if cfg.select == "bleu":                # the current weights, greedy, as Translator decodes
                vbleu = Translator(model, src_vocab, tgt_vocab, max_len, backoff=cfg.backoff).bleu(data.valid[:VALID_BLEU_PAIRS], beam=1)[0]
            history.append({"epoch": epoch, "step": step, "train_loss": total / words, "val_loss": val,
                            "val_bleu": vbleu, "seconds": round(time.perf_counter() - t0, 1)})
            score = vbleu if cfg.select == "bleu" else -val
            if score > best_score:
                best_score, best_val, best_bleu, best_epoch, bad_epochs = score, val, vbleu, epoch, 0
                save_best(val)
            else:
                bad_epochs += 1
            if ema is not None:
                ema.swap()
            save_last()
            if out_of_time:
                stop_reason = "time"
                break
            if bad_epochs >= cfg.patience:
                stop_reason = "early_stopping"
                break
    except KeyboardInterrupt:
        stop_reason = "interrupted"
        if best_epoch == 0:  # nothing saved yet: keep what we have
            best_val = evaluate_loss(model, valid_enc)
            save_best(best_val)
    if best_epoch == 0 and stop_reason != "interrupted":
        best_val = evaluate_loss(model, valid_enc)
        save_best(best_val)
    seconds = time.perf_counter() - t0

    translator = Translator.load(ckpt_path)
    t1 = time.perf_counter()
    if cfg.tune_alpha and stop_reason != "interrupted":
        ck = load_checkpoint(ckpt_path, CHECKPOINT_KIND)
        ck["info"]["alpha"] = translator.tune_alpha(data.valid, cfg.beam)
        save_checkpoint(ckpt_path, CHECKPOINT_KIND, {k: v for k, v in ck.items() if k not in ("format", "version", "kind")})
    bleu, outputs = translator.bleu(data.test, cfg.beam)
    metrics = {
        "val_loss": round(best_val, 4),
        "val_bleu": None if best_bleu is None else round(best_bleu, 2),
        "bleu": round(bleu, 2),
        "precision": precision,
        "decoder": "greedy" if cfg.beam == 1 else f"beam{cfg.beam}",
        "seconds": round(seconds, 1),
        "eval_seconds": round(time.perf_counter() - t1, 1),
        "best_epoch": best_epoch,
        "epochs": epoch,
        "steps": step,
        "stop_reason": stop_reason,
        "params": sum(p.numel() for p in model.parameters()),
        "train_config": asdict(cfg),
        "data": info,
        "history": history,
    }
    write_json_atomic(out / METRICS_NAME, metrics)
    return metrics


ENSEMBLE_STATE_NAME = "ensemble.json"   # RUN/ensemble.json: config and data of an ensemble run, for --resume


def train(data: PairData, cfg: TrainConfig, out_dir: str | os.PathLike, data_info: dict | None = None,
          show_progress: bool | None = None, max_len: int | None = None, resume: bool = False) -> dict:
    """train_translator, or for cfg.ensemble = K > 1: K members in RUN/member1..K, each given an equal
    share of the time still left (one that stops early leaves its time to the next), then decoded as
    one (RUN/model.pt holds all K). Resumes member by member."""
    if cfg.ensemble < 1:
        raise SeqlabError(f"ensemble must be at least 1, got {cfg.ensemble}")
    if cfg.ensemble == 1:
        return train_translator(data, cfg, out_dir, data_info, show_progress, max_len, resume)
    out = Path(out_dir)
    K, budget = cfg.ensemble, cfg.max_minutes * 60.0
    write_json_atomic(out / ENSEMBLE_STATE_NAME, {"train_config": asdict(cfg), "info": data_info or {},
                                                  "max_len": max_len})
    results, used = [], 0.0
    for k in range(K):
        mdir = out / f"member{k + 1}"
        done = mdir / METRICS_NAME
        if resume and done.exists() and json.loads(done.read_text())["stop_reason"] != "interrupted":
            m = json.loads(done.read_text())
        else:
            mcfg = replace(cfg, ensemble=1, seed=cfg.seed + k, tune_alpha=False,   # the ensemble tunes, once
                           max_minutes=max(budget - used, 0.0) / (K - k) / 60)
            m = train_translator(data, mcfg, mdir, data_info, show_progress, max_len,
                                 resume=resume and (mdir / TRAIN_STATE_NAME).exists())
        results.append(m)
        used += m["seconds"] + m["eval_seconds"]          # its test decode comes out of the budget too
        if m["stop_reason"] == "interrupted":
            return {**m, "stop_reason": "interrupted", "members_done": k}
    first = load_checkpoint(out / "member1" / CHECKPOINT_NAME, CHECKPOINT_KIND)
    members = [Translator.load(out / f"member{k + 1}").model for k in range(K)]
    model = Ensemble(members).eval()
    src_vocab, tgt_vocab = Vocab.from_dict(first["src_vocab"]), Vocab.from_dict(first["tgt_vocab"])
    info = dict(first["info"])
    translator = Translator(model, src_vocab, tgt_vocab, int(info["max_len"]), cfg.beam, cfg.alpha, info,
                            cfg.backoff)
    alpha = translator.tune_alpha(data.valid, cfg.beam) if cfg.tune_alpha else cfg.alpha
    valid_enc = encode_pairs(data.valid, src_vocab, tgt_vocab)
    val = evaluate_loss(model, valid_enc)
    vbleu = translator.bleu(data.valid[:VALID_BLEU_PAIRS], beam=1)[0]
    state = {"members": K, "val_loss": val}
    payload = {**first, "model": model.state_dict(), "ensemble": K, "train_config": asdict(cfg),
               "info": {**info, **state, "beam": cfg.beam, "alpha": alpha, "backoff": cfg.backoff}}
    for key in ("format", "version", "kind"):
        payload.pop(key, None)
    save_checkpoint(out / CHECKPOINT_NAME, CHECKPOINT_KIND, payload)
    t1 = time.perf_counter()
    bleu, _ = Translator.load(out).bleu(data.test, cfg.beam)
    metrics = {
        "val_loss": round(val, 4), "val_bleu": round(vbleu, 2), "bleu": round(bleu, 2),
        "precision": results[0]["precision"], "decoder": "greedy" if cfg.beam == 1 else f"beam{cfg.beam}",
        "seconds": round(used, 1), "eval_seconds": round(time.perf_counter() - t1, 1),
        "best_epoch": [m["best_epoch"] for m in results], "epochs": sum(m["epochs"] for m in results),
        "steps": sum(m["steps"] for m in results), "stop_reason": f"ensemble of {K}",
        "params": sum(p.numel() for p in model.parameters()), "train_config": asdict(cfg), "data": info,
        "members": [{k: m[k] for k in ("val_loss", "val_bleu", "bleu", "seconds", "epochs", "best_epoch",
                                       "stop_reason")} for m in results],
        "history": [],
    }
    write_json_atomic(out / METRICS_NAME, metrics)
    return metrics
