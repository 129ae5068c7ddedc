"""Why CBOW's speed was bimodal (issue 14): one CBOW epoch of gutenberg8 per fresh process, under
variants that each remove one suspect, in rotating order, with the CPU seconds per word.

    python benchmarks/diag_word2vec_cbow.py              # 6 rounds of 5 variants (~5 min on 2 cores)
    python benchmarks/diag_word2vec_cbow.py --rounds 2

Variants (all seqlab's CBOW kernel, 100d, window 5, negative 5, sample 1e-4, alpha 0.05):
  single          1 thread: the cost of a word with nobody to share cache lines with
  shared-plain    2 threads on plain (V, 100) numpy matrices: 400-byte rows, so the rows of
                  neighbouring ids (the most frequent words) share cache lines; the layout
                  before this change
  shared-padded   2 threads on seqlab's matrices: rows padded to 448 bytes (whole cache lines),
                  2 MiB-aligned, on transparent huge pages
  padded-4k       as shared-padded but on 4 KiB pages (MADV_NOHUGEPAGE): is the page size it?
  private         2 threads, each on its own copy of the matrices: no sharing at all (not a
                  valid training, a probe of what sharing costs)
and, on request (--variants), two single-thread probes of the host:
  churned         6 GiB touched and freed just before the matrices are allocated: memory the
                  guest has just freed is reported to the host (virtio-balloon free page
                  reporting), which takes it back and must map it in again
  l3-neighbour    a second thread streams through 64 MiB during the epoch, evicting the shared L3
CPU ns per word = the threads' CPU seconds / corpus words: it does not grow when other jobs take
turns on the cores, as wall time does, but it does grow with cache-line transfers between the
threads and with TLB misses. Each row also records the vectors' huge-page coverage, the steal
time and this process's context switches during the epoch, the load averages, and (if a C
compiler exists) the round trip of a cache line between CPU 0 and CPU 1 (vcpu_pingpong.c), which
says how far apart the host has put the two vCPUs.
Results: results/word2vec_cbow_diag.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import mmap
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from numba import njit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import machine_info, write_results  # noqa: E402
from _word2vec_runs import load_averages  # noqa: E402

VARIANTS = ("single", "shared-plain", "shared-padded", "padded-4k", "private")
EXTRA = ("churned", "l3-neighbour")  # single-thread probes of the host, run with --variants
D = 100


def matrices(variant: str, V: int):
    """(syn0, syn1, dim) laid out as the variant says, initialised as seqlab does."""
    from seqlab.embeddings.word2vec_train import init_vectors

    syn0, syn1 = init_vectors(V, D, 1)  # seqlab's layout: (V, 112), 2 MiB-aligned, THP
    if variant == "shared-plain":
        return np.ascontiguousarray(syn0[:, :D]), np.ascontiguousarray(syn1[:, :D]), D
    if variant == "padded-4k":
        out = []
        for a in (syn0, syn1):
            buf = mmap.mmap(-1, a.nbytes + (1 << 21))
            raw = np.frombuffer(buf, dtype=np.uint8)
            off = (-raw.ctypes.data) % (1 << 21)
            buf.madvise(mmap.MADV_NOHUGEPAGE, off, a.nbytes)
            b = raw[off : off + a.nbytes].view(np.float32).reshape(a.shape)
            b[:] = a
            out.append(b)
        return out[0], out[1], D
    return syn0, syn1, D


def huge_kib(arrays) -> int:
    """AnonHugePages of the mappings that hold `arrays`."""
    spans = [(a.ctypes.data, a.ctypes.data + a.nbytes) for a in arrays]
    total, inside = 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split(maxsplit=1)[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(x, 16) for x in head.split("-"))
                inside = any(lo < e and s < hi for s, e in spans)
            elif inside and head == "AnonHugePages:":
                total += int(line.split()[1])
    return total


@njit(nogil=True, cache=True)
def _stream(buf):
    """Write one float of every 64-byte line of buf: a neighbour that evicts the caches."""
    s = 0.0
    for i in range(0, buf.shape[0], 16):
        buf[i] += 1.0
        s += buf[i]
    return s


def _churn(gib: int) -> None:
    m = mmap.mmap(-1, gib << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    a = np.frombuffer(m, dtype=np.uint8)
    a[::4096] = 1
    del a
    m.close()


def _steal_jiffies() -> int:
    with open("/proc/stat") as f:
        return int(f.readline().split()[8])


def child(variant: str, encoded: str) -> dict:
    from seqlab.embeddings import word2vec_kernels as K
    from seqlab.embeddings import word2vec_sampling as S
    from seqlab.embeddings.word2vec_train import JOB_WORDS, split_jobs

    z = np.load(encoded)
    ids, starts, counts = z["ids"], z["starts"], z["counts"]
    ids.flags.writeable = starts.flags.writeable = False  # as seqlab passes them
    keep = S.keep_thresholds(S.keep_probabilities(counts, 1e-4))
    thr, alias = S.build_alias_table(counts.astype(np.float64) ** 0.75)
    sig, logsig = K.sigmoid_tables()
    jobs, N = split_jobs(starts, JOB_WORDS), len(ids)
    workers = 1 if variant in ("single",) + EXTRA else 2
    if variant == "churned":
        _churn(6)
        time.sleep(3)  # free page reporting runs about two seconds after pages are freed
    syn0, syn1, dim = matrices(variant, len(counts))
    copies = [(syn0, syn1)] + [
        (syn0.copy(), syn1.copy()) if variant == "private" else (syn0, syn1) for _ in range(workers - 1)
    ]
    counters = np.zeros((workers, 16))
    K.train_cbow_job(
        syn0.copy(),
        syn1.copy(),
        ids,
        starts,
        0,
        1,
        keep,
        thr,
        alias,
        sig,
        logsig,
        5,
        5,
        0.05,
        1e-4,
        0.0,
        float(N),
        np.uint64(1),
        counters[0],
        1,
        dim,
    )  # load the kernel
    lock, nxt, cpu = threading.Lock(), [0], [0.0] * workers

    def work(w):
        a, b = copies[w]
        t = time.thread_time()
        while True:
            with lock:
                j = nxt[0]
                nxt[0] += 1
            if j >= len(jobs):
                break
            lo, hi, pos = jobs[j]
            K.train_cbow_job(
                a,
                b,
                ids,
                starts,
                lo,
                hi,
                keep,
                thr,
                alias,
                sig,
                logsig,
                5,
                5,
                0.05,
                1e-4,
                float(pos),
                float(N),
                np.uint64(j + 1),
                counters[w],
                1,
                dim,
            )
        cpu[w] = time.thread_time() - t

    stop = [False]

    def neighbour():
        big = np.zeros(64 << 18, dtype=np.float32)  # 64 MiB
        while not stop[0]:
            _stream(big)

    load_before, steal0 = load_averages(), _steal_jiffies()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    extra = [threading.Thread(target=neighbour)] if variant == "l3-neighbour" else []
    for th in threads + extra:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    stop[0] = True
    for th in extra:
        th.join()
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "variant": variant,
        "workers": workers,
        "cpu_ns_per_word": sum(cpu) / N * 1e9,
        "words_per_sec": N / wall,
        "wall_seconds": wall,
        "vectors_mib": (syn0.nbytes + syn1.nbytes) / 2**20,
        "vectors_huge_mib": huge_kib([syn0, syn1]) / 1024,
        "steal_jiffies": _steal_jiffies() - steal0,
        "involuntary_switches": ru1.ru_nivcsw - ru0.ru_nivcsw,
        "load_before": load_before,
        "load_after": load_averages(),
    }


def pingpong(exe: Path | None) -> float | None:
    if exe is None:
        return None
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout)["roundtrip_ns"] if out.returncode == 0 else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--name", default="word2vec_cbow_diag")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0

    from seqlab.datasets import dataset_path
    from seqlab.embeddings.corpus import encode_corpus

    variants = args.variants.split(",")
    info = machine_info()
    tmp = Path(tempfile.mkdtemp(prefix="diag_cbow_"))
    rows = []
    try:
        enc = encode_corpus(
            dataset_path("word2vec_corpus"), min_count=5, max_sentence=10_000, storage="memory"
        )
        np.savez(tmp / "enc.npz", ids=enc.ids, starts=enc.starts, counts=enc.counts)
        exe = None
        if shutil.which("cc"):
            exe = tmp / "pingpong"
            built = subprocess.run(
                ["cc", "-O2", "-pthread", str(HERE / "vcpu_pingpong.c"), "-o", str(exe)], capture_output=True
            )
            exe = exe if built.returncode == 0 else None
        for r in range(args.rounds):
            k = r % len(variants)
            for variant in variants[k:] + variants[:k]:  # rotate, so no variant always runs first
                rt = pingpong(exe)
                res = subprocess.run(
                    [sys.executable, __file__, "--child", variant, str(tmp / "enc.npz")],
                    capture_output=True,
                    text=True,
                )
                if res.returncode != 0:
                    raise SystemExit(res.stderr[-3000:])
                row = json.loads(res.stdout.strip().splitlines()[-1])
                row.update(round=r + 1, pingpong_ns=rt)
                rows.append(row)
                print(
                    f"[diag] round {r + 1} {variant}: {row['cpu_ns_per_word']:.0f} CPU ns/word, "
                    f"{row['words_per_sec'] / 1e6:.2f}M words/s, ping-pong {rt} ns, "
                    f"load {row['load_before']}",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {}
    for v in variants:
        cost = [x["cpu_ns_per_word"] for x in rows if x["variant"] == v]
        summary[v] = {
            "runs": len(cost),
            "median_cpu_ns_per_word": statistics.median(cost),
            "min": min(cost),
            "max": max(cost),
        }
    result = {"machine": info, "load_at_end": load_averages(), "rows": rows, "summary": summary}
    write_results(args.name, result, to_markdown(result))
    print(to_markdown(result))
    return 0


def to_markdown(r: dict) -> str:
    m = r["machine"]
    lines = [
        "# CBOW: what one word costs under each variant (fresh process per row)",
        "",
        f"gutenberg8, one CBOW epoch per row. Machine: {m['cores']} cores ({m['cpu']}), commit "
        f"{m['commit']}, {m['date']}. CPU ns/word = the threads' CPU time / words.",
        "",
        "| variant | runs | median CPU ns/word | min | max |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for v, s in r["summary"].items():
        lines.append(
            f"| {v} | {s['runs']} | {s['median_cpu_ns_per_word']:.0f} | {s['min']:.0f} | {s['max']:.0f} |"
        )
    lines += [
        "",
        "| round | variant | CPU ns/word | words/s | vectors on huge pages | steal jiffies | "
        "involuntary switches | ping-pong ns | load before |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for x in r["rows"]:
        lines.append(
            f"| {x['round']} | {x['variant']} | {x['cpu_ns_per_word']:.0f} | {x['words_per_sec']:,.0f} | "
            f"{x['vectors_huge_mib']:.0f} / {x['vectors_mib']:.0f} MiB | {x.get('steal_jiffies', '')} | "
            f"{x.get('involuntary_switches', '')} | {x['pingpong_ns'] or ''} | "
            f"{' '.join(map(str, x['load_before']))} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
