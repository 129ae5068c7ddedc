"""Speed now vs an older commit, in alternating fresh processes: is a change a regression, or is it
the machine? (The VM's speed drifts by up to ±30% over minutes, so numbers from two sessions do
not compare; alternating A, B, A, B in one run does.)

    python benchmarks/ab_commits.py --old 9473ac9                 # word2vec CBOW, skip-gram, char-LM
    python benchmarks/ab_commits.py --old 9473ac9 --what cbow --rounds 5

The old commit is checked out into a temporary git worktree and imported from there (its own
module paths: before issue 11 the package was flat). What runs, identically on both sides:
  cbow / skipgram  word2vec on gutenberg8 (17M tokens), bench_word2vec's settings, 5 epochs,
                   2 workers: words/s and CPU seconds of training
  lm               the default 2x512 LSTM on Tiny Shakespeare, 30 steps of 64 x 128 (default
                   precision): training chars/s
Results: results/ab_commits.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, write_results  # noqa: E402
from _word2vec_runs import load_averages, settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, tempfile, resource
what, cfg = sys.argv[1], json.loads(sys.argv[2])
from seqlab.datasets import dataset_path
if what in ("cbow", "skipgram"):
    try:
        from seqlab.embeddings.config import Word2VecConfig
        from seqlab.embeddings.word2vec_train import train_word2vec
    except ImportError:
        try:                                                # before word2vec.py held class Word2Vec
            from seqlab.embeddings.config import Word2VecConfig
            from seqlab.embeddings.word2vec import train_word2vec
        except ImportError:                                 # before issue 11: a flat package
            from seqlab.word2vec import Word2VecConfig, train_word2vec
    kv, st = train_word2vec(str(dataset_path("word2vec_corpus")), Word2VecConfig(**cfg),
                            progress=False)
    print(json.dumps({"rate": st["words_per_sec"], "cpu_seconds": st["cpu_seconds"]}))
else:
    try:
        from seqlab.charlm import corpus as lmcorpus
        from seqlab.charlm.train import LMTrainConfig, train_lm
    except ImportError:
        from seqlab import lmcorpus
        from seqlab.train import LMTrainConfig, train_lm
    from seqlab.files import read_text
    corpus = lmcorpus.stream_corpus(read_text(dataset_path("tinyshakespeare")), 0.1)
    c = LMTrainConfig(mode="stream", impl="fused", layers=2, hidden=512, embed=64, batch_size=64,
                      seq_len=128, max_steps=30, eval_every=10**9)
    with tempfile.TemporaryDirectory() as tmp:
        m = train_lm(corpus, c, tmp, show_progress=False)
    print(json.dumps({"rate": m["train_chars_per_sec"], "cpu_seconds": None}))
"""


def run_one(src: Path, what: str) -> dict:
    cfg = settings(what, 5) if what in ("cbow", "skipgram") else {}
    before = load_averages()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, what, json.dumps(cfg)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src)},
        check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return {**r, "load_before": before, "load_after": load_averages()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", required=True, help="the older commit (any git revision)")
    ap.add_argument("--what", default="cbow,skipgram,lm", help="comma-separated: cbow, skipgram, lm")
    ap.add_argument("--rounds", type=int, default=3, help="old/new pairs per item")
    args = ap.parse_args()
    old_rev = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", args.old], capture_output=True, text=True, check=True
    ).stdout.strip()
    info = machine_info()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        wt = Path(tmp) / "old"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(wt), old_rev], check=True
        )
        try:
            sides = {"old": wt / "src", "new": ROOT / "src"}
            for what in args.what.split(","):
                for side in sides:  # warm-up: numba compiles and caches once per tree
                    if what != "lm":
                        run_one(sides[side], what)
                for rnd in range(args.rounds):
                    order = ["old", "new"] if rnd % 2 == 0 else ["new", "old"]
                    for side in order:
                        r = run_one(sides[side], what)
                        rows.setdefault(what, {}).setdefault(side, []).append(r)
                        print(f"[ab] {what} {side} round {rnd + 1}: {r['rate']:,.0f}/s", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(wt)], check=False)
    unit = {"cbow": "words/s", "skipgram": "words/s", "lm": "chars/s"}
    summary = {
        w: {s: statistics.median(r["rate"] for r in rs) for s, rs in sides_.items()}
        for w, sides_ in rows.items()
    }
    md = [
        f"# Speed at {old_rev} (old) vs {info['commit']} (new), alternating fresh processes",
        "",
        f"Machine: {info['cores']} cores ({info['cpu']}), {info['date']}; {args.rounds} rounds per item, "
        "the order alternating; load averages around every run in the JSON.",
        "",
        "| item | unit | old: each run | new: each run | median new / old |",
        "| --- | --- | --- | --- | ---: |",
    ]
    for w, sides_ in rows.items():
        each = {s: ", ".join(f"{r['rate']:,.0f}" for r in rs) for s, rs in sides_.items()}
        md.append(
            f"| {w} | {unit[w]} | {each['old']} | {each['new']} "
            f"| {summary[w]['new'] / summary[w]['old']:.2f} |"
        )
    data = {
        "benchmark": "ab-commits",
        "old": old_rev,
        "new": info["commit"],
        "runs": rows,
        "medians": summary,
        "machine": info,
    }
    write_results("ab_commits", data, "\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
