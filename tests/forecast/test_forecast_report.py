"""The forecast analysis as a report computes it: on the demo company, on an orders-only export, on short and on
no history, and the ledger across runs (stored in each run's period folder, scored by a later run, reproduced
exactly by a re-run)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from support import PERIOD, TODAY, read_table

from salesperf.analyses import registry
from salesperf.analyses.base import Context
from salesperf.analyses.forecast import ANALYSIS, text
from salesperf.analyses.forecast.ledger import LEDGER_FOLDER
from salesperf.data.dataset import open_dataset


def _run(ds, lang: str = "en"):
    return registry.run("forecast", ds, Context(lang))


def _orders_only(company: Path, folder: Path, keep=lambda frame: frame) -> Path:
    """``company``'s order lines with only the three required columns (as a thin export has them)."""
    orders = keep(read_table(company, "orders"))[["customer_id", "order_date", "amount"]]
    folder.mkdir(parents=True, exist_ok=True)
    orders.to_csv(folder / "orders.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def demo_forecast(demo_company):
    ds = open_dataset(demo_company / "catalog.yml", PERIOD, TODAY)
    return ds, *_run(ds)


def test_every_level_adds_up_to_the_total_to_the_cent(demo_forecast):
    _, detail, _ = demo_forecast
    f = detail.reconciled.forecasts
    assert (f[["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]] >= 0).all().all()
    assert (f["lo_95"] <= f["lo_80"]).all() and (f["lo_80"] <= f["yhat"] + 0.01).all()
    assert (f["yhat"] <= f["hi_80"] + 0.01).all() and (f["hi_80"] <= f["hi_95"]).all()
    cents = f.assign(c=(f["yhat"] * 100).round().astype("int64"))
    for ds_, group in cents.groupby("ds"):
        total = group.loc[group["unique_id"] == "total", "c"].item()
        for prefix in ("region/", "category/"):
            part = group[group["unique_id"].str.match(rf"^{prefix}[^/]+$")]
            assert len(part) > 1 and part["c"].sum() == total, (ds_, prefix)
        teams = group[group["unique_id"].str.match(r"^team/[^/]+$")]
        assert teams["c"].sum() == total, ds_
    assert f["ds"].nunique() == detail.horizon == 6


def test_the_report_states_its_numbers_in_both_languages(demo_forecast):
    ds, detail, result = demo_forecast
    assert [t.label for t in result.headline][:1] == ["Forecast, November 2026"]
    assert result.findings[0].startswith("Sales for November 2026 are forecast at ¥")
    _, zh = _run(ds, "zh")
    assert zh.findings[0].startswith("2026年11月销售额预测为 ")
    assert detail.pipeline.status == "ok" and text.pipeline_sentences(detail, "en")
    assert text.reconciliation_sentence(detail, "en").count("add up to the total") == 2
    assert result.shared["forecasts"]["unique_id"].eq("total").any()
    # outside a run nothing is stored, and the page says so
    assert detail.ledger_status == "no_run" and "scheduled runs" in text.ledger_sentence(detail, "en")


def test_an_orders_only_export_forecasts_the_total_and_says_what_it_lacks(demo_company, tmp_path):
    ds = open_dataset(_orders_only(demo_company, tmp_path / "thin"), PERIOD, TODAY)
    detail, result = _run(ds)
    assert set(detail.reconciled.forecasts["unique_id"]) == {"total"}
    lines = ANALYSIS.missing_lines(ds, "by_level", "en")
    assert "No orders.region / customers.region in the data: the series by region left out." in lines
    assert any("orders.category / products.category" in line for line in lines) and len(lines) == 4
    assert ANALYSIS.missing_lines(ds, "pipeline", "en")[0] == (
        "No opportunities in the data: the pipeline outlook left out."
    )
    assert text.pipeline_sentences(detail, "en") == []  # the stated line above says it, once
    assert result.headline and result.findings


def test_a_short_history_is_forecast_by_simple_methods_and_says_why(demo_company, tmp_path):
    # five complete months (June-October 2026) are fewer than two seasons and fewer than 8 points
    folder = _orders_only(
        demo_company, tmp_path / "short", lambda o: o[pd.to_datetime(o["order_date"]) >= "2026-06-01"]
    )
    detail, _ = _run(open_dataset(folder, PERIOD, TODAY))
    route = detail.selection.routes.set_index("unique_id").loc["total"]
    assert route["series_class"] == "short" and route["points"] == 5
    assert "only 5 months of history" in text.routes_sentence(detail, "en")
    assert detail.reconciled.forecasts["yhat"].gt(0).all()


def test_without_a_complete_period_nothing_is_forecast_and_the_page_says_so(demo_company, tmp_path):
    def november_only(orders: pd.DataFrame) -> pd.DataFrame:  # October's lines moved into the current month
        day = pd.to_datetime(orders["order_date"]) + pd.Timedelta(days=31)
        return orders.assign(order_date=day.dt.date)[(day >= "2026-11-01") & (day <= "2026-11-27")]

    folder = _orders_only(demo_company, tmp_path / "none", november_only)
    detail, result = _run(open_dataset(folder, "2026-11", "2026-11-27"))
    assert not detail.has_forecast
    assert text.outlook_sentence(detail, "en").startswith("Not enough complete periods")
    assert result.headline[0].value == "–"


def _run_in_folder(company: Path, reports: Path, period: str):
    """The forecast of ``period`` as a run computes it: its store inside the period folder of ``reports``."""
    ds = open_dataset(company / "catalog.yml", period, TODAY)
    ds.store = reports / period / ".results" / "all"
    return _run(ds)[0]


def test_the_ledger_is_stored_per_run_scored_later_and_reproduced(demo_company, tmp_path):
    reports = tmp_path / "reports"
    august = _run_in_folder(demo_company, reports, "2026-08")
    assert august.ledger_status == "stored" and august.scores is None
    stored = reports / "2026-08" / LEDGER_FOLDER / "2026-08.parquet"
    first = stored.read_bytes()
    october = _run_in_folder(demo_company, reports, "2026-10")
    assert october.earlier_runs == 1
    scored = october.scores.rows
    # August's forecasts of September and October (run 2026-08, origin August) met their actuals
    assert set(scored["run"]) == {"2026-08"} and set(scored["ds"].dt.strftime("%Y-%m")) == {"2026-09", "2026-10"}
    actual = october.series.history.set_index(["unique_id", "ds"])["y"]
    row = scored[scored["unique_id"] == "total"].iloc[0]
    assert row["y"] == actual[("total", row["ds"])]
    assert "earlier runs scored" in text.ledger_sentence(october, "en")
    # a re-run of August writes the same forecasts, byte for byte
    _run_in_folder(demo_company, reports, "2026-08")
    assert stored.read_bytes() == first
