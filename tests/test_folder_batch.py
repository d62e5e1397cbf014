"""Folder batches end to end: mirrored trees, the manifest, resuming, kill -9, the batch report.

Real detector, real photos (copied into tmp_path trees), the passthrough model (alignment and
paste-back without a network, so runs are quick); assertions on files, pixels, manifest lines
and exit codes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from support import REPO

from restore_core.batch import MANIFEST_NAME, Manifest
from restore_core.cli import main
from restore_core.errors import OutputError
from restore_core.io.atomic import TEMP_SUFFIX

FAST = ["--model", "passthrough", "--detector", "retinaface_mobile0.25"]


def _tree(root: Path, photos: Path) -> Path:
    """Photos nested two deep, with a broken JPEG, a text file and a hidden file among them."""
    (root / "a" / "b").mkdir(parents=True)
    shutil.copy(photos / "collage_two_faces.jpg", root / "collage_two_faces.jpg")
    shutil.copy(photos / "family_three_print.png", root / "a" / "family_three_print.png")
    shutil.copy(photos / "collage_two_faces.jpg", root / "a" / "b" / "copy.jpg")
    (root / "a" / "b" / "broken.jpg").write_bytes((photos / "collage_two_faces.jpg").read_bytes()[:3000])
    (root / "a" / "notes.txt").write_text("scanned 1962, box 4")
    shutil.copy(photos / "collage_two_faces.jpg", root / "a" / ".hidden.jpg")
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _records(out: Path, kind: str = "file") -> list[dict]:
    lines = (json.loads(line) for line in (out / MANIFEST_NAME).read_text().splitlines() if line.strip())
    return [record for record in lines if record["kind"] == kind]


def _read(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def test_a_folder_tree_is_mirrored_with_the_pixels_of_single_runs(
    models_dir: Path, photos_dir: Path, tmp_path: Path, capsys
) -> None:
    tree, out, report = _tree(tmp_path / "scans", photos_dir), tmp_path / "out", tmp_path / "report.json"
    pairs = tmp_path / "pairs"
    args = ["restore", str(tree), "-o", str(out), "--recursive", "--json", str(report), "--comparison", str(pairs)]
    assert main([*args, *FAST]) == 1

    images = {k for k in _files(out) if k != MANIFEST_NAME}
    assert images == {"collage_two_faces.jpg", "a/family_three_print.png", "a/b/copy.jpg"}
    for name in ("collage_two_faces.jpg", "a/family_three_print.png"):
        single = tmp_path / "single" / name
        single.parent.mkdir(parents=True, exist_ok=True)
        assert main(["restore", str(tree / name), "-o", str(single), *FAST]) == 0
        np.testing.assert_array_equal(_read(out / name), _read(single))
    assert not np.array_equal(_read(out / "collage_two_faces.jpg"), _read(tree / "collage_two_faces.jpg"))
    np.testing.assert_array_equal(_read(out / "a/b/copy.jpg"), _read(out / "collage_two_faces.jpg"))
    comparisons = {"collage_two_faces_comparison.jpg", "a/family_three_print_comparison.jpg", "a/b/copy_comparison.jpg"}
    assert set(_files(pairs)) == comparisons
    assert _read(pairs / "a/family_three_print_comparison.jpg").shape[:2] == (1146, 2 * 783)

    err = capsys.readouterr().err
    assert "4 photos: 3 restored, 1 failed; skipped: 1 not an image" in err
    assert "broken.jpg" in err and "truncated" in err

    data = json.loads(report.read_text())
    assert data["totals"]["files"] == 4 and data["totals"]["done"] == 3 and data["totals"]["faces"] == 7
    assert [f["input"] for f in data["failures"]] == ["a/b/broken.jpg"]
    assert data["not_images"] == ["a/notes.txt"]
    for record in data["files"]:
        output = out / record["output"]["path"]
        assert (
            record["output"]["sha256"] == _sha256(output) and record["size"] == (tree / record["input"]).stat().st_size
        )
        assert record["timings"]["total"] > 0 and record["faces"] == record["restored"] > 0
        assert record["comparison"]["sha256"] == _sha256(Path(record["comparison"]["path"]))  # outside: absolute
    assert {r["input"] for r in _records(out)} == {
        "collage_two_faces.jpg",
        "a/family_three_print.png",
        "a/b/copy.jpg",
        "a/b/broken.jpg",
    }


def test_only_the_top_folder_without_recursive_and_globs_choose_files(
    models_dir: Path, photos_dir: Path, tmp_path: Path, capsys
) -> None:
    tree = _tree(tmp_path / "scans", photos_dir)
    assert main(["restore", str(tree), "-o", str(tmp_path / "top"), *FAST]) == 0
    assert set(_files(tmp_path / "top")) == {"collage_two_faces.jpg", MANIFEST_NAME}

    args = ["restore", str(tree), "-o", str(tmp_path / "globs"), "-r", "--include", "*.JPG", "--exclude", "a/b/b*"]
    assert main([*args, *FAST]) == 0
    assert set(_files(tmp_path / "globs")) == {"collage_two_faces.jpg", "a/b/copy.jpg", MANIFEST_NAME}
    assert "2 photos: 2 restored, 0 failed; skipped: 3 excluded" in capsys.readouterr().err


def test_a_rerun_skips_what_is_done_and_redoes_what_changed(
    models_dir: Path, photos_dir: Path, tmp_path: Path, capsys
) -> None:
    tree, out, report = _tree(tmp_path / "scans", photos_dir), tmp_path / "out", tmp_path / "out" / "report.json"
    (tree / "a" / "b" / "broken.jpg").unlink()
    args = ["restore", str(tree), "-o", str(out), "-r", "--json", str(report), *FAST]
    assert main(args) == 0
    first = _files(out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.*g")}
    capsys.readouterr()

    # the same command again: nothing to do, nothing rewritten; its own report may be replaced
    assert main(args) == 0
    assert "3 of 3 photos already done" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.*g")} == stamps
    assert len(_records(out)) == 3 and len(_records(out, "report")) == 2
    assert json.loads(report.read_text())["totals"]["this_run"]["already_done"] == 3

    # a changed input is done again and replaces the batch's own output of it
    shutil.copy(photos_dir / "family_three_print.png", tree / "a" / "b" / "copy.jpg")
    assert main(args) == 0
    redone = [r["input"] for r in _records(out)[3:]]
    assert redone == ["a/b/copy.jpg"]
    assert _read(out / "a/b/copy.jpg").shape[:2] == (1146, 783)
    assert (out / "collage_two_faces.jpg").read_bytes() == first["collage_two_faces.jpg"]

    # an output the user changed is not the batch's any more: kept, and the file fails
    (out / "collage_two_faces.jpg").write_bytes(b"my retouch")
    assert main([*args, "--strength", "0.5"]) == 1
    assert (out / "collage_two_faces.jpg").read_bytes() == b"my retouch"
    err = capsys.readouterr().err
    assert "2 restored, 1 failed" in err and "collage_two_faces.jpg: already exists" in err

    # --redo does every file again; --overwrite replaces what is in the way
    assert main([*args, "--redo", "--overwrite"]) == 0
    assert _read(out / "collage_two_faces.jpg").shape[:2] == (464, 700)


def test_kill_9_mid_batch_then_rerun_does_every_file_exactly_once(
    models_dir: Path, photos_dir: Path, tmp_path: Path
) -> None:
    tree = tmp_path / "scans"
    for i in range(8):
        folder = tree / f"roll{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(
            photos_dir / ("family_three_print.png" if i % 2 else "collage_two_faces.jpg"),
            folder / f"p{i}.{'png' if i % 2 else 'jpg'}",
        )
    reference, out = tmp_path / "reference", tmp_path / "out"
    assert main(["restore", str(tree), "-o", str(reference), "-r", *FAST]) == 0

    command = [sys.executable, "-m", "restore_core", "restore", str(tree), "-o", str(out), "-r", *FAST]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    manifest = out / MANIFEST_NAME
    deadline = time.monotonic() + 120
    while not (manifest.is_file() and manifest.read_bytes().count(b"\n") >= 2):
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _records(out)
    assert 2 <= len(before) < 8

    # under the final names: whole photos only, each one the manifest records
    landed = {k: v for k, v in _files(out).items() if k != MANIFEST_NAME and not k.endswith(TEMP_SUFFIX)}
    for name, data in landed.items():
        assert data == (reference / name).read_bytes(), name
    recorded = {r["output"]["path"] for r in before}
    assert set(landed) <= recorded

    report = tmp_path / "report.json"
    assert main(["restore", str(tree), "-o", str(out), "-r", "--json", str(report), *FAST]) == 0
    after = _records(out)
    files = json.loads(report.read_text())["files"]  # the report is complete: every file, once
    assert sorted(f["input"] for f in files) == sorted({r["input"] for r in after}) and len(files) == 8
    done_before = {r["input"] for r in before if r["output"]["path"] in landed}
    redone = [r["input"] for r in after[len(before) :]]
    assert not done_before & set(redone)  # finished files are not done twice
    assert sorted(done_before | set(redone)) == sorted({r["input"] for r in after}) and len(set(redone)) == len(redone)
    assert {k: v for k, v in _files(out).items() if k != MANIFEST_NAME} == {
        k: v for k, v in _files(reference).items() if k != MANIFEST_NAME
    }  # every photo, bit for bit, and no temp left behind


def test_output_inside_the_input_is_not_read_back_and_bad_batches_are_refused(
    models_dir: Path, photos_dir: Path, tmp_path: Path, capsys
) -> None:
    tree = tmp_path / "scans"
    tree.mkdir()
    shutil.copy(photos_dir / "collage_two_faces.jpg", tree / "photo.jpg")
    args = ["restore", str(tree), "-o", str(tree / "restored"), "-r", *FAST]
    assert main(args) == 0
    assert main(args) == 0
    assert "1 of 1 photos already done" in capsys.readouterr().err

    for bad, message in [
        ([str(tree), "-o", str(tree)], "is the input folder"),
        ([str(tree), str(tree / "photo.jpg"), "-o", str(tmp_path / "x")], "one folder at a time"),
        ([str(tree / "photo.jpg"), str(tree / "photo.jpg"), "-o", str(tmp_path / "y"), "-r"], "give one folder"),
        ([str(tmp_path / "nowhere"), str(tree / "photo.jpg"), "-o", str(tmp_path / "z")], "nowhere"),
        ([str(tree / "photo.jpg"), "-o", str(tmp_path / "one.jpg"), "--ray", "auto"], "--ray: for batches"),
    ]:
        assert main(["restore", *bad, *FAST]) == 1
        assert message in capsys.readouterr().err


def test_the_manifest_keeps_whole_lines_and_one_batch_per_folder(tmp_path: Path) -> None:
    path = tmp_path / MANIFEST_NAME
    line = {"kind": "file", "input": "a.jpg", "size": 1, "mtime_ns": 2, "settings": "s", "status": "failed"}
    path.write_text(json.dumps(line) + "\n" + '{"kind": "file", "inp')  # a torn last line
    with Manifest(tmp_path) as manifest:
        assert manifest.torn == 1 and manifest.get("a.jpg") is not None and manifest.get("a.jpg").status == "failed"
        with pytest.raises(OutputError, match="another batch is writing into this folder"), Manifest(tmp_path):
            pass
    with Manifest(tmp_path) as manifest:  # the lock went with the first
        assert list(manifest.keys()) == ["a.jpg"]
    assert path.read_text().endswith('"inp\n')  # the next record starts on a line of its own


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"include": ("",)}, "include must be a list of file name patterns"),
        ({"exclude": "*.jpg"}, "exclude must be a list of file name patterns"),
        ({"in_flight": 0}, "in_flight must be between 1 and 64"),
        ({"ray": " "}, "ray must be auto or a cluster address"),
    ],
)
def test_batch_settings_are_checked(changes: dict, message: str) -> None:
    from restore_core.errors import SettingsError
    from restore_core.params import BatchSettings

    with pytest.raises(SettingsError, match=message):
        BatchSettings(**changes)


def test_the_ray_pool_is_sized_to_the_cluster() -> None:
    from restore_core.batch.ray_pool import ACTOR_MEMORY, pool_layout
    from restore_core.errors import SettingsError
    from restore_core.params import BatchSettings

    auto = BatchSettings(ray="auto")
    assert pool_layout({"CPU": 2.0, "memory": 16 * 2**30}, auto) == pool_layout({"CPU": 2.0}, auto)
    assert pool_layout({"CPU": 2.0}, auto).actors == 2
    assert pool_layout({"CPU": 64.0, "memory": 5 * ACTOR_MEMORY}, auto).actors == 5  # memory bounds the pool
    four = pool_layout({"CPU": 64.0}, BatchSettings(ray="auto", cpus_per_actor=4))
    assert (four.actors, four.num_cpus, four.threads) == (16, 4.0, 4)
    gpus = pool_layout({"CPU": 32.0, "GPU": 4.0}, auto)
    assert (gpus.actors, gpus.num_gpus) == (4, 1.0)
    assert pool_layout({"CPU": 32.0, "GPU": 4.0}, auto, device="cpu").num_gpus == 0
    with pytest.raises(SettingsError, match="need 8 CPUs; the cluster has 2"):
        pool_layout({"CPU": 2.0}, BatchSettings(ray="auto", actors=4, cpus_per_actor=2))
    with pytest.raises(SettingsError, match="has 4 GPUs"):
        pool_layout({"CPU": 32.0, "GPU": 4.0}, BatchSettings(ray="auto", actors=5))
