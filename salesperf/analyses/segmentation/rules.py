"""Rule tables for customer segmentation: load ``rules.yml`` beside this module (or a user copy) and validate
it.

Every problem is a :class:`~salesperf.core.errors.UserError` naming the file and the key, e.g.
``segments.yml: rfm_segments[2].r: expected [low, high] with 1 <= low <= high <= 5, got [4, 9]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salesperf.core.rules import RuleChecker, read_rules

DEFAULT_RULES_FILE = "rules.yml"
STATUSES = ("potential", "active", "at_risk", "churned", "reactivated")
ABC_TIERS = ("A", "B", "C")
GRADING_CONDITIONS = ("abc_tier", "growth_min", "monetary_percentile_min", "clv_percentile_min")


@dataclass(frozen=True)
class Label:
    key: str
    label_en: str
    label_zh: str


@dataclass(frozen=True)
class RfmSegmentRule:
    """One named segment: inclusive ranges on the R score and on the FM score (mean of F and M scores)."""

    key: str
    label_en: str
    label_zh: str
    r: tuple[float, float]
    fm: tuple[float, float]


@dataclass(frozen=True)
class Cn8Class:
    key: str
    label_en: str
    label_zh: str
    r: str
    f: str
    m: str


@dataclass(frozen=True)
class StatusRules:
    """Status labels and the optional P(alive) alternative. The at risk / churned / reactivated rule itself is
    the lifecycle stage rule (salesperf/analyses/lifecycle/rules.yml,
    :func:`salesperf.analyses.lifecycle.assign_stages`)."""

    p_alive_at_risk_below: float
    p_alive_churned_below: float
    labels: dict[str, Label]


@dataclass(frozen=True)
class AbcRules:
    a_share: float
    b_share: float
    labels: dict[str, Label]


@dataclass(frozen=True)
class GradingRule:
    grade: str
    abc_tier: tuple[str, ...] | None = None
    growth_min: float | None = None
    monetary_percentile_min: float | None = None
    clv_percentile_min: float | None = None


@dataclass(frozen=True)
class SegmentRules:
    """All segmentation rule tables, validated. ``source`` names the file they came from (for messages)."""

    source: str
    bins: int
    rfm_segments: tuple[RfmSegmentRule, ...]
    cn8_split: str
    cn8_classes: tuple[Cn8Class, ...]
    status: StatusRules
    abc: AbcRules
    grades: dict[str, Label]
    grading: tuple[GradingRule, ...]

    def segment_labels(self) -> dict[str, Label]:
        return {s.key: Label(s.key, s.label_en, s.label_zh) for s in self.rfm_segments}

    def cn8_labels(self) -> dict[str, Label]:
        return {c.key: Label(c.key, c.label_en, c.label_zh) for c in self.cn8_classes}


def load_rules(path: str | Path | None = None) -> SegmentRules:
    """Read and validate a segmentation rule file; ``None`` reads the packaged defaults.

    Raises
    ------
    UserError
        When the file is missing, is not YAML, or a table is invalid (message names the file and the key).
    """
    data, source = read_rules(__package__, DEFAULT_RULES_FILE, path, what="segmentation rules")
    return rules_from_dict(data, source=source)


def rules_from_dict(data: Any, source: str = "<rules>") -> SegmentRules:
    """Validate a rule mapping (as read from YAML) and return :class:`SegmentRules`."""
    check = _Checker(source)
    if not isinstance(data, dict):
        check.fail("", "expected a mapping at the top level")
    bins = check.integer(check.section(data, "scores"), "bins", "scores.bins", low=2, high=10)
    segments = _rfm_segments(check, data, bins)
    split, classes = _cn8(check, data)
    return SegmentRules(
        source=source,
        bins=bins,
        rfm_segments=segments,
        cn8_split=split,
        cn8_classes=classes,
        status=_status(check, data),
        abc=_abc(check, data),
        grades=(grades := _labels(check, check.section(data, "grading"), "grading.grades", None)),
        grading=_grading(check, data, grades),
    )


class _Checker(RuleChecker):
    """The shared field checks plus the RFM score range of this rule table."""

    def __init__(self, source: str):
        super().__init__(
            source, hint="see the packaged salesperf/analyses/segmentation/rules.yml for the format"
        )

    def range_(self, data: dict, key: str, name: str, bins: int) -> tuple[float, float]:
        value = self.get(data, key, name)
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            and 1 <= value[0] <= value[1] <= bins
        )
        if not ok:
            self.fail(name, f"expected [low, high] with 1 <= low <= high <= {bins}, got {value!r}")
        return float(value[0]), float(value[1])


def _rfm_segments(check: _Checker, data: dict, bins: int) -> tuple[RfmSegmentRule, ...]:
    rules = []
    for i, item in enumerate(check.sequence(data, "rfm_segments")):
        name = f"rfm_segments[{i}]"
        if not isinstance(item, dict):
            check.fail(name, f"expected a mapping, got {item!r}")
        rules.append(
            RfmSegmentRule(
                key=check.text(item, "key", f"{name}.key"),
                label_en=check.text(item, "label_en", f"{name}.label_en"),
                label_zh=check.text(item, "label_zh", f"{name}.label_zh"),
                r=check.range_(item, "r", f"{name}.r", bins),
                fm=check.range_(item, "fm", f"{name}.fm", bins),
            )
        )
    _unique(check, "rfm_segments", [r.key for r in rules])
    for r_score in range(1, bins + 1):
        for twice_fm in range(2, 2 * bins + 1):
            fm = twice_fm / 2
            if not any(s.r[0] <= r_score <= s.r[1] and s.fm[0] <= fm <= s.fm[1] for s in rules):
                check.fail(
                    "rfm_segments",
                    f"no rule covers R score {r_score} with FM score {fm:g}",
                    hint="add a rule (or widen one) so that every customer gets a segment",
                )
    return tuple(rules)


def _cn8(check: _Checker, data: dict) -> tuple[str, tuple[Cn8Class, ...]]:
    section = check.section(data, "cn8")
    split = check.choice(section, "split", "cn8.split", ("mean", "median"))
    classes = []
    for i, item in enumerate(check.sequence(section, "classes")):
        name = f"cn8.classes[{i}]"
        if not isinstance(item, dict):
            check.fail(name, f"expected a mapping, got {item!r}")
        classes.append(
            Cn8Class(
                key=check.text(item, "key", f"{name}.key"),
                label_en=check.text(item, "label_en", f"{name}.label_en"),
                label_zh=check.text(item, "label_zh", f"{name}.label_zh"),
                **{d: check.choice(item, d, f"{name}.{d}", ("high", "low")) for d in "rfm"},
            )
        )
    _unique(check, "cn8.classes", [c.key for c in classes])
    combos = [(c.r, c.f, c.m) for c in classes]
    if len(set(combos)) != 8 or len(combos) != 8:
        check.fail(
            "cn8.classes", "expected exactly one class for each of the 8 high/low combinations of R, F, M"
        )
    return split, tuple(classes)


def _labels(check: _Checker, section: dict, name: str, expected: tuple[str, ...] | None) -> dict[str, Label]:
    key = name.rsplit(".", 1)[-1]
    table = section.get(key)
    if not isinstance(table, dict) or not table:
        check.fail(name, f"missing or not a mapping (got {table!r})")
    if expected is not None and set(table) != set(expected):
        check.fail(
            name, f"expected labels for exactly {', '.join(expected)}, got {', '.join(map(str, table))}"
        )
    labels = {}
    for k, item in table.items():
        if not isinstance(item, dict):
            check.fail(f"{name}.{k}", f"expected a mapping with label_en and label_zh, got {item!r}")
        labels[str(k)] = Label(
            str(k),
            check.text(item, "label_en", f"{name}.{k}.label_en"),
            check.text(item, "label_zh", f"{name}.{k}.label_zh"),
        )
    return labels


# Keys of the old per-segmentation status rule; the rule now lives in lifecycle.yml only.
OBSOLETE_STATUS_KEYS = ("at_risk_multiple", "churned_multiple", "one_time_interval", "min_interval_days")


def _status(check: _Checker, data: dict) -> StatusRules:
    s = check.section(data, "status")
    for key in OBSOLETE_STATUS_KEYS:
        if key in s:
            check.fail(
                f"status.{key}",
                "no longer used: status follows the lifecycle stage rule",
                hint="set the thresholds in a lifecycle rule file (analyses/lifecycle/rules.yml: thresholds, "
                "rhythm) and remove this key",
            )
    rules = StatusRules(
        p_alive_at_risk_below=check.number(
            s, "p_alive_at_risk_below", "status.p_alive_at_risk_below", 0.0, 1.0
        ),
        p_alive_churned_below=check.number(
            s, "p_alive_churned_below", "status.p_alive_churned_below", 0.0, 1.0
        ),
        labels=_labels(check, s, "status.labels", STATUSES),
    )
    if rules.p_alive_churned_below > rules.p_alive_at_risk_below:
        check.fail("status.p_alive_churned_below", "must be <= p_alive_at_risk_below")
    return rules


def _abc(check: _Checker, data: dict) -> AbcRules:
    s = check.section(data, "abc")
    a = check.number(s, "a_share", "abc.a_share", 0.0, 1.0)
    b = check.number(s, "b_share", "abc.b_share", 0.0, 1.0)
    if not 0 < a < b <= 1:
        check.fail("abc.b_share", f"expected 0 < a_share < b_share <= 1, got a_share={a:g}, b_share={b:g}")
    return AbcRules(a, b, _labels(check, s, "abc.labels", ABC_TIERS))


def _grading(check: _Checker, data: dict, grades: dict[str, Label]) -> tuple[GradingRule, ...]:
    section = check.section(data, "grading")
    rules = []
    for i, item in enumerate(check.sequence(section, "rules")):
        name = f"grading.rules[{i}]"
        if not isinstance(item, dict):
            check.fail(name, f"expected a mapping, got {item!r}")
        unknown = set(item) - {"grade", *GRADING_CONDITIONS}
        if unknown:
            check.fail(
                f"{name}.{min(unknown)}", f"unknown condition; allowed: {', '.join(GRADING_CONDITIONS)}"
            )
        grade = check.choice(item, "grade", f"{name}.grade", tuple(grades))
        tiers = item.get("abc_tier")
        if tiers is not None and (
            not isinstance(tiers, list) or not set(tiers) <= set(ABC_TIERS) or not tiers
        ):
            check.fail(f"{name}.abc_tier", f"expected a list of A, B, C, got {tiers!r}")
        numbers = {}
        for key in ("growth_min", "monetary_percentile_min", "clv_percentile_min"):
            if key in item:
                high = math.inf if key == "growth_min" else 1.0
                numbers[key] = check.number(
                    item, key, f"{name}.{key}", -1.0 if key == "growth_min" else 0.0, high
                )
        rules.append(GradingRule(grade=grade, abc_tier=tuple(tiers) if tiers else None, **numbers))
    last = rules[-1]
    if any(getattr(last, c) is not None for c in GRADING_CONDITIONS):
        check.fail(
            f"grading.rules[{len(rules) - 1}]", "the last rule must have no condition (it catches the rest)"
        )
    return tuple(rules)


def _unique(check: _Checker, name: str, keys: list[str]) -> None:
    seen = set()
    for key in keys:
        if key in seen:
            check.fail(name, f"key {key!r} appears twice")
        seen.add(key)
