"""The report set (``salesperf/conf/reports.yml`` or a user's file): report id → notebook, cadence, audience,
parameters.

Parameters are typed and checked here, before any kernel starts: an unknown, missing or mistyped parameter is
a clear error (papermill alone would only warn).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from salesperf.core.errors import UserError
from salesperf.core.fmt import slug
from salesperf.core.rules import read_rules
from salesperf.core.vocab import CORE, term

#: Parameters every report notebook takes; the runner fills them in.
COMMON_PARAMETERS = {
    "data": str,
    "period": str,
    "lang": str,
    "today": str,
    "output_dir": str,
    "currency": str,
    "entity": str,
}
_TYPES = {"int": int, "float": float, "str": str, "bool": bool}
_CADENCE_OF_GRAIN = {"week": "weekly", "month": "monthly", "quarter": "quarterly"}
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
#: A report id names the report's files: lower-case letters and digits in words joined by one ``-`` or ``_``
#: (no ``--`` or ``__``, which separate the id from the entity and the table in file names), 64 at most.
REPORT_ID = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")


def instance_name(report: str, entity: str = "") -> str:
    """The file-name stem of a report's page, notebook and exports: the id, and for a fan-out copy
    ``--<kind>-<slug of the value>`` (``overview--region-east-4e2cd851`` for ``region:East``).

    Parameters
    ----------
    report : str
        A checked report id (see :data:`REPORT_ID`).
    entity : str
        ``kind:value`` or empty.

    Returns
    -------
    str
    """
    if not entity:
        return report
    kind, _, value = entity.partition(":")
    return f"{report}--{kind}-{slug(value)}"


@dataclass(frozen=True)
class ReportSpec:
    """One report of the set."""

    id: str
    notebook: Path
    cadence: tuple[str, ...]
    audience: str
    parameters: dict = field(default_factory=dict)  # name -> (type, default)
    after: tuple[str, ...] = ()  # reports whose results this one reads ("*": every other report of the run)
    titles: dict = field(default_factory=dict)  # language -> title, from the set's optional `title:`

    def title(self, lang: str) -> str:
        """The title: the set's ``title:`` for ``lang``, else the core word for the id, else the id."""
        if lang in self.titles:
            return self.titles[lang]
        return term(self.id, lang) if self.id in CORE else self.id

    def runs_for(self, grain: str) -> bool:
        return _CADENCE_OF_GRAIN[grain] in self.cadence


def load_report_set(
    path: str | Path | None = None, notebooks: str | Path | None = None
) -> dict[str, ReportSpec]:
    """Read and check a report-set file.

    Parameters
    ----------
    path : str or Path, optional
        A YAML report set; defaults to the one shipped in the package.
    notebooks : str or Path, optional
        Folder of the notebooks; defaults to the repository's ``notebooks/`` (or the report-set file's
        folder).

    Raises
    ------
    UserError
        Malformed entries, unknown parameter types, missing notebooks.
    """
    if path is None:
        spec, where = read_rules("salesperf.conf", "reports.yml", what="report set")
        base = NOTEBOOKS
    else:
        path = Path(path)
        spec, where = _read_set(path)
        base = path.parent
    base = Path(notebooks) if notebooks else base
    reports = spec.get("reports")
    if not isinstance(reports, dict) or not reports:
        raise UserError(f"{where}: expected a non-empty 'reports:' mapping")
    out = {}
    for rid, entry in reports.items():
        _check_id(rid, where)
        if not isinstance(entry, dict) or "notebook" not in entry:
            raise UserError(f"{where}: report '{rid}' needs a 'notebook:'")
        params = {}
        for name, p in (entry.get("parameters") or {}).items():
            if name in COMMON_PARAMETERS:
                raise UserError(f"{where}: report '{rid}': parameter '{name}' is set by the runner")
            if not isinstance(p, dict) or p.get("type") not in _TYPES:
                raise UserError(
                    f"{where}: report '{rid}': parameter '{name}' needs type: int, float, str or bool"
                )
            params[name] = (
                _TYPES[p["type"]],
                _coerce(p.get("default"), _TYPES[p["type"]], f"{where}: {rid}.{name}"),
            )
        cadence = tuple(entry.get("cadence") or ("monthly",))
        bad = set(cadence) - set(_CADENCE_OF_GRAIN.values())
        if bad:
            raise UserError(
                f"{where}: report '{rid}': unknown cadence {', '.join(sorted(bad))}",
                hint="weekly, monthly, quarterly",
            )
        after = entry.get("after") or ()
        after = ("*",) if after == "all" else tuple(after) if isinstance(after, (list, tuple)) else None
        if after is None:
            raise UserError(f"{where}: report '{rid}': 'after' must be a list of report ids or 'all'")
        titles = entry.get("title") or {}
        if not isinstance(titles, dict) or not all(isinstance(v, str) for v in titles.values()):
            example = "{en: Pipeline, zh: 销售管道}"
            raise UserError(f"{where}: report '{rid}': 'title' must map languages to text, e.g. {example}")
        out[rid] = ReportSpec(
            rid, base / entry["notebook"], cadence, str(entry.get("audience", "")), params, after, titles
        )
    return out


def _read_set(path: Path) -> tuple[dict, str]:
    """A user's report-set file, read and parsed; a file that is not one is a one-line error."""
    if not path.is_file():
        raise UserError(
            f"report set {str(path)!r} {'is not a file' if path.exists() else 'does not exist'}",
            hint="give --report-set the path of a YAML file like salesperf/conf/reports.yml",
        )
    try:
        return read_rules("salesperf.conf", "reports.yml", path, what="report set")
    except UnicodeDecodeError:
        raise UserError(f"report set {str(path)!r} is not UTF-8 text", hint="save it as UTF-8 YAML") from None


def _check_id(rid, where: str) -> None:
    """Refuse a report id that cannot name files safely (``../../escape``, ``a b``, ``Overview``)."""
    if not isinstance(rid, str) or len(rid) > 64 or not REPORT_ID.fullmatch(rid):
        raise UserError(
            f"{where}: report id {str(rid)!r} cannot name a file",
            hint="use lower-case letters and digits, words joined by one - or _ (e.g. pipeline_weekly)",
        )


def _coerce(value, kind: type, where: str):
    if value is None:
        raise UserError(f"{where}: a default value is required")
    if kind is bool:  # bool("no") is True: only the spellings below are booleans
        text = str(value).strip().lower()
        if text in ("true", "yes", "1"):
            return True
        if text in ("false", "no", "0"):
            return False
        raise UserError(f"{where}: {value!r} is not a valid bool", hint="use true or false")
    try:
        if kind in (int, float) and isinstance(value, bool):
            raise ValueError
        coerced = kind(value)
        if kind is int and float(value) != coerced:
            raise ValueError
        return coerced
    except (TypeError, ValueError):
        raise UserError(f"{where}: {value!r} is not a valid {kind.__name__}") from None


def report_parameters(spec: ReportSpec, overrides: dict[str, str]) -> dict:
    """The report's own parameters: defaults, overridden by ``--param name=value`` (typed and checked).

    Raises
    ------
    UserError
        Unknown parameter name or a value of the wrong type.
    """
    values = {name: default for name, (_, default) in spec.parameters.items()}
    for name, raw in overrides.items():
        if name not in spec.parameters:
            known = ", ".join(spec.parameters) or "none"
            raise UserError(
                f"report '{spec.id}': unknown parameter '{name}'", hint=f"its parameters: {known}"
            )
        values[name] = _coerce(raw, spec.parameters[name][0], f"report '{spec.id}': parameter '{name}'")
    return values


def check_notebook(spec: ReportSpec) -> None:
    """Check that the notebook exists and declares every parameter the set gives it, with matching types."""
    import papermill

    if not spec.notebook.is_file():
        raise UserError(f"report '{spec.id}': notebook {str(spec.notebook)!r} not found")
    declared = papermill.inspect_notebook(str(spec.notebook))
    wanted = dict(COMMON_PARAMETERS) | {n: t for n, (t, _) in spec.parameters.items()}
    missing = [n for n in wanted if n not in declared]
    if missing:
        raise UserError(
            f"{spec.notebook.name}: the parameters cell lacks {', '.join(missing)}",
            hint="every report notebook declares the common parameters and the report's own",
        )
    for name, kind in wanted.items():
        inferred = (declared[name].get("inferred_type_name") or "").lower()
        if inferred and inferred != "none" and inferred != kind.__name__:
            raise UserError(
                f"{spec.notebook.name}: parameter '{name}' is {inferred} in the notebook, "
                f"{kind.__name__} in the report set"
            )
