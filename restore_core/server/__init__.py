"""Facemend as a local HTTP service: the enhance-faces API and a Topaz-compatible restore API.

Both APIs queue jobs for one device worker that runs the same ``Pipeline`` as the CLI, so the
same settings give the same pixels. Job state lives in SQLite under the server's data folder,
results in one private folder per job until they expire. Start it with ``facemend-server``
(``cli``); build the ASGI app with ``create_app`` (``app``).
"""

from .config import ServerConfig

__all__ = ["ServerConfig"]
