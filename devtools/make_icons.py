"""Render the app icon from icons/facemend.svg into every size and format the desktops want.

    python -m devtools.make_icons            # rewrite the PNGs, .ico and .icns beside the SVG

Outputs (committed, so builds on any OS need nothing but the files):
- icons/facemend-<N>.png for the freedesktop hicolor sizes (Linux menus, the AppImage, the
  app's own window icon);
- icons/facemend.ico with 16..256 px frames (Windows executable, installer, file types);
- icons/facemend.icns with 32..1024 px entries (macOS bundle).
Each size is rendered from the vector drawing, not scaled down from a large bitmap, so small
sizes stay sharp. Run it again after changing the SVG; tests/test_packaging.py checks that the
committed PNGs still match the drawing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SVG = ICONS / "facemend.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (32, 64, 128, 256, 512, 1024)


def png_path(size: int) -> Path:
    return ICONS / f"facemend-{size}.png"


def render(svg: Path, size: int) -> Image.Image:
    """The SVG drawn at ``size`` x ``size`` pixels as an RGBA image, transparent outside the drawing."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])  # QPainter needs one
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG drawing")
    canvas = QImage(size, size, QImage.Format.Format_RGBA8888)
    canvas.fill(Qt.GlobalColor.transparent)
    painter = QPainter(canvas)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    rgba = np.frombuffer(canvas.constBits(), np.uint8).reshape(size, canvas.bytesPerLine() // 4, 4)[:, :size]
    return Image.fromarray(rgba.copy(), "RGBA")


def main() -> int:
    renders = {size: render(SVG, size) for size in sorted(set(PNG_SIZES + ICO_SIZES + ICNS_SIZES))}
    for size in PNG_SIZES:
        renders[size].save(png_path(size), optimize=True)
    largest_ico = renders[max(ICO_SIZES)]
    largest_ico.save(
        ICONS / "facemend.ico",
        sizes=[(size, size) for size in ICO_SIZES],
        append_images=[renders[size] for size in ICO_SIZES if size != max(ICO_SIZES)],
    )
    largest_icns = renders[max(ICNS_SIZES)]
    largest_icns.save(
        ICONS / "facemend.icns", append_images=[renders[size] for size in ICNS_SIZES if size != max(ICNS_SIZES)]
    )
    print(f"wrote {len(PNG_SIZES)} PNGs, facemend.ico and facemend.icns in {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
