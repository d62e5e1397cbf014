"""Composition after the face model: masks, colour match, paste-back, grain, upscale, comparison.

All numpy/OpenCV (no torch): these layers are recomputed on every strength, grain or colour
match change, on the preview region only.
"""

from .color import match_color
from .compare import ComparisonMode, comparison_image
from .grain import add_grain, add_image_grain, apply_grain, grain_noise
from .mask import face_blend_mask, skin_mask
from .native import native_max_of, to_dtype
from .parsed import FACE_CLASSES, PARSE_CLASSES, SKIN_CLASSES, face_class_mask, parsed_blend_mask, parsed_skin_mask
from .paste import paste_face
from .tone import COLOUR, Tone, ToneKind, measure_face_tone, measure_tone, retone
from .upscale import TileModel, upscale_image

__all__ = [
    "COLOUR",
    "FACE_CLASSES",
    "PARSE_CLASSES",
    "SKIN_CLASSES",
    "ComparisonMode",
    "TileModel",
    "Tone",
    "ToneKind",
    "add_grain",
    "add_image_grain",
    "apply_grain",
    "comparison_image",
    "face_blend_mask",
    "face_class_mask",
    "grain_noise",
    "match_color",
    "measure_face_tone",
    "measure_tone",
    "native_max_of",
    "parsed_blend_mask",
    "parsed_skin_mask",
    "paste_face",
    "retone",
    "skin_mask",
    "to_dtype",
    "upscale_image",
]
