"""Segmentation rule tables: the defaults and errors naming the file and the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from salesperf.analyses.segmentation import load_rules
from salesperf.analyses.segmentation.rules import rules_from_dict
from salesperf.core.errors import UserError


def _raw_rules():
    from importlib import resources

    return yaml.safe_load(
        resources.files("salesperf.analyses.segmentation").joinpath("rules.yml").read_text(encoding="utf-8")
    )


def test_default_rules_have_eleven_segments_and_eight_classes_with_both_labels():
    assert [s.label_en for s in load_rules().rfm_segments] == [
        "Champions",
        "Loyal",
        "Potential loyalists",
        "New",
        "Promising",
        "Need attention",
        "About to sleep",
        "Can't lose",
        "Slipping",
        "Hibernating",
        "Lost",
    ]
    assert {c.label_zh for c in load_rules().cn8_classes} == {
        "重要价值客户",
        "重要发展客户",
        "重要保持客户",
        "重要挽留客户",
        "一般价值客户",
        "一般发展客户",
        "一般保持客户",
        "一般挽留客户",
    }
    assert load_rules().status.labels["reactivated"].label_zh == "回流客户"
    assert load_rules().grades["key"].label_zh == "重要客户"


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda d: d["rfm_segments"][0].update(r=[4, 9]), "custom.yml: rfm_segments[0].r"),
        (
            lambda d: d["rfm_segments"].pop(),
            "custom.yml: rfm_segments: no rule covers R score 1 with FM score 1",
        ),
        (lambda d: d["rfm_segments"][1].update(key="champions"), "custom.yml: rfm_segments: key 'champions'"),
        (lambda d: d["rfm_segments"][2].pop("label_zh"), "custom.yml: rfm_segments[2].label_zh"),
        (lambda d: d["cn8"]["classes"][0].update(r="low"), "custom.yml: cn8.classes"),
        (lambda d: d["cn8"].update(split="mode"), "custom.yml: cn8.split"),
        (lambda d: d["status"].update(p_alive_churned_below=0.9), "custom.yml: status.p_alive_churned_below"),
        (
            lambda d: d["status"].update(churned_multiple=3.0),
            "custom.yml: status.churned_multiple: no longer used",
        ),
        (lambda d: d["status"]["labels"].pop("reactivated"), "custom.yml: status.labels"),
        (lambda d: d["abc"].update(a_share=0.99), "custom.yml: abc.b_share"),
        (lambda d: d["grading"]["rules"][-1].update(abc_tier=["C"]), "custom.yml: grading.rules[4]"),
        (lambda d: d["grading"]["rules"][0].update(size="big"), "custom.yml: grading.rules[0].size"),
        (lambda d: d["grading"]["rules"][0].update(grade="vip"), "custom.yml: grading.rules[0].grade"),
        (lambda d: d["scores"].update(bins=1), "custom.yml: scores.bins"),
    ],
)
def test_rule_table_errors_name_the_file_and_key(mutate, key):
    data = copy.deepcopy(_raw_rules())
    mutate(data)
    with pytest.raises(UserError) as info:
        rules_from_dict(data, source="custom.yml")
    assert str(info.value).startswith(key)


def test_rule_file_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_rules(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("scores: [1,\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"/bad.yml: not valid YAML"):  # the full path: the user finds the file
        load_rules(bad)
    good = tmp_path / "mine.yml"
    good.write_text(yaml.safe_dump(_raw_rules(), allow_unicode=True), encoding="utf-8")
    assert load_rules(good).source == str(good)
