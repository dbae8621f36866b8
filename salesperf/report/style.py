"""One visual style for every chart, with a CJK-capable font so Chinese labels never show missing-glyph boxes.

The CJK font is Noto Sans CJK SC as shipped in the ``mplfonts`` wheel (SIL Open Font License), so no system
package is needed.
"""

from __future__ import annotations

import logging
import warnings
from functools import cache
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from matplotlib import font_manager

PALETTE = ["#1f4e79", "#2e86c1", "#f39c12", "#27ae60", "#c0392b", "#8e44ad", "#7f8c8d", "#16a085"]
ACCENT, MUTED = PALETTE[1], "#b0b7bf"


def cjk_font_path() -> Path | None:
    """The bundled Noto Sans CJK SC font file, or None when mplfonts is not installed."""
    try:
        import mplfonts
    except ImportError:
        return None
    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    return path if path.is_file() else None


@cache
def cjk_font() -> str | None:
    """Register the bundled Noto Sans CJK SC font with matplotlib and return its family name (None if
    unavailable)."""
    path = cjk_font_path()
    if path is None:
        return None
    logging.getLogger("matplotlib.font_manager").setLevel(
        logging.ERROR
    )  # no bold face: regular is used, silently
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def apply_style(lang: str = "en") -> None:
    """Set the report style for matplotlib (sizes readable on a laptop and on paper, the palette, the
    font).

    Chart text is never mathtext: names from the CRM (a region ``$$ partner``, a team ``Team $_$``) are
    shown as written, where matplotlib would otherwise parse ``$...$`` as a formula and fail. A character no
    font has (an emoji) is drawn as a box without a "Glyph missing" warning, which would otherwise be printed
    onto the page.
    """
    warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
    family = ["DejaVu Sans"]
    if (cjk := cjk_font()) is not None:
        family = [cjk, "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", cjk]
    plt.rcParams.update(
        {
            "figure.figsize": (8.0, 3.6),
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "savefig.bbox": "tight",
            "font.family": "sans-serif",
            "font.sans-serif": family,
            "axes.unicode_minus": False,
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "axes.grid.axis": "y",
            "grid.color": "#e5e8eb",
            "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
            "legend.frameon": False,
            "text.parse_math": False,
        }
    )
