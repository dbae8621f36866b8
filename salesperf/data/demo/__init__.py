"""The demo company: a seeded, vectorised generator of every canonical table with planted, known effects.

``generate(out_dir, customers=2000, seed=0)`` writes ``<table>.parquet`` (or ``.csv``) for every table in
:mod:`salesperf.data.schema`, a ``catalog.yml`` listing them and a ``truth.json`` holding every planted
quantity, so reports can be checked against what was put in. See docs/demo-company.md for the model and how to
recover it.

The purchase process of each behavioural group is exactly BG/NBD in continuous time (unit: weeks) and the
value of each purchase occasion is Gamma-Gamma (times the month's seasonality factor). All draws are numpy
array operations (no per-customer Python loop) so a million customers take well under two minutes.

The package is cut along what each part plants (each module's docstring says what):

* :mod:`~salesperf.data.demo.config` - every planted constant and the behavioural groups;
* :mod:`~salesperf.data.demo.timeline` - arguments, the day calendar, seasonality;
* :mod:`~salesperf.data.demo.customers` - buyers and prospects;
* :mod:`~salesperf.data.demo.purchases` - products, purchase occasions, order lines, returns, bundles;
* :mod:`~salesperf.data.demo.pipeline` - opportunities, stage history, activities;
* :mod:`~salesperf.data.demo.service` - tickets and feedback;
* :mod:`~salesperf.data.demo.targets` - reps, teams, training, quotas;
* :mod:`~salesperf.data.demo.tables` - canonical Arrow tables, catalog and files;
* :mod:`~salesperf.data.demo.truth` - truth.json.

Each part draws from its own random stream (see :func:`build`), so the same arguments give byte-identical
files.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from salesperf.data.demo.config import GROUPS, REGIONS, TRAINING_PROGRAM, Group
from salesperf.data.demo.customers import simulate_customers
from salesperf.data.demo.pipeline import simulate_activities, simulate_opportunities
from salesperf.data.demo.purchases import make_products, order_lines, simulate_occasions
from salesperf.data.demo.service import simulate_feedback, simulate_tickets
from salesperf.data.demo.tables import (
    activities_table,
    canonical_table,
    catalog_text,
    customers_table,
    date_column,
    feedback_table,
    id_column,
    id_width,
    label_column,
    opportunities_table,
    orders_table,
    products_table,
    reps_table,
    tickets_table,
    write_table,
)
from salesperf.data.demo.targets import monthly_quotas, simulate_org
from salesperf.data.demo.timeline import Calendar, check_arguments
from salesperf.data.demo.truth import planted_truth

Progress = Callable[[str], None] | None

__all__ = ["GROUPS", "REGIONS", "Group", "Progress", "build", "generate"]


def generate(
    out_dir,
    customers: int = 2000,
    seed: int = 0,
    end="2026-10-31",
    years: int = 4,
    fmt: str = "parquet",
    progress: Progress = None,
) -> Path:
    """Generate the demo company and write it to ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write to (created if missing; existing files of the same names are overwritten).
    customers : int
        Rows of the customers table: ``1 - PROSPECT_SHARE`` of them are buyers, the rest prospects with one
        open opportunity and no orders.
    seed : int
        Seed of the numpy Generator; the same arguments give the same data.
    end : str or date
        Last day of the data (ISO date). No row is dated after it except open deals' expected close dates.
    years : int
        Length of the history: data start the day after ``end`` minus ``years`` years.
    fmt : {'parquet', 'csv'}
        File format of the tables.
    progress : callable, optional
        Called with a short text before each long step.

    Returns
    -------
    Path
        ``out_dir``, holding ``<table>.<fmt>`` for each canonical table, ``catalog.yml`` and ``truth.json``.
    """
    end_date, start_date = check_arguments(customers, seed, end, years, fmt)
    say = progress or (lambda _text: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables, truth = build(customers, seed, end_date, start_date, say)
    for name, table in tables.items():
        say(f"writing {name}.{fmt}")
        write_table(table, out / f"{name}.{fmt}", fmt)
    (out / "catalog.yml").write_text(catalog_text(seed, fmt), encoding="utf-8")
    say("writing truth.json")
    with open(out / "truth.json", "w", encoding="utf-8") as handle:
        json.dump(truth, handle, indent=1)
    return out


def build(
    customers: int,
    seed: int,
    end_date: dt.date,
    start_date: dt.date,
    say: Callable[[str], None] = lambda _t: None,
) -> tuple[dict[str, pa.Table], dict]:
    """Simulate the company in memory: ``({table name: pyarrow.Table}, truth dict)``; see :func:`generate`."""
    # One stream per part of the company. spawn(n) children do not depend on n, so adding a stream at the end
    # leaves every earlier draw unchanged.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(11)]
    calendar = Calendar(start_date, end_date)
    say("reps and products")
    org = simulate_org(streams[0], calendar)
    products = make_products(streams[1])
    say("customers")
    people = simulate_customers(streams[2], calendar, customers, org)
    say("purchase occasions")
    occasions = simulate_occasions(streams[3], calendar, people)
    say("order lines")
    lines = order_lines(streams[4], calendar, people, occasions, org, products, streams[10])
    say("opportunities")
    deals = simulate_opportunities(streams[5], calendar, people, org)
    say("activities")
    activities = simulate_activities(streams[6], calendar, deals, org)
    say("tickets and feedback")
    tickets = simulate_tickets(streams[7], calendar, people, occasions)
    feedback = simulate_feedback(streams[8], calendar, people, occasions, tickets, org)
    say("targets")
    targets = monthly_quotas(calendar, org, people.slot[people.group >= 0], occasions.day, occasions.value)

    customer_ids = id_column("C", np.arange(people.n), id_width(people.n))
    tables = {
        "orders": orders_table(lines, customer_ids, org, products, people),
        "customers": customers_table(people, customer_ids, org, streams[9], calendar),
        "products": products_table(products),
        "reps": reps_table(org),
        "targets": canonical_table("targets", targets),
        "opportunities": opportunities_table(deals, customer_ids, org, products),
        "opportunity_history": canonical_table(
            "opportunity_history",
            {
                "opportunity_id": id_column("OP", deals.history_opp, id_width(deals.n)),
                "stage": label_column(deals.stage_names, deals.history_stage),
                "entered_at": date_column(deals.history_day),
            },
        ),
        "activities": activities_table(activities, customer_ids, org, deals),
        "training": canonical_table(
            "training",
            {
                "rep_id": label_column(org.rep_ids, org.trained_reps),
                "program": label_column([TRAINING_PROGRAM], np.zeros(len(org.trained_reps), dtype=np.int64)),
                "completed_at": date_column(org.completed_day[org.trained_reps]),
            },
        ),
        "feedback": feedback_table(feedback, customer_ids, org),
        "tickets": tickets_table(tickets, customer_ids),
    }
    truth = planted_truth(seed, calendar, people, customer_ids, org, products, tickets.agent_effect)
    return tables, truth
