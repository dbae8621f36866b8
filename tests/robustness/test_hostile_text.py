"""The whole default report set on a company whose CRM text is hostile, through the real CLI (papermill, two
workers), every page opened in headless Chromium and every CSV export read back as a careful and as a careless
reader would.

Hostile text (``hostile.py``): script and ``onerror`` payloads, ``$$`` and ``$_$`` (mathtext), ``\\r=1+1`` and other
formula starts, NUL, emoji, right-to-left marks and 300-character names, in customer names and ids, product, rep,
team, channel and region names. Chromium is Debian's (or ``SALESPERF_CHROMIUM``); without it the browser test skips
locally and fails in CI (``SALESPERF_REQUIRE_BROWSER=1``), as tests/report/test_browser.py does.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from readback import export_problems

PAYLOAD_SHOWN = "<script>window.__pwned=1</script>"
#: What a page would show if a cell had failed or warned: an error or a warning block.
ERROR_BLOCKS = (
    "[data-mime-type='application/vnd.jupyter.stderr'], .jp-OutputArea-output.jp-mod-error, pre.error"
)


def test_every_report_of_the_set_renders(hostile_text_run):
    run = hostile_text_run
    assert run.cli.returncode == 0, run.cli.describe()
    assert [(r["instance"], r["status"], r["error"]) for r in run.manifest["reports"]] == [
        (r["instance"], "ok", "") for r in run.manifest["reports"]
    ]
    assert {r["instance"] for r in run.manifest["reports"]} == {
        "summary",
        "overview",
        "segmentation",
        "lifecycle",
        "forecast",
        "reps",
    }
    assert "Traceback" not in run.cli.stderr and "Glyph" not in run.cli.stderr


def test_no_nul_reaches_a_page_and_no_export_holds_a_live_formula(hostile_text_run):
    run = hostile_text_run
    for page in run.html_pages():
        assert b"\x00" not in page.read_bytes() and b"&#0;" not in page.read_bytes(), page.name
    exports = sorted((run.folder / "data").glob("*.csv"))
    assert len(exports) >= 10
    assert {problem for path in exports for problem in export_problems(path)} == set()


def _chromium() -> str | None:
    for candidate in (os.environ.get("SALESPERF_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def chromium():
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or executable is None:
        if os.environ.get("SALESPERF_REQUIRE_BROWSER") == "1":
            pytest.fail("SALESPERF_REQUIRE_BROWSER=1 but Chromium or playwright is missing")
        pytest.skip("needs Chromium and playwright")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


def test_every_page_shows_hostile_text_as_text_and_runs_nothing(chromium, hostile_text_run):
    pages = hostile_text_run.html_pages()
    assert len(pages) == 8  # root index, period index, six reports
    shown = []
    for path in pages:
        page = chromium.new_page()
        seen = {"dialogs": [], "errors": [], "requests": []}
        page.on("dialog", lambda d, seen=seen: (seen["dialogs"].append(d.message), d.dismiss()))
        page.on("pageerror", lambda e, seen=seen: seen["errors"].append(str(e)))
        page.on("console", lambda m, seen=seen: seen["errors"].append(m.text) if m.type == "error" else None)
        page.on("request", lambda r, seen=seen: seen["requests"].append(r.url))
        page.goto(path.as_uri(), wait_until="load")
        assert page.evaluate("() => window.__pwned === undefined"), path.name
        assert seen == {"dialogs": [], "errors": [], "requests": [path.as_uri()]}, (
            path.name
        )  # no <img src=x> fetch
        assert page.locator(ERROR_BLOCKS).count() == 0, path.name
        text = page.inner_text("body")
        assert not {"Traceback", "Glyph", "Warning", "Error:"} & set(text.replace("\n", " ").split()), (
            path.name
        )
        if PAYLOAD_SHOWN in text:
            shown.append(path.name)
        page.close()
    assert "overview.html" in shown  # the payload is on the page, as text
