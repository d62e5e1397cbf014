"""Every command of the main window, with its menu text, shortcuts and status tip, in one table;
the keyboard shortcuts help is generated from it (with the mouse and key gestures that are
not actions), so the help always says what the keys do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from .components.viewport import ViewMode

Key = str | QKeySequence.StandardKey
_std = QKeySequence.StandardKey


@dataclass(frozen=True)
class ActionSpec:
    text: str  # the menu text, with its mnemonic
    keys: tuple[Key, ...] = ()  # the first is the one menus show
    tip: str = ""  # the status bar's text while the pointer is over it
    help: str = ""  # what the shortcuts help calls it (default: the menu text)

    @property
    def name(self) -> str:
        return self.help or self.text.replace("&", "").rstrip("…")


#: a view mode's action is ``mode_<value>``
VIEW_MODE_TEXTS = {
    ViewMode.SPLIT: "&Split Before/After",
    ViewMode.SIDE_BY_SIDE: "Side by Si&de",
    ViewMode.BEFORE: "&Before Only",
    ViewMode.AFTER: "&After Only",
}

ACTIONS: dict[str, ActionSpec] = {
    "open": ActionSpec("&Open…", (_std.Open,), "Open a photo"),
    "paste": ActionSpec("&Paste Photo", (_std.Paste,), "Open the photo on the clipboard", "Paste a photo"),
    "export": ActionSpec("&Export…", ("Ctrl+S",), "Save the restored photo", "Export the restored photo"),
    "export_comparison": ActionSpec(
        "Export &Comparison…", ("Ctrl+Shift+S",), "Save a before/after image", "Export a before/after comparison"
    ),
    "export_faces": ActionSpec("Export &Faces JSON…", (), "Save the faces and settings"),
    "batch": ActionSpec("&Batch…", ("Ctrl+B",), "Restore many photos", "Restore many photos (batch)"),
    "models": ActionSpec("&Models…", (), "Download and manage model weights"),
    "quit": ActionSpec("&Quit", (_std.Quit,)),
    "undo": ActionSpec("&Undo", ("Ctrl+Z",)),
    "redo": ActionSpec("&Redo", ("Ctrl+Shift+Z", "Ctrl+Y")),
    "select_all": ActionSpec("Restore &All Faces", ("Ctrl+A",)),
    "select_none": ActionSpec("Restore &No Faces", ("Ctrl+Shift+A",)),
    "reset": ActionSpec("Reset Settings to &Defaults"),
    "draw_face": ActionSpec(
        "&Draw a Missed Face",
        ("D",),
        "Drag a box around a face the detector missed (Esc cancels)",
        "Draw a box around a missed face",
    ),
    "remove_face": ActionSpec(
        "Remo&ve Face (Not a Face)",
        (_std.Delete, "Backspace"),
        "Leave the face chosen in the face list out of this photo",
        "Remove the chosen face (not a face)",
    ),
    **{
        f"mode_{mode.value}": ActionSpec(text, (f"Ctrl+{number}",))
        for number, (mode, text) in enumerate(VIEW_MODE_TEXTS.items(), start=1)
    },
    "zoom_in": ActionSpec("Zoom &In", ("+", "=", _std.ZoomIn)),
    "zoom_out": ActionSpec("Zoom &Out", ("-", _std.ZoomOut)),
    "fit": ActionSpec("&Fit in Window", ("0",)),
    "actual": ActionSpec("&Actual Pixels (100%)", ("1",)),
    "boxes": ActionSpec("Show Face &Boxes", ("B",), help="Show or hide the face boxes"),
    "masks": ActionSpec(
        "Show Blend &Masks",
        ("M",),
        "Tint where each restored face is blended into the photo",
        "Show or hide where each face is blended in",
    ),
    "shortcuts_help": ActionSpec("&Keyboard Shortcuts"),
    "about": ActionSpec("&About Facemend"),
}

#: what the keyboard and mouse do besides the actions: (gesture, what it does)
GESTURES = (
    ("Space (hold)", "Show the original"),
    ("Click a face box", "Include or exclude that face"),
    ("Right-click a face box", "Exclude, pair a reference or remove that face"),
    ("Drop a photo on a face box", "Use it as that face's reference"),
    ("Wheel", "Zoom about the pointer"),
)


def key_sequences(spec: ActionSpec, *, primary_only: bool = False) -> list[QKeySequence]:
    """The spec's shortcuts; a standard key stands for this platform's bindings of it (only its
    main one with ``primary_only``: the help leaves out Shift+Ins, media keys and the like)."""
    keys: list[QKeySequence] = []
    for key in spec.keys:
        if isinstance(key, QKeySequence.StandardKey):
            bindings = QKeySequence.keyBindings(key)
            keys.extend(bindings[:1] if primary_only else bindings)
        else:
            keys.append(QKeySequence(key))
    return keys


def make_action(name: str, parent: QWidget, slot: Callable[[], object] | None = None) -> QAction:
    """The QAction of ``ACTIONS[name]``, triggering ``slot``; added to ``parent`` too, so its
    shortcuts work whether or not a menu shows it."""
    action = QAction(parent)
    configure(action, name)
    if slot is not None:
        action.triggered.connect(lambda _checked=False: slot())
    parent.addAction(action)
    return action


def configure(action: QAction, name: str) -> None:
    """Text, shortcuts and tip of ``ACTIONS[name]`` on an action made elsewhere (undo, redo)."""
    spec = ACTIONS[name]
    action.setText(spec.text)
    action.setShortcuts(key_sequences(spec))
    action.setStatusTip(spec.tip)


def shortcut_text(name: str) -> str:
    """The first shortcut of ``ACTIONS[name]`` as this platform writes it, for messages."""
    keys = key_sequences(ACTIONS[name])
    return keys[0].toString(QKeySequence.SequenceFormat.NativeText) if keys else ""


def shortcut_rows() -> list[tuple[str, str]]:
    """The shortcuts help: (keys as this platform writes them, what they do), every action with
    a shortcut in the table's order, then the gestures."""
    rows = []
    for spec in ACTIONS.values():
        keys = key_sequences(spec, primary_only=True)
        if keys:
            rows.append((", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys), spec.name))
    return rows + list(GESTURES)
