"""User-facing errors: one line naming the file, the column and a few example values, and exit code 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(Exception):
    """An input or usage problem the user can fix; the CLI prints it as one line and exits with code 2.

    Parameters
    ----------
    message : str
        What is wrong, naming the file and column when there is one.
    hint : str, optional
        What to do about it.
    """

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} (hint: {self.hint})"


def examples(values: Iterable, limit: int = 5) -> str:
    """Format up to ``limit`` distinct example values for an error message, e.g. ``'2024-13-01', 'n/a'``."""
    seen: list[str] = []
    for value in values:
        text = repr(str(value))
        if text not in seen:
            seen.append(text)
        if len(seen) == limit:
            break
    return ", ".join(seen)


def unknown_key(key: object, valid: Iterable[str], where: str, what: str = "key") -> UserError:
    """The error for a key that is not one of ``valid``: names it and the nearest valid key (difflib), else
    lists the valid keys.

    Examples
    --------
    >>> unknown_key("delimeter", ["path", "delimiter", "sheet"], "catalog.yml: table 'orders'").message
    "catalog.yml: table 'orders': unknown key 'delimeter' (did you mean 'delimiter'?)"
    """
    valid = sorted(valid)
    close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    return UserError(f"{where}: unknown {what} {str(key)!r}{guess}", hint=f"valid: {', '.join(valid)}")
