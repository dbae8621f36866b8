"""The duplicate rule of validation (docs/import.md, "Time of day and the duplicate rule"): two rows are the same row
only when every column is identical, a date's time of day included; the analyses still see the day."""

import pandas as pd

from salesperf.data.dataset import open_dataset

HEADER = ["order_id", "customer_id", "order_date", "amount"]


def _orders(folder, lines) -> None:
    pd.DataFrame(lines, columns=HEADER).to_csv(folder / "orders.csv", index=False)


def test_identical_lines_at_two_times_of_one_day_are_two_lines(tmp_path):
    _orders(
        tmp_path,
        [
            ("536365", "17850", "2010-12-01 08:26:00", "15.3"),
            ("536365", "17850", "2010-12-01 14:02:00", "15.3"),
        ],
    )
    ds = open_dataset(tmp_path, "2010-12", today="2011-01-15")
    q = ds.quality.get("orders")
    assert (q.rows_read, q.rows_used, q.excluded) == (2, 2, {})
    days = ds.sql("SELECT order_date, count(*) AS n, sum(amount) AS s FROM orders GROUP BY 1")
    assert days["order_date"].tolist() == [pd.Timestamp("2010-12-01")]  # the analyses keep a DATE
    assert (int(days["n"].iloc[0]), float(days["s"].iloc[0])) == (2, 30.6)
    assert str(ds.sql("SELECT typeof(order_date) AS t FROM orders LIMIT 1")["t"].iloc[0]) == "DATE"


def test_identical_lines_at_the_same_time_keep_one_and_count_the_other(tmp_path):
    _orders(
        tmp_path,
        [
            ("536365", "17850", "2010-12-01 08:26:00", "15.3"),
            ("536365", "17850", "2010-12-01 08:26:00", "15.3"),
            ("536365", "17850", "2010-12-01 14:02:00", "15.3"),
        ],
    )
    q = open_dataset(tmp_path, "2010-12", today="2011-01-15").quality.get("orders")
    assert (q.rows_read, q.rows_used, q.excluded) == (3, 2, {"duplicate row": 1})
    assert q.examples["duplicate row"] == "'536365'"


def test_a_date_without_time_and_the_same_date_at_midnight_are_the_same_value(tmp_path):
    _orders(tmp_path, [("1", "C1", "2010-12-01", "5"), ("1", "C1", "2010-12-01 00:00:00", "5")])
    q = open_dataset(tmp_path, "2010-12", today="2011-01-15").quality.get("orders")
    assert (q.rows_used, q.excluded) == (1, {"duplicate row": 1})
