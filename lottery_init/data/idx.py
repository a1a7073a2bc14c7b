"""The IDX format of MNIST and Fashion-MNIST (LeCun et al.): a magic number, big-endian sizes,
then the bytes."""

from pathlib import Path

import numpy as np
import torch

from lottery_init.data.dataset import DataError, Dataset, Images, check_sizes, read_checked

# The four files of an IDX dataset, by split and kind.
FILES = {
    ("train", "x"): "train-images-idx3-ubyte",
    ("train", "y"): "train-labels-idx1-ubyte",
    ("test", "x"): "t10k-images-idx3-ubyte",
    ("test", "y"): "t10k-labels-idx1-ubyte",
}


def encode(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array (magic 0x08 = unsigned byte, then big-endian sizes)."""
    header = bytes([0, 0, 0x08, array.ndim])
    sizes = np.array(array.shape, dtype=">u4").tobytes()
    return header + sizes + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def parse(data: bytes) -> torch.Tensor:
    """A uint8 tensor from IDX bytes."""
    ndim = data[3]
    shape = np.frombuffer(data, dtype=">u4", count=ndim, offset=4)
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return torch.from_numpy(array.reshape(shape.astype(int)).copy())


def find(folder: Path, name: str) -> Path | None:
    """The plain or gzipped copy of an IDX file in `folder`, if either exists."""
    for path in (folder / name, folder / f"{name}.gz"):
        if path.exists():
            return path
    return None


def missing(folders: list[Path]) -> list[str]:
    """The IDX files found in none of `folders`."""
    return [name for name in FILES.values() if all(find(f, name) is None for f in folders)]


def load(folders: list[Path], dataset: Dataset, what: str) -> Images:
    """The dataset from its four IDX files, each taken from the first of `folders` holding it
    and checked against its official MD5 (`what` names the files in errors)."""
    tensors, files = {}, {}
    for (split, kind), name in FILES.items():
        path = next((p for f in folders if (p := find(f, name)) is not None), None)
        if path is None:
            raise DataError(
                f"{name} of {dataset.name} is in none of {', '.join(map(str, folders))}."
            )
        tensors[f"{split}_{kind}"] = parse(read_checked(path, dataset.md5[name], what))
        files[str(path)] = dataset.md5[name]
    # IDX images carry no channel axis; a grey image has one channel.
    for split in ("train", "test"):
        tensors[f"{split}_x"] = tensors[f"{split}_x"].unsqueeze(1)
        tensors[f"{split}_y"] = tensors[f"{split}_y"].long()
    images = Images(**tensors, files=files)
    check_sizes(images, dataset)
    return images
