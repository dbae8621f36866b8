"""Calibration / holdout check of a BG/NBD fit (FHL 2005, figure 4 and table 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesperf.analyses.lifecycle.clv.bgnbd import BetaGeo
from salesperf.core.errors import UserError, examples


def calibration_holdout(
    betageo: BetaGeo,
    summary: pd.DataFrame,
    max_frequency: int = 7,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
    holdout_col: str = "frequency_holdout",
    duration_col: str = "duration_holdout",
) -> pd.DataFrame:
    """Predicted vs actual holdout repeat purchases by calibration frequency (FHL 2005, figure 4 and table 2).

    Parameters
    ----------
    betageo : BetaGeo
        Model fitted on the calibration columns.
    summary : DataFrame, one row per customer
        Output of :func:`summary_from_orders` / :func:`summary_sql` with ``calibration_end``.
    max_frequency : int
        Last group; it holds every customer with at least this many calibration repeat purchases ("7+").

    Returns
    -------
    DataFrame, one row per frequency group (index ``'0'``, ``'1'``, ..., ``'7+'``) plus a ``'total'`` row
        ``customers, actual, predicted`` (sums over the group), ``actual_mean, predicted_mean`` (per
        customer).
    """
    missing = [
        c for c in (frequency_col, recency_col, T_col, holdout_col, duration_col) if c not in summary.columns
    ]
    if missing:
        raise UserError(
            f"summary: column(s) {', '.join(map(repr, missing))} missing",
            hint="build it with summary_from_orders(..., calibration_end=...)",
        )
    durations = summary[duration_col].unique()
    if len(durations) != 1:
        raise UserError(
            f"summary: {duration_col!r} must be one value for everyone, examples: {examples(durations)}"
        )
    predicted = np.asarray(
        betageo.expected_purchases(
            float(durations[0]), summary[frequency_col], summary[recency_col], summary[T_col]
        )
    )
    frequency = summary[frequency_col].to_numpy()
    groups = np.minimum(frequency, max_frequency).astype(int)
    labels = [str(g) if g < max_frequency else f"{max_frequency}+" for g in groups]
    frame = pd.DataFrame(
        {"group": labels, "actual": summary[holdout_col].to_numpy(float), "predicted": predicted}
    )
    order = [str(g) for g in range(max_frequency)] + [f"{max_frequency}+"]
    table = (
        frame.groupby("group")
        .agg(customers=("actual", "size"), actual=("actual", "sum"), predicted=("predicted", "sum"))
        .reindex(order)
        .fillna(0)
    )
    table.loc["total"] = table.sum()
    table["customers"] = table["customers"].astype(int)
    table["actual_mean"] = table["actual"] / table["customers"].where(table["customers"] > 0)
    table["predicted_mean"] = table["predicted"] / table["customers"].where(table["customers"] > 0)
    table.index.name = "calibration_frequency"
    return table
