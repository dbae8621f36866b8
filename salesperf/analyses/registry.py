"""The registry of analyses: every package under ``salesperf/analyses/`` that defines ``ANALYSIS``.

Adding an analysis adds a package; nothing here changes. :func:`run` computes an analysis for a dataset, first
fetching the results of the analyses it uses; :func:`result` returns an analysis's stored :class:`Result` when
the run already holds it (written by that analysis's own report) and computes it otherwise, so that a report
reads the very numbers the other report showed, and an analyst's kernel still works without a run.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path

from salesperf.analyses.base import Analysis, Context, Result
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


def run(name: str, ds, ctx: Context) -> tuple[object, Result]:
    """Compute ``name`` on ``ds``: its rich result (what the notebook shows) and its :class:`Result`.

    The results of the analyses it uses are read from the run's store, or computed with their default
    parameters. The Result is stored for the other reports of the run.
    """
    analysis = get(name)
    upstream = {}
    for other in analysis.uses:
        found = result(other, ds, Context(ctx.lang, ctx.currency))
        if found is not None:
            upstream[other] = found
    detail = analysis.compute(ds, ctx, upstream)
    summary = analysis.summarise(detail, ds, ctx)
    folder = store_of(ds, name)
    if folder is not None:
        summary.save(folder)
    ds.results[name] = summary
    return detail, summary


def result(name: str, ds, ctx: Context) -> Result | None:
    """``name``'s Result for ``ds``: stored by this run, computed earlier in this process, or computed now.

    None when the data lack what the analysis requires (its own report says so).
    """
    if name in ds.results:
        return ds.results[name]
    folder = store_of(ds, name)
    stored = Result.load(folder) if folder is not None else None
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
