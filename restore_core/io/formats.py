"""Which image format a file holds, judged by its content; the extensions the app offers.

The extension only decides what content cannot: TGA has no signature, and camera RAW
formats built on TIFF look like TIFF.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

#: bytes read from the start of a file to recognise it
HEAD_BYTES = 64

RAW_EXTENSIONS = frozenset(
    [
        ".dng",
        ".cr2",
        ".cr3",
        ".crw",
        ".nef",
        ".nrw",
        ".arw",
        ".srf",
        ".sr2",
        ".orf",
        ".rw2",
        ".raf",
        ".pef",
        ".ptx",
        ".srw",
        ".x3f",
        ".erf",
        ".kdc",
        ".dcr",
        ".mrw",
        ".3fr",
        ".fff",
        ".iiq",
        ".mos",
        ".rwl",
        ".mef",
        ".raw",
    ]
)
TGA_EXTENSIONS = frozenset({".tga", ".icb", ".vda", ".vst"})

_EXTENSIONS = {
    "JPEG": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "PNG": (".png",),
    "TIFF": (".tif", ".tiff"),
    "WEBP": (".webp",),
    "BMP": (".bmp", ".dib"),
    "TGA": tuple(sorted(TGA_EXTENSIONS)),
    "GIF": (".gif",),
    "HEIF": (".heic", ".heif", ".hif"),
    "AVIF": (".avif",),
    "RAW": tuple(sorted(RAW_EXTENSIONS)),
    "PSD": (".psd", ".psb"),
    "EXR": (".exr",),
    "HDR": (".hdr", ".rgbe"),
}

_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"mif2"}
)
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_DNG_VERSION_TAG = 50706


def _avif_available() -> bool:
    from PIL import features

    return bool(features.check("avif"))


#: every extension load_image reads, lower case with the dot: for file dialogs and folder batches
INPUT_EXTENSIONS: frozenset[str] = frozenset(
    ext for name, exts in _EXTENSIONS.items() if name != "AVIF" or _avif_available() for ext in exts
)


def detect_format(fh: BinaryIO, suffix: str) -> str | None:
    """The format name of the open file (see ``_EXTENSIONS``), or None if it is none of them."""
    fh.seek(0)
    head = fh.read(HEAD_BYTES)
    suffix = suffix.lower()
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
        is_raw = head[8:10] == b"CR" or suffix in RAW_EXTENSIONS or _has_dng_tag(fh, head)
        return "RAW" if is_raw else "TIFF"
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR", b"IIU\0") or head.startswith(b"FUJIFILMCCD-RAW"):
        return "RAW"
    if head[:4] in (b"FOVb", b"\0MRM") or head[6:14] == b"HEAPCCDR":
        return "RAW"
    if head[:4] == b"8BPS":
        return "PSD"
    if head[:4] == b"v/1\x01":
        return "EXR"
    if head.startswith((b"#?RADIANCE", b"#?RGBE")):
        return "HDR"
    if head[:2] == b"BM":
        return "BMP"
    if head[4:8] == b"ftyp":
        return _iso_media_format(head)
    if suffix in TGA_EXTENSIONS:
        return "TGA"
    return None


def _iso_media_format(head: bytes) -> str | None:
    """HEIF, AVIF or Canon CR3, from the brands of an ISO media ``ftyp`` box."""
    size = int.from_bytes(head[:4], "big")
    major = head[8:12]
    brands = {major} | {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
    if major == b"crx ":
        return "RAW"
    # mif1/msf1 are the generic HEIF image brands: an AV1 file says "avif" among its compatible brands
    if major in _AVIF_BRANDS or (brands & _AVIF_BRANDS and major in (b"mif1", b"msf1")):
        return "AVIF"
    if brands & _HEIF_BRANDS:
        return "HEIF"
    return None


def _has_dng_tag(fh: BinaryIO, head: bytes) -> bool:
    """Whether the first IFD of a classic TIFF holds DNGVersion (the mark of a DNG)."""
    if head[2:4] not in (b"*\0", b"\0*"):
        return False
    order = "<" if head[:2] == b"II" else ">"
    try:
        (offset,) = struct.unpack(order + "I", head[4:8])
        fh.seek(offset)
        (count,) = struct.unpack(order + "H", fh.read(2))
        entries = fh.read(12 * count)
        tags = struct.unpack(order + "HHII" * (len(entries) // 12), entries[: 12 * (len(entries) // 12)])
    except struct.error:
        return False
    return _DNG_VERSION_TAG in tags[::4]
