"""What the word2vec benchmarks share: the plain-text corpus both tools read, one training per
subprocess (so peak RSS is that training's own), and the load averages around every timing.

A child prints one JSON line: train_seconds, total_seconds (reading and vocabulary included),
cpu_seconds (training), words_per_sec (corpus tokens x epochs / training seconds, the number gensim
logs), corpus_words, vocab_size, peak_rss_mib (ru_maxrss of the child), load_before / load_after
(the 1/5/15-minute load averages, as `uptime` prints them).
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAX_SENTENCE = 10_000  # gensim's maximum sentence; seqlab cuts lines at the same length


def load_averages() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def plain_corpus(gz: str | Path, out: Path, copies: int = 1, seed: int = 0) -> int:
    """Write `gz` as plain text with lines cut at 10,000 tokens; with copies > 1, that many
    copies, each in its own shuffled line order (a bigger corpus with the same statistics).
    Returns the number of tokens written."""
    import random

    with gzip.open(gz, "rt", encoding="utf-8") as f:
        lines = []
        for line in f:
            toks = line.split()
            lines += [" ".join(toks[a : a + MAX_SENTENCE]) + "\n" for a in range(0, len(toks), MAX_SENTENCE)]
    tokens = sum(line.count(" ") + 1 for line in lines) * copies
    rng = random.Random(seed)
    with open(out, "w", encoding="utf-8") as g:
        for c in range(copies):
            order = list(range(len(lines)))
            if c:
                rng.shuffle(order)
            g.writelines(lines[i] for i in order)
    return tokens


def settings(model: str, epochs: int, workers: int = 2, seed: int = 1) -> dict:
    """The settings both tools get (bench_word2vec.py's): 100d, window 5, negative 5, sample
    1e-4, min_count 5, alpha 0.025 skip-gram / 0.05 CBOW."""
    return dict(
        model=model,
        vector_size=100,
        window=5,
        negative=5,
        sample=1e-4,
        min_count=5,
        epochs=epochs,
        workers=workers,
        seed=seed,
        alpha=0.025 if model == "skipgram" else 0.05,
        min_alpha=1e-4,
    )


def describe(s: dict, m: dict) -> tuple[str, str]:
    """The settings line and the machine line that head a results table."""
    return (
        f"{s['model']}, 100d, window {s['window']}, negative {s['negative']}, sample {s['sample']}, "
        f"min_count {s['min_count']}, {s['epochs']} epoch(s), {s['workers']} workers; "
        "each row its own process.",
        f"Machine: {m['cores']} cores ({m['cpu']}), commit {m['commit']}, {m['date']}. Load averages "
        "(1/5/15 min) before and after each row; above ~2.5 on 2 cores, other jobs shared the CPUs.",
    )


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(tool: str, corpus: str, cfg: dict, out: str | None, storage: str = "auto") -> dict:
    """One training in this process (see the module doc for the fields)."""
    load_before = load_averages()
    t0 = time.perf_counter()
    if tool == "gensim":
        import logging

        from gensim.models import Word2Vec

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
            hs=cfg.get("hs", 0),
        )
        m.build_vocab(corpus_file=corpus)  # corpus_file mode: gensim's fastest path
        c1, t1 = _cpu(), time.perf_counter()
        m.train(corpus_file=corpus, total_words=m.corpus_total_words, epochs=cfg["epochs"])
        train_s, cpu_s = time.perf_counter() - t1, _cpu() - c1
        words, vocab = m.corpus_total_words, len(m.wv)
        if out:
            m.wv.save_word2vec_format(out, binary=True)
    else:
        from seqlab.embeddings.config import Word2VecConfig
        from seqlab.embeddings.word2vec_train import train_word2vec

        kv, st = train_word2vec(corpus, Word2VecConfig(**cfg, corpus_storage=storage), progress=False)
        train_s, cpu_s, words, vocab = st["seconds"], st["cpu_seconds"], st["corpus_words"], len(kv)
        if out:
            kv.save_word2vec_format(out, binary=True)
    return {
        "tool": tool,
        "model": cfg["model"],
        "storage": storage if tool == "seqlab" else None,
        "epochs": cfg["epochs"],
        "train_seconds": train_s,
        "total_seconds": time.perf_counter() - t0,
        "cpu_seconds": cpu_s,
        "words_per_sec": words * cfg["epochs"] / train_s,
        "corpus_words": int(words),
        "vocab_size": int(vocab),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_before": load_before,
        "load_after": load_averages(),
    }


def run_child(
    tool: str, corpus: str | Path, cfg: dict, out: str | Path | None = None, storage: str = "auto"
) -> dict:
    """`child` in a fresh Python process; its JSON as a dict."""
    cmd = [
        sys.executable,
        str(HERE / "_word2vec_runs.py"),
        "--child",
        json.dumps(
            {
                "tool": tool,
                "corpus": str(corpus),
                "cfg": cfg,
                "out": str(out) if out else None,
                "storage": storage,
            }
        ),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{tool} {cfg['model']} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def analogy_accuracy(vectors: str | Path) -> float:
    """Google analogies, case-insensitive, restrict_vocab 30000 (seqlab's evaluator, which gives
    gensim's numbers question for question), in %."""
    from seqlab.embeddings.benchmark import evaluate_vectors

    return 100.0 * evaluate_vectors(str(vectors), similarity=())["analogy.accuracy"]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(**json.loads(sys.argv[2]))))
