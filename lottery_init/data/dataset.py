"""The data contract: what a dataset states (`conf/data/*.yaml`), what its reader returns, and
the checks every reader shares."""

import gzip
import hashlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch


class DataError(RuntimeError):
    """A dataset's files are missing, corrupt, or could not be fetched."""


@dataclass(frozen=True)
class Dataset:
    """A dataset's facts, as `conf/data/<name>.yaml` states them with their sources."""

    name: str
    shape: tuple[int, ...]  # one image: channels, height, width
    classes: int
    sizes: dict[str, int]  # images in the official `train` and `test` splits
    mean: tuple[float, ...]  # per channel, of the training images scaled to [0, 1]
    std: tuple[float, ...]
    md5: dict[str, str]  # of each file's content as read (decompressed)
    url: str | None = None  # where the files can be downloaded, when they can
    download_md5: dict[str, str] = field(default_factory=dict)  # of each file as served

    @property
    def features(self) -> int:
        """Numbers per image: channels x height x width."""
        return math.prod(self.shape)


@dataclass
class Images:
    """A dataset's images as uint8 `[N, C, H, W]`, labels as int64 `[N]`, and the files read
    with the MD5 each was verified against."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    files: dict[str, str]


def read_checked(path: Path, md5: str, what: str, gunzip: bool = True) -> bytes:
    """The content of `path` (gunzipped when it ends in .gz and `gunzip`), after checking its
    MD5 against `md5`, the official sum of `what` (e.g. "Fashion-MNIST file")."""
    try:
        data = path.read_bytes()
        data = gzip.decompress(data) if gunzip and path.suffix == ".gz" else data
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError(f"{path} is unreadable ({err}); {replacing(path)}.") from err
    if hashlib.md5(data).hexdigest() != md5:
        raise DataError(
            f"{path} does not match the official {what} (MD5 mismatch); {replacing(path)}."
        )
    return data


def replacing(path: Path) -> str:
    """How to replace a bad data file: delete it to fetch it again, or, where a system package
    installed it (Debian's dataset-fashion-mnist, under /usr), reinstall that package."""
    if path.is_relative_to("/usr") or not os.access(path.parent, os.W_OK):
        return f"reinstall the package that installed it (dpkg -S {path} names it)"
    return "delete it to have it fetched again"


def check_sizes(images: Images, dataset: Dataset) -> None:
    """Stop when the files hold other splits, image shapes or classes than the dataset states."""
    for split, x, y in (
        ("train", images.train_x, images.train_y),
        ("test", images.test_x, images.test_y),
    ):
        expected = (dataset.sizes[split], *dataset.shape)
        if tuple(x.shape) != expected or len(y) != len(x):
            raise DataError(
                f"{dataset.name}'s {split} files hold images {tuple(x.shape)} and {len(y)} labels, "
                f"not the {expected} the dataset states."
            )
        if len(y) and not 0 <= int(y.min()) <= int(y.max()) < dataset.classes:
            raise DataError(
                f"{dataset.name}'s {split} files hold labels {int(y.min())} to {int(y.max())}, "
                f"outside the {dataset.classes} classes the dataset states."
            )


def normalize(images: torch.Tensor, dataset: Dataset) -> torch.Tensor:
    """uint8 images `[N, C, H, W]` to float32: scaled to [0, 1], then standardized per channel."""
    x = images.float() / 255
    if len(dataset.mean) == 1:
        # A Python scalar keeps MNIST's numbers bit-identical to those before the data contract.
        return (x - dataset.mean[0]) / dataset.std[0]
    mean = torch.tensor(dataset.mean).view(-1, 1, 1)
    return (x - mean) / torch.tensor(dataset.std).view(-1, 1, 1)


def dataset_of(config: Mapping[str, Any]) -> Dataset:
    """The `Dataset` a data config (`cfg.data`, or a plain dict of it) states."""
    return Dataset(
        name=config["name"],
        shape=tuple(config["shape"]),
        classes=config["classes"],
        sizes=dict(config["sizes"]),
        mean=tuple(config["mean"]),
        std=tuple(config["std"]),
        md5=dict(config["md5"]),
        url=config.get("url"),
        download_md5=dict(config.get("download_md5") or {}),
    )
