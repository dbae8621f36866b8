"""The executive summary, the period index and the runner's ordering come from the registry, not from names."""

import re
from pathlib import Path

import pandas as pd
import pytest

from salesperf.analyses import registry
from salesperf.analyses.base import Result
from salesperf.core.errors import UserError
from salesperf.core.present import Exhibit, Tile, table
from salesperf.report import page, summary
from salesperf.report.config import ReportSpec, load_report_set
from salesperf.report.execute import Task
from salesperf.report.runner import waves

ROOT = Path(__file__).resolve().parents[2]


def _tasks(ids):
    return [Task(i, i, f"{i}.ipynb", {}, i) for i in ids]


def test_reports_run_after_the_results_they_read():
    specs = load_report_set()
    order = [[t.report for t in wave] for wave in waves(_tasks(specs), specs)]
    # segmentation reads lifecycle's customer value, reps the forecast's; the summary reads every other report
    assert order == [["overview", "lifecycle", "forecast"], ["segmentation", "reps"], ["summary"]]
    # without lifecycle in the run, segmentation does not wait (it computes what it needs itself)
    assert [[t.report for t in w] for w in waves(_tasks(["segmentation", "overview"]), specs)] == [
        ["segmentation", "overview"]
    ]


def test_a_cycle_in_the_report_set_is_refused():
    specs = {
        "a": ReportSpec("a", Path("a.ipynb"), ("monthly",), "", {}, ("b",)),
        "b": ReportSpec("b", Path("b.ipynb"), ("monthly",), "", {}, ("a",)),
    }
    with pytest.raises(UserError, match="cycle"):
        waves(_tasks(["a", "b"]), specs)


def test_a_result_survives_the_store(tmp_path):
    frame = pd.DataFrame({"customer_id": ["C1", "C2"], "clv": [12.5, float("nan")]})
    spec = table(("group", "Team"), ("attainment", "Attainment", "pct"))
    result = Result(
        "x",
        [Tile("Revenue", "¥1.2 k", "vs previous period +3.0%", tone="good")],
        ["One.", "Two."],
        [Exhibit("By team", pd.DataFrame({"group": ["A"], "attainment": [0.5]}), spec, "A trails.")],
        {"customer_value": frame},
    )
    result.save(tmp_path / "x")
    back = Result.load(tmp_path / "x")
    assert (back.analysis, back.headline, back.findings) == (
        result.analysis,
        result.headline,
        result.findings,
    )
    assert back.exhibits[0].spec == spec and back.exhibits[0].sentence == "A trails."
    pd.testing.assert_frame_equal(back.shared["customer_value"], frame)
    assert Result.load(tmp_path / "nothing") is None


@pytest.mark.parametrize("module", ["summary.py", "index.py"])
def test_summary_and_index_name_no_analysis(module):
    source = (ROOT / "salesperf" / "report" / module).read_text(encoding="utf-8")
    for name in registry.names():
        assert not re.search(rf"""["']{name}["']""", source), f"report/{module} names the analysis {name!r}"


@pytest.fixture
def orders_only(tmp_path) -> Path:
    """Three customers, orders only: October revenue 100 + 50 + 30 − 20 (a return) = 160; September 80."""
    rows = [
        ("C1", "2026-09-10", 80.0),
        ("C1", "2026-10-05", 100.0),
        ("C2", "2026-10-06", 50.0),
        ("C3", "2026-10-07", 30.0),
        ("C3", "2026-10-20", -20.0),
    ]
    pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"]).to_csv(
        tmp_path / "orders.csv", index=False
    )
    return tmp_path


def test_the_summary_gathers_every_analysis_of_the_set_in_order(orders_only):
    rep = page.start("summary", str(orders_only), "2026-10", today="2026-11-27")
    results = summary.gather(rep)
    assert [r.analysis for r in results] == [s for s in load_report_set() if s in registry.names()]
    overview = results[0]
    # revenue 160 vs 80 in September: +100.0%, written by the overview's own sentence
    assert overview.findings[0].startswith("Revenue was ¥160, up 100.0% vs September 2026 (+¥80)")
    assert summary.headline(results) == overview.headline
    assert [t for t, _ in summary.report_links(rep)] == [
        "Sales overview",
        "Customer segmentation",
        "Customer lifecycle & cohorts",
        "Sales forecast",
        "Rep evaluation",
    ]
