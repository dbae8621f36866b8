"""The canonical tables: names, columns, types and which columns are required.

Only ``orders`` is required. Every other table is optional; analyses declare what they need and say so in the
report when it is absent. Types are the DuckDB types the engine casts to.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, DuckDB type, whether it is required and a one-line meaning."""

    name: str
    type: str
    required: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """One canonical table: its name, key column, columns and the column that dates each row (for
    point-in-time cuts)."""

    name: str
    key: str | None
    columns: tuple[Column, ...]
    date_column: str | None = None
    doc: str = ""
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _cols(*specs: tuple) -> tuple[Column, ...]:
    return tuple(Column(*spec) for spec in specs)


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "orders",
            "order_id",
            _cols(
                ("order_id", "VARCHAR", False, "order number; several lines may share it"),
                ("customer_id", "VARCHAR", True, "buyer"),
                ("order_date", "DATE", True, "date of the order (returns: date of the return)"),
                ("amount", "DOUBLE", True, "net line amount; returns negative (or quantity x unit_price)"),
                ("quantity", "DOUBLE", False, "units on the line"),
                ("unit_price", "DOUBLE", False, "price per unit"),
                ("product_id", "VARCHAR", False, "product sold"),
                ("category", "VARCHAR", False, "product category"),
                ("rep_id", "VARCHAR", False, "selling rep"),
                ("channel", "VARCHAR", False, "sales channel (online, direct, partner, ...)"),
                ("region", "VARCHAR", False, "region of the sale (used before the customer's)"),
                ("currency", "VARCHAR", False, "ISO currency code"),
                ("status", "VARCHAR", False, "completed / returned / cancelled"),
            ),
            date_column="order_date",
            doc="one row per order line; the only required table",
        ),
        Table(
            "customers",
            "customer_id",
            _cols(
                ("customer_id", "VARCHAR", True, "customer key"),
                ("name", "VARCHAR", False, "customer name"),
                ("created_at", "DATE", False, "date the CRM first knew the customer"),
                ("region", "VARCHAR", False, "sales region"),
                ("industry", "VARCHAR", False, "industry"),
                ("size", "VARCHAR", False, "company size band"),
                ("channel", "VARCHAR", False, "acquisition channel"),
                ("owner_rep_id", "VARCHAR", False, "account owner"),
            ),
            date_column="created_at",
        ),
        Table(
            "products",
            "product_id",
            _cols(
                ("product_id", "VARCHAR", True, "product key"),
                ("name", "VARCHAR", False, "product name"),
                ("category", "VARCHAR", False, "category"),
                ("list_price", "DOUBLE", False, "list price"),
            ),
        ),
        Table(
            "reps",
            "rep_id",
            _cols(
                ("rep_id", "VARCHAR", True, "rep key"),
                ("name", "VARCHAR", False, "rep name"),
                ("team", "VARCHAR", False, "team"),
                ("region", "VARCHAR", False, "region"),
                ("manager_id", "VARCHAR", False, "rep_id of the manager"),
                ("hire_date", "DATE", False, "hire date"),
                ("end_date", "DATE", False, "leaving date"),
            ),
        ),
        Table(
            "targets",
            None,
            _cols(
                ("rep_id", "VARCHAR", True, "rep (or team/region key)"),
                ("period", "VARCHAR", True, "period the quota covers, e.g. 2026-10"),
                ("quota", "DOUBLE", True, "revenue target"),
            ),
        ),
        Table(
            "opportunities",
            "opportunity_id",
            _cols(
                ("opportunity_id", "VARCHAR", True, "deal key"),
                ("rep_id", "VARCHAR", True, "owner rep"),
                ("customer_id", "VARCHAR", False, "account"),
                ("created_at", "DATE", True, "creation date"),
                ("expected_close_date", "DATE", False, "expected close date while open"),
                ("closed_at", "DATE", False, "actual close date once closed"),
                ("stage", "VARCHAR", True, "current stage"),
                ("pipeline", "VARCHAR", False, "pipeline / sales process"),
                ("status", "VARCHAR", False, "open / won / lost (from the CRM's flags)"),
                ("amount", "DOUBLE", False, "deal amount (never the weighted amount)"),
                ("currency", "VARCHAR", False, "ISO currency code"),
                ("probability", "DOUBLE", False, "win probability as the CRM states it, 0..1"),
                ("product_id", "VARCHAR", False, "main product"),
                ("source", "VARCHAR", False, "lead source"),
                ("lost_reason", "VARCHAR", False, "reason for loss"),
            ),
            date_column="created_at",
        ),
        Table(
            "opportunity_history",
            None,
            _cols(
                ("opportunity_id", "VARCHAR", True, "deal key"),
                ("stage", "VARCHAR", True, "stage entered"),
                ("entered_at", "DATE", True, "date the stage was entered"),
            ),
            date_column="entered_at",
        ),
        Table(
            "activities",
            "activity_id",
            _cols(
                ("activity_id", "VARCHAR", True, "activity key"),
                ("rep_id", "VARCHAR", True, "rep who did it"),
                ("customer_id", "VARCHAR", False, "customer"),
                ("opportunity_id", "VARCHAR", False, "deal"),
                ("type", "VARCHAR", True, "call / visit / email / meeting ..."),
                ("at", "DATE", True, "date"),
            ),
            date_column="at",
        ),
        Table(
            "training",
            None,
            _cols(
                ("rep_id", "VARCHAR", True, "rep trained"),
                ("program", "VARCHAR", True, "programme name"),
                ("completed_at", "DATE", True, "completion date"),
            ),
            date_column="completed_at",
        ),
        Table(
            "feedback",
            "response_id",
            _cols(
                ("response_id", "VARCHAR", True, "survey response key"),
                ("customer_id", "VARCHAR", True, "respondent"),
                ("responded_at", "DATE", True, "date"),
                ("score", "DOUBLE", True, "0-10 for NPS, 1-5 for CSAT"),
                ("kind", "VARCHAR", True, "nps or csat"),
                ("comment", "VARCHAR", False, "free text"),
                ("rep_id", "VARCHAR", False, "rep concerned"),
            ),
            date_column="responded_at",
        ),
        Table(
            "tickets",
            "ticket_id",
            _cols(
                ("ticket_id", "VARCHAR", True, "ticket key"),
                ("customer_id", "VARCHAR", True, "customer"),
                ("opened_at", "DATE", True, "opening date"),
                ("resolved_at", "DATE", False, "resolution date"),
                ("first_response_at", "DATE", False, "first response date"),
                ("category", "VARCHAR", False, "topic"),
                ("priority", "VARCHAR", False, "low / normal / high / urgent"),
                ("satisfaction", "DOUBLE", False, "post-ticket satisfaction, 1-5"),
                ("agent_id", "VARCHAR", False, "support agent"),
            ),
            date_column="opened_at",
        ),
    ]
}
