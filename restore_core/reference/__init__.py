"""Reference photos: a sharper photo of the same person guides a face's restoration.

- ``faces``: the reference photo's best (or chosen) face, aligned to the 512 template; a cache.
- ``color``: the restored face's colour matched to the reference's face instead of the original's.
- ``identity``: optional ArcFace embeddings (facexlib's IR-SE-50) on CPU, CUDA or MPS.
- ``pairing``: references assigned to faces by identity; the identity lock's candidate choice.
- ``report``: per-face similarities (original, restored, reference).

Importing this package loads neither torch nor facexlib; ``load_identity_model`` does.
"""

from .color import match_face_color
from .faces import REFERENCE_DETECTION, FaceFinder, ReferenceCache, ReferenceFace, best_face_index, load_reference
from .identity import (
    IDENTITY_MODEL,
    IdentityModel,
    arcface_crop,
    identity_available,
    identity_unavailable_message,
    load_identity_model,
    similarity,
    similarity_matrix,
)
from .pairing import (
    DEFAULT_PAIRING_THRESHOLD,
    FolderPairing,
    pair_folder,
    pair_references,
    pick_closest,
    reference_files,
)
from .report import IdentityReport, identity_report

__all__ = [
    "DEFAULT_PAIRING_THRESHOLD",
    "IDENTITY_MODEL",
    "REFERENCE_DETECTION",
    "FaceFinder",
    "FolderPairing",
    "IdentityModel",
    "IdentityReport",
    "ReferenceCache",
    "ReferenceFace",
    "arcface_crop",
    "best_face_index",
    "identity_available",
    "identity_report",
    "identity_unavailable_message",
    "load_identity_model",
    "load_reference",
    "match_face_color",
    "pair_folder",
    "pair_references",
    "pick_closest",
    "reference_files",
    "similarity",
    "similarity_matrix",
]
