"""Which resolutions and tiles the detector runs on, and how their detections are merged.

A coarse level (the whole image at about 640 px long side) finds large and medium faces.
Finer levels, up to full resolution within a pixel budget, run as equal-sized overlapping
tiles and find the small faces. Each level owns a band of face sizes (the bands of
neighbouring levels overlap a little): a coarser level leaves faces too small for it to the
next finer one, a finer level leaves faces the coarser one sees well to it, and a tile drops
faces its inner edges cut (the overlap guarantees that a neighbour holds them whole). What is
left is merged by non-maximum suppression that prefers, for each face, the level where it
was closest to the size RetinaFace localises best.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torchvision.ops import nms

from .retinaface import RawDetections

COARSE_SIDE = 640  # long side of the coarse level, in pixels
#: Pixels of the finest level: bounds detection time on large photos (24 MP -> about 0.4x).
FINE_PIXELS = 4_000_000
#: Largest ratio between neighbouring levels; more levels are added between them if needed.
MAX_LEVEL_RATIO = 4.5
#: A level finer than the coarse one is only worth running from this ratio on.
MIN_LEVEL_RATIO = 1.5
#: Faces smaller than this (network pixels) are left to the next finer level, when there is one.
MIN_OWNED_FACE = 24
#: A level owns faces up to this factor larger than the smallest its coarser neighbour owns.
BAND_OVERLAP = 1.5
TILE_SIDE = 1024  # largest tile side, in network pixels
#: A box this close to a tile's inner edge was (or may have been) cut by it.
EDGE_MARGIN = 4
#: Tiles overlap by this much, so that every face a tiled level owns lies whole, with
#: margins, inside some tile (the coarsest level, the only one owning any size, is one tile).
TILE_OVERLAP = math.ceil(MIN_OWNED_FACE * MAX_LEVEL_RATIO * BAND_OVERLAP) + 2 * EDGE_MARGIN
#: Boxes overlapping more than this are the same face (facexlib's value).
NMS_IOU = 0.4
#: Face size (network pixels) RetinaFace localises best, between its middle anchors (64, 128).
#: Of the detections of one face, the merge keeps the one from the level closest to it.
BEST_FACE = 96.0


@dataclass(frozen=True)
class Level:
    """The image resized to ``width`` x ``height`` and cut into ``tile_width`` x ``tile_height`` tiles."""

    width: int
    height: int
    tile_width: int
    tile_height: int
    tile_origins: tuple[tuple[int, int], ...]  # (x0, y0) of each tile
    #: (smallest, largest) face this level reports, as the larger box side in network pixels
    owned_sizes: tuple[float, float]

    def scale(self, image_width: int, image_height: int) -> tuple[float, float]:
        """Network pixels per image pixel, per axis (exact: from the rounded level size)."""
        return self.width / image_width, self.height / image_height


def _tile_starts(length: int, tile: int, overlap: int) -> tuple[int, tuple[int, ...]]:
    """(tile length, starts) of the fewest equal tiles covering ``length`` with at least ``overlap``."""
    if length <= tile:
        return length, (0,)
    count = math.ceil((length - overlap) / (tile - overlap))
    size = math.ceil((length + (count - 1) * overlap) / count)
    return size, tuple(round(i * (length - size) / (count - 1)) for i in range(count))


def plan_levels(width: int, height: int, min_face: int = 0) -> list[Level]:
    """Levels from coarse to fine for a ``width`` x ``height`` image.

    ``min_face`` (image pixels, 0 = none) skips the resolution needed only for smaller faces.
    """
    coarse = min(1.0, COARSE_SIDE / max(width, height))
    fine = min(1.0, math.sqrt(FINE_PIXELS / (width * height)))
    if min_face > 0:
        fine = max(coarse, min(fine, MIN_OWNED_FACE / min_face))
    if fine / coarse < MIN_LEVEL_RATIO:
        scales = [fine]
    else:
        count = math.ceil(math.log(fine / coarse) / math.log(MAX_LEVEL_RATIO)) + 1
        scales = [coarse * (fine / coarse) ** (i / (count - 1)) for i in range(count)]
    levels = []
    for i, s in enumerate(scales):
        w, h = max(1, round(width * s)), max(1, round(height * s))
        tw, xs = _tile_starts(w, TILE_SIDE, TILE_OVERLAP)
        th, ys = _tile_starts(h, TILE_SIDE, TILE_OVERLAP)
        origins = tuple((x, y) for y in ys for x in xs)
        smallest = 0.0 if i == len(scales) - 1 else MIN_OWNED_FACE
        largest = math.inf if i == 0 else MIN_OWNED_FACE * BAND_OVERLAP * s / scales[i - 1]
        levels.append(Level(w, h, tw, th, origins, (smallest, largest)))
    return levels


def owned(found: RawDetections, level: Level, origin: tuple[int, int]) -> np.ndarray:
    """Mask of the detections (in tile pixels) that this tile of this level is responsible for."""
    x0, y0 = origin
    boxes, sizes = found.boxes, found.sizes()
    keep = (sizes >= level.owned_sizes[0]) & (sizes <= level.owned_sizes[1])
    if x0 > 0:
        keep &= boxes[:, 0] >= EDGE_MARGIN
    if y0 > 0:
        keep &= boxes[:, 1] >= EDGE_MARGIN
    if x0 + level.tile_width < level.width:
        keep &= boxes[:, 2] <= level.tile_width - EDGE_MARGIN
    if y0 + level.tile_height < level.height:
        keep &= boxes[:, 3] <= level.tile_height - EDGE_MARGIN
    return keep


def size_penalty(net_sizes: np.ndarray) -> np.ndarray:
    """How far (in octaves) each face size on the network input lies from ``BEST_FACE``."""
    return np.abs(np.log2(np.maximum(net_sizes, 1e-6) / BEST_FACE))


def suppress(found: RawDetections, rank: np.ndarray) -> RawDetections:
    """Greedy non-maximum suppression: of boxes overlapping more than ``NMS_IOU``, the one of
    highest ``rank`` stays. Within a level rank by score (as facexlib); across levels by score
    minus ``size_penalty``."""
    if not len(found):
        return found
    keep = nms(torch.from_numpy(found.boxes), torch.from_numpy(rank), NMS_IOU).numpy()
    return found[keep]
