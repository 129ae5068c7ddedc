"""word2vec speed in one run: seqlab CBOW several times in a row (is every run in the fast mode?),
gensim CBOW before and after them, and skip-gram against gensim.

    python benchmarks/bench_word2vec_speed.py              # 5 epochs, 5 CBOW runs (~15 min on 2 cores)
    python benchmarks/bench_word2vec_speed.py --epochs 1   # quicker
    python benchmarks/bench_word2vec_speed.py --hogwild    # each CBOW run beside one with sync=hogwild

Goals (issue 14): CBOW over 5 consecutive runs, the slowest at least 0.8x the fastest and the
median at least 3x gensim's CBOW; skip-gram at least 2.9x gensim's. Every training runs in its own
process on gutenberg8 (17M tokens, lines cut at 10,000 tokens, plain text: gensim's corpus_file
mode, its fastest path), with identical settings (_word2vec_runs.settings), 2 workers. Each row
records the load averages before and after it: the machine has 2 cores and is shared, so a row
with a load above ~2.5 measures other people's jobs as much as ours. Analogy accuracy is scored
for every run (seqlab's evaluator, gensim's numbers). Results: results/word2vec_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, write_results  # noqa: E402
from _word2vec_runs import analogy_accuracy, describe, load_averages, plain_corpus, run_child, settings  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--runs", type=int, default=5, help="consecutive seqlab CBOW runs")
    ap.add_argument(
        "--gensim-runs",
        type=int,
        default=2,
        help="gensim CBOW runs, split before and after seqlab's (default: %(default)s)",
    )
    ap.add_argument("--skipgram", type=int, default=1, help="skip-gram runs per tool (0: none)")
    ap.add_argument(
        "--hogwild",
        action="store_true",
        help="after each seqlab CBOW run (the default sync, replicas) run one with "
        "sync=hogwild, the shared-vectors training it replaced",
    )
    ap.add_argument("--name", default="word2vec_speed", help="results/<name>.json and .md")
    args = ap.parse_args(argv)

    from seqlab.datasets import dataset_path

    tmp = Path(tempfile.mkdtemp(prefix="bench_w2v_speed_"))
    rows = []
    info = machine_info()
    try:
        plain = tmp / "corpus.txt"
        plain_corpus(dataset_path("word2vec_corpus"), plain)

        def run(tool, model, label, **extra):
            out = tmp / f"{tool}_{model}.bin"
            row = run_child(tool, plain, dict(settings(model, args.epochs), **extra), out)
            row.update(label=label, analogy_accuracy=analogy_accuracy(out), **extra)
            rows.append(row)
            print(
                f"[bench] {label}: {row['words_per_sec']:,.0f} words/s, {row['cpu_seconds']:.1f} CPU s, "
                f"analogy {row['analogy_accuracy']:.2f}%, load {row['load_before']} -> {row['load_after']}",
                file=sys.stderr,
                flush=True,
            )

        before = (args.gensim_runs + 1) // 2
        for i in range(before):
            run("gensim", "cbow", f"gensim cbow #{i + 1}")
        for i in range(args.runs):
            run("seqlab", "cbow", f"seqlab cbow #{i + 1}")
            if args.hogwild:
                run("seqlab", "cbow", f"seqlab cbow hogwild #{i + 1}", sync="hogwild")
        for i in range(before, args.gensim_runs):
            run("gensim", "cbow", f"gensim cbow #{i + 1}")
        for i in range(args.skipgram):
            run("seqlab", "skipgram", f"seqlab skipgram #{i + 1}")
            run("gensim", "skipgram", f"gensim skipgram #{i + 1}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    result = {
        "machine": info,
        "load_at_end": load_averages(),
        "settings": settings("cbow", args.epochs),
        "rows": rows,
        "summary": summarize(rows),
    }
    write_results(args.name, result, to_markdown(result))
    print(to_markdown(result))
    return 0


def summarize(rows: list[dict]) -> dict:
    def wps(tool, model, sync=None):
        return [
            r["words_per_sec"]
            for r in rows
            if r["tool"] == tool and r["model"] == model and r.get("sync") == sync
        ]

    out: dict = {}
    cbow, g_cbow = wps("seqlab", "cbow"), wps("gensim", "cbow")
    if cbow:
        out["cbow"] = {
            "runs": len(cbow),
            "fastest": max(cbow),
            "slowest": min(cbow),
            "median": statistics.median(cbow),
            "slowest_over_fastest": min(cbow) / max(cbow),
        }
        if g_cbow:
            out["cbow"]["gensim_median"] = statistics.median(g_cbow)
            out["cbow"]["median_over_gensim"] = statistics.median(cbow) / statistics.median(g_cbow)
    hog = wps("seqlab", "cbow", "hogwild")
    if hog:
        out["cbow_hogwild"] = {
            "runs": len(hog),
            "fastest": max(hog),
            "slowest": min(hog),
            "median": statistics.median(hog),
            "slowest_over_fastest": min(hog) / max(hog),
        }
        if g_cbow:
            out["cbow_hogwild"]["median_over_gensim"] = statistics.median(hog) / statistics.median(g_cbow)
    sg, g_sg = wps("seqlab", "skipgram"), wps("gensim", "skipgram")
    if sg and g_sg:
        out["skipgram"] = {
            "median": statistics.median(sg),
            "gensim_median": statistics.median(g_sg),
            "over_gensim": statistics.median(sg) / statistics.median(g_sg),
        }
    return out


def to_markdown(r: dict) -> str:
    setup, machine = describe(r["settings"], r["machine"])
    lines = [
        "# word2vec speed: consecutive CBOW runs, and both models against gensim",
        "",
        f"gutenberg8 (17.0M tokens); {setup}",
        machine,
        "",
        "| run | words/s | train s | CPU s | analogy % | load before | load after |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for x in r["rows"]:
        lines.append(
            f"| {x['label']} | {x['words_per_sec']:,.0f} | {x['train_seconds']:.1f} "
            f"| {x['cpu_seconds']:.1f} | "
            f"{x['analogy_accuracy']:.2f} | {' '.join(map(str, x['load_before']))} | "
            f"{' '.join(map(str, x['load_after']))} |"
        )
    lines.append("")
    c = r["summary"].get("cbow")
    if c:
        lines.append(
            f"- CBOW, {c['runs']} runs: slowest {c['slowest']:,.0f}, fastest {c['fastest']:,.0f} words/s: "
            f"slowest/fastest {c['slowest_over_fastest']:.2f} (goal >= 0.8)"
        )
        if "median_over_gensim" in c:
            lines.append(
                f"- CBOW median {c['median']:,.0f} words/s = {c['median_over_gensim']:.2f}x gensim's "
                f"median {c['gensim_median']:,.0f} (goal >= 3)"
            )
    h = r["summary"].get("cbow_hogwild")
    if h:
        lines.append(
            f"- CBOW with sync=hogwild, {h['runs']} runs: slowest {h['slowest']:,.0f}, fastest "
            f"{h['fastest']:,.0f} words/s (slowest/fastest {h['slowest_over_fastest']:.2f}), median "
            f"{h['median']:,.0f}"
            + (f" = {h['median_over_gensim']:.2f}x gensim's" if "median_over_gensim" in h else "")
        )
    g = r["summary"].get("skipgram")
    if g:
        lines.append(
            f"- skip-gram {g['median']:,.0f} words/s = {g['over_gensim']:.2f}x gensim's "
            f"{g['gensim_median']:,.0f} (goal >= 2.9)"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
