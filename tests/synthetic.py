"""Synthetic stand-ins for dataset files, in their official formats, written independently of
the readers they test."""

import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np

from lottery_init.data import cifar10


def cifar_batches(
    seed: int, train: int = 2, test: int = 3
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Labels and `[N, 3, 32, 32]` images of each record file (`train` images in each training
    file, `test` in the test file), by batch name."""
    rng = np.random.default_rng(seed)
    batches = {}
    for split, names in cifar10.SPLITS.items():
        for name in names:
            n = train if split == "train" else test
            labels = rng.integers(0, 10, n, dtype=np.uint8)
            batches[name] = labels, rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    return batches


def record_file(labels: np.ndarray, images: np.ndarray) -> bytes:
    """CIFAR-10's binary records: a label byte, then the red, green and blue 32x32 planes."""
    return b"".join(
        bytes([label]) + red.tobytes() + green.tobytes() + blue.tobytes()
        for label, (red, green, blue) in zip(labels, images, strict=True)
    )


def binary_archive(batches, extra: dict[str, bytes] | None = None, skip: str = "") -> bytes:
    """The official archive's layout, gzipped tar, with `extra` members and without `skip`."""
    members = {
        f"cifar-10-batches-bin/{name}.bin": record_file(*batch)
        for name, batch in batches.items()
        if name != skip
    }
    members.update(extra or {})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_cifar_archive(folder: Path, per_file: int, seed: int = 0) -> str:
    """A `cifar-10-binary.tar.gz` of six record files of `per_file` images in `folder`; its MD5."""
    data = binary_archive(cifar_batches(seed, per_file, per_file))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / cifar10.ARCHIVE).write_bytes(data)
    return hashlib.md5(data).hexdigest()


def write(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
