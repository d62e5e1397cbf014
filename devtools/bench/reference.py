"""The reference pipeline: facexlib's ``FaceRestoreHelper`` driven as GFPGAN's and CodeFormer's
inference scripts drive it.

Detection at 640 px (``resize=640``, as ``inference_codeformer.py``), 5-point alignment, the
model once per face on a [-1, 1] tensor, then paste-back by warping every face, its mask and
their products over the whole output canvas. Same detector weights and the same face models
as ours, loaded separately so neither side changes the other's copy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from .workspace import read_bgr

#: A face model as the scripts call it: aligned BGR uint8 512 x 512 -> restored BGR uint8.
FaceModel = Callable[[np.ndarray], np.ndarray]

#: facexlib's file names in ``model_rootpath`` (it downloads them when missing).
DETECTOR_FILE = "detection_mobilenet0.25_Final.pth"
PARSING_FILE = "parsing_parsenet.pth"
#: CodeFormer's script: detection on the image resized so its short side is 640 px.
DETECT_SIZE = 640
#: ...and faces with eyes closer than this many pixels are skipped.
EYE_DIST_THRESHOLD = 5


def prepare_model_root(folder: Path, detector_weights: Path) -> Path:
    """A ``model_rootpath`` facexlib never downloads into: the detector weights under its file
    name, and a random ParseNet, which ``FaceRestoreHelper`` loads even with ``use_parse=False``."""
    folder.mkdir(parents=True, exist_ok=True)
    detector = folder / DETECTOR_FILE
    if not detector.exists():
        detector.symlink_to(detector_weights.resolve())
    parsing = folder / PARSING_FILE
    if not parsing.exists():
        from facexlib.parsing.parsenet import ParseNet

        state = torch.random.get_rng_state()
        torch.manual_seed(0)
        try:
            net = ParseNet(in_size=512, out_size=512, parsing_ch=19)
        finally:
            torch.random.set_rng_state(state)
        partial = parsing.with_suffix(".partial")
        torch.save(net.state_dict(), partial)
        os.replace(partial, parsing)
    return folder


def load_separate_copy(path: Path) -> torch.nn.Module:
    """The network in ``path`` as a fresh fp32 module (the project's loader caches and shares its copy)."""
    import spandrel

    from restore_core.models.loader import load_state_dict

    return spandrel.ModelLoader().load_from_state_dict(load_state_dict(path)).model.eval()


def _to_input(face_bgr8: np.ndarray) -> torch.Tensor:
    """As the scripts: img2tensor(face / 255, bgr2rgb=True), normalize(0.5, 0.5), unsqueeze."""
    rgb = cv2.cvtColor((face_bgr8 / 255.0).astype(np.float32), cv2.COLOR_BGR2RGB)
    x = torch.from_numpy(rgb.transpose(2, 0, 1)).float()
    return ((x - 0.5) / 0.5).unsqueeze(0)


def _to_image(output: torch.Tensor) -> np.ndarray:
    """As basicsr's ``tensor2img(output, rgb2bgr=True, min_max=(-1, 1))`` then ``astype('uint8')``."""
    y = output.squeeze(0).float().detach().cpu().clamp_(-1, 1)
    y = ((y + 1) / 2).numpy().transpose(1, 2, 0)
    return cv2.cvtColor((y * 255.0).round().astype(np.uint8), cv2.COLOR_RGB2BGR)


def _device_of(net: torch.nn.Module) -> torch.device:
    return next(net.parameters()).device


def gfpgan_model(net: torch.nn.Module) -> FaceModel:
    """``GFPGANer.enhance``'s call: ``gfpgan(x, return_rgb=False, weight=0.5)[0]`` under no_grad."""
    device = _device_of(net)

    def run(face: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return _to_image(net(_to_input(face).to(device), return_rgb=False, weight=0.5)[0])

    return run


def codeformer_model(net: torch.nn.Module, fidelity: float) -> FaceModel:
    """``inference_codeformer.py``'s call: ``net(x, w=w, adain=True)[0]``; spandrel names ``w`` ``weight``."""
    device = _device_of(net)

    def run(face: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return _to_image(net(_to_input(face).to(device), weight=fidelity)[0])

    return run


def passthrough_model(face: np.ndarray) -> np.ndarray:
    return face


class ReferencePipeline:
    """One ``FaceRestoreHelper`` (built once, as the scripts do), run image after image."""

    def __init__(self, model_root: Path, device: torch.device) -> None:
        from facexlib.utils.face_restoration_helper import FaceRestoreHelper

        self.helper = FaceRestoreHelper(
            1,
            face_size=512,
            crop_ratio=(1, 1),
            det_model="retinaface_mobile0.25",
            save_ext="png",
            use_parse=False,
            device=device,
            model_rootpath=str(model_root),
        )

    def detect(self, image_bgr8: np.ndarray) -> int:
        """Faces found in ``image_bgr8``; the helper then holds them."""
        helper = self.helper
        helper.clean_all()
        helper.read_image(image_bgr8)
        return helper.get_face_landmarks_5(
            only_center_face=False, resize=DETECT_SIZE, eye_dist_threshold=EYE_DIST_THRESHOLD
        )

    def restore(self, image_bgr8: np.ndarray, model: FaceModel, upscale: int) -> tuple[np.ndarray, int]:
        """Detect, align, restore each face, paste back at ``upscale``: (output image, faces)."""
        helper = self.helper
        helper.set_upscale_factor(upscale)
        faces = self.detect(image_bgr8)
        helper.align_warp_face()
        for cropped in helper.cropped_faces:
            helper.add_restored_face(model(cropped))
        helper.get_inverse_affine(None)
        return helper.paste_faces_to_input_image(), faces

    def restore_file(self, source: Path, target: Path, model: FaceModel, upscale: int) -> int:
        """The whole process, file to file, as the scripts: imread, restore, imwrite."""
        image = read_bgr(source)
        output, faces = self.restore(image, model, upscale)
        cv2.imwrite(str(target), output)
        return faces
