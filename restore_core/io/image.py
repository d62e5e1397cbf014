"""``LoadedImage``: decoded pixels at full depth plus everything needed to write them back.

Pixels stay in the file's own numeric domain (uint8, uint16 or float32) so that everything
outside the faces can be written back bit for bit. Detection and the face models see
``working_rgb8()``: upright 8-bit sRGB RGB. Restored face patches come back through
``to_native()``, the inverse of that conversion for one region.

Images made by ``load_image`` hold read-only arrays: the decoded original is shared by the
preview caches, so a result is always a new array (``with_pixels``), never an edit in place.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from . import _convert


@dataclass(frozen=True, eq=False)
class LoadedImage:
    #: H x W x C with C = 1 (grey) or 3 (RGB); uint8, uint16 or float32 (HDR, linear)
    pixels: np.ndarray
    #: H x W alpha in the dtype of ``pixels``, or None
    alpha: np.ndarray | None = None
    path: Path | None = None
    #: what the file held, by content: "JPEG", "PNG", "TIFF", "WEBP", "BMP", "TGA", "GIF", "HEIF",
    #: "AVIF", "RAW" (camera RAW and DNG), "PSD", "EXR" or "HDR" (Radiance)
    format: str = ""
    icc_profile: bytes | None = None
    #: EXIF with Orientation reset to 1 and the thumbnail removed (pixels are upright)
    exif: bytes | None = None
    xmp: bytes | None = None
    iptc: bytes | None = None
    #: things the user should know about the decode ("multi-page TIFF: first page used")
    notes: tuple[str, ...] = ()
    #: HDR only: how the scene-linear data is mapped to display for the models; set from the
    #: pixels when not given, and kept by ``with_pixels`` so ``to_native`` inverts the same map
    tone_map: _convert.ToneMap | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.pixels.ndim != 3 or self.pixels.shape[2] not in (1, 3):
            raise ValueError(f"pixels must be H x W x 1 or H x W x 3, got {self.pixels.shape}")
        if self.pixels.dtype not in (np.uint8, np.uint16, np.float32):
            raise ValueError(f"pixels must be uint8, uint16 or float32, got {self.pixels.dtype}")
        if self.alpha is not None and self.alpha.shape != self.pixels.shape[:2]:
            raise ValueError("alpha must be H x W, the size of the pixels")
        if self.alpha is not None and self.alpha.dtype != self.pixels.dtype:
            raise ValueError("alpha must have the dtype of the pixels")
        if self.pixels.dtype == np.float32 and self.tone_map is None:
            object.__setattr__(self, "tone_map", _convert.ToneMap.for_pixels(self.pixels))

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def is_gray(self) -> bool:
        return self.pixels.shape[2] == 1

    @property
    def is_hdr(self) -> bool:
        return self.pixels.dtype == np.float32

    @property
    def bit_depth(self) -> int:
        return {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16, np.dtype(np.float32): 32}[self.pixels.dtype]

    @cached_property
    def _converter(self) -> _convert.Converter:
        return _convert.Converter.for_image(self.pixels.dtype, self.pixels.shape[2], self.icc_profile, self.tone_map)

    def working_rgb8(self) -> np.ndarray:
        """Upright 8-bit sRGB RGB (H x W x 3, read-only) for detection and the models; computed once.

        8-bit sRGB RGB pixels are returned as they are (a read-only view, no copy).
        """
        if "rgb8" not in self._cache:
            converter = self._converter
            if converter.is_identity and self.pixels.dtype == np.uint8 and not self.is_gray:
                rgb8 = self.pixels.view()
            else:
                rgb8 = converter.to_display(self.pixels, np.uint8)
            rgb8.flags.writeable = False
            self._cache["rgb8"] = rgb8
        return self._cache["rgb8"]

    def to_native(self, rgb: np.ndarray) -> np.ndarray:
        """sRGB float32 in 0..1 (h x w x 3) -> float32 in the pixels' own units and channels.

        The inverse of ``working_rgb8`` for a patch (colour profile, grey, depth, tone map),
        so restored faces can be blended into the original data at full precision. Values are
        not rounded: uint results need ``np.rint`` before the cast.
        """
        return self._converter.to_native(rgb)

    def with_pixels(self, pixels: np.ndarray, alpha: np.ndarray | None = None) -> LoadedImage:
        """The same metadata around new pixels (same dtype and channels), e.g. the restored result."""
        return dataclasses.replace(self, pixels=pixels, alpha=alpha, _cache={})

    def native_max(self) -> float:
        """The value of full white in the pixels' units (255, 65535, or 1.0 for float)."""
        return self._converter.native_max
