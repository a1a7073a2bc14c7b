"""Fashion-MNIST and CIFAR-10 readers and downloads, and the checks every reader shares: small
synthetic files with the test's own hash tables, a local HTTP server on 127.0.0.1."""

import gzip
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
from served import Served, closed_url, md5
from synthetic import write

from lottery_init.data import fashion_mnist, idx
from lottery_init.data.dataset import DataError, Images, check_sizes, normalize, replacing
from lottery_init.data.fetch import download

TRAIN_IMAGES = idx.FILES[("train", "x")]
DEBIAN_FILES = not idx.missing([fashion_mnist.DEBIAN])
needs_debian = pytest.mark.skipif(
    not DEBIAN_FILES,
    reason=f"Debian's dataset-fashion-mnist package is not installed ({fashion_mnist.DEBIAN})",
)


# Fashion-MNIST-like IDX files: 6 training and 4 test images.


def idx_arrays(seed: int) -> dict[str, np.ndarray]:
    """The four arrays of a small IDX dataset, by file name."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", 6), ("test", 4)):
        arrays[idx.FILES[(split, "x")]] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[idx.FILES[(split, "y")]] = rng.integers(0, 10, n, dtype=np.uint8)
    return arrays


def encoded(arrays: dict[str, np.ndarray]) -> dict[str, bytes]:
    return {name: idx.encode(array) for name, array in arrays.items()}


def small(dataset, plain: dict[str, bytes], **changes):
    """`dataset` stating the MD5s of the synthetic `plain` files and their sizes."""
    sizes = {"train": 6, "test": 4}
    return replace(dataset, md5={n: md5(d) for n, d in plain.items()}, sizes=sizes, **changes)


def assert_holds(images: Images, arrays: dict[str, np.ndarray]) -> None:
    """`images` are the synthetic IDX arrays, with a channel axis added."""
    for split in ("train", "test"):
        x, y = getattr(images, f"{split}_x"), getattr(images, f"{split}_y")
        assert torch.equal(x, torch.from_numpy(arrays[idx.FILES[(split, "x")]]).unsqueeze(1))
        assert torch.equal(y, torch.from_numpy(arrays[idx.FILES[(split, "y")]]).long())


@pytest.fixture
def fashion(stated):
    return stated("fashion_mnist")


@pytest.fixture
def no_debian(tmp_path, monkeypatch):
    """Debian's package folder, empty."""
    folder = tmp_path / "debian"
    folder.mkdir()
    monkeypatch.setattr(fashion_mnist, "DEBIAN", folder)
    return folder


def served_fashion(server: Served, fashion, arrays: dict[str, np.ndarray]):
    """The synthetic files served gzipped, as the official download serves them, and the
    Dataset stating their sums and the server's URL."""
    plain = encoded(arrays)
    packed = {f"{name}.gz": gzip.compress(data) for name, data in plain.items()}
    server.files.update(packed)
    download_md5 = {name: md5(data) for name, data in packed.items()}
    return small(fashion, plain, url=server.url, download_md5=download_md5)


# Fashion-MNIST.


@pytest.fixture(scope="module")
def debian_fashion(stated, tmp_path_factory):
    """Fashion-MNIST read once from Debian's package (decompressing it takes a while)."""
    # The URL leads nowhere, so a missing file fails rather than downloads.
    dataset = replace(stated("fashion_mnist"), url=closed_url())
    return fashion_mnist.load(tmp_path_factory.mktemp("data"), dataset), dataset


@needs_debian
def test_fashion_mnist_from_debians_package_has_the_official_splits(debian_fashion):
    images, _ = debian_fashion
    assert images.train_x.shape == (60000, 1, 28, 28) and images.test_x.shape == (10000, 1, 28, 28)
    assert images.train_x.dtype == torch.uint8 and images.train_y.dtype == torch.int64
    # Fashion-MNIST's classes are balanced: 6,000 training and 1,000 test images each.
    assert images.train_y.bincount().tolist() == [6000] * 10
    assert images.test_y.bincount().tolist() == [1000] * 10


@needs_debian
def test_fashion_mnist_from_debians_package_names_its_files_with_the_official_md5(debian_fashion):
    images, dataset = debian_fashion
    debian = fashion_mnist.DEBIAN
    assert images.files == {str(debian / f"{n}.gz"): dataset.md5[n] for n in idx.FILES.values()}


def test_fashion_mnist_in_torchvisions_layout_takes_precedence_over_debians(
    fashion, tmp_path, monkeypatch
):
    ours, theirs = idx_arrays(1), idx_arrays(2)
    write(fashion_mnist.raw_dir(tmp_path), encoded(ours))
    # Debian's folder holds other files under the same names: read, they would fail their MD5.
    debian = tmp_path / "debian"
    write(debian, {f"{n}.gz": gzip.compress(d) for n, d in encoded(theirs).items()})
    monkeypatch.setattr(fashion_mnist, "DEBIAN", debian)
    dataset = small(fashion, encoded(ours), url=closed_url())
    images = fashion_mnist.load(tmp_path, dataset)
    assert_holds(images, ours)
    raw = fashion_mnist.raw_dir(tmp_path)
    assert images.files == {str(raw / n): dataset.md5[n] for n in idx.FILES.values()}


def test_fashion_mnist_downloads_into_torchvisions_layout_and_loads(
    fashion, server, no_debian, tmp_path
):
    arrays = idx_arrays(3)
    dataset = served_fashion(server, fashion, arrays)
    images = fashion_mnist.load(tmp_path / "data", dataset)
    assert_holds(images, arrays)
    raw = fashion_mnist.raw_dir(tmp_path / "data")
    assert sorted(p.name for p in raw.iterdir()) == sorted(server.files)
    assert all((raw / name).read_bytes() == data for name, data in server.files.items())


def test_a_truncated_download_is_named_and_leaves_nothing_behind(
    fashion, server, no_debian, tmp_path
):
    dataset = served_fashion(server, fashion, idx_arrays(4))
    name = f"{TRAIN_IMAGES}.gz"
    server.cut.add(name)
    with pytest.raises(DataError, match=re.escape(f"could not download {server.url}{name}")):
        fashion_mnist.load(tmp_path, dataset)
    # Nothing under the name, and no temporary file: at most other files, downloaded whole.
    left = {p.name for p in fashion_mnist.raw_dir(tmp_path).iterdir()}
    assert name not in left and left <= set(server.files)


def test_a_download_with_another_checksum_is_named_and_leaves_nothing_behind(
    fashion, server, no_debian, tmp_path
):
    dataset = served_fashion(server, fashion, idx_arrays(5))
    name = f"{TRAIN_IMAGES}.gz"
    dataset.download_md5[name] = md5(b"another file")
    expected = f"the download of {server.url}{name} does not match its official MD5"
    with pytest.raises(DataError, match=re.escape(expected)):
        fashion_mnist.load(tmp_path, dataset)
    left = {p.name for p in fashion_mnist.raw_dir(tmp_path).iterdir()}
    assert name not in left and left <= set(server.files)


def test_fashion_mnist_found_nowhere_names_the_three_ways_to_get_it(fashion, no_debian, tmp_path):
    url = closed_url()
    with pytest.raises(DataError) as error:
        fashion_mnist.load(tmp_path, replace(fashion, url=url))
    message = str(error.value)
    expected = (
        f"Fashion-MNIST's {TRAIN_IMAGES} is missing; put the official files in "
        f"{fashion_mnist.raw_dir(tmp_path)}, install Debian's dataset-fashion-mnist package, "
        f"or let it download (could not download {url}{TRAIN_IMAGES}.gz: "
    )
    assert message.startswith(expected) and message.endswith(").")


def test_a_download_from_a_url_that_is_not_http_is_refused_as_such(tmp_path):
    with pytest.raises(DataError, match="could not download None/x.gz: not an http"):
        download("None/x.gz", md5(b""), tmp_path, "x.gz")
    assert list(tmp_path.iterdir()) == []


# CIFAR-10: 2 records in each training batch, 3 in the test batch.


def test_files_holding_other_sizes_than_the_dataset_states_are_refused(fashion, tmp_path):
    plain = encoded(idx_arrays(10))
    write(fashion_mnist.raw_dir(tmp_path), plain)
    dataset = replace(small(fashion, plain, url=closed_url()), sizes={"train": 7, "test": 4})
    expected = (
        "fashion_mnist's train files hold images (6, 1, 28, 28) and 6 labels, "
        "not the (7, 1, 28, 28) the dataset states."
    )
    with pytest.raises(DataError) as error:
        fashion_mnist.load(tmp_path, dataset)
    assert str(error.value) == expected


def test_fewer_labels_than_images_are_refused(fashion):
    x = torch.zeros(2, 1, 28, 28, dtype=torch.uint8)
    images = Images(x, torch.zeros(2, dtype=torch.long), x, torch.zeros(1, dtype=torch.long), {})
    with pytest.raises(DataError, match="test files hold images .* and 1 labels"):
        check_sizes(images, replace(fashion, sizes={"train": 2, "test": 2}))


def test_labels_outside_the_stated_classes_are_refused(fashion):
    x = torch.zeros(2, 1, 28, 28, dtype=torch.uint8)
    labels = torch.tensor([3, 12])
    images = Images(x, labels, x, torch.zeros(2, dtype=torch.long), {})
    with pytest.raises(DataError, match="train files hold labels 3 to 12, outside the 10 classes"):
        check_sizes(images, replace(fashion, sizes={"train": 2, "test": 2}))


def test_normalize_standardizes_each_channel_with_its_own_mean_and_std(stated):
    # Pixels 0 and 255 scale to exactly 0 and 1, and these means and stds are powers of two,
    # so the expected values are exact.
    dataset = replace(stated("cifar10"), mean=(0.5, 0.25, 0.75), std=(0.5, 0.25, 0.125))
    images = torch.tensor([[[[0, 255]], [[0, 255]], [[0, 255]]]], dtype=torch.uint8)
    expected = torch.tensor([[[[-1.0, 1.0]], [[-1.0, 3.0]], [[-6.0, 2.0]]]])
    result = normalize(images, dataset)
    assert result.dtype == torch.float32 and torch.equal(result, expected)


def test_normalize_of_one_channel_is_the_mnist_formula(stated):
    images = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16)
    expected = (images.float() / 255 - 0.1307) / 0.3081
    assert torch.equal(normalize(images, stated("mnist")), expected)


def test_a_bad_file_that_a_system_package_installed_is_reinstalled_not_deleted(tmp_path):
    debian = fashion_mnist.DEBIAN / f"{TRAIN_IMAGES}.gz"
    reinstall = f"reinstall the package that installed it (dpkg -S {debian} names it)"
    assert replacing(debian) == reinstall
    assert replacing(tmp_path / "x.gz") == "delete it to have it fetched again"
