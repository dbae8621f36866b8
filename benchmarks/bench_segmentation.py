"""Benchmark of the customer-segmentation analysis on ~1 M customers / ~10 M order lines.

    .venv/bin/python benchmarks/bench_segmentation.py [--customers 1130000] [--seed 0]

Data: the demo company (salesperf.data.demo.generate; 1.13 M CRM customers give ~10 M order lines), generated once
into benchmarks/.data/ and loaded into a DuckDB file there (like the run's snapshot). The analysis runs in a fresh
child process that opens that file read-only, so its peak RSS is the analysis' own (ru_maxrss of the child).

Measured:
* the whole analysis (``segmentation_analysis``: RFM and segments at two dates, status at two dates, ABC and grades,
  features, clusters, profiles, migration, suggestions with holdout, export table), target <= 30 s, <= 4 GB RSS;
* ``rfm_sql`` against the same aggregate written directly in DuckDB SQL (best of 7 interleaved runs after a
  warm-up), target <= 1.5x.

Prints a markdown table and writes it to benchmarks/results/segmentation.md.
"""

from __future__ import annotations

import argparse
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
AS_OF, PREVIOUS = "2026-10-31", "2026-09-30"
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

    folder = DATA / f"segmentation-demo-{customers}-{seed}"
    db = DATA / f"segmentation-{customers}-{seed}.duckdb"
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
    import duckdb

    from salesperf.segmentation import rfm_sql, segmentation_analysis

    con = duckdb.connect(db, read_only=True)
    lines, customers = con.execute("SELECT count(*), count(DISTINCT customer_id) FROM orders").fetchone()
    crm = con.execute("SELECT count(*) FROM customers").fetchone()[0]

    def timed(fn):
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    def run_hand():
        return con.execute(HAND_WRITTEN_RFM).df()

    def run_ours():
        return rfm_sql(con, AS_OF)

    run_hand(), run_ours()  # warm-up
    pairs = [(timed(run_hand), timed(run_ours)) for _ in range(REPEAT)]  # interleaved: same machine load
    hand, ours = min(p[0] for p in pairs), min(p[1] for p in pairs)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    result = segmentation_analysis(con, AS_OF, PREVIOUS, timings=timings)
    total = time.perf_counter() - start
    print(json.dumps({
        "lines": lines, "buyers": customers, "crm_customers": crm, "hand_rfm": hand, "rfm_sql": ours,
        "total": total, "sections": timings, "k": result.clusters.k if result.clusters else None,
        "stability": result.clusters.stability if result.clusters else None,
        "hit_rate": result.suggestion_evaluation.hit_rate if result.suggestion_evaluation else None,
        "popularity_hit_rate": (result.suggestion_evaluation.popularity_hit_rate
                                if result.suggestion_evaluation else None),
        "export_rows": len(result.customers),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_130_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    db = prepare(args.customers, args.seed)
    child = subprocess.run([sys.executable, __file__, "--worker", str(db)], capture_output=True, text=True,
                           check=False)
    if child.returncode != 0:
        sys.exit(child.stderr)
    stats = json.loads(child.stdout.strip().splitlines()[-1])
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2  # KiB on Linux
    ratio = stats["rfm_sql"] / stats["hand_rfm"]
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    rows = [
        ("Whole segmentation analysis (wall)", f"{stats['total']:.1f} s", "<= 30 s",
         "yes" if stats["total"] <= 30 else "no"),
        ("Peak RSS of the analysis process", f"{peak_gb:.2f} GB", "<= 4 GB", "yes" if peak_gb <= 4 else "no"),
        ("rfm_sql (best of 7)", f"{stats['rfm_sql']:.2f} s", "", ""),
        ("Same aggregate, hand-written DuckDB SQL (best of 7)", f"{stats['hand_rfm']:.2f} s", "", ""),
        ("rfm_sql / hand-written", f"{ratio:.2f}x", "<= 1.5x", "yes" if ratio <= 1.5 else "no"),
    ]
    rows += [(f"  section: {name}", f"{sec:.1f} s", "", "") for name, sec in stats["sections"].items()]
    table = ["| measure | value | target | met |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    text = "\n".join([
        "# Segmentation benchmark",
        "",
        (f"Data: demo company, seed {args.seed}: {stats['crm_customers']:,} CRM customers, {stats['buyers']:,} buyers, "
        f"{stats['lines']:,} order lines; as of {AS_OF}, previous period end {PREVIOUS}. Machine: {machine}."),
        (f"Clusters: k = {stats['k']}, bootstrap stability (ARI) {stats['stability']:.2f}. Suggestions hit rate at 3: "
        f"{stats['hit_rate']:.3f} vs popularity {stats['popularity_hit_rate']:.3f}. Export rows: "
        f"{stats['export_rows']:,}."),
        "",
        *table,
        "",
        "Reproduce: `.venv/bin/python benchmarks/bench_segmentation.py` (data cached in benchmarks/.data/).",
        "",
    ])
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
