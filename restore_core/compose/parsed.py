"""Masks from a face parse: which aligned pixels are face, which are skin.

A parse is a size x size uint8 map of facexlib's ParseNet classes (CelebAMask-HQ, in the
order ParseNet predicts them). The blend mask is built exactly as facexlib's
``FaceRestoreHelper(use_parse=True)`` builds it, which the official GFPGAN and CodeFormer
pipelines paste through: the face classes at 1, feathered by two wide Gaussian blurs, the
crop's border cleared; then multiplied here by the squircle of ``face_blend_mask`` so nothing
reaches the crop edge. Hair, neck, cloth, hat and background keep the photo's pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

from .mask import face_blend_mask

#: ParseNet's output classes, by index (facexlib's ``inference_parsing.py`` lists them).
PARSE_CLASSES = (
    "background",
    "skin",
    "l_brow",
    "r_brow",
    "l_eye",
    "r_eye",
    "eye_g",
    "l_ear",
    "r_ear",
    "ear_r",
    "nose",
    "mouth",
    "u_lip",
    "l_lip",
    "neck",
    "neck_l",
    "cloth",
    "hair",
    "hat",
)
#: Classes taken from the restored face: the ones facexlib's ``MASK_COLORMAP`` sets to 255
#: (skin, brows, eyes, glasses, ears, earrings, nose, mouth, lips; and the necklace, as it does).
FACE_CLASSES = frozenset(
    PARSE_CLASSES.index(name)
    for name in (
        "skin",
        "l_brow",
        "r_brow",
        "l_eye",
        "r_eye",
        "eye_g",
        "l_ear",
        "r_ear",
        "ear_r",
        "nose",
        "mouth",
        "u_lip",
        "l_lip",
        "neck_l",
    )
)
#: Classes whose colour is the person's skin, for colour statistics.
SKIN_CLASSES = frozenset(PARSE_CLASSES.index(name) for name in ("skin", "nose"))

#: facexlib's feathering: a 101 x 101 Gaussian of sigma 11, applied twice, then this many
#: border pixels cleared (all at the 512 px parse size).
_FEATHER_KSIZE = 101
_FEATHER_SIGMA = 11
_BORDER = 10
#: Skin statistics stay clear of the class edges (hair, background, lips) by this many pixels.
_SKIN_ERODE = 7
#: Below this fraction of the crop, the parsed skin is too little to trust (an occluded face).
_MIN_SKIN_FRACTION = 0.02


def _check_parse(parse: np.ndarray) -> None:
    if parse.ndim != 2 or parse.shape[0] != parse.shape[1] or parse.dtype != np.uint8:
        raise ValueError(f"a face parse is a square uint8 class map, got {parse.dtype} {parse.shape}")


def _frozen(mask: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(mask, dtype=np.float32)
    out.setflags(write=False)  # cached by the engine and shared: nobody may change it
    return out


def face_class_mask(parse: np.ndarray) -> np.ndarray:
    """The face classes of ``parse`` feathered as ``FaceRestoreHelper`` feathers them: float32 0..1.

    The arithmetic is facexlib's (float64, 0/255, the same blurs and border), so for the same
    parse the values are its mask's, rounded once to float32.
    """
    _check_parse(parse)
    mask = np.where(np.isin(parse, list(FACE_CLASSES)), 255.0, 0.0)
    kernel = (_FEATHER_KSIZE, _FEATHER_KSIZE)
    mask = cv2.GaussianBlur(mask, kernel, _FEATHER_SIGMA)
    mask = cv2.GaussianBlur(mask, kernel, _FEATHER_SIGMA)
    mask[:_BORDER, :] = 0
    mask[-_BORDER:, :] = 0
    mask[:, :_BORDER] = 0
    mask[:, -_BORDER:] = 0
    return _frozen(mask / 255.0)


def parsed_blend_mask(parse: np.ndarray) -> np.ndarray:
    """Paste-back weight through the parsed face: ``face_class_mask`` times the squircle."""
    return _frozen(face_class_mask(parse) * face_blend_mask(parse.shape[0]))


def parsed_skin_mask(parse: np.ndarray) -> np.ndarray | None:
    """Weight of each aligned pixel in skin colour statistics: the parsed skin and nose, eroded
    away from their edges; None when too little skin is visible to trust."""
    _check_parse(parse)
    parsed = np.isin(parse, list(SKIN_CLASSES)).astype(np.uint8)
    size = 2 * _SKIN_ERODE * parse.shape[0] // 512 + 1
    skin = cv2.erode(parsed, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    if skin.mean() < _MIN_SKIN_FRACTION:
        return None
    return _frozen(skin)
