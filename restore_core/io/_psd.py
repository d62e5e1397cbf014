"""Photoshop PSD/PSB through psd-tools: the merged composite at the document's depth."""

from __future__ import annotations

import struct
from typing import BinaryIO

import numpy as np

from . import _pil, metadata
from ._codec import Decoded, DecodeError

_HEADER = struct.Struct(">4sH6sHIIHH")


def size(fh: BinaryIO) -> tuple[int, int]:
    fh.seek(0)
    try:
        _sig, _version, _reserved, _channels, height, width, _depth, _mode = _HEADER.unpack(fh.read(_HEADER.size))
    except struct.error as exc:
        raise DecodeError("truncated PSD header") from exc
    return width, height


def read(fh: BinaryIO) -> Decoded:
    from psd_tools import PSDImage
    from psd_tools.constants import ColorMode, Resource

    fh.seek(0)
    psd = PSDImage.open(fh)
    notes: list[str] = []
    if len(psd):
        notes.append("layered PSD: the merged image is used")
    if psd.color_mode in (ColorMode.RGB, ColorMode.GRAYSCALE) and psd.has_preview():
        pixels, alpha = _merged(psd.numpy(), psd.depth, 1 if psd.color_mode == ColorMode.GRAYSCALE else 3)
        icc = _bytes(psd.image_resources.get_data(Resource.ICC_PROFILE))
    else:
        # No stored merged image, or CMYK/Lab/indexed: psd-tools composites to 8-bit RGB(A)
        pixels, alpha, _ = _pil.pixels_of(psd.composite(), notes)
        icc = None
        notes.append(f"PSD ({psd.color_mode.name}, {psd.depth}-bit) composited to 8-bit sRGB")
    resources = psd.image_resources
    exif = None
    exif_data = _bytes(resources.get_data(Resource.EXIF_DATA_1))
    if exif_data:
        from PIL import Image

        exif = Image.Exif()
        exif.load(exif_data)
    return Decoded(
        pixels,
        alpha,
        icc_profile=icc,
        exif=metadata.upright_exif(exif),
        xmp=metadata.upright_xmp(_bytes(resources.get_data(Resource.XMP_METADATA))),
        iptc=_bytes(resources.get_data(Resource.IPTC_NAA)),
        notes=tuple(notes),
    )


def _merged(array: np.ndarray, depth: int, base: int) -> tuple[np.ndarray, np.ndarray | None]:
    """psd-tools' 0..1 floats back to the document's integers (exact: they were made by division)."""
    array = np.clip(array, 0.0, 1.0)  # un-matting the white-matted merged image can overshoot
    if depth == 8:
        array = np.rint(array * 255).astype(np.uint8)
    elif depth == 16:
        array = np.rint(array * 65535).astype(np.uint16)
    elif depth == 32:
        array = array.astype(np.float32)
    else:
        raise DecodeError(f"{depth}-bit PSD is not supported")
    array = array.reshape(*array.shape[:2], -1)
    alpha = np.ascontiguousarray(array[..., base]) if array.shape[2] > base else None
    return np.ascontiguousarray(array[..., :base]), alpha


def _bytes(value: object) -> bytes | None:
    return bytes(value) if isinstance(value, bytes | bytearray) and value else None
