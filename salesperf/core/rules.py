"""The one rules loader: read a YAML rule file (the packaged default or a user's copy) and check its fields.

Every rule table of the project (segmentation, lifecycle, the report set, future commission plans) is read
by :func:`read_rules` and checked with a :class:`RuleChecker`, so every mistake is reported the same way:
one line naming the file and the key, what was expected and what was found, exit code 2.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import yaml

from salesperf.core.errors import UserError
from salesperf.core.vocab import load_unique_yaml


def read_rules(
    package: str, filename: str, path: str | Path | None = None, what: str = "rules"
) -> tuple[dict, str]:
    """The mapping in a rule file and the name to show in messages.

    Parameters
    ----------
    package : str
        Package holding the default file (``__package__`` of the caller).
    filename : str
        The default file's name in ``package`` (``rules.yml``).
    path : str or Path, optional
        A user's rule file; None reads the packaged default.
    what : str
        What the rules are, for messages (``segmentation rules``).

    Raises
    ------
    UserError
        Missing file, invalid YAML, a key given twice, or not a mapping at the top level.
    """
    if path is None:
        source = f"{package.rsplit('.', 1)[-1]}/{filename}"
        text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    else:
        source = str(path)
        if not Path(path).is_file():
            raise UserError(
                f"{source}: {what} file not found", hint="leave it out to use the packaged defaults"
            )
        text = Path(path).read_text(encoding="utf-8")
    try:
        data = load_unique_yaml(text, source)
    except yaml.YAMLError as exc:
        raise UserError(f"{source}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not isinstance(data, dict):
        found = type(data).__name__
        raise UserError(f"{source}: expected a mapping of {what} at the top level, got {found}")
    return data, source


class RuleChecker:
    """Field checks raising a UserError that names the file and the key (``rules.yml: scores.bins: ...``)."""

    def __init__(self, source: str, hint: str | None = None):
        self.source = source
        self.hint = hint

    def fail(self, key: str, problem: str, hint: str | None = None) -> NoReturn:
        where = f"{self.source}: {key}: " if key else f"{self.source}: "
        raise UserError(where + problem, hint=hint or self.hint)

    def section(self, data: dict, key: str) -> dict:
        value = data.get(key)
        if not isinstance(value, dict):
            self.fail(key, f"missing or not a mapping (got {value!r})")
        return value

    def get(self, data: dict, key: str, name: str) -> Any:
        if key not in data:
            self.fail(name, "missing")
        return data[key]

    def number(
        self, data: dict, key: str, name: str, low: float = float("-inf"), high: float = float("inf")
    ) -> float:
        value = self.get(data, key, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            self.fail(name, f"expected a number in [{low}, {high}], got {value!r}")
        return float(value)

    def positive(self, data: dict, key: str, name: str) -> float:
        value = self.get(data, key, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            self.fail(name, f"expected a positive number, got {value!r}")
        return float(value)

    def integer(self, data: dict, key: str, name: str, low: int, high: int) -> int:
        value = self.get(data, key, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(name, f"expected an integer in [{low}, {high}], got {value!r}")
        return value

    def text(self, data: dict, key: str, name: str) -> str:
        value = self.get(data, key, name)
        if not isinstance(value, str) or not value.strip():
            self.fail(name, f"expected a non-empty text, got {value!r}")
        return value

    def choice(self, data: dict, key: str, name: str, options: tuple[str, ...]) -> str:
        value = self.get(data, key, name)
        if value not in options:
            self.fail(name, f"expected one of {', '.join(options)}, got {value!r}")
        return value

    def sequence(self, data: dict, key: str) -> list:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            self.fail(key, f"missing or not a non-empty list (got {value!r})")
        return value

    def known_keys(self, data: dict, known, where: str = "") -> None:
        unknown = [k for k in data if k not in known]
        if unknown:
            self.fail(where, f"unknown key {unknown[0]!r}", hint=f"known keys: {', '.join(map(str, known))}")
