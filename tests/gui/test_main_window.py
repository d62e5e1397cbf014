"""The main window end to end: real engine, real detector, passthrough face model."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import TEST_SETTINGS, WAIT_MS, drop_files, wait_for_render
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QToolBar

from app.components.viewport import ViewMode
from app.main_window import MainWindow
from app.qimage import qimage_to_rgb8
from app.unsaved import UnsavedChoice
from restore_core.faces import box_iou
from restore_core.params import GrainSettings

PHOTO = "family_three_print.png"
IMAGE_GRAIN = GrainSettings(enabled=True, scope="image", strength=1.0, density=1.0, seed=7)
FACE_GRAIN = GrainSettings(enabled=True, scope="faces", strength=1.0, density=1.0, seed=7)


def open_by_drop(qtbot, win: MainWindow, photo: Path) -> None:
    assert drop_files(win.canvas, [photo])
    wait_for_render(qtbot, win)


def edit(win: MainWindow, **sections: object) -> None:
    """Change settings as a user edit (undoable), e.g. ``edit(win, grain=IMAGE_GRAIN)``."""
    win.history.push(dataclasses.replace(win.settings, **sections), "test", "test edit")


def test_drop_opens_the_photo_and_boxes_every_face(loaded: MainWindow, expected_faces: dict, photos_dir: Path) -> None:
    win = loaded
    expected = expected_faces[PHOTO]
    assert win.image is not None and win.image.path == photos_dir / PHOTO
    assert len(win.faces) == len(expected)
    for box in expected:
        assert max(box_iou(box, f.box) for f in win.faces) > 0.3, box
    assert len(win.canvas._faces) == len(expected)
    assert win.face_panel.list.count() == len(expected)
    assert win.last_result is not None and len(win.last_result.faces) == len(expected)
    # the preview renders what the canvas shows, at screen resolution: here all of it, fit
    view, result = win.canvas.render_view(), win.last_result
    assert (result.region, result.scale) == (view.region, view.scale) and view.scale < 1
    assert view.region == (0, 0, win.canvas._before.width(), win.canvas._before.height())
    assert result.rgb8.shape[:2] == (round(view.region[3] * view.scale), round(view.region[2] * view.scale))
    assert PHOTO in win.windowTitle()


def test_clicking_a_face_box_excludes_and_includes_it(qtbot, loaded: MainWindow) -> None:
    win = loaded
    face = win.faces[0]
    x, y = face.center
    qtbot.mouseClick(win.canvas, Qt.MouseButton.LeftButton, pos=win.canvas.image_to_widget(QPointF(x, y)).toPoint())
    assert win.settings.faces == (1, 2)
    wait_for_render(qtbot, win)
    rendered = {f.index: f for f in win.last_result.faces}
    assert not rendered[0].selected and rendered[0].restored_thumb is None
    assert rendered[1].selected and rendered[1].restored_thumb is not None
    assert not win.canvas._faces[0].selected

    qtbot.mouseClick(win.canvas, Qt.MouseButton.LeftButton, pos=win.canvas.image_to_widget(QPointF(x, y)).toPoint())
    assert win.settings.faces is None
    win.face_panel.select_none_requested.emit()
    assert win.settings.faces == ()
    win.face_panel.select_all_requested.emit()
    assert win.settings.faces is None


def _show_at_100_percent(qtbot, win: MainWindow) -> None:
    """Zoom to 100 % in a window large enough that the padded view covers this whole photo,
    and wait for its render."""
    win.resize(2000, 1600)
    win.canvas.zoom_actual()
    wait_for_render(qtbot, win)
    assert win.last_result.scale == 1.0
    assert win.last_result.region == (0, 0, win.canvas._before.width(), win.canvas._before.height())


def test_strength_slider_rerenders_the_faces(qtbot, loaded: MainWindow) -> None:
    win = loaded
    edit(win, grain=FACE_GRAIN)
    _show_at_100_percent(qtbot, win)
    strong = win.last_result.rgb8
    first_ticket = win.preview.shown_ticket

    win.controls.strength.slider.setValue(0)  # as a drag to the far left
    assert win.settings.face.strength == 0.0
    wait_for_render(qtbot, win)
    assert win.preview.shown_ticket > first_ticket
    weak = win.last_result.rgb8
    original = qimage_to_rgb8(win.canvas._before)
    x1, y1, x2, y2 = (round(v) for v in win.faces[0].box)
    assert not np.array_equal(strong[y1:y2, x1:x2], weak[y1:y2, x1:x2])
    # far from every face nothing is touched, whatever the strength
    assert np.array_equal(strong[-40:, :40], original[-40:, :40])
    assert np.array_equal(weak[-40:, :40], original[-40:, :40])


def test_divider_shows_the_original_left_and_the_render_right(qtbot, loaded: MainWindow) -> None:
    win = loaded
    edit(win, grain=IMAGE_GRAIN)  # every pixel of the render differs from the original
    wait_for_render(qtbot, win)
    win.set_view_mode(ViewMode.SPLIT)
    win.canvas.set_split(0.5)
    _show_at_100_percent(qtbot, win)
    canvas = win.canvas
    assert canvas.devicePixelRatioF() == 1.0
    shown = qimage_to_rgb8(canvas.grab().toImage())
    original = qimage_to_rgb8(canvas._before)
    rendered = win.last_result.rgb8

    origin = canvas.image_to_widget(QPointF(0, 0))
    ox, oy = round(origin.x()), round(origin.y())
    cut = round(0.5 * original.shape[1])
    # a band below the divider's handle and clear of the face boxes and labels
    top = max(0, -oy) + (canvas.height() // 2) + 40
    rows = slice(top, top + 30)
    left = slice(cut - 60, cut - 20)
    right = slice(cut + 20, cut + 60)

    def on_screen(cols: slice) -> np.ndarray:
        return shown[rows.start + oy : rows.stop + oy, cols.start + ox : cols.stop + ox]

    assert not np.array_equal(rendered[rows, right], original[rows, right])
    assert np.array_equal(on_screen(left), original[rows, left])
    assert np.array_equal(on_screen(right), rendered[rows, right])

    canvas.set_holding_original(True)  # Space held: the original everywhere
    held = qimage_to_rgb8(canvas.grab().toImage())
    assert np.array_equal(
        held[rows.start + oy : rows.stop + oy, right.start + ox : right.stop + ox], original[rows, right]
    )
    canvas.set_holding_original(False)


def test_export_writes_the_photo_report_and_comparison(qtbot, loaded: MainWindow, tmp_path: Path, monkeypatch) -> None:
    win = loaded
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    _show_at_100_percent(qtbot, win)
    win.exporter.faces_json_option.setChecked(True)  # the report beside the photo, as asked
    out = tmp_path / "restored.png"
    with qtbot.waitSignal(win.service.signals.exported, timeout=WAIT_MS):
        assert win.exporter.export_image(out) is not None
    written = np.asarray(Image.open(out).convert("RGB"))
    assert np.abs(written.astype(int) - win.last_result.rgb8).max() <= 1  # the preview is what is saved
    report = json.loads((tmp_path / "restored_faces.json").read_text())
    assert len(report["faces"]) == 3 and report["settings"]["face"]["model"] == "passthrough"
    comparison = tmp_path / "comparison.jpg"
    with qtbot.waitSignal(win.service.signals.exported, timeout=WAIT_MS):
        win.exporter.export_comparison(comparison)
    assert Image.open(comparison).size == (2 * written.shape[1], written.shape[0])  # before | after
    assert asked == []

    # the same name again: asked, refused, nothing written
    before = out.stat().st_mtime_ns
    assert win.exporter.export_image(out) is None
    assert len(asked) == 1 and str(out) in asked[0]
    assert out.stat().st_mtime_ns == before

    # and the original photo is never a target, by name or through a link to it
    assert win.exporter.export_image(win.image.path) is None
    link = tmp_path / "link.png"
    link.symlink_to(win.image.path)
    assert win.exporter.export_image(link) is None
    assert len(asked) == 1  # refused before asking to replace


def test_undo_and_redo_settings_changes(qtbot, loaded: MainWindow) -> None:
    win = loaded
    start = win.settings
    win.controls.strength.slider.setValue(40)
    win.controls.strength.slider.setValue(30)  # the same drag: one undo step
    win.history.seal()
    win.controls.creativity.slider.setValue(80)
    assert win.settings.face.strength == 0.3 and win.settings.face.creativity == 0.8

    win.commands.undo.trigger()
    assert win.settings.face.creativity == start.face.creativity and win.settings.face.strength == 0.3
    assert win.controls.creativity.value() == start.face.creativity
    win.commands.undo.trigger()
    assert win.settings == start
    assert win.controls.strength.value() == start.face.strength
    win.commands.redo.trigger()
    assert win.settings.face.strength == 0.3
    assert QKeySequence("Ctrl+Shift+Z") in win.commands.redo.shortcuts()
    wait_for_render(qtbot, win)


def test_undo_and_redo_actions_follow_the_history(window: MainWindow) -> None:
    win = window
    toolbar = {a.text(): a for a in win.findChild(QToolBar, "mainToolbar").actions()}
    assert not win.commands.undo.isEnabled() and not toolbar["Undo"].isEnabled()
    assert win.commands.undo.text() == "&Undo"
    win.controls.strength.slider.setValue(40)
    step = win.history.undo_text
    assert step and win.commands.undo.text() == f"&Undo {step}"
    assert win.commands.undo.isEnabled() and toolbar["Undo"].isEnabled()
    assert toolbar["Undo"].toolTip() == f"Undo {step}" and not toolbar["Redo"].isEnabled()
    toolbar["Undo"].trigger()
    assert win.commands.undo.text() == "&Undo" and not win.commands.undo.isEnabled()
    assert win.commands.redo.text() == f"&Redo {step}" and toolbar["Redo"].isEnabled()
    assert win.settings.face.strength == TEST_SETTINGS.face.strength


def test_the_shortcuts_help_is_a_table_of_every_shortcut_the_window_has(window: MainWindow) -> None:
    dialog = window.commands.show_shortcuts()
    table = dialog.table
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    listed = {key for keys in rows for key in keys.split(", ")}
    native = QKeySequence.SequenceFormat.NativeText
    bound = {key.toString(native) for action in window.actions() for key in action.shortcuts()}
    primary = {action.shortcut().toString(native) for action in window.actions() if action.shortcuts()}
    gestures = {"Space (hold)", "Click a face box", "Right-click a face box", "Drop a photo on a face box", "Wheel"}
    assert len(primary) > 15 and primary <= listed <= bound | gestures, (primary - listed, listed - bound)
    assert rows[QKeySequence("Ctrl+Z").toString(native)] == "Undo"
    assert rows[QKeySequence("Ctrl+S").toString(native)] == "Export the restored photo"
    assert "Space (hold)" in rows
    dialog.close()


def test_model_code_never_runs_on_the_ui_thread(qtbot, models_dir, store, photos_dir: Path, monkeypatch) -> None:
    import torch

    from restore_core.engine import RenderEngine

    threads: list[threading.Thread] = []
    run_model, detect_steps, module_call = RenderEngine._run_model, RenderEngine.detect_steps, torch.nn.Module.__call__

    def recording(original):
        def wrapper(*args, **kwargs):
            threads.append(threading.current_thread())
            return original(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(RenderEngine, "_run_model", recording(run_model))
    monkeypatch.setattr(RenderEngine, "detect_steps", recording(detect_steps))
    monkeypatch.setattr(torch.nn.Module, "__call__", recording(module_call))
    store.set_last_settings(TEST_SETTINGS)
    win = MainWindow(store=store, check_models=False)
    qtbot.addWidget(win)
    win.show()
    open_by_drop(qtbot, win, photos_dir / PHOTO)
    win.controls.sensitivity.slider.setValue(70)  # re-detects
    wait_for_render(qtbot, win)
    win.close()
    assert threads, "the detector and the face model ran"
    assert threading.main_thread() not in threads


def test_settings_and_layout_persist(qtbot, window: MainWindow, store) -> None:
    window.controls.strength.slider.setValue(55)
    window.set_view_mode(ViewMode.SIDE_BY_SIDE)
    window.close()
    again = MainWindow(store=store, check_models=False)
    qtbot.addWidget(again)
    assert again.settings.face.strength == 0.55
    assert again.controls.strength.value() == 0.55
    assert again.canvas.mode is ViewMode.SIDE_BY_SIDE
    again.service.shutdown()


def test_a_broken_file_is_reported_and_the_photo_stays(qtbot, loaded: MainWindow, tmp_path: Path) -> None:
    win = loaded
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    drop_files(win.canvas, [broken])
    qtbot.waitUntil(
        lambda: any(isinstance(w, QMessageBox) and w.isVisible() for w in win.findChildren(QMessageBox)),
        timeout=WAIT_MS,
    )
    box = next(w for w in win.findChildren(QMessageBox) if w.isVisible())
    assert "broken.jpg" in box.text()
    box.close()
    # the photo shown before stays, with its result: nothing is opened or restored again
    assert win.image is not None and win.image.path.name == PHOTO
    assert win.last_result is not None and not win.preview.pending


def test_zooming_in_renders_only_the_visible_part_at_full_resolution(qtbot, loaded: MainWindow) -> None:
    win = loaded
    canvas = win.canvas
    width, height = canvas._before.width(), canvas._before.height()
    canvas.set_zoom(2.0, QPointF(canvas.width() / 2, canvas.height() / 2))
    wait_for_render(qtbot, win)
    view, result = canvas.render_view(), win.last_result
    x0, y0, x1, y1 = view.region
    assert (result.region, result.scale) == (view.region, 1.0)  # magnified on screen, not rendered larger
    assert result.rgb8.shape[:2] == (y1 - y0, x1 - x0)
    assert (x1 - x0) * (y1 - y0) < width * height


def test_a_smaller_photo_opened_while_zoomed_into_a_corner_renders_its_own_view(
    qtbot, loaded: MainWindow, photos_dir: Path
) -> None:
    win = loaded
    canvas = win.canvas
    bottom_right = canvas.image_to_widget(QPointF(canvas._before.width() - 1, canvas._before.height() - 1))
    canvas.set_zoom(3.0, bottom_right)
    wait_for_render(qtbot, win)
    assert win.last_result.region[1] >= 464  # entirely below the next photo's height

    failures: list[str] = []
    win.service.signals.failed.connect(lambda _ticket, _stage, message: failures.append(message))
    open_by_drop(qtbot, win, photos_dir / "collage_two_faces.jpg")  # 700 x 464
    assert failures == []  # not even for a request the window drops as stale
    assert canvas._before.width() == 700
    assert win.last_result.region == canvas.render_view().region == (0, 0, 700, 464)


def test_renders_superseded_by_newer_ones_are_not_reported_as_cancelled(
    qtbot, window: MainWindow, photos_dir: Path, shared_engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = window
    open_by_drop(qtbot, win, photos_dir / "crowd_selfie.jpg")  # faces in many model batches
    passthrough = shared_engine.restorer("passthrough")
    started = threading.Event()

    def slow_restore(faces, creativity):  # the first batch is slow enough to be superseded
        if not started.is_set():
            started.set()
            threading.Event().wait(0.3)
        return faces

    monkeypatch.setattr(passthrough, "restore", slow_restore)
    messages: list[str] = []
    win.statusBar().messageChanged.connect(messages.append)

    def ask(creativity: float) -> None:  # creativity changes the faces: the model runs again
        settings = dataclasses.replace(win.settings, face=dataclasses.replace(win.settings.face, creativity=creativity))
        win.service.render(win.image, settings, win.canvas.render_view())

    ask(0.1)
    assert started.wait(WAIT_MS / 1000)  # the worker reached the model (slow on a loaded machine)
    ask(0.4)  # cancels the running render
    wait_for_render(qtbot, win)
    assert win.last_result.faces[0].creativity == 0.4
    assert "Cancelled" not in messages
    assert win.work_status.progress.isHidden()  # not left busy, nor made idle early


def test_a_failed_open_keeps_the_photo_its_settings_and_its_history(
    qtbot, loaded: MainWindow, tmp_path: Path, shared_engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = loaded
    monkeypatch.setattr(win, "show_error", lambda title, message: None)  # no modal box in the test
    monkeypatch.setattr("app.main_window.ask_unsaved", lambda *args: UnsavedChoice.DISCARD)
    win.history.push(dataclasses.replace(win.settings, faces=(0,)), "test", "choose a face")
    edit(win, face=dataclasses.replace(win.settings.face, strength=0.6))
    wait_for_render(qtbot, win)
    image, settings, steps = win.image, win.settings, win.history.count
    result, calls = win.last_result, shared_engine.model_calls
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    assert drop_files(win.canvas, [broken])
    qtbot.waitUntil(
        lambda: win.preview.render_error is not None and win.preview.render_error.startswith("open"), timeout=WAIT_MS
    )
    assert win.image == image and win.settings == settings and win.settings.faces == (0,)
    assert win.history.count == steps and win.history.can_undo
    assert win.has_unexported_edits  # "discard" applied to the photo that did not open: nothing is marked
    assert win.last_result is result
    # the photo is still the engine's: a strength change recomposes without running a model again
    edit(win, face=dataclasses.replace(win.settings.face, strength=0.3))
    wait_for_render(qtbot, win)
    assert win.last_result is not result and shared_engine.model_calls == calls
    assert shared_engine.image.path == image.path


def _answering(answers: list[UnsavedChoice], asked: list[str]):
    """Answers the question from ``answers``; once they run out (pytest-qt closing the window), discards."""

    def ask(parent: object, name: str) -> UnsavedChoice:
        asked.append(name)
        return answers.pop(0) if answers else UnsavedChoice.DISCARD

    return ask


def test_leaving_a_photo_with_unexported_edits_asks_save_discard_or_cancel(
    qtbot, loaded: MainWindow, photos_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = loaded
    first, second = win.image.path, photos_dir / "two_children_film.jpg"
    assert not win.has_unexported_edits  # opening and the automatic restore are no edits
    edit(win, face=dataclasses.replace(win.settings.face, strength=0.5))
    wait_for_render(qtbot, win)
    assert win.has_unexported_edits
    answers: list[UnsavedChoice] = []
    asked: list[str] = []
    monkeypatch.setattr("app.main_window.ask_unsaved", _answering(answers, asked))

    answers.append(UnsavedChoice.CANCEL)  # stay: the photo and its edits are untouched
    assert drop_files(win.canvas, [second])
    assert asked == [first.name] and win.image.path == first and win.has_unexported_edits
    answers.append(UnsavedChoice.CANCEL)  # quitting is asked the same way
    assert not win.close() and win.isVisible()

    # save: the export dialog, the restored photo written, then the other photo opens
    exports = tmp_path / "exports"
    exports.mkdir()
    out = exports / "kept.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PNG (*.png)"))
    answers.append(UnsavedChoice.SAVE)
    with qtbot.waitSignal(win.service.signals.exported, timeout=WAIT_MS):
        assert drop_files(win.canvas, [second])
    qtbot.waitUntil(lambda: win.image.path == second, timeout=WAIT_MS)
    wait_for_render(qtbot, win)
    assert out.is_file() and Image.open(out).size == Image.open(first).size
    assert len(asked) == 3 and not win.has_unexported_edits

    # undoing every edit is as good as exported; an export of the current settings too
    edit(win, face=dataclasses.replace(win.settings.face, strength=0.4))
    win.history.undo()
    assert not win.has_unexported_edits
    edit(win, face=dataclasses.replace(win.settings.face, strength=0.4))
    wait_for_render(qtbot, win)
    with qtbot.waitSignal(win.exporter.succeeded, timeout=WAIT_MS):
        win.exporter.export_image(exports / "second.png")
    assert not win.has_unexported_edits

    # discard: the next photo opens without an export
    edit(win, face=dataclasses.replace(win.settings.face, strength=0.3))
    answers.append(UnsavedChoice.DISCARD)
    assert drop_files(win.canvas, [first])
    qtbot.waitUntil(lambda: win.image.path == first, timeout=WAIT_MS)
    assert len(asked) == 4
    assert sorted(p.name for p in exports.iterdir()) == ["kept.png", "second.png"]  # no reports unless asked


def test_an_unpublished_model_file_is_noted_once_per_session(qtbot, loaded: MainWindow) -> None:
    # the test detector keeps its key prefix, so it is not the published file (see models_dir)
    win = loaded
    assert win.message_bar.isVisible() and not win.message_bar.is_error
    text = win.message_bar.label.text()
    assert "retinaface_mobile0.25" in text and "not the published file" in text
    shown: list[str] = []
    win.message_bar.show_message = lambda text, **kw: shown.append(text)  # type: ignore[method-assign]
    edit(win, face=dataclasses.replace(win.settings.face, strength=0.5))
    wait_for_render(qtbot, win)
    assert shown == []
