"""One notebook execution, in a worker process: papermill, rendering, and the task's exports and KPI tiles.

Runs in a local pool or on a Dask worker, so it takes and returns plain, picklable values and never raises:
a failure becomes the :class:`Outcome`.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

KERNEL_START_ATTEMPTS = 3
KERNEL_START_TIMEOUT = (
    30  # seconds; a kernel that has not answered by then lost its ports and is started again
)


@dataclass(frozen=True)
class Task:
    """One notebook execution: a report, or one fan-out copy of it (``entity`` set)."""

    instance: str
    report: str
    notebook: str
    parameters: dict
    title: str  # the page title: report title, period and entity value
    entity: str = ""
    heading: str = ""  # the report title and entity value, for the period index


@dataclass
class Outcome:
    """What became of one task."""

    instance: str
    report: str
    entity: str
    status: str
    error: str
    started: str
    ended: str
    seconds: float
    parameters: dict = field(default_factory=dict)
    html: str = ""
    notebook: str = ""
    exports: list = field(default_factory=list)
    kpis: list = field(default_factory=list)
    title: str = ""


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def watch_parent(parent: int) -> None:
    """End this worker process the moment the run that started it ends, however the run ends.

    A local pool's initializer. On Linux the kernel sends SIGKILL when the parent dies (``prctl
    PR_SET_PDEATHSIG``); elsewhere, and in case the parent died before that was set, a thread checks the
    parent every half second. The worker's notebook kernel watches the worker the same way (ipykernel's parent
    poller), so a run killed with ``kill -9`` leaves no worker and no kernel behind.

    Parameters
    ----------
    parent : int
        The pid of the run's process.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="salesperf-watch-parent", daemon=True).start()


@cache
def quiet_kernel_manager() -> type:
    """The kernel manager of a report run: a kernel whose own stdout and stderr go nowhere.

    What the notebook's code prints still reaches the notebook (through the kernel's messages); what the
    kernel process itself writes (a ZMQError traceback when a timed-out cell is stopped, start-up chatter)
    would land on the user's terminal between the run's one-line messages.

    Returns
    -------
    type
        A subclass of ``jupyter_client.AsyncKernelManager``, for papermill's ``kernel_manager_class``.
    """
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
            kw.update(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return QuietKernelManager


def first_line(text: str) -> str:
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "unknown error"


def execute_task(task: Task, staging: str, timeout: int, lang: str) -> Outcome:
    """Execute one notebook with papermill and render it; never raises (failures become the outcome).

    Runs in a worker process (local pool or Dask worker), so it takes and returns plain, picklable values.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from salesperf.report.render import render_html

    staging_dir = Path(staging)
    work = staging_dir / ".out" / task.instance
    executed = staging_dir / f"{task.instance}.ipynb"
    params = dict(task.parameters, output_dir=str(work))
    started, t0 = datetime.now(), time.perf_counter()
    status, error = "ok", ""
    # papermill logs a cell timeout as an error line of its own, and asyncio the kernel channels' errors (a
    # ZMQError) when a timed-out kernel is stopped: the outcome says it once, in the run's words
    for noisy in ("papermill", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    try:
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            try:
                papermill.execute_notebook(
                    task.notebook,
                    str(executed),
                    parameters=params,
                    cwd=str(Path(task.notebook).parent),
                    kernel_name="python3",
                    progress_bar=False,
                    log_output=False,
                    execution_timeout=timeout,
                    start_timeout=KERNEL_START_TIMEOUT,
                    extra_arguments=["--IPKernelApp.log_level=ERROR"],
                    kernel_manager_class=quiet_kernel_manager(),  # no kernel chatter on the user's terminal
                )
                break
            except RuntimeError as exc:
                # jupyter_client picks free ports before the kernel binds them: kernels starting at the same
                # time in other processes can take a port first and the kernel never answers. Start it again.
                if "didn't respond" not in str(exc) or attempt == KERNEL_START_ATTEMPTS:
                    raise
    except PapermillExecutionError as exc:
        status, error = "failed", f"{exc.ename}: {first_line(exc.evalue)}"
    except Exception as exc:
        kind = type(exc).__name__
        message = (
            "the kernel died"
            if "DeadKernel" in kind
            else ("timed out" if "Timeout" in kind else first_line(exc))
        )
        status, error = "failed", f"{kind}: {message}"
    outcome = Outcome(
        task.instance,
        task.report,
        task.entity,
        status,
        error,
        started.isoformat(timespec="seconds"),
        "",
        0.0,
        {k: v for k, v in task.parameters.items() if k != "data"},
        title=task.heading or task.report,
    )
    if executed.exists():
        outcome.notebook = executed.name
    if status == "ok":
        try:
            page = render_html(nbformat.read(executed, as_version=4), task.title, lang)
            (staging_dir / f"{task.instance}.html").write_text(page, encoding="utf-8")
            outcome.html = f"{task.instance}.html"
        except Exception as exc:
            outcome.status, outcome.error = "failed", f"render: {first_line(exc)}"
    outcome.exports, outcome.kpis = _collect(work, staging_dir, task)
    outcome.ended = datetime.now().isoformat(timespec="seconds")
    outcome.seconds = round(time.perf_counter() - t0, 2)
    return outcome


def _collect(work: Path, staging: Path, task: Task) -> tuple[list, list]:
    """Move a task's CSV exports to ``data/<instance>__<table>.csv`` and read its KPI tiles."""
    exports = []
    if (work / "data").is_dir():
        (staging / "data").mkdir(exist_ok=True)
        for csv in sorted((work / "data").glob("*.csv")):
            table = csv.name.split("__", 1)[-1]
            target = staging / "data" / f"{task.instance}__{table}"
            shutil.move(str(csv), target)
            exports.append(f"data/{target.name}")
    kpi_file = work / f"{task.report}.kpis.json"
    kpis = json.loads(kpi_file.read_text(encoding="utf-8")) if kpi_file.is_file() else []
    return exports, kpis
