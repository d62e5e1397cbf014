"""The first-run offer against a paced local HTTP server on 127.0.0.1: the list, speed and
time left, install, a failed download's plain message, cancel, and a file chosen by hand."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_server import FileServer, HeldServer, file_server, held_mirror  # noqa: F401 (fixture)
from PySide6.QtWidgets import QFileDialog

from app.first_run import FirstRunDialog
from restore_core.models import MODELS, ModelSpec

CHUNK = 64 * 1024
PAYLOAD = bytes(range(256)) * 8192  # 2 MiB in 32 chunks, 30 ms apart: about a second
PAUSE_S = 0.03


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldServer]:
    with held_mirror(PAYLOAD, monkeypatch, chunk=CHUNK, pause_s=PAUSE_S) as httpd:
        yield httpd


@pytest.fixture()
def tiny(monkeypatch: pytest.MonkeyPatch) -> ModelSpec:
    model = ModelSpec(
        name="tiny",
        kind="face",
        filename="tiny.pth",
        repo="example/tiny",
        tag="v1",
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        size=len(PAYLOAD),
        licence="MIT",
        title="Tiny GFPGAN",
    )
    monkeypatch.setitem(MODELS, "tiny", model)
    return model


@pytest.fixture()
def offer(qtbot, models_dir: Path, store, tiny: ModelSpec) -> FirstRunDialog:
    dialog = FirstRunDialog(store, [tiny, MODELS["retinaface_resnet50"]])
    qtbot.addWidget(dialog)
    dialog.open()
    return dialog


def test_the_offer_lists_the_recommended_models_with_sizes_and_licences(qtbot, models_dir: Path, store) -> None:
    from app.models_dialog import recommended_downloads

    wanted = recommended_downloads()
    assert [m.name for m in wanted] == ["gfpgan"]  # the test folder has a detector, no face model
    dialog = FirstRunDialog(store, [MODELS["gfpgan"], MODELS["retinaface_resnet50"]])
    qtbot.addWidget(dialog)
    rows = [dialog.model_list.item(i).text() for i in range(dialog.model_list.count())]
    assert rows[0] == "GFPGAN v1.4 (Face restoration): 349 MB, licence Apache-2.0"
    assert rows[1].startswith("RetinaFace ResNet-50 face detector (Face detection): 109 MB, licence MIT")


def test_download_shows_speed_and_time_left_then_installs(
    qtbot, offer: FirstRunDialog, server: HeldServer, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer._wanted = offer._wanted[:1]  # the detector would need the real 109 MB
    texts: list[str] = []
    offer.rate_label.setText = lambda text: (texts.append(text), type(offer.rate_label).setText(offer.rate_label, text))  # type: ignore[method-assign]
    with qtbot.waitSignal(offer.models_changed, timeout=30_000):
        offer.download_button.click()
    qtbot.waitUntil(lambda: not offer.busy and not offer.isVisible(), timeout=30_000)
    assert (models_dir / "tiny.pth").read_bytes() == PAYLOAD
    timed = [t for t in texts if re.search(r"\d+\.\d MB/s · \d+ s left$", t)]
    assert timed, texts
    assert texts[-1].startswith("2.1 of 2.1 MB")


def test_a_failed_download_says_what_to_fetch_and_offers_choose_file(
    qtbot, offer: FirstRunDialog, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEMEND_DOWNLOAD_MIRROR", "http://127.0.0.1:9")  # the discard port: refused
    offer.download_button.click()
    qtbot.waitUntil(lambda: not offer.busy, timeout=30_000)
    text = offer.message.text()
    assert text.startswith(
        "Could not download tiny.pth from http://127.0.0.1:9/example/tiny/releases/download/v1/tiny.pth"
    )
    assert "errno" not in text.lower() and "facemend-cli" not in text
    assert "To install by hand, download tiny.pth from" in text and str(models_dir) in text
    assert "Choose file…" in text and offer.choose_button.isEnabled() and offer.choose_button.isVisible()
    assert not (models_dir / "tiny.pth").exists()


def test_cancel_stops_the_download(qtbot, offer: FirstRunDialog, server: HeldServer, models_dir: Path) -> None:
    offer._wanted = offer._wanted[:1]
    server.hold.set()
    offer.download_button.click()
    qtbot.waitUntil(lambda: offer.progress.value() >= 450, timeout=30_000)
    assert offer.cancel_button.isEnabled()
    offer.cancel_button.click()
    server.release.set()
    qtbot.waitUntil(lambda: not offer.busy, timeout=30_000)
    assert offer.message.text() == "Download cancelled. Click Download to resume where it stopped."
    assert not (models_dir / "tiny.pth").exists() and (models_dir / "tiny.pth.part").is_file()
    assert offer.isVisible() and offer.download_button.isEnabled()


def test_quitting_during_a_download_ends_its_thread(
    qtbot, offer: FirstRunDialog, server: HeldServer, models_dir: Path
) -> None:
    offer._wanted = offer._wanted[:1]
    server.hold.set()
    offer.download_button.click()
    qtbot.waitUntil(lambda: offer.progress.value() >= 450, timeout=30_000)
    task = offer._tasks.task
    assert task is not None
    threading.Timer(0.3, server.release.set).start()  # the read under way returns, then the cancel is seen
    offer.stop()  # what QCoreApplication.aboutToQuit calls
    assert task.isFinished() and (models_dir / "tiny.pth.part").is_file()


def test_download_again_resumes_from_the_kept_part(
    qtbot,
    offer: FirstRunDialog,
    file_server: FileServer,  # noqa: F811
    models_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    offer._wanted = offer._wanted[:1]
    file_server.serve("/example/tiny/releases/download/v1/tiny.pth", PAYLOAD)
    monkeypatch.setenv("FACEMEND_DOWNLOAD_MIRROR", file_server.url)
    (models_dir / "tiny.pth.part").write_bytes(PAYLOAD[:700_000])  # what a cancel leaves
    with qtbot.waitSignal(offer.models_changed, timeout=30_000):
        offer.download_button.click()
    assert [r.range for r in file_server.requests] == ["bytes=700000-"]
    assert (models_dir / "tiny.pth").read_bytes() == PAYLOAD


def test_a_wrong_file_chosen_is_refused_plainly(
    qtbot, offer: FirstRunDialog, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = tmp_path / "holiday photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 not a model")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(photo), ""))
    offer.choose_button.click()
    qtbot.waitUntil(lambda: not offer.busy, timeout=30_000)
    text = offer.message.text()
    # tried as each model the offer is for: the face model and the detector
    assert text.startswith(
        "Facemend could not use holiday photo.jpg: it is not a published model file, and it does not "
        "load as Tiny GFPGAN or RetinaFace"
    )
    assert "Nothing was installed. To install by hand, download tiny.pth from" in text
    assert "sha256" not in text and "facemend-cli" not in text and str(photo) not in text
    assert sorted(p.name for p in models_dir.iterdir()) == ["detection_mobilenet0.25_Final.pth"]
    assert offer.choose_button.isEnabled()


def test_an_unpublished_face_model_under_any_name_is_installed_as_unverified(
    qtbot,
    offer: FirstRunDialog,
    models_dir: Path,
    tmp_path: Path,
    random_gfpgan: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    offer._wanted = offer._wanted[:1]
    picked = tmp_path / "face model (3).bin"  # neither a registry name nor a published hash
    picked.symlink_to(random_gfpgan)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(picked), ""))
    with qtbot.waitSignal(offer.models_changed, timeout=60_000):
        offer.choose_button.click()
    assert hashlib.sha256((models_dir / "tiny.pth").read_bytes()).digest() == _digest(random_gfpgan)
    assert offer.message.text() == (
        "Imported face model (3).bin as Tiny GFPGAN. It differs from the published file (unverified) "
        "but will be used. Facemend is ready to restore faces."
    )


def _digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


def test_a_right_file_under_any_name_is_installed(
    qtbot, offer: FirstRunDialog, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer._wanted = offer._wanted[:1]
    picked = tmp_path / "download (1).bin"
    picked.write_bytes(PAYLOAD)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(picked), ""))
    with qtbot.waitSignal(offer.models_changed, timeout=30_000):
        offer.choose_button.click()
    assert (models_dir / "tiny.pth").read_bytes() == PAYLOAD
    assert offer.message.text() == "Imported download (1).bin as Tiny GFPGAN. Facemend is ready to restore faces."


def test_the_main_window_offers_the_models_at_first_start(qtbot, window) -> None:
    window._check_first_start()  # the fixture's window skips the check; the folder has no face model
    offers = window.findChildren(FirstRunDialog)
    assert len(offers) == 1 and offers[0].isVisible()
    assert offers[0].model_list.item(0).text().startswith("GFPGAN v1.4 (Face restoration): 349 MB")
    assert not window.message_bar.isVisible()  # the offer replaces the banner with a sha256 in it
    offers[0].close()
