"""User-facing errors: one line naming the file, the column and a few example values, and exit code 2."""

from __future__ import annotations

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
