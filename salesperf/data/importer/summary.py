"""Row accounting of an import: per source file and per output table, and the CLI report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class SourceSummary:
    """What happened to one source file."""

    file: str
    preset: str
    kind: str
    table: str
    encoding: str | None
    header_row: int
    rows_read: int = 0
    rows_kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class TableSummary:
    """Row accounting of one output table: ``rows_read + rows_derived == rows_written + sum(dropped)``."""

    table: str
    rows_read: int = 0
    rows_derived: int = 0
    rows_written: int = 0
    dropped: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    #: attribute conflicts kept as one value per key: reason -> (number of keys, examples); not dropped rows
    conflicts: dict[str, tuple[int, list[str]]] = field(default_factory=dict)

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())


@dataclass
class ImportSummary:
    """Result of :func:`run_import`: rows read / written / dropped by reason per table, files, notes."""

    out_dir: Path
    tables: dict[str, TableSummary] = field(default_factory=dict)
    sources: list[SourceSummary] = field(default_factory=list)
    files_written: list[Path] = field(default_factory=list)
    #: ``import_accounting.csv``: rows read, dropped (by reason), merged and written per table and source
    accounting_file: Path | None = None
    notes: list[str] = field(default_factory=list)

    def table(self, name: str) -> TableSummary:
        return self.tables.setdefault(name, TableSummary(name))

    def format(self) -> str:
        """Human-readable multi-line report for the CLI."""
        lines = []
        for src in self.sources:
            lines.append(
                f"{src.file}: {src.preset}/{src.kind} → {src.table} ({src.rows_read} rows read, "
                f"{src.rows_kept} kept; encoding {src.encoding or 'xlsx'}, header on row {src.header_row})"
            )
        for t in self.tables.values():
            derived = f" + {t.rows_derived} derived" if t.rows_derived else ""
            dropped = ", ".join(f"{n} {reason}" for reason, n in sorted(t.dropped.items())) or "none"
            lines.append(
                f"{t.table}: {t.rows_read} read{derived}, {t.rows_written} written, dropped: {dropped}"
            )
            for reason, (n, _) in sorted(t.conflicts.items()):
                lines.append(f"{t.table}: {n} {reason}")
        lines += [f"wrote {p}" for p in self.files_written]
        if self.accounting_file:
            lines.append(f"wrote {self.accounting_file} (rows read, dropped and written per table)")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)
