"""CIFAR-10's reader: the official binary archive, torchvision's pickles read without running
code, downloads from a local HTTP server on 127.0.0.1, each with the test's own hash table."""

import os
import pickle
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
from served import closed_url, md5
from synthetic import binary_archive, cifar_batches, record_file, write

from lottery_init.data import cifar10
from lottery_init.data.dataset import DataError, Images


def python_batch(labels: np.ndarray, images: np.ndarray) -> bytes:
    """A batch of torchvision's Python version: a protocol-2 pickle of a dict with str keys."""
    batch = {
        "batch_label": "a synthetic batch",
        "labels": [int(label) for label in labels],
        "data": images.reshape(len(images), 3 * 32 * 32),
        "filenames": [f"image_{i}.png" for i in range(len(images))],
    }
    return pickle.dumps(batch, protocol=2)


def cifar_with(dataset, archive: bytes | None = None, **changes):
    """`dataset` at the synthetic sizes, stating `archive`'s MD5 when given."""
    md5s = dict(dataset.md5)
    if archive is not None:
        md5s[cifar10.ARCHIVE] = md5(archive)
    return replace(dataset, md5=md5s, sizes={"train": 10, "test": 3}, **changes)


def assert_cifar(images: Images, batches) -> None:
    """`images` are the synthetic batches in order, training batches 1 to 5 then the test one."""
    for split, names in cifar10.SPLITS.items():
        labels = np.concatenate([batches[n][0] for n in names]).astype(np.int64)
        pixels = np.concatenate([batches[n][1] for n in names])
        assert torch.equal(getattr(images, f"{split}_y"), torch.from_numpy(labels))
        assert torch.equal(getattr(images, f"{split}_x"), torch.from_numpy(pixels))


@pytest.fixture
def cifar(stated):
    return replace(stated("cifar10"), url=closed_url())


def test_cifar10_binary_archive_loads_exact_labels_and_rgb_planes(cifar, tmp_path):
    batches = cifar_batches(1)
    archive = binary_archive(batches)
    (tmp_path / cifar10.ARCHIVE).write_bytes(archive)
    images = cifar10.load(tmp_path, cifar_with(cifar, archive))
    assert images.train_x.shape == (10, 3, 32, 32) and images.test_x.shape == (3, 3, 32, 32)
    assert_cifar(images, batches)
    # Channel 0 is the first plane after the label byte (red), channel 2 the last (blue).
    record = record_file(*batches["data_batch_1"])[: cifar10.RECORD]
    assert images.train_x[0, 0].flatten().tolist() == list(record[1:1025])
    assert images.train_x[0, 2].flatten().tolist() == list(record[2049:])
    assert images.files == {str(tmp_path / cifar10.ARCHIVE): md5(archive)}


def test_a_cifar10_archive_with_another_md5_is_named(cifar, tmp_path):
    archive = binary_archive(cifar_batches(2))
    path = tmp_path / cifar10.ARCHIVE
    path.write_bytes(archive)
    expected = f"{path} does not match the official CIFAR-10 binary archive (MD5 mismatch)"
    with pytest.raises(DataError, match=re.escape(expected)):
        cifar10.load(tmp_path, cifar_with(cifar, binary_archive(cifar_batches(3))))


def test_a_cifar10_archive_without_a_record_file_is_named(cifar, tmp_path):
    archive = binary_archive(cifar_batches(4), skip="test_batch")
    (tmp_path / cifar10.ARCHIVE).write_bytes(archive)
    with pytest.raises(DataError, match="holds no cifar-10-batches-bin/test_batch.bin"):
        cifar10.load(tmp_path, cifar_with(cifar, archive))


def test_a_cifar10_archive_member_named_outside_writes_nothing(cifar, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # Were the archive extracted into data_dir or the working folder, both names would land in
    # tmp_path, where the test looks (and where a failing run does no harm).
    monkeypatch.chdir(data_dir)
    batches = cifar_batches(5)
    extra = {"../evil": b"relative", str(tmp_path / "absolute-evil"): b"absolute"}
    archive = binary_archive(batches, extra=extra)
    (data_dir / cifar10.ARCHIVE).write_bytes(archive)
    assert_cifar(cifar10.load(data_dir, cifar_with(cifar, archive)), batches)
    assert sorted(tmp_path.rglob("*")) == [data_dir, data_dir / cifar10.ARCHIVE]


def test_cifar10_in_torchvisions_python_layout_loads_the_same_images(cifar, tmp_path):
    batches = cifar_batches(6)
    folder = tmp_path / cifar10.PYTHON_DIR
    pickles = {name: python_batch(*batch) for name, batch in batches.items()}
    write(folder, pickles)
    dataset = cifar_with(replace(cifar, md5={n: md5(d) for n, d in pickles.items()}))
    images = cifar10.load(tmp_path, dataset)
    assert_cifar(images, batches)
    assert images.files == {str(folder / n): md5(d) for n, d in pickles.items()}


class Command:
    """A pickle that runs a shell command when loaded by an unrestricted unpickler."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_a_cifar10_python_batch_that_runs_code_is_refused(cifar, tmp_path):
    marker = tmp_path / "ran"
    pickles = {name: python_batch(*batch) for name, batch in cifar_batches(7).items()}
    pickles["data_batch_1"] = pickle.dumps(Command(f"touch {marker}"), protocol=2)
    write(tmp_path / cifar10.PYTHON_DIR, pickles)
    dataset = cifar_with(replace(cifar, md5={n: md5(d) for n, d in pickles.items()}))
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load \w+\.system"):
        cifar10.load(tmp_path, dataset)
    assert not marker.exists()


def test_cifar10_downloads_the_binary_archive_and_loads(cifar, server, tmp_path):
    batches = cifar_batches(8)
    archive = binary_archive(batches)
    server.files[cifar10.ARCHIVE] = archive
    download_md5 = {cifar10.ARCHIVE: md5(archive)}
    dataset = cifar_with(cifar, archive, url=server.url, download_md5=download_md5)
    assert_cifar(cifar10.load(tmp_path, dataset), batches)
    assert [p.name for p in tmp_path.iterdir()] == [cifar10.ARCHIVE]


def test_a_python_layout_missing_a_batch_gives_way_to_the_downloaded_archive(
    cifar, server, tmp_path
):
    batches = cifar_batches(9)
    pickles = {name: python_batch(*batch) for name, batch in batches.items()}
    del pickles["data_batch_3"]  # as after deleting a corrupt one, which the error message asks
    write(tmp_path / cifar10.PYTHON_DIR, pickles)
    archive = binary_archive(batches)
    server.files[cifar10.ARCHIVE] = archive
    download_md5 = {cifar10.ARCHIVE: md5(archive)}
    dataset = cifar_with(cifar, archive, url=server.url, download_md5=download_md5)
    images = cifar10.load(tmp_path, dataset)
    assert_cifar(images, batches)
    assert list(images.files) == [str(tmp_path / cifar10.ARCHIVE)]


def test_cifar10_found_nowhere_names_the_ways_to_get_it(cifar, tmp_path):
    expected = (
        f"CIFAR-10 is missing; put the official {cifar10.ARCHIVE} or torchvision's "
        f"{cifar10.PYTHON_DIR}/ in {tmp_path}, or let it download (could not download "
        f"{cifar.url}{cifar10.ARCHIVE}: "
    )
    with pytest.raises(DataError, match=re.escape(expected)):
        cifar10.load(tmp_path, cifar)
    assert list(tmp_path.iterdir()) == []


# The checks every reader shares.
