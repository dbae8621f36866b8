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
    return f"{value:,.0f}"


def monthly_bars(frame: pd.DataFrame, value_col: str, title: str, highlight: pd.Timestamp | None = None,
                 month_col: str = "month"):
    """Bars per month; the report month (``highlight``) in the accent colour, the same month last year outlined."""
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
