"""Datasets behind one contract (`dataset.py`), served to a population by `ImageDataModule`."""

from lottery_init.data.datamodule import ImageDataModule

__all__ = ["ImageDataModule"]
