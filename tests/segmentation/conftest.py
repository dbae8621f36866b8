"""Fixtures of the segmentation tests (helpers to build frames and connections are in ``oracle.py``)."""

from __future__ import annotations

import pytest

from salesperf.analyses.segmentation import load_rules


@pytest.fixture(scope="session")
def rules():
    return load_rules()
