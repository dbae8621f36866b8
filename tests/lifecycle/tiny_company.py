"""The five-customer company of the hand-computed lifecycle tests (January-March 2026; the hand values are
worked out beside the tests that use them)."""

# customer_id, order_date, amount, status, channel
TINY = [
    ("A", "2026-01-05", 100.0, "completed", "online"),
    ("A", "2026-02-10", 50.0, "completed", "online"),
    ("A", "2026-03-15", 30.0, "completed", "direct"),
    ("B", "2026-01-20", 200.0, "completed", "direct"),
    ("B", "2026-03-02", -50.0, "returned", "direct"),
    ("C", "2026-01-25", 80.0, "cancelled", "partner"),
    ("C", "2026-02-03", 120.0, "completed", "online"),
    ("C", "2026-02-20", 60.0, "completed", "direct"),
    ("D", "2026-02-14", 40.0, "completed", "direct"),
    ("D", "2026-02-14", 10.0, "completed", "online"),
    ("D", "2026-03-30", 40.0, "completed", "online"),
    ("E", "2026-03-01", 70.0, "completed", "online"),
]


def engine_of(orders, customers=None):
    """An embedded engine holding ``orders`` (and ``customers``) as tables, typed as DuckDB reads the frames."""
    import duckdb

    from salesperf.data.engine import embedded

    con = duckdb.connect()
    for name, frame in (("orders", orders), ("customers", customers)):
        if frame is not None:
            con.register(f"{name}_frame", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_frame")
            con.unregister(f"{name}_frame")
    return embedded(con)
