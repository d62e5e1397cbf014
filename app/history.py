"""Undo and redo of settings changes: a QUndoStack of (before, after) ``Settings`` pairs.

Settings are frozen, so a command is two references. Consecutive edits of the same control
merge into one step until the control is let go (``seal``), so dragging a slider is undone
in one go. An edit that ends where it started is dropped from the stack.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from restore_core.params import Settings

_MERGE_IDS: dict[str, int] = {}


def _merge_id(key: str) -> int:
    return _MERGE_IDS.setdefault(key, len(_MERGE_IDS) + 1)


class _SetSettings(QUndoCommand):
    def __init__(self, history: SettingsHistory, before: Settings, after: Settings, key: str, text: str) -> None:
        super().__init__(text)
        self._history = history
        self.before = before
        self.after = after
        self.key = key
        self.sealed = False

    def id(self) -> int:
        return _merge_id(self.key) if self.key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if self.sealed or not isinstance(other, _SetSettings) or other.key != self.key:
            return False
        self.after = other.after
        self.setObsolete(self.after == self.before)
        return True

    def redo(self) -> None:
        self._history._apply(self.after, "edit" if self._history._pushing else "redo")

    def undo(self) -> None:
        self._history._apply(self.before, "undo")


class SettingsHistory(QObject):
    """The current ``Settings`` and how they got there."""

    #: the new current Settings, and why: "edit", "undo", "redo", "amend" or "reset"
    changed = Signal(object, str)

    def __init__(self, initial: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current = initial
        self._pushing = False
        self.stack = QUndoStack(self)

    @property
    def current(self) -> Settings:
        return self._current

    def push(self, settings: Settings, key: str = "", text: str = "Change settings") -> None:
        """Make ``settings`` current as an undoable step; ``key`` names the control for merging."""
        if settings == self._current:
            return
        self._pushing = True
        try:
            self.stack.push(_SetSettings(self, self._current, settings, key, text))
        finally:
            self._pushing = False

    def seal(self) -> None:
        """The current control edit is finished: the next edit starts a new undo step."""
        command = self.stack.command(self.stack.index() - 1)
        if isinstance(command, _SetSettings):
            command.sealed = True

    def amend(self, settings: Settings) -> None:
        """Correct the current settings in place, without an undo step of its own (e.g. face
        indices carried over to a new detection): undo and redo then return to the corrected value."""
        command = self.stack.command(self.stack.index() - 1)
        if isinstance(command, _SetSettings) and command.after == self._current:
            command.after = settings
        self._apply(settings, "amend")

    def reset(self, settings: Settings) -> None:
        """A new image: forget the steps of the previous one."""
        self.stack.clear()
        self._apply(settings, "reset")

    def _apply(self, settings: Settings, origin: str) -> None:
        if settings != self._current:
            self._current = settings
            self.changed.emit(settings, origin)
