"""`seqlab names` and `seqlab lm train|sample|eval`: character-level language models."""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

from seqlab.errors import SeqlabError

NAMES_MODEL_VERSION = "names-v1"   # bump when the names defaults change, so caches retrain


def register(sub) -> None:
    _register_names(sub)
    lm = sub.add_parser("lm", help="character-level language models: train, sample, eval",
                        description="Character-level RNN/LSTM/GRU language models (Karpathy's char-rnn, "
                                    "makemore). Train on any UTF-8 text, sample new text, measure loss.")
    lsub = lm.add_subparsers(dest="lm_command", metavar="ACTION")
    lsub.required = True
    _register_train(lsub)
    _register_sample(lsub)
    _register_eval(lsub)


# ---------------------------------------------------------------------------------------- names
def _register_names(sub) -> None:
    p = sub.add_parser(
        "names", help="generate new names with a character-level LSTM (trains once, then cached)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Print new names, one per line. The first run trains a character-level LSTM on the "
                    "names list shipped with seqlab (makemore's 32K US names; about 2 minutes on 2 CPU cores) "
                    "and caches it; later runs only sample. With --language, a model conditioned on the "
                    "language of 20K surnames in 18 languages is trained instead.",
        epilog="examples:\n  seqlab names -n 10 --seed 1\n  seqlab names --language Russian\n"
               "  seqlab names --start ma --temperature 0.8\n  seqlab names --data my_pets.txt")
    p.add_argument("-n", type=int, default=20, help="how many names to print")
    p.add_argument("--seed", type=int, default=None, help="sampling seed (same seed, same names)")
    p.add_argument("--language", default=None, help="generate surnames of this language (e.g. Russian, Irish)")
    p.add_argument("--data", default=None, help="train on this file of names (one per line) instead")
    p.add_argument("--temperature", type=float, default=1.0, help="<1 safer, >1 wilder names")
    p.add_argument("--start", default="", help="every name begins with this prefix")
    p.add_argument("--allow-known", action="store_true", help="also print names that are in the training list")
    p.add_argument("--train-minutes", type=float, default=2.0, help="training budget of the first run")
    p.add_argument("--retrain", action="store_true", help="train again even if a cached model exists")
    p.add_argument("--cache-dir", default=None, help="where trained models are kept "
                                                     "(default: $SEQLAB_CACHE or ~/.cache/seqlab)")
    p.set_defaults(func=cmd_names)


def _cache_root(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    return Path(os.environ.get("SEQLAB_CACHE") or Path.home() / ".cache" / "seqlab")


def _names_model(args) -> tuple[Path, set[str], int | None]:
    """Train (once) or find the cached names model; return its run dir, the known names, category."""
    from seqlab import datasets
    from seqlab.charlm import corpus as lmcorpus
    from seqlab.charlm.train import LMTrainConfig, train_lm

    category = None
    if args.language:
        files = datasets.language_files()
        match = {k.lower(): k for k in files}.get(args.language.lower())
        if match is None:
            raise SeqlabError(f"unknown language {args.language!r}; known: {', '.join(files)}")
        lines, cats, cat_names = lmcorpus.categorised_lines(files)
        category = cat_names.index(match)
        known = {ln for ln, c in zip(lines, cats) if c == category}
        source = "by_language"
    else:
        path = Path(args.data) if args.data else datasets.bundled_names_file()
        lines, cats, cat_names = lmcorpus.read_lines(path), None, None
        known = set(lines)
        source = "data"
    key = hashlib.sha256(("\n".join(lines) + f"|{cats is not None}|{NAMES_MODEL_VERSION}").encode()).hexdigest()[:16]
    run = _cache_root(args.cache_dir) / f"names-{key}"
    if args.retrain and run.exists():
        shutil.rmtree(run)
    if not (run / "model.pt").exists():
        corpus = lmcorpus.lines_corpus(lines, 0.05, 1337, cats, cat_names)
        cfg = LMTrainConfig(mode="lines", max_minutes=args.train_minutes, eval_every=100, patience=20)
        print(f"training a names model on {len(lines):,} {source} lines "
              f"(first run only, up to {args.train_minutes:g} min; cached in {run})", file=sys.stderr)
        run.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".names-", dir=run.parent))
        try:
            m = train_lm(corpus, cfg, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if run.exists():
            shutil.rmtree(run)
        os.replace(tmp, run)
        print(f"trained: validation loss {m['val_loss']:.3f} nats/char after {m['steps']} steps, "
              f"{m['seconds']:.0f} s", file=sys.stderr)
    return run, known, category


def cmd_names(args) -> int:
    import torch

    from seqlab.charlm.sampling import generate_lines
    from seqlab.charlm.train import load_model

    if args.n < 1:
        raise SeqlabError("-n must be at least 1")
    run, known, category = _names_model(args)
    model, ck = load_model(run)
    from seqlab.vocab import Vocab

    vocab = Vocab.from_dict(ck["vocab"])
    prefix = _encode_prefix(args.start, vocab)
    gen = torch.Generator().manual_seed(args.seed if args.seed is not None else torch.seed() % 2**62)
    found: list[str] = []
    seen: set[str] = set()
    for _ in range(50):
        batch = generate_lines(model, max(4 * args.n, 64), 0, prefix, category, temperature=args.temperature,
                               generator=gen)
        for ids in batch:
            name = "".join(vocab.decode(ids))
            if not name or name in seen or (not args.allow_known and name in known):
                continue
            seen.add(name)
            found.append(name)
            if len(found) == args.n:
                break
        if len(found) == args.n:
            break
    for name in found:
        print(name)
    if len(found) < args.n:
        print(f"seqlab: only {len(found)} new names found; try a higher --temperature", file=sys.stderr)
    return 0


def _encode_prefix(text: str, vocab) -> list[int]:
    missing = sorted({ch for ch in text if ch not in vocab.stoi or ch == "<s>"})
    if missing:
        raise SeqlabError(f"character(s) {''.join(missing)!r} are not in the model's vocabulary (never seen in training)")
    return [vocab.stoi[ch] for ch in text]


# ---------------------------------------------------------------------------------------- lm train
def _register_train(lsub) -> None:
    from seqlab.charlm.config import MODE_DEFAULTS, LMTrainConfig

    d = LMTrainConfig()
    p = lsub.add_parser(
        "train", help="train a character-level model on a text file",
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
        epilog="examples:\n  seqlab lm train $SEQLAB_DATA/tinyshakespeare/input.txt -o runs/shakespeare --max-minutes 15\n"
               "  seqlab lm train names.txt -o runs/names --mode lines --max-minutes 5\n"
               "  seqlab lm train input.txt -o runs/tiny --cell gru --impl scratch --layers 1 --hidden 128")
    p.add_argument("file", metavar="FILE", help="UTF-8 text file (or a dataset name: tinyshakespeare, latex, linux_c, names)")
    p.add_argument("-o", "--output", required=True, metavar="RUN", help="run directory to create (or resume)")
    p.add_argument("--mode", choices=["stream", "lines"], default=d.mode, help="how FILE is read (default: stream)")
    p.add_argument("--cell", choices=["rnn", "lstm", "gru"], default=d.cell, help="recurrent cell (default: lstm)")
    p.add_argument("--impl", choices=["scratch", "fused"], default=d.impl,
                   help="fused = torch kernels (fast, default); scratch = the lecture's equations step by step")
    p.add_argument("--layers", type=int, default=None, help="stacked recurrent layers (default per mode)")
    p.add_argument("--hidden", type=int, default=None, help="hidden units per layer (default per mode)")
    p.add_argument("--embed", type=int, default=None, help="character embedding size (default per mode)")
    p.add_argument("--dropout", type=float, default=None, help="dropout on inputs, between layers, on outputs")
    p.add_argument("--seq-len", type=int, default=d.seq_len, help=f"stream mode: BPTT window (default: {d.seq_len})")
    p.add_argument("--windows", choices=["sequential", "random"], default=d.windows,
                   help="stream mode: sequential windows carry the hidden state (default); random windows do not")
    p.add_argument("--batch-size", type=int, default=None, help="sequences per step (default per mode)")
    p.add_argument("--lr", type=float, default=None, help="peak AdamW learning rate (default per mode)")
    p.add_argument("--weight-decay", type=float, default=None, help="AdamW weight decay (default per mode)")
    p.add_argument("--clip", type=float, default=d.clip, help=f"gradient-norm clipping (default: {d.clip})")
    p.add_argument("--schedule", choices=["cosine", "constant"], default=d.schedule,
                   help="cosine: warm-up then decay over the budget (default)")
    p.add_argument("--epochs", type=int, default=None, help="passes over the training data (default per mode)")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps")
    p.add_argument("--max-minutes", type=float, default=None, help="stop after this many minutes (the LR "
                                                                    "schedule fits itself to the budget)")
    p.add_argument("--eval-every", type=int, default=None, help="steps between validations (default per mode)")
    p.add_argument("--patience", type=int, default=d.patience, help="validations without improvement before stopping")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default=d.precision,
                   help="bf16 runs the training products in bfloat16, about 1.5x faster on CPUs with "
                        "AVX512-BF16, same loss per step; weights and validation stay fp32. auto (default) "
                        "picks bf16 where the CPU supports it natively")
    p.add_argument("--ema", type=float, default=None, help="keep and validate an exponential moving average "
                                                            "of the weights with this decay, e.g. 0.999 (default per mode)")
    p.add_argument("--val-fraction", type=float, default=d.val_fraction, help="held-out share for validation")
    p.add_argument("--seed", type=int, default=d.seed, help=f"seed for init, data order and dropout (default: {d.seed})")
    p.add_argument("--resume", action="store_true", help="continue the run in RUN (optimizer, step, RNG state)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all cores)")
    p.set_defaults(func=cmd_train)


def _resolve_text_file(name: str) -> Path:
    from seqlab import datasets

    p = Path(name)
    if not p.exists() and name in datasets.NAMED_FILES:
        return datasets.dataset_path(name)
    return p


def _build_corpus(path: Path, cfg):
    from seqlab.charlm import corpus as lmcorpus
    from seqlab.files import read_text

    if cfg.mode == "lines":
        return lmcorpus.lines_corpus(lmcorpus.read_lines(path), cfg.val_fraction, cfg.seed)
    text = read_text(path)
    corpus = lmcorpus.stream_corpus(text, cfg.val_fraction)
    if len(corpus.train) < cfg.seq_len + 2 or len(corpus.val) < 2:
        raise SeqlabError(f"text is too short: {len(text)} characters, need more than one training window "
                          f"({cfg.seq_len + 1}) plus a validation part; lower --seq-len or use a longer file")
    return corpus


def cmd_train(args) -> int:
    import torch

    from seqlab.files import write_json_atomic
    from seqlab.charlm.train import LMTrainConfig, train_lm

    if args.threads:
        torch.set_num_threads(args.threads)
    run = Path(args.output)
    path = _resolve_text_file(args.file)
    budgets = {k: getattr(args, k) for k in ("max_steps", "max_minutes", "epochs") if getattr(args, k) is not None}
    if args.resume:
        if not (run / "last.pt").exists() or not (run / "config.json").exists():
            raise SeqlabError(f"nothing to resume in {run} (no last.pt / config.json)")
        cfg = LMTrainConfig.from_dict(json.loads((run / "config.json").read_text()))
        cfg = LMTrainConfig.from_dict({**cfg.__dict__, **budgets})
    else:
        if run.exists() and any(run.iterdir()):
            raise SeqlabError(f"{run} already exists and is not empty; use --resume or another -o")
        cfg = LMTrainConfig(
            mode=args.mode, cell=args.cell, impl=args.impl, layers=args.layers, hidden=args.hidden,
            embed=args.embed, dropout=args.dropout, seq_len=args.seq_len, windows=args.windows,
            batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay, clip=args.clip,
            schedule=args.schedule, eval_every=args.eval_every, patience=args.patience,
            val_fraction=args.val_fraction, seed=args.seed, ema=args.ema, precision=args.precision, **budgets)
    cfg = cfg.resolved()
    if not 0 < cfg.val_fraction < 1:
        raise SeqlabError("--val-fraction must be between 0 and 1")
    corpus = _build_corpus(path, cfg)          # every input check happens before RUN is created
    created = not run.exists()
    try:
        if not args.resume:
            write_json_atomic(run / "config.json", {**cfg.__dict__, "data": str(path)})
        print(f"training {cfg.cell} ({cfg.impl}) {cfg.layers}x{cfg.hidden} on {corpus.train_chars:,} characters "
              f"({corpus.mode} mode, vocabulary {len(corpus.vocab)}) -> {run}", file=sys.stderr)
        metrics = train_lm(corpus, cfg, run, resume=args.resume)
    except KeyboardInterrupt:
        if (run / "last.pt").exists():
            print(f"seqlab: interrupted; checkpoint saved in {run}, continue with --resume", file=sys.stderr)
        elif created:
            shutil.rmtree(run, ignore_errors=True)
        raise
    except BaseException:
        if created and not (run / "last.pt").exists():
            shutil.rmtree(run, ignore_errors=True)
        raise
    print(json.dumps(metrics))
    return 0


# ---------------------------------------------------------------------------------------- lm sample
def _register_sample(lsub) -> None:
    p = lsub.add_parser(
        "sample", help="generate text (or lines) from a trained run",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Sample from a trained model. Stream models continue --prime for --length characters; "
                    "lines models print -n lines. The same --seed gives the same output.")
    p.add_argument("run", metavar="RUN", help="run directory written by `seqlab lm train`")
    what = p.add_mutually_exclusive_group()
    what.add_argument("-n", type=int, default=None, help="lines to generate (default 10 for lines models; "
                                                          "stream models write until N newlines)")
    what.add_argument("--length", type=int, default=None, help="characters to generate (stream models, default 500; "
                                                                "lines models: the longest line)")
    p.add_argument("--temperature", type=float, default=1.0, help="0 = greedy, <1 conservative, >1 creative")
    p.add_argument("--top-k", type=int, default=None, help="draw only from the k most likely characters")
    p.add_argument("--prime", default=None, help="text the model reads first (stream) or prefix of each line")
    p.add_argument("--language", default=None, help="category (e.g. language) for conditioned models")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")
    p.set_defaults(func=cmd_sample)


def _category(ck: dict, name: str | None) -> int | None:
    cats = ck.get("categories") or []
    if not cats:
        if name:
            raise SeqlabError("this model is not conditioned on a category; drop --language")
        return None
    if name is None:
        raise SeqlabError(f"this model needs --language, one of: {', '.join(cats)}")
    match = {c.lower(): i for i, c in enumerate(cats)}.get(name.lower())
    if match is None:
        raise SeqlabError(f"unknown language {name!r}; known: {', '.join(cats)}")
    return match


def cmd_sample(args) -> int:
    import torch

    from seqlab.charlm.sampling import generate_lines, generate_stream
    from seqlab.charlm.train import load_model
    from seqlab.vocab import Vocab

    model, ck = load_model(args.run)
    vocab = Vocab.from_dict(ck["vocab"])
    gen = torch.Generator().manual_seed(args.seed)
    category = _category(ck, args.language)
    if args.top_k is not None and args.top_k < 1:
        raise SeqlabError("--top-k must be at least 1")
    for flag, value in (("-n", args.n), ("--length", args.length)):
        if value is not None and value < 1:
            raise SeqlabError(f"{flag} must be at least 1")
    if ck["mode"] == "lines":
        n = args.n if args.n is not None else 10
        prefix = _encode_prefix(args.prime or "", vocab)
        for ids in generate_lines(model, n, 0, prefix, category, max_len=args.length or 64,
                                  temperature=args.temperature, top_k=args.top_k, generator=gen):
            print("".join(vocab.decode(ids)))
        return 0
    prime = args.prime if args.prime is not None else ("\n" if "\n" in vocab.stoi else vocab.itos[0])
    prime_ids = _encode_prefix(prime, vocab)
    if args.n is not None:                      # N lines: generate in chunks until N newlines appeared
        if "\n" not in vocab.stoi:
            raise SeqlabError("this model never saw a newline; use --length instead of -n")
        text = prime
        while text.count("\n") - prime.count("\n") < args.n and len(text) < 200_000:
            ids = _encode_prefix(text[-256:], vocab)
            text += "".join(vocab.decode(generate_stream(model, ids, 200, args.temperature, args.top_k, gen)))
        lines = text[len(prime):].split("\n")[: args.n]
        sys.stdout.write(prime + "\n".join(lines) + "\n")
        return 0
    length = args.length if args.length is not None else 500
    out = generate_stream(model, prime_ids, length, args.temperature, args.top_k, gen)
    sys.stdout.write(prime + "".join(vocab.decode(out)) + "\n")
    return 0


# ---------------------------------------------------------------------------------------- lm eval
def _register_eval(lsub) -> None:
    p = lsub.add_parser(
        "eval", help="loss of a trained run on a text file (JSON: loss, bpc, perplexity, chars)",
        description="Average negative log-likelihood per character of FILE under the model. For lines "
                    "models each line is one example and the end marker counts as a character "
                    "(makemore's convention).")
    p.add_argument("run", metavar="RUN")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--language", default=None, help="category of every line (conditioned models)")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    import torch

    from seqlab.charlm import corpus as lmcorpus
    from seqlab.charlm import data as lmdata
    from seqlab.files import read_text
    from seqlab.charlm.train import evaluate, load_model
    from seqlab.vocab import Vocab

    model, ck = load_model(args.run)
    vocab = Vocab.from_dict(ck["vocab"])
    category = _category(ck, args.language)
    if ck["mode"] == "lines":
        seqs = lmdata.encode_lines(lmcorpus.read_lines(args.file), vocab)
        cats = torch.full((len(seqs),), category, dtype=torch.long) if category is not None else None
        nll, n = evaluate(model, "lines", seqs, cats)
    else:
        ids = lmdata.encode_text(read_text(args.file), vocab)
        if len(ids) < 2:
            raise SeqlabError("text is too short to evaluate (need at least 2 characters)")
        nll, n = evaluate(model, "stream", ids, batch_size=max(1, min(64, len(ids) // 2048)))
    loss = nll / n
    print(json.dumps({"loss": loss, "bpc": loss / math.log(2), "perplexity": math.exp(loss), "chars": n}))
    return 0
