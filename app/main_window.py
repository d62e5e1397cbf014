"""The main window: canvas in the middle, faces on the left, settings on the right.

The window shows a ``PhotoSession`` (the photo, its faces, the settings and their undo
history, all without Qt), turns the user's gestures into calls on it and every change into a
request to the render worker; it never runs model code. Results come back as signals and are
shown only when they answer the latest request.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from restore_core.faces import DetectedFace
from restore_core.params import Settings

from .actions import shortcut_text
from .batch_dialog import BatchDialog
from .canvas import ImageCanvas
from .clipboard import PastedPhotos
from .components import Detection, ImageRef, PhotoSession
from .components.remembered import remembered, remembered_text
from .components.selection import select_all, select_none
from .components.viewport import ViewMode, face_boxes
from .controls import ControlsPanel
from .dock_layout import NarrowDocks
from .export import Exporter
from .face_edits import FaceEdits
from .face_panel import FacePanel
from .files import folder_photos, local_files, photo_filter
from .first_run import offer_first_run
from .hold_original import SpaceHoldsOriginal
from .menus import WindowCommands
from .models_dialog import ModelsDialog, ask_licence
from .preview import Preview
from .settings_store import SettingsStore
from .status import WorkStatus
from .unsaved import UnsavedChoice, ask_unsaved
from .widgets import MessageBar
from .worker import EngineFactory, OpenedImage, RenderService

if TYPE_CHECKING:
    from restore_core.engine import RenderEngine, RenderResult
    from restore_core.pipeline import ProgressEvent

APP_NAME = "Facemend"
#: side panels' (minimum, first-start) widths: with the canvas's 300 px minimum the window can
#: be 800 px wide (half of a 1600 px screen); at first start the canvas gets most of 1400 px
FACES_DOCK_WIDTH = (230, 270)
SETTINGS_DOCK_WIDTH = (240, 290)
IDENTITY_NOTE = (
    "The identity model (ArcFace) is not installed: automatic pairing, similarity scores and "
    "picking the restoration closest to the reference are unavailable."
)


def default_engine_factory() -> RenderEngine:
    """The real engine, built in the worker thread: torch loads there, after the window shows."""
    from restore_core.engine import RenderEngine

    return RenderEngine(device="auto", allow_download=False)


def _identity_installed() -> bool:
    from restore_core.models import find

    return find("arcface") is not None


class MainWindow(QMainWindow):
    def __init__(
        self,
        engine_factory: EngineFactory | None = None,
        store: SettingsStore | None = None,
        *,
        check_models: bool = True,
    ) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.resize(1400, 900)
        self.store = store or SettingsStore()
        self.service = RenderService(engine_factory or default_engine_factory, self)
        self.session = PhotoSession(self.store.last_settings())
        self.history = self.session.history
        self._check_models = check_models
        self._started = False
        self.engine_ready = False
        self.device_description = ""
        self._pasted = PastedPhotos()
        self._batch: BatchDialog | None = None
        self._models: ModelsDialog | None = None
        #: what waits for an export the user asked for before leaving the photo (open, quit)
        self._after_export: dict[int, Callable[[], object]] = {}

        self._build_central()
        self._build_docks()
        self.work_status = WorkStatus(self.statusBar(), self.service.cancel)
        self.face_edits = FaceEdits(
            self, session=self.session, store=self.store, edit=self.edit, show_error=self.show_error
        )
        self.preview = Preview(self.session, self.service, self.canvas, self.work_status.show_busy, self)
        status = self.statusBar().showMessage
        self.exporter = Exporter(
            self,
            session=self.session,
            service=self.service,
            store=self.store,
            split=lambda: self.canvas.split,
            status=status,
            notify=lambda text, actions: self.message_bar.show_message(text, actions=actions),
            show_error=self.show_error,
            show_busy=self.work_status.show_busy,
        )
        self.commands = WindowCommands(
            self,
            slots={
                "open": self.choose_open,
                "paste": self.paste,
                "batch": self.show_batch,
                "models": self.show_models,
                "quit": self.close,
                "select_all": lambda: self.edit(select_all(self.settings), "", "Restore all faces"),
                "select_none": lambda: self.edit(select_none(self.settings), "", "Restore no faces"),
                "remove_face": lambda: self.face_edits.remove_face(self.face_panel.current_face()),
                "reset": self.controls.reset_button.click,
            },
            history=self.history,
            canvas=self.canvas,
            exporter=self.exporter,
            store=self.store,
            docks=(self.faces_dock, self.settings_dock),
            set_view_mode=self.set_view_mode,
            set_masks_shown=self.preview.set_masks_shown,
            open_paths=self.open_paths,
            engine_description=lambda: self.device_description,
        )
        self._space = SpaceHoldsOriginal(self, self.canvas.set_holding_original)
        self.statusBar().showMessage("Starting the restoration engine…")
        self._connect()
        self._show_settings(self.history.current)
        self.controls.show_remembered(remembered_text(remembered(self.settings)))
        self._restore_layout()

    # ================================================================ building
    def _build_central(self) -> None:
        self.canvas = ImageCanvas()
        self.message_bar = MessageBar()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.message_bar)
        layout.addWidget(self.canvas, 1)
        self.setCentralWidget(central)

    def _build_docks(self) -> None:
        self.face_panel = FacePanel()
        self.faces_dock = QDockWidget("Faces", self)
        self.faces_dock.setObjectName("facesDock")
        self.faces_dock.setWidget(self.face_panel)
        self.faces_dock.setMinimumWidth(FACES_DOCK_WIDTH[0])
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.faces_dock)

        self.controls = ControlsPanel()
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.settings_dock = QDockWidget("Settings", self)
        self.settings_dock.setObjectName("settingsDock")
        self.settings_dock.setWidget(scroll)
        self.settings_dock.setMinimumWidth(SETTINGS_DOCK_WIDTH[0])
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.settings_dock)
        # The canvas gets the rest: most of the window (a saved layout, restored later, wins).
        widths = (FACES_DOCK_WIDTH[1], SETTINGS_DOCK_WIDTH[1])
        self.resizeDocks([self.faces_dock, self.settings_dock], list(widths), Qt.Orientation.Horizontal)
        self.narrow_docks = NarrowDocks(self, self.faces_dock, self.settings_dock, widths)

    def _connect(self) -> None:
        s = self.service.signals
        s.ready.connect(self._on_ready)
        s.start_failed.connect(lambda message: self.message_bar.show_message(message, error=True))
        s.opened.connect(self._on_opened)
        s.detected.connect(self._on_detected)
        s.rendered.connect(self._on_rendered)
        s.progress.connect(self._on_progress)
        s.failed.connect(self._on_failed)
        s.cancelled.connect(self._on_cancelled)
        s.idle.connect(lambda: self.work_status.show_busy(False))
        self.session.faces_changed.connect(self._show_faces)
        self.session.settings_changed.connect(self._on_settings_changed)
        self.exporter.succeeded.connect(self._on_export_succeeded)
        self.exporter.failed.connect(self._on_export_failed)
        self.controls.edited.connect(self.edit)
        self.controls.edit_finished.connect(self.history.seal)
        self.canvas.files_dropped.connect(self.open_paths)
        self.canvas.zoom_changed.connect(self.work_status.show_zoom)
        panel = self.face_panel
        panel.list.currentRowChanged.connect(self.canvas.set_current_face)
        panel.select_all_requested.connect(self.commands.select_all.trigger)
        panel.select_none_requested.connect(self.commands.select_none.trigger)
        panel.override_finished.connect(self.history.seal)
        panel.draw_requested.connect(self.commands.draw_face.trigger)
        self.face_edits.take_requests(self.canvas, panel)

    def _restore_layout(self) -> None:
        geometry, state = self.store.geometry(), self.store.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        mode = self.store.text("view_mode", ViewMode.SPLIT.value)
        self.set_view_mode(ViewMode(mode) if mode in {m.value for m in ViewMode} else ViewMode.SPLIT)

    # ================================================================ start and stop
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._started:
            self._started = True
            # The worker imports torch and builds the engine: start it once the window has painted.
            QTimer.singleShot(0, self.service.start)
            if self._check_models:
                QTimer.singleShot(0, self._check_first_start)

    def _check_first_start(self) -> None:
        """No face model or detector yet: offer the recommended ones (sizes, licences, one button)."""
        if (offer := offer_first_run(self, self.store)) is not None:
            offer.models_changed.connect(self._models_changed)
        self.face_panel.set_reference_note("" if _identity_installed() else IDENTITY_NOTE)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.may_leave_photo(self.close):
            event.ignore()
            return
        for dialog in (self._batch, self._models):
            if dialog is not None:
                dialog.close()
        self.store.set_window_layout(self.saveGeometry(), self.saveState())
        self.store.set_last_settings(self.settings)
        self.store.set_text("view_mode", self.canvas.mode.value)
        self.store.sync()
        self.service.shutdown()
        self._pasted.cleanup()
        super().closeEvent(event)

    def _on_ready(self, device: str) -> None:
        self.engine_ready = True
        self.device_description = device
        if self.image is None:
            self.statusBar().showMessage(f"Ready ({device}). Drop a photo or press {shortcut_text('open')}.", 8000)

    # ================================================================ opening
    @property
    def settings(self) -> Settings:
        return self.session.settings

    @property
    def image(self) -> ImageRef | None:
        return self.session.image

    @property
    def faces(self) -> tuple[DetectedFace, ...]:
        return self.session.faces

    @property
    def last_result(self) -> RenderResult | None:
        return self.session.last_result

    def open_paths(self, paths: list[Path]) -> None:
        """One photo opens here; several, or a folder, go to the batch queue."""
        if len(paths) == 1 and paths[0].is_file():
            self.open_image(paths[0])
            return
        if not any(p.is_file() or folder_photos(p, recursive=True) for p in paths):
            self.show_error(
                "Nothing to open",
                "No photos were found in " + ", ".join(str(p) for p in paths) + ". Drop photos or a folder of photos.",
            )
            return
        self.show_batch().add_paths(paths)

    # ================================================================ unexported edits
    @property
    def has_unexported_edits(self) -> bool:
        return self.session.has_unexported_edits

    def may_leave_photo(self, then: Callable[[], object]) -> bool:
        """Whether the open photo may be left now. With unexported edits the user chooses:
        export first (``then`` runs once the export has succeeded), discard them, or stay.
        Discarding marks nothing: if the next photo fails to open, this one keeps its edits."""
        if not self.has_unexported_edits or self.image is None:
            return True
        choice = ask_unsaved(self, self.image.path.name)
        if choice is UnsavedChoice.DISCARD:
            return True
        if choice is UnsavedChoice.SAVE and (ticket := self.exporter.choose_export()) is not None:
            self._after_export[ticket] = then
        return False

    def _on_export_succeeded(self, ticket: int, settings: Settings | None) -> None:
        self.session.exported(settings)
        then = self._after_export.pop(ticket, None)
        if then is not None:
            then()

    def _on_export_failed(self, ticket: int) -> None:
        self._after_export.pop(ticket, None)  # the error is shown; the photo stays open

    def open_image(self, path: Path) -> None:
        if not self.may_leave_photo(lambda: self.open_image(path)):
            return
        self.session.begin_open(path)
        self.statusBar().showMessage(f"Opening {path.name}…")
        self.preview.request()

    def choose_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo", self.store.folder("open"), photo_filter())
        if path:
            self.open_paths([Path(path)])

    def paste(self) -> None:
        """Open a copied file, or a copied image (saved to a temporary PNG first)."""
        if paths := self._pasted.take():
            self.open_paths(paths)
        else:
            self.statusBar().showMessage("The clipboard holds no photo", 5000)

    def _on_opened(self, opened: OpenedImage) -> None:
        if not self.session.opened(opened.image, opened.default_suffix):
            return
        path = opened.image.path
        height, width = opened.original_rgb8.shape[:2]
        self.preview.show_photo(opened.image, opened.original_rgb8)
        self.canvas.setFocus()
        self.face_panel.set_faces((), self.settings)
        self.setWindowTitle(f"{path.name} — {APP_NAME}")
        self.work_status.show_photo_size(width, height)
        if not self._pasted.holds(path):
            self.store.set_folder("open", path.parent)
            self.commands.show_recent(self.store.add_recent_file(path))
        self.session.photo_notes = opened.notes
        notes = f" Note: {'; '.join(opened.notes)}" if opened.notes else ""
        self.statusBar().showMessage(f"Opened {path.name}; finding faces…{notes}")

    def _on_detected(self, detection: Detection) -> None:
        if not self.session.detected(detection):
            return
        count = len(detection.faces)
        self.statusBar().showMessage(
            f"{count} face{'s' if count != 1 else ''} found" if count else "No faces found: try a higher sensitivity"
        )

    # ================================================================ settings
    def edit(self, settings: Settings, key: str, text: str) -> None:
        """A user edit: licences first (CodeFormer), then an undoable step."""
        for spec in self.session.models_newly_used(settings):
            if not ask_licence(self, spec, self.store):
                self._show_settings(self.settings)  # put the control back
                return
        self.history.push(settings, key, text)

    def _show_faces(self, faces: tuple[DetectedFace, ...], settings: Settings) -> None:
        self.face_panel.set_faces(faces, settings)
        self.canvas.set_current_face(self.face_panel.current_face())
        self._show_face_boxes()

    def _on_settings_changed(self, settings: Settings, origin: str) -> None:
        self._show_settings(settings)
        if self.image is not None and origin != "reset":
            self.preview.schedule()
        if self._batch is not None:
            self._batch.set_settings(settings)

    def _show_settings(self, settings: Settings) -> None:
        self.controls.show_settings(settings)
        self.face_panel.show_settings(settings)
        self._show_face_boxes()

    def _show_face_boxes(self) -> None:
        self.canvas.set_faces(face_boxes(self.faces, self.settings))

    # ================================================================ rendering
    def _on_rendered(self, ticket: int, result: RenderResult) -> None:
        if not self.preview.show_result(ticket, result):
            return  # stale: a newer request is on its way
        self.face_panel.set_renders(result.faces)
        if self.message_bar.is_error:
            self.message_bar.hide()  # whatever failed before works again
        self._show_model_notes(result.notes)
        restored = sum(1 for f in result.faces if f.restored_thumb is not None)
        if result.preview:
            self.statusBar().showMessage(
                f"Preview of {restored} face{'s' if restored != 1 else ''}; rendering the exact faces…"
            )
        else:
            self.statusBar().showMessage(f"{restored} of {len(result.faces)} faces restored", 8000)
            self.work_status.show_busy(False)

    def _show_model_notes(self, notes: tuple[str, ...]) -> None:
        """Model files that are not the published ones: said once per session, in the message bar."""
        if new := self.session.unseen_model_notes(notes):
            text = "\n".join(n[:1].upper() + n[1:] for n in new)
            self.message_bar.show_message(text, actions=[("Open Models…", self.show_models)])

    def _on_progress(self, ticket: int, event: ProgressEvent) -> None:
        if ticket >= self.service.latest_render_ticket or self.exporter.owns(ticket):
            self.work_status.show_progress(event)
        if event.face is not None and ticket >= self.service.latest_render_ticket and not self.exporter.owns(ticket):
            self.preview.show_face(ticket, event.face)
            self.face_panel.show_render(event.face.render)

    def _on_cancelled(self, ticket: int) -> None:
        if ticket < self.service.latest_render_ticket and not self.exporter.owns(ticket):
            return  # superseded by a newer render, which is running: nothing was stopped
        self.work_status.show_cancelled()

    def _on_failed(self, ticket: int, stage: str, message: str) -> None:
        if stage == "export" or ticket < self.service.latest_render_ticket:
            return  # exports report their own failures; stale failures are moot
        self.work_status.show_busy(False)
        self.preview.render_error = f"{stage}: {message}"
        if stage == "open":
            self.show_error("Cannot open the photo", message)
            failed = self.session.open_failed()  # the previous photo is back: nothing is computed again
            self.statusBar().showMessage(f"Could not open {failed.path.name if failed else 'the photo'}", 8000)
            return
        # the after image would show other settings than the controls: show the photo alone
        self.preview.clear_result()
        self.statusBar().showMessage(
            f"Could not {'find the faces' if stage == 'detect' else 'restore the faces'}: see above", 15000
        )
        actions = [("Open Models…", self.show_models)] if "model" in message.lower() else []
        self.message_bar.show_message(message, error=True, actions=actions)

    def show_error(self, title: str, message: str) -> None:
        """A window-modal message that does not block the event loop (the worker keeps reporting)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.statusBar().showMessage(title, 15000)

    # ================================================================ view and input
    def set_view_mode(self, mode: ViewMode) -> None:
        self.canvas.set_mode(mode)
        self.commands.modes[mode].setChecked(True)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if local_files(event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        files = local_files(event.mimeData().urls())
        if files:
            event.acceptProposedAction()
            self.open_paths(files)

    # ================================================================ dialogs
    def show_batch(self) -> BatchDialog:
        if self._batch is None:
            self._batch = BatchDialog(self.service, self.settings, self.store, self)
        self._batch.set_settings(self.settings)
        self._batch.show()
        self._batch.raise_()
        return self._batch

    def show_models(self) -> ModelsDialog:
        if self._models is None:
            self._models = ModelsDialog(self.store, self)
            self._models.models_changed.connect(self._models_changed)
        self._models.show()
        self._models.raise_()
        return self._models

    def _models_changed(self) -> None:
        self.message_bar.hide()
        self._check_first_start()
        self.preview.request()
