"""Small widgets shared by the panels."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)


class ValueSlider(QWidget):
    """A horizontal slider over a float range with its value shown beside it.

    ``edited`` fires on every user change (drag, keys, clicks), ``released`` when the user
    lets go, so callers can merge a whole drag into one undo step. ``set_value`` is silent.
    """

    edited = Signal(float)
    released = Signal()

    def __init__(self, lo: float, hi: float, step: float, decimals: int = 2, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lo, self._step, self._decimals = lo, step, decimals
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, round((hi - lo) / step))
        self.slider.setPageStep(max(1, self.slider.maximum() // 10))
        self._label = QLabel()
        self._label.setMinimumWidth(36)
        self._label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self._label)
        self.slider.valueChanged.connect(self._on_changed)
        self.slider.sliderReleased.connect(self.released)
        self._silent = False
        self._show(self.value())

    def value(self) -> float:
        return round(self._lo + self.slider.value() * self._step, 6)

    def set_value(self, value: float) -> None:
        self._silent = True
        try:
            self.slider.setValue(round((value - self._lo) / self._step))
        finally:
            self._silent = False
        self._show(self.value())

    def _on_changed(self, _: int) -> None:
        value = self.value()
        self._show(value)
        if not self._silent:
            self.edited.emit(value)

    def _show(self, value: float) -> None:
        self._label.setText(f"{value:.{self._decimals}f}")


def panel_form(box: QWidget) -> QFormLayout:
    """A side panel's form: when the panel is narrow, a field goes below its label instead of
    making the panel (and so the window) wider."""
    form = QFormLayout(box)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return form


def compact_combo() -> QComboBox:
    """A combo box whose width does not follow its longest item, so the side panels keep their
    width and can be narrow; the popup still shows every item whole."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(10)
    return combo


def fill_combo(combo: QComboBox, items: list[tuple[str, str]]) -> None:
    """(value, label) pairs; the value is the item data."""
    for value, label in items:
        combo.addItem(label, value)


def select_data(combo: QComboBox, value: object) -> None:
    """Show the item whose data is ``value`` without emitting the user-edit signals."""
    blocked = combo.blockSignals(True)
    combo.setCurrentIndex(max(0, combo.findData(value)))
    combo.blockSignals(blocked)


MESSAGE_LINES = 4  # the most lines the message bar takes


class MessageBar(QFrame):
    """A dismissable notice above the canvas, with optional action buttons (non-modal)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel()
        self.label.setWordWrap(True)
        # long unbreakable text (paths, URLs) must wrap, not widen the window and squeeze the docks
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # in a narrow window a long notice must not push the photo off the canvas: a few lines
        # show, the whole text is in the tooltip
        self.label.setMaximumHeight(self.label.fontMetrics().lineSpacing() * MESSAGE_LINES)
        self._buttons: list[QPushButton] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(10, 6, 6, 6)
        self._layout.addWidget(self.label, 1)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        self._layout.addWidget(close)
        self.is_error = False
        self.hide()

    def show_message(
        self, text: str, *, error: bool = False, actions: Sequence[tuple[str, Callable[[], object]]] = ()
    ) -> None:
        for button in self._buttons:
            button.deleteLater()
        self._buttons = []
        for label, callback in actions:
            button = QPushButton(label)
            button.clicked.connect(callback)
            self._layout.insertWidget(self._layout.count() - 1, button)
            self._buttons.append(button)
        self.label.setText(text)
        self.label.setToolTip(text)  # a long path or hash may be clipped in the bar
        self.is_error = error
        background = "#5c2b29" if error else "#2d4a63"
        self.setStyleSheet(f"#messageBar {{ background: {background}; }} #messageBar QLabel {{ color: #f2f2f2; }}")
        self.show()


class ShortcutsDialog(QDialog):
    """Help > Keyboard Shortcuts: a two-column table of keys and what they do."""

    def __init__(self, rows: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Keys", "Action"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for row, cells in enumerate(rows):
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(520, 560)
