"""The reps analysis as one report: on the hand-made sales team (tests/reps/tiny_sales_team.py, every figure
below computed by hand from its docstring), on thin exports (orders only; no rep at all), on the demo company,
and through ``salesperf run`` (the payroll export adds up; one page per rep with ``--each rep``)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import tiny_sales_team as tiny
from report.notebook_exec import open_case, render
from support import page_text, run_salesperf, table_rows

from salesperf.analyses import registry
from salesperf.analyses.base import Context, Result
from salesperf.analyses.reps import text
from salesperf.analyses.reps.incentives import TOTAL, check_payroll
from salesperf.analyses.reps.result import forecast_potential, history_potential
from salesperf.core.errors import UserError
from salesperf.data.dataset import open_dataset

# A plan and an alternative whose payroll is hand-computable: a flat share of the commissionable bookings.
FLAT_10 = "name: Flat ten\nbase: {rate: 0.10}\n"
FLAT_20 = "name: Flat twenty\nbase: {rate: 0.20}\n"
# Commissionable bookings of the trailing year (2025-11 .. 2026-10) per rep, from the tiny team's orders:
# A1 O2 1200 - O4 100 (a return of its own month, netted) in October + O3 500 in June = 1600; A2 O6 300 + O8 300
# = 600; B1 O7 400; B2 O10 900. O11 is after the period end, O12 has no rep, O6b is cancelled.
YEAR_BOOKINGS = {"A1": 1600.0, "A2": 600.0, "B1": 400.0, "B2": 900.0}


def _run(ds, **params):
    ds.results["forecast"] = Result("forecast")  # no forecast: the potential comes from history
    return registry.run("reps", ds, Context("en", "¥", params))


def _plans(tmp_path):
    current, alternative = tmp_path / "flat10.yml", tmp_path / "flat20.yml"
    current.write_text(FLAT_10, encoding="utf-8")
    alternative.write_text(FLAT_20, encoding="utf-8")
    return str(current), str(alternative)


def _words(page) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))


def test_the_tiny_team_report_adds_up(tmp_path):
    current, alternative = _plans(tmp_path)
    detail, result = _run(tiny.dataset(tmp_path / "full"), plan=current, alternative_plan=alternative)
    # roll-ups: Alpha 1100 + 600 = 1700, Beta 0 + 900 = 900, company 2600 (the 50 without a rep is in none)
    teams = detail.rollup("team").set_index("group")["bookings"].to_dict()
    assert teams == {"Alpha": 1700.0, "Beta": 900.0}
    assert detail.rollup("company").iloc[0]["bookings"] == 2600.0
    # payroll: 10 % of each rep-month's commissionable bookings, rows adding up to the total row
    pay = detail.payroll
    check_payroll(pay)
    per_rep = pay[pay["rep_id"] != TOTAL].groupby("rep_id")["payout"].sum().to_dict()
    assert per_rep == pytest.approx({rep: amount * 0.10 for rep, amount in YEAR_BOOKINGS.items()})
    assert pay.iloc[-1]["payout"] == pytest.approx(350.0)
    # what-if under 20 %: 700 instead of 350, every rep gains its own 10 %
    s = detail.what_if.summary
    assert (s.total_current, s.total_alternative, s.difference) == pytest.approx((350.0, 700.0, 350.0))
    assert (s.reps_gaining, s.reps_losing) == (4, 0) and s.largest_gain == ("A1", pytest.approx(160.0))
    assert "Largest gain: Ann +¥160." in text.what_if_sentences(detail, "en")
    # potential from history: the trailing year's bookings per employed month (B2 hired 2026-01: 10 months)
    assert detail.potential_source == "history"
    potential = detail.suggestions.set_index("rep_id")["potential"].to_dict()
    assert potential == pytest.approx({"A1": 1600 / 12, "A2": 600 / 12, "B1": 400 / 12, "B2": 900 / 10})
    # attainment spread over the year: A1 1600/12000, A2 600/12000, B1 400/12000, B2 900/5000; nobody at 100 %
    spread = detail.spread.per_rep.set_index("rep_id")["attainment"].to_dict()
    assert spread == pytest.approx({"A1": 1600 / 12000, "A2": 0.05, "B1": 400 / 12000, "B2": 0.18})
    assert detail.spread.share_at_or_above == 0.0
    assert detail.ranking_basis == "deals" and detail.training_status == "no_training"
    assert [t.value for t in result.headline][:2] == ["¥2,600", "74%"]  # 2600 / 3500 quota of October
    sentence = text.what_if_sentences(detail, "en")[0]
    assert "¥700" in sentence and "¥350" in sentence and "4 reps would earn more and 0 less" in sentence
    assert "700 元" in text.what_if_sentences(detail, "zh")[0]


def test_orders_only_renders_every_section_with_one_line_per_missing_piece(tmp_path):
    folder = tiny.write(tmp_path / "orders", only=("orders",))
    for lang in ("en", "zh"):
        page = render("reps", open_case(folder, tiny.PERIOD, tiny.TODAY), lang)
        words = _words(page)
        assert not page.warnings
        assert not re.search(r"\b(nan|NaN|inf|None)\b", words.replace("None of the", ""))
        if lang == "en":
            assert "No targets: attainment, pipeline coverage not shown." in words
            assert "No targets in the data: attainment, quota fairness and next quotas left out." in words
            assert "ranked on monthly bookings" in words
            assert words.count("No training in the data: the training effect left out.") == 1
            # default plan, no quotas: 5 % of October's 1100 + 600 + 900 = 130
            assert "October 2026 pays ¥130 in commission" in words
        else:
            assert "无业绩目标数据：不显示目标完成率、商机覆盖倍数。" in words and "数据中没有 training" in words


def test_a_company_without_any_rep_renders_with_one_line(tmp_path):
    folder = tiny.write(tmp_path / "norep", only=("orders",), drop={"orders": ["rep_id"]})
    page = render("reps", open_case(folder, tiny.PERIOD, tiny.TODAY), "en")
    words = _words(page)
    assert words.count("The data name no rep") == 1
    # each section that needs the reps' lines says once what is missing, and shows no table
    assert words.count("No orders.rep_id in the data") == 1
    headings = re.findall(r"<h2>([^<]+)</h2>", page.text)
    assert headings[0] == "Scorecard: the period" and headings[-3:] == ["Data quality", "Methods", "About this report"]
    assert "Scorecard: the trailing 12 months" not in headings


def test_a_bad_plan_file_is_one_line_naming_it(tmp_path):
    bad = tmp_path / "plan.yml"
    bad.write_text("name: x\nbase: {rate: 2}\n", encoding="utf-8")
    ds = tiny.dataset(tmp_path / "t")
    with pytest.raises(UserError, match=r"plan\.yml.*base\.rate"):
        _run(ds, plan=str(bad))
    with pytest.raises(UserError, match="not found"):
        _run(ds, alternative_plan=str(tmp_path / "missing.yml"))


def test_potential_from_the_forecast_splits_a_region_by_bookings():
    # region North forecast 300 for the next month: A1 booked 600 and B1 200 of it -> 225 and 75;
    # South has no history rep -> not used; the later month is not the next period
    forecasts = pd.DataFrame({
        "unique_id": ["region/North", "region/South", "region/North", "team/T/rep/A1"],
        "ds": pd.to_datetime(["2026-11-30", "2026-11-30", "2026-12-31", "2026-11-30"]),
        "yhat": [300.0, 50.0, 999.0, 10.0],
    })  # fmt: skip
    history = pd.DataFrame({"rep_id": ["A1", "B1"], "region": ["North", "North"], "bookings": [600.0, 200.0]})
    potential, source = forecast_potential(forecasts, history)
    assert source == "forecast_region"
    assert potential.set_index("rep_id")["potential"].to_dict() == {"A1": 225.0, "B1": 75.0}
    # without regions, the rep's own series
    potential, source = forecast_potential(forecasts, history.assign(region=None))
    assert source == "forecast_rep" and potential.to_dict("records") == [{"rep_id": "A1", "potential": 10.0}]
    year = pd.DataFrame({"rep_id": ["A1", "B2"], "bookings": [1200.0, -50.0], "rep_months": [12, 0]})
    assert history_potential(year, 3).to_dict("records") == [{"rep_id": "A1", "potential": 300.0}]


def test_the_demo_company_report(demo_company):
    ds = open_dataset(demo_company, "2026-10", "2026-11-27")
    detail, result = _run(ds)
    kpis = detail.window("period")
    for level in ("team", "region"):  # roll-ups add up to the company, to the cent
        assert detail.rollup(level)["bookings"].sum() == pytest.approx(kpis["bookings"].sum(), abs=0.01)
    assert detail.rollup("company").iloc[0]["bookings"] == pytest.approx(kpis["bookings"].sum(), abs=0.01)
    check_payroll(detail.payroll)
    assert detail.ranking_basis == "deals" and len(detail.ranking.ranking) >= 20
    assert detail.gaps is not None and detail.spread is not None and detail.suggestions is not None
    assert detail.training_status == "ok" and set(detail.training.overall["kpi"]) >= {"win_probability"}
    assert result.shared["scorecard"].equals(detail.card.kpis) and len(result.findings) >= 5
    for lang in ("en", "zh"):
        sentences = [*text.findings(detail, lang), *text.ranking_sentences(detail, lang)]
        assert all(s and not re.search(r"\b(nan|inf|None)\b", s) for s in sentences)


def test_salesperf_run_exports_a_payroll_and_a_what_if_that_add_up(tmp_path):
    data = tiny.write(tmp_path / "data")
    current, alternative = _plans(tmp_path)
    common = ["--period", tiny.PERIOD, "--today", tiny.TODAY, "--data", data, "--reports", "reps"]
    params = ["--param", f"reps.plan={current}", "--param", f"reps.alternative_plan={alternative}"]
    cli = run_salesperf("run", *common, "--out", tmp_path / "all", *params)
    assert cli.returncode == 0, cli.describe()
    exported = pd.read_csv(
        tmp_path / "all" / tiny.PERIOD / "data" / "reps__payroll.csv", encoding="utf-8-sig"
    )
    rows, total = exported[exported["rep_id"] != TOTAL], exported[exported["rep_id"] == TOTAL].iloc[0]
    for column in ("bookings", "base", "clawback", "payout"):
        assert round(rows[column].sum(), 2) == pytest.approx(total[column])
    assert total["payout"] == pytest.approx(350.0)
    what_if = pd.read_csv(tmp_path / "all" / tiny.PERIOD / "data" / "reps__what_if.csv", encoding="utf-8-sig")
    assert what_if["payout_alternative"].sum() == pytest.approx(700.0)


def test_salesperf_run_each_rep_renders_the_reps_own_page(tmp_path):
    data = tiny.write(tmp_path / "data")
    reps = pd.read_csv(data / "reps.csv")
    reps[reps["rep_id"] == "A1"].to_csv(data / "reps.csv", index=False)  # one copy is enough (one kernel)
    common = ["--period", tiny.PERIOD, "--today", tiny.TODAY, "--data", data, "--reports", "reps"]
    cli = run_salesperf("run", *common, "--out", tmp_path / "each", "--each", "rep")
    assert cli.returncode == 0, cli.describe()
    pages = sorted((tmp_path / "each" / tiny.PERIOD).glob("reps*.html"))
    assert len(pages) == 1 and "rep-a1" in pages[0].name.lower(), pages
    a1 = pages[0].read_text(encoding="utf-8")
    assert "Ann booked ¥1,100 in October 2026" in a1 and "are in the full report" in a1
    # the copy holds A1's data only: no other rep's row, no peer section
    reps = [row[0] for row in table_rows(a1) if row and row[0] in ("Ann", "Bob", "Cai", "Dee")]
    assert reps == ["Ann", "Ann"]  # the period's and the trailing year's scorecard rows
    words = page_text(a1)
    assert "Fair ranking" not in words.split("Methods")[0] and not re.search(r"\b(nan|inf)\b", words)
