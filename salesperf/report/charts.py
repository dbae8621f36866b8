"""The few chart shapes the reports use, in the house style (see :mod:`salesperf.report.style`).

Each function takes a tidy frame and labels already in the report language and returns a matplotlib Figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import FuncFormatter

from salesperf.report.style import ACCENT, MUTED


def _compact(value: float, _pos=None) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:,.0f}" if abs(value) >= 10 or float(value).is_integer() else f"{value:.2f}"


def monthly_bars(
    frame: pd.DataFrame,
    value_col: str,
    title: str,
    highlight: pd.Timestamp | None = None,
    month_col: str = "month",
):
    """Bars per month; the report month (``highlight``) in the accent colour, the same month last year
    outlined."""
    fig, ax = plt.subplots()
    months = pd.to_datetime(frame[month_col])
    colors = [ACCENT if highlight is not None and m == highlight else MUTED for m in months]
    ax.bar(months.dt.strftime("%Y-%m"), frame[value_col], color=colors)
    ax.set_title(title)
    ax.yaxis.set_major_formatter(FuncFormatter(_compact))
    ax.tick_params(axis="x", labelrotation=90, labelsize=8)
    return fig


def ranked_bars(frame: pd.DataFrame, label_col: str, value_col: str, title: str, top: int = 10):
    """Horizontal bars, largest at the top."""
    shown = frame.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8.0, 0.32 * len(shown) + 1.2))
    ax.barh(shown[label_col].astype(str).str.slice(0, 40), shown[value_col], color=ACCENT)
    ax.set_title(title)
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_formatter(FuncFormatter(_compact))
    return fig


def heatmap(
    matrix: pd.DataFrame,
    title: str,
    xlabel: str = "",
    ylabel: str = "",
    percent: bool = True,
    max_rows: int = 24,
):
    """A cohort triangle as a heatmap (rows: cohorts, columns: ages); cells annotated when the grid is
    small."""
    shown = matrix.tail(max_rows)
    fig, ax = plt.subplots(figsize=(8.0, 0.28 * len(shown) + 1.4))
    image = ax.imshow(
        shown.to_numpy(dtype=float), aspect="auto", cmap="Blues", vmin=0, vmax=1 if percent else None
    )
    ax.set_yticks(range(len(shown)), [str(i) for i in shown.index], fontsize=8)
    step = max(1, len(shown.columns) // 16)
    ax.set_xticks(
        range(0, len(shown.columns), step),
        [str(c) for c in shown.columns[::step]],
        fontsize=8,
        rotation=45 if any(len(str(c)) > 3 for c in shown.columns) else 0,
        ha="right" if any(len(str(c)) > 3 for c in shown.columns) else "center",
    )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(False)
    if shown.size <= 200:
        for (i, j), v in pd.DataFrame(shown.to_numpy(dtype=float)).stack().items():
            ax.text(
                j,
                i,
                f"{v:.0%}" if percent else _compact(v),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if (v > 0.5 if percent else False) else "#1d2733",
            )
    fig.colorbar(
        image, ax=ax, fraction=0.03, format=FuncFormatter(lambda v, _p: f"{v:.0%}") if percent else None
    )
    return fig


def curves(
    frame: pd.DataFrame,
    x: str,
    y: str,
    group: str | None,
    title: str,
    xlabel: str = "",
    percent: bool = False,
    band: tuple[str, str] | None = None,
    step: bool = False,
):
    """One line per group (optionally a confidence band and step drawing, as for survival curves)."""
    fig, ax = plt.subplots()
    groups = frame.groupby(group, sort=True) if group else [("", frame)]
    for name, part in groups:
        part = part.sort_values(x)
        draw = ax.step if step else ax.plot
        kwargs = {"where": "post"} if step else {}
        (line,) = draw(part[x], part[y], label=str(name) if group else None, **kwargs)
        if band:
            ax.fill_between(
                part[x],
                part[band[0]],
                part[band[1]],
                alpha=0.15,
                color=line.get_color(),
                step="post" if step else None,
            )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if percent:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0%}"))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(_compact))
    if group and ax.get_legend_handles_labels()[1]:  # no curve (e.g. no group reached an event): no legend
        ax.legend(fontsize=8)
    return fig


def paired_bars(
    frame: pd.DataFrame, label_col: str, first: str, second: str, title: str, names: tuple[str, str]
):
    """Two bars per label (e.g. actual vs predicted per frequency group)."""
    fig, ax = plt.subplots()
    x = range(len(frame))
    ax.bar([i - 0.2 for i in x], frame[first], width=0.4, label=names[0], color=MUTED)
    ax.bar([i + 0.2 for i in x], frame[second], width=0.4, label=names[1], color=ACCENT)
    ax.set_xticks(list(x), [str(v) for v in frame[label_col]])
    ax.set_title(title)
    ax.legend()
    return fig


def history_and_forecast(frame: pd.DataFrame, title: str, names: tuple[str, str]):
    """A series' history (solid, muted) and forecast (accent) with its 80 % and 95 % ranges as bands.

    ``frame``: one row per period, ``ds``, ``part`` ("history" or "forecast"), ``value``, ``lo_80``,
    ``hi_80``, ``lo_95``, ``hi_95`` (bounds only on forecast rows); ``names``: the legend's words for the two
    parts.
    """
    fig, ax = plt.subplots()
    past, future = frame[frame["part"] == "history"], frame[frame["part"] == "forecast"]
    ax.plot(past["ds"], past["value"], color=MUTED, label=names[0])
    if len(future):
        joined = pd.concat([past.tail(1), future])  # the forecast line starts at the last actual
        ax.plot(joined["ds"], joined["value"], color=ACCENT, linestyle="--", label=names[1])
        for level, alpha in (("95", 0.12), ("80", 0.25)):
            ax.fill_between(future["ds"], future[f"lo_{level}"], future[f"hi_{level}"], color=ACCENT,
                            alpha=alpha, linewidth=0)
    ax.set_title(title)
    ax.yaxis.set_major_formatter(FuncFormatter(_compact))
    ax.legend(fontsize=8)
    return fig
