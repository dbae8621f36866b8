"""What an analysis hands to the report layer to show: KPI tiles and table specs. Plain data, no HTML.

The analysis's ``text`` module builds them in the report's language, from the result's numbers, so that the
report layer never guesses a header from a column name and never formats a number it does not understand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

#: How a column's values are shown (see ``salesperf.report.page``): ``text`` as is, ``money`` in the report's
#: currency, ``int`` with thousands separators, ``pct`` / ``signed_pct`` as percentages, ``float`` with two
#: decimals, ``date``, ``month`` (``2026-10``).
FORMATS = ("text", "money", "int", "pct", "signed_pct", "float", "date", "month")


@dataclass(frozen=True)
class Tile:
    """One KPI tile: a label, a formatted value and up to two formatted comparisons; tone colours the
    first."""

    label: str
    value: str
    delta: str = ""
    delta2: str = ""
    tone: str = "neutral"  # good, bad or neutral

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Column:
    """One shown column: the frame's column ``name``, its translated ``header`` and its ``fmt`` (see
    FORMATS)."""

    name: str
    header: str
    fmt: str = "text"

    def __post_init__(self):
        if self.fmt not in FORMATS:
            raise ValueError(f"column {self.name!r}: format {self.fmt!r} is not one of {', '.join(FORMATS)}")


@dataclass(frozen=True)
class TableSpec:
    """Which columns of a frame a table shows, in which order, with which headers and formats.

    Columns absent from the frame are left out (an optional table or column the data did not have), so one
    spec serves every company.
    """

    columns: tuple[Column, ...]
    max_rows: int = 30

    def present(self, frame_columns) -> tuple[Column, ...]:
        """The spec's columns that ``frame_columns`` holds, in the spec's order."""
        have = set(frame_columns)
        return tuple(c for c in self.columns if c.name in have)

    def to_dict(self) -> dict:
        return {"columns": [asdict(c) for c in self.columns], "max_rows": self.max_rows}

    @classmethod
    def from_dict(cls, data: dict) -> TableSpec:
        return cls(tuple(Column(**c) for c in data["columns"]), data.get("max_rows", 30))


def table(*columns: tuple[str, str] | tuple[str, str, str], max_rows: int = 30) -> TableSpec:
    """Shorthand: ``table(("segment", "Segment"), ("revenue", "Revenue", "money"))``."""
    return TableSpec(tuple(Column(*c) for c in columns), max_rows)


@dataclass
class Exhibit:
    """A titled table an analysis offers to the executive summary (the frame is already aggregated)."""

    title: str
    frame: object  # pandas.DataFrame; typed loosely so that this module needs no pandas
    spec: TableSpec
    sentence: str = ""
    extra: dict = field(default_factory=dict)
