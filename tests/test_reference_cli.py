"""Reference photos through the engine and the command line: colour, pairing, identity lock."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from devtools.stand_in_models import write_random_arcface
from restore_core.cli import main

MOBILE = ["--detector", "retinaface_mobile0.25", "--model", "passthrough"]
FAMILY = "family_three_print.png"


def _face_crop(photo: Path, box: list[float], margin: float = 0.8) -> np.ndarray:
    """The face in ``box`` with generous surroundings, as a reference photo would show it."""
    image = cv2.imread(str(photo))
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    top, left = max(0, int(y0 - margin * h)), max(0, int(x0 - margin * w))
    return image[top : int(y1 + margin * h), left : int(x1 + margin * w)]


@pytest.fixture()
def family_report(models_dir: Path, photos_dir: Path, tmp_path: Path) -> dict:
    report = tmp_path / "plain.json"
    assert (
        main(["restore", str(photos_dir / FAMILY), "-o", str(tmp_path / "plain.png"), *MOBILE, "--json", str(report)])
        == 0
    )
    return json.loads(report.read_text())


@pytest.fixture()
def arcface_installed(models_dir: Path) -> Path:
    return write_random_arcface(models_dir / "recognition_arcface_ir_se50.pth")


def test_a_warm_reference_warms_its_face_and_no_other(
    models_dir: Path, photos_dir: Path, tmp_path: Path, family_report: dict
) -> None:
    warm = _face_crop(photos_dir / FAMILY, family_report["faces"][1]["box"]).astype(np.float32)
    warm[..., 2] = np.clip(warm[..., 2] * 1.25, 0, 255)  # OpenCV order: BGR, so this is red
    warm[..., 0] *= 0.75
    reference = tmp_path / "warm.png"
    cv2.imwrite(str(reference), warm.astype(np.uint8))
    out, report = tmp_path / "warm_out.png", tmp_path / "warm.json"
    args = [
        "restore",
        str(photos_dir / FAMILY),
        "-o",
        str(out),
        *MOBILE,
        "--reference",
        f"1={reference}",
        "--json",
        str(report),
    ]
    assert main(args) == 0

    plain, paired = cv2.imread(str(tmp_path / "plain.png")), cv2.imread(str(out))
    changed = np.any(plain != paired, axis=2)
    faces = json.loads(report.read_text())["faces"]
    assert faces[1]["reference"] == str(reference) and faces[0]["reference"] is None
    x0, y0, x1, y1 = (int(v) for v in faces[1]["box"])
    inside = np.zeros_like(changed)
    inside[y0:y1, x0:x1] = True
    assert changed[inside].mean() > 0.5
    for other in (0, 2):
        ox0, oy0, ox1, oy1 = (int(v) for v in faces[other]["box"])
        assert not changed[oy0:oy1, ox0:ox1].any()
    warmth = lambda img: float(img[y0:y1, x0:x1, 2].astype(np.float32).mean() - img[y0:y1, x0:x1, 0].mean())  # noqa: E731
    assert warmth(paired) > warmth(plain) + 5


def test_a_reference_photo_without_a_face_is_refused_before_any_work(
    models_dir: Path, photos_dir: Path, tmp_path: Path, capsys
) -> None:
    wall = tmp_path / "wall.png"
    cv2.imwrite(str(wall), np.full((200, 300, 3), 128, np.uint8))
    out = tmp_path / "out.png"
    assert main(["restore", str(photos_dir / FAMILY), "-o", str(out), *MOBILE, "--reference", f"0={wall}"]) == 1
    assert "no face found" in capsys.readouterr().err and not out.exists()


def test_a_chosen_face_of_a_group_reference_photo_guides_and_is_reported(
    models_dir: Path, photos_dir: Path, tmp_path: Path
) -> None:
    group = photos_dir / FAMILY  # three faces
    reports = {}
    for chosen in (None, 2):
        report = tmp_path / f"chosen_{chosen}.json"
        extra = [] if chosen is None else ["--reference-face", f"0={chosen}"]
        args = [
            "restore",
            str(photos_dir / "collage_two_faces.jpg"),
            "-o",
            str(tmp_path / f"out_{chosen}.png"),
            *MOBILE,
            "--reference",
            f"0={group}",
            *extra,
            "--json",
            str(report),
        ]
        assert main(args) == 0
        reports[chosen] = json.loads(report.read_text())["faces"][0]
    assert reports[None]["reference_face"] != 2  # the best face (the largest, sharpest) by default
    assert reports[2]["reference_face"] == 2
    out_best, out_chosen = cv2.imread(str(tmp_path / "out_None.png")), cv2.imread(str(tmp_path / "out_2.png"))
    assert np.any(out_best != out_chosen)  # another face's colours guide it


def test_a_reference_face_needs_a_reference_and_must_exist(
    models_dir: Path, photos_dir: Path, tmp_path: Path, capsys
) -> None:
    photo, out = str(photos_dir / "collage_two_faces.jpg"), str(tmp_path / "out.png")
    assert main(["restore", photo, "-o", out, *MOBILE, "--reference-face", "0=1"]) == 1
    assert "face 0 has no --reference" in capsys.readouterr().err
    args = ["restore", photo, "-o", out, *MOBILE, "--reference", f"0={photos_dir / FAMILY}", "--reference-face", "0=7"]
    assert main(args) == 1
    assert "reference face 7 does not exist" in capsys.readouterr().err and not Path(out).exists()


def test_a_references_folder_is_paired_face_by_face_and_reported(
    arcface_installed: Path, photos_dir: Path, tmp_path: Path, family_report: dict
) -> None:
    folder = tmp_path / "refs"
    folder.mkdir()
    names = ["zoe.png", "adam.png", "mia.png"]  # alphabetical order differs from face order
    for face, name in zip(family_report["faces"], names, strict=True):
        cv2.imwrite(str(folder / name), _face_crop(photos_dir / FAMILY, face["box"]))
    report = tmp_path / "paired.json"
    args = [
        "restore",
        str(photos_dir / FAMILY),
        "-o",
        str(tmp_path / "o.png"),
        *MOBILE,
        "--references",
        str(folder),
        "--identity-lock",
        "--json",
        str(report),
    ]
    assert main(args) == 0
    faces = json.loads(report.read_text())["faces"]
    assert [Path(f["reference"]).name for f in faces] == names
    for face in faces:
        assert face["similarity"]["original_vs_reference"] > 0.5
        assert face["similarity"]["restored_vs_reference"] is not None
        assert face["creativity"] in (0.0, 0.5, 1.0)  # chosen by the identity lock, not the 0.3 asked


def test_identity_features_without_the_model_say_what_they_need(
    models_dir: Path, photos_dir: Path, tmp_path: Path, capsys
) -> None:
    args = [
        "restore",
        str(photos_dir / FAMILY),
        "-o",
        str(tmp_path / "o.png"),
        *MOBILE,
        "--references",
        str(tmp_path),
        "--no-download",
    ]
    assert main(args) == 1
    assert "models download arcface" in capsys.readouterr().err
