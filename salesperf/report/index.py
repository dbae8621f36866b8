"""The period index (``<period>/index.html``: headline KPIs, links, status of every report) and the root index
(``index.html``: every period). Plain HTML with inline CSS; every value is escaped.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from salesperf.core.periods import parse_period
from salesperf.core.vocab import term
from salesperf.report.page import tiles_html
from salesperf.report.render import TEMPLATES, embed_cjk_font
from salesperf.report.unshowable import UNSHOWABLE

_INDEX_CSS = """
body { font-family: "Segoe UI", "Helvetica Neue", Arial, "Noto Sans CJK SC", "PingFang SC", \
"Microsoft YaHei", sans-serif;
  color: #1d2733; max-width: 1080px; margin: 0 auto; padding: 24px 32px; }
h1 { color: #1f4e79; margin-bottom: 4px; } \
h2 { color: #1f4e79; border-bottom: 2px solid #e5e8eb; padding-bottom: 4px; }
.sp-report { border: 1px solid #dfe3e8; border-radius: 8px; padding: 12px 16px; margin: 12px 0; }
.sp-report.sp-failed { border-color: #b03a2e; background: #fdf2f1; }
.sp-error { color: #b03a2e; }
.sp-tech { color: #5b6770; font-size: 0.85em; } .sp-tech pre { white-space: pre-wrap; margin: 4px 0; }
a { color: #2e86c1; }
.sp-links { display: flex; flex-wrap: wrap; gap: 4px 16px; } .sp-links a { white-space: nowrap; }
"""


def _page(title: str, body: str, lang: str) -> str:
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return embed_cjk_font(
        UNSHOWABLE.sub(
            "",
            f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title>"
            f"<style>{css}{_INDEX_CSS}</style></head><body>{body}</body></html>",
        )
    )


def _tile_key(tile: dict) -> tuple:
    return tile.get("label"), tile.get("value")


def _tiles(kpis: list[dict], shown: list[dict] | None = None) -> str:
    """Up to four tiles, leaving out those already ``shown`` (the headline at the top of the index)."""
    seen = {_tile_key(t) for t in shown or []}
    return tiles_html([t for t in kpis if _tile_key(t) not in seen][:4])


def failure_sentence(error: str, lang: str) -> str:
    """One sentence a manager can read for a failed report; the technical error stays in the manifest and the
    executed notebook. A data problem stated by salesperf (a UserError) keeps its message in English pages."""
    kind, _, message = str(error).partition(": ")
    if kind == "UserError" and message and lang == "en":
        return term("failed_data_message", lang, message=message.rstrip("."))
    if kind == "UserError":
        return term("failed_data", lang)
    if "Timeout" in kind or message == "timed out":
        return term("failed_timeout", lang)
    if "DeadKernel" in kind or message == "the kernel died":
        return term("failed_killed", lang)
    if kind == "render":
        return term("failed_render", lang)
    return term("failed_unexpected", lang)


def _report_block(report: dict, lang: str, headline: list[dict]) -> str:
    title = report["title"]
    ok = report["status"] == "ok"
    links = []
    if report["html"]:
        links.append(f"<a href='{html.escape(report['html'])}'>{html.escape(term('open_report', lang))}</a>")
    if report["notebook"]:
        links.append(
            f"<a href='{html.escape(report['notebook'])}'>{html.escape(term('executed_notebook', lang))}</a>"
        )
    links += [f"<a href='{html.escape(p)}'>{html.escape(Path(p).name)}</a>" for p in report["exports"]]
    error = (
        f"<p class='sp-error'>{html.escape(failure_sentence(report['error'], lang))}</p>"
        f"<details class='sp-tech'><summary>{html.escape(term('technical_details', lang))}</summary>"
        f"<pre>{html.escape(report['error'])}</pre></details>"
        if not ok
        else ""
    )
    status = term("succeeded" if ok else "failed", lang)
    return (
        f"<div class='sp-report{'' if ok else ' sp-failed'}'><h3>"
        + (
            f"<a href='{html.escape(report['html'])}'>{html.escape(title)}</a>"
            if report["html"]
            else html.escape(title)
        )
        + f"</h3><div class='sp-meta'>{html.escape(term('status', lang))}: {html.escape(status)} · "
        f"{html.escape(term('duration', lang))}: {report['seconds']:.1f} s</div>{error}"
        f"{_tiles(report['kpis'], headline) if ok else ''}<div class='sp-links'>{''.join(links)}</div></div>"
    )


def write_period_index(folder: Path, manifest: dict, lang: str) -> Path:
    """Write ``<period>/index.html`` from the run's manifest."""
    period = parse_period(manifest["period"])
    # The first report of the set with tiles (the set lists its headline report first); company-wide figures
    # only: a fan-out copy's tiles (one region's revenue) must not pass for the period's.
    headline = next(
        (r["kpis"][:4] for r in manifest["reports"] if not r["entity"] and r["kpis"] and r["status"] == "ok"),
        [],
    )
    # a block shows only tiles not shown above it: in the headline or an earlier block of its entity
    shown: dict[str, list[dict]] = {"": list(headline)}
    blocks = []
    for r in manifest["reports"]:
        seen = shown.setdefault(r["entity"], [])
        blocks.append(_report_block(r, lang, seen))
        if r["status"] == "ok":
            seen.extend(r["kpis"])
    blocks = "".join(blocks)
    drop_dead_links(folder, manifest)
    body = (
        f"<h1>{html.escape(period.label_in(lang))}</h1>"
        f"<p class='sp-meta'>{html.escape(term('as_of', lang))} {html.escape(manifest['end'])} · "
        f"salesperf {html.escape(manifest['salesperf_version'])} · "
        "<a href='manifest.json'>manifest.json</a> · "
        f"<a href='../index.html'>{html.escape(term('all_periods', lang))}</a></p>"
        f"{_tiles(headline)}<h2>{html.escape(term('reports', lang))}</h2>{blocks}"
    )
    target = folder / "index.html"
    target.write_text(_page(period.label_in(lang), body, lang), encoding="utf-8")
    return target


# the rendered page may quote attributes either way (nbconvert writes double quotes)
_LINK_LIST = re.compile(r"<ul class=[\"']sp-links[\"']>(.*?)</ul>", re.DOTALL)
_LINK_ITEM = re.compile(r"<li><a href=[\"']([^\"'/]+\.html)[\"']>(.*?)</a></li>", re.DOTALL)


def drop_dead_links(folder: Path, manifest: dict) -> None:
    """Make the link lists of the rendered pages (``page.links``, e.g. the executive summary's "detailed
    reports") point only to pages that rendered in this run: a link to a report that failed or did not run
    becomes its title with a note.

    A report is rendered before the others of the run have ended, so it cannot know; the index is written
    once every report has.
    """
    rendered = {r["html"] for r in manifest["reports"] if r["html"]}
    lang = manifest.get("lang", "en")
    note = html.escape(term("not_rendered", lang))

    def item(match: re.Match) -> str:
        if match[1] in rendered:
            return match[0]
        return f"<li>{match[2]} <span class='sp-meta'>({note})</span></li>"

    for page in sorted(rendered):
        path = folder / page
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        fixed = _LINK_LIST.sub(lambda m: m[0].replace(m[1], _LINK_ITEM.sub(item, m[1])), text)
        if fixed != text:
            path.write_text(fixed, encoding="utf-8")


def write_root_index(out: Path, lang: str) -> Path:
    """Write ``<out>/index.html`` listing every period folder that holds a manifest, newest first."""
    rows = []
    for manifest_file in sorted(out.glob("*/manifest.json"), reverse=True):
        if manifest_file.parent.name.startswith("."):
            continue
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        failed = [r["instance"] for r in manifest["reports"] if r["status"] != "ok"]
        status = term("succeeded", lang) if not failed else f"{term('failed', lang)}: {', '.join(failed)}"
        label = parse_period(manifest["period"]).label_in(manifest.get("lang", lang))
        rows.append(
            f"<tr><td><a href='{html.escape(manifest_file.parent.name)}/index.html'>"
            f"{html.escape(label)}</a></td>"
            f"<td>{len(manifest['reports'])}</td><td>{html.escape(status)}</td>"
            f"<td>{html.escape(manifest['ended'])}</td></tr>"
        )
    body = (
        f"<h1>{html.escape(term('all_periods', lang))}</h1>"
        f"<table class='sp-table'><tr><th>{term('period', lang)}</th>"
        f"<th>{term('reports', lang)}</th><th>{term('status', lang)}</th>"
        f"<th>{term('generated', lang)}</th></tr>" + "".join(rows) + "</table>"
    )
    target = out / "index.html"
    target.write_text(_page(term("all_periods", lang), body, lang), encoding="utf-8")
    return target
