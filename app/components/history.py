"""Undo and redo of settings changes: a list of (before, after) ``Settings`` steps.

Settings are frozen, so a step is two references. Consecutive edits of the same control
merge into one step until the control is let go (``seal``), so dragging a slider is undone
in one go. An edit that ends where it started is dropped. The clean point is the step whose
settings were last exported (or the photo as opened): back there, nothing is unexported.
The rules are QUndoStack's (a merge never reaches across the clean point; a new edit after
undos drops the redo steps, and the clean point with them when it was among them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from restore_core.params import Settings

from .events import Event

#: why the current settings changed
Origin = Literal["edit", "undo", "redo", "amend", "reset"]


@dataclass
class _Step:
    before: Settings
    after: Settings
    key: str  # the control that made it; "" never merges
    text: str
    sealed: bool = False

    def absorbs(self, key: str) -> bool:
        return bool(key) and key == self.key and not self.sealed


class SettingsHistory:
    """The current ``Settings`` and how they got there."""

    def __init__(self, initial: Settings) -> None:
        self._current = initial
        self._steps: list[_Step] = []
        self._done = 0  # steps[:done] are applied; steps[done:] can be redone
        self._clean: int | None = 0  # ``done`` at the clean point; None once that point is gone
        #: the new current Settings, and why
        self.changed: Event[[Settings, Origin]] = Event()
        #: what undo and redo would do (``can_undo``, ``undo_text``...) or the clean state may differ
        self.steps_changed: Event[[]] = Event()

    @property
    def current(self) -> Settings:
        return self._current

    # ---------------------------------------------------------------- what undo/redo would do
    @property
    def count(self) -> int:
        return len(self._steps)

    @property
    def can_undo(self) -> bool:
        return self._done > 0

    @property
    def can_redo(self) -> bool:
        return self._done < len(self._steps)

    @property
    def undo_text(self) -> str:
        return self._steps[self._done - 1].text if self.can_undo else ""

    @property
    def redo_text(self) -> str:
        return self._steps[self._done].text if self.can_redo else ""

    @property
    def is_clean(self) -> bool:
        return self._done == self._clean

    def set_clean(self) -> None:
        """The current settings are saved (exported): undoing back here leaves nothing unsaved."""
        self._clean = self._done
        self.steps_changed.emit()

    # ---------------------------------------------------------------- changing
    def push(self, settings: Settings, key: str = "", text: str = "Change settings") -> None:
        """Make ``settings`` current as an undoable step; ``key`` names the control for merging."""
        if settings == self._current:
            return
        before = self._current
        del self._steps[self._done :]
        if self._clean is not None and self._clean > self._done:
            self._clean = None  # the exported state was undone and is now overwritten
        last = self._steps[-1] if self._steps else None
        if last is not None and last.absorbs(key) and self._done != self._clean:
            last.after = settings
            if last.after == last.before:  # dragged back to the start: no step at all
                self._steps.pop()
                self._done -= 1
        else:
            self._steps.append(_Step(before, settings, key, text))
            self._done += 1
        self._apply(settings, "edit")
        self.steps_changed.emit()

    def seal(self) -> None:
        """The current control edit is finished: the next edit starts a new undo step."""
        if self.can_undo:
            self._steps[self._done - 1].sealed = True

    def undo(self) -> None:
        if self.can_undo:
            self._done -= 1
            self._apply(self._steps[self._done].before, "undo")
            self.steps_changed.emit()

    def redo(self) -> None:
        if self.can_redo:
            self._done += 1
            self._apply(self._steps[self._done - 1].after, "redo")
            self.steps_changed.emit()

    def amend(self, settings: Settings) -> None:
        """Correct the current settings in place, without an undo step of its own (e.g. face
        indices carried over to a new detection): undo and redo then return to the corrected value."""
        if self.can_undo and self._steps[self._done - 1].after == self._current:
            self._steps[self._done - 1].after = settings
        self._apply(settings, "amend")

    def reset(self, settings: Settings) -> None:
        """A new image: forget the steps of the previous one (clean: nothing to export yet)."""
        self._steps.clear()
        self._done = 0
        self._clean = 0
        self._apply(settings, "reset")
        self.steps_changed.emit()

    def _apply(self, settings: Settings, origin: Origin) -> None:
        if settings != self._current:
            self._current = settings
            self.changed.emit(settings, origin)
