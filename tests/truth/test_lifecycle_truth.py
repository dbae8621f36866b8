"""Planted effects of the demo company recovered by the lifecycle analysis (truth.json of salesperf.data.demo)."""

from __future__ import annotations

import json

import duckdb
import pytest

from salesperf.analyses import lifecycle as lc
from salesperf.analyses.lifecycle import clv
from salesperf.data import demo as demo_module

# ---------------------------------------------------------------------------------------------- demo company, BG/NBD


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = demo_module.generate(tmp_path_factory.mktemp("demo"), customers=20_000, seed=3)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    con = duckdb.connect()
    for table in ("orders", "customers"):
        con.sql(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{folder / (table + '.parquet')}')")
    return con, truth


def test_bgnbd_recovers_planted_group_parameters(demo):
    """Fit BG/NBD per planted group (17k buyers, 4 years) and compare the well-identified summaries.

    The raw (r, alpha) and (a, b) trade off along ridges of the likelihood, so we compare the mean purchase rate
    r/alpha (per week) and the mean drop-out probability a/(a+b). Over seeds 0-5 the largest observed errors were
    7 % on the rate (key_accounts, ~850 customers: sampling sd ~3 % plus a ~-3 % bias from day-resolution dates and
    same-day purchases merged into one occasion) and 14 % on the drop-out (key_accounts, planted 0.048, sd ~7 %
    relative; the big groups stay within 5 %). Tolerances of 12 % (rate) and 25 % (drop-out) are about 3 sd beyond
    the bias; swapping any two groups' truths breaks both (neighbouring groups differ >= 1.9x in each).
    """
    con, truth = demo
    summary = clv.summary_sql(con, truth["end"])
    summary["group"] = summary.index.map(truth["customer_segment"])
    summary = summary[summary["T"] > 0]
    for name, planted in truth["groups"].items():
        members = summary[summary["group"] == name]
        fitted = clv.BetaGeo().fit(members["frequency"], members["recency"], members["T"]).params_
        true = planted["bgnbd"]
        rate, true_rate = fitted["r"] / fitted["alpha"], true["r"] / true["alpha"]
        dropout, true_dropout = fitted["a"] / (fitted["a"] + fitted["b"]), true["a"] / (true["a"] + true["b"])
        assert len(members) > 500, name
        assert rate == pytest.approx(true_rate, rel=0.12), f"{name}: r/alpha {rate:.4f} vs {true_rate:.4f}"
        assert dropout == pytest.approx(true_dropout, rel=0.25), (
            f"{name}: a/(a+b) {dropout:.4f} vs {true_dropout:.4f}"
        )


def test_demo_lifecycle_follows_the_planted_groups(demo):
    """The planted groups are ordered by mean purchase rate (key accounts every ~4 weeks ... one-off buyers every
    ~160) and inversely by drop-out per purchase, so the active share must fall and the churned share rise along
    that order. On seeds 0, 1 and 3 the neighbouring shares differ by >= 0.04 (churned) and >= 0.09 (active) with
    ~1 000 to 7 000 customers per group (binomial sd <= 0.016), so the ordering is not a coin flip."""
    con, truth = demo
    snapshot = lc.lifecycle_snapshot(con, truth["end"], "2026-09-30")
    stages = snapshot.customers.assign(group=snapshot.customers["customer_id"].map(truth["customer_segment"]))
    shares = stages.groupby("group")["stage"].value_counts(normalize=True).unstack(fill_value=0)
    order = ["key_accounts", "regulars", "occasional", "one_off"]
    assert shares.loc[order, "churned"].is_monotonic_increasing, shares.to_dict()
    assert shares.loc[order, "active"].is_monotonic_decreasing, shares.to_dict()
    assert snapshot.flows["customers"].sum() == snapshot.headline["customers"]


def test_calibration_holdout_on_the_demo(demo):
    """A pooled BG/NBD on a mixture of four BG/NBD groups is slightly misspecified; on seeds 0 and 3 the total
    holdout repeat purchases are predicted within 5 %, so 10 % leaves room for sampling noise."""
    con, truth = demo
    check = lc.calibration_holdout(con, "2025-10-31", truth["end"])
    assert abs(check.headline["error_pct"]) < 10
    assert check.table.index[-1] == "total" and check.headline["customers"] > 5000
    assert check.table.loc["7+", "actual_mean"] > check.table.loc["0", "actual_mean"]


def test_clv_value_at_stake_follows_the_planted_groups(demo):
    """Planted mean spend per purchase p*gamma/(q-1) is 5000 / 1200 / 420 / 250 and the purchase rate falls in the
    same order, so the mean CLV per group must too (adjacent groups differ by >= 1.7x in spend alone)."""
    con, truth = demo
    value = lc.customer_value_sql(con, truth["end"]).clv
    mean_by_group = value.groupby(value.index.map(truth["customer_segment"])).mean()
    assert mean_by_group[["key_accounts", "regulars", "occasional", "one_off"]].is_monotonic_decreasing
    snapshot = lc.lifecycle_snapshot(con, truth["end"])
    actions = lc.at_risk_actions(snapshot.customers, value, top=100)
    assert (actions["value_basis"] == "clv").all() and actions["value_at_stake"].is_monotonic_decreasing
