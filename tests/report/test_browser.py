"""Every page of a run opened in headless Chromium: offline, error-free, not blank, with KPIs, charts, the embedded
Chinese font, and with hostile CRM names shown as text rather than run.

Needs Chromium (Debian's ``/usr/bin/chromium`` or ``SALESPERF_CHROMIUM``) and the ``playwright`` package; no browser is
ever downloaded. Without them the tests skip, unless ``SALESPERF_REQUIRE_BROWSER=1`` (set by CI), where they fail.
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support import HOSTILE_CUSTOMER_NAMES, HOSTILE_PRODUCT_NAMES

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _chromium() -> str | None:
    for candidate in (
        os.environ.get("SALESPERF_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    required = os.environ.get("SALESPERF_REQUIRE_BROWSER") == "1"
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    problem = (
        "the playwright package is not installed"
        if sync_playwright is None
        else "no Chromium found (/usr/bin/chromium, chromium on PATH or SALESPERF_CHROMIUM)"
        if executable is None
        else ""
    )
    if problem:
        if required:
            pytest.fail(f"SALESPERF_REQUIRE_BROWSER=1 but {problem}")
        pytest.skip(f"browser tests need Chromium and playwright: {problem}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """What a page did and showed in the browser."""

    path: Path
    title: str = ""
    errors: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    dialogs: list = field(default_factory=list)
    kpi_values: list = field(default_factory=list)
    images: list = field(default_factory=list)
    img_tags_in_source: int = 0
    fonts: list = field(default_factory=list)
    cjk: dict = field(default_factory=dict)
    text: str = ""
    pwned: bool = False
    data_elements: int = 0
    colours: int = 0
    ink: float = 0.0


_CJK_WIDTHS = """() => {
    const sample = (document.body.innerText.match(/[\\u4e00-\\u9fff]/g) || []).slice(0, 6).join('');
    const width = family => {
        const span = document.createElement('span');
        span.style.cssText = `font-family: ${family}; font-size: 40px; white-space: nowrap; position: absolute;`;
        span.textContent = sample;
        document.body.appendChild(span);
        const w = span.getBoundingClientRect().width;
        span.remove();
        return w;
    };
    const h1 = document.querySelector('h1') || document.body;
    return {sample, family: getComputedStyle(h1).fontFamily,
            page: width(getComputedStyle(h1).fontFamily), fallback: width("'No Such Font 123'")};
}"""


def visit(browser, path: Path) -> Visit:
    from PIL import Image

    record = Visit(path)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.on("console", lambda m: record.errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: record.errors.append(f"page error: {e}"))
    page.on("request", lambda r: record.requests.append(r.url))

    def on_dialog(dialog):
        record.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(path.as_uri(), wait_until="load")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    record.title = page.title()
    record.kpi_values = page.eval_on_selector_all(".sp-kpi-value", "els => els.map(e => e.innerText.trim())")
    record.images = page.evaluate(
        "() => [...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
    )
    record.img_tags_in_source = path.read_text(encoding="utf-8").count("<img")
    record.fonts = page.evaluate(
        "() => [...document.fonts].map(f => [f.family.replace(/[\"']/g, ''), f.status])"
    )
    record.cjk = page.evaluate(_CJK_WIDTHS)
    record.text = page.inner_text("body")
    record.pwned = page.evaluate("() => window.__pwned !== undefined")
    record.data_elements = page.evaluate(
        "() => [...document.querySelectorAll('script')].filter(s => s.textContent.includes('alert(1)')).length"
        " + [...document.images].filter(i => i.getAttribute('src') === 'x').length"
    )
    image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 24)
    record.colours = len(colours)
    white = sum(n for n, rgb in colours if min(rgb) >= 250)
    record.ink = 1 - white / (image.width * image.height)
    page.close()
    return record


@pytest.fixture(scope="module")
def visits(browser, demo_run, demo_run_zh) -> dict[str, list[Visit]]:
    """Every page of the English and the Chinese run, visited once."""
    return {run.lang: [visit(browser, p) for p in run.html_pages()] for run in (demo_run, demo_run_zh)}


def _all(visits) -> list[Visit]:
    return visits["en"] + visits["zh"]


def test_every_page_of_both_languages_was_visited(visits, demo_run, demo_run_zh):
    for lang, run in (("en", demo_run), ("zh", demo_run_zh)):
        assert {v.path for v in visits[lang]} == {run.root / "index.html", run.folder / "index.html"} | {
            run.folder / f"{r['instance']}.html" for r in run.manifest["reports"]
        }
        assert len(run.manifest["reports"]) >= 2


def test_no_console_errors(visits):
    assert {str(v.path): v.errors for v in _all(visits) if v.errors} == {}


def test_no_request_leaves_the_page_file(visits):
    """Everything is inline: the only request of a page is the page itself."""
    for v in _all(visits):
        assert v.requests == [v.path.as_uri()], v.path


def test_pages_are_not_blank(visits):
    for v in _all(visits):
        assert v.colours > 20 and v.ink > 0.005, (v.path, v.colours, v.ink)


def test_pages_have_titles(visits):
    for v in _all(visits):
        assert v.title.strip(), v.path
    assert visits["en"][0].title == "All periods" and visits["zh"][0].title == "所有报告期"


def test_kpi_figures_and_charts_are_shown(visits, demo_run):
    reports = {r["html"]: r for r in demo_run.manifest["reports"]}
    for lang in ("en", "zh"):
        for v in visits[lang]:
            if v.path.name == "index.html" and v.path.parent.name == demo_run.period:
                assert len(v.kpi_values) >= 4 and all(v.kpi_values), v.path  # the period's headline tiles
            report = reports.get(v.path.name)
            if report is not None and report["kpis"]:
                assert len(v.kpi_values) >= len(report["kpis"]) and all(v.kpi_values), v.path
            # every chart decoded (an undecodable PNG has naturalWidth 0)
            assert len(v.images) == v.img_tags_in_source, v.path
            assert all(complete and width > 0 and height > 0 for complete, width, height in v.images), v.path
        overview = next(v for v in visits[lang] if v.path.name == "overview.html")
        assert len(overview.images) >= 2  # monthly trend and regions


def test_chinese_renders_with_the_embedded_font(visits):
    for v in visits["zh"]:
        assert ["Salesperf CJK", "loaded"] in v.fonts, v.path
        assert (
            v.cjk["family"].startswith('"Salesperf CJK"')
            or v.cjk["family"].startswith("'Salesperf CJK'")
            or v.cjk["family"].startswith("Salesperf CJK")
        ), v.cjk
        # real CJK glyphs are one em wide (40 px at 40 px); missing-glyph boxes of a fallback font are not
        assert len(v.cjk["sample"]) >= 4, v.path
        per_char = v.cjk["page"] / len(v.cjk["sample"])
        assert 36 <= per_char <= 44, (v.path, v.cjk)


# --------------------------------------------------------------------------------------------- hostile names
@pytest.fixture(scope="module")
def hostile_visits(browser, hostile_run) -> list[Visit]:
    return [visit(browser, p) for p in hostile_run.html_pages()]


def test_hostile_names_are_shown_as_text_and_never_run(hostile_visits):
    assert len(hostile_visits) >= 3  # root index, period index, overview
    for v in hostile_visits:
        assert v.dialogs == [], v.path
        assert not v.pwned, v.path
        assert v.data_elements == 0, v.path
        assert v.errors == [], v.path
        assert v.requests == [v.path.as_uri()], v.path  # an injected <img src=x> would have requested 'x'
    overview = next(v for v in hostile_visits if v.path.name == "overview.html")
    for name in HOSTILE_CUSTOMER_NAMES + HOSTILE_PRODUCT_NAMES:
        assert name in overview.text, name
