"""Fashion-MNIST's four IDX files: torchvision's layout, Debian's package, or the official
download, each verified on its decompressed content."""

from pathlib import Path

from lottery_init.data import idx
from lottery_init.data.dataset import DataError, Dataset, Images
from lottery_init.data.fetch import download

# Where Debian's dataset-fashion-mnist package installs the official files (recompressed).
DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def raw_dir(data_dir: str | Path) -> Path:
    """The torchvision layout: `data_dir/FashionMNIST/raw/`."""
    return Path(data_dir) / "FashionMNIST" / "raw"


def folders(data_dir: str | Path) -> list[Path]:
    """Where the files are looked for, in order: torchvision's layout, then Debian's package."""
    return [raw_dir(data_dir), DEBIAN]


def prepare(data_dir: str | Path, dataset: Dataset) -> None:
    """Download the files found in neither folder into torchvision's layout."""
    missing = idx.missing(folders(data_dir))
    for name in missing:
        try:
            download(
                f"{dataset.url}{name}.gz",
                dataset.download_md5[f"{name}.gz"],
                raw_dir(data_dir),
                f"{name}.gz",
            )
        except DataError as err:
            raise DataError(
                f"Fashion-MNIST's {name} is missing; put the official files in "
                f"{raw_dir(data_dir)}, install Debian's dataset-fashion-mnist package, or let "
                f"it download ({err})."
            ) from err


def load(data_dir: str | Path, dataset: Dataset) -> Images:
    """Fashion-MNIST, fetched when missing and verified: uint8 images `[N, 1, 28, 28]`, labels."""
    prepare(data_dir, dataset)
    return idx.load(folders(data_dir), dataset, "Fashion-MNIST file")
