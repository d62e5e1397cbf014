"""Formats read and written through Pillow: JPEG, PNG, GIF, BMP, TGA, WebP, AVIF.

Pillow holds 8-bit data and 16-bit grey; 16-bit colour PNG is decoded by OpenCV (Pillow
would cut it to 8 bits) with the metadata still taken from Pillow.
"""

from __future__ import annotations

import io
from typing import BinaryIO

import numpy as np
from PIL import (
    AvifImagePlugin,
    BmpImagePlugin,
    GifImagePlugin,
    Image,
    ImageFile,
    JpegImagePlugin,
    PngImagePlugin,
    TgaImagePlugin,
    WebPImagePlugin,
)

from . import metadata
from ._codec import Decoded, DecodeError

# The plugin classes are built directly rather than through Image.open: that parses the header
# without Pillow's own pixel limit, leaving the limit (and its message) to load_image.
_OPENERS = {
    "JPEG": JpegImagePlugin.jpeg_factory,
    "PNG": PngImagePlugin.PngImageFile,
    "GIF": GifImagePlugin.GifImageFile,
    "BMP": BmpImagePlugin.BmpImageFile,
    "TGA": TgaImagePlugin.TgaImageFile,
    "WEBP": WebPImagePlugin.WebPImageFile,
    "AVIF": AvifImagePlugin.AvifImageFile,
}
FORMATS = tuple(_OPENERS)
#: formats whose header may carry EXIF (and so an orientation) that Pillow reads without decoding
_EXIF_FORMATS = ("JPEG", "PNG", "WEBP", "AVIF")
#: PNG colour types with more than one channel (RGB, grey+alpha, RGBA): Pillow cuts these to 8 bits
_PNG_COLOUR_TYPES = (2, 4, 6)
_PNG_GREY_ALPHA = 4


def size(fh: BinaryIO, fmt: str) -> tuple[int, int]:
    image = _open(fh, fmt)
    width, height = image.size
    if metadata.swaps_axes(metadata.orientation_of(_exif(image, fmt))):
        return height, width
    return width, height


def read(fh: BinaryIO, fmt: str) -> Decoded:
    image = _open(fh, fmt)
    notes: list[str] = []
    if getattr(image, "is_animated", False):  # GIF, APNG, WebP, MPO, AVIF; cheaper than counting frames
        notes.append(f"{fmt} with several frames: only the first is used")
    colour_type = _png16_colour_type(fh) if fmt == "PNG" else None
    if colour_type is not None:
        pixels, alpha = _decode_png16(fh, grey=colour_type == _PNG_GREY_ALPHA)
        icc = image.info.get("icc_profile")
    else:
        image.load()
        pixels, alpha, icc = pixels_of(image, notes)
    exif = _exif(image, fmt)
    photoshop = image.info.get("photoshop") if fmt == "JPEG" else None
    return Decoded(
        pixels,
        alpha,
        icc_profile=icc or None,
        exif=metadata.upright_exif(exif),
        xmp=metadata.upright_xmp(image.info.get("xmp")),
        iptc=metadata.iptc_from_photoshop(photoshop),
        orientation=metadata.orientation_of(exif),
        notes=tuple(notes),
    )


def write(
    fh: BinaryIO,
    fmt: str,
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    *,
    quality: int,
    lossless: bool,
    icc_profile: bytes | None,
    exif: bytes,
    xmp: bytes | None,
    iptc: bytes | None,
) -> None:
    """8-bit pixels (H x W x 1|3) and alpha as JPEG, WEBP or AVIF, with their metadata."""
    image = to_pil(pixels, alpha)
    params: dict[str, object] = {"quality": quality, "exif": exif}
    if icc_profile:
        params["icc_profile"] = icc_profile
    if xmp:
        params["xmp"] = xmp
    if fmt == "JPEG":
        # 4:4:4 chroma at high quality: faces are where 4:2:0 smearing shows first
        params["subsampling"] = 0 if quality >= 90 else 2
        # one APP segment holds 64 KB: larger XMP needs "extended XMP", larger IPTC several
        # resources, neither of which Pillow writes; such rare blocks are left out of a JPEG
        if iptc and len(iptc) <= metadata.JPEG_SEGMENT_LIMIT - 40:
            params["extra"] = metadata.photoshop_app13(iptc)
        if xmp and len(xmp) > metadata.JPEG_SEGMENT_LIMIT - 29:
            del params["xmp"]
    elif fmt == "WEBP":
        params.update(lossless=lossless, exact=lossless, method=4)
    image.save(fh, format=fmt, **params)


def to_pil(pixels: np.ndarray, alpha: np.ndarray | None) -> Image.Image:
    """An 8-bit L, LA, RGB or RGBA Pillow image of the pixels."""
    data = pixels[..., 0] if pixels.shape[2] == 1 and alpha is None else pixels
    if alpha is not None:
        data = np.concatenate([pixels, alpha[..., None]], axis=2)
    return Image.fromarray(np.ascontiguousarray(data))


def _open(fh: BinaryIO, fmt: str) -> ImageFile.ImageFile:
    fh.seek(0)
    try:
        return _OPENERS[fmt](fh)
    except (SyntaxError, ValueError, IndexError, TypeError, EOFError, OSError) as exc:
        raise DecodeError(f"not a valid {fmt} file ({exc})") from exc


def _exif(image: Image.Image, fmt: str) -> Image.Exif | None:
    data = image.info.get("exif") if fmt in _EXIF_FORMATS else None
    if not data:
        return None
    exif = Image.Exif()
    try:
        exif.load(data)
    except (SyntaxError, ValueError, OSError, IndexError, KeyError):
        return None  # unreadable EXIF is dropped; the pixels are still good
    return exif


def pixels_of(image: Image.Image, notes: list[str]) -> tuple[np.ndarray, np.ndarray | None, bytes | None]:
    """Pixels, alpha and ICC profile of a loaded Pillow image in any mode Facemend accepts."""
    icc = image.info.get("icc_profile")
    mode = image.mode
    if mode == "CMYK":
        image = _cmyk_to_srgb(image, icc)
        icc = None
        notes.append("CMYK converted to sRGB")
    elif mode == "P":
        has_alpha = "transparency" in image.info or (image.palette is not None and image.palette.mode == "RGBA")
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif mode in ("1", "La", "PA", "RGBa", "RGBX", "YCbCr", "HSV"):
        image = image.convert({"1": "L", "La": "LA", "PA": "RGBA", "RGBa": "RGBA"}.get(mode, "RGB"))
    array = np.asarray(image)
    mode = image.mode
    if mode in ("L", "RGB"):
        return array.reshape(*array.shape[:2], -1), None, icc
    if mode in ("LA", "RGBA"):
        return np.ascontiguousarray(array[..., :-1]), np.ascontiguousarray(array[..., -1]), icc
    if mode.startswith("I;16"):
        return array.astype(np.uint16)[..., None], None, icc
    if mode == "I" and array.size and array.min() >= 0 and array.max() <= 65535:
        return array.astype(np.uint16)[..., None], None, icc
    if mode == "F":
        return array.astype(np.float32)[..., None], None, None
    raise DecodeError(f"colour mode {mode} is not supported")


def _cmyk_to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    if icc:
        from PIL import ImageCms

        try:
            return ImageCms.profileToProfile(image, io.BytesIO(icc), ImageCms.createProfile("sRGB"), outputMode="RGB")  # type: ignore[return-value]
        except ImageCms.PyCMSError:
            pass  # a broken profile: fall back to the plain conversion below
    return image.convert("RGB")


def _png16_colour_type(fh: BinaryIO) -> int | None:
    """The colour type of a 16-bit PNG with more than one channel, else None."""
    fh.seek(24)  # IHDR: bit depth, then colour type
    header = fh.read(2)
    if len(header) == 2 and header[0] == 16 and header[1] in _PNG_COLOUR_TYPES:
        return header[1]
    return None


def _decode_png16(fh: BinaryIO, *, grey: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """16-bit colour or grey+alpha PNG through OpenCV, which returns BGR(A) for all of them."""
    import cv2

    fh.seek(0)
    decoded = cv2.imdecode(np.frombuffer(fh.read(), dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None or decoded.dtype != np.uint16 or decoded.ndim != 3:
        raise DecodeError("corrupt or truncated PNG data")
    if decoded.shape[2] == 4:
        cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGBA, dst=decoded)
        colour = decoded[..., :1] if grey else decoded[..., :3]
        return np.ascontiguousarray(colour), np.ascontiguousarray(decoded[..., 3])
    cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB, dst=decoded)
    return decoded, None
