"""Execute the lecture notebooks top to bottom and write their outputs back, so that what is
committed is what the code produces.

    python tools/run_notebooks.py                      # every notebooks/*.ipynb
    python tools/run_notebooks.py notebooks/03-*.ipynb # some of them
    python tools/run_notebooks.py --check              # execute, report, write nothing back

Each notebook runs in a fresh kernel with the notebook's own folder as working directory (as
Jupyter runs it, so `../benchmarks/results` is found) and with SEQLAB_CACHE pointed at a new
temporary folder unless --keep-cache is given: what the notebook trains into the seqlab cache
(the names model) is trained again, so the outputs show a first run. The notebooks themselves
write nothing but temporary folders and that cache. SEQLAB_DATA must be set or the data folder
found next to the checkout, as for everything else.

The seconds each notebook took are printed (stderr) and kept in its metadata
(`metadata.seqlab`: execution_seconds and the CPU count). A notebook that fails (or times out) is
reported and left as it was; the exit status is 1 when any failed or took longer than its budget.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BUDGET_SECONDS = 240  # the contract: each notebook in at most 4 minutes on 2 cores


def execute(path: Path, timeout: float = 2 * BUDGET_SECONDS) -> tuple[nbformat.NotebookNode, float]:
    """The notebook at `path` executed from a clean kernel in its own folder, and the seconds it
    took. `timeout` bounds each cell. Raises nbclient's CellExecutionError on the first error."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    ap.add_argument("--check", action="store_true", help="execute only; write nothing back")
    ap.add_argument("--keep-cache", action="store_true", help="use the seqlab cache as set, not a new one")
    ap.add_argument("--timeout", type=float, default=2 * BUDGET_SECONDS, help="seconds per cell")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    failed = []
    for path in paths:
        with tempfile.TemporaryDirectory(prefix="seqlab-nb-cache-") as cache:
            if not args.keep_cache:
                os.environ["SEQLAB_CACHE"] = cache
            try:
                nb, seconds = execute(path, args.timeout)
            except (CellExecutionError, CellTimeoutError) as e:  # report; leave the file as it was
                print(f"{path.name}: FAILED\n{e}", file=sys.stderr)
                failed.append(path.name)
                continue
        nb.metadata["seqlab"] = {
            "execution_seconds": round(seconds, 1),
            "cpus": os.cpu_count(),
        }
        if not args.check:
            nbformat.write(nb, path)
        flag = "" if seconds <= BUDGET_SECONDS else f"  (over the {BUDGET_SECONDS} s budget)"
        print(f"{path.name}: {seconds:.0f} s{flag}", file=sys.stderr)
        if seconds > BUDGET_SECONDS:
            failed.append(path.name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
