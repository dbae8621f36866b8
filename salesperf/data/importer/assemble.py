"""All export files to canonical tables (:func:`run_import`): each file read to rows (:mod:`~.rows`), the
rows of each table brought to one per entity (:mod:`~.entities`), and ``<table>.csv`` plus
``import_accounting.csv`` written.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from salesperf.core.errors import UserError
from salesperf.data.importer.accounting import write_accounting
from salesperf.data.importer.detect import auto_mapping
from salesperf.data.importer.entities import assemble_tables, reconcile, side_rows
from salesperf.data.importer.mapping import load_mapping
from salesperf.data.importer.rows import import_source
from salesperf.data.importer.summary import ImportSummary
from salesperf.data.importer.write import write_csv
from salesperf.data.schema import TABLES


def _write(frame: pd.DataFrame, table_name: str, out_dir: Path) -> Path:
    table = TABLES[table_name]
    columns = [c for c in table.names if c in frame and (frame[c].notna().any() or c in table.required)]
    path = out_dir / f"{table_name}.csv"
    write_csv(frame[columns], path)
    return path


def run_import(
    sources: list[str | Path],
    out_dir: str | Path,
    preset: str | None = None,
    mapping: str | Path | None = None,
    locale: str | None = None,
) -> ImportSummary:
    """Convert CRM export files into canonical ``<table>.csv`` files in ``out_dir``.

    Parameters
    ----------
    sources : list of str or Path
        Export files (.csv/.tsv/.txt in UTF-8, UTF-8 with BOM, UTF-16, GBK/GB18030 or cp1252; or .xlsx).
        Folders are expanded to the files they contain.
    out_dir : str or Path
        Folder for the canonical CSVs (created). Tables produced here replace same-named files; others stay.
    preset : str, optional
        ``salesforce``, ``hubspot``, ``zoho`` or ``fxiaoke``.
    mapping : str or Path, optional
        A mapping YAML file (see docs/import.md). Without preset or mapping the preset is detected per file.
    locale : str, optional
        Number and date locale such as ``de_DE`` or ``en_GB`` (overrides the mapping's ``locale:``).

    Returns
    -------
    ImportSummary
        Rows read / written / dropped by reason per table, the files written and notes.
    """
    if preset and mapping:
        raise UserError(
            "give either a preset or a mapping file, not both",
            hint="a mapping file can start with 'extends: <preset>' to build on a preset",
        )
    files = _expand(sources)
    out = Path(out_dir)
    summary = ImportSummary(out_dir=out)
    fixed = load_mapping(mapping if mapping else preset) if (mapping or preset) else None
    frames: dict[str, list[pd.DataFrame]] = {}
    derived: dict[str, list[pd.DataFrame]] = {}
    for path in files:
        chosen = fixed or auto_mapping(path, locale)
        results = import_source(path, chosen, locale, summary.notes)
        if not results:
            summary.notes.append(
                f"{path.name}: no 'tables:' entry reads this file (used only by 'join:', if any)"
            )
        for source, frame, kind in results:
            summary.sources.append(source)
            table = summary.table(source.table)
            table.rows_read += source.rows_read
            table.dropped.update(source.dropped)
            table.sources.append(source.file)
            frames.setdefault(source.table, []).append(frame)
            for side_table, rows in side_rows(frame, source, kind).items():
                derived.setdefault(side_table, []).append(rows)
    tables = assemble_tables(frames, derived, summary)
    reconcile(tables, summary)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        summary.table(name).rows_written = len(frame)
        summary.files_written.append(_write(frame, name, out))
    summary.accounting_file = write_accounting(summary, out)
    if "orders" not in tables:
        summary.notes.append(
            "no orders table was imported: '--data' needs orders.csv (import a sales-order export "
            "or an order file with a mapping)"
        )
    return summary


def _expand(sources: list[str | Path]) -> list[Path]:
    if isinstance(sources, (str, Path)):
        sources = [sources]
    files: list[Path] = []
    for src in sources:
        path = Path(src)
        if path.is_dir():
            files += sorted(
                p for p in path.iterdir() if p.suffix.lower() in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
            )
        elif path.exists():
            files.append(path)
        else:
            raise UserError(f"{path}: no such file")
    if not files:
        raise UserError("no export files to import", hint="give CSV or XLSX files (or folders holding them)")
    return files
