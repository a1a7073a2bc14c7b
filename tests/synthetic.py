"""Synthetic stand-ins for dataset files, in their official formats."""

import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np

from lottery_init.data import cifar10


def cifar_records(n: int, seed: int) -> bytes:
    """`n` CIFAR-10 binary records: a label byte, then 3072 pixel bytes, drawn from `seed`."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=(n, 1), dtype=np.uint8)
    pixels = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    return np.concatenate([labels, pixels], axis=1).tobytes()


def write_cifar_archive(folder: Path, per_file: int, seed: int = 0) -> str:
    """A `cifar-10-binary.tar.gz` of six record files of `per_file` records in `folder`; its MD5."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        names = [*cifar10.SPLITS["train"], *cifar10.SPLITS["test"]]
        for i, name in enumerate(names):
            data = cifar_records(per_file, seed + i)
            member = tarfile.TarInfo(f"cifar-10-batches-bin/{name}.bin")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / cifar10.ARCHIVE).write_bytes(buffer.getvalue())
    return hashlib.md5(buffer.getvalue()).hexdigest()
