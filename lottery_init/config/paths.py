"""Where things are: the repository root and the data folder a config names."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def data_dir(path: str) -> Path:
    """A configured data folder; relative paths start at the repository root."""
    return Path(path) if Path(path).is_absolute() else ROOT / path
