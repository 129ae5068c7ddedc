"""`seqlab translate train|eval|RUN SENTENCE`: attention translation from the command line.

`translate` takes both subcommands and a run directory, so its first word is dispatched by hand:
"train" and "eval" pick those forms, anything else is the RUN of the translate-a-sentence form.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqlab.cli.arguments import HelpFormatter, add_device_argument, add_preset_argument, record_flags

FORMS = """\
forms:
  seqlab translate train PAIRS -o RUN [options]   train a model, write RUN/model.pt + RUN/metrics.json
  seqlab translate RUN "SENTENCE" [--beam B] [--plot attn.png]
                                                  translate one sentence (prints the translation)
  seqlab translate eval RUN [--beam B]            test-split BLEU and sample translations

Direction: PAIRS holds LEFT<TAB>RIGHT per line (eng-fra.txt is English<TAB>French). The model
translates LEFT -> RIGHT; --reverse makes it RIGHT -> LEFT, so French -> English is:
  seqlab translate train eng-fra --reverse --prefix-filter -o runs/fr-en
  seqlab translate runs/fr-en "je suis très fatigué ." --plot attn.png
Run `seqlab translate train --help` (or eval / RUN --help) for each form's options.
"""


def register(sub) -> None:
    """Add `seqlab translate` to the top-level parser."""
    p = sub.add_parser(
        "translate",
        help="attention encoder-decoder translation (train / eval / RUN sentence)",
        description="Neural machine translation with an RNN encoder-decoder and attention "
        "(additive/Bahdanau, dot and general/Luong, or none), greedy or beam-search decoding, "
        "sacreBLEU scores and attention heatmaps.",
        epilog=FORMS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "words",
        nargs=argparse.REMAINDER,
        metavar="train|eval|RUN ...",
        help="the form and its arguments (see forms below)",
    )
    p.set_defaults(func=run, translate_parser=p)


def _defaults():
    from seqlab.translate.config import TrainConfig

    return TrainConfig()


def train_parser() -> argparse.ArgumentParser:
    from seqlab.cli.arguments import add_scale_arguments

    d = _defaults()
    p = argparse.ArgumentParser(
        prog="seqlab translate train",
        description="Train an attention translator on tab-separated sentence pairs; the best model by "
        "validation BLEU (or loss, --select) goes to RUN/model.pt and RUN/metrics.json gets val_loss, "
        "test BLEU and seconds.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("pairs", metavar="PAIRS", help="pairs file LEFT<TAB>RIGHT, or the dataset name 'eng-fra'")
    p.add_argument("-o", "--output", required=True, metavar="RUN", help="run directory to write")
    g = p.add_argument_group("data")
    g.add_argument(
        "--reverse",
        action="store_true",
        help="translate RIGHT -> LEFT (French -> English on eng-fra); default LEFT -> RIGHT",
    )
    g.add_argument(
        "--prefix-filter",
        action="store_true",
        help="keep only English sentences starting 'i am / he is / she is / you are / we are / "
        "they are' (the PyTorch tutorial subset: 9,250 pairs of eng-fra)",
    )
    g.add_argument(
        "--max-len",
        type=int,
        default=None,
        help="keep pairs whose sides have at most this many words (default 15; 9 with "
        "--prefix-filter, the tutorial's '< 10'); also the longest sentence the model accepts",
    )
    g.add_argument("--min-count", type=int, default=d.min_count, help="rarer training words become <unk>")
    g.add_argument("--seed", type=int, default=d.seed, help="seed for the 80/10/10 split, init and batching")
    g = p.add_argument_group("model")
    g.add_argument(
        "--attention",
        choices=["additive", "dot", "general", "none"],
        default=d.attention,
        help="additive = Bahdanau, dot/general = Luong, none = no attention (the encoder's "
        "sentence vector is the context at every step, Cho et al. 2014)",
    )
    g.add_argument(
        "--encoder",
        choices=["rnn", "cnn"],
        default=d.encoder,
        help="bidirectional RNN, or stacked 1-D convolutions (Kalchbrenner & Blunsom)",
    )
    g.add_argument(
        "--cell", choices=["lstm", "gru"], default=d.cell, help="recurrent cell of encoder and decoder"
    )
    g.add_argument("--emb-size", type=int, default=d.emb_size, help="word vector size")
    g.add_argument(
        "--hidden-size", type=int, default=d.hidden_size, help="encoder memory / decoder state size"
    )
    g.add_argument(
        "--dropout", type=float, default=d.dropout, help="dropout on embeddings, memory and outputs"
    )
    g.add_argument(
        "--word-dropout",
        type=float,
        default=d.word_dropout,
        help="while training, replace each source word by <unk> with this probability, so "
        "unseen words at test time do not derail a translation (e.g. 0.1)",
    )
    g.add_argument(
        "--backoff",
        action=argparse.BooleanOptionalAction,
        default=d.backoff,
        help="validate and test reading unknown source words as the known word they most "
        "likely inflect (same first 4+ letters, at most 3 different last ones) instead of <unk>",
    )
    g.add_argument(
        "--tie-embeddings",
        action=argparse.BooleanOptionalAction,
        default=d.tie_embeddings,
        help="output layer reuses the target word vectors (needs --emb-size = --hidden-size)",
    )
    g = p.add_argument_group("training")
    g.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help=f"training time budget in minutes (default {d.max_minutes:g}); the learning rate decays "
        "over it (over the steps of --max-epochs when that is given)",
    )
    g.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in RUN from RUN/last.pt (written every epoch; Ctrl-C keeps it) with "
        "its own data and settings; a new --max-minutes extends the budget",
    )
    g.add_argument(
        "--max-epochs", type=int, default=None, help="epoch cap (default: as many as fit the budget)"
    )
    g.add_argument(
        "--select",
        choices=["bleu", "loss"],
        default=d.select,
        help="what picks the best epoch and drives early stopping: greedy BLEU on (up to 2,000) "
        "validation pairs, or validation cross-entropy (default: %(default)s)",
    )
    g.add_argument(
        "--patience",
        type=int,
        default=d.patience,
        help="stop after this many epochs without a better --select score",
    )
    g.add_argument(
        "--precision",
        choices=["auto", "bf16", "fp32"],
        default=d.precision,
        help="bf16 autocasts training products to bfloat16 (weights stay fp32); auto = bf16 "
        "where the CPU computes it natively (default: %(default)s)",
    )
    g.add_argument("--lr", type=float, default=d.lr, help="Adam peak learning rate (cosine decay to 2%%)")
    g.add_argument("--batch-size", type=int, default=d.batch_size, help="pairs per step")
    g.add_argument("--label-smoothing", type=float, default=d.label_smoothing, help="0 = plain cross-entropy")
    g.add_argument(
        "--teacher-forcing",
        type=float,
        default=d.teacher_forcing,
        help="probability of feeding the true previous word while training (1 = always)",
    )
    g.add_argument("--clip", type=float, default=d.clip, help="gradient-norm clipping threshold")
    g.add_argument(
        "--ensemble",
        type=int,
        default=d.ensemble,
        metavar="K",
        help="train K models (seeds S, S+1, ...) one after another within the time budget and "
        "translate with all of them (their log-probabilities averaged at every word)",
    )
    g.add_argument(
        "--tune-alpha",
        action="store_true",
        help="after training, pick the beam's length-normalisation exponent (0.6-1.2) by validation BLEU",
    )
    g.add_argument(
        "--ema",
        type=float,
        default=d.ema,
        help="validate and save a moving average of the weights with this decay per step "
        "(e.g. 0.999; 0 = the raw weights)",
    )
    g.add_argument(
        "--beam",
        type=int,
        default=d.beam,
        help="default decoder's beam width (1 = greedy), used for the test BLEU",
    )
    g.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads per process (default: the cores divided among this machine's processes); "
        "1 is faster on a busy shared machine",
    )
    add_preset_argument(g)
    add_scale_arguments(g)
    p.set_defaults(_param_flags={"run_dir": "-o"})
    return p


def _add_backoff_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backoff",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="read unknown source words as the known word they most likely inflect "
        "('occupees' as 'occupee') instead of <unk> (default: the run's setting, on unless "
        "trained with --no-backoff)",
    )


def _load(a):
    """The run's Translator on --device, with --backoff / --no-backoff applied when given."""
    from seqlab.runtime import resolve_device
    from seqlab.translate.translator import Translator

    tr = Translator.load(a.run, device=resolve_device(a.device))
    if a.backoff is not None:
        tr.backoff = a.backoff
    return tr


def sentence_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seqlab translate",
        usage="seqlab translate RUN SENTENCE [--beam B] [--plot PNG]",
        description="Translate one sentence with a trained run; prints the translation on stdout. The "
        "sentence is normalised like the training data (lowercase, accents and '.' dropped).",
        formatter_class=HelpFormatter,
    )
    p.add_argument("run", metavar="RUN", help="run directory from `seqlab translate train` (or its model.pt)")
    p.add_argument(
        "sentence",
        metavar="SENTENCE",
        nargs="+",
        help="source-language sentence (quoted, or as separate words)",
    )
    p.add_argument(
        "--beam", type=int, default=None, help="beam width (1 = greedy; default: the run's decoder)"
    )
    _add_backoff_flag(p)
    add_device_argument(p)
    p.add_argument(
        "--plot",
        metavar="PNG",
        default=None,
        help="write the attention heatmap (source words x output words) to this PNG",
    )
    return p


def eval_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seqlab translate eval",
        description="Score a run on its held-out test split (sacreBLEU) and print sample translations.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("run", metavar="RUN", help="run directory from `seqlab translate train`")
    p.add_argument(
        "--beam", type=int, default=None, help="beam width (1 = greedy; default: the run's decoder)"
    )
    p.add_argument("--samples", type=int, default=5, help="sample translations to print")
    _add_backoff_flag(p)
    add_device_argument(p)
    return p


def _parse(args, parser: argparse.ArgumentParser, words: list[str]) -> argparse.Namespace:
    """Parse one form's words; an error naming a parameter is then shown with this form's flag
    (`beam must be at least 1` -> `--beam must be at least 1`, see cli.arguments)."""
    record_flags(parser)
    a = parser.parse_args(words)
    args._flags = a._flags
    return a


def run(args) -> int:
    words = list(args.words)
    if not words:
        args.translate_parser.print_help(sys.stderr)
        return 2
    if words[0] == "train":
        a = _parse(args, train_parser(), words[1:])
        a.argv = args.argv  # the whole command line, for --resume and --nproc
        return do_train(a)
    if words[0] == "eval":
        return do_eval(_parse(args, eval_parser(), words[1:]))
    return do_sentence(_parse(args, sentence_parser(), words))


def do_train(a) -> int:
    from seqlab.cli.launch import run_job
    from seqlab.errors import SeqlabError, check_at_least
    from seqlab.translate.run import holds_run

    if not a.resume:  # every setting checked before a process is launched or a file read
        _config(a).validate()
        if holds_run(a.output):
            raise SeqlabError(f"{a.output} already holds a run; use --resume to continue it, or another -o")
    check_at_least(a, 1, "max_len")
    return run_job(a, lambda group, device: _train(a, group, device))


def _config(a):
    from dataclasses import fields

    from seqlab.translate.config import TrainConfig

    names = {f.name for f in fields(TrainConfig)}
    given = {k: v for k, v in vars(a).items() if k in names}
    budget = TrainConfig().max_minutes if a.max_minutes is None else a.max_minutes
    return TrainConfig(**{**given, "max_minutes": budget})


def _train(a, group, device) -> int:
    from dataclasses import fields

    from seqlab.cli.arguments import explicit_args
    from seqlab.datasets import resolve_file
    from seqlab.presets import choose_preset
    from seqlab.translate.config import TrainConfig
    from seqlab.translate.run import resume, resume_state, train_from_file

    names = {f.name for f in fields(TrainConfig)}
    given = {k: v for k, v in vars(explicit_args(train_parser(), a.argv[2:])).items() if k in names}
    if a.resume:
        _, _, where = resume_state(a.output)
        m = resume(
            a.output,
            resolve_file(a.pairs),
            given,
            group=group,
            device=device,
            on_data=lambda _: print(f"device: {device}\nresuming {a.output} at {where}", file=sys.stderr),
        )
        return _report(m, a.output) if group.is_main else 0
    a.max_minutes = TrainConfig().max_minutes if a.max_minutes is None else a.max_minutes
    cfg = _config(a)

    def announce(data):
        print(f"device: {device} (preset {choose_preset(a.preset, device)})", file=sys.stderr)
        print(
            f"{len(data.train)} train / {len(data.valid)} valid / {len(data.test)} test pairs "
            f"({data.n_kept} kept of {data.n_read}); training up to {a.max_minutes:g} min",
            file=sys.stderr,
        )

    m = train_from_file(
        resolve_file(a.pairs),
        a.output,
        cfg,
        reverse=a.reverse,
        prefix_filter=a.prefix_filter,
        max_len=a.max_len,
        on_data=announce,
        group=group,
        device=device,
        given=set(given),
    )
    return _report(m, a.output) if group.is_main else 0


def _report(m: dict, run) -> int:
    if m["stop_reason"] == "interrupted":
        print(f"interrupted: kept the best model so far; continue with --resume -o {run}", file=sys.stderr)
    print(
        f"val_loss {m['val_loss']:.4f}  test BLEU {m['bleu']:.2f} ({m['decoder']})  "
        f"{m['epochs']} epochs in {m['seconds']:.0f} s  -> {Path(run) / 'model.pt'}"
    )
    return 0


def _check_decoding(a) -> None:
    """--beam (and --samples) checked before the model is loaded."""
    from seqlab.errors import check_at_least

    check_at_least(a, 1, "beam")
    check_at_least(a, 0, *(["samples"] if hasattr(a, "samples") else []))


def do_sentence(a) -> int:
    from seqlab.translate.plot import check_png_path, save_attention_png

    _check_decoding(a)
    if a.plot:
        check_png_path(a.plot)
    tr = _load(a)
    t = tr.translate(" ".join(a.sentence), beam=a.beam)
    _say_device(tr)
    if t.respelled:
        print(
            "note: unknown words read as known ones: "
            + ", ".join(f"{w} -> {k}" for w, k in t.respelled.items()),
            file=sys.stderr,
        )
    rest = [w for w in t.unknown if w not in t.respelled]
    if rest:
        print(f"note: unknown words (read as <unk>): {' '.join(rest)}", file=sys.stderr)
    print(" ".join(t.output))
    if a.plot:
        save_attention_png(a.plot, t.source_tokens, t.output_tokens, t.weights)
        print(f"attention map written to {a.plot}", file=sys.stderr)
    return 0


def do_eval(a) -> int:
    from seqlab.errors import SeqlabError

    _check_decoding(a)
    tr = _load(a)
    if not tr.test_pairs:
        raise SeqlabError(f"{a.run}: the checkpoint holds no test split")
    beam = tr.beam if a.beam is None else a.beam
    bleu, outputs = tr.bleu(tr.test_pairs, beam=beam)
    _say_device(tr)
    print(f"BLEU {bleu:.2f}  ({'greedy' if beam == 1 else f'beam {beam}'}, {len(tr.test_pairs)} test pairs)")
    unseen = [w for s, _ in tr.test_pairs for w in s if w not in tr.src_vocab.stoi]
    if unseen:
        backed = sum(tr.speller(w) is not None for w in unseen) if tr.backoff else 0
        print(
            f"{len(unseen)} unseen source words in the test split: {backed} read as a known word (backoff "
            f"{'on' if tr.backoff else 'off'}), {len(unseen) - backed} as <unk>",
            file=sys.stderr,
        )
    for (src, ref), out in list(zip(tr.test_pairs, outputs))[: a.samples]:
        print(f"> {' '.join(src)}\n= {' '.join(ref)}\n< {out}")
    return 0


def _say_device(tr) -> None:
    """The one line that says where the model ran (stderr), once the input was accepted."""
    print(f"device: {next(tr.model.parameters()).device.type}", file=sys.stderr)
