"""Reference photos paired to faces by identity, and the identity lock's choice of candidate.

Pairing is an assignment: each face gets at most one reference and each reference at most
one face, so two people in a photo never share a reference. A pair costs the threshold, so
the assignment maximises the summed similarity above it: a pair only counts when the
similarity clears the threshold, and one strong pair is not traded for several marginal ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..params import DetectionSettings
from .faces import REFERENCE_DETECTION, FaceFinder, ReferenceCache, ReferenceFace
from .identity import IdentityModel, similarity_matrix

#: Cosine similarity above which a reference is taken to show the same person. The code these
#: IR-SE-50 weights come with (TreB1eN's InsightFace_Pytorch) accepts a match below a squared
#: distance of 1.5 between unit embeddings, a cosine of 0.25; the margin keeps look-alikes apart.
DEFAULT_PAIRING_THRESHOLD = 0.3


def pair_references(
    face_embeddings: np.ndarray, reference_embeddings: np.ndarray, threshold: float = DEFAULT_PAIRING_THRESHOLD
) -> dict[int, int]:
    """Face row -> reference row, one to one, only for similarities above ``threshold``.

    ``face_embeddings``: F x 512; ``reference_embeddings``: R x 512 (either may be empty).
    Rows are positions in these arrays: a caller embedding only some faces maps them back.
    """
    from scipy.optimize import linear_sum_assignment

    similarities = similarity_matrix(face_embeddings, reference_embeddings)
    if similarities.size == 0:
        return {}
    gain = np.maximum(similarities - threshold, 0.0)
    rows, cols = linear_sum_assignment(gain, maximize=True)
    return {int(f): int(r) for f, r in zip(rows, cols, strict=True) if similarities[f, r] > threshold}


@dataclass(frozen=True, eq=False)
class FolderPairing:
    """What ``pair_folder`` found: the pairs, their similarities, the files it could not use."""

    references: dict[int, ReferenceFace]  # face row (in the embeddings given) -> its reference
    similarities: dict[int, float]  # face row -> similarity to its reference
    skipped: tuple[InputError, ...]  # unreadable files and photos without a face; each names its file


def reference_files(folder: str | Path) -> list[Path]:
    """The image files directly in ``folder`` (by extension, hidden files left out), sorted."""
    from ..io.formats import INPUT_EXTENSIONS

    directory = Path(folder)
    if not directory.is_dir():
        raise InputError(directory, "is not a folder of reference photos")
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in INPUT_EXTENSIONS
    )


def pair_folder(
    folder: str | Path,
    face_embeddings: np.ndarray,
    *,
    detector: FaceFinder,
    identity: IdentityModel,
    cache: ReferenceCache | None = None,
    threshold: float = DEFAULT_PAIRING_THRESHOLD,
    detection: DetectionSettings = REFERENCE_DETECTION,
) -> FolderPairing:
    """Pair the faces (their embeddings, F x 512) with the best face of each photo in ``folder``.

    A photo that cannot be read or shows no face is skipped (and listed), not fatal: one bad
    file in a folder of references must not stop a batch.
    """
    cache = cache if cache is not None else ReferenceCache()
    candidates: list[ReferenceFace] = []
    skipped: list[InputError] = []
    for path in reference_files(folder):
        try:
            candidates.append(cache.get(path, detector, detection=detection))
        except InputError as exc:
            skipped.append(exc)
    if not candidates:
        return FolderPairing({}, {}, tuple(skipped))
    reference_embeddings = identity.embed(np.stack([c.rgb8 for c in candidates]))
    pairs = pair_references(face_embeddings, reference_embeddings, threshold)
    similarities = similarity_matrix(face_embeddings, reference_embeddings)
    return FolderPairing(
        references={f: candidates[r] for f, r in pairs.items()},
        similarities={f: float(similarities[f, r]) for f, r in pairs.items()},
        skipped=tuple(skipped),
    )


def pick_closest(
    identity: IdentityModel, candidates: np.ndarray, reference_embedding: np.ndarray
) -> tuple[int, np.ndarray]:
    """Identity lock: which of K restorations of one face (K x 512 x 512 x 3, e.g. at several
    creativities) is closest to the reference's identity; returns its index and all K similarities."""
    similarities = similarity_matrix(identity.embed(candidates), reference_embedding)[:, 0]
    return int(np.argmax(similarities)), similarities
