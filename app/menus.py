"""The main window's commands: its actions (from the table in ``actions``), menus and toolbar."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from .about import AboutDialog
from .actions import VIEW_MODE_TEXTS, make_action, shortcut_rows
from .components.viewport import ViewMode
from .history_actions import HistoryActions
from .widgets import ShortcutsDialog

if TYPE_CHECKING:
    from .canvas import ImageCanvas
    from .components import SettingsHistory
    from .export import Exporter
    from .settings_store import SettingsStore

#: the window's own commands, given to ``WindowCommands`` as slots by these names
WINDOW_SLOTS = ("open", "paste", "batch", "models", "quit", "select_all", "select_none", "remove_face", "reset")


class WindowCommands:
    """Builds the actions, the menu bar and the toolbar of ``main`` from its collaborators:
    ``slots`` for the window's own commands (``WINDOW_SLOTS``), the canvas for the view, the
    history for undo and redo, the exporter's actions, the store for the recent files, the
    docks to show or hide."""

    def __init__(
        self,
        main: QMainWindow,
        *,
        slots: Mapping[str, Callable[[], object]],
        history: SettingsHistory,
        canvas: ImageCanvas,
        exporter: Exporter,
        store: SettingsStore,
        docks: Sequence[QDockWidget],
        set_view_mode: Callable[[ViewMode], None],
        set_masks_shown: Callable[[bool], None],
        open_paths: Callable[[list[Path]], None],
        engine_description: Callable[[], str],
    ) -> None:
        self._main = main
        self._store = store
        self._docks = docks
        self._open_paths = open_paths
        self._engine_description = engine_description
        self.open, self.paste, self.batch, self.models, self.quit = (
            make_action(name, main, slots[name]) for name in ("open", "paste", "batch", "models", "quit")
        )
        self.recent_menu = QMenu("Open &Recent", main)

        self.history_actions = HistoryActions(history, main)
        self.undo, self.redo = self.history_actions.undo, self.history_actions.redo
        main.addActions([self.undo, self.redo])
        self.select_all, self.select_none, self.remove_face, self.reset = (
            make_action(name, main, slots[name]) for name in ("select_all", "select_none", "remove_face", "reset")
        )
        self.draw_face = make_action("draw_face", main)
        self.draw_face.setCheckable(True)
        self.draw_face.toggled.connect(canvas.set_drawing)
        canvas.drawing_changed.connect(self.draw_face.setChecked)

        group = QActionGroup(main)
        self.modes: dict[ViewMode, QAction] = {}
        for mode in VIEW_MODE_TEXTS:
            action = make_action(f"mode_{mode.value}", main, functools.partial(set_view_mode, mode))
            action.setCheckable(True)
            group.addAction(action)
            self.modes[mode] = action
        self.zoom_in = make_action("zoom_in", main, canvas.zoom_in)
        self.zoom_out = make_action("zoom_out", main, canvas.zoom_out)
        self.fit = make_action("fit", main, canvas.zoom_to_fit)
        self.actual = make_action("actual", main, canvas.zoom_actual)
        self.boxes = make_action("boxes", main)
        self.boxes.setCheckable(True)
        self.boxes.setChecked(True)
        self.boxes.toggled.connect(canvas.set_show_boxes)
        self.masks = make_action("masks", main)
        self.masks.setCheckable(True)
        self.masks.toggled.connect(set_masks_shown)
        self.shortcuts_help = make_action("shortcuts_help", main, self.show_shortcuts)
        self.about = make_action("about", main, self._show_about)
        self._build_menus(exporter)
        self._build_toolbar(exporter)
        self.show_recent(store.recent_files())

    def _build_menus(self, exporter: Exporter) -> None:
        bar = self._main.menuBar()
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
        edit_menu.addActions([self.select_all, self.select_none, self.draw_face, self.remove_face])
        edit_menu.addSeparator()
        edit_menu.addAction(self.reset)

        view_menu = bar.addMenu("&View")
        view_menu.addActions(list(self.modes.values()))
        view_menu.addSeparator()
        view_menu.addActions([self.zoom_in, self.zoom_out, self.fit, self.actual])
        view_menu.addSeparator()
        view_menu.addActions([self.boxes, self.masks])
        view_menu.addActions([dock.toggleViewAction() for dock in self._docks])

        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.shortcuts_help, self.about])

    def _build_toolbar(self, exporter: Exporter) -> None:
        toolbar = self._main.addToolBar("Main")
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
        self.recent_menu.clear()
        for path in recent:
            action = self.recent_menu.addAction(path.name, functools.partial(self._open_paths, [path]))
            action.setToolTip(str(path))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear Recent", self._clear_recent)

    def _clear_recent(self) -> None:
        self._store.clear_recent_files()
        self.show_recent([])

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(shortcut_rows(), self._main)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _show_about(self) -> AboutDialog:
        dialog = AboutDialog(self._engine_description(), self._main)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog
