"""HEIF/HEIC through pillow-heif (libheif), used directly so Pillow's registry is left alone.

libheif applies the container's rotation and mirroring while decoding, so the pixels come
out upright and the EXIF orientation (informative only in HEIF) must not be applied again.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

from . import _pil, metadata
from ._codec import Decoded, DecodeError


def encoder_available() -> bool:
    import pillow_heif

    return bool(pillow_heif.libheif_info().get("HEIF"))


def size(fh: BinaryIO) -> tuple[int, int]:
    import pillow_heif

    fh.seek(0)
    width, height = pillow_heif.open_heif(fh, convert_hdr_to_8bit=False).size
    return int(width), int(height)


def read(fh: BinaryIO) -> Decoded:
    import pillow_heif
    from PIL import Image

    fh.seek(0)
    heif = pillow_heif.open_heif(fh, convert_hdr_to_8bit=False)
    notes = (f"HEIF with {len(heif)} images: the primary one is used",) if len(heif) > 1 else ()
    mode = heif.mode
    array = np.asarray(heif)
    if mode in ("L", "I;16", "I;16L"):
        pixels, alpha = array.reshape(*array.shape[:2], 1), None
    elif mode in ("RGB", "RGB;16"):
        pixels, alpha = array, None
    elif mode in ("RGBA", "RGBA;16"):
        pixels, alpha = np.ascontiguousarray(array[..., :3]), np.ascontiguousarray(array[..., 3])
    else:
        raise DecodeError(f"HEIF colour mode {mode} is not supported")
    info = heif.info
    exif = None
    if info.get("exif"):
        exif = Image.Exif()
        exif.load(info["exif"])
    return Decoded(
        pixels.astype(np.uint16 if array.dtype.itemsize == 2 else np.uint8, copy=False),
        None if alpha is None else alpha.astype(pixels.dtype, copy=False),
        icc_profile=info.get("icc_profile") or None,
        exif=metadata.upright_exif(exif),
        xmp=metadata.upright_xmp(info.get("xmp")),
        notes=notes,
    )


def write(
    fh: BinaryIO,
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    *,
    quality: int,
    icc_profile: bytes | None,
    exif: bytes,
    xmp: bytes | None,
) -> None:
    """8-bit RGB pixels and alpha as HEIC."""
    import pillow_heif

    image = _pil.to_pil(pixels, alpha)
    if icc_profile:
        image.info["icc_profile"] = icc_profile
    # 4:4:4 chroma at high quality, as for JPEG: 4:2:0 smears the colour edges of faces
    chroma = 444 if quality >= 90 else 420
    pillow_heif.from_pillow(image).save(fh, quality=quality, exif=exif, xmp=xmp, chroma=chroma)
