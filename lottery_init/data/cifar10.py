"""CIFAR-10 from its official binary archive (read whole, records by member name) or from
torchvision's Python version (read without running its pickles)."""

import io
import tarfile
from pathlib import Path

import numpy as np
import torch

from lottery_init.data.dataset import DataError, Dataset, Images, check_sizes, read_checked
from lottery_init.data.fetch import download
from lottery_init.data.unpickle import safe_load

ARCHIVE = "cifar-10-binary.tar.gz"
PYTHON_DIR = "cifar-10-batches-py"  # torchvision's download
SPLITS = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
RECORD = 1 + 3 * 32 * 32  # a label byte, then the red, green and blue 32x32 planes


def prepare(data_dir: str | Path, dataset: Dataset) -> None:
    """Download the official binary archive when neither it nor torchvision's copy is there."""
    data_dir = Path(data_dir)
    # A torchvision folder missing a batch (one deleted for being corrupt) counts as missing, so
    # that the archive is downloaded and read instead.
    python = [data_dir / PYTHON_DIR / n for names in SPLITS.values() for n in names]
    if (data_dir / ARCHIVE).exists() or all(p.exists() for p in python):
        return
    try:
        download(f"{dataset.url}{ARCHIVE}", dataset.download_md5[ARCHIVE], data_dir, ARCHIVE)
    except DataError as err:
        raise DataError(
            f"CIFAR-10 is missing; put the official {ARCHIVE} or torchvision's {PYTHON_DIR}/ in "
            f"{data_dir}, or let it download ({err})."
        ) from err


def records(data: bytes, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images `[N, 3, 32, 32]` and labels of a binary record file's bytes."""
    if len(data) % RECORD:
        raise DataError(f"{name} is not a whole number of {RECORD}-byte CIFAR-10 records.")
    rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD)
    images = torch.from_numpy(rows[:, 1:].reshape(-1, 3, 32, 32).copy())
    return images, torch.from_numpy(rows[:, 0].astype(np.int64))


def from_archive(path: Path, dataset: Dataset) -> tuple[dict[str, list], dict[str, str]]:
    """Each split's (images, labels) parts from the verified archive, members read by name."""
    data = read_checked(path, dataset.md5[ARCHIVE], "CIFAR-10 binary archive", gunzip=False)
    parts = {}
    # Members are looked up by their known names and read into memory: nothing is extracted,
    # so no name inside the archive can choose where a file is written.
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for split, names in SPLITS.items():
            parts[split] = [records(member(archive, f"{n}.bin", path), n) for n in names]
    return parts, {str(path): dataset.md5[ARCHIVE]}


def member(archive: tarfile.TarFile, name: str, path: Path) -> bytes:
    """The bytes of the archive's record file `name`, read in memory."""
    try:
        file = archive.extractfile(f"cifar-10-batches-bin/{name}")
    except KeyError:
        file = None
    if file is None:  # absent, or not a regular file
        raise DataError(
            f"{path} holds no cifar-10-batches-bin/{name}; it is not CIFAR-10's archive."
        )
    return file.read()


def from_python(folder: Path, dataset: Dataset) -> tuple[dict[str, list], dict[str, str]]:
    """Each split's (images, labels) parts from torchvision's verified pickles."""
    parts, files = {}, {}
    for split, names in SPLITS.items():
        parts[split] = []
        for name in names:
            data = read_checked(folder / name, dataset.md5[name], "CIFAR-10 Python batch")
            batch = safe_load(data)
            images = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            labels = np.asarray(batch["labels"], dtype=np.int64)
            parts[split].append((torch.from_numpy(images.copy()), torch.from_numpy(labels)))
            files[str(folder / name)] = dataset.md5[name]
    return parts, files


def load(data_dir: str | Path, dataset: Dataset) -> Images:
    """CIFAR-10, fetched when missing and verified: uint8 images `[N, 3, 32, 32]`, labels."""
    data_dir = Path(data_dir)
    prepare(data_dir, dataset)
    archive = data_dir / ARCHIVE
    parts, files = (
        from_archive(archive, dataset)
        if archive.exists()
        else from_python(data_dir / PYTHON_DIR, dataset)
    )
    joined = {s: [torch.cat(t) for t in zip(*parts[s], strict=True)] for s in SPLITS}
    (train_x, train_y), (test_x, test_y) = joined["train"], joined["test"]
    images = Images(train_x, train_y, test_x, test_y, files)
    check_sizes(images, dataset)
    return images
