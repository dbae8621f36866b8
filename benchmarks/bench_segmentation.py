"""Benchmark of the customer-segmentation analysis on ~1 M customers / ~10 M order lines.

    .venv/bin/python benchmarks/bench_segmentation.py [--customers 1130000] [--seed 0] [--baseline DIR]

Data: the demo company (salesperf.data.demo.generate; 1.13 M CRM customers give ~10 M order lines), generated once
into benchmarks/.data/ and loaded into a DuckDB file there (like the run's snapshot). The analysis runs in a fresh
child process that opens that file read-only and runs the analysis first, so its peak RSS is the analysis' own
(ru_maxrss of the child, read before the query timings below).

Measured:
* the whole analysis (``segmentation_analysis``: RFM and segments at two dates, status at two dates, ABC and grades,
  features, clusters, profiles, migration, suggestions with holdout, export table), target <= 30 s, <= 2.2 GB RSS;
* ``rfm_sql`` against the same aggregate written directly in DuckDB SQL (best of 7 interleaved runs after a
  warm-up), target <= 1.5x; and, for scale, ``customer_base_sql`` (every per-customer aggregate of both dates: RFM,
  status, growth windows, features) against the same hand-written RFM (best of 3 interleaved runs).

Wall time depends on what else runs on the machine, so the process CPU time (all threads, DuckDB's included) is
reported too, with the 1-minute load average before and after. ``--baseline DIR`` runs the same worker a second time
with DIR first on the Python path (e.g. a checkout of the previous version: ``git worktree add DIR <commit>``) on the
same data, and adds a before/after table.

Prints a markdown table and writes it to benchmarks/results/segmentation.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
RESULTS = HERE / "results" / "segmentation.md"
AS_OF, PREVIOUS, BEFORE_PREVIOUS = "2026-10-31", "2026-09-30", "2026-08-31"  # October, September, August
REPEAT = 7
TABLES = ("orders", "customers", "opportunities", "activities", "feedback")

HAND_WRITTEN_RFM = f"""
    SELECT customer_id,
           date_diff('day', max(order_date) FILTER (WHERE amount > 0 AND status = 'completed'),
                     DATE '{AS_OF}') AS recency,
           count(DISTINCT order_date) FILTER (WHERE amount > 0 AND status = 'completed') AS frequency,
           sum(amount) AS monetary,
           min(order_date) FILTER (WHERE amount > 0 AND status = 'completed') AS first_purchase,
           max(order_date) FILTER (WHERE amount > 0 AND status = 'completed') AS last_purchase
    FROM orders
    WHERE order_date <= DATE '{AS_OF}' AND status <> 'cancelled'
    GROUP BY customer_id
    HAVING count(*) FILTER (WHERE amount > 0 AND status = 'completed') > 0
"""


def prepare(customers: int, seed: int) -> Path:
    """Generate the demo company (cached) and load it into a DuckDB file; return the file."""
    import duckdb

    from salesperf.data.demo import generate

    # The cache is keyed by the generator's source too: a changed demo company is generated afresh.
    sources = sorted((HERE.parent / "salesperf" / "data" / "demo").glob("*.py"))
    version = hashlib.sha1(b"".join(p.read_bytes() for p in sources)).hexdigest()[:8]
    folder = DATA / f"segmentation-demo-{customers}-{seed}-{version}"
    db = DATA / f"segmentation-{customers}-{seed}-{version}.duckdb"
    if db.exists():
        return db
    if not (folder / "truth.json").exists():
        print(f"generating the demo company with {customers:,} customers into {folder} ...", flush=True)
        generate(folder, customers=customers, seed=seed, end=AS_OF)
    con = duckdb.connect(str(db))
    for table in TABLES:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{folder / (table + '.parquet')}')")
    con.execute("CHECKPOINT")
    con.close()
    return db


def worker(db: str) -> None:
    """Child process: run and time the analysis; print one JSON line."""
    import inspect

    import duckdb

    import salesperf.analyses.segmentation as seg

    con = duckdb.connect(db, read_only=True)
    lines, customers = con.execute("SELECT count(*), count(DISTINCT customer_id) FROM orders").fetchone()
    crm = con.execute("SELECT count(*) FROM customers").fetchone()[0]
    source = con  # the queries' engine: the embedded one over the same connection, or it for a tree before engines
    if "engine" in inspect.signature(seg.rfm_sql).parameters:
        from salesperf.data.engine import embedded

        source = embedded(con)

    def timed(fn):
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    def run_hand():
        return con.execute(HAND_WRITTEN_RFM).df()

    def run_ours():
        return seg.rfm_sql(source, AS_OF)

    timings: dict[str, float] = {}
    cpu_timings: dict[str, float] = {}
    extra = {"cpu_timings": cpu_timings} if "cpu_timings" in inspect.signature(seg.segmentation_analysis).parameters \
        else {}
    load_before = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    result = seg.segmentation_analysis(source, AS_OF, PREVIOUS, BEFORE_PREVIOUS, timings=timings, **extra)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2  # KiB on Linux: the analysis' own
    load_after = os.getloadavg()[0]
    run_hand(), run_ours()  # warm-up
    pairs = [(timed(run_hand), timed(run_ours)) for _ in range(REPEAT)]  # interleaved: same machine load
    hand, ours = min(p[0] for p in pairs), min(p[1] for p in pairs)
    base_ratio = None
    if hasattr(seg, "customer_base_sql"):
        runs = [(timed(run_hand), timed(lambda: seg.customer_base_sql(source, AS_OF, PREVIOUS, BEFORE_PREVIOUS))) for _ in range(3)]
        base_ratio = min(b for _, b in runs) / min(h for h, _ in runs)
    print(json.dumps({
        "lines": lines, "buyers": customers, "crm_customers": crm, "hand_rfm": hand, "rfm_sql": ours,
        "base_ratio": base_ratio, "total": total, "cpu": cpu, "sections": timings, "cpu_sections": cpu_timings,
        "load_before": load_before, "load_after": load_after,
        "k": result.clusters.k if result.clusters else None,
        "stability": result.clusters.stability if result.clusters else None,
        "hit_rate": result.suggestion_evaluation.hit_rate if result.suggestion_evaluation else None,
        "popularity_hit_rate": (result.suggestion_evaluation.popularity_hit_rate
                                if result.suggestion_evaluation else None),
        "export_rows": len(result.customers),
        "peak_gb": peak_gb,
    }))


def run_worker(db: Path, pythonpath: str | None = None) -> dict:
    """Run :func:`worker` in a fresh process (optionally with ``pythonpath`` first) and return its JSON line."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([pythonpath, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    child = subprocess.run([sys.executable, __file__, "--worker", str(db)], capture_output=True, text=True,
                           check=False, env=env)
    if child.returncode != 0:
        sys.exit(child.stderr)
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_130_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline", help="also run this code tree (put first on PYTHONPATH) for a before/after table")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    db = prepare(args.customers, args.seed)
    stats = run_worker(db)
    before = run_worker(db, args.baseline) if args.baseline else None
    ratio = stats["rfm_sql"] / stats["hand_rfm"]
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    rows = [
        ("Whole segmentation analysis (wall)", f"{stats['total']:.1f} s", "<= 30 s",
         "yes" if stats["total"] <= 30 else "no"),
        ("Whole segmentation analysis (CPU, all threads)", f"{stats['cpu']:.1f} s", "", ""),
        ("Peak RSS of the analysis process", f"{stats['peak_gb']:.2f} GB", "<= 2.2 GB",
         "yes" if stats["peak_gb"] <= 2.2 else "no"),
        ("rfm_sql (best of 7)", f"{stats['rfm_sql']:.2f} s", "", ""),
        ("Same aggregate, hand-written DuckDB SQL (best of 7)", f"{stats['hand_rfm']:.2f} s", "", ""),
        ("rfm_sql / hand-written", f"{ratio:.2f}x", "<= 1.5x", "yes" if ratio <= 1.5 else "no"),
    ]
    if stats["base_ratio"] is not None:
        rows.append(("customer_base_sql (both dates, every section) / hand-written RFM",
                     f"{stats['base_ratio']:.2f}x", "", ""))
    rows += [(f"  section: {name}", f"{sec:.1f} s wall, {stats['cpu_sections'].get(name, float('nan')):.1f} s CPU",
              "", "") for name, sec in stats["sections"].items()]
    table = ["| measure | value | target | met |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    text = [
        "# Segmentation benchmark",
        "",
        (f"Data: demo company, seed {args.seed}: {stats['crm_customers']:,} CRM customers, {stats['buyers']:,} buyers, "
         f"{stats['lines']:,} order lines; as of {AS_OF}, previous period end {PREVIOUS}. Machine: {machine}; "
         f"1-minute load average {stats['load_before']:.1f} before and {stats['load_after']:.1f} after the "
         f"analysis (other jobs on the machine slow wall time; CPU time is what the analysis itself spent)."),
        (f"Clusters: k = {stats['k']}, bootstrap stability (ARI) {stats['stability']:.2f}. Suggestions hit rate at 3: "
         f"{stats['hit_rate']:.3f} vs popularity {stats['popularity_hit_rate']:.3f}. Export rows: "
         f"{stats['export_rows']:,}."),
        "",
        *table,
    ]
    if before:
        text += ["", ("Before / after on the same data and machine, run one after the other (before = the code tree "
                      "given with `--baseline`):"), "",
                 "| measure | before | after |", "|---|---:|---:|",
                 f"| whole analysis, wall | {before['total']:.1f} s | {stats['total']:.1f} s |",
                 f"| whole analysis, CPU | {before['cpu']:.1f} s | {stats['cpu']:.1f} s |",
                 f"| peak RSS | {before['peak_gb']:.2f} GB | {stats['peak_gb']:.2f} GB |",
                 f"| rfm_sql / hand-written | {before['rfm_sql'] / before['hand_rfm']:.2f}x | {ratio:.2f}x |"]
        for name in dict.fromkeys([*before["sections"], *stats["sections"]]):
            old, new = before["sections"].get(name), stats["sections"].get(name)
            old_cpu, new_cpu = before["cpu_sections"].get(name), stats["cpu_sections"].get(name)
            text.append(f"| section: {name} (wall, CPU) | {'' if old is None else f'{old:.1f} s, {old_cpu:.1f} s'} | "
                        f"{'' if new is None else f'{new:.1f} s, {new_cpu:.1f} s'} |")
    text += ["", "Reproduce: `.venv/bin/python benchmarks/bench_segmentation.py` (data cached in benchmarks/.data/).", ""]
    text = "\n".join(text)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
