"""Only the product ships: a wheel built from the repository holds ``restore_core`` and ``app``,
no benchmark, test or stand-in code, and the installed app finds its icons."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "app", "restore_core", "resources", "devtools", "tests")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # built from a copy, so the checkout gets no build/ or egg-info folder
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), "."]
    subprocess.run(command, cwd=source, check=True, capture_output=True)
    (built,) = out.glob("facemend-*.whl")
    return built


def test_the_wheel_holds_the_product_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in names if not name.startswith("facemend-")}
    assert packages == {"app", "restore_core"}
    shipped = "\n".join(names)
    for development_only in ("bench", "startup_probe", "stand_in_models", "model_factory", "make_icons", "conftest"):
        assert development_only not in shipped, development_only
    data = [name for name in names if ".data/data/" in name]
    assert any(name.endswith("share/facemend/icons/facemend-256.png") for name in data), data


def test_the_installed_app_finds_its_icons(wheel: Path, tmp_path: Path) -> None:
    """Installed into a fresh environment (the Qt and numpy of this one on the path), away from
    the checkout: the icon comes from the wheel's data files."""
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    site = next(p for p in sys.path if p.endswith("site-packages"))
    probe = (
        "import app.resources as r; from PySide6.QtWidgets import QApplication; a = QApplication([]); "
        "print(r.__file__); print(r.resource_dir()); print(max(s.width() for s in r.app_icon().availableSizes()))"
    )
    env = {**os.environ, "PYTHONPATH": site, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([str(python), "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    module, folder, largest = done.stdout.split("\n")[:3]
    assert Path(module).is_relative_to(env_dir) and Path(folder) == env_dir / "share" / "facemend"
    assert int(largest) == 512
