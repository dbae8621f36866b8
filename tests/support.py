"""Shared constants, helpers and session fixtures of the test suite (re-exported by conftest.py).

A report run starts a Jupyter kernel per notebook (several seconds each), so the runs are session-scoped and every
test file that needs rendered reports asks for the same ones:

``demo_company``
    Folder of the demo company (1,000 customers, seed 7, data until 2026-10-31) with ``catalog.yml``.
``demo_run``
    ``salesperf run --period 2026-10`` of the whole monthly report set on it, in English, on two local workers.
``demo_run_zh``
    The same in Chinese.
``demo_rerun``
    A copy of ``demo_run``'s reports folder in which the same reports were run again, on one worker.
``hostile_company`` / ``hostile_run``
    The demo company with script and spreadsheet-formula payloads as the names of its largest customers and products,
    and two tables read from SQLite through URLs carrying a password; its overview report for October 2026.
``demo_orders``
    The demo's orders as a pandas frame (dates as Timestamps), for computing expected figures independently.

``demo_run``, ``demo_run_zh`` and ``hostile_run`` start in the background, two at a time, when the first of them is
needed (only those that collected tests use).
``salesperf_cli``
    Runs the ``salesperf`` command in a subprocess and returns a :class:`CliResult`.

Helpers for reading pages (``kpi_tiles``, ``table_rows``, ``texts_of_class``, ``page_text``) and for writing expected figures
independently of salesperf (``money_en``, ``money_zh``, ``signed_pct``, ``month_kpis``) are importable with
``from support import ...``.

Runs are read-only for the tests: a test that changes a reports folder copies it first (``copy_reports``).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property, partial
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from salesperf.data import demo

DEMO_CUSTOMERS = 1000
DEMO_SEED = 7
DEMO_END = "2026-10-31"
PERIOD = "2026-10"
TODAY = "2026-11-27"

#: Names planted in the hostile company, largest customers (by October 2026 revenue) first.
HOSTILE_CUSTOMER_NAMES = (
    "<script>alert(1)</script>",
    '<img src=x onerror="window.__pwned=1">',
    '=HYPERLINK("x")',
    "+1+1",
    "@SUM(A1)",
    "-2+3",
)
HOSTILE_PRODUCT_NAMES = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
#: Secret read from the environment by the hostile company's catalog (``${SALESPERF_TEST_DB_PASSWORD}``).
ENV_DB_PASSWORD = "Env-Pa55word-7f3a91"
#: Secret written literally into the hostile company's catalog URL.
LITERAL_DB_PASSWORD = "Literal-Pa55word-c0ffee"
MINUS = "\u2212"  # the reports' minus sign


@dataclass
class CliResult:
    """What one ``salesperf`` command did."""

    args: tuple
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("salesperf: error:")]

    def describe(self) -> str:
        return f"salesperf {' '.join(map(str, self.args))} -> {self.returncode}\n{self.stdout}\n{self.stderr}"


def run_salesperf(*args, env: dict | None = None, timeout: float = 600) -> CliResult:
    """Run ``python -m salesperf.cli ARGS`` (the ``salesperf`` command) and capture everything."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "salesperf.cli", *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return CliResult(args, done.returncode, done.stdout, done.stderr, round(time.perf_counter() - started, 2))


@dataclass
class ReportRun:
    """A finished ``salesperf run``: where it wrote, what it printed, and accessors for its period folder."""

    root: Path
    period: str
    lang: str
    data: Path
    cli: CliResult

    @property
    def folder(self) -> Path:
        return self.root / self.period

    @cached_property
    def manifest(self) -> dict:
        return json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))

    def report(self, instance: str) -> dict:
        """The manifest entry of one report (or fan-out copy)."""
        found = [r for r in self.manifest["reports"] if r["instance"] == instance]
        assert found, f"no report {instance!r} in {[r['instance'] for r in self.manifest['reports']]}"
        return found[0]

    def html(self, instance: str) -> str:
        return (self.folder / f"{instance}.html").read_text(encoding="utf-8")

    def export(self, instance: str, table: str) -> pd.DataFrame:
        return pd.read_csv(self.folder / "data" / f"{instance}__{table}.csv", encoding="utf-8-sig")

    def files(self) -> set[str]:
        """Every file of the period folder, as paths relative to it."""
        return {str(p.relative_to(self.folder)) for p in self.folder.rglob("*") if p.is_file()}

    def html_pages(self) -> list[Path]:
        """Root index, period index and every rendered report."""
        return [self.root / "index.html", self.folder / "index.html"] + sorted(
            self.folder / r["html"] for r in self.manifest["reports"] if r["html"]
        )


def salesperf_run(
    data: Path,
    out: Path,
    *extra,
    period: str = PERIOD,
    lang: str = "en",
    env: dict | None = None,
    check: bool = True,
) -> ReportRun:
    """``salesperf run`` of ``data`` into ``out``; with ``check``, fail unless it exited 0."""
    cli = run_salesperf(
        "run",
        "--period",
        period,
        "--data",
        data,
        "--today",
        TODAY,
        "--out",
        out,
        "--lang",
        lang,
        *extra,
        env=env,
    )
    if check:
        assert cli.returncode == 0, cli.describe()
    return ReportRun(Path(out).resolve(), period, lang, Path(data), cli)


def copy_reports(run: ReportRun, target: Path) -> ReportRun:
    """A private copy of a run's reports root (for tests that run again into it or break it)."""
    shutil.copytree(run.root, target)
    return ReportRun(Path(target).resolve(), run.period, run.lang, run.data, run.cli)


def read_table(folder: Path, table: str) -> pd.DataFrame:
    """A demo table as pandas, date columns as Timestamps."""
    frame = pq.read_table(folder / f"{table}.parquet").to_pandas()
    for col in frame.columns:
        if re.search(r"(_date|_at|^at)$", col):
            frame[col] = pd.to_datetime(frame[col])
    return frame


# ------------------------------------------------------------------------------------- reading rendered pages
class _ClassTexts(HTMLParser):
    """Text of every element carrying a given CSS class, in document order."""

    VOID = frozenset({"img", "br", "meta", "link", "input", "hr", "source", "col", "area", "base", "wbr"})

    def __init__(self, cls: str):
        super().__init__(convert_charrefs=True)
        self.cls, self.open, self.found = cls, [], []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        match = self.cls in (dict(attrs).get("class") or "").split()
        self.open.append(len(self.found) if match else None)
        if match:
            self.found.append("")

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.open:
            self.open.pop()

    def handle_data(self, data):
        for index in self.open:
            if index is not None:
                self.found[index] += data


def texts_of_class(page: str, cls: str) -> list[str]:
    parser = _ClassTexts(cls)
    parser.feed(page)
    return [" ".join(t.split()) for t in parser.found]


class _TableRows(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join(self.cell.split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def table_rows(page: str) -> list[list[str]]:
    """The cell texts of every table row of a page."""
    parser = _TableRows()
    parser.feed(page)
    return parser.rows


def kpi_tiles(page: str) -> list[tuple[str, str]]:
    """(label, value) of every KPI tile of a page."""
    labels, values = texts_of_class(page, "sp-kpi-label"), texts_of_class(page, "sp-kpi-value")
    assert len(labels) == len(values)
    return list(zip(labels, values, strict=True))


def page_text(page: str) -> str:
    """The visible text of a page body (tags dropped, entities decoded, whitespace collapsed)."""
    body = page[page.find("<body") :]
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", body, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def money_en(x: float, compact: bool = True) -> str:
    """Written out here from the formatting rules of the reports (¥, k / M, U+2212 minus), not imported."""
    sign, a = (MINUS if x < 0 else ""), abs(x)
    if compact and a >= 1e6:
        return f"{sign}¥{a / 1e6:,.2f} M"
    if compact and a >= 1e4:
        return f"{sign}¥{a / 1e3:,.1f} k"
    return f"{sign}¥{a:,.0f}"


def money_zh(x: float) -> str:
    sign, a = (MINUS if x < 0 else ""), abs(x)
    if a >= 1e8:
        return f"{sign}{a / 1e8:,.2f} 亿元"
    if a >= 1e4:
        return f"{sign}{a / 1e4:,.1f} 万元"
    return f"{sign}{a:,.0f} 元"


def signed_pct(change: float) -> str:
    text = f"{abs(100 * change):.1f}%"
    return ("+" if change > 0 else MINUS if change < 0 else "") + text


def month_kpis(orders: pd.DataFrame, month: str) -> dict:
    """Revenue (net of returns), orders and buying customers of one month, with pandas."""
    rows = orders[orders["order_date"].dt.strftime("%Y-%m") == month]
    positive = rows[rows["amount"] > 0]
    revenue = float(rows["amount"].sum())
    n_orders = int(positive["order_id"].nunique())
    return {
        "revenue": revenue,
        "orders": n_orders,
        "customers": int(positive["customer_id"].nunique()),
        "aov": revenue / n_orders,
    }


# ------------------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def salesperf_cli():
    """``salesperf_cli('validate', '--data', folder)`` → :class:`CliResult`."""
    return run_salesperf


@pytest.fixture(scope="session")
def demo_company(tmp_path_factory) -> Path:
    return demo.generate(
        tmp_path_factory.mktemp("demo_company"), customers=DEMO_CUSTOMERS, seed=DEMO_SEED, end=DEMO_END
    )


@pytest.fixture(scope="session")
def demo_orders(demo_company) -> pd.DataFrame:
    return read_table(demo_company, "orders")


class _BackgroundRuns:
    """The session's expensive runs, started in the background two at a time as soon as the first one is needed.

    A run spends much of its time waiting (imports, kernel start-up, one report left on one of two workers): running
    two side by side keeps both cores busy. Only the runs that some collected test needs are started early.
    """

    def __init__(self, request, factory):
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="salesperf-run")
        self.futures: dict[str, Future] = {}
        # name -> maker of the job; makers run in the main thread (fixtures, folders), jobs in the pool
        self.makers = {
            "demo_run": lambda: partial(
                salesperf_run,
                request.getfixturevalue("demo_company"),
                factory.mktemp("reports_en") / "reports",
                "--workers",
                2,
            ),
            "demo_run_zh": lambda: partial(
                salesperf_run,
                request.getfixturevalue("demo_company"),
                factory.mktemp("reports_zh") / "reports",
                "--workers",
                2,
                lang="zh",
            ),
            "hostile_run": lambda: partial(
                salesperf_run,
                request.getfixturevalue("hostile_company"),
                factory.mktemp("reports_hostile") / "reports",
                "--workers",
                2,
                "--reports",
                "overview",
                env={"SALESPERF_TEST_DB_PASSWORD": ENV_DB_PASSWORD},
            ),
        }

    def start(self, name: str) -> None:
        if name not in self.futures:
            self.futures[name] = self.pool.submit(self.makers[name]())

    def result(self, name: str) -> ReportRun:
        self.start(name)
        return self.futures[name].result()


@pytest.fixture(scope="session")
def _background_runs(request, tmp_path_factory):
    runs = _BackgroundRuns(request, tmp_path_factory)
    wanted = {name for item in request.session.items for name in item.fixturenames}
    for name in runs.makers:  # demo_run first: the rerun starts from it
        if name in wanted:
            runs.start(name)
    yield runs
    runs.pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def demo_run(_background_runs) -> ReportRun:
    return _background_runs.result("demo_run")


@pytest.fixture(scope="session")
def demo_run_zh(_background_runs) -> ReportRun:
    return _background_runs.result("demo_run_zh")


@pytest.fixture(scope="session")
def demo_rerun(demo_run, tmp_path_factory) -> ReportRun:
    """``demo_run``'s folder, copied, with a stray file planted in the period folder, then the same reports run again
    for the same period on one worker. The stray file lets tests check that the folder is replaced, not merged."""
    copy = copy_reports(demo_run, tmp_path_factory.mktemp("rerun") / "reports")
    (copy.folder / "stray-from-an-old-run.txt").write_text("should disappear")
    time.sleep(1.1)  # manifests carry times in whole seconds: make the rerun's start visibly later
    same_reports = ",".join(r["report"] for r in demo_run.manifest["reports"])
    return salesperf_run(demo_run.data, copy.root, "--workers", 1, "--reports", same_reports)


@pytest.fixture(scope="session")
def hostile_company(demo_company, tmp_path_factory) -> Path:
    """The demo company with hostile names and database sources that need a password.

    The largest customers and products of October 2026 are renamed to script / HTML / spreadsheet-formula payloads
    (so they reach the top lists, the narrative and the CSV exports). ``reps`` and ``targets`` are read from a
    SQLite file through SQLAlchemy URLs carrying a password: SQLite has no authentication, and the pysqlite driver
    ignores (with a warning) URL query arguments it does not know, so ``sqlite:///FILE?password=...`` reads fine
    while putting a secret into the catalog exactly where a server database would have it. (The
    ``user:password@`` form is rejected by SQLAlchemy's SQLite dialect.) ``reps`` takes it from the environment
    (``${SALESPERF_TEST_DB_PASSWORD}``, the documented way), ``targets`` has it written in the file.
    """
    folder = tmp_path_factory.mktemp("hostile_company")
    for path in demo_company.glob("*.parquet"):
        shutil.copy(path, folder / path.name)
    orders = read_table(demo_company, "orders")
    october = orders[orders["order_date"].dt.strftime("%Y-%m") == PERIOD]
    for table, key, names in (
        ("customers", "customer_id", HOSTILE_CUSTOMER_NAMES),
        ("products", "product_id", HOSTILE_PRODUCT_NAMES),
    ):
        largest = october.groupby(key)["amount"].sum().sort_values(ascending=False).index[: len(names)]
        arrow = pq.read_table(folder / f"{table}.parquet")
        renamed = dict(zip(largest, names, strict=False))
        ids = arrow.column(key).to_pylist()
        new_names = [renamed.get(i, n) for i, n in zip(ids, arrow.column("name").to_pylist(), strict=True)]
        arrow = arrow.set_column(
            arrow.schema.get_field_index("name"), "name", pa.array(new_names, pa.string())
        )
        pq.write_table(arrow, folder / f"{table}.parquet")
    database = folder / "crm.sqlite"
    with sqlite3.connect(database) as con:
        for table in ("reps", "targets"):
            frame = pq.read_table(folder / f"{table}.parquet").to_pandas()
            frame.to_sql(table, con, index=False)
            (folder / f"{table}.parquet").unlink()
    sources = {p.stem: p.name for p in sorted(folder.glob("*.parquet"))}
    lines = (
        ["tables:"]
        + [f"  {table}: {name}" for table, name in sources.items()]
        + [
            "  reps:",
            f"    url: sqlite:///{database}?password=${{SALESPERF_TEST_DB_PASSWORD}}",
            "    table: reps",
            "  targets:",
            f"    url: sqlite:///{database}?password={LITERAL_DB_PASSWORD}",
            "    query: SELECT rep_id, period, quota FROM targets",
        ]
    )
    (folder / "catalog.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def hostile_run(_background_runs) -> ReportRun:
    """``hostile_company``'s overview for October 2026 (names reach every part of a page through the same calls, so
    one report shows them in titles, sentences, tables and charts; the CSV exports hold them too)."""
    return _background_runs.result("hostile_run")
