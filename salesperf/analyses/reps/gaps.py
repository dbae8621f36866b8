"""Skills gaps, pure: for each rep the scorecard KPIs furthest below comparable peers, as z-scores within the
peer group (the rep left out), turned into a coaching focus by the rule table ``rules.yml`` beside this module
(which says how peers are chosen, the evidence each KPI needs and the thresholds).

:func:`load_coaching_rules` reads and validates the table (every mistake a one-line
:class:`~salesperf.core.errors.UserError` naming the file and the key); :func:`skill_gaps` applies it to the
scorecard's per-rep KPIs (:attr:`salesperf.analyses.reps.scorecard.Scorecard.kpis`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salesperf.analyses.reps.scorecard import ADDITIVE, NONE, RATES, WINDOWS
from salesperf.core.rules import RuleChecker, read_rules

DEFAULT_RULES_FILE = "rules.yml"
#: KPI columns of the scorecard a rule may judge.
JUDGEABLE = (*RATES, "cycle_median_days", *ADDITIVE)
PEER_GROUPINGS = ("team", "region")
GAP_COLUMNS = (
    "rep_id",
    "kpi",
    "value",
    "peer_basis",
    "peer_group",
    "peers",
    "peer_mean",
    "peer_sd",
    "z",
    "percentile",
    "is_gap",
    "reason",
)


@dataclass(frozen=True)
class KpiRule:
    """How one KPI is judged: ``direction`` (``higher`` or ``lower`` is better), ``threshold`` (a gap is a z
    at or below it), ``evidence`` (scorecard columns whose sum must reach ``at_least``), labels and the
    coaching focus in English and Chinese."""

    kpi: str
    direction: str
    threshold: float
    evidence: tuple[str, ...]
    at_least: float
    label_en: str
    label_zh: str
    focus_en: str
    focus_zh: str


@dataclass(frozen=True)
class CoachingRules:
    """The validated rule table. ``source`` names the file (for messages)."""

    source: str
    window: str
    max_focus: int
    group_by: tuple[str, ...]
    min_peers: int
    kpis: dict[str, KpiRule]

    def label(self, kpi: str, lang: str = "en") -> str:
        return getattr(self.kpis[kpi], f"label_{lang}")

    def focus(self, kpi: str, lang: str = "en") -> str:
        return getattr(self.kpis[kpi], f"focus_{lang}")


def load_coaching_rules(path: str | Path | None = None) -> CoachingRules:
    """Read and validate the coaching rule table: the packaged ``rules.yml``, or a user's file whose
    top-level keys replace the packaged ones.

    Raises
    ------
    UserError
        Missing file, invalid YAML, unknown or invalid keys (the message names the file and the key).
    """
    data, source = read_rules(__package__, DEFAULT_RULES_FILE, what="coaching rules")
    if path is not None:
        user, source = read_rules(__package__, DEFAULT_RULES_FILE, path, what="coaching rules")
        RuleChecker(source).known_keys(user, list(data))
        data = {**data, **user}
    return coaching_rules_from_dict(data, source)


def coaching_rules_from_dict(data: dict, source: str = "<rules>") -> CoachingRules:
    """Validate a rule mapping (as read from YAML) and return :class:`CoachingRules`."""
    check = RuleChecker(source, hint="see the packaged salesperf/analyses/reps/rules.yml for the format")
    check.known_keys(data, ("window", "max_focus", "peers", "kpis"))
    peers = check.section(data, "peers")
    check.known_keys(peers, ("group_by", "min_peers"), "peers")
    group_by = check.sequence(peers, "group_by")
    for i, grouping in enumerate(group_by):
        if grouping not in PEER_GROUPINGS:
            expected = ", ".join(PEER_GROUPINGS)
            check.fail(f"peers.group_by[{i}]", f"expected one of {expected}, got {grouping!r}")
    kpis = check.section(data, "kpis")
    if not kpis:
        check.fail("kpis", "expected at least one KPI")
    return CoachingRules(
        source=source,
        window=check.choice(data, "window", "window", WINDOWS),
        max_focus=check.integer(data, "max_focus", "max_focus", 1, 20),
        group_by=tuple(group_by),
        min_peers=check.integer(peers, "min_peers", "peers.min_peers", 2, 1000),
        kpis={kpi: _kpi_rule(check, kpi, spec) for kpi, spec in kpis.items()},
    )


def _kpi_rule(check: RuleChecker, kpi: str, spec) -> KpiRule:
    where = f"kpis.{kpi}"
    if kpi not in JUDGEABLE:
        check.fail("kpis", f"unknown KPI {kpi!r}", hint=f"known KPIs: {', '.join(JUDGEABLE)}")
    if not isinstance(spec, dict):
        check.fail(where, f"expected a mapping, got {spec!r}")
    fields = ("direction", "threshold", "evidence", "label_en", "label_zh", "focus_en", "focus_zh")
    check.known_keys(spec, fields, where)
    evidence, at_least = (), 0.0
    if "evidence" in spec:
        proof = check.section(spec, "evidence") if isinstance(spec["evidence"], dict) else None
        if proof is None:
            got = spec["evidence"]
            check.fail(f"{where}.evidence", f"expected {{columns: [...], at_least: n}}, got {got!r}")
        check.known_keys(proof, ("columns", "at_least"), f"{where}.evidence")
        evidence = tuple(check.sequence(proof, "columns"))
        unknown = [c for c in evidence if c not in ADDITIVE]
        if unknown:
            name = f"{where}.evidence.columns"
            check.fail(name, f"unknown column {unknown[0]!r}", hint=", ".join(ADDITIVE))
        at_least = check.number(proof, "at_least", f"{where}.evidence.at_least", 0)
    return KpiRule(
        kpi=kpi,
        direction=check.choice(spec, "direction", f"{where}.direction", ("higher", "lower")),
        threshold=check.number(spec, "threshold", f"{where}.threshold", -10, 0),
        evidence=evidence,
        at_least=at_least,
        **{k: check.text(spec, k, f"{where}.{k}") for k in fields[3:]},
    )


def _peer_stats(values: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """Leave-one-out count, mean and standard deviation (ddof 1) of ``values`` within ``groups``."""
    has = values.notna()
    x = values.where(has, 0.0)
    n = has.groupby(groups).transform("sum") - has
    total = x.groupby(groups).transform("sum") - x
    squares = (x**2).groupby(groups).transform("sum") - x**2
    mean = total / n.where(n > 0)
    variance = (squares - n * mean**2) / (n - 1).where(n > 1)
    spread = np.sqrt(variance.clip(lower=0))
    return pd.DataFrame({"peers": n.astype(int), "peer_mean": mean, "peer_sd": spread})


def _percentile(values: pd.Series, groups: pd.Series, sign: float) -> pd.Series:
    """Share of the rep's peers (same group, the rep left out) that do worse, ties counted half."""
    signed = values * sign
    by_group = signed.groupby(groups)
    below = by_group.rank(method="min") - 1
    ties = by_group.rank(method="max") - 1 - below
    others = by_group.transform("count") - 1
    return (below + 0.5 * ties) / others.where(others > 0)


def _judge(frame: pd.DataFrame, rule: KpiRule, rules: CoachingRules) -> pd.DataFrame:
    """One row per rep of ``frame`` (one row per rep) judged on ``rule.kpi``: the columns of
    :data:`GAP_COLUMNS`."""
    value = frame[rule.kpi].astype(float)
    enough = frame[list(rule.evidence)].sum(axis=1) >= rule.at_least if rule.evidence else value.notna()
    judged = value.where(enough)
    sign = 1.0 if rule.direction == "higher" else -1.0
    out = pd.DataFrame({"rep_id": frame["rep_id"], "kpi": rule.kpi, "value": value})
    out["reason"] = np.where(value.isna(), "no_value", np.where(~enough, "too_little_evidence", None))
    out[["peer_basis", "peer_group"]] = None
    out[["peers", "peer_mean", "peer_sd", "percentile"]] = np.nan
    for basis in [*rules.group_by, "company"]:
        groups = frame[basis] if basis != "company" else pd.Series("all", index=frame.index)
        stats = _peer_stats(judged, groups)
        open_ = out["peer_basis"].isna() & judged.notna() & (groups != NONE)
        use = open_ & (stats["peers"] >= rules.min_peers)
        out.loc[use, "peer_basis"] = basis
        out.loc[use, "peer_group"] = groups[use]
        out.loc[use, ["peers", "peer_mean", "peer_sd"]] = stats.loc[use].to_numpy()
        out.loc[use, "percentile"] = _percentile(judged, groups, sign)[use]
    out.loc[out["reason"].isna() & out["peer_basis"].isna(), "reason"] = "too_few_peers"
    spread = out["peer_sd"].where(out["peer_sd"] > 0)
    out["z"] = sign * (value - out["peer_mean"]) / spread
    out.loc[out["peer_basis"].isna(), "z"] = np.nan
    out["is_gap"] = out["z"] <= rule.threshold
    return out


@dataclass
class SkillGaps:
    """Skills gaps of the reps.

    Attributes
    ----------
    gaps : DataFrame
        One row per (rep_id, kpi) of the rules: :data:`GAP_COLUMNS` — ``value``, ``peer_basis`` (``team``,
        ``region`` or ``company``; None when not judged), ``peer_group``, ``peers`` (other reps with a
        value), ``peer_mean``, ``peer_sd``, ``z`` (negative: below the peers, whatever the KPI's direction),
        ``percentile`` (share of peers doing worse, 0..1), ``is_gap`` (z at or below the threshold),
        ``reason`` (why the KPI is not judged: ``no_value``, ``too_little_evidence``, ``too_few_peers``;
        None when it is).
    focus : DataFrame
        One row per (rep_id, rank) of the rep's worst gaps (at most ``max_focus``, rank 1 the worst):
        ``rep_id``, ``rank``, ``kpi``, ``z``, ``value``, ``peer_mean``, ``peer_basis``. Reps without a gap
        have no row. The words are the rules' (:meth:`CoachingRules.focus`).
    window : str
        The scorecard window judged.
    """

    gaps: pd.DataFrame
    focus: pd.DataFrame
    window: str


def skill_gaps(kpis: pd.DataFrame, rules: CoachingRules) -> SkillGaps:
    """Judge every rep on every KPI of the rules against their peers.

    Parameters
    ----------
    kpis : DataFrame
        The scorecard's per-rep KPIs (one row per rep_id and window): ``rep_id``, ``window``, ``team``,
        ``region`` and the columns the rules name.
    rules : CoachingRules

    Returns
    -------
    SkillGaps
    """
    frame = kpis.loc[kpis["window"] == rules.window].reset_index(drop=True)
    for basis in PEER_GROUPINGS:
        frame[basis] = frame[basis].fillna(NONE) if basis in frame.columns else NONE
    parts = [_judge(frame, rule, rules) for rule in rules.kpis.values()]
    gaps = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=GAP_COLUMNS)
    gaps = gaps[list(GAP_COLUMNS)].sort_values(["rep_id", "kpi"], ignore_index=True)
    gaps["is_gap"] = gaps["is_gap"].astype(bool)
    worst = gaps.loc[gaps["is_gap"]].sort_values(["rep_id", "z", "kpi"])
    worst = worst.groupby("rep_id").head(rules.max_focus).copy()
    worst["rank"] = worst.groupby("rep_id").cumcount() + 1
    focus = worst[["rep_id", "rank", "kpi", "z", "value", "peer_mean", "peer_basis"]].reset_index(drop=True)
    return SkillGaps(gaps=gaps, focus=focus, window=rules.window)
