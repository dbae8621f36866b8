"""Run a period's report set: validate once, execute notebooks with papermill (in parallel, locally or on a
Dask cluster), render offline HTML, collect CSV exports, write the manifest and the indexes, and swap the
period folder into place atomically.

Layout of ``<out>/<period>/``: ``<report>.html``, ``<report>.ipynb`` (kept when the report fails), ``data/``
(CSV exports), ``manifest.json``, ``index.html``. ``<out>/index.html`` lists every period.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Self

from salesperf import __version__
from salesperf.analyses import registry
from salesperf.analyses.base import FAILED, PENDING
from salesperf.core.errors import UserError
from salesperf.core.fmt import slug
from salesperf.core.periods import Period
from salesperf.data.catalog import Catalog
from salesperf.data.dataset import build_snapshot, entities, results_folder
from salesperf.report.config import ReportSpec, check_notebook, report_parameters
from salesperf.report.execute import Outcome, Task, execute_task, first_line

SNAPSHOT = ".snapshot.duckdb"


class PeriodLock:
    """Stops two runs of the same period at once: an exclusive lock file holding the owner's pid."""

    def __init__(self, out: Path, period: str):
        self.path = out / f".{period}.lock"

    def __enter__(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if self._stale():
                    self.path.unlink(missing_ok=True)
                    continue
                owner = self.path.read_text().strip() or "?"
                raise UserError(
                    f"another run of this period is in progress (pid {owner}, lock {self.path})",
                    hint="wait for it, or delete the lock file if that process is gone",
                ) from None
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            return self
        raise UserError(f"cannot take the lock {self.path}")

    def _stale(self) -> bool:
        try:
            os.kill(int(self.path.read_text().strip()), 0)
        except (ValueError, ProcessLookupError):
            return True
        except PermissionError:
            return False
        return False

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)


def git_commit() -> str:
    """The repository's commit, or '' outside a git checkout."""
    try:
        root = Path(__file__).resolve().parents[2]
        return subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def check_reports(specs: dict[str, ReportSpec], overrides: dict[str, dict[str, str]]) -> None:
    """Check every notebook and every parameter of the run, and that overrides name reports of the run.

    Cheap (no data is read, no kernel is started), so a run checks this first and a typo fails in a second,
    not after the data of a large company has been validated.

    Raises
    ------
    UserError
        Missing notebook, a notebook lacking a declared parameter, an unknown or mistyped parameter.
    """
    for report in overrides:
        if report not in specs:
            raise UserError(
                f"parameters given for report '{report}', which is not in this run",
                hint=f"reports of this run: {', '.join(specs) or 'none'}",
            )
    for spec in specs.values():
        check_notebook(spec)
        report_parameters(spec, overrides.get(spec.id, {}))


def plan(
    specs: dict[str, ReportSpec],
    period: Period,
    snapshot: Path,
    *,
    lang: str,
    today: date,
    currency: str,
    overrides: dict[str, dict[str, str]],
    each: str = "",
    each_values: list[str] | None = None,
) -> list[Task]:
    """The tasks of a run: one per report (or one per report and entity with ``each``), parameters checked."""
    tasks = []
    for spec in specs.values():
        check_notebook(spec)
        own = report_parameters(spec, overrides.get(spec.id, {}))
        common = {
            "data": str(snapshot),
            "period": period.label,
            "lang": lang,
            "today": today.isoformat(),
            "currency": currency,
        }
        title = f"{spec.title(lang)} · {period.label_in(lang)}"
        for value in each_values if each else [""]:
            entity = f"{each}:{value}" if each else ""
            instance = f"{spec.id}--{each}-{slug(value)}" if each else spec.id
            tasks.append(
                Task(
                    instance,
                    spec.id,
                    str(spec.notebook),
                    common | {"entity": entity} | own,
                    title + (f" · {value}" if value else ""),
                    entity,
                    spec.title(lang) + (f" · {value}" if value else ""),
                )
            )
    return tasks


def waves(tasks: list[Task], specs: dict[str, ReportSpec]) -> list[list[Task]]:
    """Group tasks so that a report runs after the reports whose results it reads (its analysis's ``uses`` and
    its spec's ``after``); reports of one wave run in parallel."""
    in_run = {t.report for t in tasks}
    needs = {}
    for report in in_run:
        after = set(specs[report].after) if report in specs else set()
        if "*" in after:
            after = in_run - {report}
        if report in registry.names():
            after |= set(registry.get(report).uses)
        needs[report] = after & in_run
    out, done, remaining = [], set(), list(tasks)
    while remaining:
        ready = [t for t in remaining if needs[t.report] <= done]
        if not ready:
            raise UserError(f"the report set's 'after' entries form a cycle: {', '.join(sorted(needs))}")
        out.append(ready)
        done |= {t.report for t in ready}
        remaining = [t for t in remaining if t not in ready]
    return out


def _run_tasks(
    tasks: list[Task],
    specs: dict[str, ReportSpec],
    staging: Path,
    *,
    workers: int,
    scheduler: str,
    timeout: int,
    lang: str,
    progress: Callable[[str], None],
) -> list[Outcome]:
    args = (str(staging), timeout, lang)
    outcomes = []
    promised = _promise_results(tasks, staging)

    def report(outcome: Outcome) -> None:
        folder = promised.get(outcome.instance)
        if folder is not None and not (folder / "result.json").exists():
            (folder / FAILED).write_text(outcome.error or "no result", encoding="utf-8")  # stop the waiters
        outcomes.append(outcome)
        progress(f"{outcome.instance}: {outcome.status} ({len(outcomes)}/{len(tasks)})")

    ordered = waves(tasks, specs)
    if scheduler:
        from distributed import Client, as_completed

        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, ValueError) as exc:  # unreachable, or not an address: the user's to fix, not a bug
            raise UserError(
                f"cannot use the Dask scheduler {scheduler!r}: {first_line(exc)}",
                hint="give its address as tcp://HOST:PORT and check that it is running",
            ) from None
        with client:  # a cluster starts tasks in any order: a wave starts when the one before it has ended
            for wave in ordered:
                futures = [
                    client.submit(
                        execute_task, t, *args, key=f"salesperf-{t.instance}-{staging.name}", pure=False
                    )
                    for t in wave
                ]
                for future in as_completed(futures):
                    report(future.result())
    elif workers <= 1:
        for task in (t for wave in ordered for t in wave):
            report(execute_task(task, *args))
    else:
        # A local pool starts tasks in submission order, so each task's upstream reports have started before
        # it: a report waits for an upstream result only when it needs it, while the other worker computes it.
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(execute_task, t, *args) for wave in ordered for t in wave]
            for future in concurrent.futures.as_completed(futures):
                report(future.result())
    order = {t.instance: i for i, t in enumerate(tasks)}
    return sorted(outcomes, key=lambda o: order[o.instance])


def _promise_results(tasks: list[Task], staging: Path) -> dict[str, Path]:
    """Mark, for every task that computes an analysis, the result folder it will fill (instance → folder).

    A report that uses that result waits for it while the marker stands (see salesperf.analyses.registry).
    """
    promised = {}
    for task in tasks:
        if task.report in registry.names():
            folder = results_folder(staging / SNAPSHOT, task.entity) / task.report
            folder.mkdir(parents=True, exist_ok=True)
            (folder / PENDING).write_text("", encoding="utf-8")
            promised[task.instance] = folder
    return promised


def _swap_into_place(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging`` so that readers see either the old or the new folder, never a mix."""
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        final.rename(old)
    try:
        staging.rename(final)
    except BaseException:  # put the previous folder back rather than leave the period without one
        if old.exists() and not final.exists():
            old.rename(final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(out: Path, period: str) -> None:
    """Clean up after earlier runs of ``period`` that were killed before they could.

    Half-built staging folders are deleted. A swap folder (``.<period>.old-<pid>``) is the previous period
    folder: when a run died between moving it aside and moving its own folder in, it is the only copy and is
    put back. Called with the period lock held, so no live run owns any of them.
    """
    for staging in out.glob(f".{period}.tmp-*"):
        shutil.rmtree(staging, ignore_errors=True)
    final = out / period
    for old in sorted(out.glob(f".{period}.old-*"), key=lambda p: p.stat().st_mtime, reverse=True):
        if not final.exists() and (old / "manifest.json").is_file():
            old.rename(final)
        else:
            shutil.rmtree(old, ignore_errors=True)


def run_period(
    catalog: Catalog,
    period: Period,
    specs: dict[str, ReportSpec],
    out: str | Path,
    *,
    lang: str = "en",
    today: date | None = None,
    currency: str = "¥",
    workers: int = 1,
    scheduler: str = "",
    each: str = "",
    timeout: int = 600,
    overrides: dict[str, dict[str, str]] | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict:
    """Render the report set for one period into ``<out>/<period.label>/``.

    Parameters
    ----------
    catalog : Catalog
        The company's data.
    period : Period
    specs : dict of ReportSpec
        The reports to run (already selected).
    out : str or Path
        Reports root; the period folder and the root index go there.
    lang, currency : str
    today : datetime.date, optional
        Run date (rows dated later are errors); defaults to the system date.
    workers : int
        Local parallel notebook executions.
    scheduler : str
        Address of a Dask distributed scheduler; when given, the notebooks run there.
    each : str
        ``region``, ``team`` or ``rep``: one copy of every report per entity.
    timeout : int
        Per-cell execution timeout in seconds.
    overrides : dict
        ``{report_id: {param: value}}`` from the command line.

    Returns
    -------
    dict
        The manifest (also written to ``manifest.json``); ``status`` is ``ok`` only when every report
        succeeded.

    Raises
    ------
    UserError
        Fatal data problems, bad parameters, or a concurrent run of the same period — before any kernel
        starts.
    """
    out = Path(out).resolve()
    today = today or date.today()
    started, t0 = datetime.now(), time.perf_counter()
    check_reports(specs, overrides or {})
    with PeriodLock(out, period.label):
        _remove_leftovers(out, period.label)
        staging = out / f".{period.label}.tmp-{os.getpid()}"
        staging.mkdir(parents=True)
        try:
            progress(f"validating {catalog.origin} for {period.label}")
            ds = build_snapshot(catalog, period, staging / SNAPSHOT, today)
            each_values = entities(ds, each) if each else None
            ds.con.close()
            tasks = plan(
                specs,
                period,
                staging / SNAPSHOT,
                lang=lang,
                today=today,
                currency=currency,
                overrides=overrides or {},
                each=each,
                each_values=each_values,
            )
            progress(f"running {len(tasks)} report(s) on {scheduler or f'{workers} local worker(s)'}")
            outcomes = _run_tasks(
                tasks,
                specs,
                staging,
                workers=workers,
                scheduler=scheduler,
                timeout=timeout,
                lang=lang,
                progress=progress,
            )
            manifest = {
                "period": period.label,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "lang": lang,
                "today": today.isoformat(),
                "data": catalog.origin,
                "fingerprints": ds.fingerprints(),
                "quality": ds.quality.frame().to_dict(orient="records"),
                "salesperf_version": __version__,
                "git_commit": git_commit(),
                "started": started.isoformat(timespec="seconds"),
                "ended": datetime.now().isoformat(timespec="seconds"),
                "seconds": round(time.perf_counter() - t0, 2),
                "status": "ok" if all(o.status == "ok" for o in outcomes) else "failed",
                "reports": [asdict(o) for o in outcomes],
            }
            (staging / "manifest.json").write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
            )
            from salesperf.report.index import write_period_index, write_root_index

            write_period_index(staging, manifest, lang)
            (staging / SNAPSHOT).unlink(missing_ok=True)
            shutil.rmtree(staging / ".out", ignore_errors=True)
            shutil.rmtree(staging / ".results", ignore_errors=True)
            _swap_into_place(staging, out / period.label)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    write_root_index(out, lang)
    return manifest
