"""The forecast series give the same answer on every engine: the demo company's validated tables in DuckDB (the
embedded default), copied into a real PostgreSQL server and into a local Spark session; the cells of the one
aggregate query and every series built from them compared with DuckDB's, to the cent and row by row, at the
month, quarter and week grain. DuckDB's own series are checked first against the demo's order lines summed with
pandas (revenue net of returns, as the overview counts it)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from copies import copied

from salesperf.analyses.forecast.queries import sales_cells, sales_series
from salesperf.core.periods import parse_period

TABLES = ("orders", "customers", "products", "reps")
RUN_DAY = date(2026, 11, 27)
#: Spark runs the month only: each Spark query costs seconds on a JVM (local[2]); quarter and week truncation
#: are covered on PostgreSQL.
SPARK_SUBSET = "kept to PostgreSQL: each Spark query costs seconds"


@pytest.fixture(scope="module", params=["postgres", "spark"])
def engines(request, demo_company):
    """(dataset, its DuckDB engine, PostgreSQL or Spark holding copies of the same validated tables)."""
    return copied(request, demo_company, request.param, TABLES)


def test_the_total_and_regions_are_the_order_lines_summed(demo_company, demo_orders):
    from salesperf.data.dataset import open_dataset

    ds = open_dataset(demo_company / "catalog.yml", "2026-10", RUN_DAY)
    history = sales_series(ds.engine, ds.period, RUN_DAY).history
    month = demo_orders["order_date"] + pd.offsets.MonthEnd(0)
    counted = demo_orders[demo_orders["order_date"] <= "2026-10-31"]
    by_month = counted.groupby(month)["amount"].sum().round(2)
    total = history[history["unique_id"] == "total"].set_index("ds")["y"]
    pd.testing.assert_series_equal(total, by_month, check_names=False, check_index_type=False, atol=0.005)
    east = counted[counted["region"] == "East"].groupby(month)["amount"].sum().round(2)
    got = history[history["unique_id"] == "region/East"].set_index("ds")["y"]
    pd.testing.assert_series_equal(got, east, check_names=False, check_index_type=False, atol=0.005)


@pytest.mark.parametrize("label", ["2026-10", "2026-Q3", "2026-W43"])
def test_the_cells_and_series_are_equal_on_every_engine(engines, label):
    _, duck, other = engines
    if other.name == "pyspark" and label != "2026-10":
        pytest.skip(SPARK_SUBSET)
    period = parse_period(label)
    on_duck = sales_cells(duck, period, RUN_DAY)
    assert len(on_duck) > 100 and on_duck[["region", "category", "rep", "team"]].ne("(none)").all().all()
    pd.testing.assert_frame_equal(on_duck, sales_cells(other, period, RUN_DAY), check_dtype=False, check_exact=True)
    series_duck, series_other = sales_series(duck, period, RUN_DAY), sales_series(other, period, RUN_DAY)
    pd.testing.assert_frame_equal(series_duck.history, series_other.history, check_exact=True)
    pd.testing.assert_frame_equal(series_duck.levels, series_other.levels, check_exact=True)
    assert series_duck.absent == series_other.absent == ()
