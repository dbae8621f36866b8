"""Co-purchase suggestions, their holdout evaluation and the customer export table, hand-built."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesperf.analyses.segmentation.export import EXPORT_COLUMNS, customer_table
from salesperf.analyses.segmentation.suggest import (
    CoPurchaseSuggester,
    evaluate_suggestions,
    incidence_from_pairs,
)


def test_copurchase_similarity_and_suggestions_hand_computed():
    pairs = pd.DataFrame(
        {
            "customer_id": ["u1", "u1", "u2", "u2", "u3", "u3", "u4", "u5", "u5"],
            "product_id": ["a", "b", "a", "b", "a", "c", "d", "d", "c"],
        }
    )
    inc = incidence_from_pairs(pairs)
    model = CoPurchaseSuggester(n=2, similarity="cosine").fit(inc)
    # buyers: a 3, b 2, c 2, d 2; co(a, b) = 2 -> cosine 2 / sqrt(6); co(a, c) = 1 -> 1 / sqrt(6)
    sim = pd.DataFrame(model.similarity_, index=inc.products, columns=inc.products)
    assert sim.loc["a", "b"] == pytest.approx(2 / np.sqrt(6)) and sim.loc["a", "a"] == 0
    conf = CoPurchaseSuggester(n=2).fit(inc)
    assert conf.similarity_[0, 1] == pytest.approx(2 / 3)  # P(b | a) = 2 of a's 3 buyers
    got = model.suggest(inc).set_index("customer_id")
    # u4 owns d: co-purchased with c only (via u5) -> c; then popularity fallback -> a (3 buyers)
    assert got.loc["u4"].tolist() == ["c", "a"]
    # u1 owns a, b: c scores 1/sqrt(6) from a, d scores 0 -> c then d (only products left)
    assert got.loc["u1"].tolist() == ["c", "d"]


def test_suggestions_beat_popularity_on_planted_bundles():
    rng = np.random.default_rng(3)
    rows = []
    # "p0".."p9" popular singles; bundles (x1, x2), (y1, y2): who buys x1 later buys x2
    for u in range(600):
        for p in rng.choice(10, 2, replace=False, p=np.linspace(2, 1, 10) / 15):
            rows.append((f"u{u}", f"p{p}", "train"))
        bundle = ("x1", "x2") if u % 2 else ("y1", "y2")
        if u % 3:
            rows.append((f"u{u}", bundle[0], "train"))
            rows.append((f"u{u}", bundle[1], "train" if u < 300 else "test"))
    frame = pd.DataFrame(rows, columns=["customer_id", "product_id", "when"])
    train = incidence_from_pairs(frame[frame["when"] == "train"])
    test = incidence_from_pairs(frame[frame["when"] == "test"])
    result = evaluate_suggestions(train, test)
    assert result.customers_evaluated == 200
    assert result.hit_rate == 1.0 and result.popularity_hit_rate < 0.5


def test_customer_table_hand_built():
    rfm = pd.DataFrame(
        {
            "customer_id": ["b", "a"],
            "recency": [5, 50],
            "frequency": [3, 1],
            "monetary": [90.0, 10.0],
            "r_score": [5, 1],
            "f_score": [5, 1],
            "m_score": [5, 1],
            "segment": ["champions", "lost"],
            "segment_cn8": ["important_value", "general_winback"],
        }
    )
    status = pd.DataFrame({"customer_id": ["a", "b", "p"], "status": ["churned", "active", "potential"]})
    table = customer_table(
        rfm,
        status,
        abc=pd.DataFrame({"customer_id": ["a", "b"], "abc_tier": ["C", "A"]}),
        clusters=pd.DataFrame({"customer_id": ["a", "b"], "cluster": [1, 0]}),
        owners=pd.DataFrame({"customer_id": ["a", "p"], "owner_rep_id": ["R1", "R2"]}),
    )
    assert list(table.columns) == EXPORT_COLUMNS
    assert table["customer_id"].tolist() == ["a", "b", "p"]  # the never-bought CRM customer is kept
    assert table["status"].tolist() == ["churned", "active", "potential"]
    assert table["segment"].tolist()[:2] == ["lost", "champions"] and pd.isna(table.loc[2, "segment"])
    assert table["cluster"].tolist()[:2] == [1, 0] and pd.isna(table.loc[2, "cluster"])
    assert table["owner_rep_id"].tolist()[0] == "R1" and pd.isna(table.loc[1, "owner_rep_id"])
    assert table["grade"].isna().all() and table["suggestion_1"].isna().all()  # inputs not given
