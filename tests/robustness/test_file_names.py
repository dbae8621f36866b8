"""Report ids and entity names become safe, unique file names: a collision is an error, never an overwrite
(salesperf.core.fmt.slug, salesperf.report.config, salesperf.report.runner)."""

from __future__ import annotations

import re

import pytest
from hostile import LONG_REGION, LOOKALIKE_REGIONS
from support import PERIOD, TODAY, kpi_tiles, money_en, month_kpis, page_text, read_table

from salesperf.core.errors import UserError
from salesperf.core.fmt import slug
from salesperf.report.config import NOTEBOOKS
from salesperf.report.runner import _check_unique

SAFE = re.compile(r"[\w.-]+")


def test_slugs_differ_for_every_different_value_even_ignoring_case():
    values = [
        "East",
        "east",
        "EAST!",
        "east!",
        "East ",
        "",
        "x",
        "..",
        "east-4e2cd851",
        LONG_REGION,
        LONG_REGION + "!",
    ]
    slugs = [slug(v) for v in values]
    assert len({s.casefold() for s in slugs}) == len(values), slugs
    assert all(SAFE.fullmatch(s) and s not in (".", "..") for s in slugs)
    assert max(len(s.encode()) for s in slugs) <= 80
    assert (slug("east"), slug("华东"), slug("pipeline_2026")) == (
        "east",
        "华东",
        "pipeline_2026",
    )  # kept as written


def test_lookalike_regions_get_their_own_pages_with_their_own_figures(
    hostile_fanout_run, lookalike_regions_company
):
    run = hostile_fanout_run
    assert run.cli.returncode == 0, run.cli.describe()
    reports = run.manifest["reports"]
    assert sorted(r["entity"] for r in reports) == sorted(f"region:{r}" for r in LOOKALIKE_REGIONS.values())
    files = sorted(p.name for p in run.folder.rglob("*") if p.is_file())
    assert all(SAFE.fullmatch(name) and len(name.encode()) < 200 for name in files), files
    pages = [r["html"] for r in reports]
    assert len(set(pages)) == 4 and all((run.folder / p).is_file() for p in pages)
    orders = read_table(lookalike_regions_company, "orders")
    for report in reports:
        region = report["entity"].split(":", 1)[1]
        now = month_kpis(orders[orders["region"] == region], PERIOD)
        page = run.html(report["instance"])
        assert f"Sales overview · October 2026 · {region}" in page_text(page)
        assert kpi_tiles(page)[0] == ("Revenue", money_en(now["revenue"])), region
        assert list(run.export(report["instance"], "regions")["name"]) == [region]
    assert len({kpi_tiles(run.html(r["instance"]))[0] for r in reports}) == 4


def test_a_report_id_that_is_a_path_is_refused(tmp_path, demo_company, salesperf_cli):
    report_set = tmp_path / "set" / "reports.yml"
    report_set.parent.mkdir()
    report_set.write_text(
        f"reports:\n  ../../escape:\n    notebook: {NOTEBOOKS / 'overview.ipynb'}\n", encoding="utf-8"
    )
    out = tmp_path / "deep" / "er" / "reports"
    result = salesperf_cli(
        "run",
        "--period",
        PERIOD,
        "--today",
        TODAY,
        "--data",
        demo_company,
        "--out",
        out,
        "--report-set",
        report_set,
    )
    assert result.returncode == 2, result.describe()
    assert len(result.error_lines) == 1 and "'../../escape'" in result.error_lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert [p.name for p in tmp_path.rglob("*escape*")] == []


def test_two_copies_with_one_file_name_are_refused_not_overwritten():
    _check_unique(["overview--region-east", "overview--region-east-4e2cd851"])
    with pytest.raises(UserError, match="same file"):
        _check_unique(["overview--region-east", "overview--region-EAST"])  # one file where case is ignored
