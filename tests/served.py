"""A local HTTP server on 127.0.0.1 for download tests, and small helpers they share."""

import hashlib
import http.server
import socket
from dataclasses import dataclass


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def closed_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens: any download from it fails at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves `server.files` by name; a name in `server.cut` is sent half, though its headers
    state the full length, as a dropped connection delivers it."""

    def do_GET(self) -> None:
        name = self.path.lstrip("/")
        body = self.server.files.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if name in self.server.cut else body)

    def log_message(self, *args) -> None:
        """Quiet, so that the tests' output is not the server's log."""


@dataclass
class Served:
    url: str
    files: dict[str, bytes]
    cut: set[str]
