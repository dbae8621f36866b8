"""Run a report notebook's code cells in this process, on a dataset opened once (no kernel, no papermill).

``salesperf run`` starts one kernel per report (seconds each); the missing-data matrix has dozens of cells, so it
executes the notebooks' own cells in-process instead: the same parameters cell, the same ``page`` calls, the same
sentences, tables and charts, with ``display`` capturing the HTML each call would put on the page. The data are
opened once per case and every notebook of the set reads that one :class:`~salesperf.data.dataset.Dataset`
(its ``results`` cache lets the summary read what the analysis notebooks computed, as the run's store does).
Python warnings raised while a notebook runs are recorded: in a kernel they would print on the page.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from salesperf.data.dataset import open_dataset

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@dataclass
class Rendered:
    """What one notebook put on its page: the HTML of every ``display`` call, and the warnings raised."""

    html: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.html)


def code_cells(notebook: str) -> list[tuple[str, list[str]]]:
    """(source, tags) of each code cell of ``notebooks/<notebook>.ipynb``."""
    cells = json.loads((NOTEBOOKS / f"{notebook}.ipynb").read_text(encoding="utf-8"))["cells"]
    return [
        ("".join(c["source"]), c.get("metadata", {}).get("tags", []))
        for c in cells
        if c["cell_type"] == "code"
    ]


def open_case(folder: Path, period: str, today: str, entity: str = ""):
    """The dataset every notebook of one case reads."""
    return open_dataset(folder, period, today, entity)


def render(notebook: str, ds, lang: str = "en", **params) -> Rendered:
    """Execute ``notebook``'s cells on ``ds`` (``page.start`` gets ``ds`` instead of opening the data again)."""
    page = Rendered()

    def capture(obj, *args, **kwargs):
        page.html.append(getattr(obj, "data", None) or repr(obj))

    namespace: dict = {}
    with (
        warnings.catch_warnings(record=True) as caught,
        mock.patch("salesperf.report.page.open_dataset", lambda *a, **k: ds),
        mock.patch("salesperf.report.page.display", capture),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        warnings.simplefilter("always")
        for source, tags in code_cells(notebook):
            exec(compile(source, f"{notebook}.ipynb", "exec"), namespace)
            if "parameters" in tags:
                namespace.update(lang=lang, output_dir="", entity=ds.entity, **params)
        plt.close("all")
    page.warnings = [
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if not issubclass(w.category, ResourceWarning | DeprecationWarning | PendingDeprecationWarning)
    ]
    return page
