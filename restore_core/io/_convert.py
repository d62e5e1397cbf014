"""Conversions between the stored pixels and the sRGB working space of the models.

One ``Converter`` per image, built from its dtype, channel count, ICC profile and (HDR only)
tone map. Forward, ``to_working``: native pixels -> sRGB in 0..1, quantised by ``to_display``
for the models (8 bits) or for 8-bit output formats. Inverse, ``to_native``: sRGB 0..1 ->
native units, accurate to a fraction of a 16-bit step for every colour the forward conversion
produces; only colours outside sRGB (wide-gamut or HDR highlights clipped by the tone map)
cannot come back, which is why restored faces are blended in and nothing else is converted.

Whole-image conversions run in bands of rows, so a 24 MP image never needs a full-size float
copy; integer data in sRGB (the common case) is never converted through float at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from . import _icc, _srgb

#: pixels per band of a whole-image conversion: bounds the float temporaries to about 30 MB
_BAND_PIXELS = 1 << 18
#: Reinhard's "key": the log-average scene luminance is exposed to this display value
_KEY = 0.18
#: HDR values at this percentile of exposed luminance map to display white
_WHITE_PERCENTILE = 99.5


@dataclass(frozen=True)
class ToneMap:
    """Scene-linear HDR -> display-linear 0..1, exactly invertible.

    ``exposure`` scales the scene; an extended Reinhard curve per channel,
    ``L (1 + L / white^2) / (1 + L)``, then maps 0..``white`` onto 0..1.
    """

    exposure: float = 1.0
    white: float = 1.0

    @classmethod
    def for_pixels(cls, pixels: np.ndarray) -> ToneMap:
        """Exposure from the log-average luminance of a subsample, white from its brightest values."""
        step = max(1, int(np.sqrt(pixels.shape[0] * pixels.shape[1] / 250_000)))
        sample = pixels[::step, ::step].astype(np.float32)
        lum = sample[..., 0] if sample.shape[2] == 1 else sample @ _icc.SRGB_LUMINANCE
        lum = np.clip(lum[np.isfinite(lum)], 0.0, None)
        if lum.size == 0 or float(lum.max()) <= 0.0:
            return cls()
        exposure = _KEY / float(np.exp(np.mean(np.log(1e-6 + lum))))
        white = max(1.0, float(np.percentile(lum * exposure, _WHITE_PERCENTILE)))
        return cls(exposure, white)

    def forward(self, x: np.ndarray) -> np.ndarray:
        scene = np.clip(np.nan_to_num(x, nan=0.0, posinf=self.white / self.exposure), 0.0, None)
        lum = np.minimum(scene * np.float32(self.exposure), np.float32(self.white))
        return (lum * (1 + lum / np.float32(self.white**2)) / (1 + lum)).astype(np.float32)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        y = np.clip(y, 0.0, 1.0).astype(np.float64)
        # the positive root of L^2 / white^2 + (1 - y) L - y = 0, in its cancellation-free form
        b = 1.0 - y
        lum = 2.0 * y / (b + np.sqrt(b * b + 4.0 * y / self.white**2))
        return (lum / self.exposure).astype(np.float32)


@dataclass(frozen=True, eq=False)
class Converter:
    dtype: np.dtype
    channels: int
    native_max: float
    #: None for sRGB data (no profile, or a profile equal to sRGB): integers pass unconverted
    profile: _icc.Profile | None = None
    #: HDR (float32, scene-linear, sRGB primaries) only
    tone_map: ToneMap | None = None

    @classmethod
    def for_image(
        cls, dtype: np.dtype, channels: int, icc_profile: bytes | None, tone_map: ToneMap | None = None
    ) -> Converter:
        dtype = np.dtype(dtype)
        if dtype == np.float32:
            return cls(dtype, channels, 1.0, None, tone_map or ToneMap())
        native_max = 255.0 if dtype == np.uint8 else 65535.0
        profile = _icc.parse(icc_profile, channels) if icc_profile else None
        if isinstance(profile, _icc.MatrixProfile) and profile.is_srgb():
            profile = None
        return cls(dtype, channels, native_max, profile, None)

    @property
    def is_identity(self) -> bool:
        """Integer sRGB data: working pixels are the stored values, requantised."""
        return self.profile is None and self.tone_map is None

    def to_working(self, pixels: np.ndarray) -> np.ndarray:
        """Native pixels (h x w x C) -> sRGB float32 (h x w x 3) in 0..1, unquantised."""
        if self.tone_map is not None:
            rgb = _srgb.encode(self.tone_map.forward(pixels))
            return _as_rgb(rgb)
        profile = self.profile
        if isinstance(profile, _icc.MatrixProfile):
            linear = np.stack([lut[pixels[..., c]] for c, lut in enumerate(self._linear_luts)], axis=-1)
            return _srgb.encode(np.clip(linear @ profile.to_srgb.T, 0.0, 1.0))
        if isinstance(profile, _icc.GreyProfile):
            return _as_rgb(_srgb.encode(self._linear_luts[0][pixels]))
        x = pixels.astype(np.float32) * np.float32(1.0 / self.native_max)
        if profile is None:
            return _as_rgb(x)
        return _cms_apply(profile.to_srgb, x, profile.mode, "RGB")

    @cached_property
    def _linear_luts(self) -> tuple[np.ndarray, ...]:
        """Per channel, every integer code value -> linear light: one lookup instead of a curve."""
        assert isinstance(self.profile, _icc.MatrixProfile | _icc.GreyProfile)
        curves = self.profile.curves if isinstance(self.profile, _icc.MatrixProfile) else (self.profile.curve,)
        codes = np.arange(int(self.native_max) + 1, dtype=np.float32) / np.float32(self.native_max)
        return tuple(curve.forward(codes) for curve in curves)

    def to_display(self, pixels: np.ndarray, dtype: type[np.unsignedinteger] = np.uint8) -> np.ndarray:
        """Whole image -> sRGB RGB in ``dtype`` (uint8 or uint16), converted band by band."""
        height, width = pixels.shape[:2]
        out = np.empty((height, width, 3), dtype=dtype)
        top = float(np.iinfo(dtype).max)
        for rows in _row_bands(height, width):
            if self.is_identity:
                out[rows] = _requantise_band(pixels[rows], np.dtype(dtype))
            else:
                out[rows] = np.rint(self.to_working(pixels[rows]) * np.float32(top))
        return out

    def to_native(self, rgb: np.ndarray) -> np.ndarray:
        """sRGB float32 (h x w x 3) in 0..1 -> float32 (h x w x C) in the pixels' own units."""
        rgb = np.clip(np.asarray(rgb, dtype=np.float32), 0.0, 1.0)
        grey = self.channels == 1
        if self.tone_map is not None:
            linear = _srgb.decode(rgb)
            return self.tone_map.inverse(_luminance(linear) if grey else linear)
        profile = self.profile
        if profile is None:
            out = _srgb.encode(_luminance(_srgb.decode(rgb))) if grey else rgb
        elif isinstance(profile, _icc.MatrixProfile):
            linear = np.clip(_srgb.decode(rgb) @ profile.from_srgb.T, 0.0, 1.0)
            out = np.stack([curve.inverse(linear[..., c]) for c, curve in enumerate(profile.curves)], axis=-1)
        elif isinstance(profile, _icc.GreyProfile):
            out = profile.curve.inverse(_luminance(_srgb.decode(rgb)))
        else:
            out = _cms_apply(profile.from_srgb, rgb, "RGB", profile.mode)
        return (out * np.float32(self.native_max)).astype(np.float32)


def _as_rgb(x: np.ndarray) -> np.ndarray:
    return np.repeat(x, 3, axis=2) if x.shape[2] == 1 else x


def _luminance(linear_rgb: np.ndarray) -> np.ndarray:
    return (linear_rgb @ _icc.SRGB_LUMINANCE)[..., None]


def requantise(pixels: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A whole integer array (any shape) in another integer depth, rounded, band by band."""
    if pixels.dtype == dtype:
        return pixels
    out = np.empty(pixels.shape, dtype=dtype)
    for rows in _row_bands(pixels.shape[0], int(np.prod(pixels.shape[1:]))):
        out[rows] = _requantise_band(pixels[rows], dtype)
    return out


def _requantise_band(band: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Integer -> integer depth change with round-half-up, no float."""
    if band.dtype == dtype:
        return band
    if dtype == np.uint8:
        return ((band.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return band.astype(np.uint16) * np.uint16(257)


def _cms_apply(transform: object, x: np.ndarray, in_mode: str, out_mode: str) -> np.ndarray:
    """A LittleCMS transform on 0..1 floats, at 8 bits (all Pillow's ImageCms offers for colour)."""
    from PIL import Image, ImageCms

    q = np.rint(np.clip(x, 0.0, 1.0) * 255).astype(np.uint8)
    image = Image.fromarray(q[..., 0] if in_mode == "L" else q, in_mode)
    result = np.asarray(ImageCms.applyTransform(image, transform), dtype=np.float32) / 255  # type: ignore[arg-type]
    return result[..., None] if out_mode == "L" else result


def _row_bands(height: int, width: int) -> Iterator[slice]:
    rows = max(1, _BAND_PIXELS // max(1, width))
    for top in range(0, height, rows):
        yield slice(top, min(height, top + rows))
