"""Shared fixtures: the offscreen Qt platform, ../shared test data, an isolated models folder."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any Qt import: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Plain helpers live in support.py: test modules import them from there, never from
# "conftest", a module name shared with tests/gui/conftest.py.
from support import DETECTOR_WEIGHTS, PHOTOS, SHARED

from devtools.stand_in_models import (
    write_random_codeformer,
    write_random_gfpgan,
    write_random_parsenet,
    write_random_restoreformer,
)
from restore_core.restore.backends.cache import ENV as CACHE_ENV


def pytest_configure(config: pytest.Config) -> None:
    if not DETECTOR_WEIGHTS.is_file():
        raise pytest.UsageError(
            f"test data not found at {SHARED}: check out the project beside ../shared "
            "or set FACEMEND_SHARED to the folder that holds testdata/"
        )


@pytest.fixture(scope="session", autouse=True)
def conversion_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache of converted models (OpenVINO, ONNX Runtime) for the whole session, never the
    user's: each stand-in model converts once per backend and precision, in the first test to
    run it (subprocesses inherit it)."""
    folder = tmp_path_factory.mktemp("cache")
    previous = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(folder)
    yield folder
    if previous is None:
        del os.environ[CACHE_ENV]
    else:
        os.environ[CACHE_ENV] = previous


@pytest.fixture(scope="session")
def photos_dir() -> Path:
    return PHOTOS


@pytest.fixture(scope="session")
def expected_faces() -> dict[str, list[list[float]]]:
    """Hand-checked face boxes per photo file name, from faces.json."""
    return json.loads((PHOTOS / "faces.json").read_text())["faces"]


@pytest.fixture(scope="session")
def aligned_dir() -> Path:
    return SHARED / "aligned"


@pytest.fixture(scope="session")
def detector_weights() -> Path:
    return DETECTOR_WEIGHTS


@pytest.fixture()
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty FACEMEND_MODELS folder holding only the real mobile0.25 detector weights.

    The shared file keeps its ``module.`` key prefix, so its hash differs from the published
    one: it is found, used, and reported as unverified, exactly as a user's own copy would be.
    """
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "detection_mobilenet0.25_Final.pth").symlink_to(DETECTOR_WEIGHTS)
    monkeypatch.setenv("FACEMEND_MODELS", str(folder))
    return folder


@pytest.fixture(scope="session")
def random_weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("random-weights")


@pytest.fixture(scope="session")
def random_gfpgan(random_weights_dir: Path) -> Path:
    """A random GFPGANv1.4.pth of the real architecture (about 350 MB), written once per session."""
    return write_random_gfpgan(random_weights_dir / "GFPGANv1.4.pth")


@pytest.fixture(scope="session")
def random_codeformer(random_weights_dir: Path) -> Path:
    """A random codeformer.pth of the real architecture (about 375 MB), written once per session."""
    return write_random_codeformer(random_weights_dir / "codeformer.pth")


@pytest.fixture(scope="session")
def random_parsenet(random_weights_dir: Path) -> Path:
    """A random parsing_parsenet.pth of the real architecture (about 85 MB), written once per session."""
    return write_random_parsenet(random_weights_dir / "parsing_parsenet.pth", SHARED / "aligned" / "0143.png")


@pytest.fixture(scope="session")
def random_restoreformer(random_weights_dir: Path) -> Path:
    """A random RestoreFormer.pth of the real architecture (about 290 MB), written once per session."""
    return write_random_restoreformer(random_weights_dir / "RestoreFormer.pth")


@pytest.fixture()
def face_models_dir(models_dir: Path, random_gfpgan: Path, random_codeformer: Path) -> Path:
    """``models_dir`` plus random GFPGAN and CodeFormer files under their published names, as a
    user has them who accepted CodeFormer's licence."""
    from restore_core.models import accept_licence, needs_licence

    (models_dir / "GFPGANv1.4.pth").symlink_to(random_gfpgan)
    (models_dir / "codeformer.pth").symlink_to(random_codeformer)
    for name in needs_licence():
        accept_licence(name)
    return models_dir


@pytest.fixture()
def parsing_models_dir(face_models_dir: Path, random_parsenet: Path) -> Path:
    """``face_models_dir`` plus a random ParseNet under its published name."""
    (face_models_dir / "parsing_parsenet.pth").symlink_to(random_parsenet)
    return face_models_dir


# Live Facemend servers on a free loopback port (``serve``), stopped at the end of each test.
from server_support import serve  # noqa: E402, F401
