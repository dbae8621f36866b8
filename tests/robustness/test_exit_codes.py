"""Exit codes of the run side mean one thing: 2 and one line (with a hint where one helps) for a mistake in the
report set or the reports folder, never "internal error" (salesperf.report.config, salesperf.report.folders).

Each case fails before any data is read or kernel started, so they are cheap; the costly cases (full and
read-only disks, a lock held, a timeout) are in test_runs_that_go_wrong.py.
"""

from __future__ import annotations

import pytest
from support import PERIOD, TODAY

from salesperf.report.config import NOTEBOOKS

OVERVIEW = NOTEBOOKS / "overview.ipynb"
REPORT_SETS = {  # case -> (file content, what the one line must say)
    "not-utf8": (b"\xff\xfe\x00reports:", "is not UTF-8 text"),
    "a-list": (b"reports:\n  - overview\n", "expected a non-empty 'reports:' mapping"),
    "path-id": (
        f"reports:\n  ../../escape:\n    notebook: {OVERVIEW}\n".encode(),
        "'../../escape' cannot name a file",
    ),
    "space-id": (
        f"reports:\n  my report:\n    notebook: {OVERVIEW}\n".encode(),
        "'my report' cannot name a file",
    ),
    "numeric-id": (f"reports:\n  2026:\n    notebook: {OVERVIEW}\n".encode(), "'2026' cannot name a file"),
    "separator-id": (f"reports:\n  a--b:\n    notebook: {OVERVIEW}\n".encode(), "'a--b' cannot name a file"),
    "folder": (None, "is not a file"),
}


@pytest.mark.parametrize("case", sorted(REPORT_SETS))
def test_a_bad_report_set_is_one_line_and_exit_2(case, tmp_path, demo_company, salesperf_cli):
    content, message = REPORT_SETS[case]
    report_set = tmp_path / "set.yml"
    if content is None:
        report_set.mkdir()
    else:
        report_set.write_bytes(content)
    out = tmp_path / "reports"
    result = salesperf_cli(
        "run",
        "--period",
        PERIOD,
        "--today",
        TODAY,
        "--data",
        demo_company,
        "--out",
        out,
        "--report-set",
        report_set,
    )
    assert result.returncode == 2, result.describe()
    assert len(result.error_lines) == 1 and message in result.error_lines[0], result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()
