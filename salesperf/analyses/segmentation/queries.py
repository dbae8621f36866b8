"""The SQL of the per-customer aggregate: order lines -> purchase days -> one row per customer, in one DuckDB
pass.

The order lines are reduced once to purchase days (one row per customer and day: bought or not, net amount,
gross purchase amount, orders, category and channel sums), and the days to one row per customer holding every
aggregate the sections ask for. Distinct purchase days are counted once, by the first GROUP BY; every later
count is a plain filtered COUNT over days, so several dates cost one scan of the order lines. When the
features are asked for and lines carry an order_id, lines are first grouped by (customer, day, order) so that
the orders of a day are a plain count too (no COUNT DISTINCT anywhere). Every expression is plain SQL (CASE
inside aggregates, GROUP BY, GROUPING SETS, joins) that a warehouse also accepts.

:class:`AggregateQuery` composes that SQL from parts (``add_rfm``, ``add_status``, ``add_history``,
``add_windows``, ``add_features``); :mod:`salesperf.analyses.segmentation.base` turns its output into each
section's frame.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from salesperf.analyses.lifecycle import holds_values
from salesperf.core.sql import (
    counted_predicate,
    date_literal,
    purchase_predicate,
    quote_literal,
    relation_columns,
    require_columns,
    window_predicate,
)

CATEGORY_PREFIX = "category_share__"
CHANNEL_PREFIX = "channel_share__"
REGION_PREFIX = "region_share__"
OTHER = "Other"
#: The mixes of a customer's purchases: (column, share prefix, the table holding the column when a line has
#: none, its key on the line). The line's value wins where it has one (a store's export: a region per line).
MIXES = (
    ("category", CATEGORY_PREFIX, "products", "product_id"),
    ("channel", CHANNEL_PREFIX, "customers", "customer_id"),
    ("region", REGION_PREFIX, "customers", "customer_id"),
)


def mix_source(con: duckdb.DuckDBPyConnection, column: str) -> tuple[bool, str | None]:
    """Where the ``column`` of a mix (:data:`MIXES`) comes from: (whether order lines hold it, the table that
    gives it to lines without one — ``customers`` or ``products`` — or None when that table does not).

    A column "held" is present with at least one value (a validated table carries every canonical column,
    empty where the source had none).
    """
    _, _, table, key = next(m for m in MIXES if m[0] == column)
    on_entity = key in (relation_columns(con, "orders") or []) and holds_values(con, table, column)
    return holds_values(con, "orders", column), table if on_entity else None


@dataclass(frozen=True)
class _Aggregate:
    """One customer-level aggregate over purchase days: ``function`` of ``value`` on the days that pass the
    filter.

    ``bought`` keeps purchase days only; ``after`` / ``upto`` bound the day: after < d <= upto (None = open).
    """

    function: str  # COUNT, MIN, MAX, SUM or MEDIAN (percentile_cont(0.5), NULLs ignored)
    value: str  # a column of the days level ('d', 'amount', 'orders', 'gap', ...)
    bought: bool
    after: dt.date | None
    upto: dt.date | None

    def sql(self, as_of: dt.date) -> str:
        tests = ["bought = 1"] if self.bought else []
        if self.after is not None:
            tests.append(f"d > {date_literal(self.after)}")
        if self.upto is not None and self.upto < as_of:  # every day is <= as_of already
            tests.append(f"d <= {date_literal(self.upto)}")
        value = "1" if self.function == "COUNT" else self.value
        if self.function == "MEDIAN":
            ordered = f"CASE WHEN {' AND '.join(tests)} THEN {value} END" if tests else value
            return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {ordered})"
        if not tests:
            return f"{self.function}({value})" if self.function != "COUNT" else "COUNT(*)"
        otherwise = " ELSE 0" if self.function == "SUM" else ""
        return f"{self.function}(CASE WHEN {' AND '.join(tests)} THEN {value}{otherwise} END)"

    @property
    def kind(self) -> str:
        """'count' (integer, 0 when no row), 'day' (a date, sent as days since 1970-01-01), 'gap' (days
        between purchase days, NULL when none) or 'sum' (0 when none)."""
        if self.function == "COUNT":
            return "count"
        return "day" if self.value == "d" else "gap" if self.value == "gap" else "sum"


class AggregateQuery:
    """Builds the two-level aggregate (order lines -> purchase days -> customers) from parts.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        With ``orders`` (canonical columns; ``status``, ``order_id``, ``category``, ``channel`` optional).
    as_of : date
        Latest date any part looks at; lines after it are ignored.

    Each ``add_*`` method names customer-level columns (with a prefix); the same aggregate asked for twice is
    computed once. :meth:`run` returns one row per customer passing ``keep`` (an SQL condition on those
    columns), sorted by customer_id, dates as days since 1970-01-01 (converted by :func:`rfm_frame` and the
    like).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, as_of: dt.date):
        self.con = con
        self.as_of = as_of
        self.columns = require_columns(con, "orders", ["customer_id", "order_date", "amount"])
        self.purchase = purchase_predicate(self.columns)
        self.line_columns: dict[str, str] = {}  # alias -> SQL expression the lines level must carry
        self.line_joins: dict[str, str] = {}  # table -> join giving lines its column (a mix column)
        self.line_sums: list[tuple[str, str]] = []  # (line-level amount expression, alias) summed per day
        self.order_level = False  # count orders per day through an (order, day) level
        self.aggregates: dict[str, _Aggregate] = {}  # output name -> aggregate
        self.outer_columns: list[str] = []
        self.joins: list[str] = []
        self.known_dates: dict[str, dt.date] = {}
        self.crm_attributes: list[
            str
        ] = []  # columns of customers carried to the output (region, owner_rep_id)
        self.earliest: dt.date | None = as_of  # lines on or before it are not needed; None = all history
        self.gaps = (
            False  # days carry 'gap': days since the customer's previous purchase day (purchase days only)
        )

    def _add(self, name: str, function: str, value: str, bought: bool, after=None, upto=None) -> None:
        self.aggregates[name] = _Aggregate(function, value, bought, after, upto)
        self.earliest = None if after is None or self.earliest is None else min(self.earliest, after)

    def add_rfm(self, prefix: str, end: dt.date, lookback_days: int | None) -> AggregateQuery:
        """{prefix}frequency, first_purchase, last_purchase (purchase days) and monetary (net) in the
        window."""
        after = None if lookback_days is None else end - dt.timedelta(days=int(lookback_days))
        self._add(f"{prefix}frequency", "COUNT", "d", True, after, end)
        self._add(f"{prefix}first_purchase", "MIN", "d", True, after, end)
        self._add(f"{prefix}last_purchase", "MAX", "d", True, after, end)
        self._add(f"{prefix}monetary", "SUM", "amount", False, after, end)
        return self

    def add_status(self, prefix: str, as_of: dt.date, period_start: dt.date) -> AggregateQuery:
        """The :data:`STATUS_INPUT_COLUMNS` facts as of ``as_of`` for the period (period_start, as_of], plus
        {prefix}known: 1 when the customer is in ``customers`` or ``opportunities`` with created_at <=
        as_of."""
        self._add(f"{prefix}frequency", "COUNT", "d", True, None, as_of)
        self._add(f"{prefix}first_purchase", "MIN", "d", True, None, as_of)
        self._add(f"{prefix}last_purchase", "MAX", "d", True, None, as_of)
        self._add(f"{prefix}frequency_before", "COUNT", "d", True, None, period_start)
        self._add(f"{prefix}last_before", "MAX", "d", True, None, period_start)
        self._add(f"{prefix}first_in_period", "MIN", "d", True, period_start, as_of)
        self._add(f"{prefix}revenue_period", "SUM", "amount", False, period_start, as_of)
        self.known_dates[f"{prefix}known"] = as_of
        return self

    def add_history(self, prefix: str, as_of: dt.date, recent_days: int) -> AggregateQuery:
        """The :data:`HISTORY_COLUMNS` at ``as_of`` (the purchase rhythm of
        :func:`salesperf.analyses.lifecycle.customer_summary_sql` with this ``recent_days``), from the same
        purchase days: {prefix}occasions_before_recent, typical_gap_days, typical_gap_before_recent_days,
        recent_max_gap_days.

        The gap of a purchase day to the previous one does not depend on the date asked for (every earlier day
        is before it), so one window function over the days serves every date; each date is then a filtered
        aggregate.
        """
        cut = as_of - dt.timedelta(days=int(recent_days))
        self.gaps = True
        self._add(f"{prefix}occasions_before_recent", "COUNT", "d", True, None, cut)
        self._add(f"{prefix}typical_gap_days", "MEDIAN", "gap", True, None, as_of)
        self._add(f"{prefix}typical_gap_before_recent_days", "MEDIAN", "gap", True, None, cut)
        self._add(f"{prefix}recent_max_gap_days", "MAX", "gap", True, cut, as_of)
        return self

    def add_windows(self, ends: dict[str, dt.date], days: int) -> AggregateQuery:
        """revenue__{name}: net revenue in (end - days, end] for each named end."""
        for name, end in ends.items():
            self._add(f"revenue__{name}", "SUM", "amount", False, end - dt.timedelta(days=int(days)), end)
        return self

    def add_features(
        self, lookback_days: int | None, max_categories: int = 8, max_channels: int = 6, max_regions: int = 8
    ) -> AggregateQuery:
        """n_orders, gross_revenue, first_purchase_ever, category/channel/region shares (:data:`MIXES`: the
        line's value, else the customer's or product's) in the RFM window of as_of, and region, owner_rep_id
        (customers), activities (in the window) and csat, nps_score (feedback) when present."""
        after = None if lookback_days is None else self.as_of - dt.timedelta(days=int(lookback_days))
        self.order_level = "order_id" in self.columns
        if self.order_level:
            self.line_columns["order_id"] = "order_id"
        self.line_sums.append(("CASE WHEN buy = 1 THEN amount ELSE 0 END", "gross"))
        self._add("n_orders", "SUM", "orders", False, after, self.as_of)
        self._add("gross_revenue", "SUM", "gross", False, after, self.as_of)
        self._add("first_purchase_ever", "MIN", "d", True)
        buy_window = f"{self.purchase} AND {window_predicate(self.as_of, lookback_days, 'order_date')}"
        limits = {"category": max_categories, "channel": max_channels, "region": max_regions}
        wanted = []
        for column, prefix, _, _ in MIXES:
            expression = self._mix_expression(column)
            if expression is not None:
                self.line_columns[column] = expression
                wanted.append((column, prefix, limits[column]))
        for (column, prefix, _), (levels, has_other) in zip(
            wanted, self._top_levels(wanted, buy_window), strict=True
        ):
            conditions = [(f"{column} = {quote_literal(level)}", level) for level in levels]
            if has_other:
                listed = ", ".join(quote_literal(level) for level in levels)
                conditions.append((f"({column} IS NULL OR {column} NOT IN ({listed}))", OTHER))
            for i, (condition, level) in enumerate(conditions):
                alias = f"_{column}_{i}"
                self.line_sums.append((f"CASE WHEN buy = 1 AND {condition} THEN amount ELSE 0 END", alias))
                self._add(alias, "SUM", alias, False, after, self.as_of)
                self.outer_columns.append(f'p.{alias} / NULLIF(p.gross_revenue, 0) AS "{prefix}{level}"')
        self._feature_joins(lookback_days)
        return self

    def _mix_expression(self, column: str) -> str | None:
        """SQL of a mix column on the lines level (the line's value, else its customer's or product's; the
        join is added to :attr:`line_joins`); None when neither has it."""
        on_line, table = mix_source(self.con, column)
        if table is None:
            return column if on_line else None
        key = next(m[3] for m in MIXES if m[0] == column)
        wanted = sorted({c for c, _, t, _ in MIXES if t == table and mix_source(self.con, c)[1] == table})
        values = ", ".join(f"MAX({c}) AS _{table}_{c}" for c in wanted)
        self.line_joins[table] = (
            f"LEFT JOIN (SELECT {key}, {values} FROM {table} WHERE {key} IS NOT NULL GROUP BY {key}) "
            f"_{table} USING ({key})"
        )
        return f"COALESCE({column}, _{table}_{column})" if on_line else f"_{table}_{column}"

    def _from_lines(self) -> str:
        """``orders`` with the joins that give lines their customer's or product's mix columns."""
        return " ".join(["orders", *self.line_joins.values()])

    def _top_levels(self, wanted, buy_window: str) -> list[tuple[list[str], bool]]:
        """The ``limit`` largest levels of each mix column by purchase revenue in the window (one scan)."""
        if not wanted:
            return []
        sets = ", ".join(f"({c})" for c, _, _ in wanted)
        values = ", ".join(f"{self.line_columns[c]} AS {c}" for c, _, _ in wanted)
        rows = self.con.execute(f"""
            SELECT {", ".join(f"{c}, GROUPING({c}) AS _g_{c}" for c, _, _ in wanted)}, SUM(amount) AS revenue
            FROM (SELECT amount, {values} FROM {self._from_lines()} WHERE {buy_window}) AS mixed
            GROUP BY GROUPING SETS ({sets})
        """).fetchall()
        out = []
        for i, (_, _, limit) in enumerate(wanted):
            mine = sorted(
                ((r[2 * i], r[-1]) for r in rows if r[2 * i + 1] == 0 and r[2 * i] is not None),
                key=lambda lv: (-lv[1], str(lv[0])),
            )
            levels = [str(level) for level, _ in mine]
            out.append((levels[:limit], len(levels) > limit))
        return out

    def _feature_joins(self, lookback_days: int | None) -> None:
        customers = relation_columns(self.con, "customers") or []
        if "customer_id" in customers:  # read with the CRM flags, in the same pass over customers
            self.crm_attributes = [c for c in ("region", "owner_rep_id") if c in customers]
            self.outer_columns += [f"k.{c}" for c in self.crm_attributes]
        activities = relation_columns(self.con, "activities") or []
        if {"customer_id", "at"} <= set(activities):
            in_window = window_predicate(self.as_of, lookback_days, '"at"')
            self.joins.append(f"""LEFT JOIN (SELECT customer_id, COUNT(*) AS activities FROM activities
                                 WHERE {in_window} GROUP BY customer_id) act
                                 ON act.customer_id = p.customer_id""")
            self.outer_columns.append("COALESCE(act.activities, 0) AS activities")
        feedback = relation_columns(self.con, "feedback") or []
        if {"customer_id", "responded_at", "score", "kind"} <= set(feedback):
            as_of_literal = date_literal(self.as_of)
            self.joins.append(f"""LEFT JOIN (SELECT customer_id,
                                     AVG(CASE WHEN kind = 'csat' THEN score END) AS csat,
                                     AVG(CASE WHEN kind = 'nps' THEN score END) AS nps_score
                                 FROM feedback WHERE responded_at <= {as_of_literal} GROUP BY customer_id) fb
                                 ON fb.customer_id = p.customer_id""")
            self.outer_columns += ["fb.csat", "fb.nps_score"]

    def _crm_sql(self) -> str | None:
        """One row per customer_id of ``customers`` and ``opportunities``: a {prefix}known flag (0/1) per
        status date (created_at <= that date; known whenever a record has no created_at) and the customers
        attributes asked for."""
        parts = []
        for relation in ("customers", "opportunities"):
            columns = relation_columns(self.con, relation) or []
            if "customer_id" not in columns or (relation == "opportunities" and not self.known_dates):
                continue
            created = "created_at" if "created_at" in columns else "CAST(NULL AS DATE)"
            attributes = "".join(
                f", {c if c in columns else 'CAST(NULL AS VARCHAR)'} AS {c}" for c in self.crm_attributes
            )
            parts.append(
                f"SELECT customer_id, {created} AS created_at{attributes} "
                f"FROM {relation} WHERE customer_id IS NOT NULL"
            )
        if not parts:
            return None
        flags = [
            f"MAX(CASE WHEN created_at IS NULL OR created_at <= {date_literal(day)} THEN 1 ELSE 0 END) "
            f"AS {name}"
            for name, day in self.known_dates.items()
        ]
        flags += [f"MAX({c}) AS {c}" for c in self.crm_attributes]
        crm_rows = " UNION ALL ".join(parts)
        return f"SELECT customer_id, {', '.join(flags)} FROM ({crm_rows}) k GROUP BY customer_id"

    def _days_sql(self) -> str:
        sums = "".join(f", SUM({expr}) AS {alias}" for expr, alias in self.line_sums)
        if not self.order_level:
            return f"""days AS (
                SELECT customer_id, d, MAX(buy) AS bought, SUM(amount) AS amount, MAX(buy) AS orders {sums}
                FROM lines GROUP BY customer_id, d
            )"""
        # One row per order and day first, so that the orders of a day are a plain count on the next level.
        resums = "".join(f", SUM({alias}) AS {alias}" for _, alias in self.line_sums)
        return f"""order_days AS (
                SELECT customer_id, d, order_id, MAX(buy) AS buy, SUM(amount) AS amount {sums}
                FROM lines GROUP BY customer_id, d, order_id
            ),
            days AS (
                SELECT customer_id, d, MAX(buy) AS bought, SUM(amount) AS amount,
                       COUNT(CASE WHEN buy = 1 THEN 1 END) AS orders {resums}
                FROM order_days GROUP BY customer_id, d
            )"""

    def _gaps_sql(self) -> str:
        if not self.gaps:
            return ""
        return """
            gapped_days AS (
                SELECT *, CASE WHEN bought = 1
                               THEN d - LAG(d) OVER (PARTITION BY customer_id, bought ORDER BY d) END AS gap
                FROM days
            ),"""

    def sql(self, keep: str) -> str:
        """The whole query; ``keep`` is a condition on the output columns (e.g. 'frequency > 0')."""
        computed: dict[str, str] = {}  # aggregate SQL -> the first output name holding it
        inner, outer = [], []
        crm = self._crm_sql() if self.known_dates or self.crm_attributes else None
        for name, aggregate in self.aggregates.items():
            expr = aggregate.sql(self.as_of)
            if expr not in computed:
                computed[expr] = name
                inner.append(f"{expr} AS {name}")
            if name.startswith("_"):  # internal (e.g. a mix sum): only read by the outer columns
                continue
            value = f"p.{computed[expr]}"
            if aggregate.kind == "day":
                value = f"CAST({value} - DATE '1970-01-01' AS INTEGER)"
            elif aggregate.kind == "gap":
                value = f"CAST({value} AS DOUBLE)"
            elif crm and self.known_dates:  # customers known without an order line have no aggregates
                value = f"COALESCE({value}, 0)"
            outer.append(f"{value} AS {name}")
        if crm and self.known_dates:  # customers known to the CRM without an order line get a row too
            source = "per_customer p FULL OUTER JOIN crm k ON k.customer_id = p.customer_id"
            outer.insert(0, "COALESCE(p.customer_id, k.customer_id) AS customer_id")
            outer += [f"COALESCE(k.{name}, 0) AS {name}" for name in self.known_dates]
        else:
            source = "per_customer p" + (" LEFT JOIN crm k ON k.customer_id = p.customer_id" if crm else "")
            outer.insert(0, "p.customer_id")
            outer += [f"0 AS {name}" for name in self.known_dates]
        outer += self.outer_columns
        extra = "".join(f", {e} AS {c}" for c, e in sorted(self.line_columns.items()))
        lower = "" if self.earliest is None else f" AND order_date > {date_literal(self.earliest)}"
        return f"""
            WITH lines AS (
                SELECT customer_id, CAST(order_date AS DATE) AS d, amount,
                       CASE WHEN {self.purchase} THEN 1 ELSE 0 END AS buy {extra}
                FROM {self._from_lines()}
                WHERE order_date <= {date_literal(self.as_of)}{lower} AND {counted_predicate(self.columns)}
            ),
            {self._days_sql()},{self._gaps_sql()}
            per_customer AS (
                SELECT customer_id, {", ".join(inner)}
                FROM {"gapped_days" if self.gaps else "days"} GROUP BY customer_id
            ){f", crm AS ({crm})" if crm else ""}
            SELECT * FROM (
                SELECT {", ".join(outer)}
                FROM {source} {" ".join(self.joins)}
            ) AS joined
            WHERE {keep}
            ORDER BY customer_id
        """

    def run(self, keep: str) -> pd.DataFrame:
        """Execute :meth:`sql`; one row per customer passing ``keep``, sorted by customer_id."""
        columns = {}
        for name, values in self.con.execute(self.sql(keep)).fetchnumpy().items():
            if isinstance(values, np.ma.MaskedArray):  # NULLs: NaN for numbers, None for texts
                fill = None if values.dtype == object else np.nan
                values = values.astype("float64").filled(fill) if fill is not None else values.filled(fill)
            columns[name] = values
        frame = pd.DataFrame(columns, copy=False)  # no block consolidation: columns are read one by one
        if not pd.api.types.is_string_dtype(frame["customer_id"]):
            frame["customer_id"] = frame["customer_id"].astype(str)
        return frame
