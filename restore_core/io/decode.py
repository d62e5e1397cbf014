"""``load_image`` and ``image_size``: any supported photo in, upright, at full depth.

Every file is opened read-only and recognised by its content. The pixel count is read from
the header and checked against the limit before any decoder touches the pixel data, so a
decompression bomb costs a header read. Whatever a decoder raises on a broken file becomes
one ``InputError`` naming the file and the reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO, TypeVar

import numpy as np
from PIL import Image

from ..errors import InputError
from ..limits import DEFAULT_MAX_PIXELS, DEFAULT_MAX_PIXELS_PER_BYTE, RATIO_CHECK_ABOVE_PIXELS
from . import _hdr, _heif, _icc, _pil, _psd, _raw, _tiff, metadata
from ._codec import Decoded, DecodeError
from .formats import detect_format
from .image import LoadedImage

_T = TypeVar("_T")
_READABLE = "JPEG, PNG, TIFF, WebP, BMP, TGA, GIF, HEIC/HEIF, AVIF, camera RAW and DNG, PSD, EXR and Radiance HDR"


@dataclass(frozen=True)
class _Reader:
    #: upright (width, height) from the header alone
    size: Callable[[BinaryIO], tuple[int, int]]
    read: Callable[[BinaryIO], Decoded]


_READERS: dict[str, _Reader] = {
    **{fmt: _Reader(partial(_pil.size, fmt=fmt), partial(_pil.read, fmt=fmt)) for fmt in _pil.FORMATS},
    "TIFF": _Reader(_tiff.size, _tiff.read),
    "HEIF": _Reader(_heif.size, _heif.read),
    "RAW": _Reader(_raw.size, _raw.read),
    "PSD": _Reader(_psd.size, _psd.read),
    "EXR": _Reader(_hdr.exr_size, _hdr.exr_read),
    "HDR": _Reader(_hdr.radiance_size, _hdr.radiance_read),
}


@dataclass(frozen=True)
class ImageProbe:
    """What a file's header says, once it has passed the limits: nothing is decoded."""

    format: str  # as ``LoadedImage.format``
    width: int  # upright
    height: int


def load_image(
    path: str | Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_pixels_per_byte: float = DEFAULT_MAX_PIXELS_PER_BYTE,
) -> LoadedImage:
    """Decode ``path`` into an upright ``LoadedImage`` with read-only pixels.

    Raises ``InputError`` for missing, empty, truncated, corrupt or unsupported files, for
    images of more than ``max_pixels`` pixels, and for large images (over 50 MP) packed into
    fewer than one byte per ``max_pixels_per_byte`` pixels; both refused before decoding.
    """
    path = Path(path)
    with _open_input(path) as fh:
        probe, reader = _checked_header(path, fh, max_pixels, max_pixels_per_byte)
        decoded = _guarded(path, probe.format, lambda: reader.read(fh))
    return _loaded(path, probe.format, decoded)


def probe_image(
    path: str | Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_pixels_per_byte: float = DEFAULT_MAX_PIXELS_PER_BYTE,
) -> ImageProbe:
    """The checks ``load_image`` makes before it decodes, alone: format, size and limits from
    the header. Raises the same ``InputError`` for an unreadable, unsupported or oversized file."""
    path = Path(path)
    with _open_input(path) as fh:
        return _checked_header(path, fh, max_pixels, max_pixels_per_byte)[0]


def _checked_header(
    path: Path, fh: BinaryIO, max_pixels: int, max_pixels_per_byte: float
) -> tuple[ImageProbe, _Reader]:
    fmt, reader = _reader_for(path, fh)
    width, height = _guarded(path, fmt, lambda: reader.size(fh))
    if width <= 0 or height <= 0:
        raise InputError(path, f"the {fmt} header gives an empty image ({width} x {height})")
    if width * height > max_pixels:
        raise InputError(
            path,
            f"{width} x {height} pixels ({width * height / 1e6:.0f} MP) is over the limit of "
            f"{max_pixels / 1e6:.0f} MP; not decoded (a decompression bomb, or raise the limit "
            "with --max-megapixels)",
        )
    file_size = os.fstat(fh.fileno()).st_size
    if width * height > RATIO_CHECK_ABOVE_PIXELS and width * height > max_pixels_per_byte * file_size:
        raise InputError(
            path,
            f"{width} x {height} pixels ({width * height / 1e6:.0f} MP) packed in {file_size / 1e6:.1f} MB is "
            f"{width * height / file_size:.0f} pixels per byte, more than photos compress to (limit "
            f"{max_pixels_per_byte:g}); not decoded, as a decompression bomb (if the file is genuine, raise "
            "the limit with --max-pixels-per-byte)",
        )
    return ImageProbe(fmt, width, height), reader


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of the upright image, from the file's header; nothing is decoded."""
    path = Path(path)
    with _open_input(path) as fh:
        fmt, reader = _reader_for(path, fh)
        return _guarded(path, fmt, lambda: reader.size(fh))


@contextmanager
def _open_input(path: Path) -> Iterator[BinaryIO]:
    if path.is_dir():
        raise InputError(path, "is a folder, not an image file")
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with below; read-only: the original is never opened for writing
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as exc:
        raise InputError(path, f"cannot open: {exc.strerror or exc}") from None
    with fh:
        if os.fstat(fh.fileno()).st_size == 0:
            raise InputError(path, "empty file (0 bytes)")
        yield fh


def _reader_for(path: Path, fh: BinaryIO) -> tuple[str, _Reader]:
    fmt = detect_format(fh, path.suffix)
    if fmt is None or fmt not in _READERS:
        raise InputError(path, f"not an image Facemend can read (it reads {_READABLE})")
    return fmt, _READERS[fmt]


def _guarded(path: Path, fmt: str, step: Callable[[], _T]) -> _T:
    """Run a reader step; any failure on a bad file becomes an InputError."""
    try:
        return step()
    except InputError:
        raise
    except DecodeError as exc:
        raise InputError(path, str(exc)) from exc
    except Image.DecompressionBombError as exc:
        # Pillow checks WebP, GIF frames and MPO headers against its own, lower limit
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6
        raise InputError(path, f"over the limit of {limit:.0f} MP Pillow sets for {fmt} files; not decoded") from exc
    except MemoryError:
        raise InputError(path, "not enough memory to decode this image") from None
    except Exception as exc:
        raise InputError(path, f"cannot decode this {fmt} file: {exc}") from exc


def _loaded(path: Path, fmt: str, decoded: Decoded) -> LoadedImage:
    pixels = metadata.apply_orientation(decoded.pixels, decoded.orientation)
    alpha = None if decoded.alpha is None else metadata.apply_orientation(decoded.alpha, decoded.orientation)
    notes = list(decoded.notes)
    icc = decoded.icc_profile
    if icc and pixels.dtype != np.float32 and _icc.parse(icc, pixels.shape[2]) is None:
        notes.append(
            "the embedded colour profile is unusable for this image and was dropped; colours are treated as sRGB"
        )
        icc = None
    pixels.flags.writeable = False
    if alpha is not None:
        alpha.flags.writeable = False
    return LoadedImage(
        pixels=pixels,
        alpha=alpha,
        path=path,
        format=fmt,
        icc_profile=icc,
        exif=decoded.exif,
        xmp=decoded.xmp,
        iptc=decoded.iptc,
        notes=tuple(notes),
    )
