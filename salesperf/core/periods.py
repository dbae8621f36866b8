"""Report periods: parse ``2026-10``, ``2026-Q3``, ``2026-W42``, ``last-month``, ``last-quarter``,
``last-week``; and run dates (``--today``).

A period is a closed date range with a label; it knows its predecessor (for 环比 / period-over-period) and the
same period one year earlier (for 同比 / year-over-year).

Valid range: a period's year is between 1900 and 9998 (so that its label has four digits and parses back, and
its predecessor and year-ago period exist), and a period the command line reports on must have started on or
before the run date (:func:`check_started`): a closed period or the current one, never a future one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from salesperf.core.errors import UserError

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_WEEK = re.compile(r"^(\d{4})-[Ww](\d{1,2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: First and last year of a period or a run date.
FIRST_YEAR, LAST_YEAR = 1900, 9998
_FORMS = "use 2026-10, 2026-Q3, 2026-W42, last-month, last-quarter or last-week"


@dataclass(frozen=True)
class Period:
    """A report period.

    Attributes
    ----------
    grain : {'month', 'quarter', 'week'}
    label : str
        Canonical label, also the folder name under ``reports/`` (``2026-10``, ``2026-Q3``, ``2026-W42``).
    start, end : datetime.date
        First and last day, both inclusive.
    """

    grain: str
    label: str
    start: date
    end: date

    @property
    def previous(self) -> Period:
        """The period just before this one."""
        return containing(self.grain, self.start - timedelta(days=1))

    @property
    def next(self) -> Period:
        """The period just after this one."""
        return containing(self.grain, self.end + timedelta(days=1))

    @property
    def year_ago(self) -> Period:
        """The same period one year earlier (ISO week number kept for weeks)."""
        if self.grain == "week":
            year, week, _ = self.start.isocalendar()
            return containing("week", date.fromisocalendar(year - 1, min(week, _weeks_in(year - 1)), 1))
        return containing(self.grain, self.start.replace(year=self.start.year - 1))

    def label_in(self, lang: str) -> str:
        """Human label: ``October 2026`` / ``2026年10月``, ``2026 Q3`` / ``2026年第三季度``, ``2026 week 42``
        / ``2026年第42周``."""
        year = self.start.year
        if self.grain == "month":
            return f"{year}年{self.start.month}月" if lang == "zh" else self.start.strftime("%B %Y")
        if self.grain == "quarter":
            q = (self.start.month - 1) // 3 + 1
            return f"{year}年第{'一二三四'[q - 1]}季度" if lang == "zh" else f"Q{q} {year}"
        iso_year, week, _ = self.start.isocalendar()
        return f"{iso_year}年第{week}周" if lang == "zh" else f"Week {week}, {iso_year}"


def _weeks_in(year: int) -> int:
    return date(year, 12, 28).isocalendar()[1]


def _month_end(year: int, month: int) -> date:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def containing(grain: str, day: date) -> Period:
    """The period of ``grain`` (month, quarter, week) that holds ``day``."""
    if grain == "month":
        return Period(
            "month", f"{day.year:04d}-{day.month:02d}", day.replace(day=1), _month_end(day.year, day.month)
        )
    if grain == "quarter":
        q = (day.month - 1) // 3 + 1
        start = date(day.year, 3 * q - 2, 1)
        return Period("quarter", f"{day.year:04d}-Q{q}", start, _month_end(day.year, 3 * q))
    iso_year, week, weekday = day.isocalendar()
    start = day - timedelta(days=weekday - 1)
    return Period("week", f"{iso_year:04d}-W{week:02d}", start, start + timedelta(days=6))


def parse_period(text: str, today: date | None = None) -> Period:
    """Parse a period label or a relative period.

    Parameters
    ----------
    text : str
        ``YYYY-MM``, ``YYYY-Qn``, ``YYYY-Wnn``, ``last-month``, ``last-quarter`` or ``last-week``.
    today : datetime.date, optional
        Reference day for relative periods (defaults to the system date), so schedulers get the period that
        just closed.

    Returns
    -------
    Period

    Raises
    ------
    UserError
        When the text is none of the forms above, or its year is outside 1900..9998.
    """
    text = str(text).strip()
    today = today or date.today()
    relative = {"last-month": "month", "last-quarter": "quarter", "last-week": "week"}
    if text in relative:
        _check_year(today.year, f"--today {today.isoformat()}")
        period = containing(relative[text], today).previous
        _check_year(period.start.year, f"period {text!r} ({period.label})")
        return period
    for pattern in (_MONTH, _QUARTER, _WEEK):
        if m := pattern.match(text):
            _check_year(int(m[1]), f"period {text!r}")
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            return containing("month", date(year, month, 1))
    if m := _QUARTER.match(text):
        return containing("quarter", date(int(m[1]), 3 * int(m[2]) - 2, 1))
    if m := _WEEK.match(text):
        year, week = int(m[1]), int(m[2])
        if 1 <= week <= _weeks_in(year):
            return containing("week", date.fromisocalendar(year, week, 1))
    raise UserError(f"period {text!r} is not understood", hint=_FORMS)


def _check_year(year: int, what: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise UserError(
            f"{what} is out of range: the year must be between {FIRST_YEAR} and {LAST_YEAR}",
            hint="report on a closed period or the current one, e.g. last-month",
        )


def check_started(period: Period, today: date) -> Period:
    """Refuse a period that starts after the run date: it has no data yet, and its report would show zeros.

    Parameters
    ----------
    period : Period
    today : datetime.date
        The run date (``--today`` or the system date).

    Returns
    -------
    Period
        ``period`` itself, when it has ended or is the current one.

    Raises
    ------
    UserError
        When the period starts after ``today``.
    """
    if period.start > today:
        raise UserError(
            f"period {period.label} has not started yet (it starts on {period.start.isoformat()}, "
            f"the run date is {today.isoformat()})",
            hint="report on a closed period or the current one (e.g. last-month), or pass --today YYYY-MM-DD",
        )
    return period


def parse_day(text: str, option: str = "--today") -> date:
    """Read a run date written ``YYYY-MM-DD``.

    Parameters
    ----------
    text : str
        The date as typed.
    option : str
        The option it came from, for the message.

    Returns
    -------
    datetime.date

    Raises
    ------
    UserError
        When ``text`` is not a real day written ``YYYY-MM-DD``, or its year is outside 1900..9998.
    """
    text = str(text).strip()
    try:
        day = date.fromisoformat(text) if _DAY.match(text) else None
    except ValueError:
        day = None
    if day is None:
        raise UserError(
            f"{option} {text!r} is not a date written YYYY-MM-DD", hint=f"e.g. {option} 2026-11-27"
        )
    _check_year(day.year, f"{option} {text}")
    return day

