"""The app's state without Qt (napari's ``components/`` under its ``_qt/``): the open photo, its
faces, its settings and their undo history. The widgets show this state and turn the user's
gestures into calls on it; import-linter keeps Qt out of this package."""

from .events import Event
from .history import Origin, SettingsHistory
from .photo import Detection, ImageRef, RenderView
from .session import PhotoSession

__all__ = ["Detection", "Event", "ImageRef", "Origin", "PhotoSession", "RenderView", "SettingsHistory"]
