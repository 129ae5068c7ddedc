"""The replica settings probe behind docs/word2vec.md's table "What the settings cost and buy"
(issue 14): seqlab word2vec on gutenberg8, 5 epochs, 2 workers, one fresh process per run, under
each given sync setting, with words/s, CPU seconds and analogy accuracy.

    python benchmarks/probe_word2vec_sync.py cbow hogwild 8192:50000:2000000 4096:100000:2000000
    ROUNDS=2 python benchmarks/probe_word2vec_sync.py skipgram hogwild 8192:50000:2000000

A setting is "hogwild" or HOT_ROWS:SYNC_WORDS:FULL_WORDS (sync="replicas" with sync_hot_rows,
sync_words, sync_full_words; HOT_ROWS equal to the vocabulary merges all rows every round).
Prints one JSON line per run (settings alternate, ROUNDS times); the table in the docs was
written from these lines, on the idle 2-core VM. Not a benchmark against gensim: see
bench_word2vec_speed.py for that.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _word2vec_runs import analogy_accuracy, plain_corpus, run_child, settings  # noqa: E402


def main(argv: list[str]) -> int:
    from seqlab.datasets import dataset_path

    if len(argv) < 2 or argv[0] not in ("cbow", "skipgram"):
        print("usage: probe_word2vec_sync.py cbow|skipgram SETTING [SETTING ...]", file=sys.stderr)
        return 2
    model, variants = argv[0], argv[1:]
    with tempfile.TemporaryDirectory(prefix="probe_w2v_sync_") as tmp:
        plain = Path(tmp) / "corpus.txt"
        plain_corpus(dataset_path("word2vec_corpus"), plain)
        for rnd in range(int(os.environ.get("ROUNDS", "1"))):
            for v in variants:
                cfg = settings(model, 5)
                if v == "hogwild":
                    cfg.update(sync="hogwild")
                else:
                    hot, words, full = (int(x) for x in v.split(":"))
                    cfg.update(sync="replicas", sync_hot_rows=hot, sync_words=words, sync_full_words=full)
                out = Path(tmp) / "v.bin"
                r = run_child("seqlab", plain, cfg, out)
                print(
                    json.dumps(
                        {
                            "model": model,
                            "variant": v,
                            "round": rnd + 1,
                            "words_per_sec": round(r["words_per_sec"]),
                            "cpu_seconds": round(r["cpu_seconds"], 1),
                            "analogy": round(analogy_accuracy(out), 2),
                            "load_before": r["load_before"],
                        }
                    ),
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
