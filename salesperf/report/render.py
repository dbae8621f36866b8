"""Executed notebook → offline HTML with no code, no prompts and no external requests."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

TEMPLATES = Path(__file__).parent / "templates"


def render_html(notebook: nbformat.NotebookNode, title: str, lang: str = "en") -> str:
    """Render an executed notebook as a self-contained HTML page.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The executed notebook (outputs included; charts are embedded PNGs).
    title : str
        The page title.
    lang : str
        ``en`` or ``zh``, written to ``<html lang=...>``.

    Returns
    -------
    str
        The HTML page; it references nothing outside itself.
    """
    exporter = HTMLExporter(
        template_name="salesperf",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    notebook = nbformat.from_dict(notebook)
    notebook.metadata["title"] = title
    resources = {
        "salesperf_css": (TEMPLATES / "report.css").read_text(encoding="utf-8"),
        "language_code": "zh-CN" if lang == "zh" else "en",
    }
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return body
