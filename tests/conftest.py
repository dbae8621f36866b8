"""Fixtures for every test. Shared constants and helpers live in ``support.py``: import them from there
(``from support import PERIOD``), never from ``conftest``, which a test folder's own conftest.py would shadow."""

from support import *  # noqa: F403 - the session fixtures
from support import _background_runs  # noqa: F401 - a fixture whose name starts with an underscore
