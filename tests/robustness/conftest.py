"""Small companies whose CRM text is hostile, and the runs of them that the robustness tests read.

``hostile_text_company``
    The demo company (400 customers, 3 years until 2026-10-31) with hostile text in every name a report shows
    (see ``hostile.py``).
``lookalike_regions_company``
    The same with the regions ``East``, ``east``, ``EAST!`` and one of 300 characters.
``hostile_text_run``
    ``salesperf run`` of the whole default report set on the first (real CLI, papermill, two workers).
``hostile_fanout_run``
    ``salesperf run --each region --reports overview`` on the second.

The runs that collected tests need start in the background, side by side, as soon as the first is asked for.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from hostile import LOOKALIKE_REGIONS, build_hostile_company
from support import salesperf_run

_RUNS = {  # run -> (company fixture, arguments)
    "hostile_text_run": ("hostile_text_company", ("--workers", 2)),
    "hostile_fanout_run": (
        "lookalike_regions_company",
        ("--workers", 2, "--each", "region", "--reports", "overview"),
    ),
}


@pytest.fixture(scope="session")
def hostile_text_company(tmp_path_factory):
    return build_hostile_company(tmp_path_factory.mktemp("hostile_text_company"))


@pytest.fixture(scope="session")
def lookalike_regions_company(tmp_path_factory):
    return build_hostile_company(tmp_path_factory.mktemp("lookalike_regions_company"), LOOKALIKE_REGIONS)


@pytest.fixture(scope="session")
def _hostile_runs(request, tmp_path_factory):
    wanted = {name for item in request.session.items for name in item.fixturenames} & set(_RUNS)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hostile-run")
    futures = {}
    for name in sorted(wanted):
        company, args = _RUNS[name]
        data, out = request.getfixturevalue(company), tmp_path_factory.mktemp(name) / "reports"
        futures[name] = pool.submit(salesperf_run, data, out, *args, check=False)
    yield futures
    pool.shutdown(wait=True)


@pytest.fixture(scope="session")
def hostile_text_run(_hostile_runs):
    return _hostile_runs["hostile_text_run"].result()


@pytest.fixture(scope="session")
def hostile_fanout_run(_hostile_runs):
    return _hostile_runs["hostile_fanout_run"].result()
