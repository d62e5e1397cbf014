"""``save_image``: a ``LoadedImage`` to a file, format by extension, never half-written.

The pixels are written as they are whenever the format holds them (depth, grey, alpha), so
everything the restoration did not touch stays bit-identical in PNG and TIFF. Otherwise:
16-bit goes to 8-bit with rounding; HDR goes through the same tone map the models saw, into
sRGB; grey with a colour profile goes to sRGB for formats without grey. The input's ICC
profile, EXIF (Orientation=1, no thumbnail, Software set), XMP and IPTC are carried to the
formats that hold them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import features

from .. import __version__
from ..errors import OutputError, SettingsError
from . import _convert, _hdr, _heif, _icc, _pil, _png, _tiff, metadata
from .atomic import WriteSet, atomic_write
from .image import LoadedImage
from .paths import check_output_path

SOFTWARE = f"Facemend {__version__}"


@dataclass(frozen=True)
class _Pixels:
    """What a writer gets: pixels and alpha in a dtype and layout the format holds, and their profile."""

    pixels: np.ndarray
    alpha: np.ndarray | None
    icc_profile: bytes | None


@dataclass(frozen=True)
class _Encoding:
    """What a writer gets besides the pixels: metadata to embed and the encoder's options."""

    exif: bytes
    xmp: bytes | None
    iptc: bytes | None
    quality: int
    lossless: bool


_Writer = Callable[[BinaryIO, _Pixels, _Encoding], None]


@dataclass(frozen=True)
class OutputFormat:
    name: str
    extensions: tuple[str, ...]
    write: _Writer
    holds_16bit: bool = False
    holds_float: bool = False
    holds_grey: bool = True
    holds_alpha: bool = True
    #: float data only (EXR, Radiance): integer images are refused rather than invented
    float_only: bool = False
    #: the longest side the format can store, None when practically unlimited
    max_side: int | None = None


def _write_png(fh: BinaryIO, px: _Pixels, enc: _Encoding) -> None:
    _png.write(fh, px.pixels, px.alpha, icc_profile=px.icc_profile, exif=enc.exif, xmp=enc.xmp, software=SOFTWARE)


def _write_tiff(fh: BinaryIO, px: _Pixels, enc: _Encoding) -> None:
    _tiff.write(
        fh,
        px.pixels,
        px.alpha,
        icc_profile=px.icc_profile,
        exif=enc.exif,
        xmp=enc.xmp,
        iptc=enc.iptc,
        software=SOFTWARE,
    )


def _write_pillow(fmt: str, fh: BinaryIO, px: _Pixels, enc: _Encoding) -> None:
    _pil.write(
        fh,
        fmt,
        px.pixels,
        px.alpha,
        quality=enc.quality,
        lossless=enc.lossless,
        icc_profile=px.icc_profile,
        exif=enc.exif,
        xmp=enc.xmp,
        iptc=enc.iptc,
    )


def _write_heif(fh: BinaryIO, px: _Pixels, enc: _Encoding) -> None:
    _heif.write(fh, px.pixels, px.alpha, quality=enc.quality, icc_profile=px.icc_profile, exif=enc.exif, xmp=enc.xmp)


def _write_exr(fh: BinaryIO, px: _Pixels, enc: _Encoding) -> None:
    _hdr.exr_write(fh, px.pixels, px.alpha)


def _write_radiance(fh: BinaryIO, px: _Pixels, enc: _Encoding) -> None:
    _hdr.radiance_write(fh, px.pixels)


def _output_formats() -> tuple[OutputFormat, ...]:
    formats = [
        OutputFormat("PNG", (".png",), _write_png, holds_16bit=True),
        OutputFormat("JPEG", (".jpg", ".jpeg"), partial(_write_pillow, "JPEG"), holds_alpha=False, max_side=65500),
        OutputFormat("TIFF", (".tif", ".tiff"), _write_tiff, holds_16bit=True, holds_float=True),
        OutputFormat("WebP", (".webp",), partial(_write_pillow, "WEBP"), holds_grey=False, max_side=16383),
        OutputFormat("EXR", (".exr",), _write_exr, holds_float=True, float_only=True),
        OutputFormat("Radiance HDR", (".hdr",), _write_radiance, holds_float=True, holds_alpha=False, float_only=True),
    ]
    if features.check("avif"):
        formats.append(
            OutputFormat("AVIF", (".avif",), partial(_write_pillow, "AVIF"), holds_grey=False, max_side=65536)
        )
    if _heif.encoder_available():
        formats.append(OutputFormat("HEIC", (".heic", ".heif"), _write_heif, holds_grey=False))
    return tuple(formats)


_FORMATS = _output_formats()
_BY_EXTENSION = {ext: fmt for fmt in _FORMATS for ext in fmt.extensions}
#: every extension save_image writes (with an encoder present), lower case with the dot
OUTPUT_EXTENSIONS: frozenset[str] = frozenset(_BY_EXTENSION)


def save_image(
    image: LoadedImage,
    path: str | Path,
    *,
    overwrite: bool = False,
    quality: int = 95,
    lossless: bool = False,
    writes: WriteSet | None = None,
) -> Path:
    """Write ``image`` to ``path`` in the format its extension names; returns the path.

    ``quality`` (1-100) is for JPEG, WebP, AVIF and HEIC; ``lossless`` selects lossless WebP.
    Raises ``OutputError`` for an unknown extension, a format without an encoder here, an
    image the format cannot hold, an existing file without ``overwrite``, the input file
    itself, or a failed write (which leaves nothing behind). With ``writes`` the file is
    staged in that set and lands when the set commits.
    """
    target = Path(path)
    if not 1 <= quality <= 100:
        raise SettingsError(f"quality must be between 1 and 100, got {quality}")
    fmt = _format_for(target)
    if fmt.max_side is not None and max(image.width, image.height) > fmt.max_side:
        raise OutputError(
            target,
            f"{fmt.name} holds at most {fmt.max_side} pixels per side; this image is {image.width} x {image.height}",
        )
    if fmt.float_only and not image.is_hdr:
        raise OutputError(
            target,
            f"{fmt.name} stores floating-point HDR images; this one is {image.bit_depth}-bit: save it as PNG or TIFF",
        )
    if image.alpha is not None and not fmt.holds_alpha:
        raise OutputError(target, f"{fmt.name} cannot hold transparency: save it as PNG, TIFF or WebP")
    if writes is not None:
        overwrite = writes.may_replace(target)
    check_output_path(image.path, target, overwrite=overwrite)  # before the pixels are converted
    px = _pixels_for(image, fmt)
    exif_limit = metadata.JPEG_SEGMENT_LIMIT if fmt.name == "JPEG" else None
    enc = _Encoding(
        exif=metadata.output_exif(
            image.exif, software=SOFTWARE, width=image.width, height=image.height, limit=exif_limit
        ),
        xmp=image.xmp,
        iptc=image.iptc,
        quality=quality,
        lossless=lossless,
    )
    if writes is not None:
        return writes.add(target, lambda fh: fmt.write(fh, px, enc))
    return atomic_write(target, lambda fh: fmt.write(fh, px, enc), overwrite=overwrite)


def default_output_suffix(image: LoadedImage) -> str:
    """The extension to save ``image`` with when the user did not choose one.

    The input's own extension when Facemend writes it and it holds the image; otherwise
    EXR for HDR, TIFF for 16-bit, PNG for the rest.
    """
    suffix = image.path.suffix.lower() if image.path is not None else ""
    fmt = _BY_EXTENSION.get(suffix)
    if fmt is not None and _holds(fmt, image):
        return suffix
    if image.is_hdr:
        return ".exr"
    return ".tif" if image.bit_depth == 16 else ".png"


def _holds(fmt: OutputFormat, image: LoadedImage) -> bool:
    """Whether ``fmt`` stores ``image`` at its depth, with its alpha."""
    depth_ok = fmt.holds_float if image.is_hdr else not fmt.float_only and (image.bit_depth == 8 or fmt.holds_16bit)
    return depth_ok and (fmt.holds_alpha or image.alpha is None)


def _format_for(target: Path) -> OutputFormat:
    suffix = target.suffix.lower()
    fmt = _BY_EXTENSION.get(suffix)
    if fmt is not None:
        return fmt
    if suffix in (".heic", ".heif", ".avif"):
        raise OutputError(target, f"no {suffix[1:].upper()} encoder is installed here; save as JPEG, PNG or WebP")
    known = ", ".join(sorted(OUTPUT_EXTENSIONS))
    raise OutputError(target, f"cannot write {suffix or 'a file without extension'}: use one of {known}")


def _pixels_for(image: LoadedImage, fmt: OutputFormat) -> _Pixels:
    pixels, alpha, icc = image.pixels, image.alpha, image.icc_profile
    if fmt.float_only:
        return _Pixels(pixels, alpha, None)
    depth = np.uint16 if fmt.holds_16bit else np.uint8
    needs_srgb = (image.is_hdr and not fmt.holds_float) or (image.is_gray and not fmt.holds_grey and icc is not None)
    if needs_srgb:
        # the same conversion the models saw (tone map, profile), at the depth the format holds
        display = image._converter.to_display(pixels, depth)
        return _Pixels(display, None if alpha is None else _alpha_as(alpha, depth), _icc.srgb_profile())
    if image.is_gray and not fmt.holds_grey:
        pixels = np.repeat(pixels, 3, axis=2)
    if pixels.dtype == np.uint16 and depth == np.uint8:
        pixels = _convert.requantise(pixels, np.dtype(np.uint8))
        alpha = None if alpha is None else _convert.requantise(alpha, np.dtype(np.uint8))
    return _Pixels(pixels, alpha, icc)


def _alpha_as(alpha: np.ndarray, dtype: type[np.unsignedinteger]) -> np.ndarray:
    if alpha.dtype == np.float32:
        return np.rint(np.clip(alpha, 0.0, 1.0) * np.iinfo(dtype).max).astype(dtype)
    return _convert.requantise(alpha, np.dtype(dtype))
