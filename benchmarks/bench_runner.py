"""Per-report overhead of ``salesperf run``: everything a report costs beyond its notebook's own cells.

Usage::

    .venv/bin/python benchmarks/bench_runner.py [--customers 2000] [--copies 5]

Three measurements, each in a fresh Python process so that no import is already paid for:

1. ``empty``: a report set of ``--copies`` copies of a notebook that only declares the common parameters and runs
   one trivial cell, run in English through :func:`salesperf.report.runner.run_period` on one worker. Overhead per
   report = the report's wall time in the run (``seconds`` in the manifest: papermill + rendering + collecting) minus
   the time its cells took (papermill's per-cell ``duration`` in the executed notebook). The target is <= 2 s.
2. ``overview``: the real overview notebook, in English and in Chinese, split the same way; and the rendering of
   its executed notebook timed again, with and without the embedded CJK font subset.
3. the pieces: kernel start (start and stop a python3 kernel with jupyter_client), imports (``papermill``,
   ``nbconvert``, and the report notebooks' setup imports, each in a fresh interpreter), the data snapshot.

Prints a markdown table and writes it to benchmarks/results/runner.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Runs one report set in a fresh process and prints its timings as JSON (argv: data, notebooks dir, set, out, lang).
CHILD_RUN = r"""
import json, sys, time
from datetime import date
t0 = time.perf_counter()
from salesperf.data.catalog import resolve
from salesperf.core.periods import parse_period
from salesperf.report.config import load_report_set
from salesperf.report.runner import run_period
import papermill  # imported lazily by the run's parameter check: counted here, not in the snapshot
imports = time.perf_counter() - t0
data, report_set, out, lang = sys.argv[1:5]
marks = {}
def progress(message):
    marks.setdefault(message.split()[0], time.perf_counter())
t1 = time.perf_counter()
manifest = run_period(resolve(data=data), parse_period("2026-10"), load_report_set(report_set), out, lang=lang,
                      today=date(2026, 11, 27), progress=progress)
end = time.perf_counter()
import nbformat
reports = []
for r in manifest["reports"]:
    nb = nbformat.read(f"{out}/2026-10/{r['notebook']}", as_version=4)
    cells = sum(c.metadata.get("papermill", {}).get("duration") or 0 for c in nb.cells)
    reports.append({"instance": r["instance"], "status": r["status"], "seconds": r["seconds"],
                    "papermill": nb.metadata["papermill"]["duration"], "cells": cells,
                    "setup_cell": max((c.metadata.get("papermill", {}).get("duration") or 0
                                       for c in nb.cells if "page.start(" in c.source), default=0.0)})
last_report_end = marks.get(manifest["reports"][-1]["instance"] + ":", end)
print("BENCH", json.dumps({"imports": imports, "total": end - t1, "snapshot": marks["running"] - t1,
                  "after_reports": end - last_report_end, "reports": reports}))
"""

# Times rendering an executed notebook, with and without the CJK font subset (argv: executed notebook, lang).
CHILD_RENDER = r"""
import json, sys, time
import nbformat
from salesperf.report import render
nb = nbformat.read(sys.argv[1], as_version=4)
lang = sys.argv[2]
render.render_html(nb, "warm-up", lang)
t0 = time.perf_counter(); page = render.render_html(nb, "x", lang); full = time.perf_counter() - t0
real = render.embed_cjk_font
render.embed_cjk_font = lambda page: page
t0 = time.perf_counter(); render.render_html(nb, "x", lang); bare = time.perf_counter() - t0
render.embed_cjk_font = real
t0 = time.perf_counter(); real(page); font = time.perf_counter() - t0
print("BENCH", json.dumps({"render": full, "render_without_font": bare, "font_subset": font}))
"""

CHILD_KERNEL = r"""
import json, time
from jupyter_client.manager import start_new_kernel
times = []
for _ in range(3):
    t0 = time.perf_counter()
    km, kc = start_new_kernel(kernel_name="python3")
    kc.execute_interactive("x = 1", output_hook=lambda msg: None)
    started = time.perf_counter() - t0
    kc.stop_channels(); km.shutdown_kernel(now=True)
    times.append(started)
print("BENCH", json.dumps({"kernel_start": sorted(times)[1]}))
"""

COMMON = {
    "data": '""',
    "period": '""',
    "lang": '"en"',
    "today": '""',
    "output_dir": '""',
    "currency": '"¥"',
    "entity": '""',
}


def _child(code: str, *args) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, cwd=REPO, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{done.stderr[-3000:]}")
    line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith("BENCH "))
    return json.loads(line[len("BENCH ") :])


def _import_seconds(statement: str, repeat: int = 3) -> float:
    """Median wall time of ``python -c STATEMENT`` minus that of ``python -c pass``."""

    def wall(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=REPO)
        return time.perf_counter() - t0

    base = sorted(wall("pass") for _ in range(repeat))[repeat // 2]
    return sorted(wall(statement) for _ in range(repeat))[repeat // 2] - base


def _empty_report_set(folder: Path, copies: int) -> Path:
    import nbformat

    params = nbformat.v4.new_code_cell("\n".join(f"{k}: str = {v}" for k, v in COMMON.items()))
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell("answer = 6 * 7")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "empty.ipynb")
    entries = "".join(f"  empty{i}:\n    notebook: empty.ipynb\n" for i in range(1, copies + 1))
    (folder / "empty.yml").write_text("reports:\n" + entries, encoding="utf-8")
    return folder / "empty.yml"


def _overview_set(folder: Path) -> Path:
    (folder / "overview.yml").write_text(
        f"reports:\n  overview:\n    notebook: {REPO / 'notebooks' / 'overview.ipynb'}\n"
        "    parameters: {top_n: {type: int, default: 10}, months: {type: int, default: 24}}\n",
        encoding="utf-8",
    )
    return folder / "overview.yml"


def _row(label: str, report: dict, extra: str = "") -> str:
    overhead = report["seconds"] - report["cells"]
    kernel = report["papermill"] - report["cells"]
    after = report["seconds"] - report["papermill"]
    return (
        f"| {label} | {report['seconds']:.2f} | {report['cells']:.2f} | {overhead:.2f} | {kernel:.2f} | "
        f"{after:.2f} | {extra} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--copies", type=int, default=5)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench_runner_") as tmp:
        tmp = Path(tmp)
        make_demo = (
            f"from salesperf.data.demo import generate; "
            f"generate({str(tmp / 'demo')!r}, customers={args.customers}, seed=0, end='2026-10-31')"
        )
        subprocess.run([sys.executable, "-c", make_demo], check=True, cwd=REPO)
        empty = _child(CHILD_RUN, tmp / "demo", _empty_report_set(tmp, args.copies), tmp / "out_empty", "en")
        runs = {
            lang: _child(CHILD_RUN, tmp / "demo", _overview_set(tmp), tmp / f"out_{lang}", lang)
            for lang in ("en", "zh")
        }
        renders = {
            lang: _child(CHILD_RENDER, tmp / f"out_{lang}" / "2026-10" / "overview.ipynb", lang)
            for lang in ("en", "zh")
        }
        kernel = _child(CHILD_KERNEL)["kernel_start"]
    imports = {
        "papermill": _import_seconds("import papermill"),
        "nbconvert": _import_seconds("import nbconvert"),
        "jsonschema (via nbformat)": _import_seconds("import jsonschema"),
        "kernel-side setup (salesperf.report.page, charts, overview)": _import_seconds(
            "from salesperf.analyses import overview; from salesperf.report import charts, page"
        ),
    }
    load_after = os.getloadavg()[0]

    head = [
        (
            "| report | wall in run s | own cells s | overhead s | kernel start + papermill s | render + collect s "
            "| note |"
        ),
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    rows = [
        _row(f"empty #{i + 1} (en)", r, "first report pays the runner's lazy imports" if i == 0 else "")
        for i, r in enumerate(empty["reports"])
    ]
    for lang in ("en", "zh"):
        report = runs[lang]["reports"][0]
        rows.append(
            _row(
                f"overview ({lang})",
                report,
                f"of the cells, setup (imports, style, open snapshot) {report['setup_cell']:.2f} s",
            )
        )
    steady = sorted(r["seconds"] - r["cells"] for r in empty["reports"][1:]) or [
        empty["reports"][0]["seconds"]
    ]
    median = steady[len(steady) // 2]
    pieces = [
        "| piece | seconds |",
        "|---|---:|",
        f"| python3 kernel start (start, first reply; median of 3) | {kernel:.2f} |",
        *[f"| import {name} (fresh interpreter) | {sec:.2f} |" for name, sec in imports.items()],
        f"| run: imports of the runner in the parent process | {empty['imports']:.2f} |",
        f"| run: validation + snapshot, {args.customers:,} customers (en run of the empty set) | {empty['snapshot']:.2f} |",
        f"| run: indexes + swap after the last report (en) | {empty['after_reports']:.2f} |",
        (
            f"| run: indexes + swap after the last report (zh, CJK font subset for 2 index pages) | "
            f"{runs['zh']['after_reports']:.2f} |"
        ),
        *[
            f"| render overview.html ({lang}), warm | {renders[lang]['render']:.2f} |"
            for lang in ("en", "zh")
        ],
        f"| of which the CJK font subset (zh) | {renders['zh']['font_subset']:.2f} |",
        f"| render overview.html (zh) without the font subset | {renders['zh']['render_without_font']:.2f} |",
    ]
    machine = (
        f"{platform.node()}, {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    verdict = (
        f"Steady-state overhead per report (empty notebook, 2nd report on): median {median:.2f} s "
        f"(range {min(steady):.2f}-{max(steady):.2f} s) against a target of 2 s: "
        f"**{'met' if median <= 2 else 'missed'}**."
    )
    text = (
        "# Report runner overhead\n\n"
        f"Generated by `benchmarks/bench_runner.py --customers {args.customers} --copies {args.copies}` on {machine}; "
        f"1-minute load average {load_before:.1f} before and {load_after:.1f} after (other jobs on the machine slow "
        "every row alike). Overhead = a report's wall time in `run_period` (papermill + render + collect) minus its "
        "cells' own execution time as papermill recorded it; `kernel start + papermill` = papermill's duration minus "
        "the cells; `render + collect` = the rest (nbconvert HTML, CJK font subset for zh, moving exports).\n\n"
        + "\n".join(head + rows)
        + "\n\n"
        + verdict
        + "\n\n"
        + "\n".join(pieces)
        + "\n"
    )
    print(text)
    results = REPO / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "runner.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
