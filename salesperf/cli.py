"""The ``salesperf`` command: demo, import, validate, run.

Errors the user can fix print one line (plus a hint) and exit with code 2; no traceback reaches the user. Set
``SALESPERF_DEBUG=1`` to see tracebacks of unexpected failures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from datetime import date, timedelta
from pathlib import Path

from salesperf import __version__
from salesperf.core.errors import UserError


def _say(message: str) -> None:
    print(f"salesperf: {message}", file=sys.stderr, flush=True)


def _data_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--catalog", metavar="FILE", help="data catalog (YAML) naming each table's source")
    group.add_argument(
        "--data", metavar="DIR", help="folder of files named after the tables (orders.csv, ...)"
    )


def _today(text: str | None) -> date:
    from salesperf.core.periods import parse_day

    return parse_day(text) if text else date.today()


def _period(text: str, today: date):
    """The period a command reports on: understood, in range, and started on or before the run date."""
    from salesperf.core.periods import check_started, parse_period

    return check_started(parse_period(text, today), today)


def _folder_arg(path: str, option: str) -> Path:
    """An output folder the user named: refused when it, or a folder above it, is a file."""
    folder = Path(path)
    for part in (folder, *folder.parents):
        if part.exists() and not part.is_dir():
            raise UserError(
                f"{option} {path!r}: {str(part)!r} is a file, not a folder", hint=f"choose another {option}"
            )
        if part.is_dir():
            break
    return folder


def _currency_arg(text: str | None) -> str | None:
    """``--currency`` as given, when it is a three-letter code or a short symbol (or a known alias)."""
    from salesperf.core.fmt import currency_code

    if text is not None and not re.fullmatch(r"[A-Z]{3}|[^\sA-Za-z0-9]{1,3}", currency_code(text)):
        raise UserError(
            f"--currency {text!r} is not a currency",
            hint="an ISO code such as GBP or CNY, or a symbol such as £",
        )
    return text.strip() if text else text


def _locale_arg(text: str | None) -> str | None:
    """``--locale`` as given, when it is ``ll``, ``ll_RR`` or ``ll-RR`` of a language Python knows."""
    import locale

    if text is None:
        return None
    languages = {alias.split("_")[0].split(".")[0] for alias in locale.locale_alias}
    match = re.fullmatch(r"([A-Za-z]{2,3})(?:[_-][A-Za-z]{2})?(?:\.[\w-]+)?", text.strip())
    if not match or match[1].lower() not in languages:
        raise UserError(f"--locale {text!r} is not a locale", hint="e.g. --locale de_DE, en_GB or zh_CN")
    return text.strip()


def cmd_demo(args: argparse.Namespace) -> int:
    from salesperf.core.periods import parse_day
    from salesperf.data.demo import generate

    last_month_end = date.today().replace(day=1) - timedelta(days=1)
    end = (parse_day(args.end, "--end") if args.end else last_month_end).isoformat()
    _folder_arg(args.out, "--out")
    truth = Path(args.out) / "truth.json"
    if truth.is_file() and (Path(args.out) / "catalog.yml").is_file():
        planted = json.loads(truth.read_text(encoding="utf-8"))
        if (planted.get("seed"), planted.get("customers"), planted.get("end")) == (
            args.seed,
            args.customers,
            end,
        ):
            _say(
                f"demo company in {args.out} is up to date "
                f"(seed {args.seed}, {args.customers} customers, until {end})"
            )
            print(Path(args.out) / "catalog.yml")
            return 0
    out = generate(
        args.out, customers=args.customers, seed=args.seed, end=end, fmt=args.format, progress=_say
    )
    print(Path(out) / "catalog.yml")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from salesperf.data.importer import run_import

    _folder_arg(args.out, "--out")
    locale = _locale_arg(args.locale)
    summary = run_import(args.sources, args.out, preset=args.preset, mapping=args.mapping, locale=locale)
    print(summary.format())
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from salesperf.data.catalog import resolve
    from salesperf.data.dataset import open_dataset

    today = _today(args.today)
    period = _period(args.period or today.strftime("%Y-%m"), today)
    catalog = _with_currency(resolve(args.catalog, args.data), _currency_arg(args.currency))
    ds = open_dataset(catalog, period, today)
    frame = ds.quality.frame()
    print(frame.drop(columns=["source"]).to_string(index=False))
    excluded = int(frame.loc[frame["kind"] == "excluded", "rows"].sum())
    print(f"currency: {ds.currency}" + "".join(f"; {line}" for line in ds.quality.notes("en")))
    print(f"valid: {len(ds.tables)} table(s), {excluded:,} row(s) excluded (see reasons above)")
    orders = ds.engine.table("orders")
    in_period = orders.count(where=orders.order_date >= period.start)
    found = ds.engine.fetch(orders.aggregate(n=in_period, last=orders.order_date.max())).iloc[0]
    if not found["n"]:
        last = (
            "no order is dated"
            if found["last"] is None
            else f"the latest order is dated {found['last']:%Y-%m-%d}"
        )
        print(f"warning: no orders used in {period.label} ({period.start} to {period.end}); {last}")
    return 0


def _with_currency(catalog, stated: str | None):
    """The catalog with its report currency: ``--currency`` over the catalog's ``currency:`` over the data's
    one currency (several without one stated: a UserError, exit 2)."""
    from salesperf.data.dataset import data_currency

    return dataclasses.replace(catalog, currency=data_currency(catalog, stated or ""))


def _overrides(pairs: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        report, dot, name = key.partition(".")
        if not sep or not dot:
            raise UserError(
                f"--param {pair!r} is not REPORT.NAME=VALUE", hint="e.g. --param overview.top_n=20"
            )
        out.setdefault(report, {})[name] = value
    return out


def _run_numbers(args: argparse.Namespace) -> None:
    """Refuse --workers, --timeout and --scheduler values no run can use, before any work starts."""
    if args.workers < 1:
        raise UserError(f"--workers {args.workers}: at least one worker is needed", hint="e.g. --workers 2")
    if args.timeout < 1:
        raise UserError(
            f"--timeout {args.timeout}: a cell needs at least one second", hint="e.g. --timeout 600"
        )
    address = args.scheduler
    if address is not None and not re.fullmatch(
        r"(?:[a-z][a-z0-9+]*://)?[\w.\-]+:\d{1,5}|[a-z]+://\S+", address
    ):
        raise UserError(
            f"--scheduler {address!r} is not a Dask scheduler address",
            hint="e.g. --scheduler tcp://10.0.0.5:8786",
        )


def cmd_run(args: argparse.Namespace) -> int:
    from salesperf.core.vocab import check_lang
    from salesperf.data.catalog import resolve
    from salesperf.report.config import load_report_set
    from salesperf.report.runner import run_period

    today = _today(args.today)
    period = _period(args.period, today)
    lang = check_lang(args.lang)
    _run_numbers(args)
    _folder_arg(args.out, "--out")
    currency = _currency_arg(args.currency)
    specs = load_report_set(args.report_set)
    if args.reports is not None:
        wanted = [r.strip() for r in args.reports.split(",") if r.strip()]
        if not wanted:
            raise UserError(f"--reports {args.reports!r} names no report", hint=f"known: {', '.join(specs)}")
        unknown = [r for r in wanted if r not in specs]
        if unknown:
            raise UserError(f"unknown report(s): {', '.join(unknown)}", hint=f"known: {', '.join(specs)}")
        specs = {r: specs[r] for r in wanted}
    else:
        specs = {k: s for k, s in specs.items() if s.runs_for(period.grain)}
    overrides = _overrides(args.param)
    for report in overrides:
        if report not in specs:
            raise UserError(f"--param names report '{report}', which is not in this run")
    catalog = resolve(args.catalog, args.data or (None if args.catalog else "data/demo"))
    # --currency, else the catalog's currency:, else the data's one currency (several: exit 2; a stated one
    # excludes the rows in other currencies, counted)
    catalog = _with_currency(catalog, currency)
    manifest = run_period(
        catalog,
        period,
        specs,
        args.out,
        lang=lang,
        today=today,
        currency=catalog.currency or "¥",
        workers=args.workers,
        scheduler=args.scheduler or "",
        each=args.each or "",
        timeout=args.timeout,
        overrides=overrides,
        progress=_say,
    )
    for report in manifest["reports"]:
        if report["status"] != "ok":
            _say(
                f"report {report['instance']} failed: {report['error']} (executed notebook: "
                f"{Path(args.out) / period.label / report['notebook']})"
            )
    print(Path(args.out).resolve() / period.label / "index.html")
    return 0 if manifest["status"] == "ok" else 1


_CURRENCY_HELP = (
    "currency of the amounts, an ISO code (GBP) or a symbol (£); default: the catalog's currency:, else the "
    "one currency of the orders' currency column, else CNY; with several currencies, rows in others are "
    "excluded"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="salesperf", description="Sales-performance analytics workbook.")
    parser.add_argument("--version", action="version", version=f"salesperf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "demo", help="generate the demo company (every canonical table, catalog.yml, truth.json)"
    )
    p.add_argument("--customers", type=int, default=2000, help="number of customers (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed; same seed, same data (default 0)")
    p.add_argument("--out", default="data/demo", help="output folder (default data/demo)")
    p.add_argument("--end", help="last day of data, YYYY-MM-DD (default: end of last complete month)")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "import",
        help="convert CRM exports (Salesforce, HubSpot, Zoho, Fxiaoke, or a mapping) to canonical tables",
    )
    p.add_argument("sources", nargs="+", metavar="SRC", help="export files (CSV in any encoding, .xlsx)")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--preset", help="salesforce, hubspot, zoho or fxiaoke (default: detected from the headers)"
    )
    g.add_argument("--mapping", metavar="FILE", help="your own mapping file (YAML)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the canonical tables")
    p.add_argument("--locale", help="number locale of the exports, e.g. de_DE for 1.234,50")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("validate", help="check a company's data and count excluded rows by reason")
    _data_args(p)
    p.add_argument("--period", help="cut the data at this period's end (default: the current month)")
    p.add_argument("--today", help="run date YYYY-MM-DD (default: the system date)")
    p.add_argument("--currency", help=_CURRENCY_HELP)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="render the report set for a period into reports/<period>/")
    p.add_argument(
        "--period",
        default="last-month",
        help="2026-10, 2026-Q3, 2026-W42, last-month, last-quarter, last-week",
    )
    p.add_argument(
        "--reports", help="comma-separated report ids (default: all reports of the period's cadence)"
    )
    _data_args(p)
    p.add_argument("--out", default="reports", help="reports root (default reports)")
    p.add_argument("--lang", default="en", help="report language: en or zh")
    p.add_argument("--currency", help=_CURRENCY_HELP)
    p.add_argument(
        "--workers", type=int, default=1, help="notebooks run in parallel on this many local workers"
    )
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="run the notebooks on this Dask distributed scheduler"
    )
    p.add_argument(
        "--each", choices=["region", "team", "rep"], help="one copy of each report per region/team/rep"
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="REPORT.NAME=VALUE",
        help="override a report parameter",
    )
    p.add_argument("--report-set", metavar="FILE", help="your own report set (YAML)")
    p.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds (default 600)")
    p.add_argument("--today", help="run date YYYY-MM-DD (default: the system date)")
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        _say(f"error: {exc.message}")
        if exc.hint:
            _say(f"hint: {exc.hint}")
        return 2
    except KeyboardInterrupt:
        _say("interrupted; previous reports are left as they were")
        return 130
    except Exception as exc:
        if os.environ.get("SALESPERF_DEBUG"):
            raise
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        _say(f"internal error: {type(exc).__name__}: {first_line}")
        _say("hint: this is a bug; rerun with SALESPERF_DEBUG=1 for details and report it")
        return 1


if __name__ == "__main__":
    sys.exit(main())
