"""The period index a manager reads: the headline once, a failed report in one sentence, each comparison in its own
colour, and links only to the pages that rendered. Built from hand-written manifests: no kernel starts."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from support import kpi_tiles, page_text, texts_of_class

from salesperf.analyses.base import FAILED, PENDING
from salesperf.core.periods import parse_period
from salesperf.report import summary
from salesperf.report.index import drop_dead_links, failure_sentence, write_period_index
from salesperf.report.page import second_tone, tiles_html

TILES = [
    {"label": "Revenue", "value": "£1.23 M", "delta": "vs previous period +8.2%",
     "delta2": "vs last year −4.1%", "tone": "good"},
    {"label": "Orders", "value": "1,204", "delta": "vs previous period −2.0%",
     "delta2": "vs last year −1.0%", "tone": "bad"},
]  # fmt: skip
OWN = {"label": "Active customers", "value": "812", "delta": "", "delta2": "", "tone": "neutral"}


def _report(instance, status="ok", kpis=(), error="", entity=""):
    return {
        "instance": instance, "report": instance.split("--")[0], "entity": entity, "status": status,
        "error": error, "seconds": 1.0, "html": f"{instance}.html" if status == "ok" else "",
        "notebook": f"{instance}.ipynb", "exports": [], "kpis": list(kpis), "title": instance.title(),
    }  # fmt: skip


def _manifest(*reports, lang="en"):
    return {
        "period": "2026-10", "end": "2026-10-31", "salesperf_version": "0", "lang": lang,
        "reports": list(reports),
    }  # fmt: skip


def _index(tmp_path: Path, manifest: dict) -> str:
    for r in manifest["reports"]:
        if r["html"]:
            (tmp_path / r["html"]).write_text("<html><body>page</body></html>", encoding="utf-8")
    return write_period_index(tmp_path, manifest, manifest["lang"]).read_text(encoding="utf-8")


def test_the_headline_tiles_show_once(tmp_path):
    index = _index(
        tmp_path,
        _manifest(
            _report("overview", kpis=TILES),
            _report("segmentation", kpis=[OWN]),
            _report("summary", kpis=TILES),  # the summary repeats the overview's headline
        ),
    )
    tiles = kpi_tiles(index)
    assert tiles.count(("Revenue", "£1.23 M")) == 1 and tiles.count(("Orders", "1,204")) == 1
    assert ("Active customers", "812") in tiles  # a report's own tiles stay in its block


def test_a_failed_report_shows_one_sentence_and_keeps_the_error_aside(tmp_path):
    error = "KeyError: \"['top_categories'] not in index\""
    index = _index(tmp_path, _manifest(_report("overview", kpis=TILES), _report("segmentation", "failed", error=error)))
    sentences = texts_of_class(index, "sp-error")
    assert sentences == [
        "This report could not be produced because of an unexpected error in salesperf; the details are in the "
        "manifest and the executed notebook."
    ]
    assert "KeyError" not in sentences[0]
    assert re.search(r"<details class='sp-tech'>.*top_categories.*</details>", index, re.DOTALL)  # analysts only
    assert "href='segmentation.ipynb'" in index


def test_failure_sentences():
    assert failure_sentence("UserError: no orders in the period", "en") == (
        "This report could not be produced from these data: no orders in the period."
    )
    assert failure_sentence("UserError: no orders in the period", "zh") == "无法用这些数据生成本报告，原因见执行记录。"
    assert "time allowed" in failure_sentence("CellTimeoutError: timed out", "en")
    assert "memory" in failure_sentence("DeadKernelError: the kernel died", "en")
    assert "page could not be written" in failure_sentence("render: bad svg", "en")
    for error in ("ValueError: x", "", "RuntimeError: planted failure"):
        assert "Error" not in failure_sentence(error, "zh") and "Error" not in failure_sentence(error, "en")


def test_the_second_comparison_has_its_own_tone():
    up_then_down, down_twice = TILES
    assert second_tone(up_then_down) == "bad"  # revenue up vs the previous period, down vs last year
    assert second_tone(down_twice) == "bad"
    assert second_tone({"tone": "good", "delta": "环比 +1.0%", "delta2": "同比 +3.0%"}) == "good"
    assert second_tone({"tone": "good", "delta": "+1%", "delta2": "vs last year –"}) == "neutral"
    assert second_tone({"tone": "good", "delta": "+1%", "delta2": "−1%", "tone2": "neutral"}) == "neutral"
    page = tiles_html([up_then_down])
    assert re.findall(r"sp-delta sp-(\w+)", page) == ["good", "bad"]


def test_links_to_pages_that_did_not_render_become_text(tmp_path):
    manifest = _manifest(_report("overview"), _report("segmentation", "failed"), _report("summary"))
    _index(tmp_path, manifest)
    links = (  # as nbconvert writes them: double quotes
        '<ul class="sp-links"><li><a href="overview.html">Sales overview</a></li>'
        '<li><a href="segmentation.html">Customer segmentation</a></li>'
        '<li><a href="lifecycle.html">Customer lifecycle &amp; cohorts</a></li></ul>'
    )
    (tmp_path / "summary.html").write_text(f"<html><body>{links}</body></html>", encoding="utf-8")
    drop_dead_links(tmp_path, manifest)
    page = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert re.findall(r'href="([^"]+)"', page) == ["overview.html"]
    assert "Customer segmentation (not produced in this run)" in page_text(page)
    assert "Customer lifecycle &amp; cohorts" in page


def _rep(tmp_path, entity="", in_run=("overview", "segmentation"), failed=()):
    store = tmp_path / "store"
    for name in in_run:  # the runner promises the result of every analysis of the run
        (store / name).mkdir(parents=True, exist_ok=True)
        (store / name / PENDING).write_text("", encoding="utf-8")
    (store / "lifecycle").mkdir()  # computed in the summary's kernel (not in the run): no promise
    (store / "lifecycle" / "result.json").write_text("{}", encoding="utf-8")
    for name in failed:
        (store / name / FAILED).write_text("boom", encoding="utf-8")
    ds = SimpleNamespace(store=store, entity=entity, period=parse_period("2026-10"))
    return SimpleNamespace(name="summary", lang="en", ds=ds, output_dir=tmp_path / "out")


def test_the_summary_links_only_reports_of_the_run_that_did_not_fail(tmp_path):
    rep = _rep(tmp_path, failed=("segmentation",))
    assert summary.report_links(rep) == [("Sales overview", "overview.html")]


def test_a_fan_out_summary_links_to_the_copies_of_its_entity(tmp_path):
    rep = _rep(tmp_path, entity="region:East Coast")
    assert [href for _, href in summary.report_links(rep)] == [
        "overview--region-east-coast-f35647b7.html",
        "segmentation--region-east-coast-f35647b7.html",
    ]


def test_zh_index_has_no_english_failure_text(tmp_path):
    manifest = _manifest(_report("overview", "failed", error="ValueError: boom"), lang="zh")
    index = _index(tmp_path, manifest)
    assert texts_of_class(index, "sp-error") == ["由于 salesperf 出现意外错误，本报告未能生成；详情见 manifest 与执行记录。"]
