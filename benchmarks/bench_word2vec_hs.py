"""word2vec with hierarchical softmax (hs=1, negative=0): seqlab vs gensim 4.x in one run.

    python benchmarks/bench_word2vec_hs.py              # 5 epochs, skip-gram and CBOW (long on 2 cores)
    python benchmarks/bench_word2vec_hs.py --epochs 1   # quicker

Skip-gram and CBOW with hierarchical softmax only (a Huffman tree over the vocabulary, Mikolov et
al. 2013), the same settings for both tools (_word2vec_runs.settings with hs=1, negative=0: 100d,
window 5, sample 1e-4, min_count 5, alpha 0.025 skip-gram / 0.05 CBOW, 2 workers) on
gutenberg8 (17M tokens, lines cut at 10,000 tokens, plain text: gensim's corpus_file mode, its
fastest path). Every training runs in its own process; each vectors file is scored on the Google
analogies by the same evaluator (restrict_vocab 30000, case-insensitive). Goal (issue 24): at
least 2x gensim's words/s at no more than 0.5 points less analogy accuracy. Each row records the
load averages before and after it (the machine has 2 cores and is shared). Results:
results/word2vec_hs.{json,md} (or --name).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine_info, write_results  # noqa: E402
from _word2vec_runs import analogy_accuracy, describe, load_averages, plain_corpus, run_child, settings  # noqa: E402


def hs_settings(model: str, epochs: int, seed: int = 1) -> dict:
    return dict(settings(model, epochs, seed=seed), hs=1, negative=0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--models", default="skipgram,cbow", help="comma-separated (default: %(default)s)")
    ap.add_argument("--name", default="word2vec_hs", help="results/<name>.json and .md")
    ap.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[1],
        help="seeds per tool; the goal compares the means (gensim's threads make its runs differ anyway)",
    )
    ap.add_argument(
        "--combine",
        nargs="+",
        metavar="NAME",
        help="train nothing: pool the rows of earlier results/<NAME>.json runs into --name (the means "
        "over all their seeds)",
    )
    args = ap.parse_args(argv)
    if args.combine:
        return combine(args.combine, args.name)

    from seqlab.datasets import dataset_path

    tmp = Path(tempfile.mkdtemp(prefix="bench_w2v_hs_"))
    rows = []
    info = machine_info()
    try:
        plain = tmp / "corpus.txt"
        plain_corpus(dataset_path("word2vec_corpus"), plain)
        for model in args.models.split(","):
            for seed in args.seeds:
                for tool in ("gensim", "seqlab"):  # alternating, each in a fresh process
                    out = tmp / f"{tool}_{model}.bin"
                    row = run_child(tool, plain, hs_settings(model, args.epochs, seed), out)
                    row.update(analogy_accuracy=analogy_accuracy(out), seed=seed)
                    rows.append(row)
                    print(
                        f"[bench] {tool} {model} hs seed {seed}: {row['words_per_sec']:,.0f} words/s, "
                        f"{row['cpu_seconds']:.1f} CPU s, analogy {row['analogy_accuracy']:.2f}%, "
                        f"load {row['load_before']} -> {row['load_after']}",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    result = {
        "machine": info,
        "load_at_end": load_averages(),
        "settings": {m: hs_settings(m, args.epochs) for m in args.models.split(",")},
        "rows": rows,
        "summary": summarize(rows),
    }
    write_results(args.name, result, to_markdown(result))
    print(to_markdown(result))
    return 0


def combine(names: list[str], name: str) -> int:
    """Pool earlier runs' rows (same settings but the seed) into one result with the means over all."""
    runs = [json.loads((RESULTS / f"{n}.json").read_text()) for n in names]
    rows = [dict(r, run=n) for n, run in zip(names, runs) for r in run["rows"]]
    result = {
        "machine": runs[-1]["machine"],
        "combined_from": names,
        "settings": {k: v for run in runs for k, v in run["settings"].items()},
        "rows": rows,
        "summary": summarize(rows),
    }
    write_results(name, result, to_markdown(result))
    print(to_markdown(result))
    return 0


def summarize(rows: list[dict]) -> dict:
    """Per model: the means over seeds of each tool's words/s and analogy accuracy, and the goal."""
    out = {}
    for model in sorted({r["model"] for r in rows}):
        mean = {}
        for tool in ("seqlab", "gensim"):
            mine = [r for r in rows if r["model"] == model and r["tool"] == tool]
            if mine:
                mean[tool] = {
                    k: float(np.mean([r[k] for r in mine])) for k in ("words_per_sec", "analogy_accuracy")
                }
        if {"seqlab", "gensim"} <= set(mean):
            s, g = mean["seqlab"], mean["gensim"]
            out[model] = {
                "seeds": len([r for r in rows if r["model"] == model and r["tool"] == "seqlab"]),
                "seqlab_analogy_mean": s["analogy_accuracy"],
                "gensim_analogy_mean": g["analogy_accuracy"],
                "speedup": s["words_per_sec"] / g["words_per_sec"],
                "analogy_difference": s["analogy_accuracy"] - g["analogy_accuracy"],
                "meets_goal": s["words_per_sec"] >= 2 * g["words_per_sec"]
                and s["analogy_accuracy"] >= g["analogy_accuracy"] - 0.5,
            }
    return out


def to_markdown(r: dict) -> str:
    first = next(iter(r["settings"].values()))
    setup, machine = describe(first, r["machine"])
    setup = setup.replace(f"{first['model']}, ", "").replace(
        f"negative {first['negative']}", "hierarchical softmax (hs=1, negative=0)"
    )
    lines = [
        "# word2vec with hierarchical softmax: seqlab vs gensim",
        "",
        f"gutenberg8 (17.0M tokens); {setup} alpha 0.025 skip-gram, 0.05 CBOW.",
        machine,
        *(
            [f"Pooled from results/{', '.join(r['combined_from'])} (one row per run)."]
            if "combined_from" in r
            else []
        ),
        "",
        "| model | tool | seed | words/s | train s | CPU s | analogy % | load before | load after |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for x in r["rows"]:
        lines.append(
            f"| {x['model']} | {x['tool']} | {x.get('seed', 1)} | {x['words_per_sec']:,.0f} "
            f"| {x['train_seconds']:.1f} "
            f"| {x['cpu_seconds']:.1f} | {x['analogy_accuracy']:.2f} | "
            f"{' '.join(map(str, x['load_before']))} | {' '.join(map(str, x['load_after']))} |"
        )
    lines.append("")
    for model, s in r["summary"].items():
        lines.append(
            f"- {model} (means over {s.get('seeds', 1)} seed(s)): {s['speedup']:.2f}x gensim's words/s, "
            f"analogy {s['seqlab_analogy_mean']:.2f} vs {s['gensim_analogy_mean']:.2f} = "
            f"{s['analogy_difference']:+.2f} "
            f"points (goal: >= 2x at >= -0.5): {'met' if s['meets_goal'] else 'NOT met'}"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
