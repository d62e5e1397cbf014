"""Paste-back of a restored aligned face into its own region of the canvas.

What is pasted is the model's *change*: the restored face and the aligned face the model was
given are both warped back, and their difference is added to the original pixels. So a face
the model left alone comes back bit for bit, and whatever the 8-bit, 512 px working copy
could not hold (16-bit precision, HDR highlights, detail finer than the aligned crop) stays
in the image wherever the model agreed with its input. The canvas is blended toward that
target, so where faces overlap the later face replaces the earlier one instead of adding
its change on top.

Everything here is sized by the face's region, never by the canvas: a crowd of hundreds of
faces costs the same per face as a portrait, and memory stays bounded for huge outputs.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from ..align import FaceWarp, Region
from ..params import GrainSettings
from .grain import apply_grain
from .mask import face_blend_mask
from .native import native_max_of, to_dtype

#: While there are more than this many aligned pixels per image pixel, what the model added
#: is halved (Gaussian pyramid) before the warp: bilinear sampling alone would alias the
#: detail a model draws at 512 px into a small face.
_MAX_WARP_SHRINK = 2.0


def _pyramid_levels(warp: FaceWarp) -> int:
    levels = 0
    while warp.scale / 2**levels > _MAX_WARP_SHRINK:
        levels += 1
    return levels


def _shrunk(aligned: np.ndarray, levels: int) -> np.ndarray:
    for _ in range(levels):
        aligned = cv2.pyrDown(aligned)
    return aligned


def _shrunk_warp(warp: FaceWarp, levels: int) -> FaceWarp:
    """The warp onto an aligned image halved ``levels`` times by pyrDown.

    pyrDown centres pixel i of the half-size image on pixel 2i: coordinates simply halve.
    """
    return FaceWarp(warp.matrix / 2**levels, -(-warp.size // 2**levels))


def paste_face(
    canvas: np.ndarray,
    face_rgb: np.ndarray,
    warp: FaceWarp,
    *,
    source_face: np.ndarray,
    original: np.ndarray,
    strength: float,
    to_native: Callable[[np.ndarray], np.ndarray],
    mask: np.ndarray | None = None,
    grain: GrainSettings | None = None,
    grain_origin: tuple[int, int] = (0, 0),
) -> Region:
    """Blend ``face_rgb`` into ``canvas`` in place, inside the face's region only.

    ``canvas``: H x W x C (C = 1 or 3), uint8, uint16 or float32, native units.
    ``face_rgb``: restored aligned face, size x size x 3 float32 sRGB in 0..1.
    ``warp``: image -> aligned transform at the canvas's resolution.
    ``source_face``: the aligned face the model was given (same shape and units): only the
    difference between the two is pasted.
    ``original``: the canvas as it was before any face was pasted (same shape and dtype; the
    decoded or upscaled pixels), read only. Passing ``canvas`` itself is right when faces
    do not overlap.
    ``to_native``: sRGB 0..1 patch -> canvas units and channels (``LoadedImage.to_native``).
    ``mask``: aligned-space blend weight (default ``face_blend_mask``).
    ``grain``: film grain added under the blend weight when enabled with scope "faces".
    ``grain_origin``: output-image position of ``canvas[0, 0]``, so grain drawn into a
    viewport crop matches the full render.

    Only pixels with a blend weight above 0 are written; every other pixel, and all of them
    at strength 0 or when ``face_rgb`` equals ``source_face``, keep their exact values.
    Returns the region (x0, y0, x1, y1) considered.
    """
    if face_rgb.shape != source_face.shape:
        raise ValueError(f"restored and source faces differ in shape: {face_rgb.shape} and {source_face.shape}")
    if original.shape != canvas.shape or original.dtype != canvas.dtype:
        raise ValueError(f"original {original.shape} {original.dtype} must match canvas {canvas.shape} {canvas.dtype}")
    if canvas.ndim != 3 or canvas.shape[2] not in (1, 3):
        raise ValueError(f"canvas must be H x W x 1 or H x W x 3, got {canvas.shape}")
    height, width = canvas.shape[:2]
    region = warp.region(width, height)
    x0, y0, x1, y1 = region
    if strength <= 0 or x1 <= x0 or y1 <= y0:
        return region
    if mask is None:
        mask = face_blend_mask(face_rgb.shape[0])
    weight = warp.to_region(mask, region)
    weight *= np.float32(strength)
    touched = weight > 0
    if not touched.any():
        return region
    patch = canvas[y0:y1, x0:x1]
    # The mask is smooth and the source is the photo itself, already band-limited: both are
    # warped as they are. What the model added is shrunk first. An unchanged face adds
    # exactly 0 on both paths.
    source = warp.to_region(source_face, region)
    levels = _pyramid_levels(warp)
    added = _shrunk_warp(warp, levels).to_region(_shrunk(face_rgb - source_face, levels), region)
    # In place from here (region-sized arrays, no temporaries): restored = source + added,
    # target = original + native(restored) - native(source), blended += weight * (target - blended).
    restored = np.add(added, source, out=added)
    target = to_native(restored)
    target -= to_native(source)
    np.add(target, original[y0:y1, x0:x1], out=target)
    blended = patch.astype(np.float32)
    target -= blended
    target *= weight[..., None]
    blended += target
    if grain is not None and grain.enabled and grain.scope == "faces":
        apply_grain(
            blended,
            grain,
            origin=(grain_origin[0] + x0, grain_origin[1] + y0),
            weight=weight,
            native_max=native_max_of(canvas.dtype),
        )
    np.copyto(patch, to_dtype(blended, canvas.dtype), where=touched[..., None])
    return region
