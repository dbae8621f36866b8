"""Arrow tables in the canonical schema, the catalog and writing files.

Plants nothing: turns the simulated arrays into the canonical columns of :mod:`salesperf.data.schema` (ids,
labels, dates), draws the customers' company names, and writes ``<table>.parquet`` / ``.csv`` and
``catalog.yml``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from salesperf.data.demo.config import (
    ACTIVITY_TYPES,
    CATEGORIES,
    CHANNELS,
    COMMENTS,
    CURRENCY,
    INDUSTRIES,
    LOST_REASONS,
    N_AGENTS,
    PRIORITIES,
    REGIONS,
    SIZES,
    SOURCES,
    STAGE_PROBABILITY,
    TICKET_CATEGORIES,
)
from salesperf.data.demo.customers import People
from salesperf.data.demo.pipeline import Activities, Deals
from salesperf.data.demo.purchases import Lines, Products
from salesperf.data.demo.service import Feedback, Tickets
from salesperf.data.demo.targets import Org
from salesperf.data.demo.timeline import Calendar
from salesperf.data.schema import TABLES

_ARROW_TYPES = {"VARCHAR": pa.string(), "DATE": pa.date32(), "DOUBLE": pa.float64()}


def canonical_table(name: str, columns: dict) -> pa.Table:
    """Arrow table with exactly the canonical columns of ``name`` in schema order and types."""
    spec = TABLES[name]
    missing = set(spec.names) - set(columns)
    extra = set(columns) - set(spec.names)
    assert not missing and not extra, (name, missing, extra)
    arrays = [
        pa.array(columns[c.name]).cast(_ARROW_TYPES[c.type])
        if not isinstance(columns[c.name], pa.Array)
        else columns[c.name].cast(_ARROW_TYPES[c.type])
        for c in spec.columns
    ]
    return pa.Table.from_arrays(arrays, names=spec.names)


def id_width(n: int) -> int:
    """Zero-padding width of ids numbering ``n`` rows (at least 4 digits)."""
    return max(4, len(str(max(1, n))))


def id_column(prefix: str, index: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + 1-based zero-padded numbers; negative index -> null."""
    index = np.asarray(index, dtype=np.int64)
    mask = index < 0
    numbers = pa.array(index + 1, mask=mask if mask.any() else None)
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(pc.cast(numbers, pa.string()), width, "0"), "")


def label_column(values, index: np.ndarray) -> pa.Array:
    """Strings from ``values`` by position; negative index -> null."""
    index = np.asarray(index, dtype=np.int64)
    mask = index < 0
    return pa.array(list(values), pa.string()).take(
        pa.array(np.maximum(index, 0), mask=mask if mask.any() else None)
    )


def date_column(days: np.ndarray) -> pa.Array:
    """Arrow date32 array from days since 1970-01-01; negative day -> null."""
    days = np.asarray(days, dtype=np.int64)
    mask = days < 0
    return pa.array(days.astype(np.int32), pa.int32(), mask=mask if mask.any() else None).cast(pa.date32())


def orders_table(
    lines: Lines, customer_ids: pa.Array, org: Org, products: Products, people: People | None = None
) -> pa.Table:
    """The ``orders`` table: one row per order line (returns are negative lines of the same order id); a
    line's region is its customer's (the demo's customers never move), null without ``people``."""
    region = (
        label_column(REGIONS, people.region[lines.customer])
        if people is not None
        else pa.nulls(len(lines.day), pa.string())
    )
    return canonical_table(
        "orders",
        {
            "order_id": id_column("O", lines.order, id_width(lines.n_orders)),
            "customer_id": customer_ids.take(pa.array(lines.customer)),
            "order_date": date_column(lines.day),
            "amount": lines.amount,
            "quantity": lines.quantity,
            "unit_price": lines.unit_price,
            "product_id": label_column(products.ids, lines.product),
            "category": label_column(CATEGORIES, products.category[lines.product]),
            "rep_id": label_column(org.rep_ids, lines.rep),
            "channel": label_column(CHANNELS, lines.channel),
            "region": region,
            "currency": label_column([CURRENCY], np.zeros(len(lines.day), dtype=np.int64)),
            "status": label_column(["completed", "returned"], lines.returned.astype(np.int64)),
        },
    )


def customers_table(
    people: People, customer_ids: pa.Array, org: Org, rng: np.random.Generator, cal: Calendar
) -> pa.Table:
    """The ``customers`` table: one row per customer, names drawn from ``rng``, owner as at the end."""
    prefix = (
        "Alpine",
        "Blue",
        "Cedar",
        "Delta",
        "Echo",
        "Falcon",
        "Granite",
        "Harbor",
        "Iron",
        "Juniper",
        "Keystone",
        "Lumen",
        "Maple",
        "Nordic",
        "Orion",
        "Pioneer",
        "Quartz",
        "River",
        "Summit",
        "Tandem",
        "Union",
        "Vertex",
        "Willow",
        "Zenith",
    )
    noun = (
        "Systems",
        "Foods",
        "Logistics",
        "Health",
        "Works",
        "Partners",
        "Labs",
        "Supply",
        "Motors",
        "Energy",
        "Media",
        "Retail",
        "Finance",
        "Builders",
        "Textiles",
        "Tools",
    )
    suffix = ("Ltd", "GmbH", "Inc", "SA", "BV", "AB", "Oy", "plc")
    name = pc.binary_join_element_wise(
        label_column(prefix, rng.integers(0, len(prefix), people.n)),
        label_column(noun, rng.integers(0, len(noun), people.n)),
        label_column(suffix, rng.integers(0, len(suffix), people.n)),
        " ",
    )
    owner = org.holder(people.slot, np.full(people.n, cal.end))  # current owner (the manager while vacant)
    return canonical_table(
        "customers",
        {
            "customer_id": customer_ids,
            "name": name,
            "created_at": date_column(people.created),
            "region": label_column(REGIONS, people.region),
            "industry": label_column(INDUSTRIES, people.industry),
            "size": label_column(SIZES, people.size),
            "channel": label_column(CHANNELS, people.channel),
            "owner_rep_id": label_column(org.rep_ids, owner),
        },
    )


def products_table(products: Products) -> pa.Table:
    """The ``products`` table: one row per catalogue product."""
    return canonical_table(
        "products",
        {
            "product_id": pa.array(products.ids, pa.string()),
            "name": pa.array(products.names, pa.string()),
            "category": label_column(CATEGORIES, products.category),
            "list_price": products.list_price,
        },
    )


def reps_table(org: Org) -> pa.Table:
    """The ``reps`` table: one row per rep, managers first."""
    return canonical_table(
        "reps",
        {
            "rep_id": pa.array(org.rep_ids, pa.string()),
            "name": pa.array(org.names, pa.string()),
            "team": label_column([f"Team {r}" for r in REGIONS], org.team),
            "region": label_column(REGIONS, org.team),
            "manager_id": label_column(org.rep_ids, org.manager),
            "hire_date": date_column(org.hire_day),
            "end_date": date_column(org.end_day),
        },
    )


def opportunities_table(deals: Deals, customer_ids: pa.Array, org: Org, products: Products) -> pa.Table:
    """The ``opportunities`` table: one row per deal, ``probability`` the CRM's stage probability."""
    probability = np.array([STAGE_PROBABILITY[s] for s in deals.stage_names])[deals.stage]
    return canonical_table(
        "opportunities",
        {
            "opportunity_id": id_column("OP", np.arange(deals.n), id_width(deals.n)),
            "rep_id": label_column(org.rep_ids, deals.rep),
            "customer_id": customer_ids.take(pa.array(deals.customer)),
            "created_at": date_column(deals.created),
            "expected_close_date": date_column(deals.expected_close),
            "closed_at": date_column(deals.closed),
            "stage": label_column(deals.stage_names, deals.stage),
            "pipeline": label_column(["Expansion", "New Business"], deals.pipeline),
            "status": label_column(["open", "won", "lost"], deals.status),
            "amount": deals.amount,
            "currency": label_column([CURRENCY], np.zeros(deals.n, dtype=np.int64)),
            "probability": probability,
            "product_id": label_column(products.ids, deals.product),
            "source": label_column(SOURCES, deals.source),
            "lost_reason": label_column(LOST_REASONS, deals.lost_reason),
        },
    )


def activities_table(acts: Activities, customer_ids: pa.Array, org: Org, deals: Deals) -> pa.Table:
    """The ``activities`` table: one row per activity."""
    return canonical_table(
        "activities",
        {
            "activity_id": id_column("A", np.arange(len(acts.day)), id_width(len(acts.day))),
            "rep_id": label_column(org.rep_ids, acts.rep),
            "customer_id": customer_ids.take(pa.array(acts.customer)),
            "opportunity_id": id_column("OP", acts.deal, id_width(deals.n)),
            "type": label_column(ACTIVITY_TYPES, acts.kind),
            "at": date_column(acts.day),
        },
    )


def tickets_table(t: Tickets, customer_ids: pa.Array) -> pa.Table:
    """The ``tickets`` table: one row per ticket."""
    return canonical_table(
        "tickets",
        {
            "ticket_id": id_column("T", np.arange(len(t.opened)), id_width(len(t.opened))),
            "customer_id": customer_ids.take(pa.array(t.customer)),
            "opened_at": date_column(t.opened),
            "resolved_at": date_column(t.resolved),
            "first_response_at": date_column(t.first_response),
            "category": label_column(TICKET_CATEGORIES, t.category),
            "priority": label_column(PRIORITIES, t.priority),
            "satisfaction": pa.array(t.satisfaction, pa.float64(), from_pandas=True),
            "agent_id": label_column([f"S{i + 1:02d}" for i in range(N_AGENTS)], t.agent),
        },
    )


def feedback_table(f: Feedback, customer_ids: pa.Array, org: Org) -> pa.Table:
    """The ``feedback`` table: one row per survey response."""
    comments = COMMENTS["low"] + COMMENTS["mid"] + COMMENTS["high"]
    return canonical_table(
        "feedback",
        {
            "response_id": id_column("F", np.arange(len(f.day)), id_width(len(f.day))),
            "customer_id": customer_ids.take(pa.array(f.customer)),
            "responded_at": date_column(f.day),
            "score": f.score,
            "kind": label_column(["csat", "nps"], f.is_nps.astype(np.int64)),
            "comment": label_column(comments, f.comment),
            "rep_id": label_column(org.rep_ids, f.rep),
        },
    )



def catalog_text(seed: int, fmt: str) -> str:
    """``catalog.yml`` listing every canonical table as ``<table>.<fmt>``."""
    rows = "".join(f"  {name}: {name}.{fmt}\n" for name in TABLES)
    return f"# salesperf data catalog for the demo company (seed {seed})\ntables:\n{rows}"


def write_table(table: pa.Table, path: Path, fmt: str) -> None:
    """Write ``table`` to ``path`` as Parquet (snappy) or CSV."""
    if fmt == "parquet":
        pq.write_table(table, path, compression="snappy")
    else:
        pacsv.write_csv(table, path)
