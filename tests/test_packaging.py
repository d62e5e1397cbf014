"""The packaging recipes agree with each other and with the core, and the icons are complete.

The frozen build itself is proved by packaging/build_linux.sh (minutes, gigabytes), not here.
"""

from __future__ import annotations

import configparser
import importlib
import importlib.util
import plistlib
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
RESOURCES = REPO / "resources"
ICONS = RESOURCES / "icons"
DESKTOP_FILE = RESOURCES / "linux" / "org.facemend.Facemend.desktop"
INNO_SCRIPT = REPO / "packaging" / "windows" / "facemend.iss"


def _load(name: str, path: Path) -> ModuleType:
    # By file: the folder "packaging" must not shadow PyPA's `packaging` module.
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def support() -> ModuleType:
    return _load("pyinstaller_support", REPO / "packaging" / "pyinstaller_support.py")


@pytest.fixture(scope="module")
def make_icons() -> ModuleType:
    return importlib.import_module("devtools.make_icons")


def _extensions(support: ModuleType) -> set[str]:
    return {ext for image_type in support.IMAGE_TYPES for ext in image_type.extensions}


def test_associated_types_are_types_the_core_reads(support: ModuleType) -> None:
    from restore_core.io.formats import INPUT_EXTENSIONS

    offered = {f".{ext}" for ext in _extensions(support)}
    assert offered <= INPUT_EXTENSIONS, f"associated but unreadable: {sorted(offered - INPUT_EXTENSIONS)}"


def test_desktop_file_lists_the_same_mime_types(support: ModuleType) -> None:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP_FILE, encoding="utf-8")
    entry = parser["Desktop Entry"]
    listed = [mime for mime in entry["MimeType"].split(";") if mime]
    expected = [mime for image_type in support.IMAGE_TYPES for mime in image_type.mime_types]
    assert listed == expected
    assert entry["Exec"].endswith(" %F")  # several files at once
    assert entry["Icon"] == DESKTOP_FILE.stem == support.BUNDLE_IDENTIFIER


def test_windows_installer_offers_open_with_for_the_same_extensions(support: ModuleType) -> None:
    script = INNO_SCRIPT.read_text(encoding="utf-8")
    open_with = set(re.findall(r'Subkey: "Software\\Classes\\\.(\w+)\\OpenWithProgids"', script))
    supported = set(re.findall(r'SupportedTypes"; ValueType: string; ValueName: "\.(\w+)"', script))
    assert open_with == supported == _extensions(support)


def test_windows_installer_uses_the_committed_icon_and_bundle() -> None:
    script = INNO_SCRIPT.read_text(encoding="utf-8")
    icon = re.search(r"^SetupIconFile=(.+)$", script, re.MULTILINE)
    assert icon is not None
    assert (INNO_SCRIPT.parent / icon.group(1).strip().replace("\\", "/")).resolve() == ICONS / "facemend.ico"
    assert 'Source: "..\\..\\dist\\Facemend\\*"' in script


def test_info_plist_declares_every_type_and_high_dpi(support: ModuleType) -> None:
    plist = plistlib.loads(plistlib.dumps(support.macos_info_plist("1.2.3")))  # must serialise
    assert plist["NSHighResolutionCapable"] is True
    assert plist["CFBundleShortVersionString"] == "1.2.3"
    declared = {ext for doc in plist["CFBundleDocumentTypes"] for ext in doc["CFBundleTypeExtensions"]}
    assert declared == _extensions(support)
    assert all(
        doc["LSHandlerRank"] == "Alternate" and doc["LSItemContentTypes"] for doc in plist["CFBundleDocumentTypes"]
    )


def test_windows_version_resource_carries_the_version(support: ModuleType) -> None:
    """The text is what PyInstaller eval()s with its version-info classes; stand-ins record the calls."""
    names = (
        "VSVersionInfo",
        "FixedFileInfo",
        "StringFileInfo",
        "StringTable",
        "StringStruct",
        "VarFileInfo",
        "VarStruct",
    )

    def recorder(name: str) -> Callable[..., tuple[str, Any, Any]]:
        return lambda *args, **kwargs: (name, args, kwargs)

    namespace = {name: recorder(name) for name in names}
    kind, _args, parts = eval(support.windows_version_file("0.12.3"), namespace)
    assert kind == "VSVersionInfo"
    assert parts["ffi"][2]["filevers"] == parts["ffi"][2]["prodvers"] == (0, 12, 3, 0)
    string_table = parts["kids"][0][1][0][0]
    strings = dict(struct[1] for struct in string_table[1][1])
    assert strings["ProductVersion"] == strings["FileVersion"] == "0.12.3"
    assert strings["OriginalFilename"] == "Facemend.exe"


def test_torchvision_ops_are_collected_from_their_new_libraries(support: ModuleType) -> None:
    """The stock hook asks for torchvision._C, which is gone: the ops live in _C_stable now."""
    torchvision_spec = importlib.util.find_spec("torchvision")  # finds without importing torch
    assert torchvision_spec is not None and torchvision_spec.origin is not None
    assert not list(Path(torchvision_spec.origin).parent.glob("_C.*"))
    libraries = support.torchvision_op_libraries()
    names = sorted(Path(source).name.split(".")[0] for source, _dest in libraries)
    assert names == ["_C_stable", "image_stable"]
    assert all(Path(source).is_file() and dest == "torchvision" for source, dest in libraries)


def test_licence_notices_trace_files_to_their_packages(support: ModuleType, tmp_path: Path) -> None:
    import os

    import numpy

    numpy_init = Path(numpy.__file__)
    toc = [
        ("numpy/__init__.py", str(numpy_init), "DATA"),
        ("os.py", os.__file__, "PYMODULE"),  # the interpreter's standard library
        ("libnumpy-link.so", "numpy/__init__.py", "SYMLINK"),  # a link, not a file of its own
    ]
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "Qt-NOTICE.txt").write_text("LGPL")
    index = support.write_licence_notices(toc, tmp_path / "out", extra, "the Apache License 2.0")
    text = index.read_text(encoding="utf-8")
    assert re.search(rf"^numpy {re.escape(numpy.__version__)}: ", text, re.MULTILINE)
    assert "    numpy/licenses/LICENSE.txt" in text and (tmp_path / "out/numpy/licenses/LICENSE.txt").is_file()
    assert "Python-LICENSE.txt" in text and (tmp_path / "out/Python-LICENSE.txt").is_file()
    assert (tmp_path / "out/Qt-NOTICE.txt").read_text() == "LGPL"
    assert "operating system" not in text  # nothing here came from outside a package or Python


def test_icon_files_hold_every_size(make_icons: ModuleType) -> None:
    for size in make_icons.PNG_SIZES:
        with Image.open(make_icons.png_path(size)) as png:
            assert png.size == (size, size) and png.mode == "RGBA"
    with Image.open(ICONS / "facemend.ico") as ico:
        assert ico.info["sizes"] == {(s, s) for s in make_icons.ICO_SIZES}
    with Image.open(ICONS / "facemend.icns") as icns:
        assert {(w, h) for w, h, _scale in icns.info["sizes"]} >= {(s, s) for s in (16, 32, 128, 256, 512)}


def test_committed_icons_match_the_drawing(make_icons: ModuleType) -> None:
    """Catches an SVG edited without re-running devtools/make_icons.py."""
    size = 64
    fresh = np.asarray(make_icons.render(make_icons.SVG, size), dtype=np.int16)
    with Image.open(make_icons.png_path(size)) as png:
        committed = np.asarray(png.convert("RGBA"), dtype=np.int16)
    assert np.abs(fresh - committed).mean() < 2.0
    corner, centre = committed[1, 1], committed[size // 2, size // 2]
    assert corner[3] == 0 and centre[3] == 255  # transparent around the rounded tile, opaque inside
