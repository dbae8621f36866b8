"""Gamma-Gamma told honestly: a fit with q <= 1 (no finite mean spend), a parameter at the optimiser's bound or
no convergence is stated in plain words, and no value is forecast from it; a sound fit still forecasts."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from tiny_company import engine_of

from salesperf.analyses.lifecycle import clv, text
from salesperf.analyses.lifecycle.value import CustomerValue, at_bound, customer_value_sql, sound_spend

AS_OF = dt.date(2026, 10, 31)


def _orders(q: float, n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Orders of ``n`` customers buying by the BG/NBD story (r = 1, alpha = 8 weeks, a = 1, b = 4) over up to
    two years, each purchase worth Gamma(p = 4, rate nu) with nu ~ Gamma(q, rate 10) across customers: the
    spend model's own story, with its q planted."""
    rng = np.random.default_rng(seed)
    weeks = rng.uniform(10, 104, n)
    drawn = clv.simulate_betageo(n, 1.0, 8.0, 1.0, 4.0, weeks, seed=seed, resolution=1 / 7)
    nu = rng.gamma(q, 1 / 10.0, n)
    rows = []
    for i, (x, recency, t_cal) in enumerate(drawn.itertuples(index=False)):
        first = AS_OF - dt.timedelta(days=int(t_cal * 7))
        offsets = [0.0, *np.sort(rng.uniform(0, recency, int(x) - 1)), recency] if x else [0.0]
        for weeks_in in offsets:
            day = first + dt.timedelta(days=int(weeks_in * 7))
            rows.append((f"C{i:05d}", day, float(rng.gamma(4.0, 1 / nu[i]))))
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])


def _value(q: float) -> CustomerValue:
    return customer_value_sql(engine_of(_orders(q)), AS_OF)


def test_gamma_gamma_has_a_finite_mean_only_above_one():
    assert sound_spend({"p": 6.25, "q": 3.74, "gamma": 15.44})  # CDNOW (Fader, Hardie & Lee 2005, JMR)
    assert not sound_spend({"p": 4.0, "q": 1.0, "gamma": 10.0})
    assert not sound_spend({"p": 4.0, "q": 0.6, "gamma": 10.0})


def test_heavy_tailed_spend_gives_q_at_most_one_and_no_value_forecast():
    value = _value(q=0.6)  # planted: across customers the mean spend has no finite mean
    assert value.status == "spend_implausible"
    q = value.params["gamma_gamma"]["q"]
    assert 0.4 < q < 1.0
    assert value.frame["clv"].isna().all()  # nothing from the failed spend fit
    assert value.frame["p_alive"].notna().any()  # the purchase model was sound: it still speaks
    life = SimpleNamespace(value=value)
    en, zh = text.value_sentence(life, "en"), text.value_sentence(life, "zh")
    assert en.startswith(f"The spend-per-purchase model (Gamma-Gamma) fitted q = {q:.2f}, not above 1:")
    assert "lifetime value is not forecast" in en and "past yearly revenue instead" in en
    assert f"q = {q:.2f}（不大于 1）" in zh and "不预测终身价值" in zh


def test_sound_spend_still_forecasts():
    value = _value(q=3.0)
    assert value.status == "fitted"
    assert value.params["gamma_gamma"]["q"] > 1
    assert value.frame["clv"].notna().any() and (value.frame["clv"].dropna() >= 0).all()
    stages = SimpleNamespace(customers=pd.DataFrame({"customer_id": ["C00000"], "stage": ["at_risk"]}))
    life = SimpleNamespace(value=value, stages=stages, currency="CNY")
    assert text.value_sentence(life, "en").startswith("Customers are expected to bring ¥")


def test_a_parameter_at_the_search_bound_is_named():
    assert at_bound({"p": float(np.exp(15.0)), "q": 2.0, "gamma": 1.0}) == ["p"]
    assert at_bound({"p": 6.25, "q": 3.74, "gamma": 15.44}) == []
    frame = pd.DataFrame(
        {"customer_id": ["A"], "p_alive": [0.5], "expected_purchases": [1.0], "clv": [np.nan]}
    )
    reached = {"p": float(np.exp(15.0)), "q": 2.0, "gamma": 1.0}  # what the optimiser reached
    value = CustomerValue(frame, "spend_at_bound", 12, {"gamma_gamma": reached})
    en = text.value_sentence(SimpleNamespace(value=value), "en")
    assert en.startswith(
        "The spend-per-purchase model (Gamma-Gamma) ran to the edge of its parameter range (p)"
    )
    zh = text.value_sentence(SimpleNamespace(value=value), "zh")
    assert "参数（p）停在搜索范围的边界" in zh


@pytest.mark.parametrize(
    ("status", "en"),
    [
        ("spend_not_converged", "The spend-per-purchase model (Gamma-Gamma) did not converge on these data"),
        ("spend_too_few", "Too few repeat buyers to model spend per purchase"),
        ("at_bound", "The lifetime-value model's fit ran to the edge of its parameter range (r)"),
    ],
)
def test_every_failed_fit_has_its_sentence(status, en):
    frame = pd.DataFrame(
        {"customer_id": ["A"], "p_alive": [np.nan], "expected_purchases": [np.nan], "clv": [np.nan]}
    )
    params = (
        {"bgnbd": {"r": float(np.exp(-15.0)), "alpha": 4.0, "a": 0.5, "b": 2.0}}
        if status == "at_bound"
        else {}
    )
    life = SimpleNamespace(value=CustomerValue(frame, status, 12, params))
    assert text.value_sentence(life, "en").startswith(en)
    assert "nan" not in text.value_sentence(life, "zh").lower()
