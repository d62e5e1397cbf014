"""Undo and Redo as QActions over the Qt-free ``SettingsHistory``: a thin adapter."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from .actions import ACTIONS, configure
from .components import SettingsHistory


class HistoryActions:
    """The Edit menu's Undo and Redo name their step ("&Undo Strength"); the toolbar's copies
    keep fixed labels, so the toolbar does not shift as the text changes, and name the step in
    their tooltips. All are enabled only when there is a step to undo or redo."""

    def __init__(self, history: SettingsHistory, parent: QWidget) -> None:
        self._history = history
        self.undo = QAction(parent)
        self.redo = QAction(parent)
        configure(self.undo, "undo")
        configure(self.redo, "redo")
        self.toolbar_undo = QAction(ACTIONS["undo"].name, parent)
        self.toolbar_redo = QAction(ACTIONS["redo"].name, parent)
        for action in (self.undo, self.toolbar_undo):
            action.triggered.connect(lambda _checked=False: history.undo())
        for action in (self.redo, self.toolbar_redo):
            action.triggered.connect(lambda _checked=False: history.redo())
        history.steps_changed.connect(self._update)
        self._update()

    def _update(self) -> None:
        h = self._history
        for menu, toolbar, name, possible, step in (
            (self.undo, self.toolbar_undo, "undo", h.can_undo, h.undo_text),
            (self.redo, self.toolbar_redo, "redo", h.can_redo, h.redo_text),
        ):
            spec = ACTIONS[name]
            menu.setText(f"{spec.text} {step}" if step else spec.text)
            toolbar.setToolTip(f"{spec.name} {step}" if step else spec.name)
            menu.setEnabled(possible)
            toolbar.setEnabled(possible)
