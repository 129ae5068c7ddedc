"""word2vec past RAM: peak memory and words/s with the encoded corpus on disk vs in memory, on
gutenberg8 (17M tokens) and on a generated corpus COPIES times larger (default 20: ~340M tokens),
with gensim in the same run.

    python benchmarks/bench_word2vec_scale.py                  # CBOW, 1 epoch (~15 min on 2 cores)
    python benchmarks/bench_word2vec_scale.py --copies 2       # quicker

The big corpus is gutenberg8 repeated, each copy in its own shuffled line order, written as plain
text under --tmp-dir (2 GB for 20 copies; deleted at the end), never in the repository. Every
training runs in its own process, so peak RSS (ru_maxrss) is its own; gensim reads the same file
in corpus_file mode. seqlab runs twice per corpus: corpus_storage "disk" (a memory-mapped id file)
and "memory" (one int32 array). Goals (issue 14): peak RSS under 1.5 GiB on the ~340M-token
corpus, and words/s there within 10% of the in-memory path. Load averages are recorded with every
row (2 shared cores). Results: results/word2vec_scale.{json,md}.
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
from _word2vec_runs import describe, load_averages, plain_corpus, run_child, settings  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=20, help="size of the big corpus in gutenberg8s")
    ap.add_argument("--model", choices=("cbow", "skipgram"), default="cbow")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--tmp-dir", default=None, help="where the corpora go (default: the system's)")
    ap.add_argument("--no-gensim", action="store_true")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="seqlab disk/memory pairs per corpus, alternating (medians compared)",
    )
    ap.add_argument("--name", default="word2vec_scale", help="results/<name>.json and .md")
    args = ap.parse_args(argv)

    from seqlab.datasets import dataset_path

    tmp = Path(tempfile.mkdtemp(prefix="bench_w2v_scale_", dir=args.tmp_dir))
    info = machine_info()
    rows = []
    cfg = settings(args.model, args.epochs)
    try:
        for name, copies in (("gutenberg8", 1), (f"gutenberg8 x{args.copies}", args.copies)):
            path = tmp / f"corpus_x{copies}.txt"
            tokens = plain_corpus(dataset_path("word2vec_corpus"), path, copies=copies)
            runs = [("seqlab", "disk"), ("seqlab", "memory")] * args.repeat
            runs += [] if args.no_gensim else [("gensim", None)]
            for tool, storage in runs:
                row = run_child(tool, path, cfg, storage=storage or "auto")
                row.update(corpus=name, corpus_tokens=tokens, corpus_bytes=path.stat().st_size)
                rows.append(row)
                print(
                    f"[bench] {name} {tool} {storage or ''}: {row['words_per_sec']:,.0f} words/s, "
                    f"peak {row['peak_rss_mib']:,.0f} MiB, {row['total_seconds']:.0f} s end to end, "
                    f"load {row['load_before']} -> {row['load_after']}",
                    file=sys.stderr,
                    flush=True,
                )
            path.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "machine": info,
        "load_at_end": load_averages(),
        "settings": cfg,
        "copies": args.copies,
        "rows": rows,
        "summary": summarize(rows),
    }
    write_results(args.name, result, to_markdown(result))
    print(to_markdown(result))
    return 0


def summarize(rows: list[dict]) -> dict:
    """Per corpus: peak RSS (the largest of the repeats) and words/s (the median)."""
    out = {}
    for corpus in dict.fromkeys(r["corpus"] for r in rows):

        def pick(tool, storage, corpus=corpus):
            return [
                r for r in rows if r["corpus"] == corpus and r["tool"] == tool and r["storage"] == storage
            ]

        disk, mem, gen = pick("seqlab", "disk"), pick("seqlab", "memory"), pick("gensim", None)
        wps = {
            k: statistics.median(r["words_per_sec"] for r in v)
            for k, v in (("disk", disk), ("memory", mem), ("gensim", gen))
            if v
        }
        s = {
            "tokens": disk[0]["corpus_tokens"],
            "runs_per_storage": len(disk),
            "disk_peak_rss_gib": max(r["peak_rss_mib"] for r in disk) / 1024,
            "memory_peak_rss_gib": max(r["peak_rss_mib"] for r in mem) / 1024,
            "disk_words_per_sec": wps["disk"],
            "memory_words_per_sec": wps["memory"],
            "disk_over_memory_words_per_sec": wps["disk"] / wps["memory"],
        }
        if gen:
            s["gensim_peak_rss_gib"] = gen[0]["peak_rss_mib"] / 1024
            s["disk_over_gensim_words_per_sec"] = wps["disk"] / wps["gensim"]
        out[corpus] = s
    return out


def to_markdown(r: dict) -> str:
    setup, machine = describe(r["settings"], r["machine"])
    lines = [
        "# word2vec past RAM: the encoded corpus on disk vs in memory, and gensim",
        "",
        f"{setup} The big corpus is gutenberg8 x{r['copies']}, each copy in its own shuffled line order.",
        machine,
        "",
        "| corpus | tokens | tool | corpus storage | peak RSS MiB | words/s | train s | end-to-end s "
        "| load before | load after |",
        "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for x in r["rows"]:
        lines.append(
            f"| {x['corpus']} | {x['corpus_tokens'] / 1e6:.1f}M | {x['tool']} | {x['storage'] or ''} | "
            f"{x['peak_rss_mib']:,.0f} | {x['words_per_sec']:,.0f} | {x['train_seconds']:.1f} | "
            f"{x['total_seconds']:.1f} | {' '.join(map(str, x['load_before']))} | "
            f"{' '.join(map(str, x['load_after']))} |"
        )
    lines.append("")
    for corpus, q in r["summary"].items():
        line = (
            f"- {corpus}: disk peak RSS {q['disk_peak_rss_gib']:.2f} GiB (memory path "
            f"{q['memory_peak_rss_gib']:.2f} GiB); disk words/s = {q['disk_over_memory_words_per_sec']:.2f}x "
            f"the in-memory path (medians of {q['runs_per_storage']})"
        )
        if "disk_over_gensim_words_per_sec" in q:
            line += f", {q['disk_over_gensim_words_per_sec']:.2f}x gensim's"
        lines.append(line)
    lines.append("- goals on the big corpus: peak RSS < 1.5 GiB, disk words/s >= 0.9x in-memory")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
