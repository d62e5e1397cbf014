"""GUI fixtures: a main window driving the real RenderEngine (real detector weights, the
passthrough face model), with settings kept in a temporary INI file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gui_helpers import TEST_SETTINGS, WAIT_MS, drop_files, wait_for_render
from PySide6.QtCore import QSettings

from app.main_window import MainWindow
from app.settings_store import SettingsStore
from app.unsaved import UnsavedChoice
from restore_core.engine import RenderEngine


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True, scope="session")
def _private_qsettings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Any QSettings made with the default scope lands in a temporary folder, never the user's."""
    folder = tmp_path_factory.mktemp("qsettings")
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
        QSettings.setPath(QSettings.Format.NativeFormat, scope, str(folder))


@pytest.fixture(autouse=True)
def _discard_unexported_edits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A modal Save / Discard / Cancel question would block the run (windows close with a
    test's edits unexported): discard; the tests of the question give their own answers."""
    monkeypatch.setattr("app.main_window.ask_unsaved", lambda *args: UnsavedChoice.DISCARD)


@pytest.fixture()
def store(tmp_path: Path) -> SettingsStore:
    return SettingsStore(QSettings(str(tmp_path / "facemend.ini"), QSettings.Format.IniFormat))


@pytest.fixture(scope="session")
def shared_engine() -> RenderEngine:
    """One real engine for the whole session, so the detector loads once. Each window's worker
    thread owns it in turn: a window shuts its worker down before the next one starts."""
    return RenderEngine(device="cpu", allow_download=False)


@pytest.fixture()
def window(qtbot, models_dir: Path, store: SettingsStore, shared_engine: RenderEngine) -> Iterator[MainWindow]:
    store.set_last_settings(TEST_SETTINGS)
    win = MainWindow(lambda: shared_engine, store, check_models=False)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitUntil(lambda: win.engine_ready, timeout=WAIT_MS)
    yield win
    win.close()


@pytest.fixture()
def loaded(qtbot, window: MainWindow, photos_dir: Path, request: pytest.FixtureRequest) -> MainWindow:
    """``window`` with the test module's ``PHOTO`` dropped on it and rendered."""
    assert drop_files(window.canvas, [photos_dir / request.module.PHOTO])
    wait_for_render(qtbot, window)
    return window
