"""word2vec: seqlab vs gensim 4.x, same settings, same corpus, same evaluator, in one run.

    python benchmarks/bench_word2vec.py            # 5 epochs, skip-gram and CBOW (long: ~30+ min on 2 cores)
    python benchmarks/bench_word2vec.py --quick    # 1 epoch, for iteration

Each trainer runs in its own subprocess (so peak memory is its own, ru_maxrss) and writes its
vectors as word2vec binary; the parent scores every vectors file with gensim's evaluator
(questions-words lowercased, restrict_vocab 30000; WordSim353 Spearman), so both tools are measured
by the same code. words/s = corpus tokens x epochs / training seconds (the number gensim logs);
end-to-end seconds add reading the corpus and building the vocabulary. seqlab streams the .gz
itself; gensim reads an uncompressed copy (lines cut at 10,000 tokens, its maximum sentence) in two
ways: "gensim" = corpus_file mode (C++ reader, no Python producer thread: its fastest path) and
"gensim-iter" = the usual iterable API (LineSentence). Note that in corpus_file mode each of the W
threads decays the learning rate as if it alone had to cover the whole corpus, so alpha only falls
about half-way per epoch (gensim 4.4 word2vec_corpusfile.pyx, get_next_alpha): a higher effective
learning rate than the documented linear decay, which helps its accuracy after few epochs.
Results: benchmarks/results/word2vec.json and .md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def settings(quick: bool, model: str) -> dict:
    return dict(
        model=model,
        vector_size=100,
        window=5,
        negative=5,
        sample=1e-4,
        min_count=5,
        epochs=1 if quick else 5,
        workers=2,
        seed=1,
        alpha=0.025 if model == "skipgram" else 0.05,
        min_alpha=1e-4,
    )


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(tool: str, corpus: str, plain: str, out: str, cfg: dict, max_words: int | None) -> dict:
    """Train one model in this process; print a JSON line with timings and peak memory."""
    t0 = time.perf_counter()
    if tool.startswith("gensim"):
        import logging

        from gensim.models import Word2Vec
        from gensim.models.word2vec import LineSentence

        logging.disable(logging.CRITICAL)
        m = Word2Vec(
            vector_size=cfg["vector_size"],
            window=cfg["window"],
            negative=cfg["negative"],
            sample=cfg["sample"],
            min_count=cfg["min_count"],
            workers=cfg["workers"],
            sg=int(cfg["model"] == "skipgram"),
            seed=cfg["seed"],
            alpha=cfg["alpha"],
            min_alpha=cfg["min_alpha"],
            hs=0,
        )
        # "gensim": corpus_file mode (C++ reader, fastest); "gensim-iter": the usual iterable API
        source = {"corpus_file": plain} if tool == "gensim" else {"corpus_iterable": LineSentence(plain)}
        m.build_vocab(**source)
        c1, t1 = cpu_seconds(), time.perf_counter()
        m.train(
            **source, total_words=m.corpus_total_words, total_examples=m.corpus_count, epochs=cfg["epochs"]
        )
        train_s, train_cpu = time.perf_counter() - t1, cpu_seconds() - c1
        words = m.corpus_total_words
        m.wv.save_word2vec_format(out, binary=True)
        vocab = len(m.wv)
    else:
        from seqlab.embeddings.config import Word2VecConfig
        from seqlab.embeddings.word2vec_train import train_word2vec

        source = corpus if max_words is None else plain
        kv, st = train_word2vec(source, Word2VecConfig(**cfg), progress=False)
        train_s, train_cpu = st["seconds"], st["cpu_seconds"]
        words = st["corpus_words"]
        kv.save_word2vec_format(out, binary=True)
        vocab = st["vocab_size"]
    total_s = time.perf_counter() - t0
    return {
        "tool": tool,
        "model": cfg["model"],
        "train_seconds": train_s,
        "total_seconds": total_s,
        "cpu_seconds": train_cpu,
        "corpus_words": int(words),
        "vocab_size": int(vocab),
        "words_per_sec": words * cfg["epochs"] / train_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def evaluate(path: str, analogies: str, ws353: str) -> dict:
    """gensim's evaluator on a vectors file: analogy accuracy (%) and WordSim353 Spearman."""
    import logging

    from gensim.models import KeyedVectors

    logging.disable(logging.CRITICAL)
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    acc, sections = kv.evaluate_word_analogies(analogies, restrict_vocab=30000, case_insensitive=True)
    seen = sum(len(s["correct"]) + len(s["incorrect"]) for s in sections if s["section"] == "Total accuracy")
    pearson, spearman, oov = kv.evaluate_word_pairs(ws353, case_insensitive=True)
    return {
        "analogy_accuracy": 100.0 * acc,
        "analogy_seen": seen,
        "ws353_spearman": float(spearman[0]),
        "ws353_oov_percent": float(oov),
    }


def machine() -> str:
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()}, python {platform.python_version()}; "
        f"load average at start {load[0]:.1f}"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 epoch instead of 5")
    ap.add_argument(
        "--max-words",
        type=int,
        default=None,
        help="use only the first N tokens of the corpus (default: all 17M)",
    )
    ap.add_argument("--models", default="skipgram,cbow", help="comma-separated (default: %(default)s)")
    ap.add_argument(
        "--tools", default="gensim,gensim-iter,seqlab", help="comma-separated (default: %(default)s)"
    )
    ap.add_argument(
        "--out",
        default=str(RESULTS / "word2vec"),
        help="results path without extension (default: %(default)s)",
    )
    ap.add_argument(
        "--seeds",
        default="1",
        help="comma-separated seeds; each tool runs once per seed and the summary compares "
        "means, since one run's analogy accuracy moves by a few tenths (default: %(default)s)",
    )
    ap.add_argument(
        "--cbow-share",
        type=int,
        default=None,
        help="seqlab CBOW: centre words sharing one draw of negatives (default: seqlab's)",
    )
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        tool, corpus, plain, out, cfg = args.child
        mw = None if args.max_words is None else args.max_words
        print(json.dumps(child(tool, corpus, plain, out, json.loads(cfg), mw)))
        return 0

    sys.path.insert(0, str(HERE.parent / "src"))
    from seqlab.datasets import dataset_path

    corpus = str(dataset_path("word2vec_corpus"))
    analogies = str(dataset_path("questions-words"))
    ws353 = str(dataset_path("wordsim353"))
    import gensim
    import numba

    tmp = Path(tempfile.mkdtemp(prefix="bench_w2v_"))
    rows = []
    try:
        # the same token stream for both: lines cut to 10,000 tokens (gensim's maximum sentence)
        plain = tmp / "corpus.txt"
        n = 0
        with gzip.open(corpus, "rt", encoding="utf-8") as f, open(plain, "w", encoding="utf-8") as g:
            for line in f:
                toks = line.split()
                if args.max_words is not None:
                    toks = toks[: max(0, args.max_words - n)]
                for a in range(0, len(toks), 10_000):
                    g.write(" ".join(toks[a : a + 10_000]) + "\n")
                n += len(toks)
        start = machine()
        for model in args.models.split(","):
            cfg = settings(args.quick, model)
            for tool, seed in [(t, int(x)) for t in args.tools.split(",") for x in args.seeds.split(",")]:
                out = tmp / f"{tool}_{model}.bin"
                ccfg = dict(cfg, seed=seed)
                if tool == "seqlab" and args.cbow_share is not None:
                    ccfg["cbow_shared_negatives"] = args.cbow_share
                cmd = [
                    sys.executable,
                    __file__,
                    "--child",
                    tool,
                    corpus,
                    str(plain),
                    str(out),
                    json.dumps(ccfg),
                ]
                if args.max_words is not None:
                    cmd += ["--max-words", str(args.max_words)]
                print(f"[bench] {tool} {model} seed {seed} ...", file=sys.stderr, flush=True)
                res = subprocess.run(cmd, capture_output=True, text=True)
                if res.returncode != 0:
                    print(res.stderr, file=sys.stderr)
                    raise SystemExit(f"{tool} {model} failed")
                row = json.loads(res.stdout.strip().splitlines()[-1])
                row.update(evaluate(str(out), analogies, ws353), seed=seed)
                rows.append(row)
                print(f"[bench] {json.dumps(row)}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    summary = summarize(rows)
    ratios = {}
    for model, by in summary.items():
        for peer in ("gensim", "gensim-iter"):
            if peer in by and "seqlab" in by:
                ratios[f"{model} vs {peer}"] = {
                    "speedup_words_per_sec": by["seqlab"]["words_per_sec"] / by[peer]["words_per_sec"],
                    "speedup_cpu": by[peer]["cpu_seconds"] / by["seqlab"]["cpu_seconds"],
                    "analogy_delta_points": by["seqlab"]["analogy_accuracy"] - by[peer]["analogy_accuracy"],
                    "runs": [by["seqlab"]["runs"], by[peer]["runs"]],
                }
    result = {
        "machine": start,
        "gensim": gensim.__version__,
        "numba": numba.__version__,
        "settings": settings(args.quick, "skipgram") | {"alpha": "0.025 skip-gram, 0.05 CBOW (both tools)"},
        "max_words": args.max_words,
        "quick": args.quick,
        "rows": rows,
        "summary": summary,
        "ratios": ratios,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    from seqlab.files import write_json_atomic, write_text_atomic

    write_json_atomic(args.out + ".json", result)
    write_text_atomic(args.out + ".md", to_markdown(result))
    print(to_markdown(result))
    return 0


def summarize(rows: list[dict]) -> dict:
    """Per model and tool: the mean of each measure over seeds, with the analogy range."""
    out: dict = {}
    for x in rows:
        out.setdefault(x["model"], {}).setdefault(x["tool"], []).append(x)
    keys = ("words_per_sec", "cpu_seconds", "analogy_accuracy", "ws353_spearman")
    return {
        m: {
            t: {
                **{k: sum(r[k] for r in rs) / len(rs) for k in keys},
                "runs": len(rs),
                "analogy_min": min(r["analogy_accuracy"] for r in rs),
                "analogy_max": max(r["analogy_accuracy"] for r in rs),
            }
            for t, rs in by.items()
        }
        for m, by in out.items()
    }


def to_markdown(r: dict) -> str:
    s = r["settings"]
    lines = [
        f"# word2vec: seqlab vs gensim {r['gensim']}",
        "",
        "Corpus gutenberg8 ("
        f"{'first {:d} tokens'.format(r['max_words']) if r['max_words'] else '17.0M tokens'}), "
        f"{s['vector_size']}d, window {s['window']}, negative {s['negative']}, sample {s['sample']}, "
        f"min_count {s['min_count']}, {s['epochs']} epoch(s), {s['workers']} workers, "
        f"alpha {s['alpha']}.",
        f"Machine: {r['machine']}. Finished {r['finished']}.",
        "Analogy: questions-words, case-insensitive, restrict_vocab 30000; "
        "both scored by gensim's evaluator.",
        "",
        "| model | tool | seed | words/s | train s | end-to-end s | CPU s | peak RSS MB "
        "| analogy % | seen | WS353 ρ |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for x in r["rows"]:
        lines.append(
            f"| {x['model']} | {x['tool']} | {x.get('seed', 1)} | {x['words_per_sec']:,.0f} "
            f"| {x['train_seconds']:.1f} | "
            f"{x['total_seconds']:.1f} | {x['cpu_seconds']:.1f} | {x['peak_rss_mb']:.0f} | "
            f"{x['analogy_accuracy']:.2f} | {x['analogy_seen']} | {x['ws353_spearman']:.3f} |"
        )
    if any(t["runs"] > 1 for by in r.get("summary", {}).values() for t in by.values()):
        lines += [
            "",
            "Means over seeds:",
            "",
            "| model | tool | runs | words/s | analogy % (min–max) | WS353 ρ |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
        ]
        for model, by in r["summary"].items():
            for tool, t in by.items():
                lines.append(
                    f"| {model} | {tool} | {t['runs']} | {t['words_per_sec']:,.0f} | "
                    f"{t['analogy_accuracy']:.2f} ({t['analogy_min']:.2f}–{t['analogy_max']:.2f}) | "
                    f"{t['ws353_spearman']:.3f} |"
                )
    lines.append("")
    for name, q in r["ratios"].items():
        lines.append(
            f"- {name}: seqlab {q['speedup_words_per_sec']:.2f}x words/s "
            f"({q['speedup_cpu']:.2f}x by CPU seconds), analogy {q['analogy_delta_points']:+.2f} points "
            f"(goal: >= 2x at >= -0.5 points)"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
