"""Property-based tests: generated orders frames — optional columns present or absent, 1 day to 40 months of
history, ties, duplicate rows, returns, zero and missing values, one customer — through validation, RFM, ABC tiers,
cohorts and lifecycle stages. Nothing may raise but salesperf's own UserError, rows read = used + excluded, and
each metric's invariants hold.

The whole file runs in well under a minute: few examples per property (``deadline=None``: DuckDB's first query of
a connection is slow), and every frame is small.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesperf.analyses.lifecycle.cohorts import cohort_tables
from salesperf.analyses.lifecycle.queries import cohort_activity_sql, customer_summary_sql
from salesperf.analyses.lifecycle.rules import STAGES
from salesperf.analyses.lifecycle.stages import assign_stages
from salesperf.analyses.segmentation.rfm import rfm_sql, segment_rfm
from salesperf.analyses.segmentation.value import abc_tiers
from salesperf.core.errors import UserError
from salesperf.data.dataset import open_dataset

PERIOD, TODAY = "2026-10", "2026-11-27"
AS_OF = date(2026, 10, 31)
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
AMOUNTS = [-120.0, -10.0, 0.0, 5.0, 10.0, 10.0, 99.99, 250.0, 1000.0, 12_345.67]  # ties, returns, zero


@st.composite
def orders_frames(draw) -> pd.DataFrame:
    """An orders table as an export gives it: text cells, some empty, some rows repeated."""
    months = draw(st.sampled_from([0, 1, 3, 6, 11, 13, 40]))  # 0: everything on one day
    span = max(months * 30, 0)
    customers = draw(st.integers(1, 10))
    n = draw(st.integers(1, 40))
    rows = []
    for _ in range(n):
        offset = draw(st.integers(0, span))
        day = AS_OF - timedelta(days=offset)
        if draw(st.integers(0, 19)) == 0:  # now and then a line after the period end, or in the future
            day = AS_OF + timedelta(days=draw(st.sampled_from([3, 90])))
        rows.append(
            {
                "order_id": f"O{draw(st.integers(0, n))}",
                "customer_id": "" if draw(st.integers(0, 14)) == 0 else f"C{draw(st.integers(1, customers))}",
                "order_date": day.isoformat(),
                "amount": draw(st.sampled_from(AMOUNTS)),
                "status": draw(st.sampled_from(["completed", "completed", "returned", "cancelled", ""])),
                "channel": draw(st.sampled_from(["online", "direct", ""])),
                "category": draw(st.sampled_from(["A", "B"])),
                "currency": "GBP",
            }
        )
    frame = pd.DataFrame(rows)
    duplicates = draw(st.integers(0, 3))
    if duplicates:
        frame = pd.concat([frame, frame.head(duplicates)], ignore_index=True)
    optional = ["order_id", "status", "channel", "category", "currency"]
    keep = draw(st.lists(st.sampled_from(optional), unique=True))
    return frame[["customer_id", "order_date", "amount", *sorted(keep)]]


def _open(frame: pd.DataFrame, folder: Path):
    frame.to_csv(folder / "orders.csv", index=False)
    return open_dataset(folder, PERIOD, today=TODAY)


def _validated(frame: pd.DataFrame, folder: Path):
    """The dataset, or None when validation stopped with a UserError (the only error allowed)."""
    try:
        return _open(frame, folder)
    except UserError:
        return None


@SETTINGS
@given(orders_frames())
def test_validation_accounts_for_every_row(frame):
    with tempfile.TemporaryDirectory() as tmp:
        ds = _validated(frame, Path(tmp))
        if ds is None:  # only an orders table without any row is fatal here: the generator always gives rows
            pytest.fail("validation refused a readable orders table")
        q = ds.quality.get("orders")
        assert q.rows_read == len(frame)
        assert q.rows_read == q.rows_used + sum(q.excluded.values())
        assert ds.sql("SELECT count(*) AS n FROM orders")["n"].iloc[0] == q.rows_used
        assert all(n > 0 for n in q.excluded.values()) and all(n > 0 for n in q.flagged.values())
        used = ds.sql("SELECT * FROM orders")
        assert used["customer_id"].notna().all() and (used["amount"] != 0).all()
        assert (pd.to_datetime(used["order_date"]).dt.date <= AS_OF).all()
        assert ds.currency == ("GBP" if "currency" in frame.columns else "CNY")
        # the same data give the same accounting, examples included
        again = _open(frame, Path(tmp)).quality.get("orders")
        assert (again.excluded, again.flagged, again.examples) == (q.excluded, q.flagged, q.examples)


@SETTINGS
@given(orders_frames())
def test_rfm_and_abc_invariants(frame):
    with tempfile.TemporaryDirectory() as tmp:
        ds = _validated(frame, Path(tmp))
        rfm = rfm_sql(ds.con, AS_OF)
        if rfm.empty:
            return
        assert rfm["customer_id"].is_unique
        assert (rfm["recency"] >= 0).all() and (rfm["frequency"] >= 1).all()
        assert (rfm["first_purchase"] <= rfm["last_purchase"]).all()
        seg = segment_rfm(rfm)
        scored = seg.customers
        for col in ("r_score", "f_score", "m_score"):
            assert scored[col].between(1, 5).all(), col
        assert scored["segment"].notna().all() and scored["segment_cn8"].notna().all()
        assert int(seg.summary["customers"].sum()) == len(rfm)
        # a smaller recency never scores worse, a higher frequency or monetary never scores lower
        for col, score, better in (("recency", "r_score", -1), ("frequency", "f_score", 1), ("monetary", "m_score", 1)):
            ordered = scored.sort_values(col, ascending=better > 0)
            assert ordered[score].is_monotonic_increasing, col

        tiers = abc_tiers(rfm[["customer_id", "monetary"]])
        assert set(tiers.customers["abc_tier"]) <= {"A", "B", "C"}
        assert int(tiers.summary["customers"].sum()) == len(rfm)
        revenue = tiers.customers.groupby("abc_tier")["revenue"]
        lows, highs = revenue.min(), revenue.max()
        present = [t for t in "ABC" if t in lows.index]
        for better, worse in zip(present, present[1:], strict=False):
            assert lows[better] >= highs[worse], (better, worse)  # tiers are ordered by revenue
        assert tiers.summary["share"].sum() == pytest.approx(1.0)


@SETTINGS
@given(orders_frames(), st.sampled_from(["month", "quarter"]))
def test_cohort_invariants(frame, grain):
    with tempfile.TemporaryDirectory() as tmp:
        ds = _validated(frame, Path(tmp))
        activity = cohort_activity_sql(ds.con, AS_OF, grain)
        buyers = rfm_sql(ds.con, AS_OF)["customer_id"].nunique()
        if activity.empty:
            assert buyers == 0
            return
        report = cohort_tables(activity, grain)
        first = activity[activity["age"] == 0]
        assert int(first["cohort_size"].sum()) == buyers  # every buyer in exactly one cohort
        assert (first["customers"] == first["cohort_size"]).all()
        assert (activity["customers"] <= activity["cohort_size"]).all()
        assert report.headline["customers_acquired"] == buyers
        retention = report.retention.to_numpy(dtype=float)
        retention = retention[~np.isnan(retention)]
        assert ((retention >= 0) & (retention <= 1)).all()


@SETTINGS
@given(orders_frames())
def test_every_buyer_has_exactly_one_stage(frame):
    with tempfile.TemporaryDirectory() as tmp:
        ds = _validated(frame, Path(tmp))
        summary = customer_summary_sql(ds.con, AS_OF)
        stages = assign_stages(summary, AS_OF)
        assert len(stages) == len(summary) and stages["customer_id"].is_unique
        assert set(stages["stage"]) <= set(STAGES)
        assert set(stages["customer_id"]) == set(rfm_sql(ds.con, AS_OF)["customer_id"])
        assert (stages["recency_days"] >= 0).all() and (stages["occasions"] >= 1).all()


@settings(max_examples=10, deadline=None, derandomize=True)
@given(orders_frames(), st.lists(st.sampled_from(["GBP", "USD", "eur", "$", ""]), min_size=1, max_size=4))
def test_currencies_are_never_summed(frame, currencies):
    frame = frame.assign(currency=[currencies[i % len(currencies)] for i in range(len(frame))])
    codes = {c for c in ("GBP" if c == "GBP" else "USD" if c in ("USD", "$") else "EUR" if c else "" for c in
                         frame["currency"]) if c}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        try:
            ds = _open(frame, Path(tmp))
        except UserError as err:
            assert len(codes) > 1 and "no exchange rates" in err.message
            return
        assert len(codes) <= 1 and ds.currency == (codes.pop() if codes else "CNY")
