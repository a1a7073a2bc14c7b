"""Downloads through pooch: checked against the file's MD5 as served, written whole or not at
all, with a progress bar."""

from pathlib import Path
from urllib.parse import urlparse

import pooch
import requests

from lottery_init.data.dataset import DataError


def download(url: str, md5: str, folder: Path, name: str) -> Path:
    """`url` saved as `folder/name` once its MD5 is `md5`; a failed or mismatching download
    leaves nothing under the name."""
    # pooch raises ValueError for an unknown URL scheme as for a hash mismatch; checking the
    # scheme here keeps the mismatch message below true.
    if urlparse(url).scheme not in ("http", "https"):
        raise DataError(f"could not download {url}: not an http(s) URL.")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        # pooch downloads into a temporary file beside the target and renames it only once the
        # hash matches, so an interrupted or corrupt download never takes the file's name.
        path = pooch.retrieve(
            url, known_hash=f"md5:{md5}", fname=name, path=folder, progressbar=True
        )
    except ValueError as err:  # pooch's hash mismatch
        raise DataError(f"the download of {url} does not match its official MD5 ({err}).") from err
    except (requests.RequestException, OSError) as err:
        raise DataError(f"could not download {url}: {why(err, url)}") from err
    return Path(path)


def why(err: Exception, url: str) -> str:
    """A failed download's cause in a few words (requests' own message runs to several lines)."""
    if isinstance(err, requests.ConnectionError):
        return f"{urlparse(url).netloc} could not be reached"
    return str(err)
