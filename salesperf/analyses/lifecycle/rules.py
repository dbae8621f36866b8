"""Lifecycle rules: stage thresholds, the purchase-rhythm multiples, treatments and labels (``rules.yml``).

:func:`load_rules` reads the packaged defaults, then an optional user file, then overrides, and validates
them; a duplicated key in a YAML file is refused like everywhere in the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from salesperf.core.errors import UserError
from salesperf.core.rules import read_rules

STAGES = ("new", "reactivated", "active", "at_risk", "churned")
ENTRY_STAGE = "none"
DEFAULT_RULES_PATH = Path(__file__).parent / "rules.yml"


@dataclass(frozen=True)
class LifecycleRules:
    """Stage thresholds and treatments (``rules.yml`` beside this module says what each field means)."""

    new_days: int
    reactivation_days: int
    at_risk_days: int
    churn_days: int
    rhythm_enabled: bool
    rhythm_min_occasions: int
    rhythm_at_risk_multiple: float
    rhythm_churn_multiple: float
    rhythm_min_days: int
    rhythm_max_days: int
    second_purchase_quantile: float
    stages: dict
    treatments: dict
    entry_stage: dict

    def stage_label(self, stage: str, lang: str = "en") -> str:
        """Label of a stage (or of the entry pseudo-stage ``none``) in ``en`` or ``zh``."""
        source = self.entry_stage if stage == ENTRY_STAGE else self.stages[stage]
        return source[f"label_{lang}"]

    def treatment_label(self, treatment: str, lang: str = "en") -> str:
        """Label of a treatment in ``en`` or ``zh``."""
        return self.treatments[treatment][f"label_{lang}"]


def _merge(base: dict, override: dict, where: str) -> dict:
    out = dict(base)
    for key, value in override.items():
        if key not in base:
            raise UserError(f"{where}: unknown key {key!r}", hint=f"known keys: {', '.join(map(str, base))}")
        nested = (
            isinstance(base[key], dict) and isinstance(value, dict) and key not in ("stages", "treatments")
        )
        out[key] = _merge(base[key], value, f"{where}.{key}") if nested else value
    return out


def _validate(config: dict, where: str) -> None:
    t, r = config["thresholds"], config["rhythm"]
    for name, value in [*t.items(), *((f"rhythm.{k}", v) for k, v in r.items() if k != "enabled")]:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise UserError(f"{where}: {name} must be a positive number, got {value!r}")
    if t["churn_days"] < t["at_risk_days"]:
        raise UserError(
            f"{where}: thresholds.churn_days ({t['churn_days']}) is below at_risk_days ({t['at_risk_days']})",
            hint="a customer is at risk before being churned",
        )
    if r["churn_multiple"] < r["at_risk_multiple"] or r["max_days"] < r["min_days"]:
        raise UserError(
            f"{where}: rhythm.churn_multiple must be >= at_risk_multiple and max_days >= min_days"
        )
    quantile = config["second_purchase"]["typical_quantile"]
    if isinstance(quantile, bool) or not isinstance(quantile, int | float) or not 0 < quantile < 1:
        raise UserError(
            f"{where}: second_purchase.typical_quantile must be between 0 and 1, got {quantile!r}"
        )
    for stage in STAGES:
        spec = config["stages"].get(stage)
        if not isinstance(spec, dict) or not all(spec.get(k) for k in ("label_en", "label_zh", "treatment")):
            raise UserError(f"{where}: stage {stage!r} needs label_en, label_zh and treatment")
        treatment = config["treatments"].get(spec["treatment"])
        if not isinstance(treatment, dict) or not all(treatment.get(k) for k in ("label_en", "label_zh")):
            raise UserError(
                f"{where}: treatment {spec['treatment']!r} (stage {stage!r}) needs label_en and label_zh"
            )


def load_rules(path: str | Path | None = None, overrides: dict | None = None) -> LifecycleRules:
    """Read the lifecycle rules: the packaged defaults, then a user YAML file, then ``overrides``.

    Parameters
    ----------
    path : str or Path, optional
        A YAML file with any subset of the keys of ``rules.yml``.
    overrides : dict, optional
        Same structure, e.g. ``{'thresholds': {'churn_days': 180}}``.

    Returns
    -------
    LifecycleRules

    Raises
    ------
    UserError
        Unknown keys, non-positive thresholds, churn below at-risk, stages without a treatment or labels.
    """
    config, where = read_rules(__package__, DEFAULT_RULES_PATH.name, what="lifecycle rules")
    if path is not None:
        user, where = read_rules(__package__, DEFAULT_RULES_PATH.name, path, what="lifecycle rules")
        config = _merge(config, user, where)
    if overrides:
        config = _merge(config, overrides, "overrides")
    _validate(config, where)
    t, r = config["thresholds"], config["rhythm"]
    return LifecycleRules(
        new_days=int(t["new_days"]),
        reactivation_days=int(t["reactivation_days"]),
        at_risk_days=int(t["at_risk_days"]),
        churn_days=int(t["churn_days"]),
        rhythm_enabled=bool(r["enabled"]),
        rhythm_min_occasions=int(r["min_occasions"]),
        rhythm_at_risk_multiple=float(r["at_risk_multiple"]),
        rhythm_churn_multiple=float(r["churn_multiple"]),
        rhythm_min_days=int(r["min_days"]),
        rhythm_max_days=int(r["max_days"]),
        second_purchase_quantile=float(config["second_purchase"]["typical_quantile"]),
        stages=config["stages"],
        treatments=config["treatments"],
        entry_stage=config["entry_stage"],
    )
