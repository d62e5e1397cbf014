"""The cache of converted models: keyed by all it depends on, atomic, damaged entries rebuilt,
and the next process starts from it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from restore_core.engine import ProgressEvent, RenderEngine
from restore_core.models import DEFAULT_FACE_MODEL
from restore_core.params import DetectionSettings, FaceSettings, Settings
from restore_core.restore import load_restorer
from restore_core.restore.backends import BACKENDS, cache

KEY = cache.CacheKey(
    weights_sha256="ab" * 32,
    architecture="GFPGAN",
    part="whole",
    backend="openvino",
    backend_version="2026.4.1",
    precision="fp32",
    input_shape=(1, 3, 512, 512),
    recipe="ir-static-fp32",
)


def _write(files: dict[str, bytes]):
    def write(folder: Path) -> None:
        for name, data in files.items():
            (folder / name).write_bytes(data)

    return write


def test_every_part_of_the_key_names_its_own_entry() -> None:
    changes = {
        "weights_sha256": "cd" * 32,
        "part": "decoder",
        "backend_version": "2027.0",
        "precision": "fp16",
        "input_shape": (4, 3, 512, 512),
        "recipe": "ir-static-fp16",
    }
    names = {dataclasses.replace(KEY, **{field: value}).folder_name() for field, value in changes.items()}
    assert len(names | {KEY.folder_name()}) == len(changes) + 1


def test_a_stored_entry_is_found_whole(tmp_path: Path) -> None:
    folder = cache.store(KEY, _write({"model.xml": b"<net/>", "model.bin": b"\0" * 1000}), tmp_path)
    assert cache.lookup(KEY, tmp_path) == folder
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "model.bin", "model.xml"]
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no partial folder left


@pytest.mark.parametrize(
    "damage",
    [
        lambda f: (f / "model.bin").write_bytes(b"\0" * 999 + b"\1"),  # a changed byte, same size
        lambda f: (f / "model.bin").write_bytes(b"\0" * 10),  # truncated
        lambda f: (f / "model.xml").unlink(),  # a file gone
        lambda f: (f / cache.MANIFEST).unlink(),  # a crash before the manifest was written
        lambda f: (f / cache.MANIFEST).write_text("{"),  # a manifest cut short
    ],
)
def test_a_damaged_entry_is_removed_not_used(tmp_path: Path, damage) -> None:
    folder = cache.store(KEY, _write({"model.xml": b"<net/>", "model.bin": b"\0" * 1000}), tmp_path)
    damage(folder)
    assert cache.lookup(KEY, tmp_path) is None and not folder.exists()
    assert cache.lookup(KEY, tmp_path) is None  # and stays a miss until stored again


def test_an_entry_made_for_another_key_is_stale(tmp_path: Path) -> None:
    folder = cache.store(KEY, _write({"model.xml": b"<net/>"}), tmp_path)
    manifest = json.loads((folder / cache.MANIFEST).read_text())
    manifest["key"]["backend_version"] = "2025.1"
    (folder / cache.MANIFEST).write_text(json.dumps(manifest))
    assert cache.lookup(KEY, tmp_path) is None


def test_a_newer_backend_replaces_the_older_entry_of_the_same_model(tmp_path: Path) -> None:
    older = cache.store(KEY, _write({"model.xml": b"old"}), tmp_path)
    newer_key = dataclasses.replace(KEY, backend_version="2027.0")
    newer = cache.store(newer_key, _write({"model.xml": b"new"}), tmp_path)
    assert not older.exists() and cache.lookup(newer_key, tmp_path) == newer
    other_model = dataclasses.replace(KEY, weights_sha256="cd" * 32)
    kept = cache.store(other_model, _write({"model.xml": b"other"}), tmp_path)
    assert newer.exists() and kept.exists()


def test_a_failed_conversion_leaves_nothing(tmp_path: Path) -> None:
    def fail(folder: Path) -> None:
        (folder / "model.xml").write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        cache.store(KEY, fail, tmp_path)
    assert list(tmp_path.iterdir()) == [] and cache.lookup(KEY, tmp_path) is None


# ----- the real conversion -----------------------------------------------------------------------
@pytest.fixture()
def face(aligned_dir: Path) -> np.ndarray:
    return np.asarray(Image.open(aligned_dir / "0143.png").convert("RGB"), dtype=np.float32)[None] / 255


def _openvino_gfpgan() -> object:
    return load_restorer(DEFAULT_FACE_MODEL, torch.device("cpu"), allow_download=False, backend=BACKENDS["openvino"])


def test_a_damaged_conversion_is_converted_again_as_a_visible_step(
    face_models_dir: Path, photos_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, face: np.ndarray
) -> None:
    restorer = _openvino_gfpgan()
    restorer.prepare()  # converted into the session's cache, or found there
    entries = [p for p in cache.cache_root().glob("GFPGAN-whole-openvino-*") if p.is_dir()]
    private = tmp_path / "cache"
    shutil.copytree(entries[0], private / "converted" / entries[0].name)
    monkeypatch.setenv(cache.ENV, str(private))
    weights = private / "converted" / entries[0].name / "model.bin"
    with weights.open("r+b") as f:  # one flipped byte in the weights: a disk error
        f.seek(weights.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))

    settings = Settings(
        detection=DetectionSettings(detector="retinaface_mobile0.25"),
        face=FaceSettings(model=DEFAULT_FACE_MODEL, mask="box"),
        backend="openvino",
    )
    engine = RenderEngine(device="cpu")
    engine.open(photos_dir / "collage_two_faces.jpg")
    engine.detect(settings.detection)
    events: list[ProgressEvent] = []
    result = engine.render(settings, events.append)
    preparing = [e.message for e in events if e.stage == "prepare-model" and e.done == 0]
    assert len(preparing) == 1 and preparing[0].startswith("Preparing GFPGAN for this CPU, once, about ")
    assert {f.backend for f in result.faces} == {"openvino"}
    assert _openvino_gfpgan().preparation() is None  # rebuilt and whole
    np.testing.assert_array_equal(_openvino_gfpgan().restore(face, 0.0), restorer.restore(face, 0.0))


SECOND_PROCESS = """
import hashlib, json, sys
import numpy as np, torch
from PIL import Image
from restore_core.models import DEFAULT_FACE_MODEL
from restore_core.restore import load_restorer
from restore_core.restore.backends import BACKENDS
restorer = load_restorer(DEFAULT_FACE_MODEL, torch.device("cpu"), allow_download=False, backend=BACKENDS["openvino"])
preparation = restorer.preparation()
face = np.asarray(Image.open(sys.argv[1]).convert("RGB"), dtype=np.float32)[None] / 255
out = restorer.restore(face, 0.0)
print(json.dumps({"preparation": preparation, "sha256": hashlib.sha256(out.tobytes()).hexdigest()}))
"""


def test_the_next_process_starts_from_the_cache(face_models_dir: Path, aligned_dir: Path, face: np.ndarray) -> None:
    restorer = _openvino_gfpgan()
    restorer.prepare()
    before = {p: p.stat().st_mtime_ns for p in cache.cache_root().iterdir()}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, str(aligned_dir / "0143.png")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    assert answer["preparation"] is None  # nothing to convert: the cache was used
    assert {p: p.stat().st_mtime_ns for p in cache.cache_root().iterdir()} == before  # and left as it was
    assert answer["sha256"] == hashlib.sha256(restorer.restore(face, 0.0).tobytes()).hexdigest()
