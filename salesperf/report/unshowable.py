"""The characters no page carries, in a module of its own: the notebook kernels import it without the
rendering stack (nbconvert and nbformat cost a kernel 1.8 s to import, mostly jsonschema's format
checkers)."""

from __future__ import annotations

import re

#: Control characters no page carries (NUL and the other C0 codes but tab, line feed and carriage return).
UNSHOWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
