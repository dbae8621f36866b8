"""A fit that lands on implausible parameters forecasts nothing and says so; the holdout adapts to the history."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from salesperf.analyses.lifecycle import text
from salesperf.analyses.lifecycle.analysis import holdout_window
from salesperf.analyses.lifecycle.value import CustomerValue, implausible


def test_implausible_parameters_are_recognised():
    # one real export's BG/NBD fit "converged" at r = 361, alpha = 12,701: every customer alike
    assert implausible({"r": 361.0, "alpha": 12701.0, "a": 0.5, "b": 2.0})
    assert implausible({"r": 0.2, "alpha": 4.0, "a": 0.5, "b": float("nan")})
    # CDNOW (Fader, Hardie & Lee 2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426
    assert not implausible({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})


def test_an_implausible_fit_is_stated_in_plain_words_with_no_forecast():
    frame = pd.DataFrame(
        {"customer_id": ["A"], "p_alive": [np.nan], "expected_purchases": [np.nan], "clv": [np.nan]}
    )
    value = CustomerValue(
        frame, "implausible", 12, {"bgnbd": {"r": 361.0, "alpha": 12701.0, "a": 0.5, "b": 2.0}}
    )
    life = SimpleNamespace(value=value)
    en, zh = text.value_sentence(life, "en"), text.value_sentence(life, "zh")
    assert en.startswith(
        "The lifetime-value model's fit ended on implausible parameters (r = 361.00, alpha = 12,701.00"
    )
    assert en.endswith("no value forecast is given.")
    assert "不提供价值预测" in zh and "12,701.00" in zh


def test_the_holdout_is_at_most_half_the_history():
    assert holdout_window(12, 40) == 12
    assert holdout_window(12, 13) == 6  # shortened
    assert holdout_window(12, 11) == 5
    assert holdout_window(12, 6) == 3
    assert holdout_window(12, 5) == 0  # skipped: 2 months cannot check a forecast
    assert holdout_window(12, 1) == 0
