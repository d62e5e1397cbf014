"""The main window's commands: actions with their shortcuts, the menus and the toolbar."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from .canvas import ViewMode
from .history_actions import HistoryActions
from .selection import select_all, select_none

if TYPE_CHECKING:
    from .export import Exporter
    from .main_window import MainWindow

SHORTCUTS_HELP = (
    "Ctrl+O open · Ctrl+V paste a photo · Ctrl+S export · Ctrl+Shift+S export comparison\n"
    "Space (hold) show the original · + / - zoom · 0 fit · 1 actual pixels\n"
    "Ctrl+1..4 split, side by side, before, after · B face boxes\n"
    "Ctrl+Z undo · Ctrl+Shift+Z redo · Ctrl+A / Ctrl+Shift+A restore all / no faces\n"
    "Click a face box to include or exclude it; drop a photo on a face box to use it as its reference."
)
VIEW_MODES = (
    (ViewMode.SPLIT, "&Split Before/After"),
    (ViewMode.SIDE_BY_SIDE, "Side by Si&de"),
    (ViewMode.BEFORE, "&Before Only"),
    (ViewMode.AFTER, "&After Only"),
)


class WindowCommands:
    def __init__(self, window: MainWindow, exporter: Exporter) -> None:
        self._window = window
        w, canvas = window, window.canvas
        std = QKeySequence.StandardKey
        self.open = self._action("&Open…", w.choose_open, [std.Open], "Open a photo")
        self.recent_menu = QMenu("Open &Recent", w)
        self.paste = self._action("&Paste Photo", w.paste, [std.Paste], "Open the photo on the clipboard")
        self.batch = self._action("&Batch…", w.show_batch, ["Ctrl+B"], "Restore many photos")
        self.models = self._action("&Models…", w.show_models, [], "Download and manage model weights")
        self.quit = self._action("&Quit", w.close, [std.Quit])

        self.history_actions = HistoryActions(w.history, w)
        self.undo, self.redo = self.history_actions.undo, self.history_actions.redo
        self.undo.setShortcuts([QKeySequence("Ctrl+Z")])
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        w.addActions([self.undo, self.redo])
        self.select_all = self._action(
            "Restore &All Faces", lambda: w.edit(select_all(w.settings), "", "Restore all faces"), ["Ctrl+A"]
        )
        self.select_none = self._action(
            "Restore &No Faces", lambda: w.edit(select_none(w.settings), "", "Restore no faces"), ["Ctrl+Shift+A"]
        )
        self.reset = self._action("Reset Settings to &Defaults", w.controls.reset_button.click)

        group = QActionGroup(w)
        self.modes: dict[ViewMode, QAction] = {}
        for key, (mode, text) in enumerate(VIEW_MODES, start=1):
            action = self._action(text, lambda m=mode: w.set_view_mode(m), [f"Ctrl+{key}"])
            action.setCheckable(True)
            group.addAction(action)
            self.modes[mode] = action
        self.zoom_in = self._action("Zoom &In", canvas.zoom_in, ["+", "=", std.ZoomIn])
        self.zoom_out = self._action("Zoom &Out", canvas.zoom_out, ["-", std.ZoomOut])
        self.fit = self._action("&Fit in Window", canvas.zoom_to_fit, ["0"])
        self.actual = self._action("&Actual Pixels (100%)", canvas.zoom_actual, ["1"])
        self.boxes = self._action("Show Face &Boxes", lambda: None, ["B"])
        self.boxes.setCheckable(True)
        self.boxes.setChecked(True)
        self.boxes.toggled.connect(canvas.set_show_boxes)
        self.shortcuts_help = self._action(
            "&Keyboard Shortcuts", lambda: QMessageBox.information(w, "Keyboard shortcuts", SHORTCUTS_HELP)
        )
        self.about = self._action("&About Facemend", self._show_about)
        self._build_menus(exporter)
        self._build_toolbar(exporter)
        self.show_recent(w.store.recent_files())

    def _action(self, text: str, slot: Any, shortcuts: list[Any] | tuple[()] = (), tip: str = "") -> QAction:
        action = QAction(text, self._window)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self._window.addAction(action)  # shortcuts work whether or not a menu shows the action
        return action

    def _build_menus(self, exporter: Exporter) -> None:
        w = self._window
        bar = w.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.open])
        file_menu.addMenu(self.recent_menu)
        file_menu.addAction(self.paste)
        file_menu.addSeparator()
        file_menu.addActions([exporter.export_action, exporter.comparison_action, exporter.faces_action])
        options = file_menu.addMenu("Export &Options")
        options.addActions([exporter.faces_json_option, exporter.split_option, exporter.labels_option])
        file_menu.addSeparator()
        file_menu.addActions([self.batch, self.models])
        file_menu.addSeparator()
        file_menu.addAction(self.quit)

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo, self.redo])
        edit_menu.addSeparator()
        edit_menu.addActions([self.select_all, self.select_none, self.reset])

        view_menu = bar.addMenu("&View")
        view_menu.addActions(list(self.modes.values()))
        view_menu.addSeparator()
        view_menu.addActions([self.zoom_in, self.zoom_out, self.fit, self.actual])
        view_menu.addSeparator()
        view_menu.addActions([self.boxes, w.faces_dock.toggleViewAction(), w.settings_dock.toggleViewAction()])

        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.shortcuts_help, self.about])

    def _build_toolbar(self, exporter: Exporter) -> None:
        toolbar = self._window.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addActions([self.open, exporter.export_action, exporter.comparison_action])
        toolbar.addSeparator()
        toolbar.addActions([self.history_actions.toolbar_undo, self.history_actions.toolbar_redo])
        toolbar.addSeparator()
        toolbar.addActions(list(self.modes.values()))
        toolbar.addSeparator()
        toolbar.addActions([self.fit, self.actual])
        toolbar.addSeparator()
        toolbar.addActions([self.batch, self.models])

    def show_recent(self, recent: list[Path]) -> None:
        w = self._window
        self.recent_menu.clear()
        for path in recent:
            action = self.recent_menu.addAction(path.name, functools.partial(w.open_paths, [path]))
            action.setToolTip(str(path))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear Recent", self._clear_recent)

    def _clear_recent(self) -> None:
        self._window.store.clear_recent_files()
        self.show_recent([])

    def _show_about(self) -> None:
        from restore_core import __version__

        w = self._window
        QMessageBox.about(
            w,
            "About Facemend",
            f"Facemend {__version__}\nRestores faces in photographs with GFPGAN and CodeFormer, on this computer.\n"
            f"Engine: {w.device_description or 'starting'}",
        )
