"""The lifecycle analysis runs as its notebook runs it: on a run's snapshot, through the dataset's engine, with the
daily rows it keeps for the run dropped once it is done."""

from __future__ import annotations

from support import PERIOD, TODAY

from salesperf.core.periods import parse_period
from salesperf.data.catalog import resolve
from salesperf.data.dataset import build_snapshot
from salesperf.report import page


def _temporary_tables(engine) -> int:
    cursor = engine.backend.raw_sql("SELECT count(*) FROM duckdb_tables() WHERE temporary")
    [(count,)] = cursor.fetchall()
    return count


def test_the_lifecycle_runs_on_a_snapshot_and_drops_what_it_kept(demo_company, tmp_path):
    build_snapshot(resolve(data=demo_company / "catalog.yml"), parse_period(PERIOD), tmp_path / "s.duckdb")
    rep = page.start("lifecycle", str(tmp_path / "s.duckdb"), PERIOD, "en", TODAY, "", "¥", "")
    before = _temporary_tables(rep.ds.engine)
    life = rep.analyse()
    assert life.stages.headline["customers"] > 100 and life.value.status == "fitted"
    assert life.cohorts.activity["customers"].sum() > life.stages.headline["customers"]
    assert _temporary_tables(rep.ds.engine) == before
