"""Independent, reproducible random streams derived from a run's seed."""

import hashlib

import torch


def generator(seed: int, stream: str) -> torch.Generator:
    """A CPU generator for one named stream (`init`, `data`, ...) of a run's seed (`config.validate`
    checks that seeds are non-negative)."""
    # Hashing seed and stream name keeps the streams of one seed unrelated to each other.
    digest = hashlib.sha256(f"{stream}:{seed}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))
