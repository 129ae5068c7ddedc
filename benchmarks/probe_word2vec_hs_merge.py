"""Probes of the hs replica merge (issue 24): skip-gram, hs=1, negative=0, 5 epochs, on gutenberg8 with
bench_word2vec_hs.py's settings, seqlab only, analogy accuracy per variant (one fresh process each).

    python benchmarks/probe_word2vec_hs_merge.py

Variants: the default (overlap merge on syn1), the overlap merge on every matrix, rounds of 10,000
words, all rows merged every 200,000 words, one worker (no merge at all) on seeds 1-3, Hogwild on
seed 2. sync="replicas" repeats bit for bit, so one run per setting is exact; Hogwild does not.
Results: results/word2vec_hs_merge_probes.{json,md}.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, write_results  # noqa: E402
from _word2vec_runs import analogy_accuracy, plain_corpus, settings  # noqa: E402

VARIANTS = [  # (label, seed, config overrides, module overrides)
    ("overlap merge on syn1 (the default)", 1, {}, {}),
    ("overlap merge on every matrix", 1, {}, {"all": 1}),
    ("rounds of 10,000 words", 1, {"sync_words": 10_000}, {"JOB_WORDS": 10_000}),
    ("all rows merged every 200,000 words", 1, {"sync_full_words": 200_000}, {}),
    ("one worker", 1, {"workers": 1}, {}),
    ("one worker", 2, {"workers": 1}, {}),
    ("one worker", 3, {"workers": 1}, {}),
    ("sync=hogwild", 2, {"sync": "hogwild"}, {}),
]


def child(corpus: str, seed: int, over: dict, module: dict, out: str) -> dict:
    import seqlab.embeddings.word2vec_kernels as K
    import seqlab.embeddings.word2vec_train as T
    from seqlab.embeddings.config import Word2VecConfig

    if module.pop("all", None):
        K.merge_replicas = K.merge_replicas_overlap
    for k, v in module.items():
        setattr(T, k, v)
    cfg = dict(settings("skipgram", 5, seed=seed), hs=1, negative=0, **over)
    kv, st = T.train_word2vec(corpus, Word2VecConfig(**cfg), progress=False)
    kv.save_word2vec_format(out, binary=True)
    return {"words_per_sec": st["words_per_sec"], "sync": st["sync"], "workers": st["workers"]}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(*json.loads(sys.argv[2]))))
        return 0
    from seqlab.datasets import dataset_path

    tmp = Path(tempfile.mkdtemp(prefix="probe_hs_"))
    corpus = tmp / "corpus.txt"
    plain_corpus(dataset_path("word2vec_corpus"), corpus)
    rows = []
    for label, seed, over, module in VARIANTS:
        out = tmp / "v.bin"
        arg = json.dumps([str(corpus), seed, over, dict(module), str(out)])
        res = subprocess.run(
            [sys.executable, __file__, "--child", arg], capture_output=True, text=True, check=True
        )
        row = dict(json.loads(res.stdout.strip().splitlines()[-1]), variant=label, seed=seed)
        row["analogy_accuracy"] = analogy_accuracy(out)
        rows.append(row)
        print(f"[probe] {label}, seed {seed}: {row['analogy_accuracy']:.2f}%", file=sys.stderr, flush=True)
    md = [
        "# word2vec hs merge probes: skip-gram, 5 epochs, analogy accuracy (seqlab only)",
        "",
        "| variant | seed | sync | workers | analogy % | words/s |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    md += [
        f"| {r['variant']} | {r['seed']} | {r['sync']} | {r['workers']} | {r['analogy_accuracy']:.2f} "
        f"| {r['words_per_sec']:,.0f} |"
        for r in rows
    ]
    info = machine_info()
    md.append(f"\nMachine: {info['cpu']}, {info['cores']} cores, {info['date']}.")
    write_results("word2vec_hs_merge_probes", {"machine": info, "rows": rows}, "\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
