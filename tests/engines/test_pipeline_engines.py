"""Every query of the pipeline outlook gives the same answer on every engine: the demo company's validated
opportunities, stage history, reps and targets in DuckDB (the embedded default), copied into a real PostgreSQL
server and into a local Spark session; each query's frame compared with DuckDB's row by row, money to the cent
(the engines round it), at the period end and at an earlier as-of date (deals closed later are open then), at the
month, quarter and week grains; and on PostgreSQL the whole outlook. Spark runs a subset (:data:`SPARK_SUBSET`)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from copies import copied

from salesperf.analyses.forecast import pipeline_queries as q

TABLES = ("opportunities", "opportunity_history", "reps", "targets")
SPARK_SUBSET = "kept to PostgreSQL: each Spark query costs seconds"
END, EARLIER = date(2026, 10, 31), date(2026, 6, 30)


@pytest.fixture(scope="module", params=["postgres", "spark"])
def engines(request, demo_company):
    """(DuckDB engine, PostgreSQL or Spark holding copies of the same validated tables)."""
    _, duck, other = copied(request, demo_company, request.param, TABLES)
    return duck, other


def _same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal frames: same rows in the same order, the same values (money rounded to cents in the engine)."""
    pd.testing.assert_frame_equal(left, right, check_dtype=False, check_exact=True)


@pytest.mark.parametrize("as_of", [END, EARLIER])
def test_stage_observations_are_equal_on_every_engine(engines, as_of):
    duck, other = engines
    if other.name == "pyspark" and as_of == EARLIER:
        pytest.skip(SPARK_SUBSET)
    on_duck = q.stage_observations(duck, as_of)
    assert on_duck["observations"].sum() > 1000 and on_duck["won_deals"].gt(0).all()
    _same(on_duck, q.stage_observations(other, as_of))


def test_won_days_to_close_are_equal_on_every_engine(engines):
    duck, other = engines
    on_duck = q.won_days_to_close(duck, END)
    assert on_duck["won_deals"].sum() > 500 and (on_duck["stage_days"] <= on_duck["days"]).all()
    _same(on_duck, q.won_days_to_close(other, END))


@pytest.mark.parametrize(("as_of", "grain"), [(END, "month"), (EARLIER, "quarter"), (END, "week")])
def test_open_deal_cells_are_equal_on_every_engine(engines, as_of, grain):
    duck, other = engines
    if other.name == "pyspark" and grain != "month":
        pytest.skip(SPARK_SUBSET)
    on_duck = q.open_deal_cells(duck, as_of, grain, 3)
    assert on_duck["deals"].sum() > 30 and on_duck["expected_period"].nunique() > 2
    # the CRM's probability is today's: only the deals still in their stage of as_of carry it
    assert (on_duck["crm_probability_n"].sum() > 0) == (as_of == END)
    _same(on_duck, q.open_deal_cells(other, as_of, grain, 3))


def test_team_quotas_are_equal_on_every_engine(engines):
    duck, other = engines
    months = ["2026-08", "2026-09", "2026-10"]
    on_duck = q.team_month_quotas(duck, months)
    assert len(on_duck) == 4 * 3 and on_duck["quota"].gt(0).all()  # four teams, three months
    _same(on_duck, q.team_month_quotas(other, months))


def test_the_whole_outlook_is_equal_on_postgres(engines):
    duck, other = engines
    if other.name == "pyspark":
        pytest.skip(SPARK_SUBSET)
    on_duck, on_pg = q.read_outlook(duck, EARLIER), q.read_outlook(other, EARLIER)
    assert on_duck.status == on_pg.status == "ok"
    for part in ("stages", "bookings", "gaps"):
        pd.testing.assert_frame_equal(getattr(on_duck, part), getattr(on_pg, part), check_dtype=False)
    assert on_duck.gaps["quota"].gt(0).all() and not on_duck.gaps.empty
