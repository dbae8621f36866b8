"""The Dask report fan-out: one overview page per rep, on a local pool and on a local Dask cluster.

Usage::

    .venv/bin/python benchmarks/bench_fanout.py [--pages 200] [--customers 20000] [--seed 11]
                                                [--configs pool1 pool2 dask1 dask2]

The demo company has 4 regions of ``SLOTS_PER_REGION`` territories (5: about 30 reps) and no option for more; the
benchmark generates it with more territories per region (the module constant raised in the generating process only,
the smallest number that gives at least 200 reps: 36 with seed 11) and caches it in
``benchmarks/.data/fanout_<customers>_<seed>_<reps>reps/``. ``--pages N`` keeps the first N reps (by rep_id) in a
copy of the reps table and a catalog naming it, so ``--each rep`` renders N pages; the other tables are unchanged.

Each configuration runs ``salesperf run --period 2026-10 --today 2026-11-27 --reports overview --each rep`` in a
fresh process: ``--workers 1``, ``--workers 2``, and ``--scheduler`` pointed at a
``dask.distributed.LocalCluster(n_workers=N, threads_per_worker=1)`` with 1 and 2 workers, started by the benchmark
before the command (its start-up is not in the wall time) and closed after it. Measured: wall time from start to
exit, peak resident memory summed over every process the benchmark started (the CLI, its pool workers, the Dask
nannies and workers, and every notebook kernel; sampled every 0.2 s; the Dask scheduler lives in the benchmark process
and is not counted), validation (from the run's 'validating' line to its 'running' line), and per page the medians of
the runner's seconds split into kernel start + papermill, the setup cell (kernel-side imports, opening the snapshot,
the overview computation), the other cells, and rendering + collecting. Every run must exit 0 with N pages in its
manifest. Prints a markdown report and writes it to benchmarks/results/fanout.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_run import SALESPERF, timed_command

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
PERIOD, TODAY = "2026-10", "2026-11-27"
CONFIGS = {"pool1": ("local pool", 1), "pool2": ("local pool", 2), "dask1": ("Dask", 1), "dask2": ("Dask", 2)}

# Generates the demo company with enough territories for REPS reps (argv: out, customers, seed, reps).
GENERATE = r"""
import datetime as dt, sys
import numpy as np
from salesperf.data.demo import customers as demo_customers, generate, targets
from salesperf.data.demo.timeline import Calendar
out, n, seed, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
slots = 5
while True:  # simulate_org uses the first of generate()'s streams: the same draws as in the real run
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(11)[0])
    targets.SLOTS_PER_REGION = slots
    if len(targets.simulate_org(rng, Calendar(dt.date(2022, 11, 1), dt.date(2026, 10, 31))).rep_ids) >= reps:
        break
    slots += 1
targets.SLOTS_PER_REGION = demo_customers.SLOTS_PER_REGION = slots
generate(out, customers=n, seed=seed, end="2026-10-31")
print(slots)
"""


def company(customers: int, seed: int, reps: int = 200) -> Path:
    """The demo company with at least ``reps`` reps, generated once and cached; its folder."""
    folder = DATA / f"fanout_{customers}_{seed}_{reps}reps"
    if not (folder / "catalog.yml").is_file():
        done = subprocess.run(
            [sys.executable, "-c", GENERATE, str(folder), str(customers), str(seed), str(reps)],
            capture_output=True,
            text=True,
            check=True,
        )
        (folder / "slots.txt").write_text(done.stdout.strip() + "\n", encoding="utf-8")
    return folder


def catalog_for(folder: Path, pages: int) -> Path:
    """A catalog of ``folder`` whose reps table holds only the first ``pages`` reps (by rep_id)."""
    import pyarrow.parquet as pq

    reps = pq.read_table(folder / "reps.parquet").sort_by("rep_id")
    if reps.num_rows < pages:
        raise SystemExit(f"the company in {folder} has {reps.num_rows} reps, fewer than --pages {pages}")
    name = f"reps_first{pages}.parquet"
    if not (folder / name).is_file():
        pq.write_table(reps.slice(0, pages), folder / name)
    catalog = folder / f"catalog_{pages}.yml"
    text = (folder / "catalog.yml").read_text(encoding="utf-8").replace("reps: reps.parquet", f"reps: {name}")
    catalog.write_text(text, encoding="utf-8")
    return catalog


def page_split(reports: Path, manifest: dict) -> dict:
    """Medians over the pages: runner seconds, kernel start + papermill, setup cell, other cells, render."""
    parts = {"seconds": [], "kernel": [], "setup": [], "cells": [], "render": []}
    for r in manifest["reports"]:
        nb = json.loads((reports / r["notebook"]).read_text(encoding="utf-8"))
        durations = [
            (c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0, "".join(c.get("source", "")))
            for c in nb["cells"]
        ]
        cells = sum(d for d, _ in durations)
        setup = sum(d for d, src in durations if "page.start(" in src)
        papermill = nb["metadata"]["papermill"]["duration"]
        parts["seconds"].append(r["seconds"])
        parts["kernel"].append(papermill - cells)
        parts["setup"].append(setup)
        parts["cells"].append(cells - setup)
        parts["render"].append(r["seconds"] - papermill)
    return {k: statistics.median(v) for k, v in parts.items()}


def run_config(config: str, catalog: Path, pages: int) -> dict:
    """One configuration: start its Dask cluster if any, run the fan-out, check the exit code and the pages."""
    kind, workers = CONFIGS[config]
    command = [
        SALESPERF,
        "run",
        "--period",
        PERIOD,
        "--today",
        TODAY,
        "--reports",
        "overview",
        "--each",
        "rep",
        "--catalog",
        str(catalog),
    ]
    cluster, cluster_start = None, 0.0
    if kind == "Dask":
        from distributed import LocalCluster

        t0 = time.perf_counter()
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        cluster_start = time.perf_counter() - t0
        command += ["--scheduler", cluster.scheduler_address]
    else:
        command += ["--workers", str(workers)]
    try:
        with tempfile.TemporaryDirectory(prefix="bench_fanout_") as out:
            run = timed_command([*command, "--out", str(out)])
            reports = Path(out) / PERIOD
            manifest_file = reports / "manifest.json"
            manifest = json.loads(manifest_file.read_text()) if manifest_file.is_file() else {"reports": []}
            ok = [r for r in manifest["reports"] if r["status"] == "ok"]
            if run["code"] != 0 or len(manifest["reports"]) != pages or len(ok) != pages:
                tail = "\n".join(run["log"][-20:])
                raise SystemExit(
                    f"{config}: exit {run['code']}, {len(ok)}/{pages} pages ok in the manifest\n{tail}"
                )
            split = page_split(reports, manifest)
    finally:
        if cluster is not None:
            cluster.close()
    marks = run["marks"]
    return {
        "config": config,
        "kind": kind,
        "workers": workers,
        "cluster_start": cluster_start,
        **run,
        "validation": marks.get("running", float("nan")) - marks.get("validating", 0.0),
        "fanout": run["wall"] - marks.get("running", 0.0),
        "split": split,
        "pages": pages,
    }


def kernel_imports() -> float:
    """Seconds the overview notebook's imports take in a fresh interpreter (bench_runner's measurement)."""
    from bench_runner import _import_seconds

    return _import_seconds(
        "from salesperf.analyses.overview import text; from salesperf.report import charts, page"
    )


def report(rows: list[dict], args: argparse.Namespace, folder: Path, load: tuple, imports: float) -> str:
    """The markdown section: one paragraph, the table, the conclusion."""
    machine = (
        f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}"
    )
    slots = (folder / "slots.txt").read_text().strip() if (folder / "slots.txt").is_file() else "?"
    head = [
        "| configuration | exit | pages | wall s | pages/min | s/page | CLI start s | validation s | fan-out s | pages/min in "
        "fan-out | peak GB | page s (median) | kernel start + papermill s | setup cell s | other cells s | "
        "render + collect s | load before/after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    body = []
    for r in rows:
        s = r["split"]
        label = f"{r['kind']}, {r['workers']} worker{'s' if r['workers'] > 1 else ''}"
        if r["kind"] == "Dask":
            label += f" (cluster start {r['cluster_start']:.1f} s, not in wall)"
        start = r["marks"].get("validating", float("nan"))
        body.append(
            f"| {label} | {r['code']} | {r['pages']} | {r['wall']:.1f} | {60 * r['pages'] / r['wall']:.1f} | "
            f"{r['wall'] / r['pages']:.1f} | {start:.1f} | {r['validation']:.1f} | {r['fanout']:.1f} | "
            f"{60 * r['pages'] / r['fanout']:.1f} | {r['peak_gb']:.2f} | {s['seconds']:.1f} | {s['kernel']:.1f} | "
            f"{s['setup']:.1f} | {s['cells']:.1f} | {s['render']:.1f} | {r['load'][0]:.1f}/{r['load'][1]:.1f} |"
        )
    best = max(rows, key=lambda r: r["pages"] / r["wall"])
    pool2 = next((r for r in rows if r["config"] == "pool2"), None)
    dask2 = next((r for r in rows if r["config"] == "dask2"), None)
    versus = (
        f"; Dask with 2 workers ran at {dask2['wall'] / pool2['wall']:.2f}× the local pool's wall time"
        if pool2 and dask2
        else ""
    )
    conclusion = (
        f"Fastest: {best['kind']} with {best['workers']} worker(s), {60 * best['pages'] / best['wall']:.1f} pages a "
        f"minute ({best['wall'] / best['pages']:.1f} s a page end to end){versus}. On one machine the local pool "
        "(`--workers N`) needs nothing started; `--scheduler` is for spreading the pages over several machines."
    )
    quiet = (
        ""
        if (busiest := max([*load, *(x for r in rows for x in r["load"])])) < 2.5
        else (
            f" The machine was shared (1-minute load up to {busiest:.1f} on 2 cores; the last column says during "
            "which configuration): other jobs slowed the pages of that configuration, so its throughput is a lower "
            "bound of a quiet machine's."
        )
    )
    return (
        "# Per-rep report fan-out (`--each rep`): local pool and Dask\n\n"
        f"`salesperf run --period {PERIOD} --today {TODAY} --reports overview --each rep`, one overview page per rep, "
        f"{args.pages} pages, on the demo company (seed {args.seed}, {args.customers:,} customers, 4 regions of "
        f"{slots} territories instead of 5, i.e. 200 reps; `--pages` keeps the first reps by rep_id), in English, a "
        f"fresh process per configuration ({machine}); 1-minute load average {load[0]:.1f} before and "
        f"{load[1]:.1f} after (per configuration in the last column).{quiet} Wall = the command from start to "
        "exit (a Dask cluster is started before and not counted); CLI start = from start to the run's 'validating' "
        "line (the CLI's imports). Peak GB = the largest sum of resident memory over every process the benchmark "
        "started (CLI, "
        "pool or Dask workers and nannies, notebook kernels), sampled every 0.2 s. Validation = from the run's "
        "'validating' line to its 'running' line (snapshot included); fan-out = from 'running' to exit. Per page "
        "(medians): the runner's seconds for the page, split into kernel start + papermill, the setup cell "
        f"(kernel-side imports — {imports:.1f} s in a fresh interpreter — opening the snapshot and computing the "
        "overview), the other cells, and rendering + collecting. Only the overview is measured: the other reports "
        "of the default set cost 2-4× as much per page (benchmarks/results/run.md) and segmentation and lifecycle "
        "of one rep's ~100 customers say little.\n\n"
        + "\n".join(head + body)
        + "\n\n"
        + conclusion
        + "\n\nReproduce: `.venv/bin/python benchmarks/bench_fanout.py --pages "
        f"{args.pages}` (company cached in benchmarks/.data/).\n"
    )


def main(argv: list[str] | None = None) -> None:
    """Measure the configurations asked for and write benchmarks/results/fanout.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200, help="pages (reps) per run, at most 200")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    args = parser.parse_args(argv)
    folder = company(args.customers, args.seed)
    catalog = catalog_for(folder, args.pages)
    before = os.getloadavg()[0]
    rows = []
    for config in args.configs:
        load = os.getloadavg()[0]
        rows.append(run_config(config, catalog, args.pages) | {"load": (load, os.getloadavg()[0])})
        r = rows[-1]
        print(
            f"{config}: {r['wall']:.1f} s, {r['peak_gb']:.2f} GB, load {os.getloadavg()[0]:.1f}",
            file=sys.stderr,
        )
    text = report(rows, args, folder, (before, os.getloadavg()[0]), kernel_imports())
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "fanout.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
