"""The face panel: one row per detected face (original and restored thumbnails, included or
not) and an editor for the chosen face's own settings and reference photo.

Like the controls, it only reports what the user asked for; the window turns that into
``Settings`` changes (``Settings.with_override``) and renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QIcon, QImageReader, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from restore_core.faces import DetectedFace
from restore_core.params import FaceOverride, Settings, field_range

from .controls import MODEL_CHOICES, tip
from .files import local_files
from .qimage import rgb8_to_qimage
from .widgets import ValueSlider, compact_combo, fill_combo, panel_form, select_data

#: how each blend mask is said in the face list
MASK_NAMES = {"parsing": "parsed face", "box": "box blend"}
THUMB = 64  # logical pixels per thumbnail in the list
MODEL_NAMES = dict(MODEL_CHOICES)


def _thumb_pair(original: Any, restored: Any) -> QIcon:
    """Original and restored thumbnails side by side in one icon (restored blank until ready)."""
    dpr = 2.0  # drawn at twice the size so the icon stays sharp on high-DPI screens
    pixmap = QPixmap(round(2 * THUMB * dpr + 4 * dpr), round(THUMB * dpr))
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    size = round(THUMB * dpr)
    for slot, pixels in enumerate((original, restored)):
        x = slot * (size + round(4 * dpr))
        if pixels is None:
            painter.fillRect(x, 0, size, size, QColor(70, 70, 74))
        else:
            painter.drawImage(QRect(x, 0, size, size), rgb8_to_qimage(pixels))
    painter.end()
    pixmap.setDevicePixelRatio(dpr)
    return QIcon(pixmap)


#: Item data of the "best face" choice (QComboBox cannot find None among its items' data).
_BEST_FACE = -1


def _face_choice(combo: QComboBox) -> int | None:
    data = combo.currentData()
    return None if data is None or data == _BEST_FACE else int(data)


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


CAPTION_WIDTH = 150  # px of a reference photo's name shown beside its thumbnail


class ReferenceSlot(QFrame):
    """Shows the reference photo of a face; accepts a dropped file."""

    dropped = Signal(Path)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumHeight(72)
        self.picture = QLabel()
        self.picture.setFixedSize(64, 64)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        # A long file name must not widen the panel: it is elided, and whole in the tooltip.
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.addWidget(self.picture)
        layout.addWidget(self.caption, 1)
        self.show_reference(None)

    def show_reference(self, path: str | None) -> None:
        self.picture.setVisible(path is not None)  # no empty square beside the hint
        if path is None:
            self.picture.clear()
            self.caption.setText("No reference photo. Drop a sharper photo of the same person here or on the face box.")
            return
        reader = QImageReader(path)
        reader.setAutoTransform(True)
        size = reader.size()
        if size.isValid():
            reader.setScaledSize(size.scaled(QSize(64, 64), Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        if image.isNull():
            self.picture.setText("?")
        else:
            self.picture.setPixmap(QPixmap.fromImage(image))
        metrics = self.caption.fontMetrics()
        self.caption.setText(metrics.elidedText(Path(path).name, Qt.TextElideMode.ElideMiddle, CAPTION_WIDTH))
        self.caption.setToolTip(path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if len(local_files(event.mimeData().urls())) == 1:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        files = local_files(event.mimeData().urls())
        if len(files) == 1:
            event.acceptProposedAction()
            self.dropped.emit(files[0])


class FacePanel(QWidget):
    selection_toggled = Signal(int, bool)
    select_all_requested = Signal()
    select_none_requested = Signal()
    override_edited = Signal(int, dict, str, str)  # face, FaceOverride changes, control key, undo text
    override_finished = Signal()
    reference_dropped = Signal(int, Path)
    reference_browse_requested = Signal(int)
    reference_cleared = Signal(int)
    draw_requested = Signal()  # the user wants to draw a face the detector missed
    remove_requested = Signal(int)  # the face is not a face
    face_menu_requested = Signal(int, QPoint)  # face index, global position of the right click

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._faces: tuple[DetectedFace, ...] = ()
        self._settings = Settings()
        self._renders: dict[int, Any] = {}  # face index -> FaceRender
        layout = QVBoxLayout(self)

        header = QHBoxLayout()
        self.summary = QLabel("No faces")
        all_button = QPushButton("All")
        none_button = QPushButton("None")
        all_button.setToolTip("Restore every face")
        none_button.setToolTip("Restore no face")
        all_button.clicked.connect(self.select_all_requested)
        none_button.clicked.connect(self.select_none_requested)
        header.addWidget(self.summary, 1)
        header.addWidget(all_button)
        header.addWidget(none_button)
        layout.addLayout(header)
        corrections = QHBoxLayout()
        draw_button = QPushButton("Draw Missed Face")
        draw_button.setToolTip("The detector missed a face: drag a box around it on the photo (D)")
        draw_button.clicked.connect(self.draw_requested)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("The chosen face is not a face: leave it out of this photo (Delete)")
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.current_face()))
        corrections.addWidget(draw_button, 1)
        corrections.addWidget(self.remove_button)
        layout.addLayout(corrections)

        self.list = QListWidget()
        self.list.setIconSize(QSize(2 * THUMB + 4, THUMB))
        self.list.setSpacing(2)
        self.list.setToolTip("Every face found: tick a face to restore it, select it to give it its own settings")
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.currentRowChanged.connect(lambda _: self._show_editor())
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._on_list_menu)
        layout.addWidget(self.list, 1)

        layout.addWidget(self._build_editor())
        self._show_editor()

    def _build_editor(self) -> QGroupBox:
        self.editor = QGroupBox("Face")
        form = panel_form(self.editor)
        self.model = compact_combo()
        fill_combo(self.model, [("", "Same as all faces"), *MODEL_CHOICES])
        self.model.currentIndexChanged.connect(
            lambda: self._emit("model", "Face model", model=self.model.currentData() or None)
        )
        self.own_strength = QCheckBox("Own strength")
        self.strength = ValueSlider(*field_range("face", "strength"), 0.01)
        self.own_strength.toggled.connect(
            lambda on: self._emit("own_strength", "Face strength", strength=self.strength.value() if on else None)
        )
        self.strength.edited.connect(lambda v: self._emit("face_strength", "Face strength", strength=v))
        self.strength.released.connect(self.override_finished)
        self.own_creativity = QCheckBox("Own creativity")
        self.creativity = ValueSlider(*field_range("face", "creativity"), 0.01)
        self.own_creativity.toggled.connect(
            lambda on: self._emit(
                "own_creativity", "Face creativity", creativity=self.creativity.value() if on else None
            )
        )
        self.creativity.edited.connect(lambda v: self._emit("face_creativity", "Face creativity", creativity=v))
        self.creativity.released.connect(self.override_finished)
        self.reference = ReferenceSlot()
        self.reference.dropped.connect(lambda path: self.reference_dropped.emit(self.current_face(), path))
        choose = QPushButton("Choose photo…")
        clear = QPushButton("Clear")
        choose.clicked.connect(lambda: self.reference_browse_requested.emit(self.current_face()))
        clear.clicked.connect(lambda: self.reference_cleared.emit(self.current_face()))
        buttons = QHBoxLayout()
        buttons.addWidget(choose)
        buttons.addWidget(clear)
        # Shown when the reference photo holds several faces: which one is the person.
        self.reference_face = compact_combo()
        self.reference_face.currentIndexChanged.connect(
            lambda: self._emit("reference_face", "Reference face", reference_face=_face_choice(self.reference_face))
        )
        self.reference_note = QLabel()
        self.reference_note.setWordWrap(True)
        self.reference_note.setStyleSheet("color: palette(mid); font-size: 90%;")
        self.similarity = QLabel()
        self.model.setToolTip("This face's model; 'Same as all faces' follows the Settings panel")
        self.own_strength.setToolTip("Give this face its own strength instead of the one in Settings")
        self.strength.setToolTip(tip("face", "strength"))
        self.own_creativity.setToolTip("Give this face its own creativity instead of the one in Settings")
        self.creativity.setToolTip(tip("face", "creativity"))
        self.reference.setToolTip("A sharper photo of the same person guides this face's restoration")
        choose.setToolTip("Pick a sharper photo of this person from your files")
        clear.setToolTip("Restore this face without a reference photo")
        self.reference_face.setToolTip("The reference photo shows several people: which one is this person")
        form.addRow("Model", self.model)
        form.addRow(self.own_strength, self.strength)
        form.addRow(self.own_creativity, self.creativity)
        form.addRow("Reference", self.reference)
        form.addRow("", buttons)
        form.addRow("Face in photo", self.reference_face)
        form.addRow(self.reference_note)
        form.addRow(self.similarity)
        self._form = form
        form.setRowVisible(self.reference_face, False)
        return self.editor

    # ---------------------------------------------------------------- content
    def _on_list_menu(self, at: QPoint) -> None:
        row = self.list.indexAt(at).row()
        if row >= 0:
            self.face_menu_requested.emit(row, self.list.viewport().mapToGlobal(at))

    def current_face(self) -> int:
        return self.list.currentRow()

    def set_faces(self, faces: Sequence[DetectedFace], settings: Settings) -> None:
        """A new face list (new photo or re-detection): thumbnails come with the next render."""
        self._faces = tuple(faces)
        self._renders = {}
        self._settings = settings
        blocked = self.list.blockSignals(True)
        self.list.clear()
        for index in range(len(self._faces)):
            item = QListWidgetItem(self._row_text(index))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if settings.is_selected(index) else Qt.CheckState.Unchecked)
            item.setIcon(_thumb_pair(None, None))
            self.list.addItem(item)
        if self._faces:
            self.list.setCurrentRow(0)
        self.list.blockSignals(blocked)
        self.show_settings(settings)

    def set_renders(self, renders: Sequence[Any]) -> None:
        """Thumbnails and resolved models from a ``RenderResult``'s ``faces``.

        Icons are redrawn only for faces whose thumbnails changed: a strength or grain change
        leaves them alone, so a crowd of hundreds of faces stays cheap to update.
        """
        previous = self._renders
        self._renders = {r.index: r for r in renders}
        blocked = self.list.blockSignals(True)
        for render in renders:
            self._show_render(render, previous.get(render.index))
        self.list.blockSignals(blocked)
        self._show_similarity()

    def show_render(self, render: Any) -> None:
        """One face restored in the render under way (a ``FaceDone``'s ``render``): its thumbnail
        fills in at once, the others stay as they are."""
        old = self._renders.get(render.index)
        self._renders[render.index] = render
        blocked = self.list.blockSignals(True)
        self._show_render(render, old)
        self.list.blockSignals(blocked)

    def _show_render(self, render: Any, old: Any) -> None:
        item = self.list.item(render.index)
        if item is None:
            return
        if old is None or not (
            _same(old.original_thumb, render.original_thumb) and _same(old.restored_thumb, render.restored_thumb)
        ):
            item.setIcon(_thumb_pair(render.original_thumb, render.restored_thumb))
        item.setText(self._row_text(render.index))

    def set_reference_note(self, text: str) -> None:
        self.reference_note.setText(text)

    def show_settings(self, settings: Settings) -> None:
        self._settings = settings
        blocked = self.list.blockSignals(True)
        for index in range(self.list.count()):
            item = self.list.item(index)
            item.setCheckState(Qt.CheckState.Checked if settings.is_selected(index) else Qt.CheckState.Unchecked)
            item.setText(self._row_text(index))
        self.list.blockSignals(blocked)
        count = len(self._faces)
        chosen = sum(settings.is_selected(i) for i in range(count))
        self.summary.setText(f"{count} face{'s' if count != 1 else ''}, {chosen} to restore" if count else "No faces")
        self._show_editor()

    def _row_text(self, index: int) -> str:
        face = self._faces[index]
        found = (
            "by hand" if self._settings.detection.drew(face.box) else f"score {face.score:.2f}"
        )  # short: the list is narrow
        lines = [f"Face {index + 1}", f"{found}, {face.size:.0f} px"]
        render = self._renders.get(index)
        if render is not None and render.model:
            lines.append(MODEL_NAMES.get(render.model, render.model) + (" (preview)" if render.preview else ""))
            if render.mask in MASK_NAMES:
                lines.append(MASK_NAMES[render.mask])
        if dict(self._settings.overrides).get(index, FaceOverride()) != FaceOverride():
            lines[0] += "  (own settings)"
        return "\n".join(lines)

    # ---------------------------------------------------------------- editor
    def _show_editor(self) -> None:
        index = self.current_face()
        self.editor.setEnabled(0 <= index < len(self._faces))
        self.remove_button.setEnabled(self.editor.isEnabled())
        if not self.editor.isEnabled():
            self.editor.setTitle("Face")
            self.reference.show_reference(None)
            return
        self.editor.setTitle(f"Face {index + 1}")
        override = dict(self._settings.overrides).get(index, FaceOverride())
        resolved = self._settings.for_face(index)
        widgets = [self.model, self.own_strength, self.own_creativity]
        blocked = [w.blockSignals(True) for w in widgets]
        select_data(self.model, override.model or "")
        self.own_strength.setChecked(override.strength is not None)
        self.own_creativity.setChecked(override.creativity is not None)
        for widget, was in zip(widgets, blocked, strict=True):
            widget.blockSignals(was)
        self.strength.set_value(resolved.strength)
        self.creativity.set_value(resolved.creativity)
        self.strength.setEnabled(override.strength is not None)
        self.creativity.setEnabled(override.creativity is not None)
        self.reference.show_reference(resolved.reference)
        self._show_similarity()

    def _show_similarity(self) -> None:
        """The identity similarity and the reference face choice: both known once rendered."""
        render = self._renders.get(self.current_face())
        if render is not None and render.similarity is not None:
            self.similarity.setText(f"Identity similarity to the reference: {render.similarity:.2f}")
        else:
            self.similarity.clear()
        count = render.reference_faces if render is not None else 0
        self._form.setRowVisible(self.reference_face, count > 1)
        if render is not None and count > 1:
            blocked = self.reference_face.blockSignals(True)
            if self.reference_face.count() != count + 1:
                self.reference_face.clear()
                self.reference_face.addItem("Best face", _BEST_FACE)
                for k in range(count):
                    self.reference_face.addItem(f"Face {k + 1} of {count}", k)
            chosen = self._settings.for_face(self.current_face()).reference_face
            if chosen is None and render.reference_face is not None:  # say which face "best" is
                self.reference_face.setItemText(0, f"Best face ({render.reference_face + 1} of {count})")
            self.reference_face.blockSignals(blocked)
            select_data(self.reference_face, _BEST_FACE if chosen is None else chosen)

    def _emit(self, key: str, text: str, **changes: Any) -> None:
        index = self.current_face()
        if index < 0:
            return
        if "strength" in changes:
            self.strength.setEnabled(self.own_strength.isChecked())
        if "creativity" in changes:
            self.creativity.setEnabled(self.own_creativity.isChecked())
        self.override_edited.emit(index, changes, key, f"{text} (face {index + 1})")

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        self.selection_toggled.emit(self.list.row(item), item.checkState() == Qt.CheckState.Checked)
