"""The project's shape: layers that only point down, one package per analysis with the same parts, small modules,
namespaced vocabulary. Each test fails on the first file that breaks the rule and names it."""

import ast
import re
from pathlib import Path

import pytest

from salesperf.analyses import registry
from salesperf.analyses.base import Analysis
from salesperf.core.vocab import CORE, LANGUAGES, Vocabulary, load_unique_yaml
from salesperf.report.config import load_report_set

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "salesperf"
MODULES = sorted(PACKAGE.rglob("*.py"))

# Layer of a module by its dotted name; a module may import its own layer and the layers below it.
LAYERS = ["core", "data", "analyses", "report", "cli"]
# Analyses may use another analysis only through its package's public names, and only where listed here.
ANALYSIS_IMPORTS = {
    "segmentation": {"lifecycle"},  # status is lifecycle's stage rule (docs/design.md)
    "reps": {"lifecycle"},  # a rep's book retention is lifecycle's NRR/GRR (issue 13), one definition
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every salesperf import in the file, at any depth (function-level imports count too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("salesperf")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("salesperf"):
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def _layer(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_layers_only_point_down():
    problems = []
    for path in MODULES:
        me = _module_name(path)
        mine = _layer(me)
        for line, target in _imports(path):
            theirs = _layer(target)
            if mine is None or theirs is None:
                continue
            if LAYERS.index(theirs) > LAYERS.index(mine):
                problems.append(f"{path.relative_to(ROOT)}:{line} ({mine}) imports {target} ({theirs})")
            if mine == theirs == "analyses":
                a, b = me.split(".")[2:3], target.split(".")[2:3]
                if (
                    a
                    and b
                    and a != b
                    and b[0] not in ("base", "registry")
                    and a[0] not in ("base", "registry")
                    and b[0] not in ANALYSIS_IMPORTS.get(a[0], set())
                ):
                    problems.append(
                        f"{path.relative_to(ROOT)}:{line}: analysis {a[0]} imports analysis {b[0]}"
                    )
    assert not problems, "\n".join(problems)


def test_no_import_cycles_between_modules():
    names = {_module_name(p): p for p in MODULES}
    graph = {}
    for name, path in names.items():
        targets = set()
        for _, target in _imports(path):
            while target and target not in names:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):  # a package's own __init__
                targets.add(target)
        graph[name] = targets
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                raise AssertionError("import cycle: " + " → ".join(stack[stack.index(nxt) :] + [nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node)


def test_modules_are_small_or_say_why():
    long = []
    for path in MODULES:
        lines = path.read_text(encoding="utf-8").splitlines()
        doc = ast.get_docstring(ast.parse("\n".join(lines))) or ""
        if len(lines) > 420 and "longer than 400 lines because" not in doc.lower():
            long.append(f"{path.relative_to(ROOT)}: {len(lines)} lines")
    assert not long, "\n".join(long)


@pytest.mark.parametrize("name", registry.names())
def test_every_analysis_has_the_same_parts(name):
    folder = PACKAGE / "analyses" / name
    for part in ("__init__.py", "text.py", "vocab.yml"):
        assert (folder / part).is_file(), f"analyses/{name}/{part} is missing"
    assert (folder / "queries.py").is_file() or (folder / "queries").is_dir(), f"analyses/{name}: no queries"
    analysis = registry.get(name)
    assert isinstance(analysis, Analysis) and analysis.name == name
    assert analysis.words.package == f"salesperf.analyses.{name}"
    for used in analysis.uses:
        assert used in registry.names(), f"{name} uses an unknown analysis {used!r}"


@pytest.mark.parametrize("name", registry.names())
def test_analysis_parameters_match_the_report_set(name):
    spec = load_report_set().get(name)
    assert spec is not None, f"analysis {name} has no report in the default report set"
    defaults = {k: default for k, (_, default) in spec.parameters.items()}
    declared = registry.get(name).parameters
    assert {k: defaults.get(k) for k in declared} == dict(declared)


def _vocabulary(name: str) -> tuple[Vocabulary, list[Path]]:
    """The vocabulary ``name`` ('core' or an analysis) with the files allowed to use its keys."""
    if name == "core":
        return CORE, MODULES + sorted((ROOT / "notebooks").glob("*.ipynb"))
    files = sorted((PACKAGE / "analyses" / name).rglob("*.py")) + [ROOT / "notebooks" / f"{name}.ipynb"]
    return registry.get(name).words, files


def _used(key: str, text: str) -> bool:
    """``key`` appears as a string literal, or as the literal head of an f-string key (``f"unit_{grain}"``)."""
    if re.search(rf"""\\?["']{re.escape(key)}\\?["']""", text):
        return True
    heads = [key[: i + 1] for i, c in enumerate(key) if c == "_"]
    return any(re.search(rf"""f\\?["']{re.escape(head)}{{""", text) for head in heads)


@pytest.mark.parametrize("name", ("core", *registry.names()))
def test_vocabulary_keys_are_unique_complete_and_used(name):
    vocab, files = _vocabulary(name)
    text = "\n".join(f.read_text(encoding="utf-8") for f in files if f.is_file())
    for key, entry in vocab.entries.items():
        assert set(entry) == set(LANGUAGES), f"{vocab.package}: {key!r} has languages {sorted(entry)}"
        assert _used(key, text), f"{vocab.package}: {key!r} is never used"
        if vocab is not CORE:
            assert key not in CORE.entries, (
                f"{key!r} is defined in both {vocab.package} and the core vocabulary"
            )


def test_a_duplicated_vocabulary_key_is_refused():
    with pytest.raises(ValueError, match="'revenue' is defined twice"):
        load_unique_yaml("revenue: {en: a, zh: b}\nrevenue: {en: c, zh: d}\n", "vocab.yml")


def test_analyses_never_reach_the_report_layer_through_text():
    """Sentences live in each analysis's text.py; computation modules hold no language switch."""
    offenders = []
    for path in (PACKAGE / "analyses").rglob("*.py"):
        if path.name in ("text.py", "__init__.py") or path.parent.name == "text":
            continue
        source = path.read_text(encoding="utf-8")
        if re.search(r"""lang\s*==\s*["']zh["']""", source):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, "language switches outside text.py: " + ", ".join(offenders)
