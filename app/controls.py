"""The settings panel: detection, restoration, film grain and output controls.

The panel shows a ``Settings`` value and turns every user edit into a new one, emitted as
``edited(settings, key, description)``; ``key`` names the control so the undo history can
merge one slider drag into one step. It never renders anything itself.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from restore_core.models import MODELS
from restore_core.params import Settings, field_info, field_range

from .widgets import ValueSlider, compact_combo, fill_combo, panel_form, select_data


def _labelled(section: str | None, name: str, labels: dict[str, str]) -> list[tuple[str, str]]:
    """The choices params.py declares for ``section.name``, with their labels here (every
    choice must have one: a new choice without a label fails at start-up and in the tests)."""
    choices = field_info(section, name).choices or ()
    return [(choice, labels[choice]) for choice in choices]


#: the registry's face models, between "auto" and no model
MODEL_CHOICES = [
    ("auto", "Auto (per face)"),
    *((spec.name, spec.title) for spec in MODELS.values() if spec.kind == "face"),
    ("passthrough", "None (colour and grain only)"),
]
DETECTOR_CHOICES = _labelled(
    "detection",
    "detector",
    {
        "auto": "Best installed",
        "retinaface_resnet50": "RetinaFace ResNet-50",
        "retinaface_mobile0.25": "RetinaFace MobileNet (fast)",
    },
)
BACKEND_CHOICES = _labelled(
    None,
    "backend",
    {
        "auto": "Automatic",
        "torch": "PyTorch",
        "openvino": "OpenVINO (CPUs, Intel GPUs)",
        "onnxruntime": "ONNX Runtime",
    },
)
GRAIN_CHOICES = _labelled(
    "grain", "model", {"silver": "Silver halide (film)", "gaussian": "Colour noise", "grey": "Grey noise"}
)
GRAIN_SCOPES = _labelled("grain", "scope", {"faces": "Restored faces", "image": "Whole image"})


#: What creativity does with each model (the parameter means different things per model).
CREATIVITY_HELP = {
    "auto": "Realistic (0) to creative (1). CodeFormer: fidelity w = 1 - creativity; "
    "GFPGAN: softens the face first so the model relies more on its prior.",
    "gfpgan": "GFPGAN has no fidelity input: creativity blurs and adds noise to the face before the "
    "model, so it leans more on its face prior.",
    "codeformer": "CodeFormer fidelity weight w = 1 - creativity: 0 keeps the identity closest, "
    "1 trusts the face prior most.",
    "passthrough": "No face model: creativity has no effect.",
}


#: Tooltips in plain words where a setting's own doc (params.py: the command line's help) is
#: written for a shell; every other control's tooltip is its setting's doc.
PLAIN_TIPS = {
    ("detection", "detector"): "The network that finds the faces. MobileNet is fast; ResNet-50 finds more "
    "small, turned and half-hidden faces",
    (None, "backend"): "What runs the face models. Automatic picks the fastest on this computer; the first use "
    "of OpenVINO or ONNX Runtime prepares each model once",
    ("face", "model"): "Which face model restores the faces. Auto picks one per face among the installed models",
    ("grain", "enabled"): "Add film grain, so restored faces match the texture of the photo around them",
    ("grain", "model"): "The kind of grain: film-like silver halide, or plain colour or grey noise",
    ("grain", "density"): "How many grains: 0 is none, 1 is dense",
    ("grain", "strength"): "How visible the grain is",
    ("grain", "seed"): "The grain pattern: the same number gives the same grain every time",
    ("output", "scale"): "The exported photo's size, as a multiple of the original's",
    ("output", "jpeg_quality"): "JPEG, WebP and HEIC quality of the exported photo (higher: larger file)",
}


def tip(section: str | None, name: str) -> str:
    """The tooltip of the control for setting ``section.name``."""
    text = PLAIN_TIPS.get((section, name)) or field_info(section, name).doc
    return text[:1].upper() + text[1:]


class ControlsPanel(QWidget):
    edited = Signal(object, str, str)  # Settings, control key, undo text
    edit_finished = Signal()  # a slider was let go: the next edit is a new undo step

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = Settings()
        layout = QVBoxLayout(self)
        # Settings a launch brought back from the last session, named until the user resets them.
        self.remembered_note = QLabel()
        self.remembered_note.setWordWrap(True)
        self.remembered_note.setStyleSheet("color: palette(mid); font-size: 90%;")
        self.remembered_note.setToolTip(
            "Facemend keeps your settings between sessions; Reset to defaults puts them back"
        )
        self.remembered_note.hide()
        layout.addWidget(self.remembered_note)
        layout.addWidget(self._build_detection())
        layout.addWidget(self._build_restoration())
        layout.addWidget(self._build_grain())
        layout.addWidget(self._build_output())
        self.reset_button = QPushButton("Reset to defaults")
        self.reset_button.setToolTip("Every control back to its default value (undoable)")
        self.reset_button.clicked.connect(self._reset)
        layout.addWidget(self.reset_button)
        layout.addStretch(1)
        self.show_settings(self._settings)

    # ---------------------------------------------------------------- building
    def _slider(
        self, section: str, name: str, step: float, key: str, text: str, setter: Any, decimals: int = 2
    ) -> ValueSlider:
        """A slider over the range params.py declares for ``section.name``."""
        lo, hi = field_range(section, name)
        slider = ValueSlider(lo, hi, step, decimals)
        slider.setToolTip(tip(section, name))
        slider.edited.connect(lambda v: self._edit(key, text, setter(v)))
        slider.released.connect(self.edit_finished)
        return slider

    def _build_detection(self) -> QGroupBox:
        box = QGroupBox("Detection")
        form = panel_form(box)
        self.detector = compact_combo()
        fill_combo(self.detector, DETECTOR_CHOICES)
        self.detector.currentIndexChanged.connect(
            lambda: self._edit("detector", "Change detector", self._detection(detector=self.detector.currentData()))
        )
        self.sensitivity = self._slider(
            "detection",
            "sensitivity",
            0.01,
            "sensitivity",
            "Change sensitivity",
            lambda v: self._detection(sensitivity=v),
        )
        self.min_face = QSpinBox()
        self.min_face.setRange(*map(int, field_range("detection", "min_face")))
        self.min_face.setSuffix(" px")
        self.min_face.setSpecialValueText("no limit")
        self.min_face.setKeyboardTracking(False)
        self.min_face.valueChanged.connect(
            lambda v: self._edit("min_face", "Change minimum face size", self._detection(min_face=v))
        )
        self.center_only = QCheckBox("Only the most central face")
        self.center_only.toggled.connect(
            lambda v: self._edit("center", "Only central face", self._detection(only_center_face=v))
        )
        for control, name in (
            (self.detector, "detector"),
            (self.min_face, "min_face"),
            (self.center_only, "only_center_face"),
        ):
            control.setToolTip(tip("detection", name))
        self.backend = compact_combo()
        fill_combo(self.backend, BACKEND_CHOICES)
        self.backend.setToolTip(tip(None, "backend"))
        self.backend.currentIndexChanged.connect(
            lambda: self._edit(
                "backend",
                "Change what runs the models",
                dataclasses.replace(self._settings, backend=self.backend.currentData()),
            )
        )
        form.addRow("Detector", self.detector)
        form.addRow("Runs on", self.backend)
        form.addRow("Sensitivity", self.sensitivity)
        form.addRow("Smallest face", self.min_face)
        form.addRow(self.center_only)
        return box

    def _build_restoration(self) -> QGroupBox:
        box = QGroupBox("Restoration")
        form = panel_form(box)
        self.model = compact_combo()
        fill_combo(self.model, MODEL_CHOICES)
        self.model.currentIndexChanged.connect(
            lambda: self._edit("model", "Change model", self._face(model=self.model.currentData()))
        )
        self.strength = self._slider(
            "face", "strength", 0.01, "strength", "Change strength", lambda v: self._face(strength=v)
        )
        self.creativity = self._slider(
            "face", "creativity", 0.01, "creativity", "Change creativity", lambda v: self._face(creativity=v)
        )
        self.creativity_help = QLabel()
        self.creativity_help.setWordWrap(True)
        self.creativity_help.setStyleSheet("color: palette(mid); font-size: 90%;")
        self.color_match = QCheckBox("Match the original colours")
        self.color_match.toggled.connect(lambda v: self._edit("color", "Colour match", self._face(color_match=v)))
        self.model.setToolTip(tip("face", "model"))
        self.color_match.setToolTip(tip("face", "color_match"))
        form.addRow("Model", self.model)
        form.addRow("Strength", self.strength)
        form.addRow("Creativity", self.creativity)
        form.addRow(self.creativity_help)
        form.addRow(self.color_match)
        return box

    def _build_grain(self) -> QGroupBox:
        self.grain_box = QGroupBox("Film grain")
        self.grain_box.setCheckable(True)
        self.grain_box.toggled.connect(lambda v: self._edit("grain", "Film grain", self._grain(enabled=v)))
        form = panel_form(self.grain_box)
        self.grain_model = compact_combo()
        fill_combo(self.grain_model, GRAIN_CHOICES)
        self.grain_model.currentIndexChanged.connect(
            lambda: self._edit("grain_model", "Change grain kind", self._grain(model=self.grain_model.currentData()))
        )
        self.grain_density = self._slider(
            "grain", "density", 0.01, "grain_density", "Grain density", lambda v: self._grain(density=v)
        )
        self.grain_size = self._slider(
            "grain", "size", 0.1, "grain_size", "Grain size", lambda v: self._grain(size=v), 1
        )
        self.grain_strength = self._slider(
            "grain", "strength", 0.01, "grain_strength", "Grain strength", lambda v: self._grain(strength=v)
        )
        self.grain_seed = QSpinBox()
        self.grain_seed.setRange(*map(int, field_range("grain", "seed")))
        self.grain_seed.setKeyboardTracking(False)
        self.grain_seed.valueChanged.connect(lambda v: self._edit("grain_seed", "Grain seed", self._grain(seed=v)))
        new_seed = QPushButton("New")
        new_seed.setToolTip("Pick another random grain pattern")
        new_seed.clicked.connect(lambda: self.grain_seed.setValue(random.randrange(2**31)))
        seed_row = QWidget()
        seed_layout = QHBoxLayout(seed_row)
        seed_layout.setContentsMargins(0, 0, 0, 0)
        seed_layout.addWidget(self.grain_seed)
        seed_layout.addWidget(new_seed)
        self.grain_scope = compact_combo()
        fill_combo(self.grain_scope, GRAIN_SCOPES)
        self.grain_scope.currentIndexChanged.connect(
            lambda: self._edit("grain_scope", "Grain on", self._grain(scope=self.grain_scope.currentData()))
        )
        self.grain_box.setToolTip(tip("grain", "enabled"))
        for control, name in ((self.grain_model, "model"), (self.grain_seed, "seed"), (self.grain_scope, "scope")):
            control.setToolTip(tip("grain", name))
        form.addRow("Kind", self.grain_model)
        form.addRow("Density", self.grain_density)
        form.addRow("Size", self.grain_size)
        form.addRow("Strength", self.grain_strength)
        form.addRow("Seed", seed_row)
        form.addRow("Apply to", self.grain_scope)
        return self.grain_box

    def _build_output(self) -> QGroupBox:
        box = QGroupBox("Output")
        form = panel_form(box)
        self.scale = QDoubleSpinBox()
        self.scale.setRange(*field_range("output", "scale"))
        self.scale.setSingleStep(0.5)
        self.scale.setDecimals(1)
        self.scale.setSuffix(" x")
        self.scale.setKeyboardTracking(False)
        self.scale.valueChanged.connect(lambda v: self._edit("scale", "Output scale", self._output(scale=v)))
        self.quality = QSpinBox()
        self.quality.setRange(*map(int, field_range("output", "jpeg_quality")))
        self.quality.setToolTip(tip("output", "jpeg_quality"))
        self.quality.setKeyboardTracking(False)
        self.quality.valueChanged.connect(
            lambda v: self._edit("quality", "Output quality", self._output(jpeg_quality=v))
        )
        self.scale.setToolTip(tip("output", "scale"))
        form.addRow("Scale", self.scale)
        form.addRow("Quality", self.quality)
        return box

    # ---------------------------------------------------------------- settings in and out
    @property
    def settings(self) -> Settings:
        return self._settings

    def show_settings(self, settings: Settings) -> None:
        """Show ``settings`` in every control without emitting edits."""
        self._settings = settings
        widgets = [
            self.detector,
            self.backend,
            self.min_face,
            self.center_only,
            self.model,
            self.color_match,
            self.grain_box,
            self.grain_model,
            self.grain_seed,
            self.grain_scope,
            self.scale,
            self.quality,
        ]
        blocked = [w.blockSignals(True) for w in widgets]
        try:
            d, f, g, o = settings.detection, settings.face, settings.grain, settings.output
            select_data(self.detector, d.detector)
            select_data(self.backend, settings.backend)
            self.sensitivity.set_value(d.sensitivity)
            self.min_face.setValue(d.min_face)
            self.center_only.setChecked(d.only_center_face)
            select_data(self.model, f.model)
            self.strength.set_value(f.strength)
            self.creativity.set_value(f.creativity)
            self.creativity_help.setText(CREATIVITY_HELP.get(f.model, CREATIVITY_HELP["auto"]))
            self.color_match.setChecked(f.color_match)
            self.grain_box.setChecked(g.enabled)
            select_data(self.grain_model, g.model)
            self.grain_density.set_value(g.density)
            self.grain_size.set_value(g.size)
            self.grain_strength.set_value(g.strength)
            self.grain_seed.setValue(g.seed)
            select_data(self.grain_scope, g.scope)
            self.scale.setValue(o.scale)
            self.quality.setValue(o.jpeg_quality)
        finally:
            for widget, was in zip(widgets, blocked, strict=True):
                widget.blockSignals(was)

    def _edit(self, key: str, text: str, settings: Settings) -> None:
        self._settings = settings
        self.creativity_help.setText(CREATIVITY_HELP.get(settings.face.model, CREATIVITY_HELP["auto"]))
        self.edited.emit(settings, key, text)

    def _detection(self, **changes: Any) -> Settings:
        return dataclasses.replace(self._settings, detection=dataclasses.replace(self._settings.detection, **changes))

    def _face(self, **changes: Any) -> Settings:
        return dataclasses.replace(self._settings, face=dataclasses.replace(self._settings.face, **changes))

    def _grain(self, **changes: Any) -> Settings:
        return dataclasses.replace(self._settings, grain=dataclasses.replace(self._settings.grain, **changes))

    def _output(self, **changes: Any) -> Settings:
        return dataclasses.replace(self._settings, output=dataclasses.replace(self._settings.output, **changes))

    def show_remembered(self, text: str) -> None:
        """Name the settings brought back from the last session ("" hides the note)."""
        self.remembered_note.setText(text)
        self.remembered_note.setVisible(bool(text))

    def _reset(self) -> None:
        """Every control to its default; the face selection of this photo is kept."""
        self.show_remembered("")
        defaults = Settings(faces=self._settings.faces, device=self._settings.device, backend=self._settings.backend)
        self.show_settings(defaults)
        self._edit("", "Reset to defaults", defaults)
