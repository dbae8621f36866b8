"""Runs that go wrong: two at once, killed, a reports folder that cannot be written, a cell that never ends
(salesperf.report.folders, salesperf.report.runner, salesperf.report.execute).

Every case runs real processes: the lock is taken by many processes at the same instant, runs are killed with
real signals, full and read-only disks are real file systems (a tmpfs mounted in a user and mount namespace of
its own, ``unshare``, so no privilege is needed and nothing outside the test changes).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from support import PERIOD, TODAY

from salesperf.core.errors import UserError
from salesperf.report.folders import PeriodLock

CONTENDERS, ROUNDS, STEP = 6, 200, 0.01


def _contend(root: str, start: float, results) -> None:
    """Try the lock of round r's folder at the instant ``start + r * STEP`` (spinning the last 2 ms, so that the
    contenders really try at once); keep every lock won until all rounds are over, so that a late contender can
    never win a lock legitimately released."""
    held = []
    for round_ in range(ROUNDS):
        instant = start + round_ * STEP
        time.sleep(max(0.0, instant - time.time() - 0.002))
        while time.time() < instant:
            pass
        lock = PeriodLock(Path(root) / str(round_), PERIOD)
        try:
            held.append(lock.__enter__())
            results.put((round_, "won"))
        except UserError:
            results.put((round_, "refused"))
        except Exception as exc:  # reported, so that the test fails at once and says why
            results.put((round_, f"crashed: {exc!r}"))
    time.sleep(0.5)
    for lock in held:
        lock.__exit__(None, None, None)


def test_exactly_one_of_many_simultaneous_runs_takes_the_period_lock(tmp_path):
    """Before the lock was a flock, a run that found the lock file before its owner had written the pid into it
    called it stale and took it too (123 of 200 rounds of 4 contenders had two or more winners)."""
    context = multiprocessing.get_context("fork")
    results, start = context.Queue(), time.time() + 0.5
    processes = [
        context.Process(target=_contend, args=(str(tmp_path), start, results)) for _ in range(CONTENDERS)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in range(CONTENDERS * ROUNDS)]
    for process in processes:
        process.join(timeout=60)
    winners = {round_: 0 for round_ in range(ROUNDS)}
    for round_, outcome in outcomes:
        winners[round_] += outcome == "won"
    assert sorted({o for _, o in outcomes if o not in ("won", "refused")}) == []
    assert {r: n for r, n in winners.items() if n != 1} == {}
    assert [p.name for p in tmp_path.rglob(f".{PERIOD}.lock")] == []  # every winner removed its lock file


def _run_args(data: Path, out: Path, *extra) -> list[str]:
    return [sys.executable, "-m", "salesperf.cli", "run", "--period", PERIOD, "--today", TODAY, "--data", str(data),
            "--out", str(out), *map(str, extra)]  # fmt: skip


def _kernels_started(cli: psutil.Process, count: int, timeout: float = 180) -> list[psutil.Process]:
    """Wait until ``count`` notebook kernels run under ``cli``; every process of the run then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tree = cli.children(recursive=True)
        if sum("ipykernel_launcher" in " ".join(_cmdline(p)) for p in tree) >= count:
            return tree
        time.sleep(0.2)
    pytest.fail(f"the run did not start {count} kernels in {timeout} s")


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _alive(processes: list[psutil.Process], timeout: float = 20) -> list[str]:
    """The processes still running (zombies waiting to be reaped count as ended) after at most ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        left = []
        for process in processes:
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{process.pid} {' '.join(_cmdline(process))[:120]}")
            except psutil.NoSuchProcess:
                pass
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def _ppid(process: psutil.Process) -> int | None:
    try:
        return process.ppid()
    except psutil.Error:
        return None


def test_a_killed_run_leaves_no_worker_and_no_kernel(hostile_text_company, tmp_path):
    """Two runs on two workers each, side by side: one killed with ``kill -9``, the other with SIGTERM once both
    run their kernels. Before the fix the pool workers of both went on with the report set (and then hung)."""
    runs = {}
    for how in (signal.SIGKILL, signal.SIGTERM):
        folder = tmp_path / how.name
        folder.mkdir()
        with (folder / "stderr").open("w") as log:  # a file, not a pipe: orphans would hold a pipe open
            runs[how] = subprocess.Popen(_run_args(hostile_text_company, folder / "reports", "--workers", 2),
                                         stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
    trees: dict[signal.Signals, list[psutil.Process]] = {}
    try:
        for how, cli in runs.items():
            trees[how] = _kernels_started(psutil.Process(cli.pid), 2)
            assert len([p for p in trees[how] if _ppid(p) == cli.pid]) >= 2, [_cmdline(p) for p in trees[how]]
        for how, cli in runs.items():
            cli.send_signal(how)
        for cli in runs.values():
            cli.wait(timeout=60)
        assert {how.name: _alive(tree) for how, tree in trees.items()} == {"SIGKILL": [], "SIGTERM": []}
    finally:
        for cli in runs.values():
            if cli.poll() is None:
                cli.kill()
        for process in (p for tree in trees.values() for p in tree):
            with contextlib.suppress(psutil.Error):
                process.kill()
    # SIGTERM is an orderly end: one line, exit 130, and neither the staging folder nor the lock is left
    stderr = (tmp_path / "SIGTERM" / "stderr").read_text()
    assert runs[signal.SIGTERM].returncode == 130 and "Traceback" not in stderr, stderr
    assert (
        sorted(p.name for p in (tmp_path / "SIGTERM" / "reports").iterdir() if p.name.startswith(".")) == []
    )


def _in_own_mount_namespace(script: str) -> subprocess.CompletedProcess:
    """Run a shell script as root of a user and mount namespace of its own (mounts it makes vanish with it)."""
    unshare = shutil.which("unshare")
    assert unshare, "the tests of full and read-only disks need unshare (util-linux)"
    probe = subprocess.run([unshare, "--user", "--map-root-user", "--mount", "true"], capture_output=True, check=False)
    if probe.returncode != 0:  # a container that forbids user namespaces: the environment's limit, said in one line
        pytest.skip(f"user and mount namespaces are not allowed here ({probe.stderr.decode().strip()[:120]})")
    return subprocess.run([unshare, "--user", "--map-root-user", "--mount", "sh", "-ec", script],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def _previous_period(root: Path) -> dict[str, bytes]:
    folder = root / PERIOD
    (folder / "data").mkdir(parents=True)
    (folder / "manifest.json").write_text('{"period": "2026-10", "status": "ok"}', encoding="utf-8")
    (folder / "index.html").write_text("<p>the reports of last night</p>", encoding="utf-8")
    (folder / "data" / "overview__monthly.csv").write_text("month,revenue\n2026-10,1\n", encoding="utf-8")
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("disk", ["full", "read-only"])
def test_a_disk_that_cannot_be_written_is_one_line_and_the_previous_period_stays(
    disk, hostile_text_company, tmp_path
):
    mount = tmp_path / "disk"
    mount.mkdir()
    staged = tmp_path / "staged"
    before = _previous_period(staged)
    command = " ".join(f"'{a}'" for a in _run_args(hostile_text_company, mount / "reports", "--workers", 2))
    options = "size=256k" if disk == "full" else "size=8m"
    remount = f"mount -o remount,ro tmpfs '{mount}'" if disk == "read-only" else "true"
    result = _in_own_mount_namespace(
        f"mount -t tmpfs -o {options} tmpfs '{mount}'\n"
        f"cp -r '{staged}' '{mount}/reports'\n"
        f"{remount}\n"
        f"cd '{Path.cwd()}'\n"
        f"set +e; {command} 2>'{tmp_path}/stderr'; echo $? >'{tmp_path}/rc'\n"
        f"cp -r '{mount}/reports' '{tmp_path}/after'\n"
    )
    assert result.returncode == 0, result.stderr
    stderr = (tmp_path / "stderr").read_text()
    errors = [line for line in stderr.splitlines() if line.startswith("salesperf: error:")]
    assert (tmp_path / "rc").read_text().strip() == "2", stderr
    reason = "the disk is full" if disk == "full" else "the file system is read-only"
    assert len(errors) == 1 and reason in errors[0] and "internal error" not in stderr, stderr
    after = tmp_path / "after"
    assert {
        str(p.relative_to(after)): p.read_bytes() for p in sorted(after.rglob("*")) if p.is_file()
    } == before


def test_an_out_folder_under_a_file_is_one_line(hostile_text_company, tmp_path, salesperf_cli):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    result = salesperf_cli(*_run_args(hostile_text_company, tmp_path / "notes.txt" / "reports")[3:])
    assert result.returncode == 2, result.describe()
    assert len(result.error_lines) == 1 and "notes.txt" in result.error_lines[0], result.stderr
    assert (
        "a file is in the way" in result.error_lines[0] or "is a file, not a folder" in result.error_lines[0]
    )
    assert "internal error" not in result.stderr


def test_a_cell_timeout_is_one_line_per_report_without_a_kernel_traceback(
    hostile_text_company, tmp_path, salesperf_cli
):
    result = salesperf_cli(*_run_args(hostile_text_company, tmp_path / "reports", "--reports", "overview,lifecycle",
                                      "--workers", 2, "--timeout", 1)[3:])  # fmt: skip
    assert result.returncode == 1, result.describe()
    failed = [
        line
        for line in result.stderr.splitlines()
        if "failed" in line and line.startswith("salesperf: report")
    ]
    assert len(failed) == 2 and all("timed out" in line for line in failed), result.stderr
    assert "Traceback" not in result.stderr and "ZMQError" not in result.stderr, result.stderr
    assert all(
        line.startswith("salesperf: ") or line.startswith("/") for line in result.stderr.splitlines()
    ), result.stderr
