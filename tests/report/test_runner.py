"""The reporting engine end to end: ``salesperf run`` renders the report set with papermill into a period folder.

Most tests read the session's runs (tests/conftest.py); the ones that need their own run say why. KPI figures are
checked against numbers computed here from the demo's parquet files with pandas and DuckDB, not with salesperf.
"""

from __future__ import annotations

import csv
import fcntl
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import duckdb
import nbformat
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from support import (
    ENV_DB_PASSWORD,
    HOSTILE_CUSTOMER_NAMES,
    LITERAL_DB_PASSWORD,
    PERIOD,
    TODAY,
    copy_reports,
    kpi_tiles,
    money_en,
    money_zh,
    month_kpis,
    page_text,
    salesperf_run,
    signed_pct,
    table_rows,
    texts_of_class,
)

import salesperf
from salesperf.data.schema import TABLES


# ------------------------------------------------------------------------------------------------------- helpers
def code_lines(notebook: Path) -> list[str]:
    """The first statement of every code cell: text that only a page showing code would contain."""
    nb = nbformat.read(notebook, as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
            if first and not first.startswith("#"):
                lines.append(first)
    return lines


def folder_state(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(root: Path) -> list[str]:
    """Hidden staging / swap folders and lock files a run leaves behind when it does not clean up."""
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))


def broken_data(folder: Path) -> Path:
    """A data folder whose orders lack the required order_date column (a fatal validation error)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "orders.csv").write_text(
        "order_id,customer_id,day,amount\nO1,C1,2026-10-01,10\n", encoding="utf-8"
    )
    return folder


# ------------------------------------------------------------------------------------------- the period folder
def test_run_reports_success(demo_run):
    assert demo_run.cli.returncode == 0
    assert demo_run.cli.stdout.strip() == str(demo_run.folder / "index.html")
    assert "Traceback" not in demo_run.cli.stderr
    assert demo_run.manifest["status"] == "ok"
    assert [r["status"] for r in demo_run.manifest["reports"]] == ["ok"] * len(demo_run.manifest["reports"])
    assert "overview" in [r["instance"] for r in demo_run.manifest["reports"]]


def test_period_folder_holds_every_artefact(demo_run):
    files = demo_run.files()
    expected = {"manifest.json", "index.html"}
    for report in demo_run.manifest["reports"]:
        expected |= {f"{report['instance']}.html", f"{report['instance']}.ipynb"}
        assert (
            report["html"] == f"{report['instance']}.html"
            and report["notebook"] == f"{report['instance']}.ipynb"
        )
        expected |= set(report["exports"])
    expected.add(f"forecast-ledger/{PERIOD}.parquet")  # the run's forecasts, scored by later runs
    assert files == expected  # nothing missing, nothing else (no snapshot, no work folders)
    overview = demo_run.report("overview")
    assert {Path(p).name for p in overview["exports"]} == {
        "overview__attainment.csv",
        "overview__monthly.csv",
        "overview__regions.csv",
        "overview__top_customers.csv",
        "overview__top_products.csv",
    }
    assert (demo_run.root / "index.html").is_file()
    assert leftovers(demo_run.root) == []  # no lock, no staging folder


def test_manifest_records_parameters_fingerprints_versions_and_timing(demo_run, demo_company):
    m = demo_run.manifest
    assert (m["period"], m["start"], m["end"], m["lang"], m["today"]) == (
        PERIOD,
        "2026-10-01",
        "2026-10-31",
        "en",
        TODAY,
    )
    assert m["salesperf_version"] == salesperf.__version__
    assert "git_commit" in m and isinstance(m["git_commit"], str)
    # one fingerprint per table of the catalog: rows as in the parquet file, a 64-bit hex content hash
    assert set(m["fingerprints"]) == {p.stem for p in demo_company.glob("*.parquet")}
    for table, print_ in m["fingerprints"].items():
        assert print_["rows"] == pq.ParquetFile(demo_company / f"{table}.parquet").metadata.num_rows, table
        assert re.fullmatch(r"[0-9a-f]{16}", print_["hash"]), table
    started, ended = m["started"], m["ended"]
    assert started <= ended and m["seconds"] > 0
    for report in m["reports"]:
        assert report["status"] == "ok" and report["error"] == ""
        assert report["started"] <= report["ended"] and report["seconds"] > 0
        assert started <= report["started"] and report["ended"] <= ended
        assert {
            "period": PERIOD,
            "lang": "en",
            "today": TODAY,
            "currency": "CNY",  # the demo company's orders are in CNY
            "entity": "",
        }.items() <= report["parameters"].items()
        assert "data" not in report["parameters"]  # the snapshot path is temporary: not a parameter to record
    assert {"top_n": 10, "months": 24}.items() <= demo_run.report("overview")["parameters"].items()


def test_report_pages_show_results_without_code(demo_run):
    for report in demo_run.manifest["reports"]:
        page = demo_run.html(report["instance"])
        body = page[page.find("<body") :]
        classes = {
            c
            for attr in re.findall(r"class=(?:\"([^\"]*)\"|'([^']*)')", body)
            for c in " ".join(attr).split()
        }
        assert not classes & {"jp-InputArea", "jp-InputPrompt", "jp-OutputPrompt", "jp-CodeMirrorEditor"}
        text = html.unescape(body)
        executed = nbformat.read(demo_run.folder / report["notebook"], as_version=4)
        for line in code_lines(Path(executed.metadata["papermill"]["input_path"])):
            assert line not in text, f"{report['instance']}: code {line!r} shown"
        assert re.search(r"<title>[^<]+</title>", page)
        # the page shows the tiles the manifest (and the period index) recorded
        assert kpi_tiles(page)[: len(report["kpis"])] == [(k["label"], k["value"]) for k in report["kpis"]]
    overview_text = page_text(demo_run.html("overview"))
    assert "open in JupyterLab to explore" not in overview_text  # the analyst-only introduction is left out
    assert "Sales overview · October 2026" in overview_text


def test_kpis_equal_independent_computation(demo_run, demo_orders, demo_company):
    now, before, year_ago = (month_kpis(demo_orders, m) for m in (PERIOD, "2026-09", "2025-10"))
    # the same revenue from DuckDB straight off the parquet file
    sql_revenue = (
        duckdb.connect()
        .execute(
            f"SELECT sum(amount) FROM read_parquet('{demo_company / 'orders.parquet'}') "
            "WHERE order_date BETWEEN DATE '2026-10-01' AND DATE '2026-10-31'"
        )
        .fetchone()[0]
    )
    assert sql_revenue == pytest.approx(now["revenue"], rel=1e-12)
    # the demo's orders need no exclusion, so the figures above are the ones the reports must show
    orders_quality = next(q for q in demo_run.manifest["quality"] if q["table"] == "orders")
    assert orders_quality["rows_read"] == orders_quality["rows_used"] == len(demo_orders)

    page = demo_run.html("overview")
    assert kpi_tiles(page) == [
        ("Revenue", money_en(now["revenue"])),
        ("Orders", f"{now['orders']:,}"),
        ("Buying customers", f"{now['customers']:,}"),
        ("Average order value", money_en(now["aov"])),
    ]
    deltas = texts_of_class(page, "sp-delta")
    assert deltas[0] == f"vs previous period {signed_pct(now['revenue'] / before['revenue'] - 1)}"
    assert deltas[1] == f"vs last year {signed_pct(now['revenue'] / year_ago['revenue'] - 1)}"
    # the monthly table shows full figures: October's row to the yuan
    row = [
        "2026-10",
        money_en(now["revenue"], compact=False),
        f"{now['orders']:,}",
        f"{now['customers']:,}",
        money_en(now["aov"], compact=False),
    ]
    assert row in table_rows(page)
    monthly = demo_run.export("overview", "monthly")
    october = monthly[monthly["month"].str.startswith("2026-10")].iloc[0]
    assert october["revenue"] == pytest.approx(now["revenue"], rel=1e-9)
    assert (october["orders"], october["customers"]) == (now["orders"], now["customers"])
    # the period index repeats the headline figures
    index_tiles = dict(kpi_tiles((demo_run.folder / "index.html").read_text(encoding="utf-8")))
    assert index_tiles["Revenue"] == money_en(now["revenue"])


def test_kpis_in_chinese_equal_independent_computation(demo_run_zh, demo_orders):
    now = month_kpis(demo_orders, PERIOD)
    assert kpi_tiles(demo_run_zh.html("overview")) == [
        ("销售额", money_zh(now["revenue"])),
        ("订单数", f"{now['orders']:,}"),
        ("成交客户数", f"{now['customers']:,}"),
        ("客单价", money_zh(now["aov"])),
    ]
    assert "2026年10月" in page_text(demo_run_zh.html("overview"))


def test_region_export_equals_independent_revenue_by_region(demo_run, demo_orders, demo_company):
    customers = pd.read_parquet(demo_company / "customers.parquet")[["customer_id", "region"]]
    october = demo_orders[demo_orders["order_date"].dt.strftime("%Y-%m") == PERIOD].merge(
        customers, on="customer_id", suffixes=("", "_customer")
    )
    # revenue by region uses the order line's region; the demo's lines carry their customer's region
    assert (october["region"] == october["region_customer"]).all()
    expected = october.groupby("region")["amount"].sum()
    regions = demo_run.export("overview", "regions").set_index("name")["revenue"]
    assert set(regions.index) == {"North", "East", "South", "West"}
    for region, revenue in expected.items():
        assert regions[region] == pytest.approx(revenue, rel=1e-9), region


def test_indexes_link_every_report_and_period(demo_run):
    index = (demo_run.folder / "index.html").read_text(encoding="utf-8")
    for report in demo_run.manifest["reports"]:
        assert f"href='{report['html']}'" in index and f"href='{report['notebook']}'" in index
        for export in report["exports"]:
            assert f"href='{export}'" in index
    assert "href='manifest.json'" in index and "href='../index.html'" in index
    root = (demo_run.root / "index.html").read_text(encoding="utf-8")
    assert f"href='{PERIOD}/index.html'" in root and "October 2026" in page_text(root)


def test_fingerprints_follow_content(demo_run, hostile_run):
    """Same orders, same hash; customers renamed, same row count but another hash."""
    plain, hostile = demo_run.manifest["fingerprints"], hostile_run.manifest["fingerprints"]
    assert plain["orders"] == hostile["orders"]
    assert plain["customers"]["rows"] == hostile["customers"]["rows"]
    assert plain["customers"]["hash"] != hostile["customers"]["hash"]


# ------------------------------------------------------------------------------------------ rerun, lock, crash
def test_rerun_replaces_the_period_folder(demo_run, demo_rerun):
    assert demo_rerun.files() == demo_run.files()  # the same files, and the planted stray file is gone
    first, second = demo_run.manifest, demo_rerun.manifest
    assert second["started"] > first["started"]
    assert second["fingerprints"] == first["fingerprints"]
    assert [r["kpis"] for r in second["reports"]] == [r["kpis"] for r in first["reports"]]
    assert leftovers(demo_rerun.root) == []
    assert (demo_rerun.root / "index.html").read_text(encoding="utf-8").count(
        f"href='{PERIOD}/index.html'"
    ) == 1


def test_a_live_lock_refuses_a_second_run(tmp_path, demo_company, salesperf_cli):
    out = tmp_path / "reports"
    out.mkdir()
    lock = out / f".{PERIOD}.lock"
    lock.write_text(str(os.getpid()))
    with lock.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # this test process holds the period, as a live run would
        result = salesperf_cli("run", "--period", PERIOD, "--data", demo_company, "--today", TODAY, "--out", out)
    assert result.returncode == 2, result.describe()
    assert len(result.error_lines) == 1 and "Traceback" not in result.stderr
    assert "another run of this period is in progress" in result.error_lines[0]
    assert f"pid {os.getpid()}" in result.error_lines[0]
    assert lock.read_text() == str(os.getpid())  # someone else's lock is left alone
    assert not (out / PERIOD).exists()


def test_fatal_validation_leaves_the_previous_period_intact(demo_run, tmp_path, salesperf_cli):
    reports = copy_reports(demo_run, tmp_path / "reports")
    before, root_index = folder_state(reports.folder), (reports.root / "index.html").read_bytes()
    result = salesperf_cli(
        "run",
        "--period",
        PERIOD,
        "--data",
        broken_data(tmp_path / "broken"),
        "--today",
        TODAY,
        "--out",
        reports.root,
    )
    assert result.returncode == 2, result.describe()
    assert (
        len(result.error_lines) == 1
        and "orders.csv" in result.error_lines[0]
        and "order_date" in result.error_lines[0]
    )
    assert folder_state(reports.folder) == before
    assert (reports.root / "index.html").read_bytes() == root_index
    assert leftovers(reports.root) == []


def test_a_killed_run_leaves_the_previous_period_intact(demo_run, tmp_path, salesperf_cli):
    """SIGKILL in the middle of a run (no clean-up possible): the period folder is untouched, and the next run takes
    over the dead run's lock and removes its half-built staging folder."""
    reports = copy_reports(demo_run, tmp_path / "reports")
    before = folder_state(reports.folder)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "salesperf.cli",
            "run",
            "--period",
            PERIOD,
            "--data",
            str(demo_run.data),
            "--today",
            TODAY,
            "--out",
            str(reports.root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    staging = reports.root / f".{PERIOD}.tmp-{process.pid}"
    deadline = time.monotonic() + 120
    while not staging.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert staging.exists(), "the run was not caught in the middle"
    assert (reports.root / f".{PERIOD}.lock").read_text() == str(process.pid)  # a stale lock is left behind
    assert folder_state(reports.folder) == before

    # the next run is not blocked by the dead run's lock (it gets as far as validating its own data)
    result = salesperf_cli(
        "run",
        "--period",
        PERIOD,
        "--data",
        broken_data(tmp_path / "broken"),
        "--today",
        TODAY,
        "--out",
        reports.root,
    )
    assert result.returncode == 2 and "another run" not in result.stderr, result.describe()
    assert "order_date" in result.error_lines[0]
    assert leftovers(reports.root) == []
    assert folder_state(reports.folder) == before


def test_a_run_killed_while_swapping_folders_gets_its_previous_period_back(demo_run, tmp_path, salesperf_cli):
    """A run killed between moving the old period folder aside and moving its own in leaves the previous folder only
    as ``.<period>.old-<pid>``; the next run (even a failing one) puts it back instead of deleting it."""
    reports = copy_reports(demo_run, tmp_path / "reports")
    before = folder_state(reports.folder)
    reports.folder.rename(reports.root / f".{PERIOD}.old-999999")
    (reports.root / f".{PERIOD}.tmp-999999").mkdir()  # and its half-moved staging folder
    result = salesperf_cli(
        "run",
        "--period",
        PERIOD,
        "--data",
        broken_data(tmp_path / "broken"),
        "--today",
        TODAY,
        "--out",
        reports.root,
    )
    assert result.returncode == 2 and "order_date" in result.error_lines[0], result.describe()
    assert folder_state(reports.folder) == before
    assert leftovers(reports.root) == []


# ----------------------------------------------------------------------------------------- failure isolation
def test_a_failing_report_is_isolated(tmp_path, demo_company, salesperf_cli):
    notebook = nbformat.read(
        Path(salesperf.__file__).parents[1] / "notebooks" / "overview.ipynb", as_version=4
    )
    setup = next(i for i, c in enumerate(notebook.cells) if "page.start(" in c.source)
    notebook.cells.insert(setup + 1, nbformat.v4.new_code_cell('raise RuntimeError("planted failure 4711")'))
    nbformat.write(notebook, tmp_path / "broken.ipynb")
    overview_nb = Path(salesperf.__file__).parents[1] / "notebooks" / "overview.ipynb"
    (tmp_path / "set.yml").write_text(
        "reports:\n"
        f"  overview:\n    notebook: {overview_nb}\n"
        "    parameters: {top_n: {type: int, default: 10}, months: {type: int, default: 24}}\n"
        "  broken:\n    notebook: broken.ipynb\n",
        encoding="utf-8",
    )
    out = tmp_path / "reports"
    result = salesperf_cli(
        "run",
        "--period",
        PERIOD,
        "--data",
        demo_company,
        "--today",
        TODAY,
        "--out",
        out,
        "--report-set",
        tmp_path / "set.yml",
        "--workers",
        2,
    )
    assert result.returncode == 1, result.describe()
    assert "Traceback" not in result.stderr
    assert re.search(
        r"report broken failed: RuntimeError: planted failure 4711 \(executed notebook: .*broken\.ipynb\)",
        result.stderr,
    )
    folder = out / PERIOD
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    good, bad = (next(r for r in manifest["reports"] if r["instance"] == i) for i in ("overview", "broken"))
    assert good["status"] == "ok" and (folder / "overview.html").is_file() and good["kpis"]
    assert bad["status"] == "failed" and bad["error"] == "RuntimeError: planted failure 4711"
    assert bad["html"] == "" and not (folder / "broken.html").exists()
    executed = nbformat.read(folder / bad["notebook"], as_version=4)
    assert any(
        o.get("ename") == "RuntimeError" for c in executed.cells if c.cell_type == "code" for o in c.outputs
    )
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "planted failure 4711" in index and "href='broken.ipynb'" in index and "sp-failed" in index
    assert "failed: broken" in page_text((out / "index.html").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------ parameter checks
@pytest.fixture(scope="module")
def flag_report_set(tmp_path_factory) -> Path:
    """A report set whose notebook (the overview plus a bool parameter) declares ``show_all: bool``."""
    folder = tmp_path_factory.mktemp("flag_set")
    notebook = nbformat.read(
        Path(salesperf.__file__).parents[1] / "notebooks" / "overview.ipynb", as_version=4
    )
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\nshow_all: bool = False  # a flag"
    nbformat.write(notebook, folder / "flagged.ipynb")
    (folder / "set.yml").write_text(
        "reports:\n  flagged:\n    notebook: flagged.ipynb\n"
        "    parameters: {show_all: {type: bool, default: false}}\n",
        encoding="utf-8",
    )
    return folder / "set.yml"


@pytest.mark.parametrize(
    "param, message",
    [
        ("overview.nope=1", "report 'overview': unknown parameter 'nope'"),
        ("overview.top_n=abc", "report 'overview': parameter 'top_n': 'abc' is not a valid int"),
        ("flagged.show_all=perhaps", "report 'flagged': parameter 'show_all': 'perhaps' is not a valid bool"),
    ],
)
def test_bad_parameters_fail_before_any_kernel_starts(
    param, message, demo_run, demo_company, flag_report_set, tmp_path, salesperf_cli
):
    report_set = (
        ["--report-set", flag_report_set] if param.startswith("flagged") else ["--reports", "overview"]
    )
    out, ipython_dir = tmp_path / "reports", tmp_path / "ipython"
    result = salesperf_cli(
        "run",
        "--period",
        PERIOD,
        "--data",
        demo_company,
        "--today",
        TODAY,
        "--out",
        out,
        "--param",
        param,
        *report_set,
        env={"IPYTHONDIR": str(ipython_dir)},
    )
    assert result.returncode == 2, result.describe()
    assert result.error_lines == [f"salesperf: error: {message}"]
    assert "Traceback" not in result.stderr and "IPKernelApp" not in result.stderr
    assert not re.search(r"running \d+ report", result.stderr)
    assert not (out / PERIOD).exists()
    # no kernel started: an IPython kernel creates its profile in IPYTHONDIR as it starts
    assert not ipython_dir.exists()
    # checked before the data is even read, so it takes well under the time of a run
    assert "validating" not in result.stderr
    assert result.seconds < 0.75 * demo_run.cli.seconds, (result.seconds, demo_run.cli.seconds)


def test_parameter_values_are_typed(flag_report_set):
    from salesperf.core.errors import UserError
    from salesperf.report.config import load_report_set, report_parameters

    spec = load_report_set(flag_report_set)["flagged"]
    assert report_parameters(spec, {"show_all": "yes"}) == {"show_all": True}
    assert report_parameters(spec, {"show_all": "False"}) == {"show_all": False}
    assert report_parameters(spec, {}) == {"show_all": False}
    overview = load_report_set()["overview"]
    assert report_parameters(overview, {"top_n": "20"})["top_n"] == 20
    for bad in ("2.5", "1e3", "ten", ""):
        with pytest.raises(UserError, match="is not a valid int"):
            report_parameters(overview, {"top_n": bad})


# ---------------------------------------------------------------------------------------------- point in time
def _truncate(source: Path, target: Path, last_day: date) -> Path:
    """A copy of a demo company without any row dated after ``last_day`` (as if exported that day)."""
    target.mkdir()
    shutil.copy(source / "catalog.yml", target / "catalog.yml")
    for path in source.glob("*.parquet"):
        table = pq.read_table(path)
        date_column = TABLES[path.stem].date_column
        if date_column:
            mask = pc.less_equal(table.column(date_column), pa.scalar(last_day, pa.date32()))
            table = table.filter(pc.fill_null(mask, True))
        pq.write_table(table, target / path.name)
    return target


def test_an_old_period_is_reproducible_from_later_data(demo_company, tmp_path):
    truncated = _truncate(demo_company, tmp_path / "until_september", date(2026, 9, 30))
    with ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(
                lambda args: salesperf_run(args[0], args[1], "--reports", "overview", period="2026-09"),
                [(demo_company, tmp_path / "later"), (truncated, tmp_path / "then")],
            )
        )
    later, then = runs
    assert later.manifest["fingerprints"]["orders"]["rows"] > then.manifest["fingerprints"]["orders"]["rows"]
    later_orders = next(
        q for q in later.manifest["quality"] if q["table"] == "orders" and q["kind"] == "excluded"
    )
    assert later_orders["reason"] == "after the period end" and later_orders["rows"] > 0
    assert later.report("overview")["kpis"] == then.report("overview")["kpis"]
    assert kpi_tiles(later.html("overview")) == kpi_tiles(then.html("overview"))
    for export in then.report("overview")["exports"]:
        # equal figures; float sums over differently stored rows may differ in the 16th digit, hence rtol
        pd.testing.assert_frame_equal(
            pd.read_csv(later.folder / export),
            pd.read_csv(then.folder / export),
            check_exact=False,
            rtol=1e-12,
            obj=export,
        )


# ----------------------------------------------------------------------------------------- hostile content
def test_csv_exports_neutralise_formulas(hostile_run):
    customers = hostile_run.export("overview", "top_customers")
    names = set(customers["name"])
    for name in HOSTILE_CUSTOMER_NAMES:
        expected = "'" + name if name[0] in "=+-@" else name
        assert expected in names, (name, sorted(names))
    for column in ("revenue", "share", "previous"):
        assert pd.api.types.is_float_dtype(customers[column]), column
    for path in sorted((hostile_run.folder / "data").glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                        float(cell)  # only numbers (negative changes) may start like a formula


def _artefacts(run) -> dict[str, str]:
    return {
        str(p.relative_to(run.root)): p.read_text(encoding="utf-8", errors="replace")
        for p in run.root.rglob("*")
        if p.is_file()
    }


def test_tables_from_password_protected_urls_were_read(hostile_run):
    fingerprints = hostile_run.manifest["fingerprints"]
    assert fingerprints["reps"]["rows"] > 0 and fingerprints["targets"]["rows"] > 0
    assert hostile_run.manifest["status"] == "ok"


def test_a_password_from_the_environment_never_reaches_an_artefact(hostile_run):
    leaks = [name for name, text in _artefacts(hostile_run).items() if ENV_DB_PASSWORD in text]
    assert leaks == []
    assert ENV_DB_PASSWORD not in hostile_run.cli.stdout + hostile_run.cli.stderr


def test_a_password_written_in_the_catalog_never_reaches_an_artefact(hostile_run):
    leaks = [name for name, text in _artefacts(hostile_run).items() if LITERAL_DB_PASSWORD in text]
    assert leaks == []


def test_a_database_password_is_masked_in_error_messages(tmp_path, demo_company, salesperf_cli):
    secret = "Pg-Secret-9d8c7b"
    (tmp_path / "catalog.yml").write_text(
        "tables:\n"
        f"  orders: {demo_company / 'orders.parquet'}\n"
        "  reps:\n"
        "    url: postgresql://ann:${PGPASSWORD}@127.0.0.1:1/sales\n"
        "    table: reps\n",
        encoding="utf-8",
    )
    result = salesperf_cli(
        "run",
        "--out",
        tmp_path / "reports",
        "--catalog",
        tmp_path / "catalog.yml",
        "--period",
        PERIOD,
        "--today",
        TODAY,
        env={"PGPASSWORD": secret},
    )
    assert result.returncode == 2, result.describe()
    assert secret not in result.stdout + result.stderr
    assert len(result.error_lines) == 1 and "Traceback" not in result.stderr
    assert "postgresql://ann:***@127.0.0.1:1/sales" in result.error_lines[0]
    assert "cannot read table 'reps'" in result.error_lines[0]
    assert not (tmp_path / "reports" / PERIOD).exists()
