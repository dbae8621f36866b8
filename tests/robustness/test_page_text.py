"""Text from the CRM on a page: NUL and other control characters never reach the HTML (salesperf.report.page,
salesperf.report.render)."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from salesperf.report.page import escape, tiles_html
from salesperf.report.render import render_html


def test_escape_drops_nul_and_escapes_markup():
    assert escape("Ac\x00me <b>\x07") == "Acme &lt;b&gt;"
    assert "\x00" not in tiles_html([{"label": "Top\x00 customer", "value": "Ac\x00me"}])


def test_a_rendered_page_carries_no_nul_from_any_output():
    cell = new_code_cell(
        "x",
        outputs=[
            new_output("display_data", data={"text/html": "<p>Ac\x00me</p>", "text/plain": "Ac\x00me"}),
            new_output("stream", name="stdout", text="printed Ac\x00me\n"),
        ],
    )
    page = render_html(nbformat.from_dict(new_notebook(cells=[cell])), "Title \x00 East", "en")
    assert "Acme" in page and "printed Acme" in page
    assert "\x00" not in page and "&#0;" not in page
