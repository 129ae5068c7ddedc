"""Sentence lengths of the CV classification sets, and their majority class: how many sentences
are shorter than Kim's filter widths (3, 4, 5), i.e. get no window from a narrow convolution.

    python benchmarks/sentence_lengths.py        # writes results/sentence_lengths.{json,md}
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seqlab  # noqa: E402
from _common import machine_info, write_results  # noqa: E402


def main() -> None:
    rows = {}
    for name in ("mr", "subj", "cr", "mpqa"):
        texts, labels = seqlab.load_dataset(name).train  # the whole set (CV folds)
        n = np.array([len(t.split()) for t in texts])
        rows[name] = {
            "sentences": int(len(n)),
            "median_words": float(np.median(n)),
            **{f"shorter_than_{h}_pct": float(100 * np.mean(n < h)) for h in (3, 4, 5)},
            "majority_class_pct": float(100 * np.bincount(np.asarray(labels)).max() / len(labels)),
        }
    md = [
        "# Sentence lengths (whitespace words of the texts load_dataset returns) and majority class",
        "",
        "| set | sentences | median words | < 3 words | < 4 | < 5 | majority class |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    md += [
        f"| {k} | {r['sentences']:,} | {r['median_words']:g} | {r['shorter_than_3_pct']:.1f}% | "
        f"{r['shorter_than_4_pct']:.1f}% | {r['shorter_than_5_pct']:.1f}% | {r['majority_class_pct']:.1f}% |"
        for k, r in rows.items()
    ]
    write_results("sentence_lengths", {"sets": rows, "machine": machine_info()}, "\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
