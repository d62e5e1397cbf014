"""Paste-back cost per face: one face vs a crowd of 300 on a 24 MP canvas (not a test).

    .venv/bin/python -m benchmarks.compose_paste     (from the repository root)

Paste-back works on each face's own region, so the time per face should not grow with the
number of faces or the canvas size.
"""

from __future__ import annotations

import time

import numpy as np

from restore_core.align import FaceWarp, estimate_warp
from restore_core.compose import paste_face
from restore_core.faces import landmarks_from_box
from restore_core.io.image import LoadedImage
from restore_core.params import GrainSettings

WIDTH, HEIGHT = 6000, 4000


def warp_at(cx: float, cy: float, size: float) -> FaceWarp:
    return estimate_warp(np.array(landmarks_from_box((cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2))))


def per_face_ms(image: LoadedImage, warps: list[FaceWarp], grain: GrainSettings | None, repeats: int) -> float:
    rng = np.random.default_rng(1)
    source = rng.random((512, 512, 3), dtype=np.float32)
    restored = np.clip(source * 0.9 + 0.05, 0, 1)
    canvas = image.pixels.copy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for warp in warps:
            paste_face(
                canvas, restored, warp, source_face=source, original=image.pixels, strength=0.8,
                to_native=image.to_native, grain=grain,
            )  # fmt: skip
        best = min(best, time.perf_counter() - start)
    return 1000 * best / len(warps)


def main() -> None:
    rng = np.random.default_rng(0)
    image = LoadedImage(rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8))
    grain = GrainSettings(enabled=True, model="silver", size=2.0)
    crowd = [warp_at(rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(20, 40)) for _ in range(300)]
    cases = {
        "1 face, 30 px": [warp_at(WIDTH / 2, HEIGHT / 2, 30)],
        "300 faces, 20-40 px": crowd,
        "1 face, 400 px": [warp_at(WIDTH / 2, HEIGHT / 2, 400)],
        "1 face, 1500 px": [warp_at(WIDTH / 2, HEIGHT / 2, 1500)],
    }
    print(f"canvas {WIDTH} x {HEIGHT} uint8 RGB; best of 3 runs")
    for label, warps in cases.items():
        plain = per_face_ms(image, warps, None, 3)
        grainy = per_face_ms(image, warps, grain, 3)
        print(f"{label:>22}: {plain:7.2f} ms/face, with silver grain {grainy:7.2f} ms/face")


if __name__ == "__main__":
    main()
