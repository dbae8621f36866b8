"""The registry of analyses: every package under ``salesperf/analyses/`` that defines ``ANALYSIS``.

Adding an analysis adds a package; nothing here changes. :func:`run` computes an analysis for a dataset, first
fetching the results of the analyses it uses; :func:`result` returns an analysis's stored :class:`Result` when
the run already holds it (written by that analysis's own report) and computes it otherwise, so that a report
reads the very numbers the other report showed, and an analyst's kernel still works without a run.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from salesperf.analyses.base import FAILED, PENDING, Analysis, Context, Result
from salesperf.core.errors import UserError


@cache
def names() -> tuple[str, ...]:
    """Every analysis package, in name order (found without importing them)."""
    import salesperf.analyses as package

    return tuple(sorted(info.name for info in pkgutil.iter_modules(package.__path__) if info.ispkg))


@cache
def get(name: str) -> Analysis:
    """The analysis called ``name`` (its package is imported now); UserError listing the known ones
    otherwise."""
    if name not in names():
        raise UserError(f"no analysis called {name!r}", hint=f"analyses: {', '.join(names())}")
    module = importlib.import_module(f"salesperf.analyses.{name}")
    analysis = getattr(module, "ANALYSIS", None)
    if not isinstance(analysis, Analysis) or analysis.name != name:
        raise RuntimeError(f"{module.__name__} must define ANALYSIS, an Analysis named {name!r}")
    return analysis


def store_of(ds, name: str) -> Path | None:
    """Where the run keeps ``name``'s result for this dataset (None outside a run)."""
    return None if ds.store is None else ds.store / name


class Upstream(Mapping):
    """The results an analysis uses, fetched when first read (so that one computed in parallel by another
    report of the run is waited for as late as possible). A missing result reads as absent."""

    def __init__(self, names: tuple[str, ...], ds, ctx: Context):
        self._names, self._ds, self._ctx, self._found = names, ds, ctx, {}

    def _fetch(self, name: str) -> Result | None:
        if name not in self._found:
            self._found[name] = result(name, self._ds, Context(self._ctx.lang, self._ctx.currency))
        return self._found[name]

    def __getitem__(self, name: str) -> Result:
        found = self._fetch(name) if name in self._names else None
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self):
        return (n for n in self._names if self._fetch(n) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def run(name: str, ds, ctx: Context) -> tuple[object, Result]:
    """Compute ``name`` on ``ds``: its rich result (what the notebook shows) and its :class:`Result`.

    The results of the analyses it uses come from the run's store (waiting for one another report is still
    computing) or are computed here with their default parameters. The Result is stored for the other reports.
    """
    analysis = get(name)
    detail = analysis.compute(ds, ctx, Upstream(analysis.uses, ds, ctx))
    summary = analysis.summarise(detail, ds, ctx)
    folder = store_of(ds, name)
    if folder is not None:
        summary.save(folder)
    ds.results[name] = summary
    return detail, summary


def result(name: str, ds, ctx: Context, wait_seconds: float = 3600.0) -> Result | None:
    """``name``'s Result for ``ds``: stored by this run, computed earlier in this process, or computed now.

    When the run has promised the result (another report is computing it), waits for it, up to
    ``wait_seconds``; when that report ended without it, returns None rather than failing the same way again.
    None also when the data lack what the analysis requires (its own report says so).
    """
    if name in ds.results:
        return ds.results[name]
    folder = store_of(ds, name)
    if folder is not None:
        deadline = time.monotonic() + wait_seconds
        while (folder / PENDING).exists() and not (folder / "result.json").exists():
            if (folder / FAILED).exists() or time.monotonic() > deadline:
                return None
            time.sleep(0.2)
        stored = Result.load(folder)
        if stored is not None:
            ds.results[name] = stored
            return stored
    if missing_requirements(get(name), ds):
        return None
    return run(name, ds, ctx)[1]


def missing_requirements(analysis: Analysis, ds) -> list[str]:
    """``table`` or ``table.column`` entries of ``analysis.needs.required`` that ``ds`` lacks."""
    missing = []
    for table, columns in analysis.needs.required.items():
        if not ds.has(table):
            missing.append(table)
        else:
            missing += [f"{table}.{c}" for c in columns if not ds.has(table, c)]
    return missing
