"""The bench's inputs: test photos, larger copies of one, and model folders for both pipelines.

Everything generated is kept in a work folder and reused by later runs (the stand-in face
models take about half a minute to write).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np

from devtools.stand_in_models import write_random_codeformer, write_random_gfpgan
from restore_core.models import accept_licence, needs_licence

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TESTDATA = Path(os.environ.get("FACEMEND_SHARED", REPO.parent / "shared")) / "testdata"

TWO_FACES = "two_children_film.jpg"
CROWD = "crowd_selfie.jpg"
#: The project's model store names for the detector and the stand-in face models.
DETECTOR_FILE = "detection_mobilenet0.25_Final.pth"
FACE_MODEL_FILES = {"gfpgan": "GFPGANv1.4.pth", "codeformer": "codeformer.pth"}


class BenchSetupError(RuntimeError):
    """The bench cannot find what it needs (test data, a source checkout)."""


def read_bgr(path: Path) -> np.ndarray:
    """A photo as OpenCV reads it (BGR), as the reference scripts read theirs."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise BenchSetupError(f"{path}: OpenCV cannot read this photo")
    return image


@dataclass(frozen=True)
class Workspace:
    root: Path
    testdata: Path

    @property
    def detector_weights(self) -> Path:
        return self.testdata / "weights" / "retinaface_mobilenet0.25.pth"

    def photo(self, name: str) -> Path:
        return self.testdata / "photos" / name

    @cached_property
    def models(self) -> Path:
        """Our ``FACEMEND_MODELS``: the real detector weights (face models added by ``face_model``)."""
        folder = self.root / "models"
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / DETECTOR_FILE
        if not link.exists():
            link.symlink_to(self.detector_weights.resolve())
        return folder

    def face_model(self, name: str) -> Path:
        """The stand-in weights file of ``gfpgan`` or ``codeformer`` (random, real architecture)."""
        path = self.models / FACE_MODEL_FILES[name]
        if not path.exists():
            writer = {"gfpgan": write_random_gfpgan, "codeformer": write_random_codeformer}[name]
            partial = path.with_suffix(".partial")
            writer(partial)
            os.replace(partial, path)
        if name in needs_licence():
            accept_licence(name)  # the benchmark's own stand-in file, in its own models folder
        return path

    @cached_property
    def reference_models(self) -> Path:
        from .reference import prepare_model_root

        return prepare_model_root(self.root / "facexlib", self.detector_weights)

    def enlarged(self, name: str, megapixels: float) -> Path:
        """``name`` resized (Lanczos) to about ``megapixels``, aspect kept, as a JPEG of quality 95."""
        path = self.root / "photos" / f"{Path(name).stem}_{megapixels:g}mp.jpg"
        if not path.exists():
            image = read_bgr(self.photo(name))
            height, width = image.shape[:2]
            factor = math.sqrt(megapixels * 1e6 / (width * height))
            size = (round(width * factor), round(height * factor))
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.stem + ".partial.jpg")
            resized = cv2.resize(image, size, interpolation=cv2.INTER_LANCZOS4)
            cv2.imwrite(str(partial), resized, [cv2.IMWRITE_JPEG_QUALITY, 95])
            os.replace(partial, path)
        return path


def open_workspace(root: Path, testdata: Path = DEFAULT_TESTDATA) -> Workspace:
    """Check the test data and point ``FACEMEND_MODELS`` at the work folder's models."""
    workspace = Workspace(Path(root), Path(testdata))
    if not workspace.detector_weights.is_file():
        raise BenchSetupError(
            f"test data not found at {testdata}: check out the project beside ../shared "
            "or set FACEMEND_SHARED to the folder that holds testdata/"
        )
    os.environ["FACEMEND_MODELS"] = str(workspace.models)
    # Converted models (OpenVINO, ONNX Runtime) kept with the stand-in models they come from.
    os.environ.setdefault("FACEMEND_CACHE", str(workspace.root / "cache"))
    return workspace
