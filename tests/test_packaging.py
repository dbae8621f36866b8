"""The project's own rules: dependencies in step, notebooks thin and stripped, docs covering the data model."""

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from salesperf.data.schema import TABLES
from salesperf.report.config import COMMON_PARAMETERS, check_notebook, load_report_set

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"python-duckdb": "duckdb", "distributed": "dask"}  # conda-forge name -> PyPI name


def _name(requirement: str) -> str:
    return re.split(r"[<>=!\[ ]", requirement, maxsplit=1)[0].lower()


def _spec(requirement: str) -> str:
    return re.sub(r"^[A-Za-z0-9_.\-]+(\[[^\]]*\])?", "", requirement).strip()


def test_environment_yml_lists_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r): _spec(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = {}
    for dep in env["dependencies"]:
        for req in dep["pip"] if isinstance(dep, dict) else [dep]:
            name = _name(req)
            if name in ("python", "pip"):
                continue
            listed[CONDA_NAMES.get(name, name)] = _spec(req)
    assert listed == wanted


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_thin_stripped_and_parameterised(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    source = ["".join(c["source"]) for c in code]
    assert not any(c.get("outputs") or c.get("execution_count") for c in code), "outputs must be stripped"
    assert not any(re.search(r"^\s*(def|class) ", s, re.MULTILINE) for s in source), (
        "logic belongs in salesperf/"
    )
    assert not any(re.search(r"pd\.read_|open\(", s) for s in source), "no file reading in notebooks"
    for cell in source:
        assert not re.search(r"\blambda\b", cell), f"a lambda belongs in salesperf/: {cell[:80]!r}"
        assert not re.search(r"(?i)[\"'][^\"']*\b(select|insert|update|delete)\b[^\"']*\bfrom\b", cell), (
            f"SQL belongs in an analysis's queries: {cell[:80]!r}"
        )
        assert not re.search(r"\.(sql|con|execute)\(|\.con\.", cell), (
            f"no engine access from a notebook: {cell[:80]!r}"
        )
        verbs = re.findall(
            r"\.(groupby|merge|join|pivot|pivot_table|apply|assign|query|agg|melt|stack|unstack|"
            r"transform|cumsum|rolling|resample)\(|\bpd\.concat\(",
            cell,
        )
        assert not verbs, (
            f"frame arithmetic ({', '.join(sorted(set(verbs)))}) belongs in salesperf/: {cell[:80]!r}"
        )
    tagged = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    declared = {
        m[1] for m in re.finditer(r"^(\w+)\s*:\s*\w+\s*=", "".join(tagged[0]["source"]), re.MULTILINE)
    }
    assert set(COMMON_PARAMETERS) <= declared


def test_every_report_of_the_set_has_a_matching_notebook():
    for spec in load_report_set().values():
        check_notebook(spec)


def test_data_model_doc_covers_every_canonical_column():
    doc = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    for table in TABLES.values():
        assert f"### {table.name}" in doc
        for column in table.columns:
            assert f"| `{column.name}` |" in doc, f"{table.name}.{column.name} undocumented"


def test_lock_file_pins_every_direct_dependency():
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {m[1].lower() for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==", lock, re.MULTILINE)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"] + project["optional-dependencies"]["dev"]:
        assert _name(req).replace("_", "-") in pinned
