"""The whole monthly report set a user waits for, on demo companies S (10 k), M (100 k) and L (1 M customers).

Usage::

    .venv/bin/python benchmarks/bench_run.py [--sizes 10000 100000 1000000] [--seed 11] [--workers 2]

For each size: the demo company is generated once into ``benchmarks/.data/run_<customers>/`` (reused later), then
``salesperf run --period <last month of the data> --workers 2`` runs in a fresh process, exactly as a user types it.
Measured: wall time of that command, peak resident memory of its whole process tree (the CLI, the pool workers and
every notebook kernel, sampled every 0.2 s and summed), and where the time goes: validation (from the run's own
progress lines), each report's seconds (from the manifest) and the slowest notebook cells (papermill's per-cell
durations). The peer, timed in the same run on the same files: DuckDB alone reading the orders Parquet and
aggregating it per customer and month, the floor any run has to pay once.

Targets (issue "A run at every size"): M within 60 s, L within 180 s, peak memory of the tree within 6 GB at L.
Prints a markdown report and writes it to benchmarks/results/run.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
TARGETS = {100_000: ("wall", 60.0), 1_000_000: ("wall", 180.0)}
MEMORY_TARGET_GB = {1_000_000: 6.0}
SALESPERF = str(Path(sys.executable).with_name("salesperf"))

PEER = """
import sys, time, duckdb
t = time.perf_counter()
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
n = con.execute(
    "SELECT count(*) FROM (SELECT customer_id, date_trunc('month', order_date) AS m, sum(amount) AS revenue, "
    "count(DISTINCT order_id) AS orders FROM read_parquet(?) GROUP BY ALL)", [sys.argv[1]]
).fetchone()[0]
print(time.perf_counter() - t, n)
"""


def company(customers: int, seed: int) -> Path:
    """The demo company of that size, generated once and cached."""
    folder = DATA / f"run_{customers}_{seed}"
    if not (folder / "catalog.yml").is_file():
        subprocess.run(
            [SALESPERF, "demo", "--customers", str(customers), "--seed", str(seed), "--out", str(folder)],
            check=True,
            capture_output=True,
        )
    return folder


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a kernel may end between listing and reading
            total += p.memory_info().rss
    return total


def started_tree_rss() -> int:
    """Resident memory summed over every process this benchmark started (and their descendants)."""
    return sum(_tree_rss(child) for child in psutil.Process().children())


def timed_command(command: list[str]) -> dict:
    """Run ``command`` in a fresh process: wall time, peak RSS of all started processes (sampled every 0.2 s),
    progress marks (s since start, by the first word of each ``salesperf:`` line), exit code and log."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], started_tree_rss())
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    marks, lines = {}, []
    for line in child.stdout:
        lines.append(line.rstrip())
        marks.setdefault(line.removeprefix("salesperf: ").split(" ")[0].rstrip(":"), time.perf_counter() - started)
    code = child.wait()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    return {"wall": wall, "peak_gb": peak[0] / 1e9, "code": code, "marks": marks, "log": lines}


def timed_run(catalog: Path, period: str, out: Path, workers: int) -> dict:
    """``salesperf run`` of the whole report set, timed by :func:`timed_command`."""
    command = [SALESPERF, "run", "--period", period, "--catalog", str(catalog), "--workers", str(workers)]
    return timed_command([*command, "--out", str(out)])


def slowest_cells(folder: Path, n: int = 3) -> list[tuple[str, float, str]]:
    """The ``n`` slowest cells over the executed notebooks: (report, seconds, first source line)."""
    cells = []
    for notebook in sorted(folder.glob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            seconds = cell.get("metadata", {}).get("papermill", {}).get("duration") or 0.0
            source = "".join(cell.get("source", "")).strip().splitlines()
            cells.append((notebook.stem, seconds, source[0][:70] if source else ""))
    return sorted(cells, key=lambda c: -c[1])[:n]


def timeline(folder: Path, manifest: dict) -> list[tuple[str, float, float, float, float]]:
    """Per report, in start order: (report, start, end in s since the first report started, its setup cell's
    seconds (kernel-side imports, opening the snapshot, computing the analysis), its other cells' seconds)."""
    reports = manifest.get("reports", [])
    if not reports:
        return []
    first = min(datetime.fromisoformat(r["started"]) for r in reports)
    rows = []
    for r in reports:
        notebook = folder / f"{r['instance']}.ipynb"
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"] if notebook.is_file() else []
        seconds = [
            c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0
            for c in cells
            if c["cell_type"] == "code" and "parameters" not in c.get("metadata", {}).get("tags", [])
            and "injected-parameters" not in c.get("metadata", {}).get("tags", [])
        ]
        start = (datetime.fromisoformat(r["started"]) - first).total_seconds()
        end = (datetime.fromisoformat(r["ended"]) - first).total_seconds()
        rows.append((r["instance"], start, end, seconds[0] if seconds else 0.0, sum(seconds[1:])))
    return sorted(rows, key=lambda row: row[1])


def measure(customers: int, seed: int, workers: int) -> dict:
    folder = company(customers, seed)
    lines = int(
        subprocess.run(
            [sys.executable, "-c", "import sys, pyarrow.parquet as pq; "
             "print(pq.ParquetFile(sys.argv[1]).metadata.num_rows)", str(folder / "orders.parquet")],
            capture_output=True, text=True, check=True,
        ).stdout
    )
    period = (json.loads((folder / "truth.json").read_text())["end"])[:7]
    with tempfile.TemporaryDirectory(prefix="bench_run_") as out:
        run = timed_run(folder / "catalog.yml", period, Path(out), workers)
        reports = Path(out) / period
        manifest = json.loads((reports / "manifest.json").read_text()) if (reports / "manifest.json").is_file() else {}
        cells = slowest_cells(reports)
        steps = timeline(reports, manifest)
    peer = subprocess.run([sys.executable, "-c", PEER, str(folder / "orders.parquet")], capture_output=True,
                          text=True, check=True).stdout.strip().splitlines()[-1].split()
    return {
        "customers": customers,
        "lines": lines,
        "period": period,
        **run,
        "validation": run["marks"].get("running", float("nan")) - run["marks"].get("validating", 0.0),
        "reports": {r["instance"]: (r["status"], r["seconds"]) for r in manifest.get("reports", [])},
        "errors": {r["instance"]: r["error"] for r in manifest.get("reports", []) if r.get("error")},
        "cells": cells,
        "timeline": steps,
        "peer": float(peer[0]),
    }


def report(rows: list[dict], seed: int, workers: int, load: tuple[float, float]) -> str:
    machine = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}"
    head = [
        "| customers | order lines | wall s | target | met | peak tree GB | validation s | reports (s) | "
        "DuckDB orders scan s (peer) | exit |",
        "|---:|---:|---:|---|---|---:|---:|---|---:|---:|",
    ]
    body = []
    for r in rows:
        kind, limit = TARGETS.get(r["customers"], ("", None))
        mem = MEMORY_TARGET_GB.get(r["customers"])
        target = (f"<= {limit:.0f} s" if limit else "") + (f", <= {mem:.0f} GB" if mem else "")
        met = "" if not limit else ("yes" if r["wall"] <= limit and (not mem or r["peak_gb"] <= mem) else "no")
        per = ", ".join(f"{k} {s:.0f}" + ("" if st == "ok" else f" ({st})") for k, (st, s) in r["reports"].items())
        body.append(
            f"| {r['customers']:,} | {r['lines']:,} | {r['wall']:.1f} | {target} | {met} | {r['peak_gb']:.2f} | "
            f"{r['validation']:.1f} | {per} | {r['peer']:.2f} | {r['code']} |"
        )
    errors = [f"- {r['customers']:,} customers, {name}: {err}" for r in rows for name, err in r["errors"].items()]
    cells = [
        f"- {r['customers']:,} customers: " + "; ".join(f"{nb} {s:.1f} s `{src}`" for nb, s, src in r["cells"])
        for r in rows
    ]
    steps = ["| customers | report | start s | end s | setup cell s | other cells s | kernel + render s |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        for name, start, end, setup, other in r["timeline"]:
            steps.append(f"| {r['customers']:,} | {name} | {start:.0f} | {end:.0f} | {setup:.1f} | {other:.1f} | "
                         f"{max(end - start - setup - other, 0):.1f} |")
    return (
        "# The whole monthly report set (`salesperf run`)\n\n"
        f"`salesperf run --period <last month> --workers {workers}` on the demo company (seed {seed}), every report of "
        f"the default set in English, a fresh process per size ({machine}); 1-minute load average {load[0]:.1f} "
        f"before and {load[1]:.1f} after (other jobs on the machine slow wall time). Peak tree GB = the largest sum "
        "of resident memory over the CLI, its pool workers and every notebook kernel, sampled every 0.2 s. "
        "Validation = from the run's 'validating' line to its 'running' line (snapshot included). Reports run two "
        "at a time, so their seconds add up to more than the wall time. The peer is DuckDB alone aggregating the "
        "orders file per customer and month.\n\n"
        + "\n".join(head + body)
        + ("\n\nFailed reports:\n\n" + "\n".join(errors) if errors else "")
        + "\n\nWhere the time goes: each report's place in the run (seconds since the first report started; "
        "two workers), its setup cell (kernel-side imports, opening the snapshot and computing the analysis: "
        "the analysis's own cost), its other cells (tables, charts, sentences) and the rest (kernel start, "
        "papermill, rendering the page; timestamps are whole seconds).\n\n"
        + "\n".join(steps)
        + "\n\nSlowest notebook cells (papermill's durations):\n\n"
        + "\n".join(cells)
        + "\n\nReproduce: `.venv/bin/python benchmarks/bench_run.py` (companies cached in benchmarks/.data/).\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    before = os.getloadavg()[0]
    rows = []
    for size in args.sizes:
        rows.append(measure(size, args.seed, args.workers))
        print(f"{size:>9,} customers: {rows[-1]['wall']:.1f} s, {rows[-1]['peak_gb']:.2f} GB", file=sys.stderr)
    text = report(rows, args.seed, args.workers, (before, os.getloadavg()[0]))
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "run.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
