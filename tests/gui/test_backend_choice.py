"""The app's choice of what runs the face models: a setting like the others, kept between runs."""

from __future__ import annotations

from app.controls import BACKEND_CHOICES, ControlsPanel
from app.settings_store import SettingsStore
from restore_core.params import Settings, field_info


def test_every_backend_can_be_chosen_and_is_kept_between_runs(qtbot, store: SettingsStore) -> None:
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    assert [choice for choice, _ in BACKEND_CHOICES] == list(field_info(None, "backend").choices or ())
    edits: list[Settings] = []
    panel.edited.connect(lambda settings, key, text: edits.append(settings))
    panel.backend.setCurrentIndex(panel.backend.findData("openvino"))
    assert edits[-1].backend == "openvino"

    store.set_last_settings(edits[-1])
    assert store.last_settings().backend == "openvino"
    panel.show_settings(store.last_settings())
    assert panel.backend.currentData() == "openvino"
    panel.reset_button.click()  # the defaults of the photo's settings, not of the machine's
    assert edits[-1].backend == "openvino" and edits[-1].face == Settings().face
