"""The registry: results are read from the run's store, waited for while another report computes them, and
given up on (not recomputed) when that report failed."""

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from salesperf.analyses import registry
from salesperf.analyses.base import FAILED, PENDING, Context, Result
from salesperf.core.present import Tile


@dataclass
class _Store:
    """The two attributes of a Dataset the registry reads."""

    store: Path
    results: dict = field(default_factory=dict)


def test_a_promised_result_is_waited_for(tmp_path):
    ds = _Store(tmp_path)
    folder = tmp_path / "lifecycle"
    folder.mkdir()
    (folder / PENDING).write_text("")
    expected = Result("lifecycle", [Tile("Customers", "1,700")], ["Found later."])
    writer = threading.Timer(0.5, expected.save, args=(folder,))
    started = time.monotonic()
    writer.start()
    found = registry.result("lifecycle", ds, Context())
    assert time.monotonic() - started >= 0.5
    assert found.findings == ["Found later."] and ds.results["lifecycle"] is found  # kept for the next reader


def test_a_failed_upstream_report_gives_no_result_and_is_not_computed_again(tmp_path):
    ds = _Store(tmp_path)
    folder = tmp_path / "lifecycle"
    folder.mkdir()
    (folder / PENDING).write_text("")
    (folder / FAILED).write_text("ValueError: boom")
    started = time.monotonic()
    assert registry.result("lifecycle", ds, Context()) is None
    assert time.monotonic() - started < 5  # no computation on the (absent) data


def test_a_promised_result_that_never_comes_times_out(tmp_path):
    ds = _Store(tmp_path)
    (tmp_path / "lifecycle").mkdir()
    (tmp_path / "lifecycle" / PENDING).write_text("")
    assert registry.result("lifecycle", ds, Context(), wait_seconds=0.3) is None


def test_upstream_results_are_fetched_only_when_read(tmp_path):
    ds = _Store(tmp_path)
    Result("lifecycle", findings=["Stored."]).save(tmp_path / "lifecycle")
    upstream = registry.Upstream(("lifecycle",), ds, Context())
    assert ds.results == {}  # nothing read yet
    assert upstream["lifecycle"].findings == ["Stored."] and list(upstream) == ["lifecycle"]
    assert upstream.get("overview") is None  # not one of the analyses it uses


def test_two_processes_can_store_the_same_result_at_once(tmp_path):
    """Two kernels of one run may compute and store the same analysis; neither may fail."""
    import multiprocessing

    result = Result("overview", [Tile("Revenue", "¥1")], ["Same."])
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(result.save, [tmp_path / "overview"] * 40)
    assert Result.load(tmp_path / "overview").findings == ["Same."]
    assert not list((tmp_path / "overview").glob("*.partial"))
