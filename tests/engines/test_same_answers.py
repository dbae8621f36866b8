"""The same queries give the same answers on every engine: the demo company's validated tables in DuckDB (the
embedded default) and copied into a real PostgreSQL server, every overview query run on both and compared to the
cent, row by row; and the period's revenue checked against pandas on the raw orders."""

from __future__ import annotations

import pandas as pd
import pytest
from support import PERIOD, TODAY

from salesperf.analyses.overview import queries
from salesperf.core.periods import parse_period
from salesperf.data.catalog import resolve
from salesperf.data.dataset import build_snapshot, open_dataset
from salesperf.data.engine import connect, embedded
from salesperf.report import page

TABLES = ("orders", "customers", "products", "reps", "targets")


@pytest.fixture(scope="module")
def engines(demo_company, postgres_url):
    ds = open_dataset(demo_company / "catalog.yml", PERIOD, TODAY)
    duck = embedded(ds.con)
    warehouse = connect(postgres_url)
    for name in TABLES:
        warehouse.backend.create_table(name, ds.con.execute(f"SELECT * FROM {name}").to_arrow_table(), overwrite=True)
    return ds, duck, warehouse


def _same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(left.reset_index(drop=True), right.reset_index(drop=True), check_dtype=False)


def test_kpis_and_trend_are_equal_on_duckdb_and_postgres(engines, demo_orders):
    ds, duck, warehouse = engines
    assert queries.comparison(duck, ds.period) == queries.comparison(warehouse, ds.period)
    _same(queries.monthly(duck, ds.period.end), queries.monthly(warehouse, ds.period.end))
    # and both equal the raw orders summed by pandas (validation drops nothing of October's revenue here)
    october = demo_orders[demo_orders["order_date"].dt.strftime("%Y-%m") == PERIOD]
    kept = october[~october["status"].fillna("").str.lower().isin(["cancelled"])]
    assert queries.period_kpis(warehouse, ds.period.start, ds.period.end).revenue == pytest.approx(
        round(kept["amount"].sum(), 2), abs=0.01
    )


@pytest.mark.parametrize("dimension", ["region", "customer", "product", "category", "channel", "rep"])
def test_revenue_by_dimension_is_equal_on_duckdb_and_postgres(engines, dimension):
    ds, duck, warehouse = engines
    on_duck = queries.by_dimension(duck, dimension, ds.period, top=None)
    assert len(on_duck) > 1
    _same(on_duck, queries.by_dimension(warehouse, dimension, ds.period, top=None))


@pytest.mark.parametrize("by", [None, "team"])
def test_attainment_is_equal_on_duckdb_and_postgres(engines, by):
    ds, duck, warehouse = engines
    on_duck = queries.attainment(duck, ds.period, by=by)
    assert on_duck["quota"].gt(0).all()
    _same(on_duck, queries.attainment(warehouse, ds.period, by=by))


def test_the_overview_runs_as_its_notebook_runs_it(demo_company, tmp_path):
    # the page opens a run's snapshot and shares its connection; DuckDB refuses work on a connection with an
    # unread result, so the engine must have a cursor of its own (this failed with "Resource In Use" before)
    build_snapshot(resolve(data=demo_company / "catalog.yml"), parse_period(PERIOD), tmp_path / "s.duckdb")
    rep = page.start("overview", str(tmp_path / "s.duckdb"), PERIOD, "en", TODAY, "", "¥", "")
    assert rep.analyse().kpis["current"].orders > 0
