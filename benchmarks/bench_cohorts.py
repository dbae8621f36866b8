"""Benchmark: cohort activity tables via salesperf.analyses.lifecycle vs the same query hand-written in DuckDB SQL.

Target: ``cohort_activity_sql`` (an engine-neutral Ibis query, run on the embedded DuckDB engine) within 1.5x of the
hand-written query on 10 M order lines, peak memory <= 4 GB.

Data: the demo company (``salesperf.data.demo.generate``) with enough customers for ~10 M order lines, generated once
into ``benchmarks/.data/`` (in a child process, so its memory does not count here). Both sides query the same DuckDB
table ``orders`` loaded from the parquet file; each is run ``--repeats`` times, interleaved, and the median wall time
and the median CPU time of the process (all DuckDB threads; steadier than wall time when other jobs share the
machine) are reported. The results must agree (same cohorts, ages, counts and revenue) before any time is written.

    .venv/bin/python benchmarks/bench_cohorts.py [--customers 1050000] [--repeats 5]

Writes benchmarks/results/cohorts.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from salesperf.analyses import lifecycle
from salesperf.data.engine import embedded

ROOT = Path(__file__).resolve().parent
AS_OF = "2026-10-31"
MEMORY_LIMIT = "4GB"

# The hand-written baseline: what an analyst would type in DuckDB for the same long frame.
HAND_SQL = """
WITH first_purchase AS (
    SELECT customer_id, date_trunc('{grain}', min(order_date)) AS cohort
    FROM orders
    WHERE amount > 0 AND status NOT IN ('returned', 'cancelled') AND order_date <= DATE '{as_of}'
    GROUP BY customer_id
),
activity AS (
    SELECT customer_id, date_trunc('{grain}', order_date) AS period,
           max(CASE WHEN amount > 0 AND status <> 'returned' THEN 1 ELSE 0 END) AS purchased,
           sum(amount) AS revenue_net,
           sum(CASE WHEN amount > 0 AND status <> 'returned' THEN amount ELSE 0 END) AS revenue_gross
    FROM orders
    WHERE status <> 'cancelled' AND order_date <= DATE '{as_of}'
    GROUP BY ALL
)
SELECT f.cohort, date_diff('{grain}', f.cohort, a.period) AS age, sum(a.purchased) AS customers,
       sum(a.revenue_net) AS revenue_net, sum(a.revenue_gross) AS revenue_gross
FROM activity a JOIN first_purchase f USING (customer_id)
WHERE a.period >= f.cohort
GROUP BY ALL
ORDER BY 1, 2
"""

HAND_SQL_BY_CHANNEL = """
WITH first_day AS (
    SELECT customer_id, min(order_date) AS first_date
    FROM orders
    WHERE amount > 0 AND status NOT IN ('returned', 'cancelled') AND order_date <= DATE '{as_of}'
    GROUP BY customer_id
),
first_channel AS (
    SELECT o.customer_id, date_trunc('{grain}', f.first_date) AS cohort, arg_max(o.channel, o.amount) AS channel
    FROM orders o JOIN first_day f ON o.customer_id = f.customer_id AND o.order_date = f.first_date
    WHERE o.amount > 0 AND o.status NOT IN ('returned', 'cancelled')
    GROUP BY ALL
),
activity AS (
    SELECT customer_id, date_trunc('{grain}', order_date) AS period,
           max(CASE WHEN amount > 0 AND status <> 'returned' THEN 1 ELSE 0 END) AS purchased,
           sum(amount) AS revenue_net,
           sum(CASE WHEN amount > 0 AND status <> 'returned' THEN amount ELSE 0 END) AS revenue_gross
    FROM orders
    WHERE status <> 'cancelled' AND order_date <= DATE '{as_of}'
    GROUP BY ALL
)
SELECT f.channel, f.cohort, date_diff('{grain}', f.cohort, a.period) AS age, sum(a.purchased) AS customers,
       sum(a.revenue_net) AS revenue_net, sum(a.revenue_gross) AS revenue_gross
FROM activity a JOIN first_channel f USING (customer_id)
WHERE a.period >= f.cohort
GROUP BY ALL
ORDER BY 1, 2, 3
"""

CASES = [  # label, grain, by, hand-written SQL
    ("monthly cohorts", "month", None, HAND_SQL),
    ("quarterly cohorts", "quarter", None, HAND_SQL),
    ("monthly cohorts by first-order channel", "month", "channel", HAND_SQL_BY_CHANNEL),
]


def ensure_data(customers: int) -> Path:
    folder = ROOT / ".data" / f"demo-{customers // 1000}k"
    if not (folder / "orders.parquet").exists():
        print(f"generating the demo company with {customers:,} customers into {folder} ...", flush=True)
        code = ("import sys; from salesperf.data.demo import generate; "
                "generate(sys.argv[1], customers=int(sys.argv[2]), seed=0, end=sys.argv[3])")
        subprocess.run([sys.executable, "-c", code, str(folder), str(customers), AS_OF], check=True)
    return folder


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: kilobytes


def same_result(function_frame: pd.DataFrame, hand: pd.DataFrame, grain: str, by: str | None) -> None:
    """The function's frame (zero-filled grid, labels) restricted to active cells must equal the hand query."""
    keys = ([by] if by else []) + ["cohort", "age"]
    hand = hand.copy()
    hand["cohort"] = lifecycle.period_label(hand["cohort"], grain)
    hand["age"] = hand["age"].astype(int)
    mine = function_frame[(function_frame["customers"] > 0) | (function_frame["revenue_net"] != 0)]
    merged = mine.merge(hand, on=keys, how="outer", suffixes=("", "_hand"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert (merged["customers"] == merged["customers_hand"]).all()
    for column in ("revenue_net", "revenue_gross"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_hand"], rtol=1e-9, atol=1e-6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_050_000, help="demo customers (~9.6 order lines each)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    folder = ensure_data(args.customers)

    con = duckdb.connect()
    con.sql(f"SET memory_limit = '{MEMORY_LIMIT}'")
    started = time.perf_counter()
    con.sql(f"CREATE TABLE orders AS SELECT * FROM read_parquet('{folder / 'orders.parquet'}')")
    load_seconds = time.perf_counter() - started
    lines = con.sql("SELECT count(*) FROM orders").fetchall()[0][0]
    buyers = con.sql("SELECT count(DISTINCT customer_id) FROM orders").fetchall()[0][0]
    print(f"{lines:,} order lines, {buyers:,} buyers, loaded in {load_seconds:.1f} s", flush=True)

    engine = embedded(con)  # the lifecycle queries run through Ibis on the same database
    rows = []
    for label, grain, by, hand_sql in CASES:
        sql = hand_sql.format(grain=grain, as_of=AS_OF)
        function_times, hand_times = [], []
        for _ in range(args.repeats):  # interleaved so background load hits both sides alike
            started = (time.perf_counter(), time.process_time())
            frame = lifecycle.cohort_activity_sql(engine, AS_OF, grain, by)
            function_times.append((time.perf_counter() - started[0], time.process_time() - started[1]))
            started = (time.perf_counter(), time.process_time())
            hand = con.sql(sql).df()
            hand_times.append((time.perf_counter() - started[0], time.process_time() - started[1]))
        same_result(frame, hand, grain, by)
        started = time.perf_counter()
        tables = lifecycle.cohort_tables(frame, grain, by)
        pivot_seconds = time.perf_counter() - started
        wall = [statistics.median(t[0] for t in times) for times in (function_times, hand_times)]
        cpu = [statistics.median(t[1] for t in times) for times in (function_times, hand_times)]
        rows.append({"case": label, "function_s": wall[0], "hand_s": wall[1], "ratio": wall[0] / wall[1],
                     "function_cpu": cpu[0], "hand_cpu": cpu[1], "cpu_ratio": cpu[0] / cpu[1],
                     "pivots_s": pivot_seconds, "cells": len(frame), "cohorts": tables.headline["cohorts"]})
        print(rows[-1], flush=True)

    peak = peak_rss_gb()
    write_markdown(rows, lines, buyers, load_seconds, peak, args)


def write_markdown(rows, lines, buyers, load_seconds, peak, args) -> None:
    out = ROOT / "results" / "cohorts.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    worst = max(r["ratio"] for r in rows)
    worst_cpu = max(r["cpu_ratio"] for r in rows)
    load = os.getloadavg()[0]
    text = [
        "# Cohort tables: salesperf.analyses.lifecycle vs hand-written DuckDB SQL",
        "",
        (f"{lines:,} order lines ({buyers:,} buyers, demo company, {args.customers:,} customers, seed 0, as of"
         f" {AS_OF}); DuckDB {duckdb.__version__}, {os.cpu_count()} CPUs, memory_limit {MEMORY_LIMIT}, Python"
         f" {platform.python_version()}. Median of {args.repeats} interleaved runs; parquet loaded into a DuckDB"
         f" table once ({load_seconds:.1f} s, not counted). `function` = `cohort_activity_sql` (query + zero-filled"
         " grid, labels, cohort sizes, completeness flag); `hand SQL` = the same long frame typed directly in DuckDB;"
         " `pivots` = `cohort_tables` on the function's frame (all triangles, curves, headline). CPU = process CPU"
         " time over all DuckDB threads, the steadier measure when other jobs share the machine (1-minute load"
         f" average at the end: {load:.1f} on {os.cpu_count()} CPUs). Results checked equal before timing is"
         " reported."),
        "",
        ("| case | function wall (s) | hand SQL wall (s) | wall ratio | function CPU (s) | hand SQL CPU (s) |"
         " CPU ratio | pivots (s) | cohort cells | cohorts |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        text.append(f"| {r['case']} | {r['function_s']:.2f} | {r['hand_s']:.2f} | {r['ratio']:.2f}x |"
                    f" {r['function_cpu']:.2f} | {r['hand_cpu']:.2f} | {r['cpu_ratio']:.2f}x |"
                    f" {r['pivots_s']:.3f} | {r['cells']:,} | {r['cohorts']} |")
    text += [
        "",
        (f"Worst ratio: wall {worst:.2f}x, CPU {worst_cpu:.2f}x (target <= 1.5x:"
         f" {'met' if max(worst, worst_cpu) <= 1.5 else 'NOT met'}); peak resident memory of the benchmark process"
         f" {peak:.2f} GB (target <= 4 GB: {'met' if peak <= 4 else 'NOT met'})."),
        "",
    ]
    out.write_text("\n".join(text), encoding="utf-8")
    print("\n".join(text))


if __name__ == "__main__":
    main()
