"""The app's batch is the command line's: one manifest in the output folder, the same skip and
resume rules (restore_core.batch), whichever of the two ran the batch before.

Real detector and photos, the passthrough model; every photo the worker restores is opened by
the engine, so the opens counted here are the photos restored (none for a file skipped)."""

from __future__ import annotations

import dataclasses
import shutil
import threading
from pathlib import Path

import pytest
from gui_helpers import WAIT_MS

from app.batch_dialog import RESUMED_TEXT, BatchDialog
from app.main_window import MainWindow
from restore_core.batch import MANIFEST_NAME, Manifest
from restore_core.cli import main
from restore_core.engine import RenderEngine
from restore_core.io.atomic import TEMP_SUFFIX

FAST = ["--model", "passthrough", "--detector", "retinaface_mobile0.25"]
KEYS = ["1987/summer/beach.jpg", "family.png", "top.jpg"]


@pytest.fixture()
def scans(tmp_path: Path, photos_dir: Path) -> Path:
    """Three photos, one in a sub-folder, as ``KEYS`` names them."""
    root = tmp_path / "scans"
    (root / "1987" / "summer").mkdir(parents=True)
    shutil.copy(photos_dir / "collage_two_faces.jpg", root / "1987" / "summer" / "beach.jpg")
    shutil.copy(photos_dir / "family_three_print.png", root / "family.png")
    shutil.copy(photos_dir / "collage_two_faces.jpg", root / "top.jpg")
    return root


class Opens:
    """The photos the engine opens (in the worker thread), with an optional hold on one of them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        self.hold: str | None = None
        self.reached = threading.Event()
        self.release = threading.Event()
        real_open = RenderEngine.open

        def counted(engine: RenderEngine, path, *args, **kwargs):
            self.names.append(Path(path).name)
            if Path(path).name == self.hold:
                self.reached.set()
                self.release.wait(WAIT_MS / 1000)
            return real_open(engine, path, *args, **kwargs)

        monkeypatch.setattr(RenderEngine, "open", counted)

    def take(self) -> list[str]:
        names, self.names = self.names, []
        return names


@pytest.fixture()
def opens(monkeypatch: pytest.MonkeyPatch) -> Opens:
    return Opens(monkeypatch)


def _dialog(window: MainWindow, scans: Path, out: Path) -> BatchDialog:
    dialog = BatchDialog(window.service, window.settings, window.store, window)
    dialog.add_paths([scans])
    dialog.out_dir.setText(str(out))
    assert [dialog.table.item(row, 0).text() for row in range(dialog.table.rowCount())] == KEYS
    return dialog


def _run(qtbot, window: MainWindow, dialog: BatchDialog) -> None:
    with qtbot.waitSignal(window.service.signals.batch_finished, timeout=WAIT_MS) as finished:
        dialog.start_button.click()
    assert finished.args[1] is False


def _statuses(dialog: BatchDialog) -> list[str]:
    return [dialog.table.item(row, 1).text() for row in range(dialog.table.rowCount())]


def _outputs(out: Path) -> dict[str, tuple[bytes, int]]:
    """Every file the batch wrote, with its bytes and date (the manifest aside)."""
    return {
        p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME
    }


EXPECTED = {"1987/summer/beach_restored.jpg", "family_restored.png", "top_restored.jpg"}


def test_a_batch_done_in_the_app_is_done_for_the_command_line(
    qtbot, window: MainWindow, scans: Path, tmp_path: Path, opens: Opens, capsys
) -> None:
    out = tmp_path / "out"
    dialog = _dialog(window, scans, out)
    _run(qtbot, window, dialog)
    assert sorted(opens.take()) == ["beach.jpg", "family.png", "top.jpg"]
    assert set(_outputs(out)) == EXPECTED
    with Manifest(out) as manifest:
        assert [manifest.get(key).status for key in KEYS] == ["done", "done", "done"]
    written = _outputs(out)

    capsys.readouterr()
    assert main(["restore", str(scans), "-o", str(out), "--recursive", *FAST]) == 0
    err = capsys.readouterr().err
    assert "3 of 3 photos already done" in err and "3 photos: 0 restored, 3 already done, 0 failed" in err
    assert _outputs(out) == written  # nothing restored: not even the command line's own names (top.jpg)
    assert opens.take() == []


def test_a_batch_done_by_the_command_line_is_done_earlier_in_the_app(
    qtbot, window: MainWindow, scans: Path, tmp_path: Path, opens: Opens
) -> None:
    out = tmp_path / "out"
    assert main(["restore", str(scans), "-o", str(out), "--recursive", *FAST]) == 0
    written = _outputs(out)
    assert set(written) == {"1987/summer/beach.jpg", "family.png", "top.jpg"}
    opens.take()

    dialog = _dialog(window, scans, out)
    _run(qtbot, window, dialog)
    assert opens.take() == [] and _outputs(out) == written
    assert _statuses(dialog) == [RESUMED_TEXT] * 3
    assert dialog.summary.text() == "0 restored, 0 failed, 3 done earlier"
    assert dialog.table.item(2, 1).toolTip().startswith(str(out / "top.jpg"))


def test_a_second_run_skips_what_is_done_and_a_changed_setting_redoes_it(
    qtbot, window: MainWindow, scans: Path, tmp_path: Path, opens: Opens
) -> None:
    out = tmp_path / "out"
    dialog = _dialog(window, scans, out)
    _run(qtbot, window, dialog)
    assert len(opens.take()) == 3
    written = _outputs(out)

    _run(qtbot, window, dialog)  # the same batch again: nothing restored, nothing rewritten
    assert opens.take() == [] and _outputs(out) == written
    assert _statuses(dialog) == [RESUMED_TEXT] * 3
    assert dialog.summary.text() == "0 restored, 0 failed, 3 done earlier"
    assert dialog.open_folder.isVisibleTo(dialog) and not dialog.overwrite_skipped.isVisibleTo(dialog)

    settings = window.settings
    dialog.set_settings(dataclasses.replace(settings, face=dataclasses.replace(settings.face, strength=0.5)))
    _run(qtbot, window, dialog)  # the batch's own outputs are replaced, no question asked
    assert sorted(opens.take()) == ["beach.jpg", "family.png", "top.jpg"]
    assert [s.startswith("Saved ") for s in _statuses(dialog)] == [True] * 3
    assert dialog.summary.text() == "3 restored, 0 failed"
    again = _outputs(out)
    assert set(again) == EXPECTED and all(again[k][1] != written[k][1] for k in EXPECTED)

    _run(qtbot, window, dialog)  # and those are done now, with the new setting
    assert opens.take() == [] and _statuses(dialog) == [RESUMED_TEXT] * 3


def test_a_deleted_output_is_redone_alone(qtbot, window: MainWindow, scans: Path, tmp_path: Path, opens: Opens) -> None:
    out = tmp_path / "out"
    dialog = _dialog(window, scans, out)
    _run(qtbot, window, dialog)
    opens.take()
    written = _outputs(out)

    (out / "family_restored.png").unlink()
    _run(qtbot, window, dialog)
    assert opens.take() == ["family.png"]
    assert _statuses(dialog) == [RESUMED_TEXT, f"Saved {out / 'family_restored.png'}", RESUMED_TEXT]
    assert dialog.summary.text() == "1 restored, 0 failed, 2 done earlier"
    now = _outputs(out)
    assert set(now) == EXPECTED and {k: v for k, v in now.items() if k != "family_restored.png"} == {
        k: v for k, v in written.items() if k != "family_restored.png"
    }


def test_a_cancelled_batch_goes_on_from_where_it_stopped(
    qtbot, window: MainWindow, scans: Path, tmp_path: Path, opens: Opens
) -> None:
    out = tmp_path / "out"
    dialog = _dialog(window, scans, out)
    opens.hold = "family.png"  # the second photo waits in the worker until the cancel
    with qtbot.waitSignal(window.service.signals.batch_finished, timeout=WAIT_MS) as finished:
        dialog.start_button.click()
        qtbot.waitUntil(opens.reached.is_set, timeout=WAIT_MS)
        dialog.cancel_button.click()
        opens.release.set()
    assert finished.args[1] is True
    assert opens.take() == ["beach.jpg", "family.png"]
    assert _statuses(dialog)[0].startswith("Saved ") and _statuses(dialog)[2] == "Waiting"
    assert dialog.summary.text() == "1 restored, 0 failed, 2 not done (cancelled)"
    first = _outputs(out)
    assert set(first) == {"1987/summer/beach_restored.jpg"}  # no half-written photo, no temp file
    assert not [p for p in out.rglob("*") if p.name.endswith(TEMP_SUFFIX)]

    opens.hold = None
    _run(qtbot, window, dialog)
    assert opens.take() == ["family.png", "top.jpg"]
    assert _statuses(dialog)[0] == RESUMED_TEXT and dialog.summary.text() == "2 restored, 0 failed, 1 done earlier"
    now = _outputs(out)
    assert set(now) == EXPECTED and now["1987/summer/beach_restored.jpg"] == first["1987/summer/beach_restored.jpg"]


def test_a_new_format_redoes_the_files_a_new_name_ending_does_not(
    qtbot, window: MainWindow, scans: Path, tmp_path: Path, opens: Opens, monkeypatch
) -> None:
    out = tmp_path / "out"
    dialog = _dialog(window, scans, out)

    def no_second_engine(*args, **kwargs):
        raise AssertionError("the app's batch restores with the worker's engine, never one of its own")

    monkeypatch.setattr(RenderEngine, "__init__", no_second_engine)
    _run(qtbot, window, dialog)
    opens.take()

    dialog.suffix.setText("_fixed")  # where, not what: the record says where the output went
    _run(qtbot, window, dialog)
    assert opens.take() == [] and _statuses(dialog) == [RESUMED_TEXT] * 3

    dialog.format.setCurrentIndex(dialog.format.findData(".png"))  # another encoding: done again
    _run(qtbot, window, dialog)
    assert sorted(opens.take()) == ["beach.jpg", "family.png", "top.jpg"]
    assert {"1987/summer/beach_fixed.png", "family_fixed.png", "top_fixed.png"} <= set(_outputs(out))


def test_add_photos_and_add_folder_start_where_photos_were_last_added(
    qtbot, window: MainWindow, scans: Path, monkeypatch
) -> None:
    from PySide6.QtWidgets import QPushButton

    from app.batch_dialog import QFileDialog

    asked: list[str] = []

    def pick_folder(parent, title, start):
        asked.append(start)
        return str(scans)

    def pick_photos(parent, title, start, filters):
        asked.append(start)
        return [str(scans / "1987" / "summer" / "beach.jpg")], ""

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", pick_folder)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", pick_photos)

    def click(dialog: BatchDialog, text: str) -> None:
        (button,) = (b for b in dialog.findChildren(QPushButton) if b.text() == text)
        button.click()

    dialog = BatchDialog(window.service, window.settings, window.store, window)
    window.store.set_folder("open", scans.parent)
    click(dialog, "Add folder…")
    click(dialog, "Add photos…")
    click(BatchDialog(window.service, window.settings, window.store, window), "Add photos…")
    assert asked == [str(scans.parent), str(scans), str(scans / "1987" / "summer")]
    assert len(dialog.files) == 3
