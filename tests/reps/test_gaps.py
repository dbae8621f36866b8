"""Skills gaps: leave-one-out z-scores within the peer group (hand-computed below), the fallback from team to
the whole company, the evidence a KPI needs, the coaching focus, and the rule table's validation."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import tiny_sales_team as tiny

from salesperf.analyses.reps import queries
from salesperf.analyses.reps.gaps import coaching_rules_from_dict, load_coaching_rules, skill_gaps
from salesperf.analyses.reps.scorecard import build_scorecard
from salesperf.core.errors import UserError
from salesperf.core.rules import read_rules


def _rules(**changes) -> dict:
    data, _ = read_rules("salesperf.analyses.reps", "rules.yml")
    data["kpis"] = {k: dict(v) for k, v in data["kpis"].items() if k in ("win_rate", "cycle_median_days")}
    for key, value in changes.items():
        data[key] = value
    return data


# Team T: R1..R5 with 10 closed deals each and 5 won (cycle evidence); R6 has 2 closed deals only (not judged on
# the win rate, and no one's peer for it). Team U: S1, S2 (one peer each: too few, so the whole company).
KPIS = pd.DataFrame(
    {
        "rep_id": ["R1", "R2", "R3", "R4", "R5", "R6", "S1", "S2"],
        "team": ["T"] * 6 + ["U"] * 2,
        "region": ["North"] * 8,
        "win_rate": [0.2, 0.5, 0.5, 0.6, 0.6, 0.0, 0.4, 0.5],
        "won": [5, 5, 5, 5, 5, 0, 5, 5],
        "lost": [5, 5, 5, 5, 5, 2, 5, 5],
        "cycle_median_days": [30.0, 60.0, 60.0, 60.0, 90.0, math.nan, 60.0, 60.0],
    }
).assign(window="year")


def _gaps(rules: dict):
    result = skill_gaps(KPIS, coaching_rules_from_dict(rules, "test.yml"))
    return result, result.gaps.set_index(["rep_id", "kpi"])


def test_z_scores_leave_the_rep_out():
    rules = _rules()
    rules["peers"] = {"group_by": ["team"], "min_peers": 3}
    _, gaps = _gaps(rules)
    # R1: peers R2..R5 = 0.5, 0.5, 0.6, 0.6: mean 0.55, sd sqrt(4 x 0.05^2 / 3) = 0.057735; z = -0.35 / 0.057735
    r1 = gaps.loc[("R1", "win_rate")]
    assert (r1["peer_basis"], r1["peer_group"], r1["peers"]) == ("team", "T", 4)
    assert r1["peer_mean"] == pytest.approx(0.55)
    assert r1["z"] == pytest.approx(-0.35 / math.sqrt(0.01 / 3))
    assert r1["percentile"] == 0.0 and r1["is_gap"]
    # R2: peers 0.2, 0.5, 0.6, 0.6: mean 0.475, squares 0.1075 / 3 -> sd 0.189297; z = 0.025 / 0.189297;
    # one peer below (0.2), one tie (0.5): (1 + 0.5) / 4
    r2 = gaps.loc[("R2", "win_rate")]
    assert r2["z"] == pytest.approx(0.025 / math.sqrt(0.1075 / 3))
    assert r2["percentile"] == pytest.approx(0.375) and not r2["is_gap"]


def test_a_longer_cycle_is_a_negative_gap():
    rules = _rules()
    rules["peers"] = {"group_by": ["team"], "min_peers": 3}
    _, gaps = _gaps(rules)
    # R5 (90 days): peers 30, 60, 60, 60: mean 52.5, squares 675 / 3 = 225 -> sd 15; z = -(90 - 52.5) / 15
    assert gaps.loc[("R5", "cycle_median_days"), "z"] == pytest.approx(-2.5)
    assert gaps.loc[("R1", "cycle_median_days"), "z"] == pytest.approx(2.5)
    assert gaps.loc[("R5", "cycle_median_days"), "percentile"] == 0.0


def test_too_little_evidence_and_the_fallback_to_the_company():
    rules = _rules()
    rules["peers"] = {"group_by": ["team"], "min_peers": 3}
    _, gaps = _gaps(rules)
    assert gaps.loc[("R6", "win_rate"), "reason"] == "too_little_evidence"
    assert pd.isna(gaps.loc[("R6", "win_rate"), "z"])
    # S1 has one team peer: the company's 6 other judged reps (R6 is not judged): 0.2 0.5 0.5 0.6 0.6 0.5
    s1 = gaps.loc[("S1", "win_rate")]
    assert (s1["peer_basis"], s1["peers"]) == ("company", 6)
    assert s1["peer_mean"] == pytest.approx(2.9 / 6)
    # with at least 10 peers nobody is judged
    rules["peers"] = {"group_by": ["team", "region"], "min_peers": 10}
    result, gaps = _gaps(rules)
    assert set(gaps["reason"]) == {"too_few_peers", "too_little_evidence", "no_value"}
    assert result.focus.empty


def test_the_coaching_focus_is_the_worst_gaps_first():
    rules = _rules(max_focus=1)
    rules["peers"] = {"group_by": ["team"], "min_peers": 3}
    result, _ = _gaps(rules)
    focus = result.focus.set_index("rep_id")
    assert focus.loc["R1", "kpi"] == "win_rate" and focus.loc["R5", "kpi"] == "cycle_median_days"
    assert (focus["rank"] == 1).all() and "R2" not in focus.index
    packaged = load_coaching_rules()
    assert packaged.focus("win_rate", "zh") and packaged.label("win_rate", "zh") == "赢单率"


def test_on_the_tiny_sales_team(tmp_path):
    ds = tiny.dataset(tmp_path / "c")
    card = build_scorecard(queries.scorecard_inputs(ds.engine, ds.period))
    result = skill_gaps(card.kpis, load_coaching_rules())
    gaps = result.gaps.set_index(["rep_id", "kpi"])
    # 4 reps, 2 per team: every rep is judged against the 3 others of the company. Year attainment: A1 1600/12000,
    # A2 600/12000, B1 400/12000, B2 0.18. B1: peers mean (0.13333 + 0.05 + 0.18) / 3 = 0.121111, sd 0.065856:
    # z = (0.033333 - 0.121111) / 0.065856 = -1.333 -> a gap (threshold -1); A2: z -0.875, no gap
    b1 = gaps.loc[("B1", "attainment")]
    peers = pd.Series([1600 / 12000, 0.05, 0.18])
    assert b1["peer_basis"] == "company" and b1["peers"] == 3
    assert b1["z"] == pytest.approx((400 / 12000 - peers.mean()) / peers.std())
    assert b1["z"] == pytest.approx(-1.333, abs=0.001) and b1["is_gap"]
    assert not gaps.loc[("A2", "attainment"), "is_gap"]
    # win rates rest on 2 closed deals at most: not judged
    assert set(gaps.xs("win_rate", level="kpi")["reason"]) == {"too_little_evidence"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"window": "month"}, "test.yml: window: expected one of period, year"),
        ({"peers": {"group_by": ["city"], "min_peers": 3}}, "test.yml: peers.group_by[0]: expected one of"),
        ({"peers": {"group_by": ["team"], "min_peers": 1}}, "test.yml: peers.min_peers: expected an integer"),
        ({"kpis": {"charm": {}}}, "test.yml: kpis: unknown KPI 'charm'"),
        ({"colour": 1}, "test.yml: unknown key 'colour'"),
    ],
)
def test_invalid_rules_name_the_file_and_the_key(change, message):
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]")):
        coaching_rules_from_dict(_rules(**change), "test.yml")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("direction", "up", "kpis.win_rate.direction: expected one of higher, lower"),
        ("threshold", 0.5, r"kpis.win_rate.threshold: expected a number in \[-10, 0\]"),
        ("evidence", {"columns": ["deals"], "at_least": 5}, "kpis.win_rate.evidence.columns: unknown column"),
        ("focus_zh", "", "kpis.win_rate.focus_zh: expected a non-empty text"),
    ],
)
def test_invalid_kpi_rules_name_the_key(field, value, message):
    rules = _rules()
    rules["kpis"]["win_rate"][field] = value
    with pytest.raises(UserError, match=message):
        coaching_rules_from_dict(rules, "test.yml")


def test_a_user_file_replaces_keys_and_a_broken_one_is_one_line(tmp_path):
    mine = tmp_path / "coaching.yml"
    mine.write_text("max_focus: 1\n", encoding="utf-8")
    assert load_coaching_rules(mine).max_focus == 1
    mine.write_text("max_focus: [1\n", encoding="utf-8")
    with pytest.raises(UserError, match="coaching.yml: not valid YAML"):
        load_coaching_rules(mine)
    mine.write_text("max_focus: 1\nmood: calm\n", encoding="utf-8")
    with pytest.raises(UserError, match="coaching.yml: unknown key 'mood'"):
        load_coaching_rules(mine)
