"""The command line end to end: real detector, real photos, files on disk, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from support import psnr

from restore_core.align import estimate_warp
from restore_core.cli import main
from restore_core.saved_faces import FACE_FILES

MOBILE = ["--detector", "retinaface_mobile0.25"]


def _read(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def _iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


def _face_regions(report: dict, shape: tuple[int, ...]) -> np.ndarray:
    """True inside the image region each restored face may touch."""
    inside = np.zeros(shape[:2], dtype=bool)
    for face in report["faces"]:
        if face["selected"]:
            x0, y0, x1, y1 = estimate_warp(np.array(face["landmarks"])).region(shape[1], shape[0])
            inside[y0:y1, x0:x1] = True
    return inside


def test_detect_writes_the_faces_of_faces_json(
    models_dir: Path, photos_dir: Path, expected_faces: dict, tmp_path: Path
) -> None:
    for name, boxes in expected_faces.items():
        out = tmp_path / f"{name}.json"
        assert main(["detect", str(photos_dir / name), *MOBILE, "--json", str(out)]) == 0
        faces = json.loads(out.read_text())["faces"]
        assert len(faces) == len(boxes), name
        for box in boxes:
            assert max(_iou(box, f["box"]) for f in faces) >= 0.5, (name, box)
        assert all(len(f["landmarks"]) == 5 and 0 < f["score"] <= 1 for f in faces)


def test_strength_zero_writes_the_input_pixels(models_dir: Path, photos_dir: Path, tmp_path: Path) -> None:
    source = photos_dir / "family_three_print.png"
    out = tmp_path / "out.png"
    assert main(["restore", str(source), "-o", str(out), "--model", "passthrough", "--strength", "0", *MOBILE]) == 0
    np.testing.assert_array_equal(_read(out), _read(source))


@pytest.mark.parametrize("name", ["family_three_print.png", "two_children_film.jpg", "collage_two_faces.jpg"])
def test_passthrough_round_trips_faces(models_dir: Path, photos_dir: Path, tmp_path: Path, name: str) -> None:
    source, out, report = photos_dir / name, tmp_path / "out.png", tmp_path / "report.json"
    args = ["restore", str(source), "-o", str(out), "--model", "passthrough", "--json", str(report), *MOBILE]
    assert main(args) == 0
    before, after = _read(source), _read(out)
    inside = _face_regions(json.loads(report.read_text()), before.shape)
    assert inside.any()
    assert psnr(before[inside], after[inside]) >= 40
    np.testing.assert_array_equal(before[~inside], after[~inside])


def test_a_real_architecture_leaves_pixels_away_from_faces_identical(
    face_models_dir: Path, photos_dir: Path, tmp_path: Path
) -> None:
    source, out, report = photos_dir / "collage_two_faces.jpg", tmp_path / "out.png", tmp_path / "r.json"
    args = ["restore", str(source), "-o", str(out), "--model", "gfpgan", "--faces", "1", "--json", str(report), *MOBILE]
    assert main(args) == 0
    data = json.loads(report.read_text())
    assert [f["selected"] for f in data["faces"]] == [False, True]
    assert data["faces"][1]["model"] == "gfpgan" and data["timings"]["restore"] > 0
    before, after = _read(source), _read(out)
    inside = _face_regions(data, before.shape)
    assert not np.array_equal(before[inside], after[inside])
    np.testing.assert_array_equal(before[~inside], after[~inside])


def test_scale_two_doubles_both_sides(models_dir: Path, photos_dir: Path, tmp_path: Path) -> None:
    source, out = photos_dir / "collage_two_faces.jpg", tmp_path / "big.png"
    assert main(["restore", str(source), "-o", str(out), "--model", "passthrough", "--scale", "2", *MOBILE]) == 0
    h, w = _read(source).shape[:2]
    assert _read(out).shape[:2] == (2 * h, 2 * w)


def test_comparison_shows_the_original_left_and_the_result_right(
    models_dir: Path, photos_dir: Path, tmp_path: Path
) -> None:
    source, out, side = photos_dir / "collage_two_faces.jpg", tmp_path / "out.png", tmp_path / "side.png"
    args = ["restore", str(source), "-o", str(out), "--model", "passthrough", "--strength", "0", *MOBILE]
    assert main([*args, "--comparison", str(side)]) == 0
    original, restored, pair = _read(source), _read(out), _read(side)
    h, w = original.shape[:2]
    assert pair.shape[:2] == (h, 2 * w)
    # away from the labels both halves are the photo (strength 0 restores nothing)
    np.testing.assert_array_equal(pair[60:, :w], original[60:])
    np.testing.assert_array_equal(pair[60:, w:], restored[60:])

    split = tmp_path / "split.png"
    assert main([*args, "--overwrite", "--comparison", str(split), "--comparison-split", "0.25"]) == 0
    assert _read(split).shape[:2] == (h, w)


def test_comparisons_of_a_batch_go_into_a_folder_and_never_replace_files(
    models_dir: Path, photos_dir: Path, tmp_path: Path, capsys
) -> None:
    photos = [photos_dir / "collage_two_faces.jpg", photos_dir / "family_three_print.png"]
    folder = tmp_path / "pairs"
    folder.mkdir()
    (folder / "family_three_print_comparison.jpg").write_bytes(b"precious")
    args = ["restore", *map(str, photos), "-o", str(tmp_path / "out"), "--model", "passthrough", *MOBILE]
    assert main([*args, "--comparison", str(folder)]) == 1
    assert (folder / "family_three_print_comparison.jpg").read_bytes() == b"precious"
    assert (folder / "collage_two_faces_comparison.jpg").is_file()
    assert "already exists" in capsys.readouterr().err
    assert main([*args, "--comparison", str(folder), "--comparison-split", "2"]) == 1
    assert "--comparison-split must be between 0 and 1" in capsys.readouterr().err


def test_an_existing_output_is_not_replaced_without_overwrite(
    models_dir: Path, photos_dir: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out.png"
    out.write_bytes(b"precious")
    args = ["restore", str(photos_dir / "collage_two_faces.jpg"), "-o", str(out), "--model", "passthrough", *MOBILE]
    assert main(args) == 1
    assert out.read_bytes() == b"precious"
    assert "already exists" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    assert _read(out).shape[:2] == (464, 700)


def test_a_batch_finishes_good_files_and_reports_bad_ones(
    models_dir: Path, photos_dir: Path, tmp_path: Path, capsys
) -> None:
    empty, junk = tmp_path / "empty.jpg", tmp_path / "junk.png"
    empty.write_bytes(b"")
    junk.write_bytes(np.random.default_rng(0).bytes(5000))
    good = photos_dir / "collage_two_faces.jpg"
    out = tmp_path / "out"
    report = tmp_path / "report.json"
    code = main(
        [
            "restore",
            str(empty),
            str(good),
            str(junk),
            "-o",
            str(out),
            "--model",
            "passthrough",
            "--json",
            str(report),
            *MOBILE,
        ]
    )
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["collage_two_faces.jpg", "facemend-manifest.jsonl"]
    data = json.loads(report.read_text())
    assert [f["input"] for f in data["failures"]] == [str(empty), str(junk)]
    err = capsys.readouterr().err
    assert "empty.jpg" in err and "junk.png" in err and "1 restored, 2 failed" in err


def test_bad_input_gives_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jpg"
    out = tmp_path / "out.png"
    proc = subprocess.run(
        [sys.executable, "-m", "restore_core", "restore", str(missing), "-o", str(out), "--model", "passthrough"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "nope.jpg" in lines[0]
    assert not out.exists()


def test_wrong_parameters_are_refused_before_any_work(tmp_path: Path, photos_dir: Path, capsys) -> None:
    out = tmp_path / "out.png"
    assert main(["restore", str(photos_dir / "collage_two_faces.jpg"), "-o", str(out), "--strength", "1.5"]) == 1
    assert "strength must be between 0.0 and 1.0, got 1.5" in capsys.readouterr().err
    assert not out.exists()


def test_mask_flag_and_the_report_say_which_mask_each_face_used(
    models_dir: Path, photos_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = photos_dir / "collage_two_faces.jpg"
    base = ["restore", str(source), "--model", "passthrough", *MOBILE]
    # The default asks for the parsing mask: without ParseNet the box is used, and said so.
    assert main([*base, "-o", str(tmp_path / "a.png"), "--json", str(tmp_path / "a.json")]) == 0
    report = json.loads((tmp_path / "a.json").read_text())
    assert [f["mask"] for f in report["faces"]] == ["box", "box"]
    assert any("models download parsenet" in note for note in report["notes"])
    assert "models download parsenet" in capsys.readouterr().err
    assert main([*base, "--mask", "box", "-o", str(tmp_path / "b.png"), "--json", str(tmp_path / "b.json")]) == 0
    report = json.loads((tmp_path / "b.json").read_text())
    assert report["settings"]["face"]["mask"] == "box"
    assert not any("parsenet" in note for note in report["notes"])
    np.testing.assert_array_equal(_read(tmp_path / "a.png"), _read(tmp_path / "b.png"))
    with pytest.raises(SystemExit):
        main([*base, "--mask", "oval", "-o", str(tmp_path / "c.png")])


def test_save_faces_writes_each_faces_input_output_mask_and_comparison(
    face_models_dir: Path, photos_dir: Path, tmp_path: Path
) -> None:
    from restore_core.compose import face_blend_mask

    source, faces_dir = photos_dir / "collage_two_faces.jpg", tmp_path / "faces"
    out, report = tmp_path / "out.png", tmp_path / "r.json"
    base = ["restore", str(source), "--model", "gfpgan", "--mask", "box", "--strength", "0.7", *MOBILE]
    args = [*base, "-o", str(out), "--json", str(report), "--save-faces", str(faces_dir)]
    assert main(args) == 0
    data = json.loads(report.read_text())
    names = sorted(p.name for p in faces_dir.iterdir())
    assert names == sorted(f"collage_two_faces_face0{i}_{k}.png" for i in (0, 1) for k in FACE_FILES)
    assert sorted(Path(p).name for p in data["face_files"]) == names
    photo = cv2.imread(str(source))[..., ::-1]
    for face in data["faces"]:
        stem = faces_dir / f"collage_two_faces_face{face['index']:02d}"
        aligned = _read(Path(f"{stem}_input.png"))[..., ::-1]
        expected = estimate_warp(np.array(face["landmarks"])).crop(np.ascontiguousarray(photo))
        assert psnr(aligned, expected) > 40  # the aligned crop of the photo (the models see the working copy)
        restored = _read(Path(f"{stem}_restored.png"))
        assert restored.shape == (512, 512, 3) and psnr(restored, aligned[..., ::-1]) < 20  # the stand-in's noise
        mask = _read(Path(f"{stem}_mask.png"))
        assert mask.dtype == np.uint16 and mask.shape == (512, 512)
        np.testing.assert_array_equal(mask, np.rint(face_blend_mask(512) * np.float32(0.7) * 65535).astype(np.uint16))
        assert _read(Path(f"{stem}_compare.png")).shape == (512, 1024, 3)
    # Existing face files are refused before any work; nothing else is written.
    again = [*base, "-o", str(tmp_path / "again.png"), "--save-faces", str(faces_dir)]
    assert main(again) == 1
    assert not (tmp_path / "again.png").exists()


def test_a_settings_file_with_faces_drawn_and_removed_in_the_app_restores_those_faces(
    models_dir: Path, photos_dir: Path, tmp_path: Path
) -> None:
    source = photos_dir / "collage_two_faces.jpg"
    base = ["restore", str(source), "--model", "passthrough", *MOBILE]
    assert main([*base, "-o", str(tmp_path / "found.png"), "--json", str(tmp_path / "found.json")]) == 0
    found = [f["box"] for f in json.loads((tmp_path / "found.json").read_text())["faces"]]
    assert len(found) == 2
    drawn = [10.0, 10.0, 90.0, 110.0]  # where no face is: the user's word
    settings = {"detection": {"added": [drawn], "removed": [found[0]]}}
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    out = ["-o", str(tmp_path / "edited.png"), "--json", str(tmp_path / "edited.json")]
    assert main([*base, "--settings", str(tmp_path / "settings.json"), *out]) == 0
    report = json.loads((tmp_path / "edited.json").read_text())
    assert sorted(f["box"] for f in report["faces"]) == sorted([drawn, found[1]])
    assert report["settings"]["detection"]["added"] == [drawn]
