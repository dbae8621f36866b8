"""Run a period's report set: validate once, execute notebooks with papermill (in parallel, locally or on a
Dask cluster), render offline HTML, collect CSV exports, write the manifest and the indexes, and swap the
period folder into place atomically.

Layout of ``<out>/<period>/``: ``<report>.html``, ``<report>.ipynb`` (kept when the report fails), ``data/``
(CSV exports), ``manifest.json``, ``index.html``. ``<out>/index.html`` lists every period.
"""

from __future__ import annotations

import concurrent.futures
import errno
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path

from salesperf import __version__
from salesperf.analyses import registry
from salesperf.analyses.base import FAILED, PENDING
from salesperf.core.errors import UserError
from salesperf.core.periods import Period
from salesperf.data.catalog import Catalog
from salesperf.data.dataset import build_snapshot, entities, results_folder
from salesperf.report.config import ReportSpec, check_notebook, instance_name, report_parameters
from salesperf.report.execute import Outcome, Task, execute_task, first_line, watch_parent
from salesperf.report.folders import PeriodLock, environment_error, remove_leftovers, swap_into_place

SNAPSHOT = ".snapshot.duckdb"


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
            instance = instance_name(spec.id, entity)
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
    _check_unique([t.instance for t in tasks])
    return tasks


def _check_unique(instances: list[str]) -> None:
    """Refuse a run in which two copies would write the same files (never overwrite one with another)."""
    seen: dict[str, str] = {}
    for name in instances:
        if name.casefold() in seen:
            raise UserError(
                f"two reports of this run would be written to the same file {name!r} "
                f"(and {seen[name.casefold()]!r})",
                hint="give the reports or entities names that differ in more than capitals",
            )
        seen[name.casefold()] = name


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
        # Each worker dies with this process (and its kernel with the worker), however this process ends.
        pool = ProcessPoolExecutor(max_workers=workers, initializer=watch_parent, initargs=(os.getpid(),))
        try:
            futures = [pool.submit(execute_task, t, *args) for wave in ordered for t in wave]
            for future in concurrent.futures.as_completed(futures):
                report(future.result())
        except BaseException:  # interrupted: stop the notebooks now rather than wait for them
            for process in list((pool._processes or {}).values()):  # no public way before Python 3.14
                process.kill()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
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


@contextmanager
def _terminated_as_interrupt():
    """Within the block SIGTERM ends the run as Ctrl-C does: workers stopped, staging removed, lock freed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _refuse_on_full_disk(outcomes: list[Outcome], out: Path) -> None:
    """A report that failed because the disk filled up is the environment's problem, not the report's: the run
    ends with exit 2 and the previous period stays in place (rather than a period of failed reports)."""
    for outcome in outcomes:
        if outcome.status != "ok" and "No space left on device" in outcome.error:
            raise environment_error(OSError(errno.ENOSPC, "No space left on device"), out)


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
    with PeriodLock(out, period.label), _terminated_as_interrupt():
        remove_leftovers(out, period.label)
        staging = out / f".{period.label}.tmp-{os.getpid()}"
        try:
            staging.mkdir(parents=True)
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
            _refuse_on_full_disk(outcomes, out)
            swap_into_place(staging, out / period.label)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            problem = environment_error(exc, out)  # a full or read-only disk: the user's to fix, in one line
            if problem is None:
                raise
            raise problem from None
    try:
        write_root_index(out, lang)
    except OSError as exc:
        problem = environment_error(exc, out)
        if problem is None:
            raise
        raise UserError(
            f"the period {period.label} was written, but not the index of every period: {problem.message}",
            hint=problem.hint,
        ) from None
    return manifest
