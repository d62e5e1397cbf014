"""``--save-faces``: what happened to each face, as images in aligned (512 x 512) space.

Per restored face, as GFPGAN's inference script saves its cropped and restored faces: the
aligned input, the model's output, the final blend mask (the paste-back weight, strength
included) and a before | after side by side of the face as the result shows it. File names
carry the photo's name and the face's number, so a batch can share one folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .compose import comparison_image
from .engine import FaceImages
from .io import LoadedImage, WriteSet, save_image

#: What is saved per face, in this order: file name suffix -> what it shows.
FACE_FILES = {
    "input": "the aligned face the model was given",
    "restored": "the model's output",
    "mask": "the blend mask (white: restored face, black: the photo's pixels)",
    "compare": "before | after, in aligned space",
}


def face_paths(folder: Path, stem: str, index: int) -> dict[str, Path]:
    """Where face ``index`` of photo ``stem``'s files go, by ``FACE_FILES`` key."""
    return {kind: folder / f"{stem}_face{index:02d}_{kind}.png" for kind in FACE_FILES}


def face_pictures(images: FaceImages) -> dict[str, np.ndarray]:
    """The images of ``FACE_FILES`` for one face: 8-bit RGB, or 16-bit grey for the mask."""
    mask16 = np.rint(np.clip(images.mask, 0.0, 1.0) * 65535).astype(np.uint16)[..., None]
    return {
        "input": images.aligned_rgb8,
        "restored": images.model_rgb8,
        "mask": mask16,
        "compare": comparison_image(images.aligned_rgb8, images.blended_rgb8),
    }


def stage_faces(faces: list[FaceImages], folder: Path, stem: str, writes: WriteSet) -> list[Path]:
    """Stage every face's files in ``writes`` (they land with the photo or not at all)."""
    written = []
    for images in faces:
        paths = face_paths(folder, stem, images.index)
        for kind, pixels in face_pictures(images).items():
            written.append(save_image(LoadedImage(pixels), paths[kind], writes=writes))
    return written
