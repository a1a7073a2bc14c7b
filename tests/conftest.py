"""Shared fixtures."""

from pathlib import Path

import pytest

from lottery_init import mnist
from lottery_init.config import ROOT


@pytest.fixture(scope="session")
def mnist_raw() -> Path:
    """The verified MNIST raw folder under the repository's data directory (fetched once)."""
    return mnist.prepare(ROOT / "data")
