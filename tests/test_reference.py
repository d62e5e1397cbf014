"""Reference photos: loading and caching, colour transfer, identity (random-initialised ArcFace), pairing."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from devtools.stand_in_models import write_random_arcface
from restore_core.align import ALIGNED_SIZE, FFHQ_TEMPLATE_512, estimate_warp
from restore_core.compose import skin_mask
from restore_core.detect import FaceDetector, load_detector
from restore_core.errors import InputError, ModelError
from restore_core.faces import DetectedFace
from restore_core.io import load_image
from restore_core.models import spec
from restore_core.params import DetectionSettings
from restore_core.reference import (
    ReferenceCache,
    arcface_crop,
    identity_available,
    identity_report,
    identity_unavailable_message,
    load_identity_model,
    load_reference,
    match_face_color,
    pair_folder,
    pair_references,
    pick_closest,
    similarity,
    similarity_matrix,
)
from restore_core.reference.identity import ARCFACE_TEMPLATE_112, IdentityModel

MOBILE = DetectionSettings(detector="retinaface_mobile0.25")
FAMILY = "family_three_print.png"  # three faces; detection order: man, girl, woman (left to right)


@dataclass
class CountingDetector:
    """A real detector that counts its calls."""

    detector: FaceDetector
    calls: int = 0

    @property
    def name(self) -> str:
        return self.detector.name

    def detect(self, rgb8: np.ndarray, settings: DetectionSettings) -> list[DetectedFace]:
        self.calls += 1
        return self.detector.detect(rgb8, settings)


def _write_face(path: Path, rgb8: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb8, cv2.COLOR_RGB2BGR))
    return path


def _write_warm(path: Path, face_rgb8: np.ndarray) -> Path:
    """A copy of ``face_rgb8`` with a warm cast: red boosted, blue lowered."""
    warm = face_rgb8.astype(np.float32)
    warm[..., 0] = np.clip(warm[..., 0] * 1.2, 0, 255)
    warm[..., 2] *= 0.8
    return _write_face(path, warm.astype(np.uint8))


def _skin_lab(rgb: np.ndarray) -> np.ndarray:
    """Mean L*, a*, b* of an aligned float 0..1 face, weighted by the skin mask."""
    lab = cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2Lab)
    weight = skin_mask()[..., None]
    return (lab * weight).sum(axis=(0, 1)) / weight.sum()


@pytest.fixture(scope="module")
def detector(detector_weights: Path) -> FaceDetector:
    return load_detector("retinaface_mobile0.25", torch.device("cpu"), weights=detector_weights)


@pytest.fixture(scope="module")
def family_faces(photos_dir: Path, detector: FaceDetector) -> np.ndarray:
    """The three aligned faces (3 x 512 x 512 x 3 uint8) of the family print."""
    rgb8 = load_image(photos_dir / FAMILY).working_rgb8()
    faces = detector.detect(rgb8, MOBILE)
    assert len(faces) == 3
    return np.stack([estimate_warp(f.landmarks_array()).crop(rgb8) for f in faces])


@pytest.fixture(scope="module")
def reference_folder(tmp_path_factory: pytest.TempPathFactory, family_faces: np.ndarray) -> Path:
    """Each family face saved as a reference photo of its own, in shuffled order, plus files that are no use."""
    folder = tmp_path_factory.mktemp("references")
    for index, name in ((0, "c.png"), (1, "a.png"), (2, "b.jpg")):
        _write_face(folder / name, family_faces[index])
    _write_face(folder / "wall.png", np.full((300, 400, 3), 128, np.uint8))
    (folder / "notes.txt").write_text("not an image")
    return folder


# ----- colour, loading, caching-------------------------------------------------------------


def test_a_warm_reference_moves_its_face_colour_toward_it_and_leaves_the_other_faces_untouched(
    tmp_path: Path, detector: FaceDetector, family_faces: np.ndarray
) -> None:
    reference = load_reference(_write_warm(tmp_path / "warm.png", family_faces[1]), detector)
    references = {1: reference}
    originals = family_faces.astype(np.float32) / 255.0
    restored = originals  # a model that changed nothing: only the colour match acts
    for index in range(3):
        matched = match_face_color(restored[index], originals[index], references.get(index))
        if index != 1:
            np.testing.assert_array_equal(matched, restored[index])
            continue
        before, after, target = _skin_lab(restored[index]), _skin_lab(matched), _skin_lab(reference.rgb)
        # measured: a*/b* 16.3/11.9 -> 27.1/32.4, reference 27.4/32.6
        assert after[1] > before[1] + 5 and after[2] > before[2] + 10
        assert np.abs(after[1:] - target[1:]).max() < 1.0
        assert np.abs(before[1:] - target[1:]).max() > 10


def test_a_reference_lit_differently_gives_its_colour_but_not_its_lightness(
    tmp_path: Path, detector: FaceDetector, family_faces: np.ndarray
) -> None:
    bright = family_faces[1].astype(np.float32) * np.array([1.5, 1.3, 1.05], np.float32)  # warmer, brighter
    reference = load_reference(_write_face(tmp_path / "bright.png", np.clip(bright, 0, 255).astype(np.uint8)), detector)
    original = family_faces[1].astype(np.float32) / 255.0
    matched = match_face_color(original, original, reference)
    before, after, target = _skin_lab(original), _skin_lab(matched), _skin_lab(reference.rgb)
    assert target[0] > before[0] + 10  # the reference photo is much brighter
    assert abs(after[0] - before[0]) < 1.0  # the face keeps the photo's light
    assert after[2] > before[2] + 5  # and takes the reference's warmth


def test_a_photo_with_several_faces_gives_its_best_face_or_the_asked_one(
    photos_dir: Path, expected_faces: dict[str, list[list[float]]], detector: FaceDetector
) -> None:
    man, _, girl = expected_faces[FAMILY]
    best = load_reference(photos_dir / FAMILY, detector)
    assert (best.face_index, best.face_count) == (0, 3)
    np.testing.assert_allclose(best.face.box, man, atol=10)
    asked = load_reference(photos_dir / FAMILY, detector, face_index=1)
    np.testing.assert_allclose(asked.face.box, girl, atol=10)
    assert asked.path == photos_dir / FAMILY
    # Aligned to the same template as the faces it guides: detected again, its landmarks sit on it.
    for reference in (best, asked):
        assert reference.rgb8.shape == (ALIGNED_SIZE, ALIGNED_SIZE, 3) and reference.rgb8.dtype == np.uint8
        assert not reference.rgb8.flags.writeable
        (again,) = detector.detect(reference.rgb8, MOBILE)
        points = again.landmarks_array()  # measured: 7-11 px off on average (small faces, blurry when enlarged)
        # An eighth of the template's eye distance (126 px): a misaligned face is off by far more.
        assert np.abs(points - FFHQ_TEMPLATE_512).mean() < 16
        assert np.abs(points.mean(axis=0) - FFHQ_TEMPLATE_512.mean(axis=0)).max() < 10
    out_of_range = r"print.png: reference face 3 does not exist: the photo has 3 faces \(indices 0 to 2\)"
    with pytest.raises(InputError, match=out_of_range):
        load_reference(photos_dir / FAMILY, detector, face_index=3)


def test_a_photo_without_a_face_is_a_clear_input_error(tmp_path: Path, detector: FaceDetector) -> None:
    wall = tmp_path / "wall.png"
    ramp = np.tile(np.linspace(40, 220, 640, dtype=np.float32), (480, 1))
    cv2.imwrite(str(wall), np.repeat(ramp[..., None], 3, axis=2).astype(np.uint8))
    with pytest.raises(InputError) as error:
        load_reference(wall, detector)
    assert str(error.value) == f"{wall}: no face found in this reference photo"
    with pytest.raises(InputError, match="file not found"):
        ReferenceCache().get(tmp_path / "missing.jpg", detector)


def test_the_cache_detects_each_photo_once_and_again_when_the_file_changes(
    tmp_path: Path, detector: FaceDetector, family_faces: np.ndarray
) -> None:
    counting = CountingDetector(detector)
    cache = ReferenceCache()
    photo = _write_face(tmp_path / "ref.png", family_faces[0])
    first = cache.get(photo, counting)
    assert cache.get(photo, counting) is first
    assert cache.get(tmp_path / "." / "ref.png", counting) is first  # the same file by another path
    assert counting.calls == 1
    assert cache.get(photo, counting, face_index=0) is not first  # another key: a chosen face
    assert counting.calls == 2
    _write_face(photo, family_faces[1])
    stat = photo.stat()
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    changed = cache.get(photo, counting)
    assert counting.calls == 3 and not np.array_equal(changed.rgb8, first.rgb8)


# ----- identity --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def arcface_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random-initialised IR-SE-50 weights (about 175 MB), laid out like the published file."""
    return write_random_arcface(tmp_path_factory.mktemp("arcface") / spec("arcface").filename)


@pytest.fixture(scope="module")
def identity(arcface_weights: Path) -> IdentityModel:
    """The random ArcFace loaded through the models folder, once for the module (embeddings are cached)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEMEND_MODELS", str(arcface_weights.parent))
        return load_identity_model("cpu")


def test_identity_features_say_they_need_arcface_until_its_weights_are_installed(
    models_dir: Path, arcface_weights: Path, family_faces: np.ndarray
) -> None:
    assert not identity_available()
    message = (
        "reference identity features need the ArcFace model (recognition_arcface_ir_se50.pth, ~175 MB): "
        "facemend-cli models download arcface"
    )
    assert identity_unavailable_message() == message
    with pytest.raises(ModelError) as error:
        load_identity_model("cpu")
    assert str(error.value) == message

    (models_dir / spec("arcface").filename).symlink_to(arcface_weights)
    assert identity_available()
    model = load_identity_model("cpu")
    assert next(model.network.parameters()).device == torch.device("cpu") and not model.network.training
    embeddings = model.embed(family_faces[:2])
    assert embeddings.shape == (2, 512) and embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    assert model.embed(family_faces[0]).shape == (1, 512)  # one face, not a stack
    assert model.network_runs == 1  # the second call came from the cache


def test_a_face_is_more_similar_to_itself_than_to_another(identity: IdentityModel, family_faces: np.ndarray) -> None:
    noisy = np.clip(family_faces[0] + np.random.default_rng(0).normal(0, 4, family_faces[0].shape), 0, 255)
    faces, again = identity.embed(family_faces), identity.embed(noisy.astype(np.uint8))[0]
    assert similarity(faces[0], faces[0]) == pytest.approx(1.0, abs=1e-6)
    to_self = similarity(again, faces[0])
    assert to_self > 0.95
    assert to_self > max(similarity(again, faces[1]), similarity(again, faces[2])) + 0.3
    to_first = [similarity(face, faces[0]) for face in faces]
    np.testing.assert_allclose(similarity_matrix(faces, faces[:1])[:, 0], to_first, atol=1e-6)


def test_the_arcface_crop_puts_the_aligned_landmarks_on_the_arcface_template() -> None:
    dots = np.zeros((ALIGNED_SIZE, ALIGNED_SIZE, 3), np.uint8)
    for x, y in FFHQ_TEMPLATE_512:  # sub-pixel centres: cv2 takes coordinates in 1/16 px
        cv2.circle(dots, (round(x * 16), round(y * 16)), 8 * 16, (255, 255, 255), -1, cv2.LINE_AA, shift=4)
    crop = arcface_crop(dots)[..., 0].astype(np.float64)
    assert crop.shape == (112, 112)
    count, labels = cv2.connectedComponents((crop > 0).astype(np.uint8))
    assert count == 6  # background and five dots
    centres = np.array(
        [np.average(np.argwhere(labels == n), axis=0, weights=crop[labels == n])[::-1] for n in range(1, 6)]
    )
    # Exactly where the similarity between the two templates puts them...
    fitted = cv2.transform(FFHQ_TEMPLATE_512[None], estimate_warp(ARCFACE_TEMPLATE_112).inverse)[0]
    for point in fitted:
        assert np.hypot(*(centres - point).T).min() < 0.3
    # ...which is the ArcFace template up to the templates' difference in shape (measured <= 2.2 px).
    for point in ARCFACE_TEMPLATE_112:
        assert np.hypot(*(centres - point).T).min() < 2.5


def test_pairing_assigns_shuffled_references_back_to_their_faces(
    identity: IdentityModel, detector: FaceDetector, family_faces: np.ndarray, reference_folder: Path
) -> None:
    faces = identity.embed(family_faces)
    order = [2, 0, 1]
    assert pair_references(faces, faces[order]) == {2: 0, 0: 1, 1: 2}

    counting = CountingDetector(detector)
    cache = ReferenceCache()
    paired = pair_folder(reference_folder, faces, detector=counting, identity=identity, cache=cache)
    assert {i: r.path.name for i, r in paired.references.items()} == {0: "c.png", 1: "a.png", 2: "b.jpg"}
    # Each pair is its face's best match (random weights: only the ordering means anything).
    matrix = similarity_matrix(faces, identity.embed(np.stack([r.rgb8 for r in paired.references.values()])))
    assert all(matrix[i, row] == matrix[i].max() for row, i in enumerate(paired.references))
    assert [e.path.name for e in paired.skipped] == ["wall.png"]
    assert "no face found" in str(paired.skipped[0])
    pair_folder(reference_folder, faces[:1], detector=counting, identity=identity, cache=cache)
    assert counting.calls == 4  # the second folder pass came from the cache


def test_the_threshold_drops_weak_pairs(
    identity: IdentityModel, detector: FaceDetector, family_faces: np.ndarray, reference_folder: Path, aligned_dir: Path
) -> None:
    faces = identity.embed(family_faces)
    girl = load_reference(reference_folder / "a.png", detector)
    stranger = load_reference(aligned_dir / "0240.png", detector)
    references = identity.embed(np.stack([girl.rgb8, stranger.rgb8]))
    similarities = similarity_matrix(faces, references)
    # A threshold between the girl's own score and the stranger's best one (random weights:
    # the values move with the detector's landmarks, their order does not).
    assert similarities[1, 0] > similarities[:, 1].max()
    between = (similarities[1, 0] + similarities[:, 1].max()) / 2
    assert pair_references(faces, references, threshold=between) == {1: 0}  # the stranger goes to nobody
    everyone = pair_references(faces, references, threshold=0.0)
    assert everyone[1] == 0 and sorted(everyone.values()) == [0, 1]  # at 0 the stranger goes to someone
    assert pair_references(faces, references, threshold=0.99) == {}
    assert pair_references(faces[:0], references) == {}


def test_one_strong_pair_is_not_traded_for_two_marginal_ones() -> None:
    def unit(*values: float) -> np.ndarray:
        v = np.zeros(512)
        v[: len(values)] = values
        return v / np.linalg.norm(v)

    faces = np.stack([unit(1), unit(0, 1)])
    # face 0 ~ reference 0: 0.8; face 0 ~ reference 1 and face 1 ~ reference 0: 0.45; face 1 ~ reference 1: 0
    references = np.stack([unit(0.8, 0.45, np.sqrt(1 - 0.8**2 - 0.45**2)), unit(0.45, 0, 0, np.sqrt(1 - 0.45**2))])
    np.testing.assert_allclose(similarity_matrix(faces, references), [[0.8, 0.45], [0.45, 0.0]], atol=1e-9)
    assert pair_references(faces, references, threshold=0.4) == {0: 0}
    assert pair_references(faces, references, threshold=0.0) == {0: 1, 1: 0}  # 0.9 in all beats 0.8


def test_identity_lock_picks_the_candidate_that_is_the_reference(
    identity: IdentityModel, detector: FaceDetector, family_faces: np.ndarray, reference_folder: Path
) -> None:
    reference = load_reference(reference_folder / "b.jpg", detector)
    (target,) = identity.embed(reference.rgb8)
    candidates = np.stack([family_faces[0], family_faces[1], reference.rgb8, family_faces[2]])
    best, similarities = pick_closest(identity, candidates.astype(np.float32) / 255.0, target)
    assert best == 2 and similarities.shape == (4,)
    assert similarities[2] == pytest.approx(1.0, abs=1e-5)
    assert similarities[3] > similarities[0] and similarities[3] > similarities[1]  # the same woman, from the photo


def test_the_report_gives_each_similarity_or_none_without_the_model(
    identity: IdentityModel, detector: FaceDetector, family_faces: np.ndarray, reference_folder: Path
) -> None:
    reference = load_reference(reference_folder / "a.png", detector)
    original = family_faces[1]
    restored = np.flip(original, axis=1).astype(np.float32) / 255.0  # a different image of the same face
    report = identity_report(original, restored, reference, identity)
    (o, r, ref) = identity.embed(np.stack([original, (restored * 255 + 0.5).astype(np.uint8), reference.rgb8]))
    assert report.reference == str(reference_folder / "a.png") and report.reference_face == 0
    assert report.original_vs_reference == pytest.approx(similarity(o, ref), abs=1e-6)
    assert report.restored_vs_reference == pytest.approx(similarity(r, ref), abs=1e-6)
    assert report.restored_vs_original == pytest.approx(similarity(r, o), abs=1e-6)
    assert similarity(o, ref) > max(similarity(o, other) for other in identity.embed(family_faces[[0, 2]]))
    assert report.to_json()["similarity"]["restored_vs_original"] == round(similarity(r, o), 4)

    unpaired = identity_report(original, None, None, identity)
    assert unpaired.restored_vs_original is None and unpaired.original_vs_reference is None
    without_model = identity_report(original, restored, reference, None).to_json()
    assert without_model == {
        "reference": str(reference_folder / "a.png"),
        "reference_face": 0,
        "similarity": {"original_vs_reference": None, "restored_vs_reference": None, "restored_vs_original": None},
    }


def test_a_face_the_identity_lock_restores_is_announced_as_it_finishes(
    models_dir: Path, arcface_weights: Path, photos_dir: Path, reference_folder: Path
) -> None:
    from restore_core.engine import PREFETCH_LEVELS, ProgressEvent, RenderEngine
    from restore_core.params import FaceOverride, FaceSettings, Settings

    (models_dir / arcface_weights.name).symlink_to(arcface_weights)
    engine = RenderEngine(device="cpu")
    engine.open(photos_dir / FAMILY)
    engine.detect(MOBILE)
    locked = FaceOverride(reference=str(reference_folder / "a.png"), identity_lock=True)
    # pre-conditioning makes the creativity levels differ although passthrough runs no network
    settings = Settings(
        detection=MOBILE, face=FaceSettings(model="passthrough", precondition=True), overrides=((1, locked),)
    )
    events: list[ProgressEvent] = []
    engine.render(settings, events.append, allow_preview=False)
    done = {e.face.index: e.face for e in events if e.face is not None}
    assert sorted(done) == [0, 1, 2]  # the locked face too, though the lock's pre-pass restored it
    assert done[1].render.creativity in PREFETCH_LEVELS and done[1].render.reference is not None
    events.clear()
    engine.render(settings, events.append, allow_preview=False)
    assert not [e for e in events if e.face is not None]  # all cached: nothing restored, nothing announced
