"""Long work in the window: faces fill in on the canvas and in the face list as each finishes,
the status bar says how many are done and how long the rest will take, and a cancel keeps them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest
from gui_helpers import WAIT_MS, wait_for_render
from PySide6.QtWidgets import QStatusBar

from app.main_window import MainWindow
from app.status import WorkStatus, time_left_text
from restore_core.engine import ProgressEvent, RenderEngine

PHOTO = "family_three_print.png"  # three faces; a fourth at sensitivity 0.9


def test_a_new_detection_fills_in_only_the_face_it_adds_before_the_render_ends(qtbot, loaded: MainWindow) -> None:
    win = loaded
    known = {face.landmarks for face in win.faces}
    seen: list[tuple[int, int, bool, bool]] = []

    def on_progress(ticket: int, event: ProgressEvent) -> None:
        if event.face is not None and ticket == win.service.latest_render_ticket:
            index = event.face.index
            # The window's own slot ran first: the canvas and the list show the face already,
            # while the render's result has not arrived.
            seen.append(
                (
                    index,
                    win.canvas.patch_count,
                    win.preview.shown_ticket < ticket,
                    win.face_panel._renders[index] is event.face.render,
                )
            )

    win.service.signals.progress.connect(on_progress)
    detection = dataclasses.replace(win.settings.detection, sensitivity=0.9)
    win.edit(dataclasses.replace(win.settings, detection=detection), "sensitivity", "Change sensitivity")
    wait_for_render(qtbot, win)
    added = [i for i, face in enumerate(win.faces) if face.landmarks not in known]
    assert len(win.faces) == 4 and len(added) == 1
    assert seen == [(added[0], 1, True, True)]  # only the new face ran, and showed at once
    assert win.canvas.patch_count == 0  # the whole result replaced the patches


def test_a_cancel_keeps_the_finished_faces_and_the_next_render_restores_only_the_rest(
    qtbot, face_models_dir: Path, loaded: MainWindow, shared_engine: RenderEngine
) -> None:
    win = loaded
    messages: list[str] = []

    def on_progress(ticket: int, event: ProgressEvent) -> None:
        if event.face is not None and ticket == win.service.latest_render_ticket:
            messages.append(win.statusBar().currentMessage())
            if len(messages) == 1:
                win.work_status.cancel_button.click()

    win.service.signals.progress.connect(on_progress)
    calls = shared_engine.model_calls
    gfpgan = dataclasses.replace(win.settings.face, model="gfpgan")
    with qtbot.waitSignal(win.service.signals.cancelled, timeout=WAIT_MS):
        win.edit(dataclasses.replace(win.settings, face=gfpgan), "model", "Change model")
    done = len(messages)  # the face running when Cancel was pressed finishes too
    assert 1 <= done < 3
    assert messages[0].startswith("Face 1 of 3 restored (gfpgan), ") and "left" in messages[0]
    assert win.canvas.patch_count == done  # the finished faces stay on the canvas
    assert win.statusBar().currentMessage().startswith(f"Cancelled with {done} of 3 faces restored")
    assert shared_engine.model_calls == calls + done

    weaker = dataclasses.replace(win.settings.face, strength=0.6)
    win.edit(dataclasses.replace(win.settings, face=weaker), "strength", "Change strength")
    wait_for_render(qtbot, win)
    assert shared_engine.model_calls == calls + 3  # only the faces not finished before the cancel
    assert all(render.restored_thumb is not None for render in win.last_result.faces)


def test_the_time_left_stays_in_view_while_the_next_face_runs(qtbot) -> None:
    bar = QStatusBar()
    qtbot.addWidget(bar)
    status = WorkStatus(bar, lambda: None)
    status.show_busy(True)
    face = SimpleNamespace(seconds_left=12.0)  # what the status bar reads of a FaceDone
    events = [
        ProgressEvent("restore", 0, 3, "restoring face 1 of 3 (gfpgan)"),
        ProgressEvent("restore", 1, 3, "face 1 of 3 restored (gfpgan)", face=face),  # type: ignore[arg-type]
        ProgressEvent("restore", 1, 3, "restoring face 2 of 3 (gfpgan)"),
    ]
    shown = []
    for event in events:
        status.show_progress(event)
        shown.append(bar.currentMessage())
    assert shown == [
        "Restoring face 1 of 3 (gfpgan)…",
        "Face 1 of 3 restored (gfpgan), about 10 s left…",
        "Restoring face 2 of 3 (gfpgan), about 10 s left…",
    ]
    assert status.progress.value() == 1 and status.progress.maximum() == 3
    status.show_busy(True)  # the next job starts without the last one's estimate
    status.show_progress(events[0])
    assert bar.currentMessage() == "Restoring face 1 of 3 (gfpgan)…"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.4, "a few seconds left"), (12.0, "about 10 s left"), (88.0, "about 90 s left"), (400.0, "about 7 min left")],
)
def test_time_left_is_said_as_people_say_it(seconds: float, text: str) -> None:
    assert time_left_text(seconds) == text
