"""The same queries give the same answers on every engine: the demo company's validated tables in DuckDB (the
embedded default), copied into a real PostgreSQL server and into a local Spark session; every overview query run on
each and compared with DuckDB to the cent, row by row; and the period's revenue checked against pandas on the raw
orders."""

from __future__ import annotations

import pandas as pd
import pytest
from copies import copied
from support import PERIOD, TODAY

from salesperf.analyses.overview import queries
from salesperf.core.periods import parse_period
from salesperf.data.catalog import resolve
from salesperf.data.dataset import build_snapshot
from salesperf.report import page

TABLES = ("orders", "customers", "products", "reps", "targets")


@pytest.fixture(scope="module", params=["postgres", "spark"])
def engines(request, demo_company):
    """(dataset, its DuckDB engine, the other engine holding copies of the same validated tables)."""
    return copied(request, demo_company, request.param, TABLES)


def _same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(left.reset_index(drop=True), right.reset_index(drop=True), check_dtype=False)


def test_kpis_and_trend_are_equal_on_every_engine(engines, demo_orders):
    ds, duck, other = engines
    assert queries.comparison(duck, ds.period) == queries.comparison(other, ds.period)
    _same(queries.monthly(duck, ds.period.end), queries.monthly(other, ds.period.end))
    # and both equal the raw orders summed by pandas (validation drops nothing of October's revenue here)
    october = demo_orders[demo_orders["order_date"].dt.strftime("%Y-%m") == PERIOD]
    kept = october[~october["status"].fillna("").str.lower().isin(["cancelled"])]
    assert queries.period_kpis(other, ds.period.start, ds.period.end).revenue == pytest.approx(
        round(kept["amount"].sum(), 2), abs=0.01
    )


@pytest.mark.parametrize("dimension", ["region", "customer", "product", "category", "channel", "rep"])
def test_revenue_by_dimension_is_equal_on_every_engine(engines, dimension):
    ds, duck, other = engines
    on_duck = queries.by_dimension(duck, dimension, ds.period, top=None)
    assert len(on_duck) > 1
    _same(on_duck, queries.by_dimension(other, dimension, ds.period, top=None))


@pytest.mark.parametrize("by", [None, "team"])
def test_attainment_is_equal_on_every_engine(engines, by):
    ds, duck, other = engines
    on_duck = queries.attainment(duck, ds.period, by=by)
    assert on_duck["quota"].gt(0).all()
    _same(on_duck, queries.attainment(other, ds.period, by=by))


def test_the_overview_runs_as_its_notebook_runs_it(demo_company, tmp_path):
    # the page opens a run's snapshot and shares its connection; DuckDB refuses work on a connection with an
    # unread result, so the engine must have a cursor of its own (this failed with "Resource In Use" before)
    build_snapshot(resolve(data=demo_company / "catalog.yml"), parse_period(PERIOD), tmp_path / "s.duckdb")
    rep = page.start("overview", str(tmp_path / "s.duckdb"), PERIOD, "en", TODAY, "", "¥", "")
    assert rep.analyse().kpis["current"].orders > 0
