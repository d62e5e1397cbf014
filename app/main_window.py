"""The main window: canvas in the middle, faces on the left, settings on the right.

The window holds the state the user sees (the photo, its faces, the settings and their undo
history) and turns every change into a request to the render worker; it never runs model code.
Results come back as signals and are shown only when they answer the latest request.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from restore_core.faces import DetectedFace
from restore_core.params import DetectionSettings, Settings

from . import export
from .batch_dialog import BatchDialog
from .canvas import FaceBox, ImageCanvas, ViewMode, local_files
from .controls import ControlsPanel
from .face_panel import FacePanel
from .files import expand_paths, photo_filter
from .history import SettingsHistory
from .models_dialog import ModelsDialog, ask_licence, first_start_text, recommended_downloads
from .qimage import rgb8_to_qimage
from .selection import remap_faces, select_all, select_none, set_selected
from .settings_store import SettingsStore
from .throttle import Throttle
from .widgets import MessageBar
from .worker import Detection, EngineFactory, ImageRef, OpenedImage, RenderService

if TYPE_CHECKING:
    from restore_core.engine import RenderResult
    from restore_core.pipeline import ProgressEvent

APP_NAME = "Facemend"
RENDER_THROTTLE_MS = 40


def default_engine_factory() -> Any:
    """The real engine; imported here, in the worker thread, so the window shows before torch loads."""
    from restore_core.engine import RenderEngine

    return RenderEngine(device="auto", allow_download=False)


def uses_model(settings: Settings, name: str) -> bool:
    return settings.face.model == name or any(o.model == name for _, o in settings.overrides)


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
        self.history = SettingsHistory(self.store.last_settings(), self)
        self._check_models = check_models
        self._started = False
        self._image: ImageRef | None = None
        self._previous_image: ImageRef | None = None
        self._image_ids = 0
        self._export_suffix = ".png"
        #: face lists of the current photo by detection settings; ``_basis`` is the detection
        #: whose face list the indices in the current settings refer to
        self._face_lists: dict[DetectionSettings, tuple[DetectedFace, ...]] = {}
        self._basis: DetectionSettings | None = None
        self._faces: tuple[DetectedFace, ...] = ()
        self.last_result: RenderResult | None = None
        self.shown_ticket = 0  # the request ``last_result`` answers
        self.render_error: str | None = None  # why the latest request failed, if it did
        self.engine_ready = False
        self.device_description = ""
        self._paste_dir: tempfile.TemporaryDirectory[str] | None = None
        self._pasted = 0
        self._batch: BatchDialog | None = None
        self._export_tickets: set[int] = set()
        self._models: ModelsDialog | None = None
        self._render_throttle = Throttle(RENDER_THROTTLE_MS, self._request_render, self)

        self._build_central()
        self._build_docks()
        self._build_actions()
        self._build_status_bar()
        self._connect()
        self._show_settings(self.history.current)
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
        self.faces_dock.setMinimumWidth(280)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.faces_dock)

        self.controls = ControlsPanel()
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.settings_dock = QDockWidget("Settings", self)
        self.settings_dock.setObjectName("settingsDock")
        self.settings_dock.setWidget(scroll)
        self.settings_dock.setMinimumWidth(320)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.settings_dock)

    def _action(
        self, text: str, slot: Callable[[], Any], shortcuts: Iterable[QKeySequence | str] = (), tip: str = ""
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(s) if isinstance(s, str) else s for s in shortcuts])
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)  # shortcuts work with menus hidden too
        return action

    def _build_actions(self) -> None:
        menu = self.menuBar()
        self.open_action = self._action("&Open…", self.choose_open, [QKeySequence.StandardKey.Open], "Open a photo")
        self.recent_menu = QMenu("Open &Recent", self)
        self.paste_action = self._action("&Paste Photo", self.paste, [QKeySequence.StandardKey.Paste])
        self.export_action = self._action("&Export…", self.choose_export, ["Ctrl+S"], "Save the restored photo")
        self.export_comparison_action = self._action(
            "Export &Comparison…", self.choose_export_comparison, ["Ctrl+Shift+S"], "Save a before/after image"
        )
        self.export_faces_action = self._action("Export &Faces JSON…", self.choose_export_faces)
        self.faces_json_action = QAction("Write Faces JSON With Exports", self, checkable=True)
        self.faces_json_action.setChecked(self.store.flag("export_faces_json", True))
        self.faces_json_action.toggled.connect(lambda on: self.store.set_flag("export_faces_json", on))
        self.split_comparison_action = QAction("Comparison As Split at the Divider", self, checkable=True)
        self.split_comparison_action.setChecked(self.store.flag("comparison_split", False))
        self.split_comparison_action.toggled.connect(lambda on: self.store.set_flag("comparison_split", on))
        self.comparison_labels_action = QAction("Label the Comparison (Before, After)", self, checkable=True)
        self.comparison_labels_action.setChecked(self.store.flag("comparison_labels", True))
        self.comparison_labels_action.toggled.connect(lambda on: self.store.set_flag("comparison_labels", on))
        self.batch_action = self._action("&Batch…", self.show_batch, ["Ctrl+B"], "Restore many photos")
        self.models_action = self._action("&Models…", self.show_models, [], "Download and manage model weights")
        quit_action = self._action("&Quit", self.close, [QKeySequence.StandardKey.Quit])
        file_menu = menu.addMenu("&File")
        for item in (self.open_action, self.recent_menu, self.paste_action, None, self.export_action,
                     self.export_comparison_action, self.export_faces_action, self.faces_json_action,
                     self.split_comparison_action, self.comparison_labels_action, None, self.batch_action, self.models_action, None, quit_action):
            if item is None:
                file_menu.addSeparator()
            elif isinstance(item, QMenu):
                file_menu.addMenu(item)
            else:
                file_menu.addAction(item)

        self.undo_action = self.history.stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QKeySequence("Ctrl+Z")])
        self.redo_action = self.history.stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.addActions([self.undo_action, self.redo_action])
        self.select_all_action = self._action("Restore &All Faces", lambda: self._edit(select_all(self.settings), "", "Select all faces"), ["Ctrl+A"])
        self.select_none_action = self._action("Restore &No Faces", lambda: self._edit(select_none(self.settings), "", "Select no faces"), ["Ctrl+Shift+A"])
        reset_action = self._action("Reset Settings to &Defaults", self.controls.reset_button.click)
        edit_menu = menu.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        edit_menu.addActions([self.select_all_action, self.select_none_action, reset_action])

        view_menu = menu.addMenu("&View")
        self.mode_group = QActionGroup(self)
        self.mode_actions: dict[ViewMode, QAction] = {}
        for key, (mode, text) in enumerate(
            [(ViewMode.SPLIT, "&Split Before/After"), (ViewMode.SIDE_BY_SIDE, "Side by Si&de"),
             (ViewMode.BEFORE, "&Before Only"), (ViewMode.AFTER, "&After Only")], start=1
        ):
            action = self._action(text, lambda m=mode: self.set_view_mode(m), [f"Ctrl+{key}"])
            action.setCheckable(True)
            self.mode_group.addAction(action)
            self.mode_actions[mode] = action
            view_menu.addAction(action)
        view_menu.addSeparator()
        self.zoom_in_action = self._action("Zoom &In", self.canvas.zoom_in, ["+", "=", QKeySequence.StandardKey.ZoomIn])
        self.zoom_out_action = self._action("Zoom &Out", self.canvas.zoom_out, ["-", QKeySequence.StandardKey.ZoomOut])
        self.fit_action = self._action("&Fit in Window", self.canvas.zoom_to_fit, ["0"])
        self.actual_action = self._action("&Actual Pixels (100%)", self.canvas.zoom_actual, ["1"])
        self.boxes_action = self._action("Show Face &Boxes", lambda: None, ["B"])
        self.boxes_action.setCheckable(True)
        self.boxes_action.setChecked(True)
        self.boxes_action.toggled.connect(self.canvas.set_show_boxes)
        view_menu.addActions([self.zoom_in_action, self.zoom_out_action, self.fit_action, self.actual_action])
        view_menu.addSeparator()
        view_menu.addActions([self.boxes_action, self.faces_dock.toggleViewAction(), self.settings_dock.toggleViewAction()])

        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("&Keyboard Shortcuts", self._show_shortcuts))
        help_menu.addAction(self._action("&About Facemend", self._show_about))

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addActions([self.open_action, self.export_action, self.export_comparison_action])
        toolbar.addSeparator()
        toolbar.addActions(self._toolbar_undo_redo())
        toolbar.addSeparator()
        toolbar.addActions(list(self.mode_actions.values()))
        toolbar.addSeparator()
        toolbar.addActions([self.fit_action, self.actual_action])
        toolbar.addSeparator()
        toolbar.addActions([self.batch_action, self.models_action])
        self._update_recent_menu()

    def _toolbar_undo_redo(self) -> list[QAction]:
        """Undo and redo with short fixed labels (the menu's say what they undo), so the toolbar
        does not shift as the text changes; the tooltip names the step."""
        stack = self.history.stack
        undo = QAction("Undo", self, enabled=False)
        redo = QAction("Redo", self, enabled=False)
        undo.triggered.connect(stack.undo)
        redo.triggered.connect(stack.redo)
        stack.canUndoChanged.connect(undo.setEnabled)
        stack.canRedoChanged.connect(redo.setEnabled)
        stack.undoTextChanged.connect(lambda text: undo.setToolTip(f"Undo {text}"))
        stack.redoTextChanged.connect(lambda text: redo.setToolTip(f"Redo {text}"))
        return [undo, redo]

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.size_label = QLabel()
        self.zoom_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setMaximumHeight(16)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop the work in progress")
        self.cancel_button.clicked.connect(self.service.cancel)
        self.cancel_button.hide()
        for widget in (self.progress, self.cancel_button, self.size_label, self.zoom_label):
            bar.addPermanentWidget(widget)
        bar.showMessage("Starting the restoration engine…")

    def _connect(self) -> None:
        s = self.service.signals
        s.ready.connect(self._on_ready)
        s.start_failed.connect(lambda message: self.message_bar.show_message(message, error=True))
        s.opened.connect(self._on_opened)
        s.detected.connect(self._on_detected)
        s.rendered.connect(self._on_rendered)
        s.progress.connect(self._on_progress)
        s.failed.connect(self._on_failed)
        s.cancelled.connect(lambda _ticket: self._work_done("Cancelled"))
        s.exported.connect(self._on_exported)
        s.idle.connect(lambda: self._work_done(None))
        self.history.changed.connect(self._on_settings_changed)
        self.controls.edited.connect(self._edit)
        self.controls.edit_finished.connect(self.history.seal)
        self.canvas.face_clicked.connect(self.toggle_face)
        self.canvas.files_dropped.connect(self.open_paths)
        self.canvas.reference_dropped.connect(self.set_reference)
        self.canvas.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        fp = self.face_panel
        fp.selection_toggled.connect(lambda i, on: self._edit(set_selected(self.settings, i, on, len(self._faces)), "", f"{'Include' if on else 'Exclude'} face {i + 1}"))
        fp.select_all_requested.connect(self.select_all_action.trigger)
        fp.select_none_requested.connect(self.select_none_action.trigger)
        fp.override_edited.connect(lambda i, changes, key, text: self._edit(self.settings.with_override(i, **changes), f"{key}:{i}", text))
        fp.override_finished.connect(self.history.seal)
        fp.reference_dropped.connect(self.set_reference)
        fp.reference_browse_requested.connect(self._choose_reference)
        fp.reference_cleared.connect(lambda i: self._edit(self.settings.with_override(i, reference=None), "", f"Clear reference (face {i + 1})"))

    def _restore_layout(self) -> None:
        geometry, state = self.store.geometry(), self.store.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        mode = self.store.text("view_mode", ViewMode.SPLIT.value)
        self.set_view_mode(ViewMode(mode) if mode in {m.value for m in ViewMode} else ViewMode.SPLIT)

    # ================================================================ start and stop
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._started:
            self._started = True
            # The worker imports torch and builds the engine: start it once the window has painted.
            QTimer.singleShot(0, self.service.start)
            if self._check_models:
                QTimer.singleShot(0, self._check_first_start)

    def _check_first_start(self) -> None:
        wanted = recommended_downloads()
        if wanted:
            self.message_bar.show_message(first_start_text(wanted), actions=[("Open Models…", self.show_models)])
        self.face_panel.set_reference_note(
            ""
            if _identity_installed()
            else "The identity model (ArcFace) is not installed: automatic pairing, similarity scores and "
            "picking the closest restoration to the reference are unavailable."
        )

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        for dialog in (self._batch, self._models):
            if dialog is not None:
                dialog.close()
        self.store.set_window_layout(self.saveGeometry(), self.saveState())
        self.store.set_last_settings(self.settings)
        self.store.set_text("view_mode", self.canvas.mode.value)
        self.store.sync()
        self.service.shutdown()
        if self._paste_dir is not None:
            self._paste_dir.cleanup()
        super().closeEvent(event)

    def _on_ready(self, device: str) -> None:
        self.engine_ready = True
        self.device_description = device
        if self._image is None:
            self.statusBar().showMessage(f"Ready ({device}). Drop a photo or press Ctrl+O.", 8000)

    # ================================================================ opening
    @property
    def settings(self) -> Settings:
        return self.history.current

    @property
    def image(self) -> ImageRef | None:
        return self._image

    @property
    def faces(self) -> tuple[DetectedFace, ...]:
        return self._faces

    def open_paths(self, paths: list[Path]) -> None:
        """One photo opens here; several, or a folder, go to the batch queue."""
        if len(paths) == 1 and paths[0].is_file():
            self.open_image(paths[0])
            return
        files = expand_paths(paths)
        if not files:
            self._show_error("Nothing to open", "No photos were found in " + ", ".join(str(p) for p in paths))
            return
        self.show_batch()
        assert self._batch is not None
        self._batch.add_paths(files)

    def open_image(self, path: Path) -> None:
        self._previous_image = self._image
        self._image_ids += 1
        self._image = ImageRef(self._image_ids, path)
        self._faces = ()
        self._face_lists = {}
        self._basis = None
        self.last_result = None
        self.history.reset(dataclasses.replace(self.settings, faces=None, overrides=()))
        self.statusBar().showMessage(f"Opening {path.name}…")
        self._show_busy(True)
        self._request_render()

    def choose_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo", self.store.folder("open"), photo_filter())
        if path:
            self.open_paths([Path(path)])

    def paste(self) -> None:
        """Open a copied file, or a copied image (saved to a temporary PNG first)."""
        data = QGuiApplication.clipboard().mimeData()
        files = local_files(data.urls()) if data.hasUrls() else []
        if files:
            self.open_paths(files)
            return
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            self.statusBar().showMessage("The clipboard holds no photo", 5000)
            return
        if self._paste_dir is None:
            self._paste_dir = tempfile.TemporaryDirectory(prefix="facemend-paste-")
        self._pasted += 1
        path = Path(self._paste_dir.name) / f"Pasted photo {self._pasted}.png"
        image.convertToFormat(QImage.Format.Format_RGB888).save(str(path))
        self.open_image(path)

    def _update_recent_menu(self, recent: list[Path] | None = None) -> None:
        self.recent_menu.clear()
        for path in recent if recent is not None else self.store.recent_files():
            action = self.recent_menu.addAction(path.name, lambda p=path: self.open_paths([p]))
            action.setToolTip(str(path))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear Recent", lambda: (self.store.clear_recent_files(), self._update_recent_menu([])))

    def _on_opened(self, opened: OpenedImage) -> None:
        if self._image is None or opened.image.id != self._image.id:
            return
        path = opened.image.path
        height, width = opened.original_rgb8.shape[:2]
        self._export_suffix = opened.default_suffix
        self.canvas.set_images(rgb8_to_qimage(opened.original_rgb8))
        self.canvas.setFocus()
        self.face_panel.set_faces((), self.settings)
        self.setWindowTitle(f"{path.name} — {APP_NAME}")
        self.size_label.setText(f"{width} × {height}")
        if self._paste_dir is None or not path.is_relative_to(self._paste_dir.name):
            self.store.set_folder("open", path.parent)
            self._update_recent_menu(self.store.add_recent_file(path))
        message = f"Opened {path.name}; finding faces…"
        if opened.notes:
            message += " Note: " + "; ".join(opened.notes)
        self.statusBar().showMessage(message)

    def _on_detected(self, detection: Detection) -> None:
        if self._image is None or detection.image.id != self._image.id:
            return
        faces = detection.faces
        self._face_lists[detection.settings] = faces
        old_faces = self._face_lists.get(self._basis, ()) if self._basis is not None else ()
        self._basis = detection.settings
        if faces != self._faces or not self.face_panel.list.count():
            self._faces = faces
            self.face_panel.set_faces(faces, self.settings)
        self._show_face_boxes()
        remapped = remap_faces(self.settings, old_faces, faces) if old_faces != faces else self.settings
        if remapped != self.settings:
            self.history.amend(remapped)
        count = len(faces)
        self.statusBar().showMessage(f"{count} face{'s' if count != 1 else ''} found" if count else "No faces found: try a higher sensitivity")

    # ================================================================ settings
    def _edit(self, settings: Settings, key: str, text: str) -> None:
        """A user edit: licences first (CodeFormer), then an undoable step."""
        from restore_core.models import MODELS

        for name, spec in MODELS.items():
            if spec.licence_notice and uses_model(settings, name) and not uses_model(self.settings, name):
                if not ask_licence(self, spec, self.store):
                    self._show_settings(self.settings)
                    return
        self.history.push(settings, key, text)

    def _on_settings_changed(self, settings: Settings, origin: str) -> None:
        if origin in ("undo", "redo"):
            # a stored state's face indices refer to its own detection's faces
            self._basis = settings.detection if settings.detection in self._face_lists else self._basis
            faces = self._face_lists.get(settings.detection)
            if faces is not None and faces != self._faces:
                self._faces = faces
                self.face_panel.set_faces(faces, settings)
        self._show_settings(settings)
        if self._image is not None:
            self._render_throttle()
        if self._batch is not None:
            self._batch.set_settings(settings)

    def _show_settings(self, settings: Settings) -> None:
        self.controls.show_settings(settings)
        self.face_panel.show_settings(settings)
        self._show_face_boxes()

    def _show_face_boxes(self) -> None:
        s = self.settings
        self.canvas.set_faces(tuple(FaceBox(i, f.box, f.score, s.is_selected(i)) for i, f in enumerate(self._faces)))

    def toggle_face(self, index: int) -> None:
        on = not self.settings.is_selected(index)
        self._edit(set_selected(self.settings, index, on, len(self._faces)), "", f"{'Include' if on else 'Exclude'} face {index + 1}")

    def set_reference(self, index: int, path: Path) -> None:
        if not path.is_file():
            self._show_error("Cannot use that reference", f"{path}: not a file")
            return
        self.store.set_folder("reference", path.parent)
        self._edit(self.settings.with_override(index, reference=str(path)), "", f"Reference photo (face {index + 1})")

    def _choose_reference(self, index: int) -> None:
        if index < 0:
            return
        path, _ = QFileDialog.getOpenFileName(
            self, f"Reference photo for face {index + 1}", self.store.folder("reference"), photo_filter()
        )
        if path:
            self.set_reference(index, Path(path))

    # ================================================================ rendering
    @property
    def render_pending(self) -> bool:
        """A settings change waits for the render throttle (it asks the worker within 40 ms)."""
        return self._render_throttle.pending

    def _request_render(self) -> None:
        if self._image is not None:
            self.render_error = None
            self.service.render(self._image, self.settings)
            self._show_busy(True)

    def _on_rendered(self, ticket: int, result: RenderResult) -> None:
        if ticket < self.service.latest_render_ticket:
            return  # stale: a newer request is on its way
        self.last_result = result
        self.shown_ticket = ticket
        self.canvas.set_after(rgb8_to_qimage(result.rgb8))
        self.face_panel.set_renders(result.faces)
        restored = sum(1 for f in result.faces if f.restored_thumb is not None)
        if self.message_bar.is_error:
            self.message_bar.hide()  # whatever failed before works again
        if result.preview:
            self.statusBar().showMessage(f"Preview of {restored} face{'s' if restored != 1 else ''}; rendering the exact faces…")
        else:
            self.statusBar().showMessage(f"{restored} of {len(result.faces)} faces restored", 8000)
            self._show_busy(False)

    def _on_progress(self, ticket: int, event: ProgressEvent) -> None:
        if ticket < self.service.latest_render_ticket and ticket not in self._export_tickets:
            return
        self._show_busy(True)
        if event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
        else:
            self.progress.setRange(0, 0)
        if event.message:
            self.statusBar().showMessage(event.message[:1].upper() + event.message[1:] + "…" if event.done < event.total else event.message)

    def _show_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy and self.progress.maximum() == self.progress.value():
            self.progress.setRange(0, 0)

    def _work_done(self, message: str | None) -> None:
        self._show_busy(False)
        if message:
            self.statusBar().showMessage(message, 5000)

    def _on_failed(self, ticket: int, stage: str, message: str) -> None:
        if stage == "export":
            self._export_tickets.discard(ticket)
            self._show_error("Export failed", message)
            return
        if ticket < self.service.latest_render_ticket:
            return
        self._show_busy(False)
        self.render_error = f"{stage}: {message}"
        if stage == "open":
            self._show_error("Cannot open the photo", message)
            failed, self._image = self._image, self._previous_image
            self.statusBar().showMessage(f"Could not open {failed.path.name if failed else 'the photo'}", 8000)
            if self._image is not None:
                self._faces = ()
                self._face_lists = {}
                self._basis = None
                self._request_render()
            return
        self.statusBar().showMessage(message, 15000)
        self.message_bar.show_message(
            message, error=True, actions=[("Open Models…", self.show_models)] if "model" in message.lower() else ()
        )

    def _show_error(self, title: str, message: str) -> None:
        """A window-modal message that does not block the event loop (the worker keeps reporting)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.statusBar().showMessage(message, 15000)

    # ================================================================ view
    def set_view_mode(self, mode: ViewMode) -> None:
        self.canvas.set_mode(mode)
        self.mode_actions[mode].setChecked(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.canvas.set_holding_original(True)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.canvas.set_holding_original(False)
            return
        super().keyReleaseEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if local_files(event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        files = local_files(event.mimeData().urls())
        if files:
            event.acceptProposedAction()
            self.open_paths(files)

    # ================================================================ export
    def _can_export(self) -> bool:
        if self._image is None or self.last_result is None:
            self.statusBar().showMessage("Open a photo first", 5000)
            return False
        return True

    def choose_export(self) -> None:
        if not self._can_export():
            return
        assert self._image is not None
        name = export.restored_name(self._image.path, self._export_suffix)
        path = export.ask_save_path(self, self.store, "Export restored photo", name)
        if path is not None:
            self.export_image(path)

    def choose_export_comparison(self) -> None:
        if not self._can_export():
            return
        assert self._image is not None
        path = export.ask_save_path(self, self.store, "Export before/after comparison", export.comparison_name(self._image.path))
        if path is not None:
            self.export_comparison(path)

    def choose_export_faces(self) -> None:
        if not self._can_export():
            return
        assert self._image is not None
        path = export.ask_save_path(
            self, self.store, "Export faces JSON", f"{self._image.path.stem}_faces.json", export.JSON_FILTER
        )
        if path is not None:
            self.export_faces(path)

    def export_image(self, path: Path) -> int | None:
        """Save the restored photo (and the faces JSON beside it when that option is on)."""
        report = export.faces_json_beside(path) if self.faces_json_action.isChecked() else None
        return self._export(path, [path] + ([report] if report else []), report_path=report)

    def export_comparison(self, path: Path) -> int | None:
        mode = "split" if self.split_comparison_action.isChecked() else "side_by_side"
        return self._export(
            None, [path], comparison_path=path, comparison_mode=mode, comparison_split=self.canvas.split,
            comparison_labels=self.comparison_labels_action.isChecked(),
        )

    def export_faces(self, path: Path) -> int | None:
        return self._export(None, [path], report_path=path)

    def _export(self, image_path: Path | None, targets: list[Path], **options: Any) -> int | None:
        if self._image is None:
            return None
        source = self._image.path.resolve()
        if any(t.resolve() == source for t in targets):
            self._show_error("Export refused", f"{self._image.path}: the original photo is never overwritten; choose another name")
            return None
        answer = export.confirm_overwrite(self, targets)
        if answer is False:
            self.statusBar().showMessage("Export cancelled: nothing was replaced", 5000)
            return None
        self._render_throttle.flush()
        ticket = self.service.export(self._image, self.settings, image_path, overwrite=bool(answer), **options)
        self._export_tickets.add(ticket)
        self.statusBar().showMessage(f"Exporting {', '.join(t.name for t in targets)}…")
        self._show_busy(True)
        return ticket

    def _on_exported(self, ticket: int, paths: list[Path]) -> None:
        self._export_tickets.discard(ticket)
        self.statusBar().showMessage("Saved " + ", ".join(str(p) for p in paths), 10000)

    # ================================================================ dialogs
    def show_batch(self) -> None:
        if self._batch is None:
            self._batch = BatchDialog(self.service, self.settings, self.store, self)
        self._batch.set_settings(self.settings)
        self._batch.show()
        self._batch.raise_()

    def show_models(self) -> None:
        if self._models is None:
            self._models = ModelsDialog(self.store, self)
            self._models.models_changed.connect(self._models_changed)
        self._models.show()
        self._models.raise_()

    def _models_changed(self) -> None:
        self.message_bar.hide()
        self._check_first_start()
        if self._image is not None:
            self._request_render()

    def _show_shortcuts(self) -> None:
        QMessageBox.information(
            self,
            "Keyboard shortcuts",
            "Ctrl+O open · Ctrl+V paste a photo · Ctrl+S export · Ctrl+Shift+S export comparison\n"
            "Space (hold) show the original · + / - zoom · 0 fit · 1 actual pixels\n"
            "Ctrl+1..4 split, side by side, before, after · B face boxes\n"
            "Ctrl+Z undo · Ctrl+Shift+Z redo · Ctrl+A / Ctrl+Shift+A restore all / no faces\n"
            "Click a face box to include or exclude it; drop a photo on a face box to use it as reference.",
        )

    def _show_about(self) -> None:
        from restore_core import __version__

        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"{APP_NAME} {__version__}\nRestores faces in photographs with GFPGAN and CodeFormer, locally.\n"
            f"Engine: {self.device_description or 'starting'}",
        )

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(1400, 900)


def _identity_installed() -> bool:
    from restore_core.models import find

    return find("arcface") is not None
