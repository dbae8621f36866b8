"""Time the demo company generator at 10k / 100k / 1M customers (Parquet) and write a markdown table.

Each size runs in its own Python process so its peak resident memory is its own. Usage::

    .venv/bin/python benchmarks/bench_demo.py [--sizes 10000 100000 1000000] [--seed 0]

Prints the table and writes it to benchmarks/results/demo.md. The target is 1,000,000 customers (about
10 million order lines) in at most 2 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
import pandas, pyarrow.parquet as pq  # imported before the clock starts: pyarrow loads pandas on first use
from salesperf.data import demo
customers, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
started = time.perf_counter()
demo.generate(out, customers=customers, seed=seed)
wall = time.perf_counter() - started
lines = pq.ParquetFile(f"{out}/orders.parquet").metadata.num_rows
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"customers": customers, "lines": lines, "wall": wall, "rss_mb": rss_mb}))
"""


def run(customers: int, seed: int) -> dict:
    """Generate one company in a child process: customers, order lines, wall seconds, peak RSS (MB)."""
    with tempfile.TemporaryDirectory(prefix="bench_demo_") as out:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(customers), str(seed), out],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    head = ["| customers | order lines | wall s | peak RSS MB |", "|---:|---:|---:|---:|"]
    body = [f"| {r['customers']:,} | {r['lines']:,} | {r['wall']:.1f} | {r['rss_mb']:,.0f} |" for r in rows]
    return "\n".join(head + body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes:
        rows.append(run(size, args.seed))
        print(f"{size:>9,} customers: {rows[-1]['wall']:.1f} s", file=sys.stderr)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    text = (
        f"# Demo company generator benchmark\n\n`generate(out, customers=N, seed={args.seed})`, Parquet, "
        f"one process per size, imports excluded ({machine}).\n\n{table(rows)}\n"
    )
    print(table(rows))
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    (results / "demo.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
