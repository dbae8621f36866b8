"""The executive summary: the headline tiles, findings and exhibits of every analysis of the report set.

It names no analysis: it reads the results of the reports of the set that run for the period's grain, in the
set's order, from the run's store (each report stored its own result) or computes them through the registry.
"""

from __future__ import annotations

from salesperf.analyses import registry
from salesperf.analyses.base import FAILED, PENDING, Context, Result
from salesperf.core.present import Exhibit, Tile
from salesperf.report.config import instance_name, load_report_set


def gather(rep) -> list[Result]:
    """The results of the other reports of the set for ``rep``'s period, in report-set order.

    An analysis whose required data are missing gives no result (its own report says so in one line).
    """
    results = []
    for spec in load_report_set().values():
        if spec.id == rep.name or spec.id not in registry.names() or not spec.runs_for(rep.ds.period.grain):
            continue
        params = {name: default for name, (_, default) in spec.parameters.items()}
        found = registry.result(spec.id, rep.ds, Context(rep.lang, rep.currency, params))
        if found is not None:
            results.append(found)
    return results


def headline(results: list[Result]) -> list[Tile]:
    """The first result's headline tiles that exist (the report set lists its headline report first)."""
    return next((r.headline for r in results if r.headline), [])


def exhibits(results: list[Result]) -> list[Exhibit]:
    """Every exhibit the analyses offered, in report-set order."""
    return [e for r in results for e in r.exhibits]


def report_links(rep) -> list[tuple[str, str]]:
    """(title, file) of the other reports of the set that run for the period's grain and, in a run, that are
    part of it and did not fail (a fan-out copy links to the copies of the same entity).

    A report still running when the summary is written may fail later: the period index, written once every
    report has ended, turns such a link into plain text (salesperf.report.index.drop_dead_links).
    """
    store = rep.ds.store
    links = []
    for spec in load_report_set().values():
        if spec.id == rep.name or not spec.runs_for(rep.ds.period.grain):
            continue
        if store is not None and rep.output_dir is not None and spec.id in registry.names():
            folder = store / spec.id
            if not (folder / PENDING).exists() or (folder / FAILED).exists():  # not in this run, or failed
                continue
        links.append((spec.title(rep.lang), f"{instance_name(spec.id, rep.ds.entity)}.html"))
    return links
