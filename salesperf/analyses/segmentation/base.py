"""Per-customer aggregates of one period, shared by every section of the segmentation analysis.

:func:`customer_base_sql` runs one :class:`~salesperf.analyses.segmentation.queries.AggregateQuery` holding
every part (RFM at this period end and at the previous one, the status inputs at both dates, revenue in the
growth windows and the behavioural features); the functions below turn its columns into each section's frame
(:func:`rfm_frame`, :func:`status_frame`, :func:`features_frame`, :func:`window_revenue_frame`), and
:class:`CustomerBase` holds them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from salesperf.analyses import lifecycle
from salesperf.analyses.segmentation.queries import (
    CATEGORY_PREFIX,
    CHANNEL_PREFIX,
    REGION_PREFIX,
    AggregateQuery,
)
from salesperf.core.errors import UserError
from salesperf.core.expr import as_date
from salesperf.data.engine import Engine

RFM_COLUMNS = ["customer_id", "recency", "frequency", "monetary", "first_purchase", "last_purchase"]
STATUS_FACT_COLUMNS = [
    "customer_id",
    "frequency",
    "first_purchase",
    "last_purchase",
    "frequency_before",
    "last_before",
    "first_in_period",
    "revenue_period",
]
# The purchase rhythm the lifecycle stage rule reads (salesperf.analyses.lifecycle.customer_summary_sql
# columns).
HISTORY_COLUMNS = [
    "occasions_before_recent",
    "typical_gap_days",
    "typical_gap_before_recent_days",
    "recent_max_gap_days",
]
STATUS_INPUT_COLUMNS = STATUS_FACT_COLUMNS + HISTORY_COLUMNS


def bought(aggregates: ir.Table) -> ir.BooleanValue:
    """The customers with a purchase day in the RFM window (a ``keep`` of :meth:`AggregateQuery.run`)."""
    return aggregates.frequency > 0


def in_status(aggregates: ir.Table) -> ir.BooleanValue:
    """The customers who bought by the status date or are known to the CRM by then."""
    return (aggregates.status_frequency > 0) | (aggregates.status_known == 1)


# -- turning the aggregate columns into each section's frame -------------------------------------------------


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
    """RFM columns (see :func:`salesperf.analyses.segmentation.rfm.rfm_sql`) of the customers with a purchase
    in the window.

    Parameters
    ----------
    aggregates : DataFrame
        Output of :meth:`AggregateQuery.run` with an :meth:`~AggregateQuery.add_rfm` part of this ``prefix``.
    as_of : date-like
        The window's end (recency is counted to it).

    Returns
    -------
    DataFrame
        customer_id, recency, frequency, monetary, first_purchase, last_purchase; same order as
        ``aggregates``.
    """
    frequency = _count(aggregates, f"{prefix}frequency")
    rows = np.flatnonzero(frequency > 0)
    last = _pick(aggregates, f"{prefix}last_purchase", rows, "int64")
    return pd.DataFrame(
        copy=False,
        data={
            "customer_id": _pick(aggregates, "customer_id", rows),
            "recency": _epoch(as_date(as_of)) - last,
            "frequency": frequency[rows],
            "monetary": _pick(aggregates, f"{prefix}monetary", rows, "float64"),
            "first_purchase": _dates(aggregates, f"{prefix}first_purchase", rows),
            "last_purchase": last.astype("datetime64[D]").astype("datetime64[ns]"),
        },
    )


def status_frame(
    aggregates: pd.DataFrame, prefix: str = "status_", history: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The :data:`STATUS_INPUT_COLUMNS` of the customers who bought by the date or are known to the CRM by
    then.

    Customers who never bought get frequency 0, empty dates and revenue_period 0 (returns alone are not
    purchases). The :data:`HISTORY_COLUMNS` come from the aggregates when they hold an
    :meth:`AggregateQuery.add_history` part of this ``prefix``, else from ``history``, the lifecycle customer
    summary at the same date (:func:`salesperf.analyses.lifecycle.customer_summary_sql`); without either they
    are left empty.
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
    """``facts`` (one row per customer_id) plus the :data:`HISTORY_COLUMNS` of the lifecycle summary
    ``history``; customers absent from it (never bought) get 0 occasions_before_recent and NaN gaps."""
    out = facts.copy()
    if history is None:
        picked = pd.DataFrame(np.nan, index=range(len(out)), columns=HISTORY_COLUMNS)
    else:
        picked = history.set_index("customer_id")[HISTORY_COLUMNS].reindex(
            out["customer_id"].astype(str).to_numpy()
        )
    for column in HISTORY_COLUMNS:
        out[column] = picked[column].to_numpy(dtype="float64")
    out["occasions_before_recent"] = np.nan_to_num(out["occasions_before_recent"].to_numpy()).astype("int64")
    return out


def features_frame(aggregates: pd.DataFrame, as_of, prefix: str = "") -> pd.DataFrame:
    """Behavioural features (see :func:`salesperf.analyses.segmentation.features.customer_features_sql`) of
    the customers with a purchase in the RFM window of ``prefix``; same order as ``aggregates``."""
    rows = np.flatnonzero(_count(aggregates, f"{prefix}frequency") > 0)
    rfm = rfm_frame(aggregates, as_of, prefix)
    out = {c: rfm[c].to_numpy() for c in ("customer_id", "recency", "frequency", "monetary")}
    out["n_orders"] = _count(aggregates, "n_orders")[rows]
    out["gross_revenue"] = _pick(aggregates, "gross_revenue", rows, "float64")
    out["tenure_days"] = _epoch(as_date(as_of)) - _pick(aggregates, "first_purchase_ever", rows, "int64")
    tops = {}
    mixes = ((CATEGORY_PREFIX, "top_category"), (CHANNEL_PREFIX, "top_channel"), (REGION_PREFIX, None))
    for share_prefix, name in mixes:
        cols = [c for c in aggregates.columns if c.startswith(share_prefix)]
        if not cols:
            continue
        block = np.nan_to_num(aggregates[cols].to_numpy(dtype="float64", na_value=np.nan)[rows], nan=0.0)
        for j, col in enumerate(cols):
            out[col] = block[:, j]
        if name is None:  # region shares feed the profiles only
            continue
        tops[name] = np.array([c[len(share_prefix) :] for c in cols], dtype=object)[block.argmax(axis=1)]
    for col in ("region", "owner_rep_id", "activities", "csat", "nps_score"):
        if col in aggregates:
            out[col] = _pick(aggregates, col, rows)
    out.update(tops)
    return pd.DataFrame(out, copy=False)


def window_revenue_frame(aggregates: pd.DataFrame) -> pd.DataFrame:
    """Index customer_id, one float column per window added with :meth:`AggregateQuery.add_windows`."""
    cols = [c for c in aggregates.columns if c.startswith("revenue__")]
    out = aggregates[cols].astype("float64").copy()
    out.columns = [c[len("revenue__") :] for c in cols]
    out.index = pd.Index(aggregates["customer_id"].to_numpy(), name="customer_id")
    return out


# -- the whole base for one period ---------------------------------------------------------------------------


@dataclass
class CustomerBase:
    """Every per-customer aggregate of one period, from :func:`customer_base_sql`.

    Attributes
    ----------
    frame : DataFrame
        One row per customer who bought by ``as_of`` or is known to the CRM by then, sorted by customer_id,
        with the columns of the parts '' (RFM now), 'previous_' (RFM at the previous date), 'status_' and
        'previous_status_' (status inputs), 'revenue__current', 'revenue__at_previous', 'revenue__before' and
        the feature columns.
    as_of, previous_as_of, before_previous : date
        This period is (previous_as_of, as_of]; the previous one (before_previous, previous_as_of].
    lookback_days : int or None
    growth_window_days : int
    history, previous_history : DataFrame, optional
        Lifecycle customer summaries at ``as_of`` and ``previous_as_of``
        (:func:`salesperf.analyses.lifecycle.customer_summary_sql`) when given; by default None, the purchase
        rhythm the status rule reads being the 'status_' / 'previous_status_' history columns of ``frame``
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
        """Boolean per row: the customer is in the section 'rfm', 'previous_rfm', 'status' or
        'previous_status' (the frames of :meth:`rfm` and :meth:`status_inputs` are these rows, in this
        order)."""
        f = self.frame
        if part in ("rfm", "previous_rfm"):
            return _count(f, ("" if part == "rfm" else "previous_") + "frequency") > 0
        if part in ("status", "previous_status"):
            prefix = part + "_"
            return (_count(f, f"{prefix}frequency") > 0) | (_count(f, f"{prefix}known") > 0)
        raise UserError(
            f"customer base: unknown part {part!r}", hint="rfm, previous_rfm, status, previous_status"
        )

    def rfm(self, which: str = "current") -> pd.DataFrame:
        """RFM frame at ``as_of`` ('current') or at ``previous_as_of`` ('previous'); see :func:`rfm_frame`."""
        if _which(which) == "current":
            return rfm_frame(self.frame, self.as_of, "")
        return rfm_frame(self.frame, self.previous_as_of, "previous_")

    def status_inputs(self, which: str = "current") -> pd.DataFrame:
        """Status inputs for (previous_as_of, as_of] ('current') or (before_previous, previous_as_of]
        ('previous')."""
        if _which(which) == "current":
            return status_frame(self.frame, "status_", self.history)
        return status_frame(self.frame, "previous_status_", self.previous_history)

    def features(self) -> pd.DataFrame:
        """Behavioural features as of ``as_of`` (:func:`features_frame`), same rows and order as ``rfm()``."""
        return features_frame(self.frame, self.as_of, "")

    def window_revenue(self) -> pd.DataFrame:
        """Revenue per customer in the growth windows ending at as_of ('current'), previous_as_of
        ('at_previous') and as_of - growth_window_days ('before'), indexed like :attr:`index`."""
        out = window_revenue_frame(self.frame)
        out.index = self.index
        return out


def _which(which: str) -> str:
    if which not in ("current", "previous"):
        raise UserError(f"customer base: which must be 'current' or 'previous', got {which!r}")
    return which


def customer_base_sql(
    engine: Engine,
    as_of,
    previous_as_of,
    before_previous,
    *,
    lookback_days: int | None = None,
    growth_window_days: int = 365,
    max_categories: int = 8,
    max_channels: int = 6,
    lifecycle_rules: lifecycle.LifecycleRules | None = None,
) -> CustomerBase:
    """Every per-customer aggregate the segmentation sections need, for both dates, in one engine query.

    Parameters
    ----------
    engine : Engine
        With ``orders`` and optionally customers, opportunities, activities, feedback (canonical columns).
    as_of, previous_as_of, before_previous : date-like
        This period is (previous_as_of, as_of]; the previous one (before_previous, previous_as_of]. For a
        report period ``p`` these are ``p.end``, ``p.previous.end`` and ``p.previous.previous.end``: the
        previous *calendar* period (September is Sep 1..Sep 30 whatever the length of October).
    lookback_days : int, optional
        RFM / feature window; None = all history.
    growth_window_days : int
        Length of the revenue windows used by grading and migration.
    lifecycle_rules : LifecycleRules, optional
        Sets the reactivation window of the purchase-rhythm summaries (defaults to lifecycle's rules.yml).

    Returns
    -------
    CustomerBase
        ``frame`` has one row per customer who bought by ``as_of`` or is known to the CRM by then.
    """
    as_of, previous = as_date(as_of), as_date(previous_as_of, "previous_as_of")
    before_previous = as_date(before_previous, "before_previous")
    if not before_previous < previous < as_of:
        raise UserError(
            f"period ends out of order: {before_previous} < {previous} < {as_of} does not hold",
            hint="pass the ends of the period before the previous one, the previous one and this one",
        )
    growth = dt.timedelta(days=int(growth_window_days))
    recent = (lifecycle_rules or lifecycle.load_rules()).reactivation_days
    query = (
        AggregateQuery(engine, as_of)
        .add_rfm("", as_of, lookback_days)
        .add_rfm("previous_", previous, lookback_days)
        .add_status("status_", as_of, previous)
        .add_status("previous_status_", previous, before_previous)
        .add_history("status_", as_of, recent)
        .add_history("previous_status_", previous, recent)
        .add_windows(
            {"current": as_of, "at_previous": previous, "before": as_of - growth}, growth_window_days
        )
        .add_features(lookback_days, max_categories, max_channels)
    )
    frame = query.run(in_status)
    return CustomerBase(frame, as_of, previous, before_previous, lookback_days, int(growth_window_days))
