"""Training settings of the attention translator, as one dataclass (no torch import, so the CLI
builds its --help quickly)."""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.errors import ParameterError, check_at_least, check_choice, check_positive, check_range
from seqlab.presets import PRESETS


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
    training as the known word they most likely inflect (seqlab.translate.backoff) instead of
    <unk>; on the prefix set it adds 1.2-1.9 test BLEU (a fifth of the test sentences hold an unseen word).
    tune_alpha: after training, pick the length-normalisation exponent from ALPHA_GRID
    (seqlab.translate.scoring) by beam BLEU on the validation pairs (never the test pairs) and save
    it as the model's default. preset: "cpu" (these defaults) or "gpu" (seqlab.presets.GPU_PRESET);
    None follows the device; train_from_file decides it and records it.
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
    preset: str | None = None  # cpu | gpu model size (seqlab.presets); None: the device's; recorded resolved

    def validate(self) -> TrainConfig:
        """Check every setting a caller can get wrong (ParameterError naming the field); returns self."""
        from seqlab.models.seq2seq import ATTENTIONS, CELLS, ENCODERS

        check_positive(
            self, "max_minutes", "lr", "batch_size", "beam", "emb_size", "hidden_size", "ensemble", "patience"
        )
        for name, closed in (
            ("dropout", False),
            ("label_smoothing", False),
            ("teacher_forcing", True),
            ("word_dropout", False),
            ("ema", False),
            ("min_lr_frac", True),
        ):
            check_range(self, name, 0, 1, closed=closed)
        check_at_least(self, 1, "max_epochs", "min_count")
        for name, allowed in (
            ("attention", ATTENTIONS),
            ("encoder", ENCODERS),
            ("cell", CELLS),
            ("select", ("bleu", "loss")),
            ("precision", ("auto", "bf16", "fp32")),
        ):
            check_choice(self, name, allowed)
        if self.preset is not None:
            check_choice(self, "preset", PRESETS)
        if self.tie_embeddings and self.emb_size != self.hidden_size:
            raise ParameterError(
                "tie_embeddings", f"needs emb_size == hidden_size, got {self.emb_size} and {self.hidden_size}"
            )
        return self

    def model_config(self, src_vocab_size: int, tgt_vocab_size: int, max_len: int):
        """The Seq2SeqConfig these settings build for the given vocabulary sizes and longest sentence."""
        from seqlab.models.seq2seq import Seq2SeqConfig
        from seqlab.translate.data import PAD_ID

        return Seq2SeqConfig(
            src_vocab_size=src_vocab_size,
            tgt_vocab_size=tgt_vocab_size,
            emb_size=self.emb_size,
            hidden_size=self.hidden_size,
            encoder=self.encoder,
            cell=self.cell,
            attention=self.attention,
            dropout=self.dropout,
            max_positions=max(max_len + 1, 16),
            pad_id=PAD_ID,
            tie_embeddings=self.tie_embeddings,
        )
