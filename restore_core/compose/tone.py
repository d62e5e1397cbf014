"""Monochrome and toned photos: found from their pixels, and restored faces put back in their tone.

A black-and-white photo stored as RGB, or a toned print (sepia, selenium, cyanotype), has one
colour per lightness: its a*, b* are a function of L*. ``measure_tone`` finds that function
(the median a*, b* per narrow band of L*, interpolated) and how well the pixels follow it. A
face model draws colour anyway (tinted lips and eyes on a B&W print); ``retone`` keeps the
restored face's lightness only and gives each pixel the photo's own colour for that lightness,
exactly grey (R = G = B) for a grey photo.

Thresholds were set on the project's photos and their grey, sepia and cyanotype copies (8-bit
and JPEG): colour photos leave a residual of 14+ Lab units around their best tone curve (90th
percentile), toned copies under 4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

ToneKind = Literal["colour", "grey", "toned"]

#: Statistics are taken on a copy at most this many pixels a side (JPEG chroma noise averages out).
_PHOTO_SIZE = 256
_FACE_SIZE = 128
#: Pixels darker than this L* carry no colour an 8-bit file can hold (one code value moves a*, b*
#: by several units): left out of the statistics.
_MIN_L = 8.0
#: L* band width of the tone curve, and the fewest pixels a band needs to count.
_BAND = 2.0
_MIN_BAND_PIXELS = 8
#: Grey: 99% of the pixels within this chroma of neutral.
_GREY_CHROMA = 2.0


@dataclass(frozen=True)
class ToneLimits:
    """How closely pixels must follow one tone curve (Lab units of a*, b* residual)."""

    p90: float
    p99: float


#: A whole photo is toned when its pixels follow one curve this closely.
PHOTO_LIMITS = ToneLimits(p90=6.0, p99=12.0)
#: A face's surroundings in a colour photo (a toned print in a collage) must follow it far
#: closer: a tiny, blurred face in colour comes near the photo limits (3.8 and 6.4 measured on
#: a 17 px face of the crowd photo), a clean toned print stays near 1.
REGION_LIMITS = ToneLimits(p90=2.0, p99=4.0)


@dataclass(frozen=True, eq=False)
class Tone:
    """A photo's (or a face region's) tone: its kind, and for ``toned`` the a*, b* per L*."""

    kind: ToneKind
    #: ascending L* sample points and the a*, b* there (``toned`` only; empty otherwise)
    lightness: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ab: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    #: how far the pixels stray from the curve (90th and 99th percentile, Lab units)
    residual: tuple[float, float] = (0.0, 0.0)

    @property
    def monochrome(self) -> bool:
        return self.kind != "colour"

    def ab_at(self, lightness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The tone's a*, b* at each L* (zero for grey)."""
        if self.kind != "toned":
            zero = np.zeros_like(lightness)
            return zero, zero
        a = np.interp(lightness, self.lightness, self.ab[:, 0]).astype(lightness.dtype)
        b = np.interp(lightness, self.lightness, self.ab[:, 1]).astype(lightness.dtype)
        return a, b


COLOUR = Tone("colour")


def _small_lab(rgb8: np.ndarray, size: int) -> np.ndarray:
    """The image's Lab (N x 3 float32) on a copy at most ``size`` pixels a side."""
    if rgb8.dtype != np.uint8 or rgb8.ndim != 3 or rgb8.shape[2] != 3:
        raise ValueError(f"the image must be H x W x 3 uint8 RGB, got {rgb8.dtype} {rgb8.shape}")
    height, width = rgb8.shape[:2]
    factor = min(1.0, size / max(height, width))
    if factor < 1.0:
        shape = (max(1, round(width * factor)), max(1, round(height * factor)))
        rgb8 = cv2.resize(rgb8, shape, interpolation=cv2.INTER_AREA)
    rgb = np.divide(rgb8, np.float32(255.0), dtype=np.float32)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).reshape(-1, 3)


def measure_tone(rgb8: np.ndarray, limits: ToneLimits = PHOTO_LIMITS, *, size: int = _PHOTO_SIZE) -> Tone:
    """Whether ``rgb8`` (H x W x 3 uint8 sRGB) is grey, toned (one colour per lightness) or colour."""
    lab = _small_lab(rgb8, size)
    lab = lab[lab[:, 0] >= _MIN_L]
    if len(lab) < 4 * _MIN_BAND_PIXELS:
        return COLOUR  # (nearly) black: nothing to tell a tone by
    lightness, ab = lab[:, 0], lab[:, 1:]
    if np.percentile(np.hypot(ab[:, 0], ab[:, 1]), 99) < _GREY_CHROMA:
        return Tone("grey")
    bands = np.round(lightness / _BAND).astype(np.int64)
    order = np.argsort(bands, kind="stable")
    starts = np.flatnonzero(np.diff(bands[order], prepend=-1))
    centres, values = [], []
    for members in np.split(order, starts[1:]):
        if len(members) >= _MIN_BAND_PIXELS:
            centres.append(float(np.median(lightness[members])))
            values.append(np.median(ab[members], axis=0))
    if len(centres) < 2:
        return COLOUR
    curve_l = np.asarray(centres)
    curve_ab = np.asarray(values, dtype=np.float64)
    fitted = np.stack([np.interp(lightness, curve_l, curve_ab[:, i]) for i in (0, 1)], axis=1)
    residual = np.hypot(*(ab - fitted).T)
    p90, p99 = (float(v) for v in np.percentile(residual, [90, 99]))
    if p90 < limits.p90 and p99 < limits.p99:
        return Tone("toned", curve_l, curve_ab, (p90, p99))
    return Tone("colour", residual=(p90, p99))


def measure_face_tone(aligned_rgb8: np.ndarray, photo: Tone) -> Tone:
    """The tone a face is restored in, from its aligned crop (the face and its surroundings).

    In a monochrome photo the face keeps the photo's kind, with its own region's curve when
    that is clean (a print toned unevenly) and the photo's otherwise. In a colour photo the
    region alone decides, by the stricter ``REGION_LIMITS`` (a B&W print in a colour collage).
    """
    if photo.kind == "grey":
        return photo
    if photo.kind == "toned":
        region = measure_tone(aligned_rgb8, PHOTO_LIMITS, size=_FACE_SIZE)
        return region if region.monochrome else photo
    return measure_tone(aligned_rgb8, REGION_LIMITS, size=_FACE_SIZE)


def retone(rgb: np.ndarray, tone: Tone) -> np.ndarray:
    """``rgb`` (h x w x 3 float32 sRGB 0..1) with its own L* and ``tone``'s a*, b* for that L*.

    Grey tones give exactly grey pixels (R = G = B); a colour tone returns ``rgb`` itself.
    """
    if not tone.monochrome:
        return rgb
    lab = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.float32), cv2.COLOR_RGB2Lab)
    lab[..., 1], lab[..., 2] = tone.ab_at(lab[..., 0])
    out = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    if tone.kind == "grey":
        out[...] = out.mean(axis=2, keepdims=True)
    return np.clip(out, 0.0, 1.0, out=out)
