"""TIFF: read at full depth with tifffile, written with tifffile plus the EXIF it cannot write.

tifffile decodes plain grey and RGB(A) data (8/16-bit, float) compressed with zlib, PackBits,
LZMA or Zstandard; LZW and JPEG need the imagecodecs package, so such 16-bit and float files
go to OpenCV's libtiff, and everything else (palette, CMYK, bilevel, ...) to Pillow at 8 bits.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from . import _pil, metadata
from ._codec import Decoded, DecodeError

if TYPE_CHECKING:
    from PIL import Image
    from tifffile import TiffPage

_ICC = 34675
_XMP = 700
_IPTC = 33723
_MINISBLACK, _RGB = 1, 2
#: compressions tifffile decodes without imagecodecs: none, Adobe deflate, deflate, PackBits, LZMA, Zstd
_NATIVE_COMPRESSIONS = frozenset({1, 8, 32946, 32773, 34925, 50000})
#: no predictor, or horizontal differencing (tifffile does that in numpy)
_NATIVE_PREDICTORS = frozenset({1, 2})
_DTYPES = (np.uint8, np.uint16, np.float16, np.float32)
#: IFD0 text tags carried into a written TIFF, besides ImageDescription and Software
_TEXT_TAGS = (0x010F, 0x0110, 0x0132, 0x013B, 0x8298)  # Make, Model, DateTime, Artist, Copyright
#: above this size tifffile must write BigTIFF, whose EXIF sub-IFDs this module does not write
_CLASSIC_TIFF_LIMIT = 2**32 - 2**25
# tifffile refuses to write the EXIF and GPS pointer tags, so it writes these unassigned
# neighbours instead: they sort into the same place in IFD0, and are renamed to the real tags
# once the sub-IFDs have been appended.
_POINTER_STANDINS = {metadata.EXIF_IFD: metadata.EXIF_IFD - 1, metadata.GPS_IFD: metadata.GPS_IFD - 1}


def size(fh: BinaryIO) -> tuple[int, int]:
    import tifffile

    fh.seek(0)
    with tifffile.TiffFile(fh) as tif:
        page = tif.pages.first
        width, height = int(page.imagewidth), int(page.imagelength)
        orientation = page.tags.valueof(274, 1)
    return (height, width) if metadata.swaps_axes(orientation) else (width, height)


def read(fh: BinaryIO) -> Decoded:
    import tifffile

    fh.seek(0)
    notes: list[str] = []
    with tifffile.TiffFile(fh) as tif:
        page = tif.pages.first
        if len(tif.pages) > 1:
            notes.append(f"TIFF with {len(tif.pages)} pages: only the first is used")
        tags = page.tags
        orientation = tags.valueof(274, 1)
        icc = tags.valueof(_ICC)
        xmp = tags.valueof(_XMP)
        iptc_tag = tags.get(_IPTC)
        iptc = _raw_tag_bytes(fh, iptc_tag.valueoffset, iptc_tag.valuebytecount) if iptc_tag else None
        if _plain(page) and page.compression in _NATIVE_COMPRESSIONS and page.predictor in _NATIVE_PREDICTORS:
            pixels, alpha = _split_samples(page.asarray(), page)
            if page.extrasamples and page.extrasamples[0] == 1:
                notes.append("premultiplied alpha read as straight alpha")
        elif _plain(page) and page.bitspersample > 8:
            pixels, alpha = _decode_with_opencv(fh)
        else:
            pixels, alpha, icc = _decode_with_pillow(fh, notes)
    exif = tiff_exif(fh)
    return Decoded(
        pixels,
        alpha,
        icc_profile=bytes(icc) if isinstance(icc, bytes | bytearray) and icc else None,
        exif=metadata.upright_exif(exif),
        xmp=metadata.upright_xmp(bytes(xmp)) if isinstance(xmp, bytes | bytearray) else None,
        iptc=iptc,
        orientation=orientation if orientation in range(1, 9) else 1,
        notes=tuple(notes),
    )


def write(
    fh: BinaryIO,
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    *,
    icc_profile: bytes | None,
    exif: bytes,
    xmp: bytes | None,
    iptc: bytes | None,
    software: str,
) -> None:
    """Pixels (uint8, uint16 or float32; grey or RGB) and alpha as deflate-compressed TIFF."""
    import tifffile
    from PIL import Image

    data = pixels if alpha is None else np.concatenate([pixels, alpha[..., None]], axis=2)
    if data.shape[2] == 1:
        data = data[..., 0]
    exif_data = Image.Exif()
    exif_data.load(exif)
    sub_ifds = {tag: exif_data.get_ifd(tag) for tag in (metadata.EXIF_IFD, metadata.GPS_IFD)}
    sub_ifds = {tag: entries for tag, entries in sub_ifds.items() if entries}
    bigtiff = data.nbytes > _CLASSIC_TIFF_LIMIT
    extratags: list[tuple[int, int | str, int, object, bool]] = [(metadata.ORIENTATION, "H", 1, 1, True)]
    extratags += [(tag, "s", 0, exif_data[tag], True) for tag in _TEXT_TAGS if isinstance(exif_data.get(tag), str)]
    if xmp:
        extratags.append((_XMP, "B", len(xmp), xmp, True))
    if iptc:
        extratags.append((_IPTC, 7, len(iptc), iptc, True))
    if not bigtiff:
        extratags += [(_POINTER_STANDINS[tag], 4, 1, 0, True) for tag in sub_ifds]
    description = exif_data.get(0x010E)
    with tifffile.TiffWriter(fh, bigtiff=bigtiff, byteorder="<") as writer:
        writer.write(
            data,
            photometric="rgb" if pixels.shape[2] == 3 else "minisblack",
            extrasamples=["unassalpha"] if alpha is not None else None,
            compression="zlib",
            predictor=data.dtype != np.float32,
            iccprofile=icc_profile,
            software=software,
            description=description if isinstance(description, str) else None,
            resolution=_resolution(exif_data),
            resolutionunit=exif_data.get(0x0128, 2) if _resolution(exif_data) else None,
            metadata=None,
            extratags=extratags,
        )
    if sub_ifds and not bigtiff:
        _append_sub_ifds(fh, sub_ifds)


def _plain(page: TiffPage) -> bool:
    """Grey or RGB samples (plus alpha) in a dtype the working conversions handle."""
    base = {_MINISBLACK: 1, _RGB: 3}.get(int(page.photometric))
    return base is not None and page.dtype in _DTYPES and page.samplesperpixel >= base


def _split_samples(array: np.ndarray, page: TiffPage) -> tuple[np.ndarray, np.ndarray | None]:
    if page.axes.startswith("S"):  # planar configuration: samples first
        array = np.moveaxis(array, 0, -1)
    if array.ndim == 2:
        array = array[..., None]
    if array.dtype == np.float16:
        array = array.astype(np.float32)
    base = 1 if int(page.photometric) == _MINISBLACK else 3
    alpha = np.ascontiguousarray(array[..., base]) if array.shape[2] > base else None
    return np.ascontiguousarray(array[..., :base]), alpha


def _decode_with_opencv(fh: BinaryIO) -> tuple[np.ndarray, np.ndarray | None]:
    import cv2

    fh.seek(0)
    array = cv2.imdecode(np.frombuffer(fh.read(), dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise DecodeError("corrupt or truncated TIFF data, or a compression Facemend cannot read")
    if array.ndim == 2:
        return array[..., None], None
    if array.shape[2] == 4:
        cv2.cvtColor(array, cv2.COLOR_BGRA2RGBA, dst=array)
        return np.ascontiguousarray(array[..., :3]), np.ascontiguousarray(array[..., 3])
    if array.shape[2] != 3:
        raise DecodeError(f"TIFF with {array.shape[2]} channels is not supported")
    cv2.cvtColor(array, cv2.COLOR_BGR2RGB, dst=array)
    return array, None


def _decode_with_pillow(fh: BinaryIO, notes: list[str]) -> tuple[np.ndarray, np.ndarray | None, bytes | None]:
    from PIL import TiffImagePlugin

    fh.seek(0)
    image = TiffImagePlugin.TiffImageFile(fh)
    image.load()
    return _pil.pixels_of(image, notes)


def tiff_exif(fh: BinaryIO) -> Image.Exif | None:
    """IFD0 of any TIFF-structured file (TIFF, DNG, most camera RAWs) as EXIF; sub-IFDs are read from ``fh`` on demand."""
    from PIL import Image

    fh.seek(0)
    exif = Image.Exif()
    try:
        exif.load_from_fp(fh)
    except (SyntaxError, ValueError, OSError, struct.error, KeyError):
        return None  # BigTIFF or a damaged IFD: the pixels are still usable without EXIF
    return exif


def _raw_tag_bytes(fh: BinaryIO, offset: int, count: int) -> bytes | None:
    position = fh.tell()
    fh.seek(offset)
    data = fh.read(count)
    fh.seek(position)
    return data or None


def _resolution(exif: Image.Exif) -> tuple[float, float] | None:
    x, y = exif.get(0x011A), exif.get(0x011B)
    if x is None or y is None:
        return None
    try:
        return float(x), float(y)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _append_sub_ifds(fh: BinaryIO, sub_ifds: dict[int, dict[int, object]]) -> None:
    """Append EXIF/GPS IFDs at the end of a classic little-endian TIFF; point IFD0's stand-ins at them."""
    from PIL import TiffImagePlugin

    fh.seek(0, 2)
    end = fh.tell()
    if end % 2:
        fh.write(b"\0")
        end += 1
    # A small IFD holding the sub-IFDs as values; Pillow lays them out after it, with offsets
    # counted from the start of the file because it is told where the block begins.
    holder = TiffImagePlugin.ImageFileDirectory_v2(ifh=b"II*\0\x08\0\0\0")
    for tag, entries in sub_ifds.items():
        holder[tag] = entries
    block = holder.tobytes(end)
    fh.write(block)
    (count,) = struct.unpack_from("<H", block, 0)
    pointers = {}
    for i in range(count):
        tag, _type, _count, value = struct.unpack_from("<HHII", block, 2 + 12 * i)
        pointers[_POINTER_STANDINS[tag]] = (tag, value)
    fh.seek(4)
    (ifd0,) = struct.unpack("<I", fh.read(4))
    fh.seek(ifd0)
    (entries,) = struct.unpack("<H", fh.read(2))
    for i in range(entries):
        entry = ifd0 + 2 + 12 * i
        fh.seek(entry)
        (code,) = struct.unpack("<H", fh.read(2))
        if code in pointers:
            tag, offset = pointers[code]
            fh.seek(entry)
            fh.write(struct.pack("<HHII", tag, 4, 1, offset))
    fh.seek(0, 2)
