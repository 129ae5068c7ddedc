"""A trained translator, the object a user holds: train or load a run, translate sentences (greedy
or beam search, with attention weights), score corpus BLEU. It sits on top of the wing: training
(seqlab.translate.run, .train) and scoring (.scoring) never import it.

    tr = Translator.load("runs/fr-en");  tr.translate(["je suis tres fatigue"], beam=5)
    tr.to("cuda")                            # returns tr, as torch's Module.to does
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path

import torch

from seqlab.datasets import resolve_file
from seqlab.errors import ParameterError, SeqlabError
from seqlab.models.seq2seq import Seq2Seq
from seqlab.translate.backoff import SpellingBackoff
from seqlab.translate.config import TrainConfig
from seqlab.translate.data import tokenize
from seqlab.translate.decoding import Hypothesis
from seqlab.translate.run import train_from_file
from seqlab.translate.run_files import build_model, model_path, read_model
from seqlab.translate.scoring import decode_ids, outputs_bleu, tune_alpha
from seqlab.vocab import Vocab


@dataclass
class Translation:
    """A translated sentence.

    source: the normalised source words; output: the translation's words (without <eos>);
    weights: attention, (len(output) + 1, len(source)), row i = where output word i (the last row:
    <eos>) looked, each row summing to 1. `text`, `source_tokens`, `output_tokens` (ending in
    "<eos>") and `attention` (weights as a list of rows, one per output token) are the plain-data
    view of the public API.
    """

    source: list[str]
    output: list[str]
    weights: torch.Tensor
    unknown: list[str] = field(default_factory=list)  # source words the model has never seen
    respelled: dict[str, str] = field(default_factory=dict)  # unknown words read as a known one (backoff)
    score: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(self.output)

    @property
    def source_tokens(self) -> list[str]:
        return list(self.source)

    @property
    def output_tokens(self) -> list[str]:
        return [*self.output, "<eos>"]

    @property
    def attention(self) -> list[list[float]]:
        return self.weights.tolist()

    def __repr__(self) -> str:
        extra = f", unknown {self.unknown}" if self.unknown else ""
        extra += f", respelled {self.respelled}" if self.respelled else ""
        return (
            f"Translation({self.text!r}, source {len(self.source)} words, output {len(self.output)} words, "
            f"attention {len(self.output) + 1}x{len(self.source)}, score {self.score:.3f}{extra})"
        )


class Translator:
    """A trained model with its vocabularies: translate sentences and score BLEU.

    max_len: the longest source sentence (in words) the model was trained on; longer input is
    rejected. beam / alpha: the default decoder. backoff: read unknown source words as the known
    word they most likely inflect (seqlab.translate.backoff) instead of <unk>.
    """

    def __init__(
        self,
        model: Seq2Seq,
        src_vocab: Vocab,
        tgt_vocab: Vocab,
        max_len: int,
        beam: int = 5,
        alpha: float = 1.0,
        info: dict | None = None,
        backoff: bool = True,
    ):
        self.model = model.eval()
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.max_len, self.beam, self.alpha = max_len, beam, alpha
        self.backoff = backoff
        self.speller = SpellingBackoff(src_vocab.itos[len(src_vocab.specials) :])
        self.info = info or {}
        self.test_pairs: list[tuple[list[str], list[str]]] = []  # the held-out split, when loaded from a run
        self.metrics: dict = {}  # RUN/metrics.json of a run just trained
        self.run_dir: Path | None = None  # where it was loaded from

    def __repr__(self) -> str:
        c = self.model.cfg
        members = len(self.model.members) if hasattr(self.model, "members") else 1
        parts = [
            f"{c.attention} attention" if c.attention != "none" else "no attention",
            f"{c.encoder} encoder, {c.cell} {c.hidden_size} hidden, {c.emb_size} emb",
            f"vocabulary {len(self.src_vocab):,} -> {len(self.tgt_vocab):,}",
            f"max_len {self.max_len}",
            f"beam {self.beam}",
        ]
        if members > 1:
            parts.append(f"ensemble of {members}")
        if self.info.get("epoch") is not None:
            parts.append(f"epoch {self.info['epoch']}")
        if self.info.get("val_loss") is not None:
            parts.append(f"val_loss {self.info['val_loss']:.4f}")
        device = next(self.model.parameters()).device
        if device.type != "cpu":
            parts.append(f"device {device}")
        if self.run_dir is not None:
            parts.append(f"run_dir={str(self.run_dir)!r}")
        return f"Translator({', '.join(parts)})"

    def to(self, device: str | torch.device) -> Translator:
        """Move the model to `device` ("cpu", "cuda", "auto" or a torch.device) and return self, as
        torch's Module.to does."""
        from seqlab.runtime import resolve_device

        self.model.to(resolve_device(device))
        return self

    @classmethod
    def train(
        cls,
        pairs_path: str | os.PathLike,
        run_dir: str | os.PathLike,
        reverse: bool = False,
        prefix_filter: bool = False,
        max_len: int | None = None,
        show_progress: bool | None = False,
        device: str = "auto",
        **config,
    ) -> Translator:
        """Train on a LEFT<TAB>RIGHT pairs file (or the dataset name "eng-fra") into a new run
        directory and return the best model; `metrics` holds the run's test BLEU and timings.
        reverse: translate RIGHT -> LEFT. prefix_filter / max_len: the tutorial's subset filters
        (see seqlab.translate.data). device: "auto" (cuda when torch sees one, else cpu), "cpu" or
        "cuda". config: TrainConfig's settings (attention, max_minutes, preset, ...; the ones given
        beat the preset's); ParameterError names the one out of range. A pairs path naming no file
        is a SeqlabError naming it; every check runs before a file is written."""
        metrics = train_from_file(
            pairs_file(pairs_path),
            run_dir,
            TrainConfig(**config),
            reverse=reverse,
            prefix_filter=prefix_filter,
            max_len=max_len,
            show_progress=show_progress,
            device=device,
            given=set(config),
        )
        tr = cls.load(run_dir, device=metrics["device"])
        tr.metrics = metrics
        return tr

    @classmethod
    def load(cls, run: str | os.PathLike, device: str | torch.device = "auto") -> Translator:
        """Load RUN/model.pt (or a checkpoint file given directly) onto `device` ("auto" = cuda when
        torch sees one, else cpu; a run trained on a GPU loads on a CPU-only machine)."""
        from seqlab.runtime import resolve_device

        ck = read_model(run)
        try:
            model = build_model(ck, resolve_device(device))
            src_vocab, tgt_vocab = Vocab.from_dict(ck["src_vocab"]), Vocab.from_dict(ck["tgt_vocab"])
            info = dict(ck["info"])
            tr = cls(
                model,
                src_vocab,
                tgt_vocab,
                int(info["max_len"]),
                int(info["beam"]),
                float(info["alpha"]),
                info,
                bool(info.get("backoff", True)),
            )
            tr.test_pairs = [(str(s).split(), str(t).split()) for s, t in ck["test_pairs"]]
            tr.run_dir = Path(run)
            return tr
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise SeqlabError(
                f"{model_path(run)}: damaged translate checkpoint ({type(e).__name__}: {str(e)[:100]})"
            ) from None

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
            raise SeqlabError(
                f"sentence has {len(words)} words after normalisation; this model takes "
                f"at most {self.max_len} (the longest it was trained on)"
            )
        unknown = [w for w in words if w not in self.src_vocab.stoi]
        if len(unknown) == len(words):
            raise SeqlabError(
                f"no known words in the sentence ({' '.join(words)!r}); is it in the model's source language?"
            )
        ids, respelled = self.encode_source(words)
        return words, ids, unknown, respelled

    def decode_ids(
        self, sources: list[list[int]], beam: int | None = None, batch_size: int = 256
    ) -> list[Hypothesis]:
        """Decode id lists in batches; beam=1 is greedy (ParameterError if beam < 1)."""
        return decode_ids(
            self.model, sources, self.max_len, self.beam if beam is None else beam, self.alpha, batch_size
        )

    def translate(
        self, sentences: str | list[str], beam: int | None = None
    ) -> Translation | list[Translation]:
        """Translate one sentence (-> a Translation) or a list of them (-> a list, decoded in batches).
        beam: beam width (1 = greedy; default: the run's decoder), checked before any sentence."""
        _check_beam(beam)
        if isinstance(sentences, str):
            return self.translate([sentences], beam)[0]
        if not isinstance(sentences, (list, tuple)) or not all(isinstance(x, str) for x in sentences):
            raise ParameterError("sentences", "must be a string or a list of strings")
        encoded = [self.source_ids(s) for s in sentences]
        hyps = self.decode_ids([ids for _, ids, _, _ in encoded], beam)
        return [
            Translation(words, self.tgt_vocab.decode(h.ids), h.attention.cpu(), unk, resp, h.score)
            for (words, _, unk, resp), h in zip(encoded, hyps)
        ]

    def tune_alpha(
        self,
        pairs: list[tuple[list[str], list[str]]],
        beam: int | None = None,
        grid: tuple[float, ...] | None = None,
    ) -> float:
        """Set (and return) the length-normalisation exponent of `grid` (default ALPHA_GRID of
        seqlab.translate.scoring) with the best BLEU on `pairs` — give it validation pairs; ties keep
        the smaller exponent."""

        def bleu_at(alpha: float) -> float:
            self.alpha = alpha
            return self.bleu(pairs, beam)[0]

        self.alpha, self.info["alpha_scores"] = tune_alpha(bleu_at, grid)
        return self.alpha

    def bleu(
        self, pairs: list[tuple[list[str], list[str]]], beam: int | None = None
    ) -> tuple[float, list[str]]:
        """Corpus BLEU (sacreBLEU) of the decoded sources against their references; and the outputs."""
        _check_beam(beam)
        hyps = self.decode_ids([self.encode_source(s)[0] for s, _ in pairs], beam)
        return outputs_bleu(hyps, pairs, self.tgt_vocab)


def _check_beam(beam: int | None) -> None:
    if beam is not None and (isinstance(beam, bool) or not isinstance(beam, Integral)):
        raise ParameterError("beam", f"must be a whole number (1 = greedy), got {beam!r}")
    if beam is not None and beam < 1:
        raise ParameterError("beam", f"must be at least 1, got {beam}")


def pairs_file(pairs_path: str | os.PathLike):
    """The pairs file of `pairs_path` (a path, or a dataset name such as "eng-fra"): SeqlabError
    naming it when no such file exists, a ParameterError when the pairs themselves were passed."""
    if isinstance(pairs_path, str) and ("\n" in pairs_path or "\t" in pairs_path):
        raise ParameterError("pairs_path", "takes a file of LEFT<TAB>RIGHT lines, not the pairs themselves")
    path = resolve_file(pairs_path)
    if not path.exists():
        raise SeqlabError(f"pairs file not found: {path} (nor the dataset name 'eng-fra')")
    return path
