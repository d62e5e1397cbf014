"""The photo being restored and everything chosen for it, without Qt.

A ``PhotoSession`` holds the open photo, the face lists found in it (one per detection
settings), which of them the settings' face indices refer to (the basis), the settings with
their undo history, and, while another photo opens, what to put back if it fails to open.
Face indices follow the faces: across a re-detection and across undo and redo to a state
made for another detection.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from restore_core.faces import DetectedFace
from restore_core.params import DetectionSettings, Settings

from .events import Event
from .history import Origin, SettingsHistory
from .photo import Detection, ImageRef
from .selection import remap_faces

if TYPE_CHECKING:
    from restore_core.engine import RenderResult
    from restore_core.models import ModelSpec

Faces = tuple[DetectedFace, ...]


def uses_model(settings: Settings, name: str) -> bool:
    return settings.face.model == name or any(o.model == name for _, o in settings.overrides)


@dataclass(frozen=True)
class _Backup:
    """The open photo's state while another one opens: put back if that one fails to open."""

    image: ImageRef | None
    faces: Faces
    face_lists: dict[DetectionSettings, Faces]
    basis: DetectionSettings | None
    last_result: RenderResult | None


class PhotoSession:
    def __init__(self, settings: Settings) -> None:
        self.history = SettingsHistory(settings)
        self._image: ImageRef | None = None
        self._image_ids = 0
        #: while a photo opens: its settings (no per-face choices); the history resets only once it opened
        self._opening_settings: Settings | None = None
        #: while a photo opens: the photo before it
        self._previous_state: _Backup | None = None
        #: face lists of the photo by detection settings; ``_basis`` is the detection whose
        #: face list the indices in the current settings refer to
        self._face_lists: dict[DetectionSettings, Faces] = {}
        self._basis: DetectionSettings | None = None
        self._faces: Faces = ()
        self.last_result: RenderResult | None = None  # the latest render shown
        self.export_suffix = ".png"  # the opened photo's default export extension
        self.photo_notes: tuple[str, ...] = ()  # the open photo's conversions, said when it opened
        self._notes_said: set[str] = set()
        #: the face list the settings refer to is another one (detection, undo, redo); with the settings
        self.faces_changed: Event[[Faces, Settings]] = Event()
        #: the settings changed (after ``faces_changed`` when both did), and why
        self.settings_changed: Event[[Settings, Origin]] = Event()
        self.history.changed.connect(self._on_history_changed)

    # ---------------------------------------------------------------- what is open
    @property
    def settings(self) -> Settings:
        return self._opening_settings or self.history.current

    @property
    def image(self) -> ImageRef | None:
        return self._image

    @property
    def faces(self) -> Faces:
        return self._faces

    @property
    def has_unexported_edits(self) -> bool:
        """Edits made since the photo opened or was last exported (undoing them all counts as none)."""
        return self._image is not None and not self.history.is_clean

    # ---------------------------------------------------------------- opening
    def begin_open(self, path: Path) -> ImageRef:
        """A photo starts to open: face choices belong to one photo, but the history of the open
        one is kept until the new one has decoded, so a file that fails to open loses nothing."""
        if self._opening_settings is None:  # a second open before the first decoded keeps the first's backup
            self._previous_state = _Backup(self._image, self._faces, self._face_lists, self._basis, self.last_result)
        self._opening_settings = self.history.current.for_another_photo()
        self._image_ids += 1
        self._image = ImageRef(self._image_ids, path)
        self._faces, self._face_lists, self._basis, self.last_result = (), {}, None, None
        return self._image

    def opened(self, image: ImageRef, export_suffix: str) -> bool:
        """The photo decoded; False when it is not the one opening now (a newer open overtook it)."""
        if self._image is None or image.id != self._image.id:
            return False
        if self._opening_settings is not None:  # the reset is no edit: nothing to export yet
            fresh, self._opening_settings, self._previous_state = self._opening_settings, None, None
            self.history.reset(fresh)
        self.export_suffix = export_suffix
        return True

    def open_failed(self) -> ImageRef | None:
        """The photo opening failed: the one before it comes back with its faces and result (the
        settings and undo steps were never touched). Returns the photo that failed."""
        failed = self._image
        self._opening_settings = None
        if (previous := self._previous_state) is not None:
            self._image, self._faces, self._face_lists = previous.image, previous.faces, previous.face_lists
            self._basis, self.last_result = previous.basis, previous.last_result
            self._previous_state = None
        return failed

    # ---------------------------------------------------------------- faces
    def detected(self, detection: Detection) -> bool:
        """Faces found in the photo; face choices move over to them. False for another photo's."""
        if self._image is None or detection.image.id != self._image.id:
            return False
        faces = detection.faces
        self._face_lists[detection.settings] = faces
        first = self._basis is None
        old_faces = self._face_lists.get(self._basis, ()) if self._basis is not None else ()
        self._basis = detection.settings
        if faces != self._faces or first:
            self._faces = faces
            self.faces_changed.emit(faces, self.settings)
        if old_faces != faces:
            remapped = remap_faces(self.settings, old_faces, faces)
            if remapped != self.settings:
                self.history.amend(remapped)
        return True

    def _on_history_changed(self, settings: Settings, origin: Origin) -> None:
        if origin in ("undo", "redo"):
            # a stored state's face indices refer to its own detection's faces
            faces = self._face_lists.get(settings.detection)
            if faces is not None:
                self._basis = settings.detection
                if faces != self._faces:
                    self._faces = faces
                    self.faces_changed.emit(faces, settings)
        self.settings_changed.emit(settings, origin)

    # ---------------------------------------------------------------- edits and exports
    def models_newly_used(self, settings: Settings) -> list[ModelSpec]:
        """The models with a licence notice that ``settings`` would start using."""
        from restore_core.models import MODELS

        return [
            spec
            for name, spec in MODELS.items()
            if spec.licence_notice and uses_model(settings, name) and not uses_model(self.settings, name)
        ]

    def unseen_model_notes(self, notes: tuple[str, ...]) -> list[str]:
        """A render's notes not said yet (model files that are not the published ones): each is
        said once per session; the photo's own notes were said when it opened."""
        new = [n for n in notes if n not in self.photo_notes and n not in self._notes_said]
        self._notes_said.update(new)
        return new

    def exported(self, settings: Settings | None) -> None:
        """An export of the restored photo with ``settings`` succeeded: saved, if they are current."""
        if settings is not None and settings == self.history.current:
            self.history.set_clean()
