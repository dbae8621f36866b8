"""The analysis interface: what every analysis package provides, and what it hands on.

An analysis is one package under ``salesperf/analyses/<name>/`` with the same parts every time:

``queries.py``
    engine work: functions taking a DuckDB connection holding the canonical tables, returning aggregated
    frames;
pure modules
    the computations, DataFrames in and out (no I/O, no plotting, no global state);
``result.py`` (or the pure module's own dataclass)
    the rich result the notebook shows;
``text.py``
    tiles, sentences and table specs in English and Chinese, computed from the result (the only place words
    are);
``rules.yml`` and ``vocab.yml``
    the rule defaults (YAML, validated) and the words of the report;
``__init__.py``
    defines ``ANALYSIS``, an :class:`Analysis`, and the public functions analysts call.

:class:`Analysis` says what the analysis needs (:class:`Needs`), which other analyses' results it uses, how to
compute its rich result and how to summarise that into a :class:`Result` — the small, serialisable part that
the executive summary, the period index and other analyses read. The registry
(:mod:`salesperf.analyses.registry`) finds the packages; nothing else in the project names an analysis.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from salesperf.core.present import Exhibit, TableSpec, Tile
from salesperf.core.vocab import CORE, Vocabulary


@dataclass(frozen=True)
class Needs:
    """The data an analysis reads: required tables (with required columns) and optional ones.

    ``optional`` maps a table, a ``table.column`` or alternatives (``orders.region / customers.region``:
    either will do) to ``(section, what)``: the vocabulary keys of the report section that uses it and of what
    that section leaves out without it; when it is missing the section says so in one line
    (:meth:`Analysis.missing_lines`) instead of failing. This is the one place an analysis lists what it reads
    beyond the required orders columns.
    """

    required: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"orders": ("customer_id", "order_date", "amount")}
    )
    optional: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def absent(self, ds, section: str | None = None) -> list[str]:
        """The optional entries (of ``section``, or all) that ``ds`` lacks, in declaration order."""
        return [
            need
            for need, (used_by, _) in self.optional.items()
            if (section is None or used_by == section) and not any(_has(ds, a) for a in need.split(" / "))
        ]


def _has(ds, need: str) -> bool:
    table, _, column = need.partition(".")
    if not column or not ds.has(table):
        return ds.has(table)
    return column in ds.engine.table(table).columns and ds.has(table, column)


@dataclass(frozen=True)
class Context:
    """What every analysis run is given besides the data: the language, currency and its own parameters."""

    lang: str = "en"
    currency: str = "¥"
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    """The part of an analysis's outcome that other reports read, in the run's language.

    Attributes
    ----------
    analysis : str
        The analysis name.
    headline : list of Tile
        KPI tiles for the top of its report and for the period index.
    findings : list of str
        Generated sentences, most important first; the executive summary shows them.
    exhibits : list of Exhibit
        Small tables offered to the executive summary.
    shared : dict of DataFrame
        Frames other analyses may use (e.g. lifecycle's per-customer value for segmentation's grading).
    """

    analysis: str
    headline: list[Tile] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    exhibits: list[Exhibit] = field(default_factory=list)
    shared: dict[str, pd.DataFrame] = field(default_factory=dict)

    def save(self, folder: Path) -> None:
        """Write the result to ``folder`` (JSON + Parquet); written under a temporary name, then renamed."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in self.shared.items():
            _write_atomic(folder / f"shared__{name}.parquet", lambda p, f=frame: f.to_parquet(p, index=False))
        for i, exhibit in enumerate(self.exhibits):
            _write_atomic(
                folder / f"exhibit__{i}.parquet", lambda p, f=exhibit.frame: f.to_parquet(p, index=False)
            )
        meta = {
            "analysis": self.analysis,
            "headline": [t.to_dict() for t in self.headline],
            "findings": self.findings,
            "exhibits": [
                {"title": e.title, "spec": e.spec.to_dict(), "sentence": e.sentence} for e in self.exhibits
            ],
            "shared": sorted(self.shared),
        }
        _write_atomic(
            folder / "result.json",
            lambda p: p.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8"),
        )

    @classmethod
    def load(cls, folder: Path) -> Result | None:
        """Read a result written by :meth:`save`; None when there is none."""
        meta_file = folder / "result.json"
        if not meta_file.is_file():
            return None
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        exhibits = [
            Exhibit(
                e["title"],
                pd.read_parquet(folder / f"exhibit__{i}.parquet"),
                TableSpec.from_dict(e["spec"]),
                e["sentence"],
            )
            for i, e in enumerate(meta["exhibits"])
        ]
        shared = {name: pd.read_parquet(folder / f"shared__{name}.parquet") for name in meta["shared"]}
        return cls(
            meta["analysis"], [Tile(**t) for t in meta["headline"]], meta["findings"], exhibits, shared
        )


#: Marker files of a result a run has promised (written by the runner before the reports start) and of one
#: whose report ended without it.
PENDING, FAILED = "pending", "failed"


def _write_atomic(target: Path, write) -> None:
    # one partial file per process: two kernels of a run may store the same analysis at the same time
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    write(partial)
    partial.replace(target)


class Analysis:
    """Base class of every analysis; a package defines one subclass and an instance named ``ANALYSIS``.

    Class attributes
    ----------------
    name : str
        The package name, also the report id and the vocabulary namespace.
    needs : Needs
    uses : tuple of str
        Analyses whose :class:`Result` this one reads (they run first; their results arrive in ``upstream``).
    parameters : dict
        The analysis's parameters and their defaults (the report set declares the same names and defaults: a
        test keeps them in step); :meth:`param` reads one from a :class:`Context`.
    words : Vocabulary
        The package's ``vocab.yml``, falling back to the core words.
    """

    name: str = ""
    needs: Needs = Needs()
    uses: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = {}
    words: Vocabulary = CORE

    def param(self, ctx: Context, name: str) -> Any:
        """The value of parameter ``name`` in ``ctx``, or its default."""
        return ctx.params.get(name, self.parameters[name])

    def missing_lines(self, ds, section: str, lang: str) -> list[str]:
        """One stated line per optional need of ``section`` that ``ds`` lacks (the package's ``missing_need``
        template: the data named, the part left out)."""
        return [
            self.words("missing_need", lang, need=need, what=self.words(self.needs.optional[need][1], lang))
            for need in self.needs.absent(ds, section)
        ]

    def compute(self, ds, ctx: Context, upstream: Mapping[str, Result]) -> Any:
        """The rich result the notebook shows (a dataclass of frames). ``ds`` is a
        :class:`~salesperf.data.dataset.Dataset`.
        """
        raise NotImplementedError

    def summarise(self, detail: Any, ds, ctx: Context) -> Result:
        """The serialisable :class:`Result` of ``detail``: headline tiles, findings, exhibits, shared
        frames."""
        raise NotImplementedError
