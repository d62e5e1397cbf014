"""Embedded ICC profiles: read once, turned into a float colour transform to and from sRGB.

Matrix/TRC RGB profiles (sRGB, Adobe RGB, Display P3, ProPhoto, most camera and monitor
profiles) and grey TRC profiles are converted exactly, in float, with an inverse accurate to
16 bits. Other profiles LittleCMS can read (LUT-based scanner profiles) go through
LittleCMS at 8 bits. Everything else is reported as unusable and treated as sRGB.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import _srgb

#: sRGB colorants adapted to the D50 connection space (the columns of the sRGB profile's matrix).
_SRGB_TO_XYZ_D50 = np.array(
    [[0.4360747, 0.3850649, 0.1430804], [0.2225045, 0.7168786, 0.0606169], [0.0139322, 0.0971045, 0.7141733]]
)
_XYZ_D50_TO_SRGB = np.linalg.inv(_SRGB_TO_XYZ_D50)
#: luminance of linear sRGB in the D50 connection space: grey profiles map to and from this.
SRGB_LUMINANCE = _SRGB_TO_XYZ_D50[1].astype(np.float32)
#: samples of a curve; the sampled inverse is accurate to about 1/65535
_CURVE_SAMPLES = 65536
#: an RGB profile this close to sRGB is treated as sRGB (no conversion): matrix entries, curve values
_SRGB_MATRIX_TOLERANCE = 2e-3
_SRGB_CURVE_TOLERANCE = 0.5 / 255


class Curve:
    """One tone reproduction curve, encoded 0..1 -> linear 0..1, with its inverse."""

    def __init__(self, samples: np.ndarray) -> None:
        # A curve must be monotonic to be inverted; real profiles are, broken ones are forced to be.
        self.samples = np.maximum.accumulate(np.clip(samples, 0.0, None)).astype(np.float64)
        self._grid = np.linspace(0.0, 1.0, len(self.samples))
        self._table = self.samples.astype(np.float32)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Encoded values in 0..1 -> linear; linear interpolation on the uniform sample grid."""
        last = len(self.samples) - 1
        pos = np.clip(x, 0.0, 1.0) * np.float32(last)
        index = np.minimum(pos.astype(np.int32), last - 1)
        frac = pos - index
        return self._table[index] * (1 - frac) + self._table[index + 1] * frac

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return np.interp(y, self.samples, self._grid).astype(np.float32)


@dataclass(frozen=True, eq=False)
class MatrixProfile:
    """An RGB matrix/TRC profile: per-channel curves, then a 3x3 matrix to linear sRGB."""

    curves: tuple[Curve, Curve, Curve]
    to_srgb: np.ndarray  # 3x3, native linear RGB -> linear sRGB
    from_srgb: np.ndarray

    def is_srgb(self) -> bool:
        if not np.allclose(self.to_srgb, np.eye(3), atol=_SRGB_MATRIX_TOLERANCE):
            return False
        grid = np.linspace(0.0, 1.0, 1024)
        return all(
            np.max(np.abs(_srgb.encode(curve.forward(grid.astype(np.float32))) - grid)) <= _SRGB_CURVE_TOLERANCE
            for curve in self.curves
        )


@dataclass(frozen=True, eq=False)
class GreyProfile:
    """A grey TRC profile: one curve from the grey value to luminance."""

    curve: Curve


@dataclass(frozen=True, eq=False)
class CmsProfile:
    """Any other profile LittleCMS reads: converted to and from sRGB by LittleCMS at 8 bits."""

    to_srgb: object  # PIL.ImageCms.ImageCmsTransform
    from_srgb: object
    mode: str  # "RGB" or "L"


Profile = MatrixProfile | GreyProfile | CmsProfile


@lru_cache(maxsize=32)
def parse(profile: bytes, channels: int) -> Profile | None:
    """The colour transform of ``profile`` for an image of ``channels`` (1 or 3), or None if unusable."""
    try:
        space = profile[16:20]
        tags = _tag_table(profile)
    except (struct.error, ValueError):
        return None
    if channels == 3 and space == b"RGB " and {b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC"} <= tags.keys():
        try:
            colorants = np.array([_xyz(profile, tags[name]) for name in (b"rXYZ", b"gXYZ", b"bXYZ")]).T
            curves = tuple(_curve(profile, tags[name]) for name in (b"rTRC", b"gTRC", b"bTRC"))
            to_srgb = _XYZ_D50_TO_SRGB @ colorants
            return MatrixProfile(curves, to_srgb.astype(np.float32), np.linalg.inv(to_srgb).astype(np.float32))  # type: ignore[arg-type]
        except (struct.error, ValueError, np.linalg.LinAlgError):
            return None
    if channels == 1 and space == b"GRAY" and b"kTRC" in tags:
        try:
            return GreyProfile(_curve(profile, tags[b"kTRC"]))
        except (struct.error, ValueError):
            return None
    if (channels, space) in ((3, b"RGB "), (1, b"GRAY")):
        return _cms_profile(profile, "RGB" if channels == 3 else "L")
    return None


def srgb_profile() -> bytes:
    """An sRGB profile to embed when pixels were converted to sRGB."""
    return _srgb_profile_bytes()


@lru_cache(maxsize=1)
def _srgb_profile_bytes() -> bytes:
    from PIL import ImageCms

    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    # LittleCMS stamps the creation time; a fixed date keeps outputs byte-for-byte reproducible
    # (the profile has no MD5 ID that would cover it)
    struct.pack_into(">6H", profile, 24, 2000, 1, 1, 0, 0, 0)
    return bytes(profile)


def _cms_profile(profile: bytes, mode: str) -> CmsProfile | None:
    from PIL import ImageCms

    try:
        native = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        srgb = ImageCms.createProfile("sRGB")
        to_srgb = ImageCms.buildTransform(native, srgb, mode, "RGB", ImageCms.Intent.RELATIVE_COLORIMETRIC)
        from_srgb = ImageCms.buildTransform(srgb, native, "RGB", mode, ImageCms.Intent.RELATIVE_COLORIMETRIC)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None
    return CmsProfile(to_srgb, from_srgb, mode)


def _tag_table(profile: bytes) -> dict[bytes, tuple[int, int]]:
    if len(profile) < 132 or profile[36:40] != b"acsp":
        raise ValueError("not an ICC profile")
    (count,) = struct.unpack_from(">I", profile, 128)
    tags = {}
    for i in range(min(count, 1000)):
        sig, offset, size = struct.unpack_from(">4sII", profile, 132 + 12 * i)
        if offset + size > len(profile):
            raise ValueError("tag outside the profile")
        tags[sig] = (offset, size)
    return tags


def _xyz(profile: bytes, tag: tuple[int, int]) -> tuple[float, float, float]:
    offset, _ = tag
    if profile[offset : offset + 4] != b"XYZ ":
        raise ValueError("colorant is not an XYZ tag")
    x, y, z = struct.unpack_from(">3i", profile, offset + 8)
    return x / 65536, y / 65536, z / 65536


def _curve(profile: bytes, tag: tuple[int, int]) -> Curve:
    offset, _ = tag
    kind = profile[offset : offset + 4]
    grid = np.linspace(0.0, 1.0, _CURVE_SAMPLES)
    if kind == b"curv":
        (count,) = struct.unpack_from(">I", profile, offset + 8)
        if count == 0:
            return Curve(grid)
        if count == 1:
            (gamma,) = struct.unpack_from(">H", profile, offset + 12)
            return Curve(grid ** (gamma / 256))
        table = np.frombuffer(profile, dtype=">u2", count=count, offset=offset + 12) / 65535
        return Curve(np.interp(grid, np.linspace(0.0, 1.0, count), table))
    if kind == b"para":
        (function,) = struct.unpack_from(">H", profile, offset + 8)
        n = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}.get(function)
        if n is None:
            raise ValueError(f"unknown parametric curve type {function}")
        params = [v / 65536 for v in struct.unpack_from(f">{n}i", profile, offset + 12)]
        return Curve(_parametric(grid, function, params))
    raise ValueError(f"unsupported curve type {kind!r}")


def _parametric(x: np.ndarray, function: int, p: list[float]) -> np.ndarray:
    """ICC parametricCurveType functions 0-4."""
    g = p[0]
    if function == 0:
        return x**g
    a, b = p[1], p[2]
    power = np.clip(a * x + b, 0.0, None) ** g
    if function == 1:
        return np.where(x >= -b / a, power, 0.0)
    if function == 2:
        return np.where(x >= -b / a, power + p[3], p[3])
    if function == 3:
        return np.where(x >= p[4], power, p[3] * x)
    return np.where(x >= p[4], power + p[5], p[3] * x + p[6])
