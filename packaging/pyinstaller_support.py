"""What build.spec needs beyond PyInstaller's own hooks.

- torchvision's compiled operator libraries, which the stock hook misses (see
  ``torchvision_op_libraries``);
- the image types Facemend opens, for the macOS Info.plist (the Linux .desktop file and the
  Windows installer list the same types; tests/test_packaging.py keeps them in step);
- per-OS metadata: Info.plist entries and the Windows version resource;
- the licence notices of every distribution whose files end up in the bundle.

build.spec imports this module by file; nothing of it is frozen into the app.
"""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import importlib.util
import os
import re
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "Facemend"
BUNDLE_IDENTIFIER = "org.facemend.Facemend"
PUBLISHER = "The Facemend authors"

# torchvision >= 0.29 loads its operators (nms, roi_align, ...) and image codecs from
# `_C_stable` and `image_stable`: libraries registered with torch.ops.load_library, found next
# to torchvision/extension.py by extension suffix. pyinstaller-hooks-contrib still asks for the
# old `torchvision._C` / `torchvision.image` modules, which no longer exist, so the new files are
# never collected: torchvision swallows the failed load, then `import torchvision` itself fails
# in _meta_registrations (register_fake("torchvision::nms") runs unconditionally) with
# "operator torchvision::nms does not exist".
TORCHVISION_OP_LIBRARIES = ("_C_stable", "image_stable")


def torchvision_op_libraries() -> list[tuple[str, str]]:
    """(source, bundle folder) for torchvision's operator libraries, found the way torchvision finds them.

    Collected as binaries so PyInstaller also collects what they link against
    (torchvision.libs/ on Linux, the .dylibs folder on macOS, DLLs beside them on Windows).
    """
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        raise SystemExit("torchvision is not installed in the build environment")
    package_dir = Path(spec.origin).parent
    finder = importlib.machinery.FileFinder(
        str(package_dir), (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES)
    )
    found = []
    for name in TORCHVISION_OP_LIBRARIES:
        lib_spec = finder.find_spec(name)
        if lib_spec is None or lib_spec.origin is None:
            raise SystemExit(
                f"torchvision's {name} library is missing from {package_dir}: "
                "install the torchvision wheel that matches torch exactly"
            )
        found.append((lib_spec.origin, "torchvision"))
    return found


@dataclass(frozen=True)
class ImageType:
    """One kind of file Facemend opens, named the way each desktop OS names it."""

    name: str
    extensions: tuple[str, ...]  # without the dot, lower case
    mime_types: tuple[str, ...]  # freedesktop shared-mime-info names
    utis: tuple[str, ...]  # macOS uniform type identifiers


IMAGE_TYPES: tuple[ImageType, ...] = (
    ImageType("JPEG image", ("jpg", "jpeg", "jpe"), ("image/jpeg",), ("public.jpeg",)),
    ImageType("PNG image", ("png",), ("image/png",), ("public.png",)),
    ImageType("TIFF image", ("tif", "tiff"), ("image/tiff",), ("public.tiff",)),
    ImageType("WebP image", ("webp",), ("image/webp",), ("org.webmproject.webp",)),
    ImageType("BMP image", ("bmp",), ("image/bmp",), ("com.microsoft.bmp",)),
    ImageType("TGA image", ("tga",), ("image/x-tga",), ("com.truevision.tga-image",)),
    ImageType("HEIF image", ("heic", "heif"), ("image/heic", "image/heif"), ("public.heic", "public.heif")),
    ImageType("AVIF image", ("avif",), ("image/avif",), ("public.avif",)),
    ImageType(
        "Camera RAW image",
        ("dng", "cr2", "cr3", "nef", "arw", "orf", "rw2", "raf", "pef", "srw"),
        (
            "image/x-adobe-dng",
            "image/x-canon-cr2",
            "image/x-canon-cr3",
            "image/x-nikon-nef",
            "image/x-sony-arw",
            "image/x-olympus-orf",
            "image/x-panasonic-rw2",
            "image/x-fuji-raf",
            "image/x-pentax-pef",
            "image/x-samsung-srw",
        ),
        ("com.adobe.raw-image", "public.camera-raw-image"),
    ),
    ImageType("Photoshop document", ("psd",), ("image/vnd.adobe.photoshop",), ("com.adobe.photoshop-image",)),
    ImageType("OpenEXR image", ("exr",), ("image/x-exr",), ("com.ilm.openexr-image",)),
    ImageType("Radiance HDR image", ("hdr",), ("image/vnd.radiance",), ("public.radiance",)),
)


def macos_info_plist(version: str) -> dict[str, object]:
    """Info.plist entries added to PyInstaller's own: document types, high-DPI, version, copyright."""
    return {
        "CFBundleDisplayName": APP_NAME,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "NSHumanReadableCopyright": f"© {PUBLISHER}",
        "NSHighResolutionCapable": True,
        # Qt draws dark mode itself; let macOS give the window its dark title bar.
        "NSRequiresAquaSystemAppearance": False,
        "LSMinimumSystemVersion": "12.0",
        "LSApplicationCategoryType": "public.app-category.photography",
        "CFBundleDocumentTypes": [
            {
                "CFBundleTypeName": image_type.name,
                # Facemend reads the photo and writes a new file; the original is never modified.
                "CFBundleTypeRole": "Viewer",
                # Listed under "Open With", never taking over as the default app.
                "LSHandlerRank": "Alternate",
                "LSItemContentTypes": list(image_type.utis),
                "CFBundleTypeExtensions": list(image_type.extensions),
            }
            for image_type in IMAGE_TYPES
        ],
    }


def windows_version_file(version: str) -> str:
    """The Windows version resource (Explorer's Details tab, installer prompts) for ``version``.

    In the text form EXE(version=<file>) reads: PyInstaller's own classes need pefile, which
    only Windows installs have, and this way the text can be checked anywhere.
    """
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:4])
    numbers = numbers + (0,) * (4 - len(numbers))
    strings = {
        "CompanyName": PUBLISHER,
        "FileDescription": f"{APP_NAME}: restore faces in photographs",
        "FileVersion": version,
        "InternalName": APP_NAME,
        "LegalCopyright": f"© {PUBLISHER}",
        "OriginalFilename": f"{APP_NAME}.exe",
        "ProductName": APP_NAME,
        "ProductVersion": version,
    }
    string_structs = ",\n          ".join(f"StringStruct({key!r}, {value!r})" for key, value in strings.items())
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={numbers}, prodvers={numbers}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
          {string_structs}])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""


# ----------------------------------------------------------------------------- licences

_LICENCE_NAME = re.compile(r"^(licen[cs]e|copying|notice|authors)", re.IGNORECASE)


def _licence_file_target(relative: str) -> Path | None:
    """Where a distribution's file goes among its licence texts, or None if it is not one.

    Licence texts are looked for in the distribution's metadata folder (any depth: torch keeps
    its third-party licences there) and at the top of its package.
    """
    parts = Path(relative).parts
    if not _LICENCE_NAME.match(parts[-1]):
        return None
    if parts[0].endswith((".dist-info", ".egg-info")):
        return Path(*parts[1:])
    return Path(relative) if len(parts) == 2 else None


def _licence_summary(dist: importlib.metadata.Distribution) -> str:
    meta = dist.metadata
    expression = (meta.get("License-Expression") or meta.get("License") or "").strip()
    if expression:
        return expression.splitlines()[0]
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or () if c.startswith("License ::")]
    return ", ".join(classifiers) or "see the project's home page"


def _home_page(dist: importlib.metadata.Distribution) -> str:
    urls = [url.split(",", 1)[1].strip() for url in dist.metadata.get_all("Project-URL") or () if "," in url]
    return dist.metadata.get("Home-page") or (urls[0] if urls else "")


@dataclass(frozen=True)
class BundleOrigins:
    """Where the files of a bundle come from."""

    distributions: tuple[importlib.metadata.Distribution, ...]  # installed packages, by name
    python_runtime: tuple[str, ...]  # the interpreter's own files (standard library, libpython)
    system_libraries: tuple[str, ...]  # file names of libraries taken from the build machine


def bundle_origins(toc: Iterable[tuple[str, str, str]]) -> BundleOrigins:
    """Trace every file of PyInstaller's TOC entries (dest, source, typecode) to its origin.

    Each source is matched against the RECORD of every installed distribution, so the result
    is what is really bundled: a CPU build has no NVIDIA packages, a CUDA build each one.
    """

    def key(path: str) -> str:
        return os.path.normcase(os.path.normpath(path))

    # (name, distribution) per file; the name is read once, as metadata is re-parsed per access.
    owner: dict[str, tuple[str, importlib.metadata.Distribution]] = {}
    for dist in importlib.metadata.distributions():
        named = (dist.metadata["Name"].lower(), dist)
        for relative in dist.files or ():
            owner.setdefault(key(str(dist.locate_file(relative))), named)
    runtime_root = key(os.path.realpath(sys.base_prefix)) + os.sep
    dists: dict[str, importlib.metadata.Distribution] = {}
    runtime, system = set(), set()
    for _dest, source, typecode in toc:
        if typecode == "SYMLINK" or not source:  # a link inside the bundle, not a file of its own
            continue
        real = key(os.path.realpath(source))
        named = owner.get(key(source)) or owner.get(real)
        if named is not None:
            dists.setdefault(*named)
        elif real.startswith(runtime_root):
            runtime.add(Path(real).name)
        elif typecode in ("BINARY", "EXTENSION"):
            system.add(Path(real).name)
    return BundleOrigins(
        distributions=tuple(dists[name] for name in sorted(dists)),
        python_runtime=tuple(sorted(runtime)),
        system_libraries=tuple(sorted(system)),
    )


def write_licence_notices(
    toc: Iterable[tuple[str, str, str]], out_dir: Path, extra_notices: Path, own_licence: str
) -> Path:
    """Copy the licence texts of everything in the bundle into ``out_dir`` and index them.

    ``toc`` is PyInstaller's list of collected files (see ``bundle_origins``). ``extra_notices``
    holds texts that some wheels reference without shipping (Qt's LGPL, spandrel's MIT).
    Returns the index, THIRD-PARTY-NOTICES.txt.
    """
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    origins = bundle_origins(toc)

    lines = [
        f"{APP_NAME} is licensed under {own_licence}. It bundles the components below; the licence",
        "texts of each are in the folder of the same name beside this file.",
        "Model weights are not bundled: each is downloaded on request, its licence shown first.",
        "",
    ]
    for dist in origins.distributions:
        name = dist.metadata["Name"]
        copied: dict[Path, Path] = {}
        for relative in dist.files or ():
            target = _licence_file_target(str(relative))
            if target is not None and target not in copied:
                copied[target] = Path(dist.locate_file(relative))
        for target, source in copied.items():
            (out_dir / name / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, out_dir / name / target)
        lines.append(f"{name} {dist.version}: {_licence_summary(dist)}")
        if _home_page(dist):
            lines.append(f"    {_home_page(dist)}")
        lines += [f"    {(Path(name) / target).as_posix()}" for target in copied]
        if not copied:
            lines.append("    (its wheel ships no licence file: see the notices at the end)")

    python_licence = _python_licence_file()
    if origins.python_runtime and python_licence is not None:
        shutil.copyfile(python_licence, out_dir / "Python-LICENSE.txt")
        lines.append(f"Python {sys.version.split()[0]} (interpreter and standard library): PSF-2.0")
        lines.append("    Python-LICENSE.txt")

    notices = sorted(path for path in extra_notices.iterdir() if path.is_file())
    for notice in notices:
        shutil.copyfile(notice, out_dir / notice.name)
    lines += ["", "Notices for components whose wheels reference a licence without shipping it:"]
    lines += [f"    {notice.name}" for notice in notices]

    if origins.system_libraries:
        lines += ["", "Libraries taken from the build machine's operating system, under its licences:"]
        lines += [f"    {name}" for name in origins.system_libraries]

    index = out_dir / "THIRD-PARTY-NOTICES.txt"
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index


def _python_licence_file() -> Path | None:
    base = Path(sys.base_prefix)
    candidates = (
        base / "LICENSE.txt",  # Windows installs
        base / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "LICENSE.txt",
    )
    return next((path for path in candidates if path.is_file()), None)
