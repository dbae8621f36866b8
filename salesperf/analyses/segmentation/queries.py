"""The per-customer aggregate as one engine-neutral Ibis query: order lines -> purchase days -> one row per
customer.

The order lines are reduced once to purchase days (one row per customer and day: bought or not, net amount,
gross purchase amount, orders, category and channel sums), and the days to one row per customer holding every
aggregate the sections ask for. Distinct purchase days are counted once, by the first GROUP BY; every later
count is a plain filtered COUNT over days, so several dates cost one scan of the order lines. When the
features are asked for and lines carry an order_id, lines are first grouped by (customer, day, order) so that
the orders of a day are a plain count too (no COUNT DISTINCT anywhere). The query is built with Ibis over
:meth:`Engine.table <salesperf.data.engine.Engine.table>` and runs unchanged in DuckDB, PostgreSQL and Spark:
money sums are rounded to cents in the engine (:func:`salesperf.core.expr.money`), medians are exact
(``percentile_cont`` / ``quantile_cont`` / Spark's exact ``percentile``) and dates leave the engine as days
since 1970-01-01.

:class:`AggregateQuery` composes that query from parts (``add_rfm``, ``add_status``, ``add_history``,
``add_windows``, ``add_features``); :mod:`salesperf.analyses.segmentation.base` turns its output into each
section's frame.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from salesperf.analyses.segmentation.sources import (
    MIXES,
    as_engine,
    columns_of,
    mix_source,
    require_orders,
    upto,
)
from salesperf.core.expr import counted_line, line_or_entity, money, purchase_line, with_attributes
from salesperf.data.engine import Engine

CATEGORY_PREFIX = "category_share__"
CHANNEL_PREFIX = "channel_share__"
REGION_PREFIX = "region_share__"
OTHER = "Other"
_PREFIXES = {"category": CATEGORY_PREFIX, "channel": CHANNEL_PREFIX, "region": REGION_PREFIX}

@dataclass(frozen=True)
class _Aggregate:
    """One customer-level aggregate over purchase days: ``function`` of ``value`` on the days that pass the
    filter.

    ``bought`` keeps purchase days only; ``after`` / ``upto`` bound the day: after < d <= upto (None = open;
    an ``upto`` at or after the query's as_of is stored as None, every day being <= as_of already).
    """

    function: str  # count, min, max, sum or median (exact, NULLs ignored)
    value: str  # a column of the days level ('d', 'amount', 'orders', 'gap', ...)
    bought: bool
    after: dt.date | None
    upto: dt.date | None

    def test(self, days: ir.Table) -> ir.BooleanValue | None:
        """The filter on the days level (None: every day)."""
        tests = [days.bought == 1] if self.bought else []
        if self.after is not None:
            tests.append(days.d > ibis.date(self.after))
        if self.upto is not None:
            tests.append(days.d <= ibis.date(self.upto))
        return ibis.and_(*tests) if tests else None

    def expr(self, days: ir.Table) -> ir.Scalar:
        """The aggregate over the days of one customer (a money sum rounded to cents)."""
        test, value = self.test(days), days[self.value]
        if self.function == "count":
            return value.count(where=test)
        if self.function == "median":  # no FILTER: Spark needs a constant percentage in its percentile
            return (value if test is None else ibis.ifelse(test, value, ibis.null())).median()
        if self.function == "sum":
            total = (value if test is None else ibis.ifelse(test, value, 0)).sum()
            return total if self.value == "orders" else money(total)
        return getattr(value, self.function)(where=test)

    @property
    def kind(self) -> str:
        """'count' (integer, 0 when no row), 'day' (a date, sent as days since 1970-01-01), 'gap' (days
        between purchase days, NULL when none) or 'sum' (0 when none)."""
        if self.function == "count":
            return "count"
        return "day" if self.value == "d" else "gap" if self.value == "gap" else "sum"


class AggregateQuery:
    """Builds the two-level aggregate (order lines -> purchase days -> customers) from parts.

    Parameters
    ----------
    engine : Engine
        With ``orders`` (canonical columns; ``status``, ``order_id``, ``category``, ``channel`` optional).
    as_of : date
        Latest date any part looks at; lines after it are ignored.

    Each ``add_*`` method names customer-level columns (with a prefix); the same aggregate asked for twice is
    computed once. :meth:`run` returns one row per customer passing ``keep`` (a condition on those columns),
    sorted by customer_id, dates as days since 1970-01-01 (converted by :func:`rfm_frame` and the like).
    """

    def __init__(self, engine: Engine, as_of: dt.date):
        self.engine = as_engine(engine)
        self.as_of = as_of
        self.columns = require_orders(self.engine, ["customer_id", "order_date", "amount"])
        self.mixes: list[str] = []  # mix columns the lines level carries (the line's, else its entity's)
        self.entity_columns: dict[str, list[str]] = {}  # table -> its columns joined to the lines
        self.line_sums: dict[str, Callable[[ir.Table], ir.BooleanValue]] = {}  # alias -> purchase filter
        self.order_level = False  # count orders per day through an (order, day) level
        self.aggregates: dict[str, _Aggregate] = {}  # output name -> aggregate
        self.shares: dict[str, str] = {}  # output share column -> internal sum alias (over gross_revenue)
        self.known_dates: dict[str, dt.date] = {}
        self.crm_attributes: list[str] = []  # columns of customers carried to the output (region, owner)
        self.activities_after: dt.date | None | bool = False  # False: no activities count
        self.feedback = False
        self.earliest: dt.date | None = as_of  # lines on or before it are not needed; None = all history
        self.gaps = False  # days carry 'gap': days since the customer's previous purchase day

    def _add(self, name: str, function: str, value: str, bought: bool, after=None, upto=None) -> None:
        upto = None if upto is None or upto >= self.as_of else upto
        self.aggregates[name] = _Aggregate(function, value, bought, after, upto)
        self.earliest = None if after is None or self.earliest is None else min(self.earliest, after)

    def add_rfm(self, prefix: str, end: dt.date, lookback_days: int | None) -> AggregateQuery:
        """{prefix}frequency, first_purchase, last_purchase (purchase days) and monetary (net) in the
        window."""
        after = None if lookback_days is None else end - dt.timedelta(days=int(lookback_days))
        self._add(f"{prefix}frequency", "count", "d", True, after, end)
        self._add(f"{prefix}first_purchase", "min", "d", True, after, end)
        self._add(f"{prefix}last_purchase", "max", "d", True, after, end)
        self._add(f"{prefix}monetary", "sum", "amount", False, after, end)
        return self

    def add_status(self, prefix: str, as_of: dt.date, period_start: dt.date) -> AggregateQuery:
        """The :data:`STATUS_INPUT_COLUMNS` facts as of ``as_of`` for the period (period_start, as_of], plus
        {prefix}known: 1 when the customer is in ``customers`` or ``opportunities`` with created_at <=
        as_of."""
        self._add(f"{prefix}frequency", "count", "d", True, None, as_of)
        self._add(f"{prefix}first_purchase", "min", "d", True, None, as_of)
        self._add(f"{prefix}last_purchase", "max", "d", True, None, as_of)
        self._add(f"{prefix}frequency_before", "count", "d", True, None, period_start)
        self._add(f"{prefix}last_before", "max", "d", True, None, period_start)
        self._add(f"{prefix}first_in_period", "min", "d", True, period_start, as_of)
        self._add(f"{prefix}revenue_period", "sum", "amount", False, period_start, as_of)
        self.known_dates[f"{prefix}known"] = as_of
        return self

    def add_history(self, prefix: str, as_of: dt.date, recent_days: int) -> AggregateQuery:
        """The :data:`HISTORY_COLUMNS` at ``as_of`` (the purchase rhythm of the lifecycle customer summary
        with this ``recent_days``), from the same purchase days: {prefix}occasions_before_recent,
        typical_gap_days, typical_gap_before_recent_days, recent_max_gap_days.

        The gap of a purchase day to the previous one does not depend on the date asked for (every earlier day
        is before it), so one window function over the days serves every date; each date is then a filtered
        aggregate.
        """
        cut = as_of - dt.timedelta(days=int(recent_days))
        self.gaps = True
        self._add(f"{prefix}occasions_before_recent", "count", "d", True, None, cut)
        self._add(f"{prefix}typical_gap_days", "median", "gap", True, None, as_of)
        self._add(f"{prefix}typical_gap_before_recent_days", "median", "gap", True, None, cut)
        self._add(f"{prefix}recent_max_gap_days", "max", "gap", True, cut, as_of)
        return self

    def add_windows(self, ends: dict[str, dt.date], days: int) -> AggregateQuery:
        """revenue__{name}: net revenue in (end - days, end] for each named end."""
        for name, end in ends.items():
            self._add(f"revenue__{name}", "sum", "amount", False, end - dt.timedelta(days=int(days)), end)
        return self

    def add_features(
        self, lookback_days: int | None, max_categories: int = 8, max_channels: int = 6, max_regions: int = 8
    ) -> AggregateQuery:
        """n_orders, gross_revenue, first_purchase_ever, category/channel/region shares (:data:`MIXES`: the
        line's value, else the customer's or product's) in the RFM window of as_of, and region, owner_rep_id
        (customers), activities (in the window) and csat, nps_score (feedback) when present."""
        after = None if lookback_days is None else self.as_of - dt.timedelta(days=int(lookback_days))
        self.order_level = "order_id" in self.columns
        self.line_sums["gross"] = lambda lines: ibis.literal(True)
        self._add("n_orders", "sum", "orders", False, after, self.as_of)
        self._add("gross_revenue", "sum", "gross", False, after, self.as_of)
        self._add("first_purchase_ever", "min", "d", True)
        for column, _, table, _ in MIXES:
            on_line, source = mix_source(self.engine, column)
            if on_line or source:
                self.mixes.append(column)
            if source:
                self.entity_columns.setdefault(table, []).append(column)
        limits = {"category": max_categories, "channel": max_channels, "region": max_regions}
        for column, (levels, has_other) in self._top_levels(after, limits).items():
            for i, level in enumerate([*levels, OTHER] if has_other else levels):
                alias = f"_{column}_{i}"
                self.line_sums[alias] = _level_test(column, levels, None if level == OTHER else level)
                self._add(alias, "sum", alias, False, after, self.as_of)
                self.shares[f"{_PREFIXES[column]}{level}"] = alias
        customers = columns_of(self.engine, "customers")
        if "customer_id" in customers:  # read with the CRM flags, in the same pass over customers
            self.crm_attributes = [c for c in ("region", "owner_rep_id") if c in customers]
        if {"customer_id", "at"} <= set(columns_of(self.engine, "activities")):
            self.activities_after = after
        self.feedback = {"customer_id", "responded_at", "score", "kind"} <= set(
            columns_of(self.engine, "feedback")
        )
        return self

    # -- the query, level by level ---------------------------------------------------------------------------

    def _orders(self) -> ir.Table:
        """``orders`` with the customers' and products' mix columns joined (:func:`with_attributes`)."""
        orders = self.engine.table("orders")
        for table, columns in self.entity_columns.items():
            key = next(m[3] for m in MIXES if m[2] == table)
            orders = with_attributes(orders, self.engine.table(table), key, columns)
        return orders

    def _top_levels(self, after: dt.date | None, limits: dict[str, int]) -> dict[str, tuple[list[str], bool]]:
        """The ``limit`` largest levels of each mix column by purchase revenue in the window (one scan: the
        revenue per combination of levels, rolled up per column here)."""
        if not self.mixes:
            return {}
        orders = self._orders()
        window = [purchase_line(orders), upto(orders.order_date, self.as_of)]
        if after is not None:
            window.append(~upto(orders.order_date, after))
        rows = orders.filter(*window)
        combos = rows.group_by(**{c: line_or_entity(rows, c) for c in self.mixes}).aggregate(
            revenue=money(rows.amount.sum())
        )
        frame = self.engine.fetch(combos).sort_values(self.mixes, ignore_index=True)  # a fixed sum order
        out = {}
        for column in self.mixes:
            revenue = frame.groupby(column)["revenue"].sum()
            ranked = sorted(revenue.items(), key=lambda lv: (-lv[1], str(lv[0])))
            levels = [str(level) for level, _ in ranked]
            out[column] = (levels[: limits[column]], len(levels) > limits[column])
        return out

    def _lines(self) -> ir.Table:
        """Counted lines up to as_of (from the earliest date any part needs): customer_id, d, amount, buy
        (1 for a purchase line), order_id at the order level and the mix columns."""
        orders = self._orders()
        keep = [upto(orders.order_date, self.as_of), counted_line(orders)]
        if self.earliest is not None:
            keep.append(~upto(orders.order_date, self.earliest))
        rows = orders.filter(*keep)
        values = {
            "customer_id": rows.customer_id,
            "d": rows.order_date.cast("date"),
            "amount": rows.amount,
            "buy": ibis.ifelse(purchase_line(rows), 1, 0),
        }
        if self.order_level:
            values["order_id"] = rows.order_id
        values |= {c: line_or_entity(rows, c) for c in self.mixes}
        return rows.select(**values)

    def _days(self) -> ir.Table:
        """One row per customer and day: bought (0/1), amount (net), orders (purchase orders; 1 per purchase
        day without the order level), the line sums; and gap when the history is asked for."""
        lines = self._lines()
        sums = {a: ibis.ifelse((lines.buy == 1) & test(lines), lines.amount, 0).sum() for a, test in
                self.line_sums.items()}
        if not self.order_level:
            days = lines.group_by("customer_id", "d").aggregate(
                bought=lines.buy.max(), amount=lines.amount.sum(), orders=lines.buy.max(), **sums
            )
        else:  # one row per order and day first: the orders of a day are then a plain count
            orders = lines.group_by("customer_id", "d", "order_id").aggregate(
                buy=lines.buy.max(), amount=lines.amount.sum(), **sums
            )
            days = orders.group_by("customer_id", "d").aggregate(
                bought=orders.buy.max(),
                amount=orders.amount.sum(),
                orders=orders.buy.count(where=orders.buy == 1),
                **{a: orders[a].sum() for a in self.line_sums},
            )
        if not self.gaps:
            return days
        previous = days.d.lag().over(group_by=[days.customer_id, days.bought], order_by=days.d)
        return days.mutate(gap=ibis.ifelse(days.bought == 1, days.d.delta(previous, unit="day"), ibis.null()))

    def _per_customer(self) -> tuple[ir.Table, dict[str, str]]:
        """One row per customer with each distinct aggregate once, and {output name: the column holding
        it}."""
        days = self._days()
        held: dict[_Aggregate, str] = {}
        for name, aggregate in self.aggregates.items():
            held.setdefault(aggregate, name)
        per = days.group_by("customer_id").aggregate(**{n: a.expr(days) for a, n in held.items()})
        return per, {name: held[aggregate] for name, aggregate in self.aggregates.items()}

    def _crm(self) -> ir.Table | None:
        """One row per customer_id (as ``_crm_id``) of ``customers`` and ``opportunities``: a {prefix}known
        flag (0/1) per status date (created_at <= that date; known whenever a record has no created_at) and
        the customers' attributes asked for."""
        parts, types = [], {}
        for relation in ("customers", "opportunities"):
            columns = columns_of(self.engine, relation)
            if "customer_id" not in columns or (relation == "opportunities" and not self.known_dates):
                continue
            table = self.engine.table(relation)
            attributes = {c: table[c] if c in columns else ibis.null(types.get(c, "string")) for c in
                          self.crm_attributes}
            types |= {c: v.type() for c, v in attributes.items()}
            created = table.created_at if "created_at" in columns else ibis.null("date")
            parts.append((table.filter(table.customer_id.notnull()), created, attributes))
        if not parts:
            return None
        stamp = any(created.type().is_timestamp() for _, created, _ in parts)
        rows = ibis.union(*(
            table.select(_crm_id=table.customer_id, created_at=created.cast("timestamp" if stamp else "date"),
                         **{c: v.cast(types[c]) for c, v in attributes.items()})
            for table, created, attributes in parts
        ), distinct=False)
        flags = {name: ibis.ifelse(rows.created_at.isnull() | upto(rows.created_at, day), 1, 0).max()
                 for name, day in self.known_dates.items()}
        return rows.group_by("_crm_id").aggregate(**flags, **{c: rows[c].max() for c in self.crm_attributes})

    def _side_tables(self, per: ir.Table) -> ir.Table:
        """``per`` with the activities count (in the window) and the mean CSAT / NPS scores (up to as_of)."""
        if self.activities_after is not False:
            act = self.engine.table("activities")
            window = [upto(act["at"], self.as_of)]
            if self.activities_after is not None:
                window.append(~upto(act["at"], self.activities_after))
            act = act.filter(*window)
            counts = act.group_by(_act_id=act.customer_id).aggregate(activities=act.count())
            per = per.left_join(counts, per.customer_id == counts._act_id).drop("_act_id")
        if self.feedback:
            fb = self.engine.table("feedback")
            fb = fb.filter(upto(fb.responded_at, self.as_of))
            scores = fb.group_by(_fb_id=fb.customer_id).aggregate(
                csat=fb.score.mean(where=fb.kind == "csat"), nps_score=fb.score.mean(where=fb.kind == "nps")
            )
            per = per.left_join(scores, per.customer_id == scores._fb_id).drop("_fb_id")
        return per

    def expr(self, keep: Callable[[ir.Table], ir.BooleanValue] | None = None) -> ir.Table:
        """The whole query; ``keep`` is a condition on the output columns (e.g. ``lambda t: t.frequency >
        0``)."""
        per, names = self._per_customer()
        per = self._side_tables(per)
        crm = self._crm() if self.known_dates or self.crm_attributes else None
        full = crm is not None and bool(self.known_dates)  # customers known without an order line too
        if crm is not None:
            per = (per.outer_join if full else per.left_join)(crm, per.customer_id == crm._crm_id)
        out = {"customer_id": per.customer_id.fill_null(per._crm_id) if full else per.customer_id}
        for name, column in names.items():
            if name.startswith("_"):  # internal (a mix sum): only read by the share columns
                continue
            value, kind = per[column], self.aggregates[name].kind
            if kind == "day":
                value = value.epoch_days()
            elif kind == "gap":
                value = value.cast("float64")
            elif full:  # customers known without an order line have no aggregates
                value = value.fill_null(0)
            out[name] = value
        for name in self.known_dates:
            out[name] = per[name].fill_null(0) if full else ibis.literal(0)
        gross = per[names["gross_revenue"]] if self.shares else None
        # named by their aliases in the engine: levels that differ only in case ('East', 'east') are two
        # columns, which SQL's case-blind names would merge; run() gives them their share names
        out |= {alias: per[names[alias]] / gross.nullif(0) for alias in self.shares.values()}
        out |= {c: per[c] for c in self.crm_attributes}
        if self.activities_after is not False:
            out["activities"] = per.activities.fill_null(0)
        if self.feedback:
            out |= {"csat": per.csat, "nps_score": per.nps_score}
        result = per.select(**out)
        return (result if keep is None else result.filter(keep(result))).order_by("customer_id")

    def run(self, keep: Callable[[ir.Table], ir.BooleanValue] | None = None) -> pd.DataFrame:
        """Execute :meth:`expr`; one row per customer passing ``keep``, sorted by customer_id (a frame of
        customers x output columns: NaN / None where the engine gave NULL)."""
        table = self.engine.arrow(self.expr(keep))  # Engine.fetch, converted column by column:
        frame = table.to_pandas(self_destruct=True, split_blocks=True)  # each Arrow column freed once copied
        del table
        frame = frame.rename(columns={alias: share for share, alias in self.shares.items()})
        if not pd.api.types.is_string_dtype(frame["customer_id"]):
            frame["customer_id"] = frame["customer_id"].astype(str)
        return frame


def _level_test(column: str, levels: list[str], level: str | None) -> Callable[[ir.Table], ir.BooleanValue]:
    """The lines of one level of a mix column (``level`` None: the pooled rest, 'Other', NULL included)."""
    if level is not None:
        return lambda lines: lines[column] == level
    return lambda lines: lines[column].isnull() | ~lines[column].isin(levels)
