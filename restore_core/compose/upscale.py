"""Background upscale to the output size: Lanczos, or a super-resolution model run in tiles.

The model path never needs the whole image on the device: the input is cut into tiles, each
run with ``overlap`` pixels of context, and only the tile's own part of the result is kept
(so no seams). Each tile is resampled straight to the exact output grid, so a model whose
scale differs from the requested one (a x4 model for a x3 output) needs no full-size
intermediate either.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .native import native_max_of, to_dtype

#: A super-resolution model on one tile: h x w x 3 float32 RGB in 0..1 -> (s*h) x (s*w) x 3
#: for the model's integer scale s.
TileModel = Callable[[np.ndarray], np.ndarray]

#: OpenCV's warps take images below 32767 px a side: a x8 model's tile must stay under that.
_MAX_TILE = 2048


def upscale_image(
    pixels: np.ndarray,
    out_w: int,
    out_h: int,
    *,
    model: TileModel | None = None,
    tile: int = 512,
    overlap: int = 32,
) -> np.ndarray:
    """``pixels`` (H x W, H x W x 1 or H x W x 3; uint8, uint16 or float32) resized to out_w x out_h.

    Same dtype and channel layout as the input; integer results are clipped to their range,
    float results to >= 0 (highlights above 1 are kept). Without ``model``: Lanczos (area
    averaging when the output is smaller than the input). With a
    ``model``: the model in tiles of ``tile`` input pixels (plus ``overlap`` of context),
    then Lanczos from the model's scale to the exact output size.
    """
    if pixels.dtype not in (np.uint8, np.uint16, np.float32):
        raise ValueError(f"pixels must be uint8, uint16 or float32, got {pixels.dtype}")
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (1, 3)):
        raise ValueError(f"pixels must be H x W, H x W x 1 or H x W x 3, got {pixels.shape}")
    if out_w < 1 or out_h < 1:
        raise ValueError(f"output size must be positive, got {out_w} x {out_h}")
    if model is None:
        return _lanczos(pixels, out_w, out_h)
    if not 1 <= tile <= _MAX_TILE or overlap < 0:
        raise ValueError(f"tile must be 1..{_MAX_TILE} and overlap not negative, got {tile} and {overlap}")
    return _TiledUpscale(pixels, out_w, out_h, model, overlap).run(tile)


def _lanczos(pixels: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    if (out_w, out_h) == (pixels.shape[1], pixels.shape[0]):
        return pixels.copy()
    # Shrinking (a width or height below the input's) averages instead: Lanczos would alias.
    shrink = out_w < pixels.shape[1] and out_h < pixels.shape[0]
    # OpenCV saturates integer results; float keeps Lanczos overshoot above 1 (HDR) but not below 0.
    out = cv2.resize(pixels, (out_w, out_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LANCZOS4)
    if pixels.dtype == np.float32:
        np.maximum(out, 0.0, out=out)
    return out.reshape((out_h, out_w, *pixels.shape[2:]))


def _resample(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int], shrink: tuple[float, float]) -> np.ndarray:
    """Sample ``image`` at output pixels: ``matrix`` maps output (x, y) to ``image`` coordinates.

    ``shrink`` (source pixels per output pixel, per axis) above 1 blurs first against aliasing.
    """
    sx, sy = (0.5 * np.sqrt(max(s * s - 1.0, 0.0)) for s in shrink)
    if sx > 0 or sy > 0:
        image = cv2.GaussianBlur(image, (0, 0), sigmaX=max(sx, 1e-3), sigmaY=max(sy, 1e-3))
    return cv2.warpAffine(
        image, matrix, size, flags=cv2.INTER_LANCZOS4 | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT_101
    )


class _TiledUpscale:
    def __init__(self, pixels: np.ndarray, out_w: int, out_h: int, model: TileModel, overlap: int) -> None:
        self.pixels = pixels
        self.out_w, self.out_h = out_w, out_h
        self.model = model
        self.overlap = overlap
        self.height, self.width = pixels.shape[:2]
        self.fx, self.fy = out_w / self.width, out_h / self.height
        self.native_max = native_max_of(pixels.dtype)
        self.gray = pixels.ndim == 2 or pixels.shape[2] == 1
        self.scale: int | None = None
        self.out = np.empty((out_h, out_w, *pixels.shape[2:]), dtype=pixels.dtype)

    def run(self, tile: int) -> np.ndarray:
        for y0 in range(0, self.height, tile):
            for x0 in range(0, self.width, tile):
                self._tile(x0, y0, min(x0 + tile, self.width), min(y0 + tile, self.height))
        return self.out

    def _run_model(self, rgb: np.ndarray) -> tuple[np.ndarray, int]:
        """The model's output for one tile, clipped to 0..1, and its scale (the same for every tile)."""
        up = np.asarray(self.model(rgb), dtype=np.float32)
        h, w = rgb.shape[:2]
        scale = up.shape[0] // h
        if up.ndim != 3 or up.shape[2] != 3 or up.shape[:2] != (scale * h, scale * w) or scale < 1:
            raise ValueError(f"the upscaling model turned a {w} x {h} tile into {up.shape}, not an integer multiple")
        if self.scale is None:
            self.scale = scale
        elif scale != self.scale:
            raise ValueError(f"the upscaling model changed its scale from x{self.scale} to x{scale}")
        return np.clip(up, 0.0, 1.0), scale

    def _tile(self, x0: int, y0: int, x1: int, y1: int) -> None:
        ov = self.overlap
        px0, py0 = max(0, x0 - ov), max(0, y0 - ov)
        px1, py1 = min(self.width, x1 + ov), min(self.height, y1 + ov)
        # This tile's share of the output: boundaries rounded the same way for every tile.
        ox0, ox1 = round(x0 * self.fx), round(x1 * self.fx)
        oy0, oy1 = round(y0 * self.fy), round(y1 * self.fy)
        if ox1 <= ox0 or oy1 <= oy0:
            return
        src = self.pixels[py0:py1, px0:px1].astype(np.float32) / np.float32(self.native_max)
        src = src.reshape((*src.shape[:2], -1))
        clipped = np.clip(src, 0.0, 1.0)
        up, s = self._run_model(np.repeat(clipped, 3, axis=2) if self.gray else clipped)
        if (s * self.width, s * self.height) == (self.out_w, self.out_h):
            result = up[oy0 - s * py0 : oy1 - s * py0, ox0 - s * px0 : ox1 - s * px0]
        else:
            result = self._to_output_grid(up, s, (px0, py0), (ox0, oy0, ox1, oy1))
        result = result.reshape((*result.shape[:2], -1))
        if self.gray:
            result = cv2.cvtColor(np.ascontiguousarray(result), cv2.COLOR_RGB2GRAY)[..., None]
        residual = src - clipped
        if residual.any():
            # Float (HDR) values outside 0..1 the model cannot see: carried over by Lanczos.
            result = result + self._to_output_grid(residual, 1, (px0, py0), (ox0, oy0, ox1, oy1)).reshape(result.shape)
        values = result * np.float32(self.native_max)
        if self.pixels.dtype == np.float32:
            np.maximum(values, 0.0, out=values)
        self.out[oy0:oy1, ox0:ox1] = to_dtype(values, self.pixels.dtype).reshape(self.out[oy0:oy1, ox0:ox1].shape)

    def _to_output_grid(
        self, image: np.ndarray, scale: int, origin: tuple[int, int], box: tuple[int, int, int, int]
    ) -> np.ndarray:
        """Output pixels ``box`` sampled from ``image``, which covers input pixels from ``origin`` at ``scale``."""
        ox0, oy0, ox1, oy1 = box
        kx, ky = scale / self.fx, scale / self.fy  # image pixels per output pixel
        # Pixel centres: output x maps to input (x + 0.5) / fx - 0.5, to image scale * that - origin.
        matrix = np.array(
            [
                [kx, 0.0, (ox0 + 0.5) * kx - 0.5 - scale * origin[0]],
                [0.0, ky, (oy0 + 0.5) * ky - 0.5 - scale * origin[1]],
            ]
        )
        return _resample(np.ascontiguousarray(image), matrix, (ox1 - ox0, oy1 - oy0), (kx, ky))
