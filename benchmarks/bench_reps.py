"""Benchmark of the rep-evaluation analysis at the issue's size: 500 reps, 36 months, ~1 M order lines.

Usage::

    .venv/bin/python benchmarks/bench_reps.py [--quick] [--customers N] [--reps N] [--seed 0] [--render]

Data: the demo company (salesperf.data.demo.generate) over 36 months (``years=3``, 2023-11 to 2026-10), scaled:
the demo has 4 regions of ``SLOTS_PER_REGION`` territories and no option for more, so the generating process
raises that module constant to the smallest number that gives at least ``--reps`` reps (about 35 % of
territory reps leave and are replaced: 92 territories a region give 503 reps with seed 0), and ``--customers``
(124,000) gives ~1 M order lines. Two changes after generation, so that the shapes are those of a real
company of this size: the reps table's teams are split into teams of ``TEAM_SIZE`` reps within each region
(the demo has one team per region, 125 reps each here), and ``CANCELLED_SHARE`` of the orders (every line of
them) become ``cancelled`` (the demo has returns but no cancellations). Everything else is the demo's:
monthly targets per rep, opportunities with their stage history, activities, staggered training completions,
feedback. Generated once into ``benchmarks/.data/reps-<customers>-<reps>-<seed>-<version>/`` (version: a hash
of the demo generator's source) and reused.

Measured, each in a fresh child process that opens the company with
``open_dataset(catalog, "2026-10", "2026-11-27")`` (validation and the in-memory snapshot: timed on its own
row, not part of the analysis):

* **whole analysis**: ``salesperf.analyses.registry.run("reps", ds, Context("en"))``, compute + summarise
  (split by timing the two methods of ``ANALYSIS``), target <= 20 s; only when ``from
  salesperf.analyses.reps import ANALYSIS`` works. The analyses it uses (``ANALYSIS.uses``: the forecast) are
  run first on their own row, so the reps row reads their result from ``ds.results`` as a run's reports read
  the store; the sum of both rows is what an analyst's kernel without a run pays. Compute's parts are timed
  by wrappers put on the analysis module's calls (:data:`PARTS`, every function of ``reps.queries``); a
  second fresh process runs it with an alternative commission plan (the what-if);
* **parts one by one**, built the way the analysis builds them, each timed on its own: every engine query of
  ``reps.queries`` (the scorecard's nine, closed deals, the rep-month panel of the 36 months, commission
  lines of the trailing year, training records), then the pure parts on the fetched frames: scorecard, skill
  gaps, fair ranking (with the after-training flag), training impact (deal-level and rep-period DiD), payroll
  + what-if under an alternative plan, quota fairness and next quotas;
* the **peer** in its own process: DuckDB alone reading the orders Parquet and aggregating bookings per rep
  and month (the floor any reps analysis pays once).

For each: wall time, CPU time of the process (all threads, DuckDB's included) and of its child processes,
and peak resident memory (a 20 ms sampler in the worker for each part; ``ru_maxrss`` for the whole process).
The machine is shared: the 1-minute load average is printed before and after. Prints a markdown report and
writes it to benchmarks/results/reps.md (``--quick``: a 60-rep, ~65 k-line company, written to
benchmarks/.data/reps-quick.md so that BENCHMARKS.md keeps the full-size figures). The measurements are kept in
the company's folder (``measurements.json``); ``--render`` rewrites the report from them without measuring.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
RESULT = HERE / "results" / "reps.md"
QUICK_RESULT = DATA / "reps-quick.md"
PERIOD, TODAY, END, YEARS = "2026-10", "2026-11-27", "2026-10-31", 3
TARGET_SECONDS = 20.0
TEAM_SIZE = 12
CANCELLED_SHARE = 0.005
FULL = {"customers": 124_000, "reps": 500}
QUICK = {"customers": 8_000, "reps": 60}

# Generates the scaled demo company (argv: out, customers, seed, reps, end, years, team size, cancelled share).
GENERATE = r"""
import datetime as dt, json, sys
import numpy as np, pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
from salesperf.data.demo import customers as demo_customers, generate, targets
from salesperf.data.demo.timeline import Calendar
out, n, seed, reps, end, years, team_size, cancelled = sys.argv[1:]
n, seed, reps, years, team_size, cancelled = int(n), int(seed), int(reps), int(years), int(team_size), float(cancelled)
last = dt.date.fromisoformat(end)
first = (last + dt.timedelta(days=1)).replace(year=last.year - years)
slots = 1
while True:  # simulate_org uses the first of generate()'s streams: the same draws as in the real run
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(11)[0])
    targets.SLOTS_PER_REGION = slots
    if len(targets.simulate_org(rng, Calendar(first, last)).rep_ids) >= reps:
        break
    slots += 1
targets.SLOTS_PER_REGION = demo_customers.SLOTS_PER_REGION = slots
generate(out, customers=n, seed=seed, end=end, years=years)

# Teams of team_size reps within each region (ids in order: a replacement follows the rep it replaced); the
# region's manager leads its first team.
table = pq.read_table(f"{out}/reps.parquet")
frame = table.to_pandas()
is_rep = frame["manager_id"].notna()
order = frame[is_rep].sort_values("rep_id").groupby("region").cumcount() // team_size + 1
frame.loc[order.index, "team"] = frame.loc[order.index, "region"] + " " + order.map("{:02d}".format)
frame.loc[~is_rep, "team"] = frame.loc[~is_rep, "region"] + " 01"
pq.write_table(pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False), f"{out}/reps.parquet")

# A few cancelled orders: every line of CANCELLED_SHARE of the orders without a return.
orders = pq.read_table(f"{out}/orders.parquet")
ids = pc.unique(orders["order_id"])
chosen = np.random.default_rng(seed + 1).random(len(ids)) < cancelled
returned = pc.unique(orders.filter(pc.equal(orders["status"], "returned"))["order_id"])
chosen = pa.array(chosen) if len(ids) else pa.array([], pa.bool_())
victims = pc.filter(ids, pc.and_(chosen, pc.invert(pc.is_in(ids, value_set=returned))))
status = pc.if_else(pc.is_in(orders["order_id"], value_set=victims), "cancelled", orders["status"])
orders = orders.set_column(orders.schema.get_field_index("status"), "status", status)
pq.write_table(orders, f"{out}/orders.parquet")

counts = {t: pq.read_metadata(f"{out}/{t}.parquet").num_rows for t in
          ("orders", "customers", "reps", "targets", "opportunities", "opportunity_history", "activities",
           "training", "feedback")}
statuses = pc.value_counts(orders["status"]).to_pylist()
counts |= {"slots_per_region": slots, "teams": int(frame["team"].nunique()), "regions": int(frame["region"].nunique()),
           "orders_distinct": len(ids), "trained_reps": int(pc.count_distinct(pq.read_table(f"{out}/training.parquet")["rep_id"]).as_py()),
           "status": {s["values"]: s["counts"] for s in statuses}, "first": str(first), "last": end}
with open(f"{out}/company.json", "w") as handle:
    json.dump(counts, handle, indent=1)
"""

PEER = """
import json, resource, sys, time
import duckdb
t, c = time.perf_counter(), time.process_time()
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
n = con.execute(
    "SELECT count(*) FROM (SELECT rep_id, date_trunc('month', order_date) AS month, sum(amount) AS bookings, "
    "count(DISTINCT order_id) AS orders FROM read_parquet(?) "
    "WHERE status IS NULL OR status <> 'cancelled' GROUP BY ALL)", [sys.argv[1]]
).fetchone()[0]
print(json.dumps({"wall": time.perf_counter() - t, "cpu": time.process_time() - c, "rows": n,
                  "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9}))
"""


def company(customers: int, reps: int, seed: int) -> Path:
    """The scaled demo company (see the module docstring), generated once and cached; its folder."""
    sources = sorted((HERE.parent / "salesperf" / "data" / "demo").glob("*.py"))
    version = hashlib.sha1(b"".join(p.read_bytes() for p in sources) + GENERATE.encode()).hexdigest()[:8]
    folder = DATA / f"reps-{customers}-{reps}-{seed}-{version}"
    if not (folder / "company.json").is_file():
        print(
            f"generating {customers:,} customers, >= {reps} reps into {folder} ...",
            file=sys.stderr,
            flush=True,
        )
        subprocess.run(
            [
                sys.executable,
                "-c",
                GENERATE,
                str(folder),
                str(customers),
                str(seed),
                str(reps),
                END,
                str(YEARS),
                str(TEAM_SIZE),
                str(CANCELLED_SHARE),
            ],
            check=True,
        )
    return folder


# ---------------------------------------------------------------------------------------------------------------
# The worker (a fresh process per measurement)
# ---------------------------------------------------------------------------------------------------------------


class Meter:
    """Times named steps: wall, CPU of this process (all threads) and of its children, and the peak RSS during
    the step (sampled every 20 ms by a thread)."""

    def __init__(self) -> None:
        import psutil

        self.process = psutil.Process()
        self.steps: list[dict] = []
        self._peak, self.call_peak, self._stop = 0, 0, threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss = self.process.memory_info().rss
            self._peak, self.call_peak = max(self._peak, rss), max(self.call_peak, rss)
            time.sleep(0.02)

    @staticmethod
    def _children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    @contextlib.contextmanager
    def __call__(self, name: str, part: str = ""):
        start_rss = self.process.memory_info().rss
        self._peak = start_rss
        wall, cpu, children = time.perf_counter(), time.process_time(), self._children_cpu()
        yield
        self.steps.append(
            {
                "name": name,
                "part": part or name,
                "wall": time.perf_counter() - wall,
                "cpu": time.process_time() - cpu,
                "children_cpu": self._children_cpu() - children,
                "peak_gb": max(self._peak, self.process.memory_info().rss) / 1e9,
                "start_gb": start_rss / 1e9,
            }
        )
        print(f"  {name}: {self.steps[-1]['wall']:.2f} s", file=sys.stderr, flush=True)

    def close(self) -> dict:
        self._stop.set()
        return {
            "steps": self.steps,
            "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
        }


def _alternative_plan():
    """The what-if plan: the default plan with a lower base rate (4 %), a richer second accelerator (12 % above
    120 %) and no team bonus."""
    import yaml

    from salesperf.analyses.reps import incentives

    return incentives.plan_from_dict(yaml.safe_load(yaml_of_alternative_plan()), "<bench alternative>")


def work_parts(folder: Path) -> dict:
    """Open the company and time every part of the reps analysis on its own (see the module docstring)."""
    import pandas as pd

    from salesperf.analyses.reps import gaps, incentives, queries, quotas, ranking, scorecard, training
    from salesperf.data.dataset import open_dataset

    meter = Meter()
    with meter("open_dataset (validation + snapshot)", "open"):
        ds = open_dataset(folder / "catalog.yml", PERIOD, TODAY)
    engine, w = ds.engine, queries.Windows.of(ds.period)
    history_start = (pd.Timestamp(w.end).to_period("M") - 35).start_time.date()  # the 36 months

    with meter("queries: scorecard inputs (present + 9 aggregates)", "queries"):
        inputs = queries.scorecard_inputs(engine, ds.period)
    with meter("queries: closed deals with account region and size", "queries"):
        deals = queries.closed_deals(engine, w.end)
    with meter("queries: rep-month panel, 36 months", "queries"):
        panel = queries.rep_month_panel(engine, history_start, w.end)
    with meter("queries: commission lines, trailing year", "queries"):
        booked, returned = queries.commission_lines(engine, w.year_start, w.end)
    with meter("queries: training records", "queries"):
        trained = queries.training_records(engine, w.end)

    with meter("scorecard (KPIs, roll-ups, trend)", "scorecard"):
        card = scorecard.build_scorecard(inputs)
    with meter("skill gaps", "gaps"):
        found = gaps.skill_gaps(card.kpis, gaps.load_coaching_rules())
    year = card.kpis.loc[card.kpis["window"] == "year", ["rep_id", "team", "attainment"]]
    with meter("fair ranking (deal logit, random intercepts, rank intervals)", "ranking"):
        flagged = deals.assign(trained=training.after_training(deals, trained))
        ranked = ranking.fair_ranking(flagged, year)
    with meter("training impact (deal-level and rep-period DiD)", "training"):
        impact = training.training_impact(deals, panel, trained)

    teams = inputs.reps[["rep_id", "team"]]
    quota = inputs.quotas.rename(columns={"month": "period"})
    year_months = set(scorecard.month_labels(w.year_start, w.end))
    with meter("payroll + what-if (two plans, per-rep comparison)", "payroll"):
        current = incentives.load_plan()
        comparison = incentives.what_if(current, _alternative_plan(), booked, quota, returned, teams)
        incentives.check_payroll(incentives.add_total_row(comparison.current))

    with meter("quotas (attainment spread, quota vs potential, next quotas)", "quotas"):
        months = quotas.attainment(panel[["rep_id", "period", "bookings"]], quota)
        months = months[months["period"].isin(year_months)]
        spread = quotas.attainment_spread(months, teams)
        stretch = quotas.implied_stretch(months)
        trailing = (
            panel[panel["period"].isin(year_months)].groupby("rep_id", as_index=False)["bookings"].sum()
        )
        potential = trailing.rename(columns={"bookings": "potential"})  # history: the trailing 12 months
        year_quota = months.groupby("rep_id", as_index=False)["quota"].sum()
        fairness = quotas.quota_vs_potential(year_quota, potential, teams)
        latest = quota[quota["period"] == max(year_months)][["rep_id", "quota"]]
        suggested, _ = quotas.suggest_quotas(
            latest,
            potential.assign(potential=potential["potential"] / 12),
            spread.per_rep,
            stretch,
            teams=teams,
        )
    # The scorecard's queries one by one, after the parts (so the parts' figures are untouched): the split of
    # the scorecard-inputs row (these runs find DuckDB's caches warm).
    found_inputs, split = inputs.found, Meter()
    for name, query in (
        ("present (which inputs hold values)", lambda: queries.present(engine)),
        ("bookings by rep-month", lambda: queries.bookings_by_month(engine, w, inputs.bookings_source)),
        ("new customers", lambda: queries.new_customers(engine, w)),
        ("quotas by month", lambda: queries.quotas_by_month(engine, w)),
        ("deals", lambda: queries.deals(engine, w)),
        ("activity counts", lambda: queries.activity_counts(engine, w)),
        ("book revenue (retention)", lambda: queries.book_revenue(engine, w, found_inputs["owners"])),
        ("satisfaction", lambda: queries.satisfaction(engine, w, found_inputs["owners"], True)),
        ("rep directory", lambda: queries.rep_directory(engine)),
    ):
        with split(name, "scorecard query"):
            query()
    out = meter.close()
    out["query_split"] = split.close()["steps"]
    out["shapes"] = {
        "scorecard rows": len(card.kpis),
        "closed deals": len(deals),
        "rep-months": len(panel),
        "commission rows": len(booked) + len(returned),
        "gap rows": len(found.gaps),
        "ranked reps": len(ranked.ranking),
        "training KPIs": len(impact.overall),
        "payroll rows": len(comparison.current),
        "quota rows": len(fairness[0]) + len(suggested),
    }
    return out


#: The functions the analysis module calls, by part (names it does not import are skipped); every function of
#: ``reps.queries`` is the part "queries". A call inside another timed call counts in the outer one.
PARTS = {
    "scorecard": ("build_scorecard",),
    "gaps": ("load_coaching_rules", "skill_gaps"),
    "ranking": ("after_training", "fair_ranking", "fair_ranking_periods", "active_panel"),
    "training": ("training_impact", "panel_did"),
    "payroll + what-if": (
        "load_plan",
        "payroll",
        "add_total_row",
        "check_payroll",
        "what_if",
        "payroll_quotas",
    ),
    "quotas": (
        "attainment",
        "attainment_spread",
        "implied_stretch",
        "forecast_potential",
        "history_potential",
        "quota_vs_potential",
        "suggest_quotas",
    ),
}


ORDER = ["queries", *PARTS]


class Calls:
    """Timing wrappers put on module attributes: wall, CPU and peak RSS of every outermost call, by part; the
    calls one level inside a ``scorecard_inputs`` call by function (the split of the scorecard's queries)."""

    def __init__(self, meter: Meter) -> None:
        self.meter, self.depth, self.outer = meter, 0, ""
        self.parts: dict[str, dict] = {}
        self.inner: dict[str, dict] = {}

    @staticmethod
    def _add(table: dict, key: str, wall: float, cpu: float, peak: float = 0.0) -> None:
        row = table.setdefault(key, {"wall": 0.0, "cpu": 0.0, "calls": 0, "peak_gb": 0.0})
        row["wall"], row["cpu"], row["calls"] = row["wall"] + wall, row["cpu"] + cpu, row["calls"] + 1
        row["peak_gb"] = max(row["peak_gb"], peak)

    def wrap(self, module, name: str, part: str) -> None:
        function = getattr(module, name)

        def timed(*args, **kwargs):
            outer, self.depth = self.depth == 0, self.depth + 1
            if outer:
                self.outer, self.meter.call_peak = name, self.meter.process.memory_info().rss
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.depth -= 1
                took, used = time.perf_counter() - wall, time.process_time() - cpu
                if outer:
                    peak = max(self.meter.call_peak, self.meter.process.memory_info().rss) / 1e9
                    self._add(self.parts, part, took, used, peak)
                elif self.depth == 1 and self.outer == "scorecard_inputs":
                    self._add(self.inner, name, took, used)

        setattr(module, name, timed)


def work_whole(folder: Path, alternative: bool) -> dict:
    """Open the company and time the whole analysis through the registry: the upstream forecast analysis first
    (its result stays in ``ds.results``, as a run's store holds it for the reps report), then ``reps`` with
    compute and summarise split and every part of compute timed by :class:`Calls`."""
    import inspect

    from salesperf.analyses import registry
    from salesperf.analyses.base import Context
    from salesperf.data.dataset import open_dataset

    meter = Meter()
    with meter("open_dataset (validation + snapshot)", "open"):
        ds = open_dataset(folder / "catalog.yml", PERIOD, TODAY)
    reps = registry.get("reps")
    module = sys.modules[type(reps).__module__]
    queries = sys.modules["salesperf.analyses.reps.queries"]
    calls = Calls(meter)
    for name, function in inspect.getmembers(queries, inspect.isfunction):
        if function.__module__ == queries.__name__ and not name.startswith("_"):
            calls.wrap(queries, name, "queries")
    skipped = []
    for part, names in PARTS.items():
        for name in names:
            if hasattr(module, name):
                calls.wrap(module, name, part)
            else:
                skipped.append(name)
    split: dict[str, float] = {}

    def timed(name, method):
        def wrapper(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                split[name] = time.perf_counter() - wall
                split[name + "_cpu"] = time.process_time() - cpu

        return wrapper

    reps.compute = timed("compute", reps.compute)  # on this process's instance only
    reps.summarise = timed("summarise", reps.summarise)
    params = {}
    if alternative:
        plan = folder / "alternative_plan.yml"
        plan.write_text(yaml_of_alternative_plan(), encoding="utf-8")
        params = {"alternative_plan": str(plan)}
    for upstream in reps.uses:
        with meter(f"upstream: {upstream} analysis (registry.run('{upstream}'))", "upstream"):
            registry.run(upstream, ds, Context("en"))
    label = "with an alternative plan (what-if)" if alternative else ""
    with meter(f"whole analysis: registry.run('reps'{', alternative_plan' if alternative else ''})", "whole"):
        detail, summary = registry.run("reps", ds, Context("en", params=params))
    out = meter.close()
    out |= {
        "split": split,
        "parts": calls.parts,
        "scorecard_queries": calls.inner,
        "skipped": skipped,
        "label": label,
        "uses": list(reps.uses),
        "findings": len(summary.findings),
        "what_if": getattr(detail, "what_if", None) is not None,
    }
    return out


def yaml_of_alternative_plan() -> str:
    """The what-if plan of :func:`_alternative_plan` as a plan file."""
    import yaml

    from salesperf.analyses.reps import incentives

    data = yaml.safe_load(
        (Path(incentives.__file__).with_name(incentives.DEFAULT_PLAN_FILE)).read_text("utf-8")
    )
    data = {k: v for k, v in data.items() if k != "team_bonus"}
    data |= {"name": "Alternative plan", "base": {"rate": 0.04}}
    data["accelerators"] = [{"above_attainment": 1.0, "rate": 0.08}, {"above_attainment": 1.2, "rate": 0.12}]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def run_worker(mode: str, folder: Path) -> dict:
    """Run a worker in a fresh process; its JSON line, with the load average around it and its total CPU."""
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, __file__, "--worker", mode, str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode != 0:
        return {"error": f"exit {child.returncode}", "load": (load, os.getloadavg()[0])}
    out = json.loads(child.stdout.strip().splitlines()[-1])
    out["process_wall"] = time.perf_counter() - started
    out["process_cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    out["load"] = (load, os.getloadavg()[0])
    return out


def analysis_ready() -> bool:
    """Whether ``from salesperf.analyses.reps import ANALYSIS`` works (asked in a fresh process)."""
    probe = subprocess.run(
        [sys.executable, "-c", "from salesperf.analyses.reps import ANALYSIS"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


# ---------------------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------------------


def _row(step: dict, target: str = "", met: str = "") -> str:
    children = step.get("children_cpu")
    return (
        f"| {step['name']} | {step['wall']:.2f} | {step['cpu']:.2f} | "
        f"{'' if children is None else f'{children:.2f}'} | {step['peak_gb']:.2f} | {target} | {met} |"
    )


HEAD = [
    "| step | wall s | CPU s (process) | CPU s (children) | peak RSS GB | target | met |",
    "|---|---:|---:|---:|---:|---|---|",
]


def _load(run: dict) -> str:
    return f"load {run['load'][0]:.1f} before / {run['load'][1]:.1f} after"


def whole_section(whole: dict, what_if: dict | None) -> list[str]:
    """The whole analysis: its row against the target, compute's parts, summarise, the upstream forecast."""
    steps = {s["part"]: s for s in whole["steps"]}
    w, split = steps["whole"], whole["split"]
    met = "yes" if w["wall"] <= TARGET_SECONDS else "no"
    parts = whole["parts"]
    rest_wall = split["compute"] - sum(p["wall"] for p in parts.values())
    rest_cpu = split["compute_cpu"] - sum(p["cpu"] for p in parts.values())
    rows = [_row(steps["open"])]
    if "upstream" in steps:
        rows.append(_row(steps["upstream"]))
    rows += [
        _row(w | {"name": f"**{w['name']}**"}, f"<= {TARGET_SECONDS:.0f} s", met),
        f"| compute | {split['compute']:.2f} | {split['compute_cpu']:.2f} |  |  |  |  |",
        *[
            f"| &nbsp;&nbsp;{name} ({p['calls']} calls) | {p['wall']:.2f} | {p['cpu']:.2f} |  | {p['peak_gb']:.2f} |  |  |"
            for name, p in sorted(parts.items(), key=lambda kv: ORDER.index(kv[0]))
        ],
        f"| &nbsp;&nbsp;rest of compute (glue) | {rest_wall:.2f} | {rest_cpu:.2f} |  |  |  |  |",
        f"| summarise (tiles, findings, exhibits) | {split['summarise']:.2f} | {split['summarise_cpu']:.2f} |  |  |  |  |",
    ]
    if "upstream" in steps:
        both = w["wall"] + steps["upstream"]["wall"]
        rows.append(
            f"| reps + its upstream forecast, one after the other | {both:.2f} | "
            f"{w['cpu'] + steps['upstream']['cpu']:.2f} |  |  | <= {TARGET_SECONDS:.0f} s | "
            f"{'yes' if both <= TARGET_SECONDS else 'no'} |"
        )
    rows.append(
        f"| whole process (imports, open, analyses) | {whole['process_wall']:.2f} | {whole['process_cpu']:.2f} | "
        f" | {whole['peak_gb']:.2f} |  |  |"
    )
    lines = [
        (
            f'**Whole analysis**: `registry.run("reps", ds, Context("en"))` in a fresh process ({_load(whole)}). '
            f"The analysis uses {', '.join(whole['uses']) or 'no other analysis'}: in a run that report computes "
            "and stores its result and the reps report reads it, so it is timed first on its own row and the "
            "reps row reads it from `ds.results` (the last but one row adds the two). Compute's parts are the "
            "analysis module's own calls, timed by wrappers (a call inside another counts in the outer one); "
            "peak RSS = the process's largest resident size during the part's calls."
            + (
                f" Not found in the analysis module (not timed): {', '.join(whole['skipped'])}."
                if whole["skipped"]
                else ""
            )
        ),
        "",
        *HEAD,
        *rows,
        "",
    ]
    upstream = steps.get("upstream")
    shares = "; ".join(
        f"{name} {p['wall'] / split['compute']:.0%} / {p['cpu'] / max(split['compute_cpu'], 1e-9):.0%}"
        for name, p in sorted(parts.items(), key=lambda kv: ORDER.index(kv[0]))
    )
    lines += [
        (
            f"Target: the whole reps analysis within {TARGET_SECONDS:.0f} s: **{'met' if met == 'yes' else 'missed'}** "
            f"({w['wall']:.1f} s wall, {w['cpu']:.1f} s CPU, with a 1-minute load of {whole['load'][0]:.1f} "
            f"on {len(os.sched_getaffinity(0))} cores)"
            + (
                f"; with its upstream forecast computed in the same process (an analyst's kernel without a run's "
                f"store) {w['wall'] + upstream['wall']:.1f} s wall, {w['cpu'] + upstream['cpu']:.1f} s CPU: "
                f"{'within' if w['wall'] + upstream['wall'] <= TARGET_SECONDS else 'over'} the target."
                if upstream
                else "."
            )
        ),
        "",
        f"Where compute's time goes (share of compute's wall / CPU): {shares}.",
        "",
    ]
    if what_if and "error" not in what_if:
        ws = {s["part"]: s for s in what_if["steps"]}
        pay = what_if["parts"].get("payroll + what-if", {"wall": float("nan"), "cpu": float("nan")})
        lines += [
            (
                f'With an alternative plan (`Context("en", params={{"alternative_plan": ...}})`: base 4 %, '
                f"accelerator 12 % above 120 %, no team bonus), a fresh process ({_load(what_if)}): the reps "
                f"analysis {ws['whole']['wall']:.2f} s wall / {ws['whole']['cpu']:.2f} s CPU "
                f"({'within' if ws['whole']['wall'] <= TARGET_SECONDS else 'over'} {TARGET_SECONDS:.0f} s), of "
                f"which payroll + what-if {pay['wall']:.2f} s / {pay['cpu']:.2f} s CPU; what-if produced: "
                f"{'yes' if what_if['what_if'] else 'no'}."
            ),
            "",
        ]
    if whole["scorecard_queries"]:
        lines += [
            "The scorecard inputs' queries (inside `scorecard_inputs`, this run): "
            + "; ".join(
                f"{name} {q['wall']:.2f} s / {q['cpu']:.2f} s CPU"
                for name, q in sorted(whole["scorecard_queries"].items(), key=lambda kv: -kv[1]["wall"])
                if q["wall"] >= 0.005
            )
            + ".",
            "",
        ]
    return lines


def parts_section(parts: dict) -> list[str]:
    """The parts built and timed one by one by the harness (without the analysis module)."""
    totals: dict[str, dict] = {}
    for s in parts["steps"]:
        t = totals.setdefault(s["part"], {"name": s["part"], "wall": 0.0, "cpu": 0.0})
        t["wall"], t["cpu"] = t["wall"] + s["wall"], t["cpu"] + s["cpu"]
    analysed = [t for name, t in totals.items() if name != "open"]
    sum_wall, sum_cpu = sum(t["wall"] for t in analysed), sum(t["cpu"] for t in analysed)
    return [
        (
            f"**Parts one by one** (the harness builds each part's inputs as the analysis does and calls the "
            f"part directly, a fresh process, {_load(parts)}; peak RSS = the process's largest resident size "
            "during the step, which includes what earlier steps hold):"
        ),
        "",
        *HEAD,
        *[_row(s) for s in parts["steps"]],
        f"| **sum of the parts (queries to quotas)** | **{sum_wall:.2f}** | **{sum_cpu:.2f}** |  | "
        f"{parts['peak_gb']:.2f} (process) |  |  |",
        "",
        "Where the time goes (share of the parts' wall / CPU): "
        + "; ".join(
            f"{t['name']} {t['wall'] / sum_wall:.0%} / {t['cpu'] / max(sum_cpu, 1e-9):.0%}" for t in analysed
        )
        + ".",
        "",
        "The scorecard inputs' queries one by one, re-run after the parts (warm): "
        + "; ".join(f"{q['name']} {q['wall']:.2f} s / {q['cpu']:.2f} s CPU" for q in parts["query_split"])
        + ".",
        "",
        "Output sizes: " + ", ".join(f"{k} {v:,}" for k, v in parts["shapes"].items()) + ".",
        "",
    ]


def code_state() -> str:
    """The commit measured and the files of salesperf/ that differ from it (the working tree is what runs)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True, check=False)
        return done.stdout

    changed = [
        line[3:] for line in git("status", "--porcelain", "--", "salesperf").splitlines() if line.strip()
    ]
    state = f"code: commit {git('rev-parse', '--short', 'HEAD').strip() or '?'}"
    return state + (f" with uncommitted changes in {', '.join(changed)}" if changed else "")


def report(info: dict, runs: dict, peer: dict, load: tuple, quick: bool, code: str) -> str:
    machine = (
        f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}"
    )
    status = ", ".join(f"{k} {v:,}" for k, v in sorted(info["status"].items()))
    lines = [
        "# Rep evaluation (`reps`) at 500 reps, 36 months, 1 M order lines"
        if not quick
        else "# Rep evaluation (`reps`), small size",
        "",
        (
            f"Data: the demo company scaled (`benchmarks/bench_reps.py`: {info['slots_per_region']} territories per "
            f"region instead of 5, teams of {TEAM_SIZE} within regions, {CANCELLED_SHARE:.1%} of orders cancelled), "
            f"{info['first']} to {info['last']} (36 months): {info['reps']:,} reps in {info['teams']} teams and "
            f"{info['regions']} regions, {info['customers']:,} customers, {info['orders']:,} order lines "
            f"({info['orders_distinct']:,} orders; {status}), {info['targets']:,} monthly targets, "
            f"{info['opportunities']:,} opportunities with {info['opportunity_history']:,} stage changes, "
            f"{info['activities']:,} activities, {info['trained_reps']} trained reps (staggered completions), "
            f"{info['feedback']:,} feedback responses. Period {PERIOD}, today {TODAY}. Machine: {machine}, shared "
            f"with other jobs: 1-minute load average {load[0]:.1f} before and {load[1]:.1f} after the benchmark "
            "(per process below); wall time rises with the load, CPU time (all threads of the process, DuckDB's "
            "included) is what the work itself spent. Every measurement opens the data with `open_dataset` "
            "(validation and the in-memory snapshot, its own row: a run pays it once for all reports); "
            f"{code}."
        ),
        "",
    ]
    whole = runs.get("whole")
    if whole and "error" not in whole:
        lines += whole_section(whole, runs.get("what-if"))
    else:
        reason = whole["error"] if whole else "`from salesperf.analyses.reps import ANALYSIS` failed"
        lines += [f"**Whole analysis**: not measured ({reason}); the parts below are what it runs.", ""]
    lines += parts_section(runs["parts"])
    whole_ok = whole and "error" not in whole
    if whole_ok:
        queries_wall, queries_cpu = whole["parts"]["queries"]["wall"], whole["parts"]["queries"]["cpu"]
        where = "the whole analysis's"
    else:
        queries_wall = sum(s["wall"] for s in runs["parts"]["steps"] if s["part"] == "queries")
        queries_cpu = sum(s["cpu"] for s in runs["parts"]["steps"] if s["part"] == "queries")
        where = "the parts run's"
    lines += [
        (
            f"**Peer**: DuckDB alone reading orders.parquet and aggregating bookings and orders per rep and month "
            f"({peer['rows']:,} rep-months), a fresh process: {peer['wall']:.2f} s wall, {peer['cpu']:.2f} s CPU, "
            f"{peer['peak_gb']:.2f} GB peak RSS. The reps queries read the order lines several times (bookings, "
            f"new customers, the book, the rep-month panel, commission lines) plus deals, activities and feedback: "
            f"{where} queries took {queries_wall / peer['wall']:.1f}x the peer's wall and "
            f"{queries_cpu / max(peer['cpu'], 1e-9):.1f}x its CPU."
        ),
        "",
        f"Reproduce: `.venv/bin/python benchmarks/bench_reps.py{' --quick' if quick else ''}` (company cached in "
        "benchmarks/.data/).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 60-rep, 8,000-customer company (~65 k lines)")
    parser.add_argument("--customers", type=int)
    parser.add_argument("--reps", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--render",
        action="store_true",
        help="only rewrite the report from the company's saved measurements.json",
    )
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        mode, folder = args.worker
        work = {
            "parts": work_parts,
            "whole": lambda f: work_whole(f, alternative=False),
            "what-if": lambda f: work_whole(f, alternative=True),
        }[mode]
        print(json.dumps(work(Path(folder))))
        return
    size = QUICK if args.quick else FULL
    customers, reps = args.customers or size["customers"], args.reps or size["reps"]
    load_before = os.getloadavg()[0]
    folder = company(customers, reps, args.seed)
    info = json.loads((folder / "company.json").read_text(encoding="utf-8"))
    small = args.quick or bool(args.customers or args.reps)
    saved = folder / "measurements.json"
    if args.render:
        measured = json.loads(saved.read_text(encoding="utf-8"))
    else:
        runs = {}
        for mode in ("whole", "what-if", "parts") if analysis_ready() else ("parts",):
            print(f"{mode} ...", file=sys.stderr, flush=True)
            runs[mode] = run_worker(mode, folder)
        if "error" in runs["parts"]:
            sys.exit(f"the parts worker failed: {runs['parts']['error']}")
        peer = json.loads(
            subprocess.run(
                [sys.executable, "-c", PEER, str(folder / "orders.parquet")],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        measured = {
            "runs": runs,
            "peer": peer,
            "load": (load_before, os.getloadavg()[0]),
            "code": code_state(),
        }
        saved.write_text(json.dumps(measured, indent=1), encoding="utf-8")
    runs = measured["runs"]
    text = report(info, runs, measured["peer"], measured["load"], small, measured["code"])
    print(text)
    target = QUICK_RESULT if small else RESULT
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    failed = [mode for mode, run in runs.items() if "error" in run]
    if failed:
        sys.exit(f"worker(s) failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
