"""`make bench`: run every benchmark script, then gather their result tables into BENCHMARKS.md.

Each ``bench_*.py`` prints a markdown table and writes it to ``benchmarks/results/<name>.md``; this script runs them in
turn (``--only NAME`` to run one, ``--collect`` to only rebuild BENCHMARKS.md from existing results).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["run", "demo", "import", "segmentation", "cohorts", "clv", "runner", "orders_only", "fanout", "forecast", "reps"]


def collect() -> Path:
    parts = [
        "# Benchmarks\n",
        (f"Written by `make bench` (benchmarks/run_all.py) on {date.today()}; {platform.machine()}, "
        f"{len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}. Each section comes from "
        "`benchmarks/results/<name>.md`, produced by `benchmarks/bench_<name>.py`, which states its sizes, wall time, "
        "peak memory and peers. Wall times on a shared 2-core machine vary with its load; compare rows of one run.\n"),
    ]
    for name in ORDER + sorted(p.stem for p in (HERE / "results").glob("*.md") if p.stem not in ORDER):
        result = HERE / "results" / f"{name}.md"
        if result.is_file():
            text = result.read_text(encoding="utf-8").strip()
            parts.append("\n" + text.replace("\n# ", "\n## ").replace("# ", "## ", 1) + "\n")
    target = HERE.parent / "BENCHMARKS.md"
    target.write_text("".join(parts), encoding="utf-8")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="run one benchmark (demo, import, segmentation, cohorts, clv, runner)")
    parser.add_argument("--collect", action="store_true", help="only rebuild BENCHMARKS.md from existing results")
    args = parser.parse_args()
    failed = []
    if not args.collect:
        for name in [args.only] if args.only else ORDER:
            script = HERE / f"bench_{name}.py"
            if not script.is_file():
                continue
            print(f"== {script.name}", flush=True)
            if subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False).returncode != 0:
                failed.append(name)
    print(collect())
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
