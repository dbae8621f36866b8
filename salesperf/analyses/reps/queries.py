"""Engine work of the rep evaluation: one engine-neutral Ibis query per KPI family, aggregated in the engine
(DuckDB, PostgreSQL or Spark alike); only per-rep (per-rep-month) frames come back.

The rules every query follows (the scorecard states them):

* **Windows** (:class:`Windows`): the report period, the *trailing year* (the 12 calendar months ending at the
  period end; 365/366 days for a week) and the *trend* months. Nothing after the period end is read, whatever
  the dataset holds (a deal closed later is open at the end).
* **Bookings**: the counted order lines' amount (every line but cancelled ones, returns netted,
  :func:`salesperf.core.expr.counted_line`) by ``orders.rep_id``; where no order line carries a rep, the
  amount of the won opportunities by ``closed_at`` (:func:`bookings_source`). Lines without a rep are
  *unassigned* (kept as rep NULL, never spread over reps).
* **Deals**: won / lost are the opportunities closed in the window with that status; the cycle is the days
  from ``created_at`` to ``closed_at`` of the won ones; *pipeline created* the amount of those created in the
  window; *open at the end* those created by the period end and not closed by it.
* **New customers**: a customer whose first purchase occasion (company-wide) falls in the window, credited to
  the rep of the largest purchase line of that day (ties: the smallest rep id), so each counts once.
* **Book** of a rep: the customers whose ``customers.owner_rep_id`` is the rep; a customer without an owner
  belongs to the rep with the largest net revenue from them up to the period end (ties: the smallest id).
* **Feedback** concerns ``feedback.rep_id`` where given, else the rep whose book holds the respondent.
* **Teams and regions** are those of the reps table (one row per rep: the team at the period end; the data
  model has no territory history, so a rep who moved counts wholly in the current team).

Besides the scorecard's queries (:func:`scorecard_inputs` runs them), the inputs of the other parts of the
analysis: :func:`closed_deals` (fair ranking, deal-level training effect), :func:`rep_month_panel` (quota
fairness, rep-period training effect), :func:`commission_lines` (payroll), :func:`training_records`.

This module is longer than 400 lines because it holds every engine query of the reps analysis, one per KPI
family, so that the engine tests cover one module and no other module of the package touches the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from salesperf.analyses.lifecycle.history import as_days
from salesperf.analyses.lifecycle.queries import customer_period_revenue_sql
from salesperf.analyses.reps.scorecard import month_labels
from salesperf.core.expr import (
    counted_line,
    line_or_entity,
    money,
    order_key,
    purchase_line,
    with_attributes,
)
from salesperf.core.periods import Period
from salesperf.data.engine import Engine

#: The columns each optional input needs to hold values in (the validated tables carry every canonical
#: column, empty where the source had none).
INPUTS = {
    "order_reps": ("orders", ("rep_id",)),
    "reps": ("reps", ("rep_id",)),
    "teams": ("reps", ("team",)),
    "regions": ("reps", ("region",)),
    "targets": ("targets", ("rep_id", "period", "quota")),
    "opportunities": ("opportunities", ("rep_id", "created_at")),
    "deal_amounts": ("opportunities", ("amount",)),
    "activities": ("activities", ("rep_id", "type", "at")),
    "owners": ("customers", ("owner_rep_id",)),
    "feedback": ("feedback", ("customer_id", "score", "kind")),
}
BOOKINGS_COLUMNS = ("rep_id", "month", "in_period", "in_year", "bookings", "orders", "returns")


@dataclass(frozen=True)
class Windows:
    """The windows of one scorecard.

    Attributes
    ----------
    period : Period
        The report period.
    year_start : datetime.date
        First day of the trailing year (it ends at ``period.end``).
    trend_start : datetime.date
        First day of the first trend month (the trend's last month is that of ``period.end``).
    following : Period
        The period after the report period (its quota is the base of the coverage).
    """

    period: Period
    year_start: date
    trend_start: date
    following: Period

    @classmethod
    def of(cls, period: Period, trend_months: int = 6) -> Windows:
        """The windows of ``period`` with ``trend_months`` trend months."""
        end = pd.Timestamp(period.end)
        year_start = (end + pd.Timedelta(days=1) - pd.DateOffset(months=12)).date()
        trend_start = (end.to_period("M") - (trend_months - 1)).start_time.date()
        following = period_after(period)
        return cls(period, year_start, trend_start, following)

    @property
    def end(self) -> date:
        return self.period.end

    @property
    def first(self) -> date:
        """The first day any window reads."""
        return min(self.period.start, self.year_start, self.trend_start)


def period_after(period: Period) -> Period:
    """The period of the same grain that starts the day after ``period`` ends."""
    return period.next


def present(engine: Engine) -> dict[str, bool]:
    """Which optional inputs (:data:`INPUTS`) the dataset holds, from one aggregate query per table."""
    found: dict[str, bool] = {}
    for table in sorted({t for t, _ in INPUTS.values()}):
        keys = {k: cols for k, (t, cols) in INPUTS.items() if t == table}
        if not engine.has_table(table):
            found.update(dict.fromkeys(keys, False))
            continue
        rows = engine.table(table)
        columns = sorted({c for cols in keys.values() for c in cols if c in rows.columns})
        counts = (
            engine.fetch(rows.aggregate(**{c: rows[c].count() for c in columns})).iloc[0] if columns else {}
        )
        for key, cols in keys.items():
            found[key] = all(c in rows.columns and int(counts[c]) > 0 for c in cols)
    return found


def _flags(day: ir.DateValue, w: Windows) -> dict[str, ir.Value]:
    return {
        "month": day.truncate("M").cast("date"),
        "in_period": day.between(ibis.date(w.period.start), ibis.date(w.end)),
        "in_year": day >= ibis.date(w.year_start),
    }


def _in_reach(day: ir.DateValue, w: Windows) -> ir.BooleanValue:
    return day.between(ibis.date(w.first), ibis.date(w.end))


def bookings_source(found: dict[str, bool]) -> str | None:
    """``orders`` when order lines carry a rep, else ``won_opportunities`` when there are deals with amounts,
    else None (no rep can be credited)."""
    if found.get("order_reps"):
        return "orders"
    if found.get("opportunities") and found.get("deal_amounts"):
        return "won_opportunities"
    return None


def bookings_by_month(engine: Engine, w: Windows, source: str = "orders") -> pd.DataFrame:
    """Bookings per rep and month (one query).

    Parameters
    ----------
    source : {'orders', 'won_opportunities'}
        See :func:`bookings_source`.

    Returns
    -------
    DataFrame
        One row per (rep_id, month, in_period, in_year) with activity from :attr:`Windows.first` to the
        period end: ``rep_id`` (str; None for unassigned lines), ``month`` (Timestamp, first day),
        ``in_period``, ``in_year`` (bool), ``bookings`` (net amount, cents), ``orders`` (distinct orders with
        a purchase line; won deals for opportunities; an order lies on one day, so counts add across rows),
        ``returns`` (sum of the negative lines, <= 0).
    """
    if source == "orders":
        orders = engine.table("orders")
        day = orders.order_date.cast("date")
        rows = orders.filter(counted_line(orders), _in_reach(day, w))
        keys = {"rep_id": rows.rep_id.cast("string"), **_flags(rows.order_date.cast("date"), w)}
        amount = rows.amount.cast("float64")
        frame = engine.fetch(
            rows.group_by(**keys).aggregate(
                bookings=money(amount.sum()),
                orders=order_key(rows).nunique(where=purchase_line(rows)),
                returns=money(amount.sum(where=amount < 0)).fill_null(0.0),
            )
        )
    else:
        deals = engine.table("opportunities")
        closed = deals.closed_at.cast("date")
        won = deals.filter(deals.status.lower() == "won", _in_reach(closed, w), deals.amount.notnull())
        keys = {"rep_id": won.rep_id.cast("string"), **_flags(won.closed_at.cast("date"), w)}
        frame = engine.fetch(
            won.group_by(**keys).aggregate(
                bookings=money(won.amount.cast("float64").sum()), orders=won.count()
            )
        )
        frame["returns"] = 0.0
    return _typed_months(frame, ["bookings", "returns"], ["orders"])


def _typed_months(frame: pd.DataFrame, floats: list[str], ints: list[str]) -> pd.DataFrame:
    frame["month"] = as_days(frame["month"])
    frame["rep_id"] = frame["rep_id"].astype(object).where(frame["rep_id"].notna(), None)
    for column in floats:
        frame[column] = frame[column].astype(float)
    for column in ints:
        frame[column] = frame[column].astype("int64")
    frame[["in_period", "in_year"]] = frame[["in_period", "in_year"]].astype(bool)
    return frame.sort_values(
        ["rep_id", "month", "in_period", "in_year"], ignore_index=True, na_position="last"
    )


def quotas_by_month(engine: Engine, w: Windows) -> pd.DataFrame:
    """Quotas of the months the scorecard reads (those of the trailing year, the trend and the following
    period), summed per rep and month.

    Returns
    -------
    DataFrame
        One row per (rep_id, month): ``rep_id`` (str), ``month`` (``YYYY-MM``), ``quota``. Targets whose
        period is not a month label (a team key, a quarter) are not read.
    """
    months = month_labels(w.first, w.following.end)
    targets = engine.table("targets")
    label = targets.period.cast("string")
    rows = targets.filter(label.isin(months), targets.rep_id.notnull(), targets.quota.notnull())
    frame = engine.fetch(
        rows.group_by(rep_id=rows.rep_id.cast("string"), month=label).aggregate(
            quota=money(rows.quota.cast("float64").sum())
        )
    )
    frame["quota"] = frame["quota"].astype(float)
    return frame.sort_values(["rep_id", "month"], ignore_index=True)


def _median(values: ir.NumericValue, keep: ir.BooleanValue) -> ir.NumericValue:
    # not median(where=...): Ibis 12 compiles it into Spark's percentage argument; NULLs are skipped alike
    return ibis.ifelse(keep, values, ibis.null("float64")).median()


def deals(engine: Engine, w: Windows) -> pd.DataFrame:
    """Deal KPIs per rep for the period and the trailing year, and the open pipeline at the period end (one
    query).

    Returns
    -------
    DataFrame
        One row per rep with an opportunity created by the period end: ``rep_id`` and, for each window
        ``<w>`` in (period, year): ``won_<w>``, ``lost_<w>`` (deals closed in the window), ``won_amount_<w>``,
        ``cycle_days_<w>`` (sum of the won deals' days from creation to close), ``cycle_median_days_<w>``
        (median of them; NaN without a won deal), ``created_<w>``, ``created_amount_<w>`` (pipeline created);
        and ``open_deals``, ``open_amount`` (open at the period end).
    """
    opps = engine.table("opportunities")
    created = opps.created_at.cast("date")
    opps = opps.filter(created <= ibis.date(w.end), opps.rep_id.notnull())
    created, closed = opps.created_at.cast("date"), opps.closed_at.cast("date")
    status = opps.status.lower()
    amount = opps.amount.cast("float64").fill_null(0.0)
    closed_by_end = closed.notnull() & (closed <= ibis.date(w.end))
    # open at the end: not closed by then; a won or lost deal without a close date is closed, when unknown
    is_open = ~closed_by_end & ~(status.isin(["won", "lost"]) & closed.isnull()).fill_null(False)
    days = (closed.epoch_days() - created.epoch_days()).cast("float64")
    columns = {}
    for name, start in (("period", w.period.start), ("year", w.year_start)):
        closed_in = closed_by_end & (closed >= ibis.date(start))
        won = closed_in & (status == "won")
        created_in = created >= ibis.date(start)
        columns |= {
            f"won_{name}": won.sum().cast("int64"),
            f"lost_{name}": (closed_in & (status == "lost")).sum().cast("int64"),
            f"won_amount_{name}": money(amount.sum(where=won)).fill_null(0.0),
            f"cycle_days_{name}": days.sum(where=won).fill_null(0.0),
            f"cycle_median_days_{name}": _median(days, won),
            f"created_{name}": created_in.sum().cast("int64"),
            f"created_amount_{name}": money(amount.sum(where=created_in)).fill_null(0.0),
        }
    columns |= {
        "open_deals": is_open.sum().cast("int64"),
        "open_amount": money(amount.sum(where=is_open)).fill_null(0.0),
    }
    frame = engine.fetch(opps.group_by(rep_id=opps.rep_id.cast("string")).aggregate(**columns))
    for column in frame.columns[1:]:
        frame[column] = frame[column].astype("int64" if frame[column].dtype.kind in "iu" else float)
    return frame.sort_values("rep_id", ignore_index=True)


def activity_counts(engine: Engine, w: Windows) -> pd.DataFrame:
    """Activities per rep and type in the period and the trailing year (one query).

    Returns
    -------
    DataFrame
        One row per (rep_id, type) with an activity in the trailing year: ``rep_id``, ``type``
        (lower-cased), ``period``, ``year`` (counts).
    """
    acts = engine.table("activities")
    day = acts.at.cast("date")
    rows = acts.filter(day.between(ibis.date(w.year_start), ibis.date(w.end)), acts.rep_id.notnull())
    day = rows.at.cast("date")
    frame = engine.fetch(
        rows.group_by(rep_id=rows.rep_id.cast("string"), type=rows.type.cast("string").lower()).aggregate(
            period=(day >= ibis.date(w.period.start)).sum().cast("int64"), year=rows.count()
        )
    )
    frame[["period", "year"]] = frame[["period", "year"]].astype("int64")
    return frame.sort_values(["rep_id", "type"], ignore_index=True)


def new_customers(engine: Engine, w: Windows) -> pd.DataFrame:
    """Customers won per rep: first purchase occasion (company-wide) in a scorecard month, credited to the rep
    of that day's largest purchase line (ties: the smallest rep id). One query.

    Returns
    -------
    DataFrame
        One row per (rep_id, month, in_period, in_year): ``rep_id`` (None: first bought without a rep),
        ``month``, ``in_period``, ``in_year``, ``customers``.
    """
    orders = engine.table("orders")
    day = orders.order_date.cast("date")
    lines = orders.filter(purchase_line(orders), day <= ibis.date(w.end), orders.customer_id.notnull())
    lines = lines.select(
        customer_id=lines.customer_id.cast("string"),
        day=lines.order_date.cast("date"),
        rep_id=lines.rep_id.cast("string"),
        amount=lines.amount.cast("float64"),
    )
    lines = lines.mutate(first=lines.day.min().over(group_by=lines.customer_id))
    first = lines.filter(lines.day == lines.first, lines.first >= ibis.date(w.first))
    first = first.mutate(top=first.amount.max().over(group_by=first.customer_id))
    first = first.filter(first.amount == first.top)
    won = first.group_by("customer_id").aggregate(rep_id=first.rep_id.min(), day=first.day.min())
    frame = engine.fetch(
        won.group_by(rep_id=won.rep_id, **_flags(won.day, w)).aggregate(customers=won.count())
    )
    return _typed_months(frame, [], ["customers"])


def book(engine: Engine, w: Windows, owners: bool) -> ir.Table:
    """The book as an expression: one row per customer with a rep (``customer_id``, ``rep_id``): the owner
    where ``owners`` (the customers table holds owner_rep_id) and the customer has one, else the rep with the
    largest net revenue from the customer up to the period end (ties: the smallest id)."""
    orders = engine.table("orders")
    day = orders.order_date.cast("date")
    lines = orders.filter(
        counted_line(orders), day <= ibis.date(w.end), orders.rep_id.notnull(), orders.customer_id.notnull()
    )
    sold = lines.group_by(customer_id=lines.customer_id.cast("string"), rep_id=lines.rep_id.cast("string"))
    sold = sold.aggregate(revenue=lines.amount.cast("float64").sum())
    rank = ibis.window(group_by=sold.customer_id, order_by=[ibis.desc(sold.revenue), sold.rep_id])
    sold = sold.mutate(n=ibis.row_number().over(rank))
    by_orders = sold.filter(sold.n == 0).select("customer_id", "rep_id")
    if not owners:
        return by_orders
    customers = engine.table("customers")
    owned = customers.filter(customers.owner_rep_id.notnull(), customers.customer_id.notnull())
    owned = owned.group_by(customer_id=owned.customer_id.cast("string")).aggregate(
        owner=owned.owner_rep_id.cast("string").min()
    )
    joined = by_orders.outer_join(owned, "customer_id")
    joined = joined.select(
        customer_id=joined.customer_id.fill_null(joined.customer_id_right),
        rep_id=joined.owner.fill_null(joined.rep_id),
    )
    return joined


def book_revenue(engine: Engine, w: Windows, owners: bool) -> pd.DataFrame:
    """Each booked customer's net revenue in the 12 months up to the period end and the 12 before, with the
    rep of the book: the lifecycle report's revenue windows
    (:func:`salesperf.analyses.lifecycle.queries.customer_period_revenue_sql`), joined to :func:`book`.

    Returns
    -------
    DataFrame
        One row per customer with a purchase occasion and a rep: ``customer_id``, ``rep_id``,
        ``revenue_base``, ``revenue_now`` (the input of
        :func:`salesperf.analyses.lifecycle.revenue_retention.revenue_retention`).
    """
    owners_of = engine.fetch(book(engine, w, owners))
    windows = customer_period_revenue_sql(engine, w.end, 12)
    frame = windows.merge(owners_of, on="customer_id", how="inner")
    return frame[["customer_id", "rep_id", "revenue_base", "revenue_now"]].sort_values(
        "customer_id", ignore_index=True
    )


def satisfaction(engine: Engine, w: Windows, owners: bool, has_order_reps: bool) -> pd.DataFrame:
    """Survey responses per rep and kind in the period and the trailing year (one query).

    Returns
    -------
    DataFrame
        One row per (rep_id, kind) with a response in the trailing year: ``rep_id``, ``kind`` (lower-cased),
        and for ``<w>`` in (period, year): ``responses_<w>``, ``score_sum_<w>``, ``promoters_<w>`` (score >=
        9), ``detractors_<w>`` (score <= 6); the last two mean something for NPS only.
    """
    rows = engine.table("feedback")
    day = rows.responded_at.cast("date")
    rows = rows.filter(day.between(ibis.date(w.year_start), ibis.date(w.end)), rows.score.notnull())
    rows = rows.select(
        customer_id=rows.customer_id.cast("string"),
        given=rows.rep_id.cast("string"),
        kind=rows.kind.cast("string").lower(),
        score=rows.score.cast("float64"),
        day=rows.responded_at.cast("date"),
    )
    if owners or has_order_reps:
        owned = book(engine, w, owners).rename(owner="rep_id")
        rows = rows.left_join(owned, "customer_id")
        rep = rows.given.fill_null(rows.owner)
    else:
        rep = rows.given
    rows = rows.mutate(rep_id=rep).filter(ibis._.rep_id.notnull())
    columns = {}
    for name, start in (("period", w.period.start), ("year", w.year_start)):
        inside = rows.day >= ibis.date(start)
        columns |= {
            f"responses_{name}": inside.sum().cast("int64"),
            f"score_sum_{name}": rows.score.sum(where=inside).fill_null(0.0),
            f"promoters_{name}": (inside & (rows.score >= 9)).sum().cast("int64"),
            f"detractors_{name}": (inside & (rows.score <= 6)).sum().cast("int64"),
        }
    frame = engine.fetch(rows.group_by("rep_id", "kind").aggregate(**columns))
    for column in frame.columns[2:]:
        frame[column] = frame[column].astype(float if "score" in column else "int64")
    return frame.sort_values(["rep_id", "kind"], ignore_index=True)


def rep_directory(engine: Engine) -> pd.DataFrame:
    """The reps table, one row per rep: ``rep_id``, ``name``, ``team``, ``region``, ``manager_id``,
    ``hire_date``, ``end_date`` (the smallest value where a rep id repeats)."""
    reps = engine.table("reps")
    columns = ("name", "team", "region", "manager_id", "hire_date", "end_date")
    rows = reps.filter(reps.rep_id.notnull())
    frame = engine.fetch(
        rows.group_by(rep_id=rows.rep_id.cast("string")).aggregate(
            **{c: rows[c].min() for c in columns if c in rows.columns}
        )
    )
    frame = frame.reindex(columns=["rep_id", *columns])
    for column in ("hire_date", "end_date"):
        frame[column] = as_days(frame[column])
    return frame.sort_values("rep_id", ignore_index=True)


def _customer_attributes(engine: Engine, rows: ir.Table, columns: dict[str, str]) -> ir.Table:
    """``rows`` (with ``customer_id``) with the customers' columns ``columns`` (customers column → name)
    joined, NULL where the dataset has no customers table or column."""
    customers = engine.table("customers") if engine.has_table("customers") else None
    held = [c for c in columns if customers is not None and c in customers.columns]
    if held:
        rows = with_attributes(rows, customers, "customer_id", held)
    return rows.mutate(
        **{
            name: rows[f"_{c}"].cast("string") if c in held else ibis.null("string")
            for c, name in columns.items()
        }
    )


def closed_deals(engine: Engine, end: date, start: date | None = None) -> pd.DataFrame:
    """The opportunities closed (won or lost) by ``end`` (and on or after ``start``), one row each: the input
    of the fair ranking and of the deal-level training estimate (one query).

    Returns
    -------
    DataFrame
        One row per closed deal, sorted by ``opportunity_id``: ``opportunity_id``, ``rep_id``,
        ``customer_id``, ``created_at``, ``closed_at`` (datetimes), ``won`` (bool), ``amount`` (NaN when
        unknown), ``source``, ``region`` (the customer's), ``segment`` (the customer's size band, else its
        industry); None where the data have no value.
    """
    opps = engine.table("opportunities")
    closed, status = opps.closed_at.cast("date"), opps.status.lower()
    keep = [closed <= ibis.date(end), status.isin(["won", "lost"]), opps.rep_id.notnull()]
    if start is not None:
        keep.append(closed >= ibis.date(start))
    rows = opps.filter(*keep)
    rows = rows.mutate(customer_id=rows.customer_id.cast("string"))
    rows = _customer_attributes(
        engine, rows, {"region": "region", "size": "_size_band", "industry": "_trade"}
    )
    frame = engine.fetch(
        rows.select(
            opportunity_id=rows.opportunity_id.cast("string"),
            rep_id=rows.rep_id.cast("string"),
            customer_id=rows.customer_id,
            created_at=rows.created_at.cast("date"),
            closed_at=rows.closed_at.cast("date"),
            won=rows.status.lower() == "won",
            amount=rows.amount.cast("float64"),
            source=rows.source.cast("string") if "source" in rows.columns else ibis.null("string"),
            region=rows.region,
            segment=rows._size_band.fill_null(rows._trade),
        )
    )
    for column in ("created_at", "closed_at"):
        frame[column] = as_days(frame[column])
    frame["won"] = frame["won"].astype(bool)
    frame["amount"] = frame["amount"].astype(float)
    return frame.sort_values("opportunity_id", ignore_index=True)


def rep_month_panel(engine: Engine, start: date, end: date) -> pd.DataFrame:
    """Per rep and month from ``start`` to ``end``: bookings, and the deals created that month (two queries:
    the order lines and the opportunities, each aggregated per rep and month).

    Returns
    -------
    DataFrame
        One row per (rep_id, period) with an order line or a deal created, sorted: ``rep_id``, ``period``
        (``YYYY-MM``), ``bookings`` (net amount of the counted lines), ``created`` (deals created),
        ``pipeline_created`` (their amount), ``deals`` (of them, closed won or lost by ``end``), ``wins``
        (won by ``end``); 0 where the rep had none.
    """
    orders = engine.table("orders")
    day = orders.order_date.cast("date")
    lines = orders.filter(
        counted_line(orders), orders.rep_id.notnull(), day.between(ibis.date(start), ibis.date(end))
    )
    month = lines.order_date.cast("date").truncate("M").cast("date")
    sold = engine.fetch(
        lines.group_by(rep_id=lines.rep_id.cast("string"), month=month).aggregate(
            bookings=money(lines.amount.cast("float64").sum())
        )
    )
    parts = [sold]
    if engine.has_table("opportunities"):
        opps = engine.table("opportunities")
        created = opps.created_at.cast("date")
        opps = opps.filter(opps.rep_id.notnull(), created.between(ibis.date(start), ibis.date(end)))
        closed = opps.closed_at.cast("date")
        done = closed.notnull() & (closed <= ibis.date(end))
        status = opps.status.lower()
        parts.append(
            engine.fetch(
                opps.group_by(
                    rep_id=opps.rep_id.cast("string"),
                    month=opps.created_at.cast("date").truncate("M").cast("date"),
                ).aggregate(
                    created=opps.count(),
                    pipeline_created=money(opps.amount.cast("float64").sum()).fill_null(0.0),
                    deals=(done & status.isin(["won", "lost"])).sum().cast("int64"),
                    wins=(done & (status == "won")).sum().cast("int64"),
                )
            )
        )
    panel = parts[0]
    for part in parts[1:]:
        panel = panel.merge(part, on=["rep_id", "month"], how="outer")
    panel = panel.reindex(
        columns=["rep_id", "month", "bookings", "created", "pipeline_created", "deals", "wins"]
    )
    panel = panel.fillna({c: 0 for c in panel.columns[2:]})
    panel["period"] = as_days(panel["month"]).dt.strftime("%Y-%m")
    for column in ("created", "deals", "wins"):
        panel[column] = panel[column].astype("int64")
    columns = ["rep_id", "period", "bookings", "created", "pipeline_created", "deals", "wins"]
    return panel[columns].sort_values(["rep_id", "period"], ignore_index=True)


def commission_lines(engine: Engine, start: date, end: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a commission plan pays on, from ``start`` to ``end`` (two queries over the counted lines with a
    rep; category: the line's, else its product's).

    Returns
    -------
    bookings : DataFrame
        One row per (rep_id, period, category): ``amount`` of the positive lines (``period`` ``YYYY-MM``).
    returns : DataFrame
        One row per (rep_id, period, order_period, category): ``amount`` (negative) of the negative lines of
        ``period``; ``order_period`` the month of the first purchase line of the same order (its order_id),
        the return's own month when the order is unknown.
    """
    orders = engine.table("orders")
    if engine.has_table("products") and "product_id" in orders.columns:
        orders = with_attributes(orders, engine.table("products"), "product_id", ["category"])
    category = (
        line_or_entity(orders, "category")
        if "category" in orders.columns or "_category" in orders.columns
        else ibis.null("string")
    )
    rows = orders.filter(
        counted_line(orders), orders.rep_id.notnull(), orders.order_date.cast("date") <= ibis.date(end)
    )
    rows = rows.mutate(
        rep_id=rows.rep_id.cast("string"),
        month=rows.order_date.cast("date").truncate("M").cast("date"),
        key=order_key(rows),
        category=category.cast("string"),
        amount=rows.amount.cast("float64"),
        bought=purchase_line(rows),
    )
    rows = rows.mutate(ordered=rows.month.min(where=rows.bought).over(group_by=rows.key))
    inside = rows.filter(rows.order_date.cast("date") >= ibis.date(start))
    sold = inside.filter(inside.amount > 0)
    bookings = engine.fetch(
        sold.group_by("rep_id", "month", "category").aggregate(amount=money(sold.amount.sum()))
    )
    back = inside.filter(inside.amount < 0)
    returns = engine.fetch(
        back.group_by(
            "rep_id", "month", "category", order_month=back.ordered.fill_null(back.month)
        ).aggregate(amount=money(back.amount.sum()))
    )
    bookings["period"] = as_days(bookings["month"]).dt.strftime("%Y-%m")
    returns["period"] = as_days(returns["month"]).dt.strftime("%Y-%m")
    returns["order_period"] = as_days(returns["order_month"]).dt.strftime("%Y-%m")
    bookings = bookings[["rep_id", "period", "category", "amount"]]
    returns = returns[["rep_id", "period", "order_period", "category", "amount"]]
    return (
        bookings.sort_values(["rep_id", "period", "category"], ignore_index=True, na_position="last"),
        returns.sort_values(
            ["rep_id", "period", "order_period", "category"], ignore_index=True, na_position="last"
        ),
    )


def training_records(engine: Engine, end: date) -> pd.DataFrame:
    """The training table up to ``end``: one row per completion, ``rep_id``, ``program``, ``completed_at``
    (datetime), sorted by rep and date."""
    rows = engine.table("training")
    rows = rows.filter(rows.completed_at.cast("date") <= ibis.date(end), rows.rep_id.notnull())
    frame = engine.fetch(
        rows.select(
            rep_id=rows.rep_id.cast("string"),
            program=rows.program.cast("string"),
            completed_at=rows.completed_at.cast("date"),
        )
    )
    frame["completed_at"] = as_days(frame["completed_at"])
    return frame.sort_values(["rep_id", "completed_at", "program"], ignore_index=True)


@dataclass
class ScorecardInputs:
    """What the scorecard reads, fetched by :func:`scorecard_inputs`; a frame is None when its data are
    absent, and ``missing`` says why (KPI family → reason key: ``no_targets``, ``no_opportunities``,
    ``no_deal_amounts``, ``no_activities``, ``no_feedback``, ``no_book``, ``no_rep_table``, ``no_teams``,
    ``no_regions``, ``no_reps``, ``weekly_period``)."""

    windows: Windows
    found: dict
    bookings_source: str | None
    bookings: pd.DataFrame | None = None
    quotas: pd.DataFrame | None = None
    deals: pd.DataFrame | None = None
    activities: pd.DataFrame | None = None
    new_customers: pd.DataFrame | None = None
    book: pd.DataFrame | None = None
    satisfaction: pd.DataFrame | None = None
    reps: pd.DataFrame | None = None
    missing: dict = field(default_factory=dict)


def scorecard_inputs(engine: Engine, period: Period, trend_months: int = 6) -> ScorecardInputs:
    """Run every query the scorecard needs (about nine, each aggregated in the engine), skipping those whose
    data are absent and saying why in ``missing``."""
    w = Windows.of(period, trend_months)
    found = present(engine)
    source = bookings_source(found)
    out = ScorecardInputs(w, found, source)
    if source is None:
        out.missing["bookings"] = "no_reps"
        return out
    out.bookings = bookings_by_month(engine, w, source)
    out.new_customers = new_customers(engine, w) if found["order_reps"] else None
    _skip(out, not found["order_reps"], "no_rep_on_orders", "new_customers")
    if found["targets"] and period.grain != "week":
        out.quotas = quotas_by_month(engine, w)
    _skip(out, not found["targets"], "no_targets", "attainment", "coverage")
    _skip(out, period.grain == "week" and found["targets"], "weekly_period", "attainment", "coverage")
    if found["opportunities"]:
        out.deals = deals(engine, w)
    _skip(
        out,
        not found["opportunities"],
        "no_opportunities",
        "win_rate",
        "deal_size",
        "cycle",
        "pipeline",
        "coverage",
    )
    _skip(
        out,
        found["opportunities"] and not found["deal_amounts"],
        "no_deal_amounts",
        "deal_size",
        "pipeline",
        "coverage",
    )
    out.activities = activity_counts(engine, w) if found["activities"] else None
    _skip(out, not found["activities"], "no_activities", "activities")
    has_book = found["owners"] or found["order_reps"]
    out.book = book_revenue(engine, w, found["owners"]) if has_book else None
    _skip(out, not has_book, "no_book", "retention")
    if found["feedback"]:
        out.satisfaction = satisfaction(engine, w, found["owners"], found["order_reps"])
    _skip(out, not found["feedback"], "no_feedback", "satisfaction")
    out.reps = rep_directory(engine) if found["reps"] else None
    _skip(out, not found["reps"], "no_rep_table", "rep_names")
    _skip(out, not found["teams"], "no_teams", "team")
    _skip(out, not found["regions"], "no_regions", "region")
    return out


def _skip(out: ScorecardInputs, absent: bool, reason: str, *kpis: str) -> None:
    """Record ``reason`` for each of ``kpis`` that has none yet, when ``absent``."""
    if absent:
        for kpi in kpis:
            out.missing.setdefault(kpi, reason)
