"""What every format reader returns, and the error a reader raises for a file it cannot use."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class DecodeError(Exception):
    """A reader's reason for refusing a file; ``load_image`` adds the path (InputError)."""


@dataclass(frozen=True, eq=False)
class Decoded:
    """Pixels as stored (before orientation) with everything that travels with them."""

    #: H x W x 1 or H x W x 3; uint8, uint16 or float32
    pixels: np.ndarray
    alpha: np.ndarray | None = None
    icc_profile: bytes | None = None
    #: already cleaned by ``metadata.upright_exif``
    exif: bytes | None = None
    xmp: bytes | None = None
    iptc: bytes | None = None
    #: EXIF orientation still to apply; 1 when the decoder already turned the pixels
    orientation: int = 1
    notes: tuple[str, ...] = ()
