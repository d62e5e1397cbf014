"""restore_core is Qt-free and independent of app; importing it stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "restore_core"


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_in_restore_core_imports_qt_or_app() -> None:
    offenders = {
        str(path.relative_to(CORE)): sorted(_imported_modules(path) & {"PySide6", "PyQt5", "PyQt6", "app", "shiboken6"})
        for path in CORE.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_core_loads_neither_qt_nor_torch() -> None:
    code = (
        "import sys, restore_core, restore_core.engine, restore_core.pipeline, restore_core.cli;"
        "heavy = sorted(m for m in ('PySide6', 'app', 'torch', 'facexlib', 'spandrel') if m in sys.modules);"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
