"""Colour match: unchanged faces stay exact, colour casts move to the reference, detail stays."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from restore_core.compose import PARSE_CLASSES, match_color, parsed_skin_mask, skin_mask
from restore_core.reference import match_face_color


def load_face(path: Path) -> np.ndarray:
    return np.ascontiguousarray(cv2.imread(str(path))[..., ::-1]).astype(np.float32) / 255


@pytest.fixture(scope="module")
def aligned_faces(aligned_dir: Path) -> dict[str, np.ndarray]:
    return {p.stem: load_face(p) for p in sorted(aligned_dir.glob("*.png"))}


def skin_lab_mean(face: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(face, cv2.COLOR_RGB2Lab)
    w = skin_mask(face.shape[0])[..., None]
    return (lab * w).sum(axis=(0, 1)) / w.sum()


def high_pass(face: np.ndarray) -> np.ndarray:
    return face - cv2.GaussianBlur(face, (0, 0), 2.0)


def warm_and_sharpened(face: np.ndarray) -> np.ndarray:
    """What a model might return: a red-yellow cast and extra detail."""
    warm = face * np.array([1.12, 1.0, 0.78], dtype=np.float32) + np.array([0.05, 0.02, 0.0], dtype=np.float32)
    return np.clip(warm + 1.5 * high_pass(warm), 0, 1).astype(np.float32)


def test_an_unchanged_face_comes_back_bit_for_bit(aligned_faces) -> None:
    assert len(aligned_faces) == 4
    for name, face in aligned_faces.items():
        out = match_color(face, face.copy())
        assert out.dtype == np.float32
        assert np.array_equal(out, face), name


def test_a_warm_cast_moves_to_the_reference_and_detail_stays(aligned_faces) -> None:
    for name, face in aligned_faces.items():
        if name.endswith("_gray"):
            continue
        restored = warm_and_sharpened(face)
        before = restored.copy()
        matched = match_color(restored, face)
        assert np.array_equal(restored, before)  # input untouched
        target, cast, fixed = skin_lab_mean(face), skin_lab_mean(restored), skin_lab_mean(matched)
        # a* and b* (and L) errors shrink to a fraction of the cast.
        assert np.all(np.abs(fixed - target) < 0.25 * np.abs(cast - target) + 0.5), (name, target, cast, fixed)
        # The model's detail (high frequencies) survives almost exactly.
        detail, kept = high_pass(restored), high_pass(matched)
        assert np.corrcoef(detail.ravel(), kept.ravel())[0, 1] > 0.99, name
        assert np.abs(kept - detail).mean() < 0.1 * np.abs(detail).mean(), name


def test_a_grey_reference_makes_the_face_grey(aligned_faces) -> None:
    grey = aligned_faces["Einstein01_gray"]
    assert np.array_equal(grey[..., 0], grey[..., 1])
    matched = match_color(warm_and_sharpened(grey), grey)
    _, a, b = skin_lab_mean(matched)
    assert abs(a) < 1.0 and abs(b) < 1.0


def test_matching_to_another_face_takes_its_skin_tone(aligned_faces) -> None:
    face, reference = aligned_faces["0143"], aligned_faces["Solvay_conference_1927_0018"]
    matched = match_color(face, reference)
    gap_before = np.abs(skin_lab_mean(face) - skin_lab_mean(reference))
    gap_after = np.abs(skin_lab_mean(matched) - skin_lab_mean(reference))
    assert np.all(gap_after < 0.3 * gap_before + 0.5)


def test_shape_mismatch_is_refused(aligned_faces) -> None:
    face = aligned_faces["0143"]
    with pytest.raises(ValueError, match="shape"):
        match_color(face, face[:256, :256])


def _lab_mean(face: np.ndarray, where: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(face, cv2.COLOR_RGB2Lab)[where].mean(axis=0)


def test_the_parsed_skin_decides_what_skin_colour_is(aligned_faces) -> None:
    """A face whose left cheek area is parsed skin and whose template skin area also covers a
    hand (a blue cast): matched through the parse, the hand's colour does not leak in."""
    face = aligned_faces["0143"]
    original = face.copy()
    parse = np.zeros((512, 512), np.uint8)
    parse[200:420, 140:256] = PARSE_CLASSES.index("skin")
    hand = np.zeros((512, 512), bool)
    hand[200:420, 256:380] = True
    original[hand] = np.clip(original[hand] * np.array([0.7, 0.8, 1.2], np.float32), 0, 1)
    skin = parsed_skin_mask(parse)
    assert skin is not None
    where = skin > 0
    restored = warm_and_sharpened(face)
    through_parse = match_face_color(restored, original, skin=skin)
    through_template = match_face_color(restored, original)
    target = _lab_mean(original, where)
    assert np.abs(_lab_mean(through_parse, where) - target).max() < 1.5
    assert np.abs(_lab_mean(through_template, where) - target).max() > 3.0


def test_a_reference_is_measured_where_its_own_skin_is(aligned_faces) -> None:
    face = aligned_faces["0143"]
    reference = np.full_like(face, 0.5)
    reference[:, :256] = (0.8, 0.6, 0.5)  # its skin: the left half only; the rest is a grey wall
    own = np.zeros((512, 512), np.float32)
    own[:, :256] = 1
    skin = skin_mask(512)
    matched = match_color(face, reference, skin, reference_mask=own)
    target = cv2.cvtColor(np.float32([[[0.8, 0.6, 0.5]]]), cv2.COLOR_RGB2Lab)[0, 0]
    assert np.abs(skin_lab_mean(matched) - target).max() < 2.0
    assert np.abs(skin_lab_mean(match_color(face, reference, skin)) - target).max() > 5.0
