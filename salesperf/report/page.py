"""What a report notebook calls to show things: headings, generated sentences, KPI tiles, tables, charts,
exports.

Everything that reaches the page goes through here, so CRM text (customer, product and rep names, comments) is
HTML-escaped in one place, numbers are formatted one way, and CSV exports neutralise spreadsheet formulas.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from IPython.display import HTML, display

from salesperf import __version__
from salesperf.analyses import registry
from salesperf.analyses.base import Context, Result
from salesperf.core import fmt
from salesperf.core.present import TableSpec, Tile, table
from salesperf.core.vocab import CORE, Vocabulary, check_lang
from salesperf.data.dataset import Dataset, open_dataset
from salesperf.report.data_quality import reason_text, table_sentences
from salesperf.report.exports import write_csv
from salesperf.report.style import apply_style
from salesperf.report.unshowable import UNSHOWABLE

_COMMON = ("period", "lang", "currency", "entity")


def escape(text) -> str:
    """``text`` for an HTML page: control characters such as NUL dropped, then HTML-escaped.

    Parameters
    ----------
    text : object
        Converted with ``str``.

    Returns
    -------
    str
    """
    return html.escape(UNSHOWABLE.sub("", str(text)))


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


_DIRECTION = re.compile(rf"[+{fmt.MINUS}-](?=\s*\d)|\d")


def second_tone(tile: dict) -> str:
    """The colour of a tile's second comparison.

    A tile's ``tone`` says whether its first change is good or bad; the second takes its own ``tone2`` when
    the tile has one, else follows from the signs: the same direction as the first keeps its tone, the
    opposite direction gets the opposite tone, no direction (flat, no figure) is neutral.
    """
    if tile.get("tone2"):
        return tile["tone2"]
    tone = tile.get("tone", "neutral")

    def direction(text: str) -> int:  # the sign before the first figure: +1, -1, or 0 (none)
        found = _DIRECTION.search(str(text))
        return {"+": 1, fmt.MINUS: -1, "-": -1}.get(found[0], 0) if found else 0

    first, second = direction(tile.get("delta", "")), direction(tile.get("delta2", ""))
    if tone not in ("good", "bad") or not first or not second:
        return "neutral"
    return tone if first == second else {"good": "bad", "bad": "good"}[tone]


def tiles_html(tiles: list[dict]) -> str:
    """KPI tiles as HTML (every value escaped), the second comparison in its own tone."""
    cells = []
    for tile in tiles:
        tones = (tile.get("tone", "neutral"), second_tone(tile))
        deltas = "".join(
            f"<div class='sp-delta sp-{escape(tone)}'>{escape(tile[k])}</div>"
            for k, tone in zip(("delta", "delta2"), tones, strict=True)
            if tile.get(k)
        )
        cells.append(
            f"<div class='sp-kpi'><div class='sp-kpi-label'>{escape(tile['label'])}</div>"
            f"<div class='sp-kpi-value'>{escape(tile['value'])}</div>{deltas}</div>"
        )
    return f"<div class='sp-kpis'>{''.join(cells)}</div>" if cells else ""


@dataclass
class Report:
    """The context of one report run: its data, language, formatting and where exports go.

    Created by :func:`start` in the notebook's setup cell.
    """

    name: str
    ds: Dataset
    lang: str
    currency: str
    params: dict
    output_dir: Path | None
    words: Vocabulary = CORE
    kpi_values: list = field(default_factory=list)
    result: Result | None = None

    # -- words and numbers -----------------------------------------------------------------------------------
    def t(self, key: str, **values) -> str:
        """The word ``key`` of this report's vocabulary (its analysis's, then the core's) in the report's
        language."""
        return self.words(key, self.lang, **values)

    def money(self, x: float, compact: bool = True) -> str:
        """An amount in the report's language and currency (``¥1.23 M`` / ``123.5 万元``), for analysts' own
        cells."""
        return fmt.money(x, self.lang, self.currency, compact)

    # -- page elements ---------------------------------------------------------------------------------------
    def title(self, subtitle: str = "") -> None:
        """The report heading: title, period and the as-of date."""
        period = self.ds.period.label_in(self.lang)
        as_of = self.ds.as_of.isoformat()
        extra = f"<p class='sp-subtitle'>{escape(subtitle)}</p>" if subtitle else ""
        entity = f" · {self.ds.entity.split(':', 1)[1]}" if self.ds.entity else ""
        name = self.t(self.name) if self.name in self.words else self.name  # a custom set's report: its id
        display(
            HTML(
                f"<h1 class='sp-title'>{escape(name)} · "
                f"{escape(period)}{escape(entity)}</h1>"
                f"<p class='sp-meta'>{escape(self.t('as_of'))} {as_of}</p>{extra}"
            )
        )

    def section(self, key: str) -> None:
        """A section heading: the word ``key`` of the report's vocabulary."""
        self.heading(self.t(key))

    def heading(self, text: str) -> None:
        """A section heading of text already in the report's language (e.g. an exhibit's title)."""
        display(HTML(f"<h2>{escape(text)}</h2>"))

    def say(self, *sentences: str) -> None:
        """Show generated sentences as one paragraph (escaped: names from the CRM are shown as text)."""
        text = " ".join(s for s in sentences if s)
        if text:
            display(HTML(f"<p class='sp-narrative'>{escape(text)}</p>"))

    def missing_lines(self, section: str) -> list[str]:
        """One stated line per optional table or column of ``section`` that the data lack, from the
        analysis's ``needs`` (the one place it lists them): "No opportunities in the data: ... left out"."""
        return registry.get(self.name).missing_lines(self.ds, section, self.lang)

    def missing(self, table: str, what: str) -> None:
        """The one stated line that replaces a section whose optional table is absent."""
        self.say(self.t("missing_table", table=table, what=what))

    def analyse(self):
        """Compute this report's analysis (with the results of the analyses it uses) and keep its Result.

        Returns the analysis's rich result, which the notebook's sections show.
        """
        ctx = Context(self.lang, self.currency, {k: v for k, v in self.params.items() if k not in _COMMON})
        detail, self.result = registry.run(self.name, self.ds, ctx)
        return detail

    def headline(self) -> None:
        """The analysis's headline tiles and its findings, at the top of the report."""
        self.kpis(self.result.headline)
        self.say(*self.result.findings)

    def kpis(self, tiles: list[Tile]) -> None:
        """KPI tiles, also recorded for the period index (``<report>.kpis.json`` beside the exports)."""
        display(HTML(tiles_html([t.to_dict() for t in tiles])))
        self.kpi_values.extend(t.to_dict() for t in tiles)
        if self.output_dir is not None:
            (self.output_dir / f"{self.name}.kpis.json").write_text(
                json.dumps(self.kpi_values, ensure_ascii=False)
            )

    def table(self, frame: pd.DataFrame, spec: TableSpec, max_rows: int | None = None) -> None:
        """Show the columns of ``spec`` that ``frame`` holds, with the spec's headers and formats.

        Formatted columns are right-aligned, text left-aligned; every cell is escaped. Longer frames show
        ``max_rows`` (default: the spec's) and say how many rows are left out.
        """
        columns = spec.present(frame.columns)
        shown = frame.head(spec.max_rows if max_rows is None else max_rows)
        align = {c.name: "sp-text" if c.fmt == "text" else "sp-num" for c in columns}
        head = "".join(f"<th class='{align[c.name]}'>{escape(c.header)}</th>" for c in columns)
        body = []
        for values in zip(*(shown[c.name].to_numpy() for c in columns), strict=True):
            cells = "".join(
                f"<td class='{align[c.name]}'>{escape(self._cell(v, c.fmt))}</td>"
                for c, v in zip(columns, values, strict=True)
            )
            body.append(f"<tr>{cells}</tr>")
        more = len(frame) - len(shown)
        note = f"<p class='sp-meta'>{escape(self.t('more_rows', n=f'{more:,}'))}</p>" if more > 0 else ""
        display(
            HTML(
                f"<table class='sp-table'><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>{note}"
            )
        )

    def _cell(self, value, how: str) -> str:
        if _missing(value):
            return "–"
        if how == "money":
            return fmt.money(value, self.lang, self.currency, compact=False)
        if how == "int":
            return fmt.number(value)
        if how == "pct":
            return fmt.percent(value)
        if how == "signed_pct":
            return fmt.signed_percent(value)
        if how == "float":
            return fmt.number(value, 2)
        if how == "date":
            return pd.Timestamp(value).date().isoformat()
        if how == "month":
            return pd.Timestamp(value).strftime("%Y-%m")
        return str(value)

    def links(self, items: list[tuple[str, str]]) -> None:
        """A list of links (title, relative address) to other pages of the period folder."""
        rows = "".join(f"<li><a href='{escape(href)}'>{escape(title)}</a></li>" for title, href in items)
        display(HTML(f"<ul class='sp-links'>{rows}</ul>"))

    def figure(self, fig) -> None:
        """Show a matplotlib figure (embedded as PNG) and release it."""
        import matplotlib.pyplot as plt

        display(fig)
        plt.close(fig)

    def export(self, frame: pd.DataFrame, table: str) -> None:
        """Write ``data/<report>__<table>.csv`` when run by the CLI (see :mod:`salesperf.report.exports`)."""
        if self.output_dir is None:
            return
        target = self.output_dir / "data" / f"{self.name}__{table}.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        write_csv(frame, target)

    # -- standard sections -----------------------------------------------------------------------------------
    def data_quality(self) -> None:
        """The data-quality section: for every table, source rows = imported + dropped at import (when the
        table was made by ``salesperf import``) and rows read = used + excluded, by reason, with examples."""
        self.section("data_quality")
        for t in self.ds.quality.tables:
            self.say(*table_sentences(t, self.lang))
        self.say(*self.ds.quality.notes(self.lang))
        quality = self.ds.quality.frame()
        quality["kind"] = quality["kind"].map(self.t)
        quality["reason"] = quality["reason"].map(lambda r: reason_text(r, self.lang))
        self.table(quality, self._quality_spec(), max_rows=200)

    def _quality_spec(self) -> TableSpec:
        imported = self.ds.quality.has_import
        source = [("source_rows", self.t("source_rows"), "int")] if imported else []
        return table(
            ("table", self.t("table")),
            *source,
            ("rows_read", self.t("rows_imported" if imported else "rows_read"), "int"),
            ("rows_used", self.t("rows_used"), "int"),
            ("kind", self.t("kind")),
            ("reason", self.t("reason")),
            ("rows", self.t("rows"), "int"),
            ("examples", self.t("examples")),
        )

    def footer(self, methods: str = "") -> None:
        """Methods note, parameters, version and data fingerprint at the end of the report."""
        if methods:
            self.section("methods")
            self.say(methods)
        self.section("about")
        prints = "; ".join(
            f"{k} {v['rows']:,} rows #{v['hash'][:8]}" for k, v in self.ds.fingerprints().items()
        )
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if k not in ("data", "output_dir"))
        lines = [
            f"{self.t('parameters')}: {params}",
            f"{self.t('fingerprint')}: {prints}",
            f"{self.t('version')}: {__version__} · {self.t('generated')}: {datetime.now():%Y-%m-%d %H:%M}",
        ]
        display(HTML("".join(f"<p class='sp-footer'>{escape(line)}</p>" for line in lines)))


def start(
    name: str,
    data: str,
    period: str,
    lang: str = "en",
    today: str = "",
    output_dir: str = "",
    currency: str = "¥",
    entity: str = "",
    **params,
) -> Report:
    """Open the data for a report and set the style; the first call of every report notebook.

    Parameters
    ----------
    name : str
        Report id (``overview``, ``segmentation``...), also the vocabulary key of its title.
    data : str
        Snapshot written by ``salesperf run``, a catalog file or a data folder.
    period, lang, today, output_dir, currency : str
        The notebook's parameters; ``output_dir`` empty means no CSV exports (interactive use); ``currency``
        empty means the data's (see :attr:`salesperf.data.dataset.Dataset.currency`).
    entity : str
        ``region:East``, ``team:...`` or ``rep:...`` for a fan-out copy restricted to that entity; empty for
        all.
    **params
        The report's own parameters, listed in the footer.
    """
    check_lang(lang)
    apply_style(lang)
    ds = open_dataset(data, period, today or None, entity)
    currency = currency or ds.currency
    out = Path(output_dir) if output_dir else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    all_params = (
        {"period": ds.period.label, "lang": lang, "currency": currency}
        | ({"entity": entity} if entity else {})
        | params
    )
    words = registry.get(name).words if name in registry.names() else CORE
    return Report(name, ds, lang, currency, all_params, out, words)
