"""Floating-point HDR: OpenEXR (OpenEXR package) and Radiance RGBE (OpenCV), kept scene-linear."""

from __future__ import annotations

import re
from typing import BinaryIO

import numpy as np

from ._codec import Decoded, DecodeError

_RADIANCE_SIZE = re.compile(rb"^-Y (\d+) \+X (\d+)$")
#: a Radiance header is a few lines of text; anything longer is not one
_RADIANCE_HEADER_LIMIT = 1 << 16


def exr_size(fh: BinaryIO) -> tuple[int, int]:
    import OpenEXR

    fh.seek(0)
    (x0, y0), (x1, y1) = OpenEXR.File(fh, header_only=True).header()["dataWindow"]
    return int(x1 - x0 + 1), int(y1 - y0 + 1)


def exr_read(fh: BinaryIO) -> Decoded:
    import OpenEXR

    fh.seek(0)
    exr = OpenEXR.File(fh, separate_channels=True)
    channels = {name: channel.pixels for name, channel in exr.channels().items()}
    notes = [f"EXR with {len(exr.parts)} parts: the first is used"] if len(exr.parts) > 1 else []
    if {"R", "G", "B"} <= channels.keys():
        names = ["R", "G", "B"]
    elif "Y" in channels:
        names = ["Y"]
    else:
        raise DecodeError(f"EXR without R, G, B or Y channels (it has {', '.join(sorted(channels)) or 'none'})")
    dropped = sorted(set(channels) - set(names) - {"A"})
    if dropped:
        notes.append(f"EXR channels not kept: {', '.join(dropped)}")
    pixels = np.stack([channels[name].astype(np.float32, copy=False) for name in names], axis=-1)
    alpha = channels["A"].astype(np.float32) if "A" in channels else None
    return Decoded(pixels, alpha, notes=tuple(notes))


def exr_write(fh: BinaryIO, pixels: np.ndarray, alpha: np.ndarray | None) -> None:
    """float32 pixels (grey as Y, or R, G, B) and alpha as a ZIP-compressed scanline EXR."""
    import OpenEXR

    names = ["Y"] if pixels.shape[2] == 1 else ["R", "G", "B"]
    channels = {name: np.ascontiguousarray(pixels[..., i]) for i, name in enumerate(names)}
    if alpha is not None:
        channels["A"] = np.ascontiguousarray(alpha)
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    OpenEXR.File(header, channels).write(fh)


def radiance_size(fh: BinaryIO) -> tuple[int, int]:
    fh.seek(0)
    lines = fh.read(_RADIANCE_HEADER_LIMIT).split(b"\n")
    try:
        blank = lines.index(b"")
        match = _RADIANCE_SIZE.match(lines[blank + 1].strip())
    except (ValueError, IndexError):
        match = None
    if match is None:
        raise DecodeError("not a Radiance HDR file with the standard -Y H +X W layout")
    return int(match.group(2)), int(match.group(1))


def radiance_read(fh: BinaryIO) -> Decoded:
    import cv2

    fh.seek(0)
    bgr = cv2.imdecode(np.frombuffer(fh.read(), dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if bgr is None or bgr.ndim != 3:
        raise DecodeError("corrupt or truncated Radiance HDR data")
    return Decoded(np.ascontiguousarray(bgr[..., ::-1]).astype(np.float32, copy=False))


def radiance_write(fh: BinaryIO, pixels: np.ndarray) -> None:
    import cv2

    rgb = np.repeat(pixels, 3, axis=2) if pixels.shape[2] == 1 else pixels
    ok, encoded = cv2.imencode(".hdr", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise OSError("the Radiance HDR encoder failed")
    fh.write(encoded.data)
