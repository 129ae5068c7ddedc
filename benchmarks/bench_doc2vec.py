"""Doc2Vec (Paragraph Vector): seqlab vs gensim 4.x in one run, each training in a fresh process.

    python benchmarks/bench_doc2vec.py                 # PV-DBOW and PV-DM mean, 1 epoch each
    python benchmarks/bench_doc2vec.py --epochs 3

The corpus: gutenberg8 (word2vec_corpus, 17M tokens) cut into documents of 200 tokens, one per
line, each tagged by its line number (gensim's corpus_file mode, its fastest path, and seqlab's
corpus_file). The same settings for both tools: 100d, window 5, negative 5, sample 1e-4,
min_count 5, alpha 0.025, 2 workers; PV-DBOW (dm=0, document vectors only) and PV-DM with the
mean (dm=1, dm_mean=1). Speed is corpus words x epochs / the wall time of the `train` call (for
seqlab that includes reading and encoding the documents). Goal (issue 24): at least 2x gensim's
words/s for both. Results: results/doc2vec.{json,md} (or --name).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, write_results  # noqa: E402
from _word2vec_runs import load_averages  # noqa: E402

DOC_TOKENS = 200
MODELS = {"dbow": dict(dm=0), "dm-mean": dict(dm=1, dm_mean=1)}


def settings(model: str, epochs: int) -> dict:
    return dict(
        MODELS[model], vector_size=100, window=5, negative=5, sample=1e-4, min_count=5, alpha=0.025,
        min_alpha=0.0001, epochs=epochs, workers=2, seed=1,
    )  # fmt: skip


def documents_file(out: Path) -> int:
    """gutenberg8 cut into DOC_TOKENS-token documents, one per line; returns the documents."""
    import gzip

    from seqlab.datasets import dataset_path

    n = 0
    with gzip.open(dataset_path("word2vec_corpus"), "rt", encoding="utf-8") as f, open(out, "w") as w:
        for line in f:
            toks = line.split()
            for a in range(0, len(toks), DOC_TOKENS):
                w.write(" ".join(toks[a : a + DOC_TOKENS]) + "\n")
                n += 1
    return n


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(tool: str, corpus: str, cfg: dict) -> dict:
    """One build_vocab + train in this process; the train call is timed."""
    load_before = load_averages()
    if tool == "gensim":
        import logging

        from gensim.models.doc2vec import Doc2Vec

        logging.disable(logging.CRITICAL)
    else:
        from seqlab.embeddings.doc2vec import Doc2Vec
    epochs = cfg.pop("epochs")
    m = Doc2Vec(**cfg, epochs=epochs)
    m.build_vocab(corpus_file=corpus)
    c1, t1 = _cpu(), time.perf_counter()
    m.train(
        corpus_file=corpus, total_words=m.corpus_total_words, total_examples=m.corpus_count, epochs=epochs
    )
    train_s, cpu_s = time.perf_counter() - t1, _cpu() - c1
    return {
        "tool": tool,
        "epochs": epochs,
        "train_seconds": train_s,
        "cpu_seconds": cpu_s,
        "words_per_sec": m.corpus_total_words * epochs / train_s,
        "corpus_words": int(m.corpus_total_words),
        "documents": int(m.corpus_count),
        "vocab_size": len(m.wv),
        "load_before": load_before,
        "load_after": load_averages(),
    }


def run_child(tool: str, corpus: Path, cfg: dict) -> dict:
    arg = json.dumps({"tool": tool, "corpus": str(corpus), "cfg": cfg})
    out = subprocess.run(
        [sys.executable, __file__, "--child", arg], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--models", default="dbow,dm-mean", help="comma-separated (default: %(default)s)")
    ap.add_argument("--name", default="doc2vec", help="results/<name>.json and .md")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench_d2v_"))
    rows, info = [], machine_info()
    try:
        corpus = tmp / "docs.txt"
        documents_file(corpus)
        for model in args.models.split(","):
            for tool in ("gensim", "seqlab"):  # alternating, each in a fresh process
                row = dict(run_child(tool, corpus, settings(model, args.epochs)), model=model)
                rows.append(row)
                print(
                    f"[bench] {tool} {model}: {row['words_per_sec']:,.0f} words/s",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {}
    for model in args.models.split(","):
        by = {r["tool"]: r for r in rows if r["model"] == model}
        ratio = by["seqlab"]["words_per_sec"] / by["gensim"]["words_per_sec"]
        summary[model] = {"speedup": ratio, "meets_goal": ratio >= 2.0}
    result = {"machine": info, "settings": {m: settings(m, args.epochs) for m in args.models.split(",")}}
    result.update(rows=rows, summary=summary, doc_tokens=DOC_TOKENS)
    write_results(args.name, result, to_markdown(result))
    print(to_markdown(result))
    return 0


def to_markdown(r: dict) -> str:
    m, first = r["machine"], r["rows"][0]
    lines = [
        "# Doc2Vec: seqlab vs gensim",
        "",
        f"gutenberg8 cut into {first['documents']:,} documents of {r['doc_tokens']} tokens "
        f"({first['corpus_words']:,} words), corpus_file mode; 100d, window 5, negative 5, sample 1e-4, "
        f"min_count 5, alpha 0.025, {first['epochs']} epoch(s), 2 workers; each row its own process.",
        f"Machine: {m['cores']} cores ({m['cpu']}), commit {m['commit']}, {m['date']}.",
        "",
        "| model | tool | words/s | train s | CPU s | load before | load after |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for x in r["rows"]:
        lines.append(
            f"| {x['model']} | {x['tool']} | {x['words_per_sec']:,.0f} | {x['train_seconds']:.1f} | "
            f"{x['cpu_seconds']:.1f} | {' '.join(map(str, x['load_before']))} | "
            f"{' '.join(map(str, x['load_after']))} |"
        )
    lines.append("")
    for model, s in r["summary"].items():
        verdict = "met" if s["meets_goal"] else "NOT met"
        lines.append(f"- {model}: {s['speedup']:.2f}x gensim's words/s (goal: >= 2x): {verdict}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(**json.loads(sys.argv[2]))))
    else:
        sys.exit(main())
