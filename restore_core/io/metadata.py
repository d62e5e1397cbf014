"""EXIF orientation, and the metadata carried from input to output.

Pixels are made upright on load, so the EXIF kept with them says Orientation=1, and its
thumbnail (a picture of the unrestored photo) is dropped. On output the Software tag and the
pixel dimensions are updated.
"""

from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

ORIENTATION = 0x0112
SOFTWARE = 0x0131
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
_INTEROP_IFD = 0xA005
_PIXEL_X = 0xA002
_PIXEL_Y = 0xA003
_MAKER_NOTE = 0x927C
#: Microsoft's padding tag: meaningless once the EXIF is rewritten
_PADDING = 0xEA1C
#: IFD0 tags that describe the photo. In a TIFF or DNG, IFD0 also describes the file's own
#: layout (strips, tiles, compression, sub-IFDs), which must never be copied into another file.
_DESCRIPTIVE_IFD0_TAGS = frozenset(
    {
        0x010E,  # ImageDescription
        0x010F,  # Make
        0x0110,  # Model
        ORIENTATION,
        0x011A,  # XResolution
        0x011B,  # YResolution
        0x0128,  # ResolutionUnit
        SOFTWARE,
        0x0132,  # DateTime
        0x013B,  # Artist
        0x4746,  # Rating
        0x4749,  # RatingPercent
        0x8298,  # Copyright
        0x9C9B,  # XPTitle
        0x9C9C,  # XPComment
        0x9C9D,  # XPAuthor
        0x9C9E,  # XPKeywords
        0x9C9F,  # XPSubject
        EXIF_IFD,
        GPS_IFD,
    }
)
#: bytes of data one JPEG APP segment holds (EXIF, XMP, IPTC each live in one)
JPEG_SEGMENT_LIMIT = 65533


def apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """The stored array (H x W [x C]) turned upright for an EXIF orientation of 1-8."""
    if orientation == 2:
        turned = array[:, ::-1]
    elif orientation == 3:
        turned = array[::-1, ::-1]
    elif orientation == 4:
        turned = array[::-1]
    elif orientation == 5:
        turned = array.swapaxes(0, 1)
    elif orientation == 6:
        turned = array[::-1].swapaxes(0, 1)
    elif orientation == 7:
        turned = array[::-1, ::-1].swapaxes(0, 1)
    elif orientation == 8:
        turned = array[:, ::-1].swapaxes(0, 1)
    else:
        return array
    return np.ascontiguousarray(turned)


def orientation_of(exif: Image.Exif | None) -> int:
    """The EXIF orientation, 1 when absent or out of range."""
    if exif is None:
        return 1
    value = exif.get(ORIENTATION, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def swaps_axes(orientation: int) -> bool:
    return orientation in (5, 6, 7, 8)


def upright_exif(exif: Image.Exif | None) -> bytes | None:
    """EXIF for upright pixels: descriptive IFD0 tags with Orientation=1, EXIF and GPS IFDs, no thumbnail.

    ``exif`` must still be attached to its file (sub-IFDs of a TIFF are read on demand). EXIF
    too damaged to rewrite is dropped: the photo itself is still good.
    """
    if exif is None:
        return None
    try:
        return _upright_exif(exif)
    except (SyntaxError, ValueError, TypeError, KeyError, IndexError, OSError, struct.error):
        return None


def _upright_exif(exif: Image.Exif) -> bytes | None:
    from PIL import Image

    clean = Image.Exif()
    for tag, value in exif.items():
        if tag in _DESCRIPTIVE_IFD0_TAGS and tag not in (EXIF_IFD, GPS_IFD):
            clean[tag] = value
    exif_ifd = {t: v for t, v in exif.get_ifd(EXIF_IFD).items() if t not in (_INTEROP_IFD, _PADDING)}
    if exif_ifd:
        clean[EXIF_IFD] = exif_ifd
    gps_ifd = dict(exif.get_ifd(GPS_IFD))
    if gps_ifd:
        clean[GPS_IFD] = gps_ifd
    if not clean:
        return None
    clean[ORIENTATION] = 1
    return clean.tobytes()


def output_exif(exif: bytes | None, *, software: str, width: int, height: int, limit: int | None = None) -> bytes:
    """The EXIF to write: the input's, with Software and the pixel dimensions of the output.

    With ``limit`` (a JPEG APP1 segment) a MakerNote that does not fit is dropped first.
    """
    from PIL import Image

    out = Image.Exif()
    if exif:
        out.load(exif)
    out[SOFTWARE] = software
    out[ORIENTATION] = 1
    exif_ifd = dict(out.get_ifd(EXIF_IFD))
    if exif_ifd:
        exif_ifd.update({_PIXEL_X: width, _PIXEL_Y: height})
        out[EXIF_IFD] = exif_ifd
    data = out.tobytes()
    if limit is not None and len(data) > limit and _MAKER_NOTE in exif_ifd:
        del exif_ifd[_MAKER_NOTE]
        out[EXIF_IFD] = exif_ifd
        data = out.tobytes()
    return data


_XMP_ORIENTATION = re.compile(rb'(tiff:Orientation\s*=\s*["\']|<tiff:Orientation>\s*)\d(?=\s*["\'<])')


def upright_xmp(xmp: bytes | str | None) -> bytes | None:
    """XMP with any tiff:Orientation set to 1, to agree with the upright pixels."""
    if not xmp:
        return None
    data = xmp.encode("utf-8") if isinstance(xmp, str) else bytes(xmp)
    return _XMP_ORIENTATION.sub(rb"\g<1>1", data)


def iptc_from_photoshop(resources: dict[int, bytes] | None) -> bytes | None:
    """IPTC-IIM data from Photoshop image resources (JPEG APP13, PSD), resource 0x0404."""
    if not resources:
        return None
    return resources.get(0x0404) or None


def photoshop_app13(iptc: bytes) -> bytes:
    """A JPEG APP13 segment holding ``iptc`` as Photoshop image resource 0x0404."""
    padded = iptc + b"\0" * (len(iptc) % 2)
    body = b"Photoshop 3.0\0" + b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(iptc)) + padded
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body
