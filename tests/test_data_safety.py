"""Data safety: no input overwritten, no unbounded work, bad settings refused, no silent wrong model."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from restore_core import limits
from restore_core.cli import main
from restore_core.engine import RenderEngine
from restore_core.errors import InputError, OutputError, SettingsError
from restore_core.io import LoadedImage, WriteSet, load_image, save_image
from restore_core.io.atomic import STALE_AFTER_S, TEMP_SUFFIX, atomic_write
from restore_core.params import Settings

MOBILE = ["--detector", "retinaface_mobile0.25"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def photo(photos_dir: Path, tmp_path: Path) -> Path:
    """A copy of a two-face test photo the test may try (and must fail) to overwrite."""
    copy = tmp_path / "photo.jpg"
    shutil.copyfile(photos_dir / "collage_two_faces.jpg", copy)
    return copy


# ---------------------------------------------------------------- --json never replaces the photo


def _aliases(photo: Path) -> dict[str, Path]:
    link, hard = photo.with_name("link.json"), photo.with_name("hard.json")
    link.symlink_to(photo)
    os.link(photo, hard)
    sub = photo.parent / "sub"
    sub.mkdir()
    return {"direct": photo, "symlink": link, "hard link": hard, "dot-dot": sub / ".." / photo.name}


@pytest.mark.parametrize("command", ["restore", "detect"])
def test_json_report_is_never_the_input_photo(
    models_dir: Path, photo: Path, tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digest(photo)
    for how, alias in _aliases(photo).items():
        args = [command, str(photo), "--json", str(alias), "--overwrite", *MOBILE]
        if command == "restore":
            args += ["-o", str(tmp_path / f"out-{how.replace(' ', '')}.png"), "--model", "passthrough"]
        assert main(args) == 1, how
        assert "the original is never overwritten" in capsys.readouterr().err, how
        assert _digest(photo) == before, how
    assert not list(tmp_path.glob("out-*.png"))  # refused before any work


@pytest.mark.parametrize("command", ["restore", "detect"])
def test_an_existing_json_report_needs_overwrite(
    models_dir: Path, photo: Path, tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    report.write_text("keep me")
    args = [command, str(photo), "--json", str(report), *MOBILE]
    if command == "restore":
        args += ["-o", str(tmp_path / "out.png"), "--model", "passthrough"]
    assert main(args) == 1
    assert "already exists" in capsys.readouterr().err
    assert report.read_text() == "keep me"
    assert not (tmp_path / "out.png").exists()
    assert main([*args, "--overwrite"]) == 0
    assert json.loads(report.read_text())["faces"]


# ---------------------------------------------------------------- faces that do not exist


def test_a_face_index_no_face_has_is_an_error(
    models_dir: Path, photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.png"
    base = ["restore", str(photo), "-o", str(out), "--model", "passthrough", *MOBILE]
    assert main([*base, "--faces", "99"]) == 1
    err = capsys.readouterr().err
    assert "face 99 does not exist; 2 faces (0 to 1) found" in err
    assert not out.exists()
    reference = tmp_path / "ref.jpg"
    shutil.copyfile(photo, reference)
    assert main([*base, "--reference", f"7={reference}"]) == 1
    assert "face 7 does not exist" in capsys.readouterr().err
    assert not out.exists()


# ---------------------------------------------------------------- settings files


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"faces": 5}, "faces must be a list of face indices"),
        ({"face": {"noise_seed": 2.5}}, "face: noise_seed must be a whole number, got 2.5"),
        ({"face": {"model": 5}}, "face: model must be text, got 5"),
        ({"face": {"color_match": "no"}}, 'face: color_match must be true or false, got "no"'),
        ({"grain": {"enabled": 1}}, "grain: enabled must be true or false, got 1"),
        ({"overrides": {"0": {"strength": "high"}}}, "overrides.0: strength must be a number"),
        ({"overrides": [1]}, "overrides must map face indices"),
        ({"output": 3}, "output: must be a JSON object of settings, got 3"),
        ({"limits": {"max_megapixels": 0}}, "limits: max_megapixels must be between"),
    ],
)
def test_settings_json_is_type_checked(tmp_path: Path, data: dict, message: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SettingsError) as caught:
        Settings.load(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00\x01garbage", "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"face": {"strength": }', "not valid JSON"),
        (b" " * (2 << 20), "too large for a settings file"),
    ],
)
def test_unreadable_settings_files_get_one_message(
    tmp_path: Path, photo: Path, content: bytes, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    out = tmp_path / "out.png"
    assert main(["restore", str(photo), "-o", str(out), "--settings", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and message in err[0]
    assert "Traceback" not in err[0] and not out.exists()


def test_settings_survive_a_round_trip_with_the_limits_section() -> None:
    settings = Settings.from_json({"limits": {"max_megapixels": 900}, "faces": [0, 2]})
    assert Settings.from_json(json.loads(settings.dumps())) == settings
    assert settings.limits.max_pixels == 900_000_000


# ---------------------------------------------------------------- bounded work


def test_an_output_over_the_pixel_budget_is_refused_before_allocation(
    models_dir: Path, photo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.png"
    args = ["restore", str(photo), "-o", str(out), "--model", "passthrough", *MOBILE]
    assert main([*args, "--width", "30000"]) == 1
    err = capsys.readouterr().err
    assert "the output would be 30000 x" in err and "over the limit of 400 MP" in err
    assert not out.exists()
    # raised, the same size is then refused by the memory estimate (~21 GB for 597 MP of RGB)
    monkeypatch.setattr("restore_core.engine.available_memory", lambda: 8_000_000_000)
    assert main([*args, "--width", "30000", "--max-megapixels", "100000"]) == 1
    assert "GB of memory" in capsys.readouterr().err


def test_the_memory_estimate_refuses_what_does_not_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    from restore_core.engine import check_output_budget
    from restore_core.params import LimitSettings

    monkeypatch.setattr("restore_core.engine.available_memory", lambda: 1_000_000_000)
    check_output_budget(5000, 4000, 3, LimitSettings())  # 20 MP: 0.72 GB
    with pytest.raises(SettingsError, match=r"needs about 2\.2 GB of memory; 1\.0 GB is free"):
        check_output_budget(10000, 6000, 3, LimitSettings())
    assert limits.available_memory() is not None  # this platform can say


def _png_bomb(path: Path, width: int, height: int) -> None:
    """A valid grey PNG of ``width`` x ``height`` zeros: megabytes on disk, hundreds of MP decoded."""
    row = b"\0" * (width + 1)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    _png_bomb(bomb, 19_000, 19_000)  # 361 MP in well under 1 MB: under the pixel limit
    assert bomb.stat().st_size < 1_000_000
    started = time.perf_counter()
    with pytest.raises(InputError, match="pixels per byte") as caught:
        load_image(bomb)
    assert time.perf_counter() - started < 2.0  # a header read, not a 25 s decode
    assert caught.value.path == bomb
    small = tmp_path / "flat.png"
    _png_bomb(small, 2000, 2000)  # 4 MP of flat grey: a graphic, not a bomb
    assert load_image(small).width == 2000


# ---------------------------------------------------------------- write failures


def test_a_report_that_cannot_be_written_leaves_no_image(
    models_dir: Path, photo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out, report, side = tmp_path / "out.png", tmp_path / "report.json", tmp_path / "side.jpg"
    real_add = WriteSet.add

    def disk_full_on_json(self: WriteSet, path: str | Path, write) -> Path:
        if str(path).endswith(".json"):
            raise OutputError(Path(path), "cannot write: the disk is full; free some space or write elsewhere")
        return real_add(self, path, write)

    monkeypatch.setattr(WriteSet, "add", disk_full_on_json)
    args = ["restore", str(photo), "-o", str(out), "--comparison", str(side), "--json", str(report)]
    assert main([*args, "--model", "passthrough", *MOBILE]) == 1
    assert "disk is full" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models", "photo.jpg"]  # no image, no temp


def test_a_failed_rename_takes_back_the_files_already_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_replace = os.replace

    def replace(src: str, dst: str | Path) -> None:
        if str(dst).endswith("b.txt"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError, match="disk is full"), WriteSet() as writes:
        writes.add(tmp_path / "a.txt", lambda fh: fh.write(b"a"))
        writes.add(tmp_path / "b.txt", lambda fh: fh.write(b"b"))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (30, "the drive is read-only"),
        (13, "permission denied"),
        (28, "the disk is full"),
        (20, "a part of the path is a file, not a folder"),
    ],
)
def test_operating_system_write_errors_name_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, message: str
) -> None:
    import builtins

    real_open = builtins.open

    def failing(file, mode="r", *args, **kwargs):
        if "x" in mode:
            raise OSError(code, os.strerror(code))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", failing)
    with pytest.raises(OutputError) as caught:
        save_image(LoadedImage(np.zeros((8, 8, 3), np.uint8)), tmp_path / "out.png")
    assert caught.value.path == tmp_path / "out.png"
    assert message in str(caught.value)
    assert os.listdir(tmp_path) == []


def test_output_folders_that_cannot_exist_are_clear_errors(
    photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    assert main(["restore", str(photo), str(photo), "-o", str(blocker / "out"), "--model", "passthrough"]) == 1
    err = capsys.readouterr().err
    assert str(blocker) in err and "Traceback" not in err
    with pytest.raises(OutputError, match="afile is a file, not a folder"):
        atomic_write(blocker / "deeper" / "x.png", lambda fh: fh.write(b"x"))


def test_temps_of_a_killed_run_are_removed_by_the_next(tmp_path: Path) -> None:
    host = socket.gethostname()
    dead = tmp_path / f".out.png.{host}-999999-0123456789ab{TEMP_SUFFIX}"  # no such process
    old = tmp_path / f".old.png.elsewhere-1-0123456789ab{TEMP_SUFFIX}"  # another host's, long ago
    fresh = tmp_path / f".new.png.elsewhere-1-abcdefabcdef{TEMP_SUFFIX}"  # another host's, writing now
    mine = tmp_path / "photo.facemend-tmp.jpg"  # not ours: the user's file
    for path in (dead, old, fresh, mine):
        path.write_bytes(b"x")
    stale = time.time() - STALE_AFTER_S - 10
    os.utime(old, (stale, stale))
    atomic_write(tmp_path / "report.json", lambda fh: fh.write(b"{}"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, mine.name, "report.json"])


# ---------------------------------------------------------------- batches do not grow


def test_opening_the_next_photo_drops_the_previous_photos_faces(face_models_dir: Path, photos_dir: Path) -> None:
    engine = RenderEngine(device="cpu")
    settings = Settings.from_json({"face": {"model": "codeformer"}, "detection": {"detector": "retinaface_mobile0.25"}})
    engine.open(photos_dir / "collage_two_faces.jpg")
    engine.detect(settings.detection)
    engine.render(settings)
    assert len(engine._outputs) == 2 and len(engine._features) == 2 and len(engine._matched) == 2
    engine.open(photos_dir / "two_children_film.jpg")
    assert not engine._outputs and not engine._features and not engine._matched and not engine.last_outputs
    assert engine.restorer("codeformer") is engine.restorer("codeformer")  # the model stays loaded


# ---------------------------------------------------------------- unverified model files


def test_an_unverified_model_is_named_on_stderr_and_in_the_report(
    face_models_dir: Path, photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    args = ["restore", str(photo), "-o", str(tmp_path / "out.png"), "--model", "gfpgan", "--json", str(report)]
    assert main([*args, *MOBILE]) == 0
    err = capsys.readouterr().err
    assert "note: photo.jpg: model gfpgan:" in err and "is not the published file" in err
    notes = json.loads(report.read_text())["notes"]
    assert any(n.startswith("model gfpgan:") for n in notes)
    assert any(n.startswith("model retinaface_mobile0.25:") for n in notes)


def test_conversions_the_user_did_not_ask_for_are_printed(
    models_dir: Path, photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    cmyk = tmp_path / "cmyk.jpg"
    Image.open(photo).convert("CMYK").save(cmyk)
    report = tmp_path / "report.json"
    args = ["restore", str(cmyk), "-o", str(tmp_path / "out.png"), "--json", str(report), "--model", "passthrough"]
    assert main([*args, *MOBILE]) == 0
    assert "note: cmyk.jpg: CMYK converted to sRGB" in capsys.readouterr().err
    assert "CMYK converted to sRGB" in json.loads(report.read_text())["notes"]
