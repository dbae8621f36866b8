"""A median time to churn (or a confidence bound) not reached reads "not reached" / "未达到" on the page, never
"inf" or "nan": the survival table rendered by the report's own table code, and the survival sentence."""

from __future__ import annotations

import re
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from salesperf.analyses.lifecycle import tables, text
from salesperf.analyses.lifecycle.survival import survival_curves
from salesperf.report.page import Report

MEDIANS = pd.DataFrame(
    {
        "group": ["2022", "2025", "2026"],
        "customers": [1707, 11615, 10308],
        "events": [1271, 5601, 204],
        "median_days": [565.0, 372.0, np.nan],  # 2026: fewer than half have churned
        "median_lower": [502.0, 365.0, np.nan],
        "median_upper": [629.0, np.inf, np.inf],  # 2025: the band's upper edge never falls to one half
    }
)


def _rendered_rows(lang: str) -> list[list[str]]:
    shown = []
    report = Report("lifecycle", None, lang, "CNY", {}, None, text.WORDS)
    life = SimpleNamespace(survival=SimpleNamespace(medians=MEDIANS))
    with mock.patch("salesperf.report.page.display", lambda obj: shown.append(obj.data)):
        report.table(tables.survival_medians(life, lang), tables.survival_table(lang))
    [page] = shown
    rows = re.findall(r"<tr>(.*?)</tr>", page)
    return [cells for row in rows if (cells := re.findall(r"<td[^>]*>(.*?)</td>", row))]


@pytest.mark.parametrize(("lang", "words"), [("en", "not reached"), ("zh", "未达到")])
def test_the_survival_table_says_not_reached(lang, words):
    rows = _rendered_rows(lang)
    assert rows[0] == ["2022", "1,707", "1,271", "565", "502", "629"]
    assert rows[1][3:] == ["372", "365", words]
    assert rows[2][3:] == [words, words, words]
    cells = " ".join(" ".join(r) for r in rows).lower()
    assert "inf" not in cells and "nan" not in cells and "∞" not in cells


def test_the_survival_sentence_says_not_reached():
    life = SimpleNamespace(survival=SimpleNamespace(medians=MEDIANS))
    en, zh = text.survival_sentence(life, "en"), text.survival_sentence(life, "zh")
    assert en == (
        "Median time to churn is longest for 2022 at 565 days (95% CI 502–629) and shortest for 2025 at 372 "
        "days (from 365, upper bound not reached)."
    )
    assert "下限 365，上限未达到" in zh
    assert "inf" not in en + zh and "∞" not in en + zh


def test_a_group_where_few_churned_has_no_median():
    # 10 customers, 2 churned: the Kaplan-Meier curve stays above one half, the median is not reached (NaN)
    durations = pd.DataFrame(
        {"group": ["g"] * 10, "duration_days": np.arange(10, 110, 10.0), "event": [1, 1] + [0] * 8}
    )
    medians = survival_curves(durations).medians
    assert np.isnan(medians.loc[0, "median_days"])
    life = SimpleNamespace(survival=SimpleNamespace(medians=medians))
    assert tables.survival_medians(life, "en").loc[0, "median_days"] == "not reached"
