"""Paste-back cost per face: one face against a crowd of 300 on a 24 MP canvas.

Paste-back works on each face's own region, so the time per face should depend on the
face's size only, not on the number of faces or the canvas size.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from restore_core.align import FaceWarp, estimate_warp
from restore_core.compose import paste_face
from restore_core.faces import landmarks_from_box
from restore_core.io.image import LoadedImage
from restore_core.params import GrainSettings

WIDTH, HEIGHT = 6000, 4000
SILVER = GrainSettings(enabled=True, model="silver", size=2.0)


def warp_at(cx: float, cy: float, size: float) -> FaceWarp:
    return estimate_warp(np.array(landmarks_from_box((cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2))))


def paste_cases(rng: np.random.Generator) -> dict[str, list[FaceWarp]]:
    crowd = [warp_at(rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(20, 40)) for _ in range(300)]
    return {
        "1 face, 30 px": [warp_at(WIDTH / 2, HEIGHT / 2, 30)],
        "300 faces, 20-40 px": crowd,
        "1 face, 400 px": [warp_at(WIDTH / 2, HEIGHT / 2, 400)],
        "1 face, 1500 px": [warp_at(WIDTH / 2, HEIGHT / 2, 1500)],
    }


def paste_all(image: LoadedImage, warps: list[FaceWarp], grain: GrainSettings | None) -> Callable[[], None]:
    """A run pasting a restored face at every warp into a copy of ``image``'s canvas."""
    rng = np.random.default_rng(1)
    source = rng.random((512, 512, 3), dtype=np.float32)
    restored = np.clip(source * 0.9 + 0.05, 0, 1)
    canvas = image.pixels.copy()

    def run() -> None:
        for warp in warps:
            paste_face(
                canvas, restored, warp, source_face=source, original=image.pixels, strength=0.8,
                to_native=image.to_native, grain=grain,
            )  # fmt: skip

    return run


def per_face_ms(run: Callable[[], None], faces: int, rounds: int) -> float:
    """Median wall-clock milliseconds per face over ``rounds`` runs."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times)) / faces


def synthetic_canvas() -> LoadedImage:
    rng = np.random.default_rng(0)
    return LoadedImage(rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8))
