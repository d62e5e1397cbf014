"""Per-face identity figures for reports and the face panel: how alike original, restored and reference are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .faces import ReferenceFace
from .identity import IdentityModel, as_rgb8_batch, similarity


@dataclass(frozen=True)
class IdentityReport:
    """Cosine similarities of one face; None where a face is absent or the identity model is."""

    reference: str | None  # path of the paired reference photo
    reference_face: int | None  # which face of that photo
    original_vs_reference: float | None = None
    restored_vs_reference: float | None = None
    restored_vs_original: float | None = None

    def to_json(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "reference": self.reference,
            "reference_face": self.reference_face,
            "similarity": {
                "original_vs_reference": rounded(self.original_vs_reference),
                "restored_vs_reference": rounded(self.restored_vs_reference),
                "restored_vs_original": rounded(self.restored_vs_original),
            },
        }


def identity_report(
    original: np.ndarray,
    restored: np.ndarray | None,
    reference: ReferenceFace | None,
    identity: IdentityModel | None,
) -> IdentityReport:
    """The figures for one face: ``original`` and ``restored`` are its aligned faces (uint8 or
    float 0..1); ``restored`` is None when the face was not restored, ``identity`` when the
    ArcFace weights are not installed."""
    path = None if reference is None else str(reference.path)
    index = None if reference is None else reference.face_index
    if identity is None:
        return IdentityReport(path, index)
    faces = [original] + ([] if restored is None else [restored]) + ([] if reference is None else [reference.rgb8])
    embeddings = identity.embed(np.concatenate([as_rgb8_batch(f) for f in faces]))
    original_e = embeddings[0]
    restored_e = embeddings[1] if restored is not None else None
    reference_e = embeddings[-1] if reference is not None else None

    def between(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
        return None if a is None or b is None else similarity(a, b)

    return IdentityReport(
        path,
        index,
        original_vs_reference=between(original_e, reference_e),
        restored_vs_reference=between(restored_e, reference_e),
        restored_vs_original=between(restored_e, original_e),
    )
