"""`seqlab classify train|predict|table`: Kim's sentence CNN, RNN classifiers and NB baselines.

Thin layer: parse flags, call seqlab.classify / seqlab.classify.table, draw progress bars on stderr,
print results on stdout.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from seqlab.cli.arguments import HelpFormatter, add_device_argument, add_scale_arguments

MODELS_HELP = (
    "cnn-rand, cnn-static, cnn-non-static, cnn-multichannel (Kim 2014), dcnn (Kalchbrenner et al. "
    "2014), lstm, bilstm, gru, cnn-rnn (BiLSTM under Kim's convolution), nbsvm, mnb (Wang & Manning 2012), "
    "g-dropout, f-dropout (fast dropout logistic regression, Wang & Manning 2013), rae (semi-supervised "
    "recursive autoencoder, Socher et al. 2011: greedy trees built from the text, no parser; stops "
    "2 epochs after its best on dev); on the SST trees "
    "(sst1/sst2, root accuracy; mr: its sentences on the treebank's trees, right-branching where none): "
    "recnn (p = tanh(W[c1;c2] + b)), mv-rnn (Socher et al. 2012; on mr from glove-6b-50d unless "
    "--vectors, as the paper started from 50-d pretrained words), rntn (Socher et al. 2013), "
    "tree-lstm (Tai et al. 2015; glove-6b-50d unless --vectors)"
)
DATASETS_HELP = "mr, sst1, sst2, subj, trec, cr, mpqa"


def register(sub) -> None:
    """Add `classify` and its subcommands to the top-level parser."""
    p = sub.add_parser(
        "classify",
        help="sentence classification: Kim's CNN, RNNs, NBSVM/MNB",
        description="Train and use sentence classifiers and reproduce Kim (2014), Table 2.",
    )
    s = p.add_subparsers(dest="classify_command", metavar="SUBCOMMAND")
    s.required = True
    fmt = HelpFormatter

    t = s.add_parser(
        "train",
        formatter_class=fmt,
        help="train (and cross-validate) one classifier",
        description="Train a classifier on a named dataset or your own file and write "
        "RUN/metrics.json (accuracy, std, folds, seconds) and RUN/model.pt. Sets without a "
        "test split (MR, Subj, CR, MPQA, your files) are cross-validated; the checkpoint "
        "is then the model of the best fold.",
    )
    t.add_argument(
        "dataset",
        metavar="DATASET",
        help=f"one of {DATASETS_HELP}, or a file of 'label<TAB>text' lines or CSV label,text",
    )
    t.add_argument("-o", "--output", required=True, metavar="RUN", help="run folder to write")
    t.add_argument("--model", required=True, metavar="MODEL", help=f"one of {MODELS_HELP}")
    t.add_argument(
        "--vectors",
        default=None,
        metavar="V",
        help="pretrained vectors for the cnn-static/non-static/multichannel models: a word2vec "
        "(text or binary) or GloVe file, or 'glove-6b-50d' (the default for those models; "
        "the paper used 300-d GoogleNews word2vec). Given with lstm/bilstm/gru/cnn-rnn, "
        "they initialise the embeddings; tree-lstm and mv-rnn on mr start from them "
        "(glove-6b-50d when not given)",
    )
    t.add_argument(
        "--conv",
        default="narrow",
        metavar="narrow|wide",
        help="convolution of Kim's CNN (cnn-* models): narrow, n-h+1 values per filter of width h "
        "on n words (the paper's formula), or wide, zero-padded, n+h-1 values. Narrow gives a "
        "sentence shorter than h nothing from that filter: use wide for short texts (MPQA, median "
        "2 words: 71.0%% narrow, 85.4%% wide)",
    )
    t.add_argument(
        "--sst-train",
        default="phrases",
        metavar="phrases|sentences",
        help="what sst1/sst2 train on: every labelled phrase of the training trees (Kim), or the "
        "training sentences only; dev and test are sentences either way",
    )
    t.add_argument(
        "--folds",
        type=int,
        default=10,
        metavar="K",
        help="cross-validation folds for sets without a test split",
    )
    t.add_argument(
        "--epochs",
        type=int,
        default=25,
        metavar="E",
        help="maximum epochs (the epoch best on the dev set is kept)",
    )
    t.add_argument(
        "--recipe",
        default="b50",
        metavar="b50|b4",
        help="how the DCNN trains: b50 (batches of 50, Adagrad lr 0.05, one L2 weight) or b4, the "
        "authors' Matlab code (batches of 4, lr 0.1, Adagrad's sums reset every 5 epochs, one L2 "
        "weight per layer; ~2.7x slower per epoch, no better on SST-2 or TREC here)",
    )
    t.add_argument(
        "--dev-checks",
        type=int,
        default=1,
        metavar="K",
        help="score the dev set K times per epoch and keep the best point, not only each "
        "epoch's end (worth it when an epoch is long: SST's phrases are 1,540-3,137 batches)",
    )
    t.add_argument("--seed", type=int, default=0, help="random seed (folds, dev split, init, batches)")
    t.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="CPU threads per process (default: the cores divided among this machine's processes)",
    )
    add_scale_arguments(t)
    t.set_defaults(func=cmd_train)

    pr = s.add_parser(
        "predict",
        formatter_class=fmt,
        help="label new sentences with a trained run",
        description="Print, for each TEXT, the predicted label and the probability of "
        "every class (tab-separated: label, probabilities, text). The tree models (recnn, "
        "mv-rnn, rntn, tree-lstm) give raw text a right-branching tree (w1 (w2 (... wn))), "
        "no parser.",
    )
    pr.add_argument("run", metavar="RUN", help="a folder written by `seqlab classify train`")
    pr.add_argument("texts", nargs="+", metavar="TEXT", help="sentences to classify")
    pr.set_defaults(func=cmd_predict)

    tb = s.add_parser(
        "table",
        formatter_class=fmt,
        help="reproduce the lecture's table (Kim 2014, Table 2)",
        description="Train every (dataset, model) cell and write a markdown table with the "
        "paper's number, ours and the difference. Each fold's result is cached next to "
        "TABLE.md, so a killed run resumes where it stopped.",
    )
    tb.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="TABLE.md",
        help="markdown file to write (a .json with the same numbers is written beside it)",
    )
    tb.add_argument(
        "--datasets",
        nargs="+",
        default=["mr", "sst1", "sst2", "subj", "trec", "cr", "mpqa"],
        metavar="D",
        help=f"datasets (columns), from {DATASETS_HELP} (default: all seven)",
    )
    tb.add_argument(
        "--rows",
        "--models",
        dest="models",
        nargs="+",
        default=None,
        metavar="M",
        help=f"rows, from {MODELS_HELP}; Kim's CNN rows may end in :wide (wide "
        "convolution; a bare name is narrow), the DCNN's in :b4 or :b50 (its recipe, see train --recipe; "
        "bare: b50). Every other row of the lecture's table is accepted too (rae, mv-rnn, rntn, "
        "paragraph-vec, recnn, tree-lstm; and ccae, sent-parser, tree-crf, crf-pr, svm-s, printed as "
        "'—' beside the paper with a footnote on what they need); the recursive rows train as classify "
        "train trains them and have cells on sst1 and sst2 only, mv-rnn on mr too ('—' elsewhere); "
        "'all' = every row. Default: cnn-rand "
        "cnn-rand:wide cnn-static cnn-non-static cnn-multichannel dcnn nbsvm mnb",
    )
    tb.add_argument(
        "--sst-train",
        default="phrases",
        metavar="phrases|sentences",
        help="what the SST-1/SST-2 cells train on (Kim: phrases)",
    )
    tb.add_argument(
        "--vectors",
        default="glove-6b-50d",
        metavar="V",
        help="pretrained vectors for the static/non-static/multichannel rows and tree-lstm",
    )
    tb.add_argument("--folds", type=int, default=10, metavar="K", help="CV folds for MR, Subj, CR, MPQA")
    tb.add_argument("--epochs", type=int, default=25, metavar="E", help="maximum epochs per neural model")
    tb.add_argument(
        "--dev-checks",
        type=int,
        default=1,
        metavar="K",
        help="dev-set scorings per epoch for the neural rows (the best point is kept; "
        "K > 1 is part of the cache key)",
    )
    tb.add_argument("--seed", type=int, default=0, help="random seed")
    tb.add_argument(
        "--threads", type=int, default=None, metavar="N", help="torch CPU threads (default: all cores)"
    )
    add_device_argument(tb)  # each fold records its device; the table says which cells came from a GPU
    tb.add_argument(
        "--cache", default=None, metavar="DIR", help="result cache (default: TABLE_cache/ next to TABLE.md)"
    )
    tb.add_argument(
        "--cached-only",
        action="store_true",
        help="train nothing: write the table from the folds already in the cache",
    )
    tb.set_defaults(func=cmd_table, _param_flags={"num_threads": "--threads"})


# --------------------------------------------------------------------------- progress


class _Bars:
    """An outer bar (folds or cells) and an inner bar (batches of the current epoch)."""

    def __init__(self, total: int, desc: str, unit: str, enabled: bool | None = None):
        from functools import partial

        from seqlab.runtime import progress

        self._progress = partial(progress, enabled=None if enabled else False)
        self.outer = self._progress(total=total, desc=desc, unit=unit, position=0)
        self.inner = None
        self.prefix = ""

    def __call__(self, event: str, **k) -> None:
        if event == "epoch":
            if self.inner is not None:
                self.inner.close()
            self.inner = self._progress(
                total=k["batches"],
                unit="batch",
                position=1,
                desc=f"{self.prefix}epoch {k['epoch']}/{k['epochs']}",
            )
        elif event == "batch" and self.inner is not None:
            self.inner.update(1)
            self.inner.set_postfix(loss=f"{k['loss']:.3f}", refresh=False)
        elif event == "epoch_end" and self.outer is not None and k.get("dev_accuracy") is not None:
            self.outer.set_postfix(dev=f"{100 * k['dev_accuracy']:.1f}", refresh=False)

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()
        self.outer.close()


# --------------------------------------------------------------------------- train / predict


def cmd_train(args) -> int:
    from seqlab.classify.run import check_training_arguments
    from seqlab.cli.launch import run_job

    check_training_arguments(  # before any process starts or any data loads
        args.dataset,
        args.model,
        args.output,
        vectors=args.vectors,
        folds=args.folds,
        epochs=args.epochs,
        seed=args.seed,
        threads=args.threads,
        device=args.device,
        conv=args.conv,
        sst_train=args.sst_train,
        dev_checks=args.dev_checks,
        recipe=args.recipe,
    )
    return run_job(args, lambda group, device: _train(args, group, device))


def _train(args, group, device) -> int:
    from seqlab.classify.run import train_classifier
    from seqlab.runtime import seed_everything

    seed_everything(args.seed)
    bars = _Bars(1, f"{args.dataset} {args.model}", "unit", enabled=group.is_main)

    def on_unit(unit):
        if unit.index:
            bars.outer.update(1)
        bars.outer.total = unit.units
        bars.prefix = f"fold {unit.index + 1}/{unit.units} " if unit.units > 1 else ""

    try:
        m = train_classifier(
            args.dataset,
            args.model,
            args.output,
            vectors=args.vectors,
            folds=args.folds,
            epochs=args.epochs,
            seed=args.seed,
            threads=args.threads,
            device=device,
            callback=bars,
            on_unit=on_unit,
            conv=args.conv,
            sst_train=args.sst_train,
            dev_checks=args.dev_checks,
            recipe=args.recipe,
        )
    finally:
        bars.close()
    run = Path(args.output)
    if not group.is_main:
        return 0
    spread = f" ± {100 * m['std']:.2f}" if m["folds"] > 1 else ""  # a test split has no spread
    print(
        f"{m['dataset']}\t{m['model']}\taccuracy {100 * m['accuracy']:.2f}{spread}\t"
        f"({m['protocol']}, {m['train_examples']} training examples, {m['seconds']:.0f} s on "
        f"{m.get('device', 'cpu')})\t"
        f"-> {run}/metrics.json, {run}/model.pt ({m['checkpoint']})"
    )
    return 0


def cmd_predict(args) -> int:
    from seqlab.classify.run import TrainedClassifier

    clf = TrainedClassifier.load(args.run)
    proba = clf.predict_proba(args.texts)  # (N, C)
    for text, p in zip(args.texts, proba):
        best = int(np.argmax(p))
        probs = " ".join(f"{clf.labels[i]}={p[i]:.3f}" for i in range(len(clf.labels)))
        print(f"{clf.labels[best]}\t{probs}\t{text}")
    return 0


# --------------------------------------------------------------------------- table


def cmd_table(args) -> int:
    from seqlab.classify.data import DATASETS
    from seqlab.classify.table import DEFAULT_ROWS, TableConfig, build_table
    from seqlab.classify.table_rows import UNAVAILABLE, applies, expand_rows, parse_row
    from seqlab.runtime import set_threads

    cfg = TableConfig(
        tuple(d.lower().replace("-", "") for d in args.datasets),
        expand_rows(args.models) if args.models else DEFAULT_ROWS,
        args.vectors,
        args.epochs,
        args.folds,
        args.seed,
        args.threads,
        args.device,
        args.sst_train,
        args.dev_checks,
    )
    cfg.validate()
    set_threads(args.threads)
    rows = [parse_row(m)[0] for m in cfg.models]
    trained = [(d, m) for d in cfg.datasets for m in rows if m not in UNAVAILABLE and applies(m, d)]
    units = sum((cfg.folds if DATASETS[d].cv else 1) for d, _ in trained)
    bars = _Bars(units, "table", "fold")
    started = [False]

    def cb(event, **k):
        if event == "unit":
            if started[0]:
                bars.outer.update(1)
            started[0] = True
            bars.prefix = f"{k['dataset']} {k['model']} {k['unit'] + 1}/{k['units']} "
            bars.outer.set_description(
                f"table: {k['dataset']} {k['model']}" + (" (cached)" if k["cached"] else "")
            )
        else:
            bars(event, **k)

    out = Path(args.output)
    t0 = time.perf_counter()
    try:
        md = build_table(cfg, out, args.cache, callback=cb, train=not args.cached_only)
    finally:
        bars.close()
    print(md)
    cache = args.cache or out.parent / f"{out.stem}_cache"
    print(f"total time: {time.perf_counter() - t0:.1f} s; table -> {out}, cache -> {cache}")
    return 0
