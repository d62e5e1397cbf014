"""``python -m app --smoke-test``: the packaged app's self-check, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], models_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACEMEND_MODELS": str(models_dir), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )


def test_smoke_test_restores_and_saves_a_screenshot(models_dir: Path, photos_dir: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    done = _run(["--smoke-test", "--screenshot", str(shot), str(photos_dir / "two_children_film.jpg")], models_dir)
    assert done.returncode == 0, done.stderr
    assert "smoke test passed: two_children_film.jpg: 2 faces, model passthrough" in done.stdout
    image = QImage(str(shot))
    assert image.width() >= 800 and image.height() >= 600
    assert not list(models_dir.glob("*.part"))  # nothing was downloaded


def test_smoke_test_fails_with_the_reason(models_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 no image data")
    done = _run(["--smoke-test", str(broken)], models_dir)
    assert done.returncode == 1
    assert "smoke test failed" in done.stderr and "broken.jpg" in done.stderr
    missing = _run(["--smoke-test", str(tmp_path / "nothing.jpg")], models_dir)
    assert missing.returncode == 1 and "no such file" in missing.stderr
