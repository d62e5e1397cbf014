"""The models folder: status and its hash cache, downloads from a local server, imports, the CLI."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import threading
from pathlib import Path

import platformdirs
import pytest
from http_server import FileServer, file_server  # noqa: F401 (fixture)

from restore_core.cli import models_cmd
from restore_core.errors import CancelledError, ModelError
from restore_core.models import (
    MODELS,
    ModelSpec,
    ModelStatus,
    download,
    download_url,
    find,
    import_file,
    models_dir,
    require,
    status,
    statuses,
    verify,
)
from restore_core.models import store as store_module
from restore_core.models.store import HASH_CACHE_NAME

BODY = bytes((i * 7 + i // 251) % 256 for i in range(1_100_000))  # a bit over four 256 KiB reads
BODY_SHA = hashlib.sha256(BODY).hexdigest()
PATH = "/example/weights/releases/download/v1/tiny.pth"


def _spec(
    name: str = "tiny", *, sha256: str = BODY_SHA, size: int | None = len(BODY), notice: str | None = None
) -> ModelSpec:
    return ModelSpec(
        name=name,
        kind="face",
        filename=f"{name}.pth",
        repo="example/weights",
        tag="v1",
        sha256=sha256,
        size=size,
        licence="MIT",
        title=f"Tiny test model {name}",
        licence_notice=notice,
    )


@pytest.fixture()
def tiny(models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> ModelSpec:
    model = _spec()
    monkeypatch.setitem(MODELS, model.name, model)
    return model


@pytest.fixture()
def server(file_server: FileServer, monkeypatch: pytest.MonkeyPatch) -> FileServer:  # noqa: F811
    monkeypatch.setenv("FACEMEND_DOWNLOAD_MIRROR", file_server.url)
    return file_server


# ----- folder and status ----------------------------------------------------------------------
def test_models_folder_is_the_env_override_or_the_user_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEMEND_MODELS", str(tmp_path / "mine"))
    assert models_dir() == tmp_path / "mine"
    monkeypatch.delenv("FACEMEND_MODELS")
    monkeypatch.chdir(tmp_path)
    default = models_dir()
    assert default == Path(platformdirs.user_data_dir("Facemend", appauthor=False)) / "models"
    assert tmp_path not in default.parents and "site-packages" not in default.parts


def test_status_missing_installed_and_unverified(tiny: ModelSpec, models_dir: Path) -> None:
    assert status("tiny") is ModelStatus.MISSING and find("tiny") is None
    target = models_dir / "tiny.pth"
    target.write_bytes(BODY)
    assert status("tiny") is ModelStatus.INSTALLED and find("tiny") == target
    target.write_bytes(BODY[:-1] + b"\x00")  # same size, other bytes
    assert status("tiny") is ModelStatus.UNVERIFIED
    target.write_bytes(BODY[:100])  # other size
    assert status("tiny") is ModelStatus.UNVERIFIED
    assert find("tiny") == target  # unverified files are still used


def test_shared_detector_copy_is_found_but_unverified(models_dir: Path) -> None:
    found = statuses()
    assert found["retinaface_mobile0.25"] is ModelStatus.UNVERIFIED
    assert found["gfpgan"] is ModelStatus.MISSING
    assert list(found) == list(MODELS)


def test_hash_cache_is_used_until_size_or_mtime_change(
    tiny: ModelSpec, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = models_dir / "tiny.pth"
    target.write_bytes(BODY)
    assert status("tiny") is ModelStatus.INSTALLED
    cache = json.loads((models_dir / HASH_CACHE_NAME).read_text())
    assert cache["tiny.pth"]["sha256"] == BODY_SHA and cache["tiny.pth"]["size"] == len(BODY)

    hashed: list[Path] = []
    real_sha256 = store_module.file_sha256

    def counting_sha256(path: Path) -> str:
        hashed.append(path)
        return real_sha256(path)

    monkeypatch.setattr(store_module, "file_sha256", counting_sha256)
    assert status("tiny") is ModelStatus.INSTALLED
    assert hashed == []  # answered from the cache
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert status("tiny") is ModelStatus.INSTALLED
    assert hashed == [target]


def test_verify_rehashes_even_when_the_cache_says_installed(tiny: ModelSpec, models_dir: Path) -> None:
    target = models_dir / "tiny.pth"
    target.write_bytes(BODY[:-1] + b"\x00")
    st = target.stat()
    # A stale cache entry for this exact size and mtime claiming the published hash:
    entry = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": BODY_SHA}
    (models_dir / HASH_CACHE_NAME).write_text(json.dumps({"tiny.pth": entry}))
    assert status("tiny") is ModelStatus.INSTALLED
    assert verify("tiny") is ModelStatus.UNVERIFIED
    assert status("tiny") is ModelStatus.UNVERIFIED  # verify corrected the cache


def test_a_damaged_hash_cache_is_ignored(tiny: ModelSpec, models_dir: Path) -> None:
    (models_dir / "tiny.pth").write_bytes(BODY)
    (models_dir / HASH_CACHE_NAME).write_text("{not json")
    assert status("tiny") is ModelStatus.INSTALLED


# ----- downloads ------------------------------------------------------------------------------
def test_mirror_replaces_github_at_the_start_of_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _spec()
    monkeypatch.delenv("FACEMEND_DOWNLOAD_MIRROR", raising=False)
    assert download_url(model) == "https://github.com" + PATH
    monkeypatch.setenv("FACEMEND_DOWNLOAD_MIRROR", "http://127.0.0.1:9/")
    assert download_url(model) == "http://127.0.0.1:9" + PATH


def test_download_verifies_and_moves_the_file_into_place(tiny: ModelSpec, models_dir: Path, server: FileServer) -> None:
    server.serve(PATH, BODY)
    seen: list[tuple[int, int]] = []
    path = download("tiny", progress=lambda done, total: seen.append((done, total)))
    assert path == models_dir / "tiny.pth"
    assert path.read_bytes() == BODY
    assert not (models_dir / "tiny.pth.part").exists()
    assert status("tiny") is ModelStatus.INSTALLED
    assert seen[0] == (0, len(BODY)) and seen[-1] == (len(BODY), len(BODY))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert [r.range for r in server.requests] == [None]


def test_checksum_mismatch_keeps_the_old_file_and_discards_the_download(
    tiny: ModelSpec, models_dir: Path, server: FileServer
) -> None:
    old = models_dir / "tiny.pth"
    old.write_bytes(b"the user's old copy")
    wrong = bytes(reversed(BODY))
    server.serve(PATH, wrong)
    with pytest.raises(ModelError) as caught:
        download("tiny")
    message = str(caught.value)
    assert "did not match" in message
    assert BODY_SHA in message and hashlib.sha256(wrong).hexdigest() in message
    assert "kept" in message
    assert old.read_bytes() == b"the user's old copy"
    assert not (models_dir / "tiny.pth.part").exists()


def test_cut_connection_leaves_no_file_and_the_next_call_resumes_with_range(
    tiny: ModelSpec, models_dir: Path, server: FileServer
) -> None:
    half = 600_000
    server.serve(PATH, BODY, cut_after=half)
    with pytest.raises(ModelError, match=f"stopped after {half} of {len(BODY)} bytes"):
        download("tiny")
    assert not (models_dir / "tiny.pth").exists()
    assert (models_dir / "tiny.pth.part").stat().st_size == half

    path = download("tiny")
    assert path.read_bytes() == BODY
    assert [r.range for r in server.requests] == [None, f"bytes={half}-"]
    assert not (models_dir / "tiny.pth.part").exists()


def test_server_ignoring_range_restarts_cleanly(tiny: ModelSpec, models_dir: Path, server: FileServer) -> None:
    (models_dir / "tiny.pth.part").write_bytes(b"\xff" * 500_000)  # a stale partial file of other bytes
    server.serve(PATH, BODY, honour_range=False)
    path = download("tiny")
    assert path.read_bytes() == BODY
    assert [r.range for r in server.requests] == ["bytes=500000-"]


def test_range_beyond_the_end_starts_over(
    models_dir: Path, server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _spec(size=None)  # size unknown: a long stale .part cannot be told apart before asking
    monkeypatch.setitem(MODELS, model.name, model)
    (models_dir / "tiny.pth.part").write_bytes(b"\x00" * (len(BODY) + 10))
    server.serve(PATH, BODY)
    assert download("tiny").read_bytes() == BODY
    assert [r.range for r in server.requests] == [f"bytes={len(BODY) + 10}-", None]


def test_a_complete_part_is_checked_without_downloading_again(
    tiny: ModelSpec, models_dir: Path, server: FileServer
) -> None:
    (models_dir / "tiny.pth.part").write_bytes(BODY)
    assert download("tiny").read_bytes() == BODY
    assert server.requests == []


def test_cancel_keeps_the_part_for_resume(tiny: ModelSpec, models_dir: Path, server: FileServer) -> None:
    server.serve(PATH, BODY)
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done > 0:
            cancel.set()

    with pytest.raises(CancelledError):
        download("tiny", progress=progress, cancel=cancel)
    kept = (models_dir / "tiny.pth.part").stat().st_size
    assert 0 < kept < len(BODY)
    assert not (models_dir / "tiny.pth").exists()

    assert download("tiny").read_bytes() == BODY
    assert server.requests[-1].range == f"bytes={kept}-"


def test_licensed_model_needs_acceptance_before_any_request(
    models_dir: Path, server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _spec(notice="Non-commercial use only.")
    monkeypatch.setitem(MODELS, model.name, model)
    server.serve(PATH, BODY)
    with pytest.raises(ModelError, match=r"Non-commercial use only\..*--accept-licence"):
        download("tiny")
    assert server.requests == []
    assert download("tiny", accept_licence=True).read_bytes() == BODY
    # The answer is remembered: the next download (a re-download, another front door) asks nothing.
    from restore_core.models import licence_accepted

    assert licence_accepted("tiny")
    (models_dir / "tiny.pth").unlink()
    assert download("tiny").read_bytes() == BODY


# ----- require --------------------------------------------------------------------------------
def test_require_returns_a_present_file_without_network(tiny: ModelSpec, models_dir: Path, server: FileServer) -> None:
    (models_dir / "tiny.pth").write_bytes(b"a user's own copy")
    assert require("tiny") == models_dir / "tiny.pth"
    assert server.requests == []


def test_require_downloads_when_missing(tiny: ModelSpec, models_dir: Path, server: FileServer) -> None:
    server.serve(PATH, BODY)
    assert require("tiny") == models_dir / "tiny.pth"
    assert status("tiny") is ModelStatus.INSTALLED


def test_missing_model_message_says_what_where_and_how(models_dir: Path, server: FileServer) -> None:
    gfpgan = MODELS["gfpgan"]
    with pytest.raises(ModelError) as caught:
        require("gfpgan", allow_download=False)
    message = str(caught.value)
    assert "\n" not in message
    url = server.url + "/TencentARC/GFPGAN/releases/download/v1.3.0/GFPGANv1.4.pth"
    for part in (gfpgan.filename, str(models_dir), url, gfpgan.sha256, "facemend-cli models import FILE"):
        assert part in message
    assert "downloads are turned off" in message

    with pytest.raises(ModelError) as caught:
        require("gfpgan")  # the server has no such file
    assert "HTTP 404" in str(caught.value) and "facemend-cli models import FILE" in str(caught.value)
    assert not (models_dir / "GFPGANv1.4.pth").exists()


# ----- import ---------------------------------------------------------------------------------
def test_import_by_filename_hash_or_name(
    tiny: ModelSpec, models_dir: Path, tmp_path: Path, random_gfpgan: Path
) -> None:
    by_filename = tmp_path / "download" / "tiny.pth"
    by_filename.parent.mkdir()
    by_filename.write_bytes(BODY)
    imported = import_file(by_filename)
    assert (imported.spec, imported.path, imported.status) == (tiny, models_dir / "tiny.pth", ModelStatus.INSTALLED)
    assert by_filename.read_bytes() == BODY  # copied, not moved

    (models_dir / "tiny.pth").unlink()
    by_hash = tmp_path / "renamed-by-browser (1).bin"
    by_hash.write_bytes(BODY)
    assert import_file(by_hash).path == models_dir / "tiny.pth"

    own_copy = random_gfpgan  # a face model of the right kind, not the published file
    with pytest.raises(ModelError, match="already holds a Tiny test model tiny file.*--force"):
        import_file(own_copy, name="tiny")
    assert (models_dir / "tiny.pth").read_bytes() == BODY
    imported = import_file(own_copy, name="tiny", force=True)
    assert imported.status is ModelStatus.UNVERIFIED
    assert _digest(models_dir / "tiny.pth") == _digest(own_copy)
    assert (models_dir / "tiny.pth.previous").read_bytes() == BODY  # the previous file is kept
    assert status("tiny") is ModelStatus.UNVERIFIED
    assert sorted(p.name for p in models_dir.iterdir() if p.name.endswith(".part")) == []


def test_import_of_an_unknown_file_is_refused(tiny: ModelSpec, models_dir: Path, tmp_path: Path) -> None:
    unknown = tmp_path / "mystery.pth"
    unknown.write_bytes(b"who knows")
    before = sorted(p.name for p in models_dir.iterdir())
    with pytest.raises(ModelError, match=r"mystery\.pth: cannot tell which model.*--name"):
        import_file(unknown)
    assert sorted(p.name for p in models_dir.iterdir()) == before
    with pytest.raises(ModelError, match="no such file"):
        import_file(tmp_path / "absent.pth")
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        import_file(unknown, name="nope")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_refuses_files_that_are_not_that_kind_of_model(
    tiny: ModelSpec, models_dir: Path, tmp_path: Path, photos_dir: Path, detector_weights: Path
) -> None:
    import pickle

    jpeg, zeros, code = tmp_path / "photo.pth", tmp_path / "zeros.pth", tmp_path / "evil.pth"
    jpeg.write_bytes((photos_dir / "collage_two_faces.jpg").read_bytes())
    zeros.write_bytes(bytes(4096))
    code.write_bytes(pickle.dumps(os.system))  # a pickle that would import and call code
    cases = {
        jpeg: "is not a model file (it is a JPEG image)",
        zeros: "is not a model file (its bytes are all zeros",
        code: "holds Python code to run",
        detector_weights: "not a model architecture Facemend knows",  # a detector is no face model
    }
    for source, message in cases.items():
        with pytest.raises(ModelError) as caught:
            import_file(source, name="tiny")
        assert message in str(caught.value), source
        assert "cannot be imported as Tiny test model tiny" in str(caught.value)
        assert "weights_only=False" not in str(caught.value)
    assert not (models_dir / "tiny.pth").exists()
    assert not [p for p in models_dir.iterdir() if p.name.startswith(".")]  # no temp left


def test_a_download_cannot_grow_past_the_published_size(tiny: ModelSpec, models_dir: Path, server: FileServer) -> None:
    from restore_core.models.downloads import SIZE_MARGIN

    server.serve(PATH, BODY + bytes(SIZE_MARGIN + 1))
    with pytest.raises(ModelError, match="not downloaded"):
        download("tiny")
    assert sorted(p.name for p in models_dir.iterdir()) == ["detection_mobilenet0.25_Final.pth"]


# ----- the `models` command -------------------------------------------------------------------
def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    models_cmd.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["models", *argv])
    return int(args.run(args))


def test_cli_list_shows_every_model(models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("list") == 0
    out = capsys.readouterr().out
    for model in MODELS.values():
        assert model.name in out and model.filename in out
    mobile = next(line for line in out.splitlines() if "detection_mobilenet0.25_Final.pth" in line)
    assert "unverified" in mobile and "MIT" in mobile
    gfpgan = next(line for line in out.splitlines() if "GFPGANv1.4.pth" in line)
    assert "missing" in gfpgan and "348.6 MB" in gfpgan


def test_cli_download_asks_for_the_licence(
    models_dir: Path, server: FileServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _spec(notice="Non-commercial use only.")
    monkeypatch.setitem(MODELS, model.name, model)
    server.serve(PATH, BODY)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(ModelError, match=r"Non-commercial use only\. .*--accept-licence"):
        _run("download", "tiny")
    assert server.requests == []

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(ModelError, match="--accept-licence"):
        _run("download", "tiny")
    assert "Non-commercial use only." in capsys.readouterr().out
    assert server.requests == []

    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    assert _run("download", "tiny") == 0
    assert status("tiny") is ModelStatus.INSTALLED


def test_cli_download_with_accept_licence(
    models_dir: Path, server: FileServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _spec(notice="Non-commercial use only.")
    monkeypatch.setitem(MODELS, model.name, model)
    server.serve(PATH, BODY)
    assert _run("download", "tiny", "--accept-licence") == 0
    assert (models_dir / "tiny.pth").read_bytes() == BODY
    assert "installed" in capsys.readouterr().out


def test_cli_import_and_verify(
    tiny: ModelSpec, models_dir: Path, tmp_path: Path, random_gfpgan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "weights.bin"  # any file name: a browser's rename
    source.symlink_to(random_gfpgan)
    assert _run("import", str(source), "--name", "tiny") == 0
    assert "unverified" in capsys.readouterr().out
    (models_dir / "tiny.pth").write_bytes(BODY)
    assert _run("verify") == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("tiny.pth" in line and "installed" in line for line in lines)
    assert any("detection_mobilenet0.25_Final.pth" in line and "unverified" in line for line in lines)
    assert not any("GFPGANv1.4.pth" in line for line in lines)  # only present files are hashed


def test_a_detector_or_identity_file_must_be_that_network_to_be_imported(
    models_dir: Path, tmp_path: Path, detector_weights: Path, random_gfpgan: Path
) -> None:
    (models_dir / "detection_mobilenet0.25_Final.pth").unlink()  # the fixture's copy: import our own
    cases = {
        ("retinaface_mobile0.25", random_gfpgan): "not RetinaFace|do not fit retinaface_mobile0.25",
        ("retinaface_resnet50", detector_weights): "do not fit retinaface_resnet50",  # the other backbone
        ("arcface", detector_weights): "not facexlib's ArcFace IR-SE-50 weights",
    }
    for (name, source), says in cases.items():
        with pytest.raises(ModelError, match=says) as caught:
            import_file(source, name=name)
        assert "cannot be imported as" in str(caught.value)
        assert not list(models_dir.iterdir())  # nothing installed, no temporary file left
    renamed = tmp_path / "detector (1).bin"
    renamed.write_bytes(detector_weights.read_bytes())
    imported = import_file(renamed, name="retinaface_mobile0.25")
    assert imported.status is ModelStatus.UNVERIFIED and imported.path.name == "detection_mobilenet0.25_Final.pth"
