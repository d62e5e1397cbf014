"""Photos from the clipboard: copied files, or a copied image saved as a PNG in a temporary
folder (removed when the window closes) so it opens like any other photo."""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtGui import QGuiApplication, QImage

from .files import local_files


class PastedPhotos:
    def __init__(self) -> None:
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._count = 0

    def take(self) -> list[Path]:
        """The clipboard's photos: its local files, or its image saved; none when it holds neither."""
        clipboard = QGuiApplication.clipboard()
        data = clipboard.mimeData()
        files = local_files(data.urls()) if data.hasUrls() else []
        if files:
            return files
        image = clipboard.image()
        if image.isNull():
            return []
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="facemend-paste-")
        self._count += 1
        path = Path(self._folder.name) / f"Pasted photo {self._count}.png"
        image.convertToFormat(QImage.Format.Format_RGB888).save(str(path))
        return [path]

    def holds(self, path: Path) -> bool:
        """Whether ``path`` is a pasted image (not worth remembering as a recent file)."""
        return self._folder is not None and path.is_relative_to(self._folder.name)

    def cleanup(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
