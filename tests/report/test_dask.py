"""Parallel runs: a copy of the overview per region on a Dask cluster, and local parallel workers vs one worker.

The cluster is a real ``distributed.LocalCluster`` with two worker processes, started here; the run reaches it only
through ``salesperf run --scheduler ADDRESS``, as a scheduler on another machine would be reached.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from support import PERIOD, TODAY, kpi_tiles, money_en, month_kpis, page_text, salesperf_run

from salesperf.report.config import instance_name

REGIONS = ("North", "East", "South", "West")  # the demo company's regions (salesperf.data.demo.REGIONS)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=40
    ) as local:
        yield local


@pytest.fixture(scope="module")
def region_run(cluster, demo_company, tmp_path_factory):
    return salesperf_run(
        demo_company,
        tmp_path_factory.mktemp("dask") / "reports",
        "--each",
        "region",
        "--scheduler",
        cluster.scheduler_address,
        "--reports",
        "overview",
    )


@pytest.fixture(scope="module")
def orders_with_region(demo_orders, demo_company) -> pd.DataFrame:
    customers = pd.read_parquet(demo_company / "customers.parquet", columns=["customer_id", "region"])
    joined = demo_orders.merge(customers, on="customer_id", how="left", suffixes=("", "_customer"))
    # a region page holds the region's customers; the demo's order lines carry their customer's region
    assert (joined["region"] == joined["region_customer"]).all()
    return joined


def test_one_page_per_region(region_run):
    assert region_run.cli.returncode == 0 and region_run.manifest["status"] == "ok"
    assert re.search(r"running 4 report\(s\) on tcp://", region_run.cli.stderr)  # really on the cluster
    instances = {instance_name("overview", f"region:{r}"): r for r in REGIONS}
    assert {r["instance"]: r["entity"] for r in region_run.manifest["reports"]} == {
        i: f"region:{r}" for i, r in instances.items()
    }
    for instance in instances:
        assert (region_run.folder / f"{instance}.html").is_file() and (
            region_run.folder / f"{instance}.ipynb"
        ).is_file()
    assert not (region_run.folder / "overview.html").exists()
    index = (region_run.folder / "index.html").read_text(encoding="utf-8")
    for instance, region in instances.items():
        assert f"href='{instance}.html'" in index
        assert f"Sales overview · {region}" in page_text(index)


def test_each_region_page_shows_that_regions_figures(region_run, orders_with_region):
    for region in REGIONS:
        instance = instance_name("overview", f"region:{region}")
        now = month_kpis(orders_with_region[orders_with_region["region"] == region], PERIOD)
        page = region_run.html(instance)
        assert f"Sales overview · October 2026 · {region}" in page_text(page)
        assert kpi_tiles(page)[:3] == [
            ("Revenue", money_en(now["revenue"])),
            ("Orders", f"{now['orders']:,}"),
            ("Buying customers", f"{now['customers']:,}"),
        ], region
        monthly = region_run.export(instance, "monthly")
        october = monthly[monthly["month"].str.startswith(PERIOD)].iloc[0]
        assert october["revenue"] == pytest.approx(now["revenue"], rel=1e-9), region
        # a region's copy knows only that region
        regions = region_run.export(instance, "regions")
        assert list(regions["name"]) == [region]


def test_the_period_index_does_not_pass_a_region_off_as_the_company(region_run):
    """With only per-region copies there is no company-wide figure: the index shows no headline tiles (before the
    fix it showed the first region's revenue as the period's)."""
    index = (region_run.folder / "index.html").read_text(encoding="utf-8")
    headline = index[index.index("<body") : index.index("<h2>")]
    assert "sp-kpi-value" not in headline
    assert len(kpi_tiles(index)) == 4 * len(REGIONS)  # each region's own block still shows its tiles


def test_region_revenues_add_up_to_the_company(region_run, demo_run):
    company = demo_run.export("overview", "monthly")
    total = sum(region_run.export(instance_name("overview", f"region:{r}"), "monthly")["revenue"] for r in REGIONS)
    pd.testing.assert_series_equal(total, company["revenue"], check_exact=False, rtol=1e-9, check_names=False)


def test_two_local_workers_give_the_same_reports_as_one(demo_run, demo_rerun):
    """``demo_run`` ran on two local worker processes, ``demo_rerun`` (same data and period) on one."""
    assert "2 local worker(s)" in demo_run.cli.stderr and "1 local worker(s)" in demo_rerun.cli.stderr
    assert len(demo_run.manifest["reports"]) >= 2  # so that two workers really ran side by side
    for first, second in zip(demo_run.manifest["reports"], demo_rerun.manifest["reports"], strict=True):
        assert first["instance"] == second["instance"]
        assert first["kpis"] == second["kpis"] and first["kpis"], first["instance"]
        assert kpi_tiles(demo_run.html(first["instance"])) == kpi_tiles(demo_rerun.html(second["instance"]))
        for export in first["exports"]:
            pd.testing.assert_frame_equal(
                pd.read_csv(demo_run.folder / export),
                pd.read_csv(demo_rerun.folder / export),
                check_exact=False,
                rtol=1e-12,
            )


def test_an_unusable_scheduler_address_is_a_user_error(demo_company, tmp_path, salesperf_cli):
    result = salesperf_cli(
        "run",
        "--period",
        PERIOD,
        "--data",
        demo_company,
        "--today",
        TODAY,
        "--out",
        tmp_path / "reports",
        "--reports",
        "overview",
        "--scheduler",
        "dask-scheduler.example:8786x",
    )
    assert result.returncode == 2, result.describe()
    assert len(result.error_lines) == 1 and "Traceback" not in result.stderr
    assert "'dask-scheduler.example:8786x'" in result.error_lines[0]  # refused by the CLI or by the runner
    assert "Dask scheduler" in result.error_lines[0]
    assert not (tmp_path / "reports" / PERIOD).exists() and "IPKernelApp" not in result.stderr
