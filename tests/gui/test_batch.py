"""The batch dialog: a queue run by the render worker, failures listed with their reasons."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from gui_helpers import WAIT_MS, drop_files

from app.batch_dialog import BatchDialog
from app.main_window import MainWindow
from restore_core.batch import MANIFEST_NAME


def test_a_folder_is_restored_and_a_broken_file_is_listed(
    qtbot, window: MainWindow, photos_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    for name in ("family_three_print.png", "collage_two_faces.jpg"):
        shutil.copy(photos_dir / name, folder / name)
    (folder / "torn.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (folder / "notes.txt").write_text("not a photo")
    out = tmp_path / "out"
    out.mkdir()

    drop_files(window.canvas, [folder])  # a folder goes to the batch queue
    dialog = window.findChild(BatchDialog)
    assert dialog is not None and dialog.isVisible()
    assert [p.name for p in dialog.files] == ["collage_two_faces.jpg", "family_three_print.png", "torn.jpg"]
    dialog.out_dir.setText(str(out))
    (out / "family_three_print_restored.png").write_bytes(b"already here")  # never overwritten

    with qtbot.waitSignal(window.service.signals.batch_finished, timeout=WAIT_MS) as finished:
        dialog.start_button.click()
    assert finished.args[1] is False  # not cancelled
    assert (out / "collage_two_faces_restored.jpg").stat().st_size > 1000
    assert (out / "family_three_print_restored.png").read_bytes() == b"already here"
    failures = {p.name: reason for p, reason in dialog.failures()}
    assert set(failures) == {"torn.jpg"} and "torn.jpg" in failures["torn.jpg"]
    assert dialog.table.item(dialog.files.index(folder / "family_three_print.png"), 1).text() == "Skipped (exists)"
    assert dialog.overall_progress.value() == 3
    assert dialog.summary.text() == "1 restored, 1 failed, 1 skipped because their output exists"


def test_cancel_stops_the_queue(qtbot, window: MainWindow, photos_dir: Path, tmp_path: Path, monkeypatch) -> None:
    from restore_core.engine import RenderEngine

    gate = threading.Event()
    real_open = RenderEngine.open

    def held_open(self, *args, **kwargs):  # runs in the worker: hold the first photo until cancelled
        gate.wait(WAIT_MS / 1000)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(RenderEngine, "open", held_open)
    dialog = BatchDialog(window.service, window.settings, window.store, window)
    dialog.add_paths([photos_dir / "family_three_print.png", photos_dir / "collage_two_faces.jpg"])
    dialog.out_dir.setText(str(tmp_path))
    with qtbot.waitSignal(window.service.signals.batch_file_started, timeout=WAIT_MS):
        dialog.start()
    with qtbot.waitSignal(window.service.signals.batch_finished, timeout=WAIT_MS) as finished:
        dialog.cancel_button.click()
        gate.set()
    assert finished.args[1] is True
    assert not (tmp_path / "collage_two_faces_restored.jpg").exists()
    assert "not done (cancelled)" in dialog.summary.text()
    assert not dialog.running and dialog.start_button.isEnabled()


def test_a_batch_names_its_outputs_by_the_core_rule_as_the_cli_does(
    qtbot, window: MainWindow, photos_dir: Path, tmp_path: Path
) -> None:
    from PIL import Image

    from restore_core.io import default_output_suffix, load_image

    bmp = tmp_path / "scan.bmp"  # an 8-bit BMP: Facemend does not write BMP
    Image.open(photos_dir / "collage_two_faces.jpg").convert("RGB").save(bmp)
    out = tmp_path / "out"
    out.mkdir()
    dialog = BatchDialog(window.service, window.settings, window.store, window)
    dialog.add_paths([bmp])
    dialog.out_dir.setText(str(out))
    with qtbot.waitSignal(window.service.signals.batch_finished, timeout=WAIT_MS):
        dialog.start()
    expected = out / f"scan_restored{default_output_suffix(load_image(bmp))}"
    assert expected.suffix == ".png" and sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, expected.name]
    assert dialog.table.item(0, 1).text() == f"Saved {expected}"


def test_a_folder_tree_is_mirrored_and_outputs_not_the_batchs_are_skipped_then_renamed_or_overwritten(
    qtbot, window: MainWindow, photos_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    scans = tmp_path / "scans"
    (scans / "1987" / "summer").mkdir(parents=True)
    (scans / ".thumbnails").mkdir()
    shutil.copy(photos_dir / "collage_two_faces.jpg", scans / "top.jpg")
    shutil.copy(photos_dir / "collage_two_faces.jpg", scans / "1987" / "summer" / "beach.jpg")
    shutil.copy(photos_dir / "collage_two_faces.jpg", scans / ".thumbnails" / "hidden.jpg")
    out = tmp_path / "restored"
    dialog = BatchDialog(window.service, window.settings, window.store, window)
    dialog.add_paths([scans])
    assert [dialog.table.item(row, 0).text() for row in range(dialog.table.rowCount())] == [
        "1987/summer/beach.jpg",
        "top.jpg",
    ]
    dialog.out_dir.setText(str(out))

    def run(button) -> None:
        with qtbot.waitSignal(window.service.signals.batch_finished, timeout=WAIT_MS):
            button.click()

    run(dialog.start_button)
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jpg"))
    assert written == ["1987/summer/beach_restored.jpg", "top_restored.jpg"]
    assert not dialog.overwrite_skipped.isVisibleTo(dialog) and dialog.open_folder.isVisibleTo(dialog)

    # Again, without the batch's manifest: both outputs exist and are not the batch's, so both
    # are skipped (not failed, no command-line flag quoted).
    first = {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")}
    (out / MANIFEST_NAME).unlink()
    run(dialog.start_button)
    statuses = [dialog.table.item(row, 1).text() for row in range(2)]
    assert statuses == ["Skipped (exists)", "Skipped (exists)"] and not dialog.failures()
    assert "--" not in dialog.summary.text() and "2 skipped" in dialog.summary.text()
    assert dialog.overwrite_skipped.isVisibleTo(dialog) and dialog.rename_skipped.isVisibleTo(dialog)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")} == first

    run(dialog.rename_skipped)  # under new names, beside the first ones
    assert (out / "top_restored_2.jpg").is_file() and (out / "1987" / "summer" / "beach_restored_2.jpg").is_file()
    assert {p: p.stat().st_mtime_ns for p in first} == first

    run(dialog.start_button)  # the renamed outputs are the batch's now: done, nothing asked
    assert [dialog.table.item(row, 1).text() for row in range(2)] == ["Done earlier", "Done earlier"]
    assert not dialog.overwrite_skipped.isVisibleTo(dialog)

    (out / MANIFEST_NAME).unlink()
    run(dialog.start_button)
    run(dialog.overwrite_skipped)
    assert all(p.stat().st_mtime_ns != mtime for p, mtime in first.items())
    assert [dialog.table.item(row, 1).text().startswith("Saved ") for row in range(2)] == [True, True]

    opened: list[str] = []
    monkeypatch.setattr("app.batch_dialog.QDesktopServices.openUrl", lambda url: opened.append(url.toLocalFile()))
    dialog.open_folder.click()
    assert opened == [str(out)]
