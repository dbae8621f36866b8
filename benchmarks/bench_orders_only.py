"""A user's orders-only export of ~500 k lines through ``salesperf run``: wall time, peak memory, every report.

Usage::

    .venv/bin/python benchmarks/bench_orders_only.py [--customers 51500] [--seed 0] [--workers 2] [--keep DIR]

Steps: generate the demo company (``salesperf demo --customers N --seed S``; 51,500 customers give about 500 k
order lines), keep only the three required columns of its orders (customer_id, order_date, amount) in one
``orders.csv`` — what a user exporting a bare order list has — and run ``salesperf run --period <last full month>
--data DIR --workers W`` on it in a fresh process. Measured: order lines, wall seconds of the run, peak resident
memory of the run's process tree (the CLI and its kernels, summed, sampled every 0.2 s), exit code. Checked on
what it wrote: each report's status in ``manifest.json`` and on ``index.html``; on every page, no traceback,
warning, "inf"/"nan" or package file path, every section with something in it (a sentence, a table or a chart),
and the one stated line of each section whose data are missing ("No ... in the data: ... left out.").

Prints a markdown table and writes it to benchmarks/results/orders_only.md; exit code 1 when a report failed or
a page check did not pass.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import psutil

RESULTS = Path(__file__).resolve().parent / "results"
SALESPERF = [sys.executable, "-m", "salesperf.cli"]
#: What must never reach a manager's page (checked on the page's text, without the embedded images and styles).
FORBIDDEN = {
    "traceback": re.compile(r"Traceback"),
    "warning": re.compile(r"\w*Warning\b"),
    "inf/nan": re.compile(r"(?<![\w.])(?:inf|nan|NaN)(?![\w.])"),
    "file path": re.compile(r"[\w/]+\.py\b"),
}
#: The stated line of a section whose data are missing ("No targets in the data: Attainment left out.").
MISSING = re.compile(r"^No .+ (?:left out|skipped)\.$")


def last_full_month(today: dt.date) -> str:
    """``YYYY-MM`` of the month before ``today``'s (the demo's data end there)."""
    return (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def orders_only(demo: Path, out: Path) -> int:
    """Write ``out/orders.csv`` with the demo's orders' customer_id, order_date, amount; its line count."""
    out.mkdir(parents=True)
    con = duckdb.connect()
    source = (demo / "orders.parquet").as_posix()
    con.execute(
        f"COPY (SELECT customer_id, order_date, amount FROM read_parquet('{source}')) "
        f"TO '{(out / 'orders.csv').as_posix()}' (HEADER)"
    )
    return int(con.execute(f"SELECT count(*) FROM read_parquet('{source}')").fetchone()[0])


def run_measured(command: list[str], cwd: Path) -> dict:
    """Run ``command`` in a fresh process; wall seconds, peak RSS (MB) of its process tree, exit code, stderr."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        parent, peak = psutil.Process(process.pid), 0
        while process.poll() is None:
            total = 0
            try:
                for member in [parent, *parent.children(recursive=True)]:
                    try:
                        total += member.memory_info().rss
                    except psutil.Error:  # a kernel that ended between listing and reading
                        continue
            except psutil.Error:
                pass
            peak = max(peak, total)
            time.sleep(0.2)
        wall = time.perf_counter() - started
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return {"wall": wall, "rss_mb": peak / 2**20, "exit": process.returncode, "stderr": stderr}


def page_text(page: str) -> str:
    """What a reader sees: the page without styles, scripts and embedded images, tags removed."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"data:[\w/+.-]+;base64,[^\"']*", "", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def check_page(path: Path) -> dict:
    """Sections without content, forbidden words and the stated missing-data lines of one page."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    problems = [
        f"{name}: {m.group(0)!r}" for name, rx in FORBIDDEN.items() for m in rx.finditer(page_text(page))
    ]
    problems += [f"printed {s}" for s in ("stdout", "stderr") if f"application/vnd.jupyter.{s}" in page]
    parts = re.split(r"<h2[^>]*>(.*?)</h2>", page, flags=re.S)
    empty = [
        html.unescape(title)
        for title, body in zip(parts[1::2], parts[2::2], strict=True)
        if not re.search(r"<p\b|<table\b|<img\b|<li\b|<a\b", body)
    ]
    paragraphs = (" ".join(page_text(p).split()) for p in re.findall(r"<p\b.*?</p>", page, flags=re.S))
    sentences = (s for p in paragraphs for s in re.split(r"(?<=\.) (?=No )", p))
    missing = sorted({s for s in sentences if MISSING.match(s)})
    return {"problems": problems + [f"empty section: {t}" for t in empty], "missing": missing}


def check_run(period_dir: Path) -> dict:
    """Statuses of manifest.json and index.html, and :func:`check_page` of every report page."""
    manifest = json.loads((period_dir / "manifest.json").read_text(encoding="utf-8"))
    statuses = {r["instance"]: r["status"] for r in manifest["reports"]}
    index = (period_dir / "index.html").read_text(encoding="utf-8")
    failed_on_index = len(re.findall(r"sp-report sp-failed", index))
    names = ["index", *(n for n in statuses if (period_dir / f"{n}.html").is_file())]
    pages = {name: check_page(period_dir / f"{name}.html") for name in names}
    return {
        "run": manifest["status"],
        "statuses": statuses,
        "failed_on_index": failed_on_index,
        "pages": pages,
    }


def table(row: dict) -> str:
    reports = ", ".join(f"{k} {v}" for k, v in row["check"]["statuses"].items())
    head = [
        "| order lines | customers | wall s | peak RSS MB (process tree) | exit | reports (manifest) | failed on index |",
        "|---:|---:|---:|---:|---:|---|---:|",
    ]
    body = (
        f"| {row['lines']:,} | {row['customers']:,} | {row['wall']:.1f} | {row['rss_mb']:,.0f} | {row['exit']} "
        f"| {reports} | {row['check']['failed_on_index']} |"
    )
    return "\n".join([*head, body])


def pages_table(check: dict) -> str:
    head = ["| page | problems on the page | stated missing-data lines |", "|---|---|---|"]
    body = [
        f"| {name} | {'; '.join(p['problems']) or 'none'} | {'<br>'.join(p['missing']) or '–'} |"
        for name, p in check["pages"].items()
    ]
    return "\n".join(head + body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=51_500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", help="write the data and reports here instead of a temporary folder")
    args = parser.parse_args(argv)
    period = last_full_month(dt.date.today())
    with tempfile.TemporaryDirectory(prefix="bench_orders_only_") as scratch:
        root = Path(args.keep or scratch).resolve()
        root.mkdir(parents=True, exist_ok=True)
        demo = root / "demo"
        subprocess.run(
            [
                *SALESPERF,
                "demo",
                "--customers",
                str(args.customers),
                "--seed",
                str(args.seed),
                "--out",
                str(demo),
            ],
            check=True,
            capture_output=True,
        )
        lines = orders_only(demo, root / "orders_only")
        command = [*SALESPERF, "run", "--period", period, "--data", str(root / "orders_only")]
        command += ["--workers", str(args.workers), "--out", str(root / "reports")]
        load_before = os.getloadavg()[0]
        row = run_measured(command, root)
        load_after = os.getloadavg()[0]
        row.update(lines=lines, customers=args.customers, check=check_run(root / "reports" / period))
    problems = [p for page in row["check"]["pages"].values() for p in page["problems"]]
    ok = row["exit"] == 0 and row["check"]["failed_on_index"] == 0 and not problems
    machine = (
        f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}; "
        f"1-minute load average {load_before:.1f} before and {load_after:.1f} after: other jobs share the "
        "machine and lengthen the wall time"
    )
    text = (
        "# Orders-only export through every report\n\n"
        f"The demo company (`salesperf demo --customers {args.customers:,} --seed {args.seed}`) reduced to what a "
        "bare order export has: one `orders.csv` with customer_id, order_date and amount. "
        f"`salesperf run --period {period} --data DIR --workers {args.workers}` in a fresh process ({machine}); "
        "peak RSS sums the CLI and its kernels, sampled every 0.2 s. Page checks: no traceback, warning, inf/nan or "
        "file path on a page; every section shows a sentence, table or chart; the stated lines of the sections "
        f"whose data are missing are listed. Verdict: {'all reports rendered, pages clean' if ok else 'FAILED'}.\n\n"
        f"{table(row)}\n\n{pages_table(row['check'])}\n"
    )
    print(text)
    if row["exit"] != 0:
        print(row["stderr"][-3000:], file=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "orders_only.md").write_text(text, encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
