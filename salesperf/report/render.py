"""Executed notebook → offline HTML with no code, no prompts and no external requests."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from traitlets.config import Config

from salesperf.report.unshowable import UNSHOWABLE

TEMPLATES = Path(__file__).parent / "templates"
#: Cells with this tag (the notebook's introduction for analysts) are left out of the manager's page.
ANALYST_ONLY = "analyst-only"


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
        config=Config({"TagRemovePreprocessor": {"enabled": True, "remove_cell_tags": [ANALYST_ONLY]}}),
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
    return embed_cjk_font(UNSHOWABLE.sub("", body))  # a NUL in any output (a stream, a repr) never reaches it


def embed_cjk_font(page: str) -> str:
    """Embed the subset of Noto Sans CJK SC that the page's Chinese text needs, as an inline web font.

    A reader's machine may lack a Chinese font (a headless server, a stripped-down laptop); the subset is
    small (a few hundred glyphs, usually under 300 kB) and keeps the page self-contained. Pages without CJK
    text are returned unchanged.
    """
    import base64
    import io

    from salesperf.report.style import cjk_font_path

    chars = sorted(set(re.findall(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]", page)))
    path = cjk_font_path()
    if not chars or path is None:
        return page
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    font = subset.load_font(str(path), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(chars))
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    face = (
        f"<style>@font-face {{ font-family: 'Salesperf CJK'; "
        f"src: url(data:font/woff;base64,{data}) format('woff'); }}"
        "body, .jp-RenderedHTMLCommon, table, .sp-kpi { "
        "font-family: 'Salesperf CJK', 'Segoe UI', Arial, sans-serif; }</style>"
    )
    return page.replace("</head>", face + "</head>", 1)
