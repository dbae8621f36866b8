"""Names from the CRM in charts: ``$...$`` is text, not mathtext, and a missing glyph (an emoji) prints no warning
that would land on the page (salesperf.report.charts with the style of salesperf.report.style)."""

from __future__ import annotations

import io
import warnings

import matplotlib
import pandas as pd

from salesperf.report import charts
from salesperf.report.style import apply_style

NAMES = ["$$ partner", "Team $_$", "Shop 🦜", "$x^2$ \\frac"]


def _draw(fig) -> list[str]:
    """Render a figure to PNG as the page does; the texts of its tick labels, title and legend."""
    fig.savefig(io.BytesIO(), format="png")
    texts = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels() + ax.get_xticklabels()]
    texts += [ax.get_title(loc="left") for ax in fig.axes]
    texts += [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    matplotlib.pyplot.close(fig)
    return texts


def test_dollar_signs_and_emoji_in_names_are_drawn_as_written_without_warnings():
    frame = pd.DataFrame({"name": NAMES, "revenue": [4.0, 3.0, 2.0, 1.0], "other": [1.0, 2.0, 3.0, 4.0]})
    curves = pd.DataFrame({"x": [0, 1] * 4, "y": range(8), "group": [n for n in NAMES for _ in (0, 1)]})
    months = pd.DataFrame(
        {"month": pd.date_range("2026-01-01", periods=4, freq="MS"), "revenue": [1, 2, 3, 4]}
    )
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")  # every warning is recorded, but for those the report style silences
        apply_style("en")
        drawn = [
            _draw(charts.ranked_bars(frame, "name", "revenue", "Top $$ 🦜")),
            _draw(charts.curves(curves, "x", "y", "group", "By $_$")),
            _draw(charts.paired_bars(frame, "name", "revenue", "other", "$a$", ("$b$", "🦜"))),
            _draw(charts.heatmap(pd.DataFrame([[0.5, 0.2]], index=["$c$ 🦜"]), "Cohorts $_$")),
            _draw(charts.monthly_bars(months, "revenue", "Revenue $$")),
        ]
    assert [str(w.message) for w in seen] == []
    assert set(NAMES) <= set(drawn[0]) and set(NAMES) <= set(drawn[1]) and set(NAMES) <= set(drawn[2])
    assert "$c$ 🦜" in drawn[3] and "Revenue $$" in drawn[4]
