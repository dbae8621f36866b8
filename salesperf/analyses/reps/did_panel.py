"""Training effect on rep-period KPIs: Callaway & Sant'Anna (2021) group-time effects.

Not-yet-treated and never-treated reps are the controls, the base period is ``g - 1``, and the group-time
effects are aggregated with treated-rep weights; standard errors come from the influence function, clustered
by rep (docs/reps-methods.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesperf.analyses.reps.did import (
    EVENT_COLUMNS,
    OVERALL_COLUMNS,
    PRETREND_COLUMNS,
    TrainingImpact,
    effect_summary,
    month_index,
    timing,
    wald,
)


def panel_did(
    panel: pd.DataFrame,
    training: pd.DataFrame,
    *,
    kpis: dict | None = None,
    program: str | None = None,
    months_per_period: int = 3,
    leads: int = 3,
    max_event: int = 8,
    level: float = 0.95,
) -> TrainingImpact:
    """Callaway-Sant'Anna group-time effects of training on rep-period KPIs, not-yet-treated controls.

    Parameters
    ----------
    panel : pandas.DataFrame
        One row per (rep, month) the rep was active: ``rep_id``, ``period`` (``YYYY-MM``) and the columns the
        ``kpis`` name (summable counts or amounts, e.g. ``deals`` and ``wins`` of the deals created that month
        that have closed, ``bookings``; 0 in an active month without any). Absent rows are not observed.
    training : pandas.DataFrame
        ``rep_id``, ``completed_at`` (``program`` when ``program`` is given).
    kpis : dict, optional
        KPI name -> ``(numerator column, denominator column or None)``; summed over the months of a period,
        then divided (a period with a zero denominator is not observed). Default: ``win_rate`` =
        ``wins / deals`` and ``bookings`` = ``bookings`` (the pairs whose columns are present).
    program, months_per_period, leads, max_event, level
        As in :func:`deal_did`.

    Returns
    -------
    TrainingImpact
        One overall row, event-time rows and one pre-trend row per KPI; ``n`` is rep-periods (overall) or
        treated reps (event time).
    """
    if kpis is None:
        default = {"win_rate": ("wins", "deals"), "bookings": ("bookings", None)}
        kpis = {k: v for k, v in default.items() if all(c is None or c in panel.columns for c in v)}
    months = month_index(panel["period"])
    period, cohort = timing(panel["rep_id"], months, training, program, months_per_period)
    columns = sorted({c for pair in kpis.values() for c in pair if c is not None})
    cells = (
        pd.DataFrame({"rep": panel["rep_id"].astype(str).to_numpy(), "period": period, "cohort": cohort})
        .join(panel[columns].reset_index(drop=True).astype(float))
        .groupby(["rep", "period", "cohort"], as_index=False)[columns]
        .sum()
    )
    cells = cells[cells["cohort"] != -2]
    overall, events, pretrends = [], [], []
    for kpi, (numerator, denominator) in kpis.items():
        value = cells[numerator] / cells[denominator] if denominator else cells[numerator]
        value = value.where(np.isfinite(value))
        wide = cells.assign(y=value).pivot(index="rep", columns="period", values="y")
        wide = wide.reindex(columns=range(int(period.max()) + 1))  # column t is period t, gaps included
        group = cells.groupby("rep")["cohort"].first().reindex(wide.index).to_numpy()
        o, e, p = _callaway_santanna(kpi, wide.to_numpy(), group, leads, max_event, level)
        overall.append({**o, "n": int(value.notna().sum())})
        events += e
        pretrends.append(p)
    return TrainingImpact(
        pd.DataFrame(overall, columns=OVERALL_COLUMNS),
        pd.DataFrame(events, columns=EVENT_COLUMNS),
        pd.DataFrame(pretrends, columns=PRETREND_COLUMNS),
        level,
    )


def _group_time_effects(y: np.ndarray, group: np.ndarray, leads: int, max_event: int) -> list[dict]:
    """ATT(g, t) with base period g - 1 and not-yet-treated controls, one dict per estimable (g, t).

    Each holds ``event`` (capped at ``max_event``), ``effect``, ``treated`` (count), ``is_treated``, ``gap``
    (per rep: a treated rep's change minus the controls' mean change, 0 elsewhere) and ``control`` (the
    controls' influence).
    """
    first = np.where(group >= 0, group, np.inf)
    out = []
    for g in sorted(set(group[group > 0])):
        base = g - 1
        for t in range(max(0, g - leads), y.shape[1]):
            seen = ~np.isnan(y[:, t]) & ~np.isnan(y[:, base])
            treated = seen & (first == g)
            control = seen & (first > max(t, base)) & (first != g)
            if t == base or not treated.any() or not control.any():
                continue
            change = np.where(seen, y[:, t] - y[:, base], 0.0)
            mean_c = change[control].mean()
            gap = np.where(treated, change - mean_c, 0.0)
            influence = np.where(control, -(change - mean_c) / control.sum(), 0.0)
            effect = gap[treated].mean()
            out.append(
                {"event": min(t - g, max_event), "effect": effect, "treated": int(treated.sum()), "gap": gap}
                | {"is_treated": treated, "control": influence}
            )
    return out


def _aggregate(chosen: list[dict]) -> tuple[float, np.ndarray]:
    """Treated-count weighted mean of group-time effects and its influence function per rep.

    A treated rep's influence is its own gap minus the aggregate (not minus its cohort's mean, as in the
    per-cell formula), so a cohort of one trained rep still contributes its noise: the spread between trained
    reps, cohorts pooled, is counted as sampling noise (conservative when cohorts truly differ).
    """
    weights = np.array([c["treated"] for c in chosen], dtype=float)
    weights /= weights.sum()
    effect = float(weights @ np.array([c["effect"] for c in chosen]))
    influence = np.zeros(len(chosen[0]["gap"]))
    for w, c in zip(weights, chosen, strict=True):
        influence += w * (np.where(c["is_treated"], (c["gap"] - effect) / c["treated"], 0.0) + c["control"])
    return effect, influence


def _callaway_santanna(kpi, y, group, leads, max_event, level):
    """Overall (post cells), event-time and pre-trend summaries of the group-time effects of one KPI."""
    cells = _group_time_effects(y, group, leads, max_event)
    counts = {"treated_reps": int((group >= 0).sum()), "control_reps": int((group == -1).sum())}
    post = [c for c in cells if c["event"] >= 0]
    overall = {"kpi": kpi, **effect_summary(np.nan, np.nan, level), **counts}
    if post:
        effect, influence = _aggregate(post)
        overall.update(effect_summary(effect, float(np.sqrt(influence @ influence)), level))
    events, lead_effects, lead_influence = [], [], []
    for e in sorted({c["event"] for c in cells}):
        chosen = [c for c in cells if c["event"] == e]
        effect, influence = _aggregate(chosen)
        se = float(np.sqrt(influence @ influence))
        n = sum(c["treated"] for c in chosen)
        events.append({"kpi": kpi, "event_time": e, **effect_summary(effect, se, level), "n": n})
        if e < -1:
            lead_effects.append(effect)
            lead_influence.append(influence)
    cov = np.array(lead_influence) @ np.array(lead_influence).T if lead_influence else np.zeros((0, 0))
    statistic, df, p_value = wald(np.array(lead_effects), cov)
    return overall, events, {"kpi": kpi, "statistic": statistic, "df": df, "p_value": p_value}
