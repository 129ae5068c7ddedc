"""Scoring a translation model on sentence pairs: batched greedy / beam decoding of source ids,
corpus BLEU (sacreBLEU, 13a tokenisation) of the outputs against the normalised references, and the
beam's length-normalisation exponent chosen by validation BLEU.

Plain functions of a model and its vocabularies, so the training loop (validation and test BLEU,
alpha tuning) scores the weights it holds in memory; Translator, on top, decodes with the same ones.
"""

from __future__ import annotations

from collections.abc import Callable

from seqlab.batching import pad_sequences
from seqlab.errors import ParameterError
from seqlab.translate.backoff import SpellingBackoff
from seqlab.translate.data import EOS_ID, PAD_ID, SOS_ID
from seqlab.translate.decoding import Hypothesis, beam_decode, greedy_decode
from seqlab.vocab import Vocab

ALPHA_GRID = (0.6, 0.8, 1.0, 1.2)  # length-normalisation exponents tried by TrainConfig.tune_alpha

Pairs = list[tuple[list[str], list[str]]]


def decode_ids(
    model, sources: list[list[int]], max_len: int, beam: int = 1, alpha: float = 1.0, batch_size: int = 256
) -> list[Hypothesis]:
    """Decode source id lists in batches on the model's device: greedy for beam=1, else beam search
    of that width with length exponent `alpha`. max_len: the longest source the model was trained
    on; outputs stop at max_len + 2 words."""
    if beam < 1:
        raise ParameterError("beam", f"must be at least 1, got {beam}")
    if batch_size < 1:
        raise ParameterError("batch_size", f"must be at least 1, got {batch_size}")
    out: list[Hypothesis] = []
    max_out = max_len + 2
    device = next(model.parameters()).device
    for i in range(0, len(sources), batch_size):
        src, lens = pad_sequences(sources[i : i + batch_size], PAD_ID)
        src, lens = src.to(device), lens.to(device)
        if beam == 1:
            out += greedy_decode(model, src, lens, EOS_ID, SOS_ID, max_out, alpha=alpha)
        else:
            out += beam_decode(model, src, lens, EOS_ID, SOS_ID, max_out, beam, alpha=alpha)
    return out


def outputs_bleu(hyps: list[Hypothesis], pairs: Pairs, tgt_vocab: Vocab) -> tuple[float, list[str]]:
    """Corpus BLEU of decoded hypotheses against the pairs' targets; and the outputs as text."""
    outputs = [" ".join(tgt_vocab.decode(h.ids)) for h in hyps]
    return corpus_bleu(outputs, [" ".join(t) for _, t in pairs]), outputs


def bleu(
    model,
    pairs: Pairs,
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    max_len: int,
    beam: int = 1,
    alpha: float = 1.0,
    backoff: bool = True,
) -> tuple[float, list[str]]:
    """Corpus BLEU of the model's translations of the pairs' sources (unknown source words read as
    the known word they most likely inflect when `backoff`, else <unk>); and the outputs."""
    if backoff:
        speller = SpellingBackoff(src_vocab.itos[len(src_vocab.specials) :])
        sources = [src_vocab.encode(speller.respell(s)[0]) for s, _ in pairs]
    else:
        sources = [src_vocab.encode(s) for s, _ in pairs]
    return outputs_bleu(decode_ids(model, sources, max_len, beam, alpha), pairs, tgt_vocab)


def tune_alpha(
    bleu_at: Callable[[float], float],
    grid: tuple[float, ...] | None = None,
) -> tuple[float, dict[str, float]]:
    """The exponent of `grid` (default ALPHA_GRID) whose BLEU, bleu_at(alpha), is best (ties keep
    the smaller; give it validation pairs, never the test pairs); and every score, by str(alpha)."""
    scores = {a: bleu_at(a) for a in grid or ALPHA_GRID}
    best = max(scores, key=lambda a: (scores[a], -a))
    return best, {str(a): round(v, 2) for a, v in scores.items()}


def corpus_bleu(hypotheses: list[str], references: list[str]) -> float:
    """sacreBLEU corpus score (0-100) with one reference per sentence."""
    import sacrebleu

    return float(sacrebleu.corpus_bleu(hypotheses, [references]).score)
