"""The period index (``<period>/index.html``: headline KPIs, links, status of every report) and the root index
(``index.html``: every period). Plain HTML with inline CSS; every value is escaped.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from salesperf.core.periods import parse_period
from salesperf.core.vocab import term
from salesperf.report.render import TEMPLATES, embed_cjk_font

_INDEX_CSS = """
body { font-family: "Segoe UI", "Helvetica Neue", Arial, "Noto Sans CJK SC", "PingFang SC", \
"Microsoft YaHei", sans-serif;
  color: #1d2733; max-width: 1080px; margin: 0 auto; padding: 24px 32px; }
h1 { color: #1f4e79; margin-bottom: 4px; } \
h2 { color: #1f4e79; border-bottom: 2px solid #e5e8eb; padding-bottom: 4px; }
.sp-report { border: 1px solid #dfe3e8; border-radius: 8px; padding: 12px 16px; margin: 12px 0; }
.sp-report.sp-failed { border-color: #b03a2e; background: #fdf2f1; }
.sp-error { color: #b03a2e; font-family: monospace; white-space: pre-wrap; }
a { color: #2e86c1; }
.sp-links { display: flex; flex-wrap: wrap; gap: 4px 16px; } .sp-links a { white-space: nowrap; }
"""


def _page(title: str, body: str, lang: str) -> str:
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return embed_cjk_font(
        f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title>"
        f"<style>{css}{_INDEX_CSS}</style></head><body>{body}</body></html>"
    )


def _tiles(kpis: list[dict]) -> str:
    cells = []
    for tile in kpis[:4]:
        deltas = "".join(
            f"<div class='sp-delta sp-{html.escape(tile.get('tone', 'neutral'))}'>"
            f"{html.escape(tile[k])}</div>"
            for k in ("delta", "delta2")
            if tile.get(k)
        )
        cells.append(
            f"<div class='sp-kpi'><div class='sp-kpi-label'>{html.escape(tile['label'])}</div>"
            f"<div class='sp-kpi-value'>{html.escape(tile['value'])}</div>{deltas}</div>"
        )
    return f"<div class='sp-kpis'>{''.join(cells)}</div>" if cells else ""


def _report_block(report: dict, lang: str) -> str:
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
    error = f"<div class='sp-error'>{html.escape(report['error'])}</div>" if not ok else ""
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
        f"{_tiles(report['kpis'])}<div class='sp-links'>{''.join(links)}</div></div>"
    )


def write_period_index(folder: Path, manifest: dict, lang: str) -> Path:
    """Write ``<period>/index.html`` from the run's manifest."""
    period = parse_period(manifest["period"])
    # The first report of the set with tiles (the set lists its headline report first); company-wide figures
    # only: a fan-out copy's tiles (one region's revenue) must not pass for the period's.
    headline = next((r["kpis"] for r in manifest["reports"] if not r["entity"] and r["kpis"]), [])
    blocks = "".join(_report_block(r, lang) for r in manifest["reports"])
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
