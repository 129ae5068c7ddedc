"""`seqlab names` and `seqlab lm train|sample|eval`: character-level language models."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seqlab.cli.arguments import HelpFormatter, add_device_argument, add_preset_argument


def register(sub) -> None:
    _register_names(sub)
    lm = sub.add_parser(
        "lm",
        help="character-level language models: train, sample, eval",
        description="Character-level RNN/LSTM/GRU language models (Karpathy's char-rnn, "
        "makemore). Train on any UTF-8 text, sample new text, measure loss.",
    )
    lsub = lm.add_subparsers(dest="lm_command", metavar="ACTION")
    lsub.required = True
    _register_train(lsub)
    _register_sample(lsub)
    _register_eval(lsub)


# ---------------------------------------------------------------------------------------- names
def _register_names(sub) -> None:
    p = sub.add_parser(
        "names",
        help="generate new names with a character-level LSTM (trains once, then cached)",
        formatter_class=HelpFormatter,
        description="Print new names, one per line. The first run trains a character-level LSTM on the "
        "names list shipped with seqlab (makemore's 32K US names; about 2 minutes on 2 CPU cores) "
        "and caches it; later runs only sample. With --language, a model conditioned on the "
        "language of 20K surnames in 18 languages is trained instead. Each --train-minutes (and each "
        "--data list) is its own cache entry. Every option is checked before anything is trained.",
        epilog="examples:\n"
        "  seqlab names -n 10 --seed 1\n"
        "  seqlab names --language Russian\n"
        "  seqlab names --start ma --temperature 0.8\n"
        "  seqlab names --data my_pets.txt",
    )
    p.add_argument("-n", type=int, default=20, help="how many names to print")
    p.add_argument(
        "--seed", type=int, default=None, help="sampling seed (same seed, same names; default: random)"
    )
    p.add_argument(
        "--language", default=None, help="generate surnames of this language (e.g. Russian, Irish)"
    )
    p.add_argument("--data", default=None, help="train on this file of names (one per line) instead")
    p.add_argument(
        "--temperature", type=float, default=1.0, help="0 = greedy (one name), <1 safer, >1 wilder names"
    )
    p.add_argument("--start", default="", help="every name begins with this prefix")
    p.add_argument(
        "--allow-known", action="store_true", help="also print names that are in the training list"
    )
    p.add_argument(
        "--train-minutes",
        type=float,
        default=2.0,
        help="training budget of a model not cached yet (each budget is its own cache entry)",
    )
    p.add_argument("--retrain", action="store_true", help="train again even if a cached model exists")
    add_device_argument(p)
    add_preset_argument(p)
    p.add_argument(
        "--cache-dir",
        default=None,
        help="where trained models are kept (default: $SEQLAB_CACHE or ~/.cache/seqlab)",
    )
    p.set_defaults(func=cmd_names)


def cmd_names(args) -> int:
    from seqlab.charlm.names import generate_names  # imports torch only once the arguments are checked

    found = generate_names(
        args.n,
        args.language,
        args.start,
        args.temperature,
        args.seed,
        allow_known=args.allow_known,
        data=args.data,
        train_minutes=args.train_minutes,
        retrain=args.retrain,
        cache_dir=args.cache_dir,
        on_train=lambda msg: print(msg, file=sys.stderr),
        device=args.device,
        preset=args.preset,
    )
    for name in found:
        print(name)
    if len(found) < args.n:
        print(f"seqlab: only {len(found)} new names found; try a higher --temperature", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------- lm train
def _register_train(lsub) -> None:
    _add_train_arguments(
        lsub.add_parser("train", help="train a character-level model on a text file", **_train_texts())
    )


def _train_texts() -> dict:
    from seqlab.charlm.config import MODE_DEFAULTS

    return dict(
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a character-level RNN/LSTM/GRU language model.\n\n"
        "--mode stream reads FILE as one long text (Shakespeare, LaTeX, C source): windows of\n"
        "  --seq-len characters, hidden state carried from batch to batch (truncated BPTT).\n"
        "--mode lines treats each line as one example between begin/end markers (names).\n\n"
        "Writes RUN/config.json, RUN/model.pt (best weights + vocabulary), RUN/last.pt\n"
        "(full state for --resume), RUN/metrics.jsonl, RUN/metrics.json and RUN/loss.png.\n"
        "Ctrl-C saves the last checkpoint; --resume continues exactly where it stopped.\n\n"
        f"Per-mode defaults: stream {MODE_DEFAULTS['stream']}\n"
        f"                   lines  {MODE_DEFAULTS['lines']}",
        epilog="examples:\n"
        "  seqlab lm train $SEQLAB_DATA/tinyshakespeare/input.txt -o runs/shakespeare --max-minutes 15\n"
        "  seqlab lm train names.txt -o runs/names --mode lines --max-minutes 5\n"
        "  seqlab lm train input.txt -o runs/tiny --cell gru --impl scratch --layers 1 --hidden 128",
    )


def _train_parser() -> argparse.ArgumentParser:
    """`lm train` as a parser of its own (to tell which flags a command line really gives)."""
    p = argparse.ArgumentParser(prog="seqlab lm train", **_train_texts())
    _add_train_arguments(p)
    return p


def _add_train_arguments(p) -> None:
    from seqlab.charlm.config import LMTrainConfig
    from seqlab.cli.arguments import add_scale_arguments

    d = LMTrainConfig()
    p.add_argument(
        "file",
        metavar="FILE",
        help="UTF-8 text file (or a dataset name: tinyshakespeare, latex, linux_c, names)",
    )
    p.add_argument("-o", "--output", required=True, metavar="RUN", help="run directory to create (or resume)")
    p.add_argument(
        "--mode", choices=["stream", "lines"], default=d.mode, help="how FILE is read (default: stream)"
    )
    p.add_argument(
        "--cell", choices=["rnn", "lstm", "gru"], default=d.cell, help="recurrent cell (default: lstm)"
    )
    p.add_argument(
        "--impl",
        choices=["scratch", "fused"],
        default=d.impl,
        help="fused = torch kernels (fast, default); scratch = the lecture's equations step by step",
    )
    p.add_argument("--layers", type=int, default=None, help="stacked recurrent layers (default per mode)")
    p.add_argument("--hidden", type=int, default=None, help="hidden units per layer (default per mode)")
    p.add_argument("--embed", type=int, default=None, help="character embedding size (default per mode)")
    p.add_argument(
        "--dropout", type=float, default=None, help="dropout on inputs, between layers, on outputs"
    )
    p.add_argument(
        "--seq-len", type=int, default=d.seq_len, help=f"stream mode: BPTT window (default: {d.seq_len})"
    )
    p.add_argument(
        "--windows",
        choices=["sequential", "random"],
        default=d.windows,
        help="stream mode: sequential windows carry the hidden state (default); random windows do not",
    )
    p.add_argument("--batch-size", type=int, default=None, help="sequences per step (default per mode)")
    p.add_argument("--lr", type=float, default=None, help="peak AdamW learning rate (default per mode)")
    p.add_argument("--weight-decay", type=float, default=None, help="AdamW weight decay (default per mode)")
    p.add_argument("--clip", type=float, default=d.clip, help=f"gradient-norm clipping (default: {d.clip})")
    p.add_argument(
        "--schedule",
        choices=["cosine", "constant"],
        default=d.schedule,
        help="cosine: warm-up then decay over the budget (default)",
    )
    p.add_argument(
        "--epochs", type=int, default=None, help="passes over the training data (default per mode)"
    )
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps")
    p.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="time budget: at the first validation after the warm-up it becomes a number of steps "
        "(from the speed so far), which the LR schedule and the stop then follow",
    )
    p.add_argument(
        "--eval-every", type=int, default=None, help="steps between validations (default per mode)"
    )
    p.add_argument(
        "--patience", type=int, default=d.patience, help="validations without improvement before stopping"
    )
    p.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16"],
        default=d.precision,
        help="bf16 runs the training products in bfloat16, about 1.5x faster on CPUs with "
        "AVX512-BF16, same loss per step; weights and validation stay fp32. auto (default) "
        "picks bf16 where the CPU supports it natively",
    )
    p.add_argument(
        "--ema",
        type=float,
        default=None,
        help="keep and validate an exponential moving average "
        "of the weights with this decay, e.g. 0.999 (default per mode)",
    )
    p.add_argument("--val-fraction", type=float, default=d.val_fraction, help="held-out share for validation")
    p.add_argument(
        "--seed", type=int, default=d.seed, help=f"seed for init, data order and dropout (default: {d.seed})"
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in RUN (optimizer, step, data order, RNG state) on the same FILE; only "
        "--max-steps, --max-minutes and --epochs may change",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads per process (default: the cores divided among this machine's processes)",
    )
    add_preset_argument(p)
    add_scale_arguments(p)
    p.set_defaults(func=cmd_train, _param_flags={"run_dir": "-o"})


def cmd_train(args) -> int:
    from seqlab.charlm.language_model import occupied
    from seqlab.cli.launch import run_job
    from seqlab.errors import SeqlabError

    _config(args, args.device).validate()  # before any process is launched or any file read
    if not args.resume and occupied(args.output):
        raise SeqlabError(f"{args.output} already exists and is not empty; use --resume or another -o")
    return run_job(args, lambda group, device: _train(args, group, device))


def _config(args, device):
    from seqlab.charlm.config import LMTrainConfig

    budgets = {
        k: getattr(args, k) for k in ("max_steps", "max_minutes", "epochs") if getattr(args, k) is not None
    }
    return LMTrainConfig(
        mode=args.mode,
        cell=args.cell,
        impl=args.impl,
        layers=args.layers,
        hidden=args.hidden,
        embed=args.embed,
        dropout=args.dropout,
        seq_len=args.seq_len,
        windows=args.windows,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        clip=args.clip,
        schedule=args.schedule,
        eval_every=args.eval_every,
        patience=args.patience,
        val_fraction=args.val_fraction,
        seed=args.seed,
        ema=args.ema,
        precision=args.precision,
        device=device,
        preset=args.preset,
        **budgets,
    )


def _train(args, group, device) -> int:
    from seqlab.charlm.language_model import train_run
    from seqlab.cli.arguments import explicit_args
    from seqlab.datasets import resolve_file

    cfg = _config(args, device)
    given = {}
    if args.resume:  # the flags given again, under LMTrainConfig's names
        names = {"file", "output", "resume", "threads", "device", "nproc"}
        given = {
            k: v for k, v in vars(explicit_args(_train_parser(), args.argv[2:])).items() if k not in names
        }
    run = Path(args.output)

    def announce(c, corpus):
        print(f"device: {c.device} (preset {c.preset})", file=sys.stderr)
        print(
            f"{'resuming' if args.resume else 'training'} {c.cell} ({c.impl}) {c.layers}x{c.hidden} on "
            f"{corpus.train_chars:,} characters ({corpus.mode} mode, vocabulary {len(corpus.vocab)}) "
            f"-> {run}",
            file=sys.stderr,
        )

    try:
        metrics = train_run(
            run,
            cfg,
            path=resolve_file(args.file),
            resume=args.resume,
            changes=given,
            on_start=announce,
            group=group,
        )
    except KeyboardInterrupt:
        if group.is_main and (run / "last.pt").exists():
            print(f"seqlab: interrupted; checkpoint saved in {run}, continue with --resume", file=sys.stderr)
        raise
    if group.is_main:
        print(json.dumps(metrics))
    return 0


# ---------------------------------------------------------------------------------------- lm sample
def _register_sample(lsub) -> None:
    p = lsub.add_parser(
        "sample",
        help="generate text (or lines) from a trained run",
        formatter_class=HelpFormatter,
        description="Sample from a trained model. Stream models continue --prime for --length characters; "
        "lines models print -n lines. The same --seed gives the same output.",
    )
    p.add_argument("run", metavar="RUN", help="run directory written by `seqlab lm train`")
    what = p.add_mutually_exclusive_group()
    what.add_argument(
        "-n",
        type=int,
        default=None,
        help="lines to generate (default 10 for lines models; stream models write until N newlines)",
    )
    what.add_argument(
        "--length",
        type=int,
        default=None,
        help="characters to generate (stream models, default 500; lines models: the longest line)",
    )
    p.add_argument("--temperature", type=float, default=1.0, help="0 = greedy, <1 conservative, >1 creative")
    p.add_argument(
        "--top-k", type=int, default=None, help="draw only from the k most likely characters (default: all)"
    )
    p.add_argument(
        "--prime",
        default=None,
        help="text the model reads first (stream) or prefix of each line; empty: as if not given",
    )
    p.add_argument("--language", default=None, help="category (e.g. language) for conditioned models")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (the same text on any --device)")
    add_device_argument(p)
    p.set_defaults(func=cmd_sample)


def cmd_sample(args) -> int:
    from seqlab.charlm.config import check_sampling
    from seqlab.charlm.language_model import CharLM

    check_sampling(args.temperature, args.top_k, length=args.length, n=args.n)  # before loading
    lm = CharLM.load(args.run, device=args.device)
    text = lm.sample(
        length=args.length,
        temperature=args.temperature,
        top_k=args.top_k,
        prime=args.prime,
        seed=args.seed,
        n=args.n,
        language=args.language,
    )
    _say_device(lm)  # once the input is accepted: a bad one gets its one line of error only
    sys.stdout.write(text + "\n")
    return 0


# ---------------------------------------------------------------------------------------- lm eval
def _register_eval(lsub) -> None:
    p = lsub.add_parser(
        "eval",
        help="loss of a trained run on a text file (JSON: loss, bpc, perplexity, chars)",
        description="Average negative log-likelihood per character of FILE under the model. For lines "
        "models each line is one example and the end marker counts as a character "
        "(makemore's convention).",
    )
    p.add_argument("run", metavar="RUN")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--language", default=None, help="category of every line (conditioned models)")
    add_device_argument(p)
    p.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    from seqlab.charlm.language_model import CharLM
    from seqlab.files import check_readable

    path = check_readable(args.file)  # before loading the model
    lm = CharLM.load(args.run, device=args.device)
    result = lm.evaluate(path=path, language=args.language)
    _say_device(lm)
    print(json.dumps(result))
    return 0


def _say_device(lm) -> None:
    """The one line that says where the model runs (stderr, so stdout stays the text or the JSON)."""
    print(f"device: {next(lm.model.parameters()).device.type}", file=sys.stderr)
