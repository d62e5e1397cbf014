"""How a server runs: where it listens, who may call it, where jobs live, what it accepts.

``ServerConfig`` is frozen and built once (by ``facemend-server``'s flags, or by a test);
every part of the server reads it and nothing changes it. A server listening beyond this
machine without an API key is refused here, before a socket is opened.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FacemendError
from ..params import LimitSettings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 13490  # the enhance-faces tool's own port, so its clients find Facemend where they expect it
API_KEY_ENV = "FACEMEND_API_KEY"
DATA_DIR_ENV = "FACEMEND_SERVER_DATA"
#: large enough for a 16-bit TIFF scan or a camera RAW, small enough to refuse a disk filler
DEFAULT_MAX_UPLOAD_MB = 256
DEFAULT_KEEP_RESULTS_S = 24 * 3600.0
DEFAULT_MAX_QUEUE = 32
#: long side of the WebP preview made beside each enhance-faces result
PREVIEW_SIDE = 1024


class ServerConfigError(FacemendError):
    """The server cannot start as asked (an open bind without a key, a bad folder)."""


def default_data_dir() -> Path:
    """``FACEMEND_SERVER_DATA`` when set, else ``server/`` in the user data folder."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_data_dir("Facemend", appauthor=False)) / "server"


@dataclass(frozen=True)
class ServerConfig:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    #: required on every request (``X-API-Key``) when set; required to listen beyond loopback
    api_key: str | None = None
    #: the job table (SQLite) and one private folder per job
    data_dir: Path = field(default_factory=default_data_dir)
    #: finished jobs' files are deleted this long after they finish
    keep_results_s: float = DEFAULT_KEEP_RESULTS_S
    #: jobs waiting for the worker; one more is answered 429
    max_queue: int = DEFAULT_MAX_QUEUE
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1_000_000
    #: the CLI's pixel and decompression-ratio budgets; a request cannot raise them
    limits: LimitSettings = field(default_factory=LimitSettings)
    device: str = "auto"
    allow_download: bool = True
    #: fetch ``reference_uri`` from public http(s) addresses (never private or local ones)
    allow_remote_references: bool = False

    def __post_init__(self) -> None:
        if self.api_key is not None and not self.api_key.strip():
            raise ServerConfigError("the API key is empty; give a non-empty --api-key or unset FACEMEND_API_KEY")
        if self.api_key is None and not is_loopback(self.host):
            raise ServerConfigError(
                f"refusing to listen on {self.host} without an API key: a server reachable from other machines "
                f"needs one (--api-key KEY or {API_KEY_ENV}=KEY), or listen on {DEFAULT_HOST}"
            )
        if self.keep_results_s <= 0 or self.max_queue < 1 or self.max_upload_bytes < 1:
            raise ServerConfigError("keep-results, max-queue and max-upload must be positive")

    @property
    def sweep_interval_s(self) -> float:
        """How often expired results are looked for: often enough that none outlives its time by much."""
        return min(60.0, max(0.05, self.keep_results_s / 4))


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything
