"""Per-customer aggregates in one DuckDB pass, shared by every section of the segmentation analysis.

The order lines are reduced once to purchase days (one row per customer and day: bought or not, net amount, gross
purchase amount, orders, category and channel sums), and the days to one row per customer holding every aggregate
the sections need: RFM at this period end and at the previous one, the status inputs at both dates, revenue in the
growth windows and the behavioural features. Distinct purchase days are counted once, by the first GROUP BY; every
later count is a plain filtered COUNT over days, so both dates cost one scan of the order lines. When the features
are asked for and lines carry an order_id, lines are first grouped by (customer, day, order) so that the orders of
a day are a plain count too (no COUNT DISTINCT anywhere). Every expression is plain SQL (CASE inside aggregates,
GROUP BY, GROUPING SETS, joins) that a warehouse also accepts.

:class:`AggregateQuery` composes that SQL from parts; :func:`rfm_sql`, :func:`status_inputs_sql` and
:func:`customer_features_sql` run it with a single part, :func:`customer_base_sql` with all of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from salesperf.analyses import lifecycle
from salesperf.core.errors import UserError
from salesperf.core.sql import (
    as_date,
    counted_predicate,
    purchase_predicate,
    quote_literal,
    relation_columns,
    require_columns,
    window_predicate,
)

CATEGORY_PREFIX = "category_share__"
CHANNEL_PREFIX = "channel_share__"
OTHER = "Other"
RFM_COLUMNS = ["customer_id", "recency", "frequency", "monetary", "first_purchase", "last_purchase"]
STATUS_FACT_COLUMNS = [
    "customer_id", "frequency", "first_purchase", "last_purchase", "frequency_before", "last_before",
    "first_in_period", "revenue_period",
]
# The purchase rhythm the lifecycle stage rule reads (salesperf.analyses.lifecycle.customer_summary_sql columns).
HISTORY_COLUMNS = ["occasions_before_recent", "typical_gap_days", "typical_gap_before_recent_days",
                   "recent_max_gap_days"]
STATUS_INPUT_COLUMNS = STATUS_FACT_COLUMNS + HISTORY_COLUMNS


def _literal(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


@dataclass(frozen=True)
class _Aggregate:
    """One customer-level aggregate over purchase days: ``function`` of ``value`` on the days that pass the filter.

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
            tests.append(f"d > {_literal(self.after)}")
        if self.upto is not None and self.upto < as_of:  # every day is <= as_of already
            tests.append(f"d <= {_literal(self.upto)}")
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
        """'count' (integer, 0 when no row), 'day' (a date, sent as days since 1970-01-01), 'gap' (days between
        purchase days, NULL when none) or 'sum' (0 when none)."""
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
    computed once. :meth:`run` returns one row per customer passing ``keep`` (an SQL condition on those columns),
    sorted by customer_id, dates as days since 1970-01-01 (converted by :func:`rfm_frame` and the like).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, as_of: dt.date):
        self.con = con
        self.as_of = as_of
        self.columns = require_columns(con, "orders", ["customer_id", "order_date", "amount"])
        self.purchase = purchase_predicate(self.columns)
        self.line_columns: set[str] = set()  # optional order columns the lines level must carry
        self.line_sums: list[tuple[str, str]] = []  # (line-level amount expression, alias) summed per day
        self.order_level = False  # count orders per day through an (order, day) level
        self.aggregates: dict[str, _Aggregate] = {}  # output name -> aggregate
        self.outer_columns: list[str] = []
        self.joins: list[str] = []
        self.known_dates: dict[str, dt.date] = {}
        self.crm_attributes: list[str] = []  # columns of customers carried to the output (region, owner_rep_id)
        self.earliest: dt.date | None = as_of  # lines on or before it are not needed; None = all history
        self.gaps = False  # days carry 'gap': days since the customer's previous purchase day (purchase days only)

    def _add(self, name: str, function: str, value: str, bought: bool, after=None, upto=None) -> None:
        self.aggregates[name] = _Aggregate(function, value, bought, after, upto)
        self.earliest = None if after is None or self.earliest is None else min(self.earliest, after)

    def add_rfm(self, prefix: str, end: dt.date, lookback_days: int | None) -> AggregateQuery:
        """{prefix}frequency, first_purchase, last_purchase (purchase days) and monetary (net) in the window."""
        after = None if lookback_days is None else end - dt.timedelta(days=int(lookback_days))
        self._add(f"{prefix}frequency", "COUNT", "d", True, after, end)
        self._add(f"{prefix}first_purchase", "MIN", "d", True, after, end)
        self._add(f"{prefix}last_purchase", "MAX", "d", True, after, end)
        self._add(f"{prefix}monetary", "SUM", "amount", False, after, end)
        return self

    def add_status(self, prefix: str, as_of: dt.date, period_start: dt.date) -> AggregateQuery:
        """The :data:`STATUS_INPUT_COLUMNS` facts as of ``as_of`` for the period (period_start, as_of], plus
        {prefix}known: 1 when the customer is in ``customers`` or ``opportunities`` with created_at <= as_of."""
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
        :func:`salesperf.analyses.lifecycle.customer_summary_sql` with this ``recent_days``), from the same purchase days:
        {prefix}occasions_before_recent, typical_gap_days, typical_gap_before_recent_days, recent_max_gap_days.

        The gap of a purchase day to the previous one does not depend on the date asked for (every earlier day is
        before it), so one window function over the days serves every date; each date is then a filtered aggregate.
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

    def add_features(self, lookback_days: int | None, max_categories: int = 8, max_channels: int = 6) -> \
            AggregateQuery:
        """n_orders, gross_revenue, first_purchase_ever, category/channel shares in the RFM window of as_of, and
        region, owner_rep_id (customers), activities (in the window) and csat, nps_score (feedback) when present."""
        after = None if lookback_days is None else self.as_of - dt.timedelta(days=int(lookback_days))
        self.order_level = "order_id" in self.columns
        self.line_columns |= {"order_id"} & set(self.columns)
        self.line_sums.append(("CASE WHEN buy = 1 THEN amount ELSE 0 END", "gross"))
        self._add("n_orders", "SUM", "orders", False, after, self.as_of)
        self._add("gross_revenue", "SUM", "gross", False, after, self.as_of)
        self._add("first_purchase_ever", "MIN", "d", True)
        buy_window = f"{self.purchase} AND {window_predicate(self.as_of, lookback_days, 'order_date')}"
        wanted = [(c, p, n) for c, p, n in (("category", CATEGORY_PREFIX, max_categories),
                                            ("channel", CHANNEL_PREFIX, max_channels)) if c in self.columns]
        for (column, prefix, _), (levels, has_other) in zip(wanted, self._top_levels(wanted, buy_window),
                                                            strict=True):
            self.line_columns.add(column)
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

    def _top_levels(self, wanted, buy_window: str) -> list[tuple[list[str], bool]]:
        """The ``limit`` largest levels of each mix column by purchase revenue in the window (one scan)."""
        if not wanted:
            return []
        sets = ", ".join(f"({c})" for c, _, _ in wanted)
        rows = self.con.execute(f"""
            SELECT {', '.join(f'{c}, GROUPING({c}) AS _g_{c}' for c, _, _ in wanted)}, SUM(amount) AS revenue
            FROM orders WHERE {buy_window} GROUP BY GROUPING SETS ({sets})
        """).fetchall()
        out = []
        for i, (_, _, limit) in enumerate(wanted):
            mine = sorted(((r[2 * i], r[-1]) for r in rows if r[2 * i + 1] == 0 and r[2 * i] is not None),
                          key=lambda lv: (-lv[1], str(lv[0])))
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
            self.joins.append(f"""LEFT JOIN (SELECT customer_id, COUNT(*) AS activities FROM activities
                                 WHERE {window_predicate(self.as_of, lookback_days, '"at"')} GROUP BY customer_id) act
                                 ON act.customer_id = p.customer_id""")
            self.outer_columns.append("COALESCE(act.activities, 0) AS activities")
        feedback = relation_columns(self.con, "feedback") or []
        if {"customer_id", "responded_at", "score", "kind"} <= set(feedback):
            self.joins.append(f"""LEFT JOIN (SELECT customer_id,
                                     AVG(CASE WHEN kind = 'csat' THEN score END) AS csat,
                                     AVG(CASE WHEN kind = 'nps' THEN score END) AS nps_score
                                 FROM feedback WHERE responded_at <= {_literal(self.as_of)} GROUP BY customer_id) fb
                                 ON fb.customer_id = p.customer_id""")
            self.outer_columns += ["fb.csat", "fb.nps_score"]

    def _crm_sql(self) -> str | None:
        """One row per customer_id of ``customers`` and ``opportunities``: a {prefix}known flag (0/1) per status date
        (created_at <= that date; always 1 without created_at) and the customers attributes asked for."""
        parts = []
        for relation in ("customers", "opportunities"):
            columns = relation_columns(self.con, relation) or []
            if "customer_id" not in columns or (relation == "opportunities" and not self.known_dates):
                continue
            created = "created_at" if "created_at" in columns else "CAST(NULL AS DATE)"
            always = "0" if "created_at" in columns else "1"
            attributes = "".join(f", {c if c in columns else 'CAST(NULL AS VARCHAR)'} AS {c}"
                                 for c in self.crm_attributes)
            parts.append(f"SELECT customer_id, {created} AS created_at, {always} AS always{attributes} "
                         f"FROM {relation} WHERE customer_id IS NOT NULL")
        if not parts:
            return None
        flags = [f"MAX(CASE WHEN always = 1 OR created_at <= {_literal(day)} THEN 1 ELSE 0 END) AS {name}"
                 for name, day in self.known_dates.items()]
        flags += [f"MAX({c}) AS {c}" for c in self.crm_attributes]
        return f"SELECT customer_id, {', '.join(flags)} FROM ({' UNION ALL '.join(parts)}) k GROUP BY customer_id"

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
        extra = "".join(f", {c}" for c in sorted(self.line_columns))
        lower = "" if self.earliest is None else f" AND order_date > {_literal(self.earliest)}"
        return f"""
            WITH lines AS (
                SELECT customer_id, CAST(order_date AS DATE) AS d, amount,
                       CASE WHEN {self.purchase} THEN 1 ELSE 0 END AS buy {extra}
                FROM orders
                WHERE order_date <= {_literal(self.as_of)}{lower} AND {counted_predicate(self.columns)}
            ),
            {self._days_sql()},{self._gaps_sql()}
            per_customer AS (
                SELECT customer_id, {', '.join(inner)}
                FROM {"gapped_days" if self.gaps else "days"} GROUP BY customer_id
            ){f", crm AS ({crm})" if crm else ""}
            SELECT * FROM (
                SELECT {', '.join(outer)}
                FROM {source} {' '.join(self.joins)}
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


# -- turning the aggregate columns into each section's frame --------------------------------------------------------

def _epoch(as_of: dt.date) -> int:
    return (as_of - dt.date(1970, 1, 1)).days


def _dates(aggregates: pd.DataFrame, column: str, rows: np.ndarray) -> np.ndarray:
    """A day column (days since 1970-01-01, NaN/NA when missing) as datetime64[ns] on ``rows``."""
    days = aggregates[column].to_numpy(dtype="float64", na_value=np.nan)[rows]
    out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[ns]")
    known = ~np.isnan(days)
    out[known] = days[known].astype("int64").astype("datetime64[D]")
    return out


def _pick(aggregates: pd.DataFrame, column: str, rows: np.ndarray, dtype=None) -> np.ndarray:
    values = aggregates[column].to_numpy()[rows]
    return values if dtype is None else values.astype(dtype)


def _count(aggregates: pd.DataFrame, column: str) -> np.ndarray:
    """A count column as int64 (rows of customers known without an order line hold NaN/NA: 0)."""
    return np.nan_to_num(aggregates[column].to_numpy(dtype="float64", na_value=np.nan)).astype("int64")


def rfm_frame(aggregates: pd.DataFrame, as_of, prefix: str = "") -> pd.DataFrame:
    """RFM columns (see :func:`salesperf.analyses.segmentation.rfm.rfm_sql`) of the customers with a purchase in the window.

    Parameters
    ----------
    aggregates : DataFrame
        Output of :meth:`AggregateQuery.run` with an :meth:`~AggregateQuery.add_rfm` part of this ``prefix``.
    as_of : date-like
        The window's end (recency is counted to it).

    Returns
    -------
    DataFrame
        customer_id, recency, frequency, monetary, first_purchase, last_purchase; same order as ``aggregates``.
    """
    frequency = _count(aggregates, f"{prefix}frequency")
    rows = np.flatnonzero(frequency > 0)
    last = _pick(aggregates, f"{prefix}last_purchase", rows, "int64")
    return pd.DataFrame(copy=False, data={
        "customer_id": _pick(aggregates, "customer_id", rows),
        "recency": _epoch(as_date(as_of)) - last,
        "frequency": frequency[rows],
        "monetary": _pick(aggregates, f"{prefix}monetary", rows, "float64"),
        "first_purchase": _dates(aggregates, f"{prefix}first_purchase", rows),
        "last_purchase": last.astype("datetime64[D]").astype("datetime64[ns]"),
    })


def status_frame(aggregates: pd.DataFrame, prefix: str = "status_", history: pd.DataFrame | None = None) -> \
        pd.DataFrame:
    """The :data:`STATUS_INPUT_COLUMNS` of the customers who bought by the date or are known to the CRM by then.

    Customers who never bought get frequency 0, empty dates and revenue_period 0 (returns alone are not purchases).
    The :data:`HISTORY_COLUMNS` come from the aggregates when they hold an :meth:`AggregateQuery.add_history` part
    of this ``prefix``, else from ``history``, the lifecycle customer summary at the same date
    (:func:`salesperf.analyses.lifecycle.customer_summary_sql`); without either they are left empty.
    """
    frequency = _count(aggregates, f"{prefix}frequency")
    known = _count(aggregates, f"{prefix}known") > 0 if f"{prefix}known" in aggregates else False
    rows = np.flatnonzero((frequency > 0) | known)
    never = frequency[rows] == 0
    revenue = np.nan_to_num(_pick(aggregates, f"{prefix}revenue_period", rows, "float64"))
    out = {"customer_id": _pick(aggregates, "customer_id", rows), "frequency": frequency[rows]}
    for name in ("first_purchase", "last_purchase"):
        out[name] = _dates(aggregates, f"{prefix}{name}", rows)
    out["frequency_before"] = _count(aggregates, f"{prefix}frequency_before")[rows]
    for name in ("last_before", "first_in_period"):
        out[name] = _dates(aggregates, f"{prefix}{name}", rows)
    out["revenue_period"] = np.where(never, 0.0, revenue)
    if history is None and all(f"{prefix}{c}" in aggregates for c in HISTORY_COLUMNS):
        out["occasions_before_recent"] = _count(aggregates, f"{prefix}occasions_before_recent")[rows]
        for name in HISTORY_COLUMNS[1:]:
            out[name] = aggregates[f"{prefix}{name}"].to_numpy(dtype="float64", na_value=np.nan)[rows]
        return pd.DataFrame({c: out[c] for c in STATUS_INPUT_COLUMNS}, copy=False)
    return with_history(pd.DataFrame({c: out[c] for c in STATUS_FACT_COLUMNS}, copy=False), history)


def with_history(facts: pd.DataFrame, history: pd.DataFrame | None) -> pd.DataFrame:
    """``facts`` (one row per customer_id) plus the :data:`HISTORY_COLUMNS` of the lifecycle summary ``history``;
    customers absent from it (never bought) get 0 occasions_before_recent and NaN gaps."""
    out = facts.copy()
    if history is None:
        picked = pd.DataFrame(np.nan, index=range(len(out)), columns=HISTORY_COLUMNS)
    else:
        picked = history.set_index("customer_id")[HISTORY_COLUMNS].reindex(out["customer_id"].astype(str).to_numpy())
    for column in HISTORY_COLUMNS:
        out[column] = picked[column].to_numpy(dtype="float64")
    out["occasions_before_recent"] = np.nan_to_num(out["occasions_before_recent"].to_numpy()).astype("int64")
    return out


def features_frame(aggregates: pd.DataFrame, as_of, prefix: str = "") -> pd.DataFrame:
    """Behavioural features (see :func:`salesperf.analyses.segmentation.features.customer_features_sql`) of the customers
    with a purchase in the RFM window of ``prefix``; same order as ``aggregates``."""
    rows = np.flatnonzero(_count(aggregates, f"{prefix}frequency") > 0)
    rfm = rfm_frame(aggregates, as_of, prefix)
    out = {c: rfm[c].to_numpy() for c in ("customer_id", "recency", "frequency", "monetary")}
    out["n_orders"] = _count(aggregates, "n_orders")[rows]
    out["gross_revenue"] = _pick(aggregates, "gross_revenue", rows, "float64")
    out["tenure_days"] = _epoch(as_date(as_of)) - _pick(aggregates, "first_purchase_ever", rows, "int64")
    tops = {}
    for share_prefix, name in ((CATEGORY_PREFIX, "top_category"), (CHANNEL_PREFIX, "top_channel")):
        cols = [c for c in aggregates.columns if c.startswith(share_prefix)]
        if not cols:
            continue
        block = np.nan_to_num(aggregates[cols].to_numpy(dtype="float64", na_value=np.nan)[rows], nan=0.0)
        for j, col in enumerate(cols):
            out[col] = block[:, j]
        tops[name] = np.array([c[len(share_prefix):] for c in cols], dtype=object)[block.argmax(axis=1)]
    for col in ("region", "owner_rep_id", "activities", "csat", "nps_score"):
        if col in aggregates:
            out[col] = _pick(aggregates, col, rows)
    out.update(tops)
    return pd.DataFrame(out, copy=False)


def window_revenue_frame(aggregates: pd.DataFrame) -> pd.DataFrame:
    """Index customer_id, one float column per window added with :meth:`AggregateQuery.add_windows`."""
    cols = [c for c in aggregates.columns if c.startswith("revenue__")]
    out = aggregates[cols].astype("float64").copy()
    out.columns = [c[len("revenue__"):] for c in cols]
    out.index = pd.Index(aggregates["customer_id"].to_numpy(), name="customer_id")
    return out


# -- the whole base for one period ---------------------------------------------------------------------------------

@dataclass
class CustomerBase:
    """Every per-customer aggregate of one period, from :func:`customer_base_sql`.

    Attributes
    ----------
    frame : DataFrame
        One row per customer who bought by ``as_of`` or is known to the CRM by then, sorted by customer_id, with the
        columns of the parts '' (RFM now), 'previous_' (RFM at the previous date), 'status_' and 'previous_status_'
        (status inputs), 'revenue__current', 'revenue__at_previous', 'revenue__before' and the feature columns.
    as_of, previous_as_of, before_previous : date
        This period is (previous_as_of, as_of]; the previous one (before_previous, previous_as_of].
    lookback_days : int or None
    growth_window_days : int
    history, previous_history : DataFrame, optional
        Lifecycle customer summaries at ``as_of`` and ``previous_as_of``
        (:func:`salesperf.analyses.lifecycle.customer_summary_sql`) when given; by default None, the purchase rhythm the
        status rule reads being the 'status_' / 'previous_status_' history columns of ``frame``
        (:meth:`AggregateQuery.add_history`).
    """

    frame: pd.DataFrame
    as_of: dt.date
    previous_as_of: dt.date
    before_previous: dt.date
    lookback_days: int | None
    growth_window_days: int
    history: pd.DataFrame | None = field(default=None, repr=False)
    previous_history: pd.DataFrame | None = field(default=None, repr=False)
    _index: pd.Index | None = field(default=None, repr=False)

    @property
    def index(self) -> pd.Index:
        """customer_id of every row, as one Index object (so Series aligned on it never need re-indexing)."""
        if self._index is None:
            self._index = pd.Index(self.frame["customer_id"].to_numpy(), name="customer_id")
        return self._index

    def mask(self, part: str) -> np.ndarray:
        """Boolean per row: the customer is in the section 'rfm', 'previous_rfm', 'status' or 'previous_status'
        (the frames of :meth:`rfm` and :meth:`status_inputs` are these rows, in this order)."""
        f = self.frame
        if part in ("rfm", "previous_rfm"):
            return _count(f, ("" if part == "rfm" else "previous_") + "frequency") > 0
        if part in ("status", "previous_status"):
            prefix = part + "_"
            return (_count(f, f"{prefix}frequency") > 0) | (_count(f, f"{prefix}known") > 0)
        raise UserError(f"customer base: unknown part {part!r}", hint="rfm, previous_rfm, status, previous_status")

    def rfm(self, which: str = "current") -> pd.DataFrame:
        """RFM frame at ``as_of`` ('current') or at ``previous_as_of`` ('previous'); see :func:`rfm_frame`."""
        if _which(which) == "current":
            return rfm_frame(self.frame, self.as_of, "")
        return rfm_frame(self.frame, self.previous_as_of, "previous_")

    def status_inputs(self, which: str = "current") -> pd.DataFrame:
        """Status inputs for (previous_as_of, as_of] ('current') or (before_previous, previous_as_of] ('previous')."""
        if _which(which) == "current":
            return status_frame(self.frame, "status_", self.history)
        return status_frame(self.frame, "previous_status_", self.previous_history)

    def features(self) -> pd.DataFrame:
        """Behavioural features as of ``as_of`` (:func:`features_frame`), same rows and order as ``rfm()``."""
        return features_frame(self.frame, self.as_of, "")

    def window_revenue(self) -> pd.DataFrame:
        """Revenue per customer in the growth windows ending at as_of ('current'), previous_as_of ('at_previous') and
        as_of - growth_window_days ('before'), indexed like :attr:`index`."""
        out = window_revenue_frame(self.frame)
        out.index = self.index
        return out


def _which(which: str) -> str:
    if which not in ("current", "previous"):
        raise UserError(f"customer base: which must be 'current' or 'previous', got {which!r}")
    return which


def customer_base_sql(con: duckdb.DuckDBPyConnection, as_of, previous_as_of, *, lookback_days: int | None = None,
                      growth_window_days: int = 365, max_categories: int = 8,
                      max_channels: int = 6, lifecycle_rules: lifecycle.LifecycleRules | None = None) -> CustomerBase:
    """Every per-customer aggregate the segmentation sections need, for both dates, in one DuckDB query.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        With ``orders`` and optionally customers, opportunities, activities, feedback (canonical columns).
    as_of, previous_as_of : date-like
        This period is (previous_as_of, as_of]; the previous period has the same length and ends on previous_as_of.
    lookback_days : int, optional
        RFM / feature window; None = all history.
    growth_window_days : int
        Length of the revenue windows used by grading and migration.
    lifecycle_rules : LifecycleRules, optional
        Sets the reactivation window of the purchase-rhythm summaries (defaults to lifecycle.yml).

    Returns
    -------
    CustomerBase
    """
    as_of, previous = as_date(as_of), as_date(previous_as_of, "previous_as_of")
    if previous >= as_of:
        raise UserError(f"previous_as_of ({previous}) must be before as_of ({as_of})")
    before_previous = previous - (as_of - previous)
    growth = dt.timedelta(days=int(growth_window_days))
    recent = (lifecycle_rules or lifecycle.load_rules()).reactivation_days
    query = (AggregateQuery(con, as_of)
             .add_rfm("", as_of, lookback_days)
             .add_rfm("previous_", previous, lookback_days)
             .add_status("status_", as_of, previous)
             .add_status("previous_status_", previous, before_previous)
             .add_history("status_", as_of, recent)
             .add_history("previous_status_", previous, recent)
             .add_windows({"current": as_of, "at_previous": previous, "before": as_of - growth},
                          growth_window_days)
             .add_features(lookback_days, max_categories, max_channels))
    frame = query.run("status_frequency > 0 OR status_known = 1")
    return CustomerBase(frame, as_of, previous, before_previous, lookback_days, int(growth_window_days))
