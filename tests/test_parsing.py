"""Face parsing: ParseNet through Facemend's loading code, and the face-class mask facexlib builds."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from devtools.bench.reference import prepare_model_root
from restore_core import compose
from restore_core.align import estimate_warp
from restore_core.compose import (
    FACE_CLASSES,
    PARSE_CLASSES,
    face_blend_mask,
    face_class_mask,
    parsed_blend_mask,
    parsed_skin_mask,
)
from restore_core.errors import ModelError
from restore_core.restore import load_face_parser


@pytest.fixture(scope="module")
def aligned_face(aligned_dir: Path) -> np.ndarray:
    return np.ascontiguousarray(cv2.imread(str(aligned_dir / "0143.png"))[..., ::-1])


class _RecordingCv2:
    """facexlib's ``cv2`` with ``warpAffine`` recording the helper's mask on its way back to the image."""

    def __init__(self) -> None:
        self.masks: list[np.ndarray] = []

    def __getattr__(self, name: str) -> object:
        return getattr(cv2, name)

    def warpAffine(self, src: np.ndarray, matrix: np.ndarray, size: tuple[int, int], **kwargs: object) -> np.ndarray:  # noqa: N802
        if kwargs.get("flags") == cv2.INTER_AREA:  # the helper's "flags=3", used for its mask only
            self.masks.append(src.copy())
        return cv2.warpAffine(src, matrix, size, **kwargs)


def helper_mask(model_root: Path, face_rgb8: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    """The mask ``FaceRestoreHelper(use_parse=True)`` pastes ``face_rgb8`` through, parsed by its own
    ParseNet (facexlib's ``init_parsing_model`` on ``model_root``'s parsing_parsenet.pth)."""
    from facexlib.utils import face_restoration_helper
    from facexlib.utils.face_restoration_helper import FaceRestoreHelper

    helper = FaceRestoreHelper(
        1,
        face_size=512,
        det_model="retinaface_mobile0.25",  # the file prepare_model_root provides: nothing is downloaded
        use_parse=True,
        device=torch.device("cpu"),
        model_rootpath=str(model_root),
    )
    recorder = _RecordingCv2()
    monkeypatch.setattr(face_restoration_helper, "cv2", recorder)
    helper.read_image(np.zeros((512, 512, 3), np.uint8))
    helper.add_restored_face(np.ascontiguousarray(face_rgb8[..., ::-1]))  # the helper works in BGR
    helper.inverse_affine_matrices = [np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])]
    helper.paste_faces_to_input_image()
    (mask,) = recorder.masks
    return mask


def test_the_face_class_mask_is_the_one_facexlibs_helper_builds(
    models_dir: Path,
    random_parsenet: Path,
    detector_weights: Path,
    aligned_face: np.ndarray,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The same random ParseNet file, loaded by Facemend (models folder, load_state_dict) and by facexlib.
    (models_dir / "parsing_parsenet.pth").symlink_to(random_parsenet)
    parser = load_face_parser("cpu", torch.float32)
    parse = parser.parse(aligned_face[None])[0]
    root = tmp_path / "facexlib"
    root.mkdir()
    (root / "parsing_parsenet.pth").symlink_to(random_parsenet)
    theirs = helper_mask(prepare_model_root(root, detector_weights), aligned_face, monkeypatch)
    ours = face_class_mask(parse)
    assert theirs.shape == ours.shape == (512, 512)
    assert np.array_equal(ours, theirs.astype(np.float32))
    # Not a trivial case: the random network's parse holds face and non-face classes.
    face_fraction = np.isin(parse, list(FACE_CLASSES)).mean()
    assert 0.05 < face_fraction < 0.95, face_fraction
    assert 0.05 < float((ours > 0.5).mean()) < 0.95
    assert parser.network_runs == 1


def test_the_blend_mask_is_the_face_classes_inside_the_squircle() -> None:
    parse = np.zeros((512, 512), np.uint8)
    parse[150:420, 130:380] = 1  # skin
    parse[60:150, 100:410] = 17  # hair
    parse[420:, :] = 14  # neck
    mask = parsed_blend_mask(parse)
    assert mask.dtype == np.float32 and not mask.flags.writeable
    assert np.array_equal(mask, face_class_mask(parse) * face_blend_mask(512))
    assert mask[285, 255] > 0.99  # the middle of the face
    assert mask[20, 255] == 0.0 and mask[505, 255] == 0.0  # border, far from any face class
    assert mask[70, 255] < 0.05  # hair: the photo's pixels (a faint feather only)
    # Everything blended lies within the feather's reach (2 x 50 px) of a face class.
    far = cv2.dilate((parse == 1).astype(np.uint8), np.ones((201, 201), np.uint8)) == 0
    assert far.any() and mask[far].max() == 0.0
    assert parsed_skin_mask(parse) is not None
    assert parsed_skin_mask(np.full((512, 512), 17, np.uint8)) is None  # no skin visible: no statistics


def test_pasting_through_the_parse_keeps_hair_and_background(photos_dir: Path) -> None:
    """A restored face (noise) pasted into a real photo through a parse with known hair."""
    photo = np.ascontiguousarray(cv2.imread(str(photos_dir / "two_children_film.jpg"))[..., ::-1])
    landmarks = np.array([[820, 455], [880, 455], [850, 490], [825, 525], [875, 525]], np.float64)
    warp = estimate_warp(landmarks)
    source = warp.crop(photo).astype(np.float32) / 255
    parse = np.full((512, 512), PARSE_CLASSES.index("hair"), np.uint8)
    parse[200:380, 150:362] = PARSE_CLASSES.index("skin")
    parse[380:, :] = PARSE_CLASSES.index("neck")
    restored = np.random.default_rng(0).random((512, 512, 3), dtype=np.float32)
    canvas = photo.copy()
    x0, y0, x1, y1 = compose.paste_face(
        canvas,
        restored,
        warp,
        source_face=source,
        original=photo,
        strength=1.0,
        to_native=lambda rgb: rgb * np.float32(255),
        mask=parsed_blend_mask(parse),
    )
    changed = np.any(canvas != photo, axis=2)
    # The hair and the neck beyond the feather's reach (100 aligned px from the skin) keep the
    # photo's pixels; the skin takes the restored face.
    hair = np.zeros((512, 512), np.float32)
    hair[40:100, 150:362] = 1
    neck = np.zeros((512, 512), np.float32)
    neck[485:500, 200:312] = 1
    region = (x0, y0, x1, y1)
    for kept in (hair, neck):
        where = np.zeros_like(changed)
        where[y0:y1, x0:x1] = warp.to_region(kept, region) > 0.99
        assert where.any() and not changed[where].any()
    skin = np.zeros((512, 512), np.float32)
    skin[240:340, 200:312] = 1
    where = np.zeros_like(changed)
    where[y0:y1, x0:x1] = warp.to_region(skin, region) > 0.99
    assert changed[where].mean() > 0.95


def test_a_parse_must_be_a_square_class_map() -> None:
    with pytest.raises(ValueError, match="square uint8"):
        face_class_mask(np.zeros((512, 512), np.int64))


def test_the_parser_is_missing_with_one_message(models_dir: Path) -> None:
    with pytest.raises(ModelError, match="models download parsenet"):
        load_face_parser("cpu")


def test_weights_of_another_network_are_named(models_dir: Path, random_gfpgan: Path) -> None:
    (models_dir / "parsing_parsenet.pth").symlink_to(random_gfpgan)
    with pytest.raises(ModelError, match="not facexlib's ParseNet weights"):
        load_face_parser("cpu")


def test_an_imported_parser_must_load_as_parsenet(models_dir: Path, random_gfpgan: Path, random_parsenet: Path) -> None:
    from restore_core.models import ModelStatus, import_file

    with pytest.raises(ModelError, match="cannot be imported as ParseNet"):
        import_file(random_gfpgan, name="parsenet")
    assert not (models_dir / "parsing_parsenet.pth").exists()
    assert import_file(random_parsenet).status is ModelStatus.UNVERIFIED  # found by its name; a random copy
