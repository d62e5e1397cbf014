"""Face detection with the real RetinaFace mobile0.25 weights on the real test photos."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from restore_core.detect import (
    FaceDetector,
    faces_from_json,
    load_detector,
    multiscale,
    prominence,
    retinaface,
    select_faces,
    sort_faces,
)
from restore_core.errors import InputError, ModelError
from restore_core.faces import DetectedFace, landmarks_from_box
from restore_core.params import DetectionSettings

CROWD = "crowd_selfie.jpg"
DEFAULT = DetectionSettings()


def _iou(a: tuple[float, ...] | list[float], b: tuple[float, ...] | list[float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def _face(box: tuple[float, float, float, float], score: float = 0.99) -> DetectedFace:
    return DetectedFace(box=box, score=score, landmarks=landmarks_from_box(box))


@pytest.fixture(scope="session")
def detector(detector_weights: Path) -> FaceDetector:
    return load_detector("retinaface_mobile0.25", torch.device("cpu"), weights=detector_weights)


@pytest.fixture(scope="session")
def photo(photos_dir: Path) -> Callable[[str], np.ndarray]:
    cache: dict[str, np.ndarray] = {}

    def read(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = _read_rgb(photos_dir / name)
        return cache[name]

    return read


@pytest.fixture(scope="session")
def detect(detector: FaceDetector, photo) -> Callable[..., list[DetectedFace]]:
    """Detections per (photo, settings), computed once per session."""
    cache: dict[tuple[str, DetectionSettings], list[DetectedFace]] = {}

    def run(name: str, settings: DetectionSettings = DEFAULT) -> list[DetectedFace]:
        if (name, settings) not in cache:
            cache[name, settings] = detector.detect(photo(name), settings)
        return cache[name, settings]

    return run


# --- the photos ----------------------------------------------------------------------


def test_each_photo_gives_exactly_its_faces(detect, expected_faces) -> None:
    assert expected_faces, "faces.json lists no photos"
    for name, boxes in expected_faces.items():
        found = detect(name)
        assert len(found) == len(boxes), (name, [f.box for f in found])
        unmatched = list(found)
        for box in boxes:
            best = max(unmatched, key=lambda f: _iou(f.box, box))
            assert _iou(best.box, box) >= 0.5, (name, box, best.box)
            unmatched.remove(best)
        assert all(f.score >= DEFAULT.score_threshold for f in found)


def test_crowd_photo_gives_at_least_200_faces(detect) -> None:
    assert len(detect(CROWD)) >= 200


def test_faces_are_ordered_left_to_right_and_landmarks_lie_in_their_boxes(detect, expected_faces) -> None:
    for name in [*expected_faces, CROWD]:
        faces = detect(name)
        centres = [f.center for f in faces]
        assert centres == sorted(centres), name
        for face in faces:
            x1, y1, x2, y2 = face.box
            assert x2 > x1 and y2 > y1
            for x, y in face.landmarks:
                assert x1 <= x <= x2 and y1 <= y <= y2, (name, face)
            left_eye, right_eye = face.landmarks[0], face.landmarks[1]
            assert left_eye[0] < right_eye[0], (name, face)  # upright faces, image-left eye first


def test_crowd_faces_are_not_reported_twice(detect) -> None:
    # Faces found by two levels or two tiles are merged: no two boxes cover the same face.
    boxes = [f.box for f in detect(CROWD)]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert _iou(a, b) < 0.3, (a, b)


def test_photo_upscaled_3x_gives_the_same_faces_at_3x_coordinates(detector, detect, photo) -> None:
    # 1297 x 1920 -> 3891 x 5760 (22 MP): levels and tiles differ, the faces must not.
    rgb = photo("two_children_film.jpg")
    height, width = rgb.shape[:2]
    big = cv2.resize(rgb, (3 * width, 3 * height), interpolation=cv2.INTER_CUBIC)

    small_faces = detect("two_children_film.jpg")
    big_faces = detector.detect(big, DEFAULT)

    assert len(small_faces) == len(big_faces) >= 2
    for small, large in zip(small_faces, big_faces, strict=True):
        np.testing.assert_allclose(np.array(large.box), 3 * np.array(small.box), atol=3.0)
        np.testing.assert_allclose(large.landmarks_array(), 3 * small.landmarks_array(), atol=3.0)


def test_faces_from_a_tile_land_where_the_same_pixels_alone_put_them(detector, detect, photo) -> None:
    # The crowd's fine level is full size in two tiles; the second tile, cut out and detected
    # on its own (one level, one tile), sees the same pixels: its small faces, shifted by the
    # tile's origin, are the full image's faces to the last digit.
    rgb = photo(CROWD)
    fine = multiscale.plan_levels(rgb.shape[1], rgb.shape[0])[-1]
    assert (fine.width, fine.height) == (rgb.shape[1], rgb.shape[0]) and len(fine.tile_origins) == 2
    (x0, _), (x1, _) = fine.tile_origins
    alone = detector.detect(np.ascontiguousarray(rgb[:, x1:]), DEFAULT)
    full = np.array([f.box for f in detect(CROWD)])
    checked = 0
    for face in alone:
        # Away from the overlap with the first tile, and too small for the coarse level.
        if face.box[0] < x0 + fine.tile_width - x1 + 10 or face.size >= 60:
            continue
        shifted = np.array(face.box) + (x1, 0, x1, 0)
        assert np.abs(full - shifted).max(axis=1).min() < 0.01, face.box
        checked += 1
    assert checked >= 50


def test_blank_images_give_no_faces(detector) -> None:
    blanks = (np.zeros((480, 640, 3), np.uint8), np.full((1500, 2000, 3), 128, np.uint8), np.zeros((1, 1, 3), np.uint8))
    for rgb in blanks:
        assert detector.detect(rgb, DetectionSettings(sensitivity=1.0)) == []


def test_detection_needs_8_bit_rgb(detector) -> None:
    with pytest.raises(ValueError, match="uint8 RGB"):
        detector.detect(np.zeros((100, 100), np.uint8), DEFAULT)
    with pytest.raises(ValueError, match="uint8 RGB"):
        detector.detect(np.zeros((100, 100, 3), np.float32), DEFAULT)


# --- settings ------------------------------------------------------------------------


def test_sensitivity_raises_the_count_monotonically(detect) -> None:
    counts = [len(detect(CROWD, DetectionSettings(sensitivity=s))) for s in (0.1, 0.5, 0.9)]
    assert counts[0] < counts[1] < counts[2], counts
    low, high = detect(CROWD, DetectionSettings(sensitivity=0.1)), detect(CROWD, DetectionSettings(sensitivity=0.9))
    # What a stricter threshold finds, a looser one finds too.
    for face in low:
        assert max(_iou(face.box, other.box) for other in high) >= 0.5


def test_min_and_max_face_keep_only_faces_of_that_size(detect) -> None:
    everything = detect(CROWD)
    sizes = sorted(f.size for f in everything)
    assert sizes[0] < 40 and sizes[-1] > 100

    bounded = detect(CROWD, DetectionSettings(min_face=40, max_face=100))
    assert bounded and all(40 <= f.size <= 100 for f in bounded)
    assert len(bounded) < len(everything)

    # A minimum face size skips the fine levels, yet every face of that size is still found.
    large = detect(CROWD, DetectionSettings(min_face=60))
    assert all(f.size >= 60 for f in large)
    for face in everything:
        if face.size >= 70:
            assert max(_iou(face.box, other.box) for other in large) >= 0.5, face.box

    assert select_faces(everything, DetectionSettings(max_face=30), (1600, 898)) == [
        f for f in everything if f.size <= 30
    ]


def test_only_center_face_keeps_the_most_prominent_face(detect, photo) -> None:
    everything = detect(CROWD)
    height, width = photo(CROWD).shape[:2]
    (centre,) = detect(CROWD, DetectionSettings(only_center_face=True))
    best = max(everything, key=lambda f: prominence(f, (width, height)))
    assert _iou(centre.box, best.box) > 0.9
    assert best.size > np.median([f.size for f in everything])


def test_prominence_weighs_size_by_closeness_to_the_centre() -> None:
    size = (1000, 800)
    central_small = _face((470, 370, 530, 430))  # 60 px at the centre
    corner_large = _face((0, 0, 200, 200))  # 200 px at a corner
    near_large = _face((520, 300, 640, 420))  # 120 px just off the centre
    assert prominence(central_small, size) == pytest.approx(60)
    assert prominence(corner_large, size) < prominence(near_large, size)
    only = DetectionSettings(only_center_face=True)
    assert select_faces([central_small, corner_large], only, size) == [central_small]
    assert select_faces([central_small, corner_large, near_large], only, size) == [near_large]
    assert select_faces([], only, size) == []


def test_select_faces_filters_then_sorts_left_to_right() -> None:
    a, b, c = _face((300, 10, 350, 60)), _face((10, 10, 40, 40)), _face((290, 200, 360, 280))
    assert sort_faces([c, a, b]) == [b, a, c]  # c ties with a in x (325) and lies below
    assert select_faces([a, b, c], DetectionSettings(), (500, 500)) == [b, a, c]
    assert select_faces([a, b, c], DetectionSettings(min_face=45), (500, 500)) == [a, c]
    assert select_faces([a, b, c], DetectionSettings(max_face=50), (500, 500)) == [b, a]
    assert select_faces([a, b, c], DetectionSettings(min_face=31, max_face=79), (500, 500)) == [a]


# --- external boxes ------------------------------------------------------------------


def test_report_json_round_trips(detect, tmp_path: Path) -> None:
    faces = detect("family_three_print.png")
    path = tmp_path / "faces.json"
    path.write_text(json.dumps({"faces": [f.to_json() for f in faces], "image": "family_three_print.png"}))
    loaded = faces_from_json(path)
    assert len(loaded) == len(faces)
    for face, back in zip(faces, loaded, strict=True):
        np.testing.assert_allclose(back.box, face.box, atol=0.005)
        np.testing.assert_allclose(back.landmarks_array(), face.landmarks_array(), atol=0.005)
        assert back.score == pytest.approx(face.score, abs=5e-5)
    assert faces_from_json(json.loads(path.read_text())) == loaded


def test_bare_boxes_get_template_landmarks_and_keep_their_order() -> None:
    faces = faces_from_json([[300, 40, 380.5, 140], [10, 20, 90, 120]])
    assert [f.box for f in faces] == [(300, 40, 380.5, 140), (10, 20, 90, 120)]
    assert faces[0].landmarks == landmarks_from_box((300, 40, 380.5, 140))
    assert faces[0].score == 1.0
    mixed = faces_from_json({"faces": [{"box": [1, 2, 30, 40], "score": 0.5}]})
    assert mixed[0].score == 0.5 and mixed[0].landmarks == landmarks_from_box((1, 2, 30, 40))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read face boxes"),
        ('{"boxes": []}', 'a "faces" list'),
        ('"faces"', "must be a list"),
        ("[[10, 10, 5, 50]]", "face 0: .*x2 > x1"),
        ("[[1, 2, 3, 4], [1, 2, 3]]", r"face 1: box \[x1, y1, x2, y2\] must be 4 numbers"),
        ('[[1, 2, 30, "40"]]', "finite numbers"),
        ('{"faces": [{"score": 0.9}]}', 'face 0: has no "box"'),
        ('{"faces": [{"box": [0, 0, 9, 9], "landmarks": [[1, 2]]}]}', "five \\[x, y\\] points"),
        ('{"faces": [{"box": [0, 0, 9, 9], "score": "high"}]}', "score must be"),
    ],
)
def test_bad_face_json_names_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "boxes.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as caught:
        faces_from_json(path)
    assert caught.value.path == path
    assert str(path) in str(caught.value)


def test_missing_face_json_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read face boxes") as caught:
        faces_from_json(tmp_path / "nowhere.json")
    assert caught.value.path == tmp_path / "nowhere.json"


# --- loading -------------------------------------------------------------------------


def test_auto_with_a_weights_file_reads_the_backbone_from_it(detector_weights: Path) -> None:
    loaded = load_detector("auto", torch.device("cpu"), weights=detector_weights)
    assert loaded.name == "retinaface_mobile0.25" and loaded.weights == detector_weights


def test_weights_saved_through_data_parallel_load(detector, detector_weights: Path, tmp_path: Path, photo) -> None:
    state = torch.load(detector_weights, weights_only=True, map_location="cpu")
    prefixed = tmp_path / "prefixed.pth"
    torch.save({"module." + k.removeprefix("module."): v for k, v in state.items()}, prefixed)
    loaded = load_detector("retinaface_mobile0.25", torch.device("cpu"), weights=prefixed)
    rgb = photo("collage_two_faces.jpg")
    assert [f.box for f in loaded.detect(rgb, DEFAULT)] == [f.box for f in detector.detect(rgb, DEFAULT)]


def test_bad_weights_are_refused_with_the_file_name(detector_weights: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="do not fit retinaface_resnet50"):
        load_detector("retinaface_resnet50", torch.device("cpu"), weights=detector_weights)
    text = tmp_path / "notes.pth"
    text.write_text("not weights")
    with pytest.raises(ModelError, match=f"{text}: cannot load detector weights"):
        load_detector("auto", torch.device("cpu"), weights=text)
    other = tmp_path / "other.pth"
    torch.save({"encoder.weight": torch.zeros(2)}, other)
    with pytest.raises(ModelError, match=f"{other}: not RetinaFace weights"):
        load_detector("auto", torch.device("cpu"), weights=other)
    with pytest.raises(ModelError, match="unknown detector 'yolo'"):
        load_detector("yolo", torch.device("cpu"), weights=detector_weights)


def test_pickled_code_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    evil = tmp_path / "evil.pth"
    torch.save({"body.stage1.0.0.weight": Payload()}, evil)
    with pytest.raises(ModelError, match="cannot load detector weights"):
        load_detector("auto", torch.device("cpu"), weights=evil)
    assert not marker.exists()


def test_auto_uses_the_installed_detector_from_the_models_folder(models_dir: Path) -> None:
    loaded = load_detector("auto", torch.device("cpu"), allow_download=False)
    assert loaded.name == "retinaface_mobile0.25"
    assert loaded.weights == models_dir / "detection_mobilenet0.25_Final.pth"


def test_auto_prefers_resnet50_when_both_are_installed(models_dir: Path) -> None:
    resnet = models_dir / "detection_Resnet50_Final.pth"
    resnet.write_bytes(b"placeholder")
    assert retinaface.resolve_weights("auto", allow_download=False) == ("retinaface_resnet50", resnet)


def test_a_missing_detector_without_download_is_a_model_error(models_dir: Path) -> None:
    with pytest.raises(ModelError, match="detection_Resnet50_Final.pth"):
        load_detector("retinaface_resnet50", torch.device("cpu"), allow_download=False)
    # With nothing installed, auto means ResNet-50.
    (models_dir / "detection_mobilenet0.25_Final.pth").unlink()
    with pytest.raises(ModelError, match="detection_Resnet50_Final.pth"):
        load_detector("auto", torch.device("cpu"), allow_download=False)


@pytest.fixture(scope="session")
def facexlib_detector(detector_weights: Path) -> torch.nn.Module:
    """facexlib's own RetinaFace with the same weights, unchanged."""
    from facexlib.detection.retinaface import RetinaFace

    reference = RetinaFace(network_name="mobile0.25", half=False, device=torch.device("cpu"))
    reference.load_state_dict(retinaface.load_state(detector_weights))
    return reference.eval()


def test_fused_network_gives_facexlib_outputs(detector, facexlib_detector, photo) -> None:
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in detector.net.modules())
    x = retinaface.to_network_input(photo("collage_two_faces.jpg")[None], torch.device("cpu"))
    with torch.inference_mode():
        for ours, theirs in zip(detector.net(x), facexlib_detector(x.contiguous()), strict=True):
            torch.testing.assert_close(ours, theirs, atol=2e-3, rtol=1e-3)


def test_a_small_photo_gives_what_facexlib_gives_at_full_size(detector, facexlib_detector, photo) -> None:
    # 700 x 464 runs as one level at full size, one tile: facexlib's own detect_faces there
    # (BGR input, its PriorBox, decode and NMS) must give the same faces.
    rgb = photo("collage_two_faces.jpg")
    with torch.inference_mode():
        theirs = facexlib_detector.detect_faces(rgb[..., ::-1].copy(), conf_threshold=DEFAULT.score_threshold)
    ours = detector.detect(rgb, DEFAULT)
    theirs = sorted(theirs.tolist(), key=lambda row: (row[0] + row[2]) / 2)
    assert len(ours) == len(theirs) == 2
    for face, row in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(face.box, row[:4], atol=0.05)
        assert face.score == pytest.approx(row[4], abs=1e-3)
        np.testing.assert_allclose(face.landmarks_array().ravel(), row[5:], atol=0.05)


# --- the multi-scale plan ------------------------------------------------------------


def test_anchors_match_facexlib_prior_box() -> None:
    from facexlib.detection.retinaface import generate_config
    from facexlib.detection.retinaface_utils import PriorBox

    for height, width in ((75, 100), (131, 67)):
        theirs = PriorBox(generate_config("mobile0.25"), image_size=(height, width)).forward()
        ours = retinaface._anchors(height, width, torch.device("cpu"))
        in_pixels = theirs * torch.tensor([width, height, width, height])
        np.testing.assert_allclose(ours.numpy(), in_pixels.numpy(), atol=1e-4)


@pytest.mark.parametrize("size", [(640, 480), (900, 700), (1600, 898), (1297, 1920), (6000, 4000), (12000, 3000)])
def test_levels_tile_every_image_and_cover_every_face_size(size: tuple[int, int]) -> None:
    width, height = size
    levels = multiscale.plan_levels(width, height)
    coarse, fine = levels[0], levels[-1]
    assert max(coarse.width, coarse.height) <= max(multiscale.COARSE_SIDE * multiscale.MIN_LEVEL_RATIO, 640)
    assert fine.width * fine.height <= multiscale.FINE_PIXELS * 1.01 or (fine.width, fine.height) == (width, height)
    assert coarse.owned_sizes[1] == math.inf and fine.owned_sizes[0] == 0
    for lower, upper in itertools.pairwise(levels):
        ratio = upper.width / lower.width
        assert multiscale.MIN_LEVEL_RATIO <= ratio <= multiscale.MAX_LEVEL_RATIO * 1.01
        # Neighbouring bands overlap: every face size belongs to some level.
        assert upper.owned_sizes[1] / ratio > lower.owned_sizes[0]
    for level in levels:
        assert level.tile_width <= multiscale.TILE_SIDE and level.tile_height <= multiscale.TILE_SIDE
        xs = sorted({x for x, _ in level.tile_origins})
        ys = sorted({y for _, y in level.tile_origins})
        assert len(level.tile_origins) == len(xs) * len(ys)
        assert xs[0] == 0 and xs[-1] + level.tile_width == level.width
        assert ys[0] == 0 and ys[-1] + level.tile_height == level.height
        for starts, tile in ((xs, level.tile_width), (ys, level.tile_height)):
            for a, b in itertools.pairwise(starts):
                assert a + tile - b >= multiscale.TILE_OVERLAP
        if len(level.tile_origins) > 1:
            # Faces a tiled level owns fit inside the overlap, with margins.
            assert level.owned_sizes[1] + 2 * multiscale.EDGE_MARGIN <= multiscale.TILE_OVERLAP


def test_min_face_skips_the_fine_levels() -> None:
    assert len(multiscale.plan_levels(6000, 4000)) > 1
    (only,) = multiscale.plan_levels(6000, 4000, min_face=400)
    assert (only.width, only.height) == (640, 427)


def test_tiles_drop_faces_cut_by_their_inner_edges() -> None:
    level = multiscale.Level(2000, 900, 1024, 900, ((0, 0), (976, 0)), (0.0, 140.0))
    boxes = np.array(
        [
            [100, 100, 160, 170],  # well inside
            [990, 100, 1022, 150],  # touches the right (inner) edge of tile 0
            [-5, 300, 40, 360],  # crosses the image's left edge: kept, the face is cut by the photo
            [500, 500, 700, 700],  # larger than the level owns
        ],
        dtype=np.float64,
    )
    found = retinaface.RawDetections(boxes, np.full(4, 0.9), np.zeros((4, 5, 2)))
    assert multiscale.owned(found, level, (0, 0)).tolist() == [True, False, True, False]
    # In the second tile, the left edge is inner and the right edge is the image's.
    assert multiscale.owned(found, level, (976, 0)).tolist() == [True, True, False, False]
