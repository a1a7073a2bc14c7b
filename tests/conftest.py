"""Shared fixtures."""

import http.server
import math
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from served import Handler, Served

from lottery_init.config.compose import compose
from lottery_init.config.paths import ROOT
from lottery_init.data import mnist
from lottery_init.data.dataset import Dataset, dataset_of
from lottery_init.training.process import prepare_training_process


@pytest.fixture(scope="session", autouse=True)
def training_process() -> None:
    """The tests train in this process, so it is set up as an entry point sets up its own; with
    pytest-xdist's workers, each (and each command it starts) takes its share of the cores."""
    prepare_training_process()
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        # Each worker's torch would otherwise run a thread per core, and threads that wait for
        # each other on oversubscribed cores make an epoch many times slower.
        threads = max(1, (os.cpu_count() or 1) // workers)
        torch.set_num_threads(threads)
        os.environ["OMP_NUM_THREADS"] = str(threads)


@pytest.fixture(scope="session")
def mnist_raw() -> Path:
    """The verified MNIST raw folder under the repository's data directory (fetched once)."""
    return mnist.prepare(ROOT / "data", dataset_of(compose(["data=mnist"]).data))


def stated(name: str) -> Dataset:
    """The Dataset that `conf/data/<name>.yaml` states (MD5 tables, sizes, url, mean, std)."""
    return dataset_of(OmegaConf.load(ROOT / "conf" / "data" / f"{name}.yaml"))


@pytest.fixture(name="stated", scope="session")
def stated_fixture() -> Callable[[str], Dataset]:
    """`stated(name)`: the Dataset of `conf/data/<name>.yaml`; tests patch its tables with
    `dataclasses.replace`."""
    return stated


class Measured:
    """The largest difference a test observed per quantity, with the tolerance it asserts."""

    def __init__(self) -> None:
        self.largest: dict[str, tuple[float, float]] = {}

    def __call__(self, quantity: str, differences: Iterable[float], tolerance: float) -> float:
        """Keep the largest of `differences` (NaN wins, so a diverged run shows) and return it."""
        values = [abs(d) for d in differences]
        largest = math.nan if any(map(math.isnan, values)) else max(values, default=0.0)
        before = self.largest.get(quantity)
        if before is None or math.isnan(largest) or largest > before[0]:
            self.largest[quantity] = (largest, tolerance)
        return largest


@pytest.fixture
def measured(request: pytest.FixtureRequest) -> Measured:
    """Record `measured(quantity, differences, tolerance)` before asserting: `make test-gpu`
    then prints each test's largest differences, failed tests included, so that the first run
    on a new GPU shows how far each tolerance could be tightened."""
    record = Measured()
    # The call phase's report copies this list, so the numbers reach the summary hook below
    # whether the test passes or fails.
    request.node.user_properties.append(("measured", record.largest))
    return record


_measured_reports: list[tuple[str, dict[str, tuple[float, float]]]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep, in the order the tests ran, what each test recorded through `measured`."""
    if report.when == "call":
        recorded = [v for k, v in report.user_properties if k == "measured" and v]
        _measured_reports.extend((report.nodeid, largest) for largest in recorded)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per test that recorded differences; nothing when no test did."""
    if not _measured_reports:
        return
    terminalreporter.write_sep("=", "largest differences measured, against the tolerances")
    for nodeid, largest in _measured_reports:
        parts = [
            f"{quantity} max |diff| {value:.3g} (tolerance {tolerance:g})"
            for quantity, (value, tolerance) in largest.items()
        ]
        terminalreporter.write_line(f"{nodeid.split('::')[-1]}: {'; '.join(parts)}")


@pytest.fixture
def server(monkeypatch):
    """An HTTP server on 127.0.0.1 serving the files the test puts in `files`."""
    # A proxy configured on the machine must not be asked for the local server.
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.files, httpd.cut = {}, set()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield Served(f"http://127.0.0.1:{httpd.server_port}/", httpd.files, httpd.cut)
    httpd.shutdown()
    httpd.server_close()
    thread.join()
