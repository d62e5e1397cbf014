"""Film grain: seeded, sized in output pixels, and the same in any crop of the output.

Every pixel's random numbers are a hash of the seed and its absolute output position, and
the grain filters run per fixed tile of absolute coordinates, each on an array of one fixed
shape (the tile plus a margin). So a pixel's grain depends only on the seed, its position
and the settings, never on which region is being rendered: a viewport render shows exactly
the pixels of the full render.

Models:
- silver: monochrome grains (developed silver, darkening) whose sites clump together
  through a smooth occupancy field; strongest in the mid-tones, fading in black and white.
- gaussian: independent noise per colour channel.
- grey: one noise for all channels (monochrome gaussian).
``density`` is the fraction of sites that hold a grain, ``size`` the grain's size in output
pixels, ``strength`` its contrast.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ..align import Region
from ..lru import LRUCache
from ..params import GrainSettings
from .native import native_max_of, to_dtype

#: Filter tile of the absolute output grid (fixed: changing it changes every grain pattern).
_TILE = 128
#: Grain standard deviation at strength 1, as a fraction of full white.
_MAX_SIGMA = 0.06
#: Fraction of sites holding a silver grain at density 1, and how much the clump field
#: modulates it (0: no clumping).
_SILVER_OCCUPANCY = 0.6
_CLUMP_DEPTH = 0.4
#: Silver blob blur and clump field scale, as Gaussian sigmas per unit of grain size.
_SILVER_BLOB = 0.4
_CLUMP_SCALE = 1.2
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class _Kernel:
    sigma: float
    radius: int
    #: standard deviation of unit white noise after this 2-D blur (the 1-D weights' sum of squares)
    gain: float


@lru_cache(maxsize=32)
def _kernel(sigma: float) -> _Kernel:
    if sigma <= 0:
        return _Kernel(0.0, 0, 1.0)
    radius = int(np.ceil(3 * sigma))
    k = cv2.getGaussianKernel(2 * radius + 1, sigma, cv2.CV_64F)
    return _Kernel(sigma, radius, float(np.sum(k**2)))


def _blur(plane: np.ndarray, kernel: _Kernel) -> np.ndarray:
    """Gaussian blur rescaled so unit white noise keeps unit standard deviation."""
    if kernel.radius == 0:
        return plane
    ksize = 2 * kernel.radius + 1
    return cv2.GaussianBlur(plane, (ksize, ksize), kernel.sigma) / np.float32(kernel.gain)


@dataclass(frozen=True)
class _Recipe:
    model: str
    density: float
    planes: int  # noise planes: 1 (monochrome) or the image's channel count
    grain: _Kernel
    clump: _Kernel  # silver only

    @property
    def margin(self) -> int:
        return self.grain.radius + self.clump.radius

    @classmethod
    def of(cls, settings: GrainSettings, channels: int) -> _Recipe:
        if settings.model == "silver":
            # Soft blobs about ``size`` across, clumping over a few grain diameters.
            grain = _kernel(_SILVER_BLOB * settings.size)
            clump = _kernel(_CLUMP_SCALE * settings.size)
        else:
            grain = _kernel(0.5 * (settings.size - 1.0))  # size 1: independent pixels
            clump = _kernel(0.0)
        planes = channels if settings.model == "gaussian" else 1
        return cls(settings.model, settings.density, planes, grain, clump)

    def filtered(self, gauss: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        """Grain (h x w x planes) from raw numbers of the same shape, about unit deviation at density 0.5."""
        if self.model != "silver":
            sites = np.where(uniform < np.float32(self.density), gauss, np.float32(0))
            blurred = _blur(sites, self.grain) * np.float32(np.sqrt(2.0))
            return blurred.reshape(gauss.shape)  # OpenCV drops a single channel axis
        field = self._silver(np.ascontiguousarray(gauss[..., 0]), np.ascontiguousarray(uniform[..., 0]))
        return (field / np.float32(_silver_deviation(self.grain.sigma, self.clump.sigma)))[..., None]

    def _silver(self, gauss: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        mean_occupancy = np.float32(_SILVER_OCCUPANCY * self.density)
        clump = _blur(gauss, self.clump)
        occupancy = np.clip(mean_occupancy * (1 + np.float32(_CLUMP_DEPTH) * clump), 0, 1)
        # Given a grain (uniform < occupancy), uniform / occupancy is uniform in 0..1: it
        # doubles as the grain's own opacity, 0.5..1.5 (mean 1).
        held = uniform < occupancy
        opacity = np.where(held, 0.5 + uniform / np.maximum(occupancy, np.float32(1e-6)), np.float32(0))
        # Developed silver darkens the print: grains are negative around the mean density.
        return _blur(mean_occupancy - opacity, self.grain)


@lru_cache(maxsize=32)
def _silver_deviation(grain_sigma: float, clump_sigma: float) -> float:
    """Deviation of the silver field at density 0.5 for these kernels, measured once on fixed noise.

    Clumps survive the grain blur while single grains are averaged away, so no closed form
    fits every size; a fixed-seed measurement keeps the result deterministic.
    """
    recipe = _Recipe("silver", 0.5, 1, _kernel(grain_sigma), _kernel(clump_sigma))
    gauss, uniform = _raw_numbers(0, 1, (0, 0, 256, 256))
    field = recipe._silver(np.ascontiguousarray(gauss[..., 0]), np.ascontiguousarray(uniform[..., 0]))
    m = recipe.margin
    return float(field[m:-m, m:-m].std())


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijective, well-mixed hash of 64-bit integers (wrapping arithmetic).

    Works in place on ``z`` (a megapixel region's keys are tens of MB: no copies of them).
    """
    z += np.uint64(0x9E3779B97F4A7C15)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def _raw_numbers(seed: int, planes: int, region: Region) -> tuple[np.ndarray, np.ndarray]:
    """Random numbers of ``region`` (absolute output pixels): gaussian-like and uniform, h x w x planes.

    Each (pixel, plane) hashes its own coordinates with the seed, so the numbers depend on
    nothing else. Of the hash's four 16-bit parts, three sum to an Irwin-Hall variable
    (unit variance, bell-shaped, tails cut at 3 sigma: fine for grain), one is uniform.
    """
    x0, y0, x1, y1 = region
    offset = 1 << 23  # coordinates from -8M to 8M fit 24 bits
    ys = (np.arange(y0, y1, dtype=np.int64) + offset).astype(np.uint64) << np.uint64(26)
    xs = (np.arange(x0, x1, dtype=np.int64) + offset).astype(np.uint64) << np.uint64(2)
    key = ys[:, None, None] | xs[None, :, None] | np.arange(planes, dtype=np.uint64)[None, None, :]
    with np.errstate(over="ignore"):
        seed_key = _mix(np.array([seed], dtype=np.uint64))[0]
        key ^= seed_key
        parts = _mix(key).view(np.uint16).reshape((*key.shape, 4))
    # In place, in the order (p0 + p1) + p2, then - mean, then * scale.
    gauss = parts[..., 0].astype(np.float32)
    gauss += parts[..., 1]
    gauss += parts[..., 2]
    gauss -= np.float32(1.5 * 65535)
    gauss *= np.float32(2 / 65535)  # sd of a sum of 3 uniforms: 1/2
    uniform = parts[..., 3].astype(np.float32)
    uniform += np.float32(0.5)
    uniform *= np.float32(1 / 65536)
    return gauss, uniform


class _NoiseCache:
    """Recently made unit grain, by (recipe, seed, region), up to a byte budget.

    Grain strength only scales the unit grain, and a preview re-renders the same regions:
    a strength move (or any other slider) reuses the grain instead of hashing and filtering
    every pixel again. Entries are read-only; the cache is shared by threads.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: LRUCache[tuple[object, ...], np.ndarray] = LRUCache(
            max_size=max_bytes, size_of=lambda a: a.nbytes
        )

    def get(self, key: tuple[object, ...], make: Callable[[], np.ndarray]) -> np.ndarray:
        cached = self._entries.get(key)
        if cached is not None:
            return cached
        noise = make()
        noise.setflags(write=False)
        if noise.nbytes <= self.max_bytes // 4:  # a full-size export's strips would only churn it
            self._entries.put(key, noise)
        return noise


#: About four 1600 x 1000 previews' worth of monochrome grain.
_noise_cache = _NoiseCache(64 * 2**20)


def grain_noise(settings: GrainSettings, region: Region, channels: int) -> np.ndarray:
    """Unit-scale grain of ``region`` (x0, y0, x1, y1 in output pixels): h x w x planes float32.

    planes is 1 for the monochrome models (silver, grey) and ``channels`` for gaussian.
    """
    return _unit_grain(settings, region, channels).copy()


def _unit_grain(settings: GrainSettings, region: Region, channels: int) -> np.ndarray:
    """``grain_noise``, read-only and cached."""
    recipe = _Recipe.of(settings, channels)
    return _noise_cache.get((recipe, settings.seed, region), lambda: _make_grain(recipe, settings.seed, region))


def _make_grain(recipe: _Recipe, seed: int, region: Region) -> np.ndarray:
    x0, y0, x1, y1 = region
    if x1 <= x0 or y1 <= y0 or recipe.density <= 0:
        return np.zeros((max(0, y1 - y0), max(0, x1 - x0), recipe.planes), dtype=np.float32)
    m = recipe.margin
    if m == 0:  # no filter: every pixel on its own, whatever the region
        return recipe.filtered(*_raw_numbers(seed, recipe.planes, region))
    # Filters run per tile of the absolute grid, each on an array of one fixed shape (tile
    # plus margin), so no value depends on the region asked for.
    ty0, ty1 = y0 // _TILE, (y1 - 1) // _TILE
    tx0, tx1 = x0 // _TILE, (x1 - 1) // _TILE
    bx0, by0 = tx0 * _TILE - m, ty0 * _TILE - m
    block = (bx0, by0, (tx1 + 1) * _TILE + m, (ty1 + 1) * _TILE + m)
    gauss, uniform = _raw_numbers(seed, recipe.planes, block)
    out = np.empty((y1 - y0, x1 - x0, recipe.planes), dtype=np.float32)
    for ty in range(ty0, ty1 + 1):
        for tx in range(tx0, tx1 + 1):
            top, left = ty * _TILE - m - by0, tx * _TILE - m - bx0
            window = (slice(top, top + _TILE + 2 * m), slice(left, left + _TILE + 2 * m))
            tile = recipe.filtered(gauss[window], uniform[window])
            ax0, ay0 = max(x0, tx * _TILE), max(y0, ty * _TILE)
            ax1, ay1 = min(x1, (tx + 1) * _TILE), min(y1, (ty + 1) * _TILE)
            out[ay0 - y0 : ay1 - y0, ax0 - x0 : ax1 - x0] = tile[
                m + ay0 - ty * _TILE : m + ay1 - ty * _TILE, m + ax0 - tx * _TILE : m + ax1 - tx * _TILE
            ]
    return out


def apply_grain(
    values: np.ndarray,
    settings: GrainSettings,
    *,
    origin: tuple[int, int],
    native_max: float,
    weight: np.ndarray | None = None,
) -> None:
    """Add grain in place to ``values`` (h x w x C float32, native units) at output ``origin``.

    ``weight`` (h x w) scales the grain per pixel, e.g. the face blend weight times strength.
    """
    if settings.strength <= 0 or settings.density <= 0:
        return
    h, w, channels = values.shape
    x0, y0 = origin
    noise = _unit_grain(settings, (x0, y0, x0 + w, y0 + h), channels) * np.float32(
        _MAX_SIGMA * settings.strength * native_max
    )
    if settings.model == "silver":
        luma = values[..., 0] if channels == 1 else values @ _LUMA
        tone = np.clip(luma / np.float32(native_max), 0, 1)
        noise *= (4 * tone * (1 - tone))[..., None]
    if weight is not None:
        noise *= weight[..., None]
    values += noise


def add_grain(
    patch: np.ndarray,
    settings: GrainSettings,
    *,
    origin: tuple[int, int] = (0, 0),
    mask: np.ndarray | None = None,
    native_max: float | None = None,
) -> np.ndarray:
    """``patch`` (h x w x C, native dtype) with grain added, as a new array of the same dtype.

    ``origin``: output-image position of ``patch[0, 0]``. ``mask`` (h x w, 0..1) scales the
    grain per pixel. Applies the grain whatever ``settings.enabled`` and ``settings.scope`` say.
    """
    values = patch.astype(np.float32)
    if native_max is None:
        native_max = native_max_of(patch.dtype)
    apply_grain(values, settings, origin=origin, weight=mask, native_max=native_max)
    return to_dtype(values, patch.dtype)


def add_image_grain(
    canvas: np.ndarray,
    settings: GrainSettings,
    *,
    origin: tuple[int, int] = (0, 0),
    native_max: float | None = None,
    rows: int = _TILE,
) -> None:
    """Grain over all of ``canvas`` in place when enabled with scope "image".

    Works in strips of ``rows`` rows so no full-canvas float copy is made. ``origin`` is the
    output-image position of ``canvas[0, 0]`` (a viewport crop gets the full render's grain).
    Strips start on the filter grid, so no filter tile is computed for two strips. They are
    independent and numpy and OpenCV release the GIL, so they run on all cores: a new seed
    or density re-hashes every pixel of the view while the slider moves.
    """
    if not (settings.enabled and settings.scope == "image"):
        return
    height = canvas.shape[0]
    rows = max(_TILE, rows - rows % _TILE)
    bounds: list[tuple[int, int]] = []
    top = 0
    while top < height:
        bottom = min(height, (origin[1] + top) // rows * rows + rows - origin[1])
        bounds.append((top, bottom))
        top = bottom

    def add_to_strip(strip_rows: tuple[int, int]) -> None:
        strip = canvas[strip_rows[0] : strip_rows[1]]
        strip[...] = add_grain(strip, settings, origin=(origin[0], origin[1] + strip_rows[0]), native_max=native_max)

    if len(bounds) == 1:
        add_to_strip(bounds[0])
    else:
        list(_strip_pool().map(add_to_strip, bounds))  # list(): re-raises a strip's error here


@lru_cache(maxsize=1)
def _strip_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="facemend-grain")
