from datetime import date

import pytest

from salesperf.core.errors import UserError
from salesperf.core.periods import check_started, parse_day, parse_period

TODAY = date(2026, 11, 27)  # a Friday


@pytest.mark.parametrize(
    "text, label, start, end, previous, year_ago",
    [
        ("2026-10", "2026-10", date(2026, 10, 1), date(2026, 10, 31), "2026-09", "2025-10"),
        ("2026-01", "2026-01", date(2026, 1, 1), date(2026, 1, 31), "2025-12", "2025-01"),
        ("2024-02", "2024-02", date(2024, 2, 1), date(2024, 2, 29), "2024-01", "2023-02"),
        ("2026-Q3", "2026-Q3", date(2026, 7, 1), date(2026, 9, 30), "2026-Q2", "2025-Q3"),
        ("2026-q1", "2026-Q1", date(2026, 1, 1), date(2026, 3, 31), "2025-Q4", "2025-Q1"),
        ("2026-W42", "2026-W42", date(2026, 10, 12), date(2026, 10, 18), "2026-W41", "2025-W42"),
        ("2026-W01", "2026-W01", date(2025, 12, 29), date(2026, 1, 4), "2025-W52", "2025-W01"),
        ("last-month", "2026-10", date(2026, 10, 1), date(2026, 10, 31), "2026-09", "2025-10"),
        ("last-quarter", "2026-Q3", date(2026, 7, 1), date(2026, 9, 30), "2026-Q2", "2025-Q3"),
        ("last-week", "2026-W47", date(2026, 11, 16), date(2026, 11, 22), "2026-W46", "2025-W47"),
    ],
)
def test_periods_resolve_to_hand_checked_ranges(text, label, start, end, previous, year_ago):
    p = parse_period(text, TODAY)
    assert (p.label, p.start, p.end, p.previous.label, p.year_ago.label) == (
        label,
        start,
        end,
        previous,
        year_ago,
    )


def test_week_53_maps_to_last_week_of_a_52_week_year():
    # 2026 has 53 ISO weeks (28 Dec 2026 is in week 53); 2025 has 52
    assert parse_period("2026-W53").year_ago.label == "2025-W52"


def test_relative_period_at_year_boundary():
    assert parse_period("last-month", date(2027, 1, 3)).label == "2026-12"
    assert parse_period("last-quarter", date(2027, 1, 3)).label == "2026-Q4"


def test_labels_in_both_languages():
    assert parse_period("2026-10").label_in("zh") == "2026年10月"
    assert parse_period("2026-Q3").label_in("zh") == "2026年第三季度"
    assert parse_period("2026-W42").label_in("zh") == "2026年第42周"
    assert parse_period("2026-Q3").label_in("en") == "Q3 2026"


@pytest.mark.parametrize("bad", ["October", "2026-13", "2026-Q5", "2026-W60", "2026/10", ""])
def test_bad_periods_are_user_errors(bad):
    with pytest.raises(UserError, match="not understood"):
        parse_period(bad, TODAY)


@pytest.mark.parametrize("bad", ["0000-01", "9999-12", "9999-Q4", "1234-10", "0001-01", "1899-W10"])
def test_periods_outside_1900_to_9998_are_user_errors(bad):
    # before: 0000-01, 9999-12 and 9999-Q4 raised ValueError (an "internal error"); 1234-10 and 0001-01 were
    # accepted (0001-01 labelled '1-01', which does not parse back)
    with pytest.raises(UserError, match=r"out of range: the year must be between 1900 and 9998") as info:
        parse_period(bad, TODAY)
    assert info.value.hint


@pytest.mark.parametrize("text", ["1900-01", "1900-Q1", "1900-W01", "9998-12", "9998-Q4"])
def test_periods_at_the_edges_of_the_range_label_and_parse_back(text):
    period = parse_period(text, TODAY)
    assert len(period.label.split("-")[0]) == 4
    assert parse_period(period.label, TODAY) == period
    assert period.previous.end < period.start and period.year_ago.start.year == period.start.year - 1


@pytest.mark.parametrize(
    "text, today",
    [("2030-01", TODAY), ("2026-12", TODAY), ("2026-Q4", date(2026, 9, 30)), ("2026-W49", TODAY)],
)
def test_a_period_that_has_not_started_is_refused(text, today):
    with pytest.raises(UserError, match="has not started yet"):
        check_started(parse_period(text, today), today)


@pytest.mark.parametrize("text", ["2026-11", "2026-Q4", "2026-W48", "2026-10", "last-month"])
def test_the_current_and_closed_periods_are_accepted(text):
    assert check_started(parse_period(text, TODAY), TODAY).start <= TODAY


@pytest.mark.parametrize(
    "bad", ["2026-13-01", "2026-02-30", "27.11.2026", "2026-1-5", "0001-01-01", "yesterday"]
)
def test_bad_run_dates_are_user_errors(bad):
    with pytest.raises(UserError, match=r"--today"):
        parse_day(bad)


def test_a_run_date_reads_back():
    assert parse_day(" 2026-11-27 ") == TODAY
