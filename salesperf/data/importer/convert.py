"""Rules on parsed columns (one column of cells to values is :mod:`~.fields`): value maps, and the derived
opportunity status / close dates and order-line statuses."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from salesperf.core.errors import UserError, examples
from salesperf.data.importer.cells import Column, map_uniques
from salesperf.data.importer.columns import Resolved
from salesperf.data.importer.fields import bad_cells
from salesperf.data.importer.mapping_kinds import (
    OPPORTUNITY_STATUSES,
    Kind,
    value_key,
    value_key_or_none,
)
from salesperf.data.importer.summary import SourceSummary

ORDER_STATUSES = {"completed", "returned", "cancelled"}


def to_float(values: pd.Series) -> pd.Series:
    """``pd.to_numeric(values, errors="coerce")``, quicker for object columns of floats and blanks (the
    parsed number columns), which convert with a plain cast."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in (
        "floating",
        "mixed-integer-float",
        "empty",
    ):
        return values.astype(float)
    return pd.to_numeric(values, errors="coerce")


def _is_blank(value: object) -> bool:
    """``None`` or NaN, as pandas ``isna`` has it for a cell."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def apply_values(frame: pd.DataFrame, kind: Kind, file: str, resolved: dict[str, Resolved]) -> None:
    """``values:`` maps on the parsed columns of ``frame`` (n rows), in place, once per distinct value."""
    for fname, vmap in kind.values.items():
        if fname not in frame or fname == "order_status":
            continue
        cells = Column.of(frame[fname].to_numpy(dtype=object))
        table_map = vmap["map"]
        keys = map_uniques(value_key_or_none, cells.uniques)
        mapped = map_uniques(lambda k, m=table_map: m.get(k, _MISSING) if k is not None else None, keys)
        missing = np.array([v is _MISSING for v in mapped], dtype=bool)
        if missing.any():
            rule = vmap["unknown"]
            if rule == "error":
                header = resolved[fname].header if fname in resolved else fname
                unknown = pd.Series(cells.uniques[missing])
                raise UserError(
                    f"{file}: column '{header}' ({fname}): {unknown.nunique()} value(s) the mapping does not "
                    f"know; examples: {examples(bad_cells(cells, missing))}",
                    hint=f"add them under 'values: {fname}: map:' in a mapping file",
                )
            mapped[missing] = cells.uniques[missing] if rule == "keep" else rule
        frame[fname] = mapped[cells.codes]


_MISSING = object()


def opportunity_status(frame: pd.DataFrame, kind: Kind, source: SourceSummary, notes: list[str]) -> None:
    """Status from the CRM's own flags (or status column / stage categories), never from the stage text."""
    if "status" in frame:
        if "status" not in kind.values:
            frame["status"] = frame["status"].map(lambda v: v.casefold() if isinstance(v, str) else v)
        bad = frame["status"].dropna()
        bad = bad[~bad.isin(OPPORTUNITY_STATUSES)]
        if len(bad):
            raise UserError(
                f"{source.file}: status values must map to open/won/lost; got {examples(bad.unique())}",
                hint="fix 'values: status: map:' in the mapping file",
            )
        return
    flags = [f for f in ("won_flag", "lost_flag", "closed_flag") if f in frame]
    if "won_flag" in frame and ("closed_flag" in frame or "lost_flag" in frame):
        won = frame["won_flag"]
        closed = (
            frame["closed_flag"]
            if "closed_flag" in frame
            else pd.Series(None, index=frame.index, dtype=object)
        )
        lost = (
            frame["lost_flag"] if "lost_flag" in frame else pd.Series(None, index=frame.index, dtype=object)
        )

        def status(w, c, lo) -> str | None:
            if w is True:
                return "won"
            if lo is True or (c is True and w is False):
                return "lost"
            if c is False or (lo is False and w is False):
                return "open"
            return None

        frame["status"] = [status(w, c, lo) for w, c, lo in zip(won, closed, lost, strict=True)]
    elif kind.stage_categories and "stage" in frame:
        keys = frame["stage"].map(lambda v: value_key(v) if v is not None else None)
        frame["status"] = keys.map(lambda k: kind.stage_categories.get(k) if k else None)
        unknown = frame.loc[frame["status"].isna() & frame["stage"].notna(), "stage"]
        if len(unknown):
            notes.append(
                f"{source.file}: {len(unknown)} deal(s) left without status: stage(s) "
                f"{examples(unknown.unique())} have no category; list them under 'stage_categories:' in a "
                f"mapping file that extends '{source.preset}'"
            )
    else:
        what = f"only {', '.join(flags)}" if flags else "no won/closed flag or status column"
        notes.append(f"{source.file}: {what}: status left empty (it is never guessed from stage names)")
    frame.drop(columns=[f for f in flags if f in frame], inplace=True)


def route_close_date(frame: pd.DataFrame, kind: Kind) -> None:
    """The CRM's close date is expected while open and actual once closed."""
    status = frame["status"] if "status" in frame else pd.Series(None, index=frame.index, dtype=object)
    closed = status.isin(["won", "lost"])
    if "close_date" in frame and "expected_close_date" not in frame:
        frame["expected_close_date"] = frame["close_date"].where(~closed, None)
    mapped_directly = "closed_at" in frame
    if not mapped_directly:
        frame["closed_at"] = None
    for source_field in kind.closed_at_from:
        if source_field in frame:
            frame["closed_at"] = frame["closed_at"].where(
                frame["closed_at"].notna() | ~closed, frame[source_field]
            )
    if not mapped_directly:
        frame["closed_at"] = frame["closed_at"].where(closed, None)


def order_status(frame: pd.DataFrame, kind: Kind, source: SourceSummary, notes: list[str]) -> None:
    """Returns are negative lines with status 'returned'; cancellations are kept with status 'cancelled'."""
    if "status" in frame:
        status = Column.of(frame["status"].to_numpy(dtype=object))
        if "status" not in kind.values and "order_status" in kind.values:
            vmap = kind.values["order_status"]["map"]
            keys = map_uniques(value_key_or_none, status.uniques)
            unknown = np.array([k is not None and k not in vmap for k in keys], dtype=bool)
            if unknown.any():
                raise UserError(
                    f"{source.file}: order status value(s) the mapping does not know; examples: "
                    f"{examples(bad_cells(status, unknown))}",
                    hint="map them to completed / returned / cancelled under 'values: status: map:'",
                )
            status = Column(status.codes, map_uniques(lambda k: vmap.get(k) if k else None, keys))
            frame["status"] = status.values()
        bad = np.array([not _is_blank(v) and v not in ORDER_STATUSES for v in status.uniques], dtype=bool)
        if bad.any():
            raise UserError(
                f"{source.file}: order status values must map to completed/returned/cancelled; got "
                f"{examples(bad_cells(status, bad))}"
            )
    else:
        frame["status"] = None
    amount = to_float(frame["amount"])
    returned = frame["status"].eq("returned")
    negate = returned & (amount > 0)
    if kind.cancelled_amount == "negate":
        negate |= frame["status"].eq("cancelled") & (amount > 0)
    frame.loc[negate, "amount"] = -amount[negate]
    if "quantity" in frame:
        quantity = to_float(frame["quantity"])
        frame.loc[returned & (quantity > 0), "quantity"] = -quantity[returned & (quantity > 0)]
    frame.loc[frame["status"].isna() & (amount < 0), "status"] = "returned"
    frame.loc[frame["status"].isna() & amount.notna(), "status"] = "completed"
    n_cancelled = int(frame["status"].eq("cancelled").sum())
    if n_cancelled and kind.cancelled_amount == "keep":
        notes.append(
            f"{source.file}: {n_cancelled} cancelled line(s) kept with status 'cancelled' and their exported "
            f"amount; leave them out of revenue (or set 'cancelled_amount: negate' in a mapping)"
        )
