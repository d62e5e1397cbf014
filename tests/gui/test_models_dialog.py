"""The Models dialog against a local HTTP server on 127.0.0.1: progress, cancel, checksum."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_server import HeldServer, held_mirror
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.models_dialog import ModelsDialog
from restore_core.models import MODELS, ModelSpec

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB: four of the downloader's 256 KiB reads
HALF = len(PAYLOAD) // 2


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldServer]:
    with held_mirror(PAYLOAD, monkeypatch, chunk=HALF) as httpd:
        yield httpd


def _spec(name: str, sha256: str, notice: str | None = None) -> ModelSpec:
    return ModelSpec(
        name=name,
        kind="face",
        filename=f"{name}.pth",
        repo="example/tiny",
        tag="v1",
        sha256=sha256,
        size=len(PAYLOAD),
        licence="MIT",
        title=f"Tiny {name}",
        licence_notice=notice,
    )


@pytest.fixture()
def dialog(qtbot, models_dir: Path, store, monkeypatch: pytest.MonkeyPatch) -> ModelsDialog:
    monkeypatch.setitem(MODELS, "tiny", _spec("tiny", hashlib.sha256(PAYLOAD).hexdigest()))
    monkeypatch.setitem(MODELS, "tampered", _spec("tampered", "0" * 64))
    monkeypatch.setitem(
        MODELS, "restricted", _spec("restricted", hashlib.sha256(PAYLOAD).hexdigest(), "Non-commercial use only.")
    )
    dlg = ModelsDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: not dlg._busy, timeout=30_000)
    return dlg


def test_lists_every_model_with_its_status(dialog: ModelsDialog) -> None:
    assert dialog.table.rowCount() == len(MODELS)
    assert dialog.status_text("gfpgan") == "Not installed"
    # the shared detector keeps its "module." key prefix: present, but not the published file
    assert dialog.status_text("retinaface_mobile0.25").startswith("Installed, unverified")
    dialog.select("codeformer")
    assert "non-commercial" in dialog.details.text()


def test_download_reports_progress_and_installs(
    qtbot, dialog: ModelsDialog, server: HeldServer, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int]] = []
    show = ModelsDialog._show_progress
    monkeypatch.setattr(ModelsDialog, "_show_progress", lambda self, d, t: (seen.append((d, t)), show(self, d, t)))
    dialog.select("tiny")
    dialog.download_button.click()
    qtbot.waitUntil(lambda: not dialog._busy and dialog.status_text("tiny") == "Installed", timeout=30_000)
    assert (models_dir / "tiny.pth").read_bytes() == PAYLOAD
    assert seen and seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert "Downloaded and verified" in dialog.message.text()
    assert dialog.progress.format().startswith("1.0 of 1.0 MB")


def test_cancel_stops_the_download_and_keeps_the_part(
    qtbot, dialog: ModelsDialog, server: HeldServer, models_dir: Path
) -> None:
    server.hold.set()
    dialog.select("tiny")
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() >= 500, timeout=30_000)  # half of 1000 per mille
    assert dialog.cancel_button.isEnabled()
    dialog.cancel_button.click()
    server.release.set()
    qtbot.waitUntil(lambda: not dialog._busy, timeout=30_000)
    assert "cancelled" in dialog.message.text()
    assert not (models_dir / "tiny.pth").exists()
    assert (models_dir / "tiny.pth.part").is_file()


def test_checksum_mismatch_is_reported_and_nothing_installed(
    qtbot, dialog: ModelsDialog, server: HeldServer, models_dir: Path
) -> None:
    dialog.select("tampered")
    dialog.download_button.click()
    qtbot.waitUntil(lambda: not dialog._busy, timeout=30_000)
    text = dialog.message.text()
    assert "did not match its published checksum" in text and "tampered.pth" in text
    assert not (models_dir / "tampered.pth").exists()
    assert dialog.status_text("tampered") == "Not installed"


def test_a_licence_notice_must_be_accepted_first(
    qtbot, dialog: ModelsDialog, server: HeldServer, models_dir: Path, monkeypatch
) -> None:
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: answers.pop(0))
    dialog.download(["restricted"])
    assert not dialog._busy and not (models_dir / "restricted.pth").exists()
    dialog.download(["restricted"])
    qtbot.waitUntil(lambda: not dialog._busy and (models_dir / "restricted.pth").exists(), timeout=30_000)
    assert answers == []
    dialog.download(["restricted"])  # accepted once: not asked again
    qtbot.waitUntil(lambda: not dialog._busy, timeout=30_000)


def test_import_copies_a_file_into_the_models_folder(
    qtbot, dialog: ModelsDialog, tmp_path: Path, models_dir: Path
) -> None:
    source = tmp_path / "tiny.pth"
    source.write_bytes(PAYLOAD)
    dialog.import_model(source)
    qtbot.waitUntil(lambda: not dialog._busy and dialog.status_text("tiny") == "Installed", timeout=30_000)
    assert (models_dir / "tiny.pth").read_bytes() == PAYLOAD
    assert "Imported tiny.pth" in dialog.message.text()


def test_a_failed_download_is_said_for_people_with_a_next_step(
    qtbot, dialog: ModelsDialog, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEMEND_DOWNLOAD_MIRROR", "http://127.0.0.1:9")  # the discard port: refused
    dialog.select("tiny")
    dialog.download_button.click()
    qtbot.waitUntil(lambda: not dialog._busy, timeout=30_000)
    text = dialog.message.text()
    assert "Could not download tiny.pth from http://127.0.0.1:9/" in text and "errno" not in text.lower()
    assert "the server refused the connection. Try again (a download resumes where it stopped)" in text


def test_a_wrong_file_picked_is_refused_plainly_and_nothing_changes(
    qtbot, dialog: ModelsDialog, tmp_path: Path, models_dir: Path, store, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 not a model")
    before = sorted(p.name for p in models_dir.iterdir())
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(photo), ""))
    dialog.select("tiny")
    dialog.import_button.click()
    qtbot.waitUntil(lambda: not dialog._busy, timeout=30_000)
    text = dialog.message.text()
    assert text.startswith(
        "Facemend could not use holiday.jpg: it is not a published model file, and it does not load as "
        "Tiny tiny or GFPGAN v1.4. Nothing was installed. Select the model in the list"
    ), text
    assert "sha256" not in text and "facemend-cli" not in text and str(photo) not in text
    assert sorted(p.name for p in models_dir.iterdir()) == before
    assert store.folder("import") == str(tmp_path)  # the next picker opens here


def test_a_different_file_of_an_installed_model_replaces_it_only_on_yes_keeping_the_old_one(
    qtbot, dialog: ModelsDialog, tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "my own copy.pth"
    own.write_bytes(PAYLOAD[::-1])  # a tiny (here: any bytes) of its own, not the published file
    installed = models_dir / "tiny.pth"
    installed.write_bytes(PAYLOAD)
    answers: list[QMessageBox.StandardButton] = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    questions: list[str] = []

    def question(parent, title, text, *args):
        questions.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr("restore_core.models.store.check_loads_as", lambda path, model: None)  # "loads"
    dialog.select("tiny")
    dialog.import_model(own)
    qtbot.waitUntil(lambda: not dialog._busy, timeout=30_000)
    assert questions == [
        "my own copy.pth is a Tiny tiny file, but a different Tiny tiny file is installed already (tiny.pth). "
        "Replace it? The old file is kept as tiny.pth.previous."
    ]
    assert dialog.message.text() == "Nothing was replaced: the installed Tiny tiny file stays."
    assert installed.read_bytes() == PAYLOAD

    dialog.import_model(own)
    qtbot.waitUntil(lambda: not dialog._busy and "Imported" in dialog.message.text(), timeout=30_000)
    assert installed.read_bytes() == PAYLOAD[::-1]
    assert (models_dir / "tiny.pth.previous").read_bytes() == PAYLOAD  # the old file is kept
    assert dialog.message.text() == (
        "Imported my own copy.pth as Tiny tiny. It differs from the published file (unverified) but will be used."
    )
