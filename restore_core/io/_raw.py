"""Camera RAW and DNG through rawpy (LibRaw): developed with the camera's white balance into
16-bit sRGB. LibRaw turns the image upright itself."""

from __future__ import annotations

from typing import BinaryIO

from . import _tiff, metadata
from ._codec import Decoded

#: LibRaw's flip codes that turn the image a quarter
_QUARTER_TURNS = (5, 6)
#: the sRGB curve (power, toe slope); LibRaw's default is the BT.709 curve
_SRGB_GAMMA = (2.4, 12.92)


def size(fh: BinaryIO) -> tuple[int, int]:
    import rawpy

    fh.seek(0)
    with rawpy.RawPy() as raw:
        raw.open_buffer(fh)
        sizes = raw.sizes
    width, height = int(sizes.width), int(sizes.height)
    return (height, width) if sizes.flip in _QUARTER_TURNS else (width, height)


def read(fh: BinaryIO) -> Decoded:
    import rawpy

    fh.seek(0)
    with rawpy.RawPy() as raw:
        raw.open_buffer(fh)
        raw.unpack()
        rgb = raw.postprocess(use_camera_wb=True, output_color=rawpy.ColorSpace.sRGB, output_bps=16, gamma=_SRGB_GAMMA)
    # TIFF-based RAWs (DNG, CR2, NEF, ARW, ...) keep their camera EXIF in IFD0
    exif = _tiff.tiff_exif(fh) if _is_tiff(fh) else None
    return Decoded(rgb, None, exif=metadata.upright_exif(exif))


def _is_tiff(fh: BinaryIO) -> bool:
    fh.seek(0)
    return fh.read(4) in (b"II*\0", b"MM\0*")
