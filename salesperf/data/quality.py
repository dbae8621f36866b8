"""The row accounting of a run, table by table, from the export to the rows the analyses use.

Two steps, each adding up exactly:

* **import** (when the table file was written by ``salesperf import``, whose ``import_accounting.csv`` lies
  beside it): source rows = rows imported + rows dropped at import (by reason) + rows merged at import;
  attribute conflicts (a customer with several regions: which value was kept) are counted too;
* **validation** (:mod:`salesperf.data.validate`): rows read (= rows imported) = rows used + rows excluded (by
  reason); flagged rows are kept.

:class:`QualityReport` holds both for every table read. It travels in the run's snapshot and the manifest,
and every report's data-quality section shows it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from salesperf.core.vocab import term
from salesperf.data.catalog import Source

#: Import accounting kinds (docs/import.md) shown in the data-quality section, and their kind there (a word of
#: the core vocabulary); ``read`` and ``written`` are the chain's two ends (source rows, rows imported).
IMPORT_KINDS = {
    "derived": "derived_at_import",
    "dropped": "dropped_at_import",
    "merged": "merged_at_import",
    "conflict": "conflict_at_import",
}
#: The columns of :meth:`QualityReport.frame` (the manifest's ``quality`` list).
FRAME_COLUMNS = [
    "table",
    "source",
    "rows_read",
    "rows_used",
    "kind",
    "reason",
    "rows",
    "examples",
    "source_rows",
]


@dataclass
class ImportStep:
    """One line of a table's import accounting (``import_accounting.csv``).

    Attributes
    ----------
    kind : str
        ``read``, ``derived``, ``dropped``, ``merged``, ``conflict`` or ``written``.
    reason : str
        Why (``missing customer_id``), or the file written for ``written``.
    rows : int
        Rows (for ``conflict``: keys whose rows disagree, not rows).
    examples : str
        Up to three source lines, keys or ``key: value (n) / value (n) -> kept``.
    source : str
        The export file; empty for lines about the whole table.
    """

    kind: str
    reason: str
    rows: int
    examples: str = ""
    source: str = ""


@dataclass
class TableQuality:
    """Row accounting of one table: rows read, used, excluded by reason and flagged by reason, and, when the
    table was made by ``salesperf import``, what happened at import (``imported``)."""

    table: str
    source: str
    rows_read: int
    rows_used: int
    excluded: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    content_hash: str = ""
    currency: str = ""  # the currency of the amounts used (ISO code), '' when the table has none
    currencies: dict[str, int] = field(default_factory=dict)  # rows read per currency of the currency column
    other_currencies: list[str] = field(default_factory=list)  # as written, excluded: not the currency
    imported: list[ImportStep] = field(default_factory=list)  # the table's import accounting, [] when none
    import_stale: int = 0  # rows the import accounting says it wrote, when the file no longer has them

    @classmethod
    def from_dict(cls, values: dict) -> TableQuality:
        """The inverse of :func:`dataclasses.asdict` (the snapshot keeps the accounting as JSON)."""
        steps = [ImportStep(**s) for s in values.get("imported", [])]
        return cls(**{**values, "imported": steps})

    @property
    def source_rows(self) -> int:
        """Rows of the export (read + derived at import), or the rows read when the table was not imported."""
        if not self.imported:
            return self.rows_read
        return sum(s.rows for s in self.imported if s.kind in ("read", "derived"))

    def at_import(self, kind: str) -> dict[str, int]:
        """Rows (keys, for ``conflict``) per reason of one import kind, summed over the export files."""
        out: dict[str, int] = {}
        for step in self.imported:
            if step.kind == kind:
                out[step.reason] = out.get(step.reason, 0) + step.rows
        return out


@dataclass
class QualityReport:
    """Accounting of every table read for a run; ``frame()`` gives one row per table and reason."""

    tables: list[TableQuality]

    def frame(self) -> pd.DataFrame:
        """One row per (table, kind, reason): columns ``FRAME_COLUMNS``.

        ``kind`` is ``derived_at_import``, ``dropped_at_import``, ``merged_at_import``, ``conflict_at_import``
        (lines of the import accounting, ``source`` then names the export file), ``excluded`` or ``flagged``
        (validation). Tables without any of them still get one row (kind ``ok``), so every table read is
        listed. ``source_rows`` = ``rows_read`` + rows dropped and merged at import.
        """
        rows = []
        for t in self.tables:
            base = {
                "table": t.table,
                "source": t.source,
                "rows_read": t.rows_read,
                "rows_used": t.rows_used,
                "source_rows": t.source_rows,
            }
            items = [
                (IMPORT_KINDS[s.kind], s.reason, s.rows, s.examples, s.source)
                for s in t.imported
                if s.kind in IMPORT_KINDS
            ]
            items += [("excluded", r, n, t.examples.get(r, ""), t.source) for r, n in t.excluded.items()]
            items += [("flagged", r, n, t.examples.get(r, ""), t.source) for r, n in t.flagged.items()]
            for kind, reason, n, shown, source in items or [("ok", "", 0, "", t.source)]:
                rows.append(
                    base | {"kind": kind, "reason": reason, "rows": n, "examples": shown, "source": source}
                )
        return pd.DataFrame(rows, columns=FRAME_COLUMNS)

    def get(self, table: str) -> TableQuality | None:
        return next((t for t in self.tables if t.table == table), None)

    @property
    def has_import(self) -> bool:
        """Whether any table carries its import accounting."""
        return any(t.imported for t in self.tables)

    def notes(self, lang: str = "en") -> list[str]:
        """Stated problems beyond the row counts, one sentence each: a table whose amounts came in several
        currencies (only those in the report currency are used: there are no exchange rates); a table file
        changed after the import (its import accounting no longer adds up, so it is not shown)."""
        out = []
        for t in self.tables:
            if len(t.currencies) > 1:
                others = {c: n for c, n in t.currencies.items() if c != t.currency}
                out.append(
                    term(
                        "several_currencies",
                        lang,
                        table=t.table,
                        n=len(t.currencies),
                        currency=t.currency,
                        others=", ".join(others),
                        rows=f"{sum(others.values()):,}",
                    )
                )
            if t.import_stale:
                file = Path(t.source).name
                out.append(
                    term(
                        "import_stale",
                        lang,
                        table=t.table,
                        file=file,
                        written=f"{t.import_stale:,}",
                        rows=f"{t.rows_read:,}",
                    )
                )
        return out

    def to_json(self) -> list[dict]:
        """The accounting as JSON-able dicts (the snapshot's), read back with :meth:`from_json`."""
        return [asdict(t) for t in self.tables]

    @classmethod
    def from_json(cls, tables: list[dict]) -> QualityReport:
        return cls([TableQuality.from_dict(t) for t in tables])


def import_steps(src: Source, rows_read: int) -> tuple[list[ImportStep], int]:
    """The import accounting of the table ``src`` reads, when ``salesperf import`` wrote its file.

    The table's file must be the one the accounting says it wrote: one file, ``<table>.csv`` (the
    accounting's ``written`` line) in the folder holding ``import_accounting.csv``. That holds for ``--data
    DIR`` on an import's output folder and for a catalog whose table points at such a file.

    Parameters
    ----------
    src : Source
        The catalog's source of the table.
    rows_read : int
        Rows validation read from it.

    Returns
    -------
    steps : list of ImportStep
        The table's lines of ``import_accounting.csv`` in file order; empty when the table was not imported,
        or when its file no longer holds the rows written (edited after the import).
    stale : int
        In the latter case the rows the accounting says were written, else 0.
    """
    from salesperf.data.importer import read_import_accounting  # only tables read from files need it

    if src.kind != "file" or len(src.files) != 1:
        return [], 0
    file = Path(src.files[0])
    accounting = read_import_accounting(file.parent)
    lines = accounting[accounting["table"] == src.table]
    written = lines[(lines["kind"] == "written") & (lines["reason"] == file.name)]
    if len(written) != 1:
        return [], 0
    if int(written["rows"].iloc[0]) != rows_read:
        return [], int(written["rows"].iloc[0])
    steps = [
        ImportStep(r.kind, r.reason, int(r.rows), r.examples, r.source) for r in lines.itertuples(index=False)
    ]
    return steps, 0
