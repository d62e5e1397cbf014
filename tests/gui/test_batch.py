"""The batch dialog: a queue run by the render worker, failures listed with their reasons."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from gui_helpers import WAIT_MS, drop_files

from app.batch_dialog import BatchDialog
from app.main_window import MainWindow


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
    assert set(failures) == {"family_three_print.png", "torn.jpg"}
    assert "already exists" in failures["family_three_print.png"]
    assert "torn.jpg" in failures["torn.jpg"]
    assert dialog.overall_progress.value() == 3
    assert dialog.summary.text().startswith("1 restored, 2 failed")


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
    assert expected.suffix == ".png" and [p.name for p in out.iterdir()] == [expected.name]
    assert dialog.table.item(0, 1).text() == f"Saved {expected}"
