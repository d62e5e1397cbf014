"""Test files in every format Facemend reads, generated from the shared test photos.

Every writer here uses a library other than restore_core.io (Pillow, OpenCV, tifffile,
pillow-heif, pidng, psd-tools, OpenEXR) so decoding is checked against independent encoders.
Each ``write_*`` takes the folder and the upright pixels it must decode back to.
"""

from __future__ import annotations

import io
import struct
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

# How EXIF orientation n is displayed, as PIL.ImageOps.exif_transpose does it: the independent reference.
_DISPLAY = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def photo(photos_dir: Path, name: str = "collage_two_faces.jpg", long_side: int | None = 240) -> np.ndarray:
    """An upright RGB uint8 test photo, optionally shrunk so its long side is ``long_side``."""
    image = Image.open(photos_dir / name).convert("RGB")
    if long_side is not None:
        scale = long_side / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)
    return np.asarray(image).copy()


def deepen(rgb8: np.ndarray) -> np.ndarray:
    """16-bit pixels with meaningful low bits: any 8-bit shortcut in a decoder shows up."""
    y, x = np.indices(rgb8.shape[:2])
    low = ((x * 7 + y * 13) % 256).astype(np.uint16)
    low = low[..., None] if rgb8.ndim == 3 else low
    return rgb8.astype(np.uint16) * 256 + low


def grey(rgb8: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb8).convert("L"))


def alpha_ramp(height: int, width: int, dtype: type = np.uint8) -> np.ndarray:
    """An alpha channel with every level: opaque, transparent and everything between."""
    top = np.iinfo(dtype).max if np.issubdtype(dtype, np.integer) else 1.0
    ramp = np.linspace(0, top, width, dtype=np.float64)[None, :].repeat(height, axis=0)
    ramp[: height // 4] = top
    return ramp.astype(dtype)


def store_oriented(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels a camera stores for ``upright`` with EXIF ``orientation`` (any dtype, with numpy)."""
    stored = {
        1: lambda a: a,
        2: np.fliplr,
        3: lambda a: np.rot90(a, 2),
        4: np.flipud,
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, 1),  # shown turned a quarter clockwise, so stored a quarter the other way
        7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
        8: lambda a: np.rot90(a, -1),
    }[orientation](upright)
    return np.ascontiguousarray(stored)


def display_oriented(stored: np.ndarray, orientation: int) -> np.ndarray:
    """Pillow's reading of stored pixels with ``orientation``: the independent reference."""
    if orientation == 1:
        return stored
    return np.asarray(Image.fromarray(stored).transpose(_DISPLAY[orientation]))


# ---------------------------------------------------------------- metadata


def exif_bytes(orientation: int = 1, *, thumbnail: bool = False, **tags: object) -> bytes:
    """EXIF with Make/Model/DateTimeOriginal, the orientation and optionally an IFD1 thumbnail."""
    exif = Image.Exif()
    exif[0x010F] = "FacemendTestCam"
    exif[0x0110] = "Model 1"
    exif[0x0112] = orientation
    exif[0x8769] = {0x9003: "2001:02:03 04:05:06", 0xA002: 999, 0xA003: 999}
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}
    for tag, value in tags.items():
        exif[int(tag.removeprefix("tag_"), 16)] = value
    data = exif.tobytes()
    if thumbnail:
        data = _with_thumbnail(data)
    return data


def exif_with_dangling_pointer() -> bytes:
    """EXIF whose IFD0 points the EXIF sub-IFD far past its end, as damaged files do."""
    data = bytearray(exif_bytes())
    order = "<" if data[6:8] == b"II" else ">"
    (ifd0,) = struct.unpack_from(order + "I", data, 6 + 4)
    (count,) = struct.unpack_from(order + "H", data, 6 + ifd0)
    for i in range(count):
        entry = 6 + ifd0 + 2 + 12 * i
        if struct.unpack_from(order + "H", data, entry)[0] == 0x8769:
            struct.pack_into(order + "I", data, entry + 8, 10**8)
    return bytes(data)


def _with_thumbnail(exif: bytes) -> bytes:
    """Chain an IFD1 with a small JPEG thumbnail after IFD0 of an EXIF block."""
    thumb = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 10, 10)).save(thumb, "JPEG")
    tiff = bytearray(exif[6:])
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd0,) = struct.unpack_from(order + "I", tiff, 4)
    (count,) = struct.unpack_from(order + "H", tiff, ifd0)
    next_pointer = ifd0 + 2 + 12 * count
    ifd1 = len(tiff) + len(tiff) % 2
    tiff += b"\0" * (ifd1 - len(tiff))
    data_at = ifd1 + 2 + 2 * 12 + 4
    tiff += struct.pack(order + "H", 2)
    tiff += struct.pack(order + "HHII", 0x0201, 4, 1, data_at)  # JPEGInterchangeFormat
    tiff += struct.pack(order + "HHII", 0x0202, 4, 1, len(thumb.getvalue()))
    tiff += struct.pack(order + "I", 0)
    tiff += thumb.getvalue()
    struct.pack_into(order + "I", tiff, next_pointer, ifd1)
    return b"Exif\0\0" + bytes(tiff)


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
    b'tiff:Orientation="6"><dc:title>Facemend test</dc:title></rdf:Description></rdf:RDF></x:xmpmeta>'
)


def iptc_bytes(caption: str = "Grandma and the twins") -> bytes:
    """IPTC-IIM: record version and a caption (2:120)."""
    text = caption.encode()
    return b"\x1c\x02\x00\x00\x02\x00\x04" + b"\x1c\x02\x78" + struct.pack(">H", len(text)) + text


def jpeg_app13(iptc: bytes) -> bytes:
    """A JPEG APP13 segment: Photoshop image resource 0x0404 holding IPTC-IIM."""
    body = b"Photoshop 3.0\0" + b"8BIM\x04\x04\0\0" + struct.pack(">I", len(iptc)) + iptc + b"\0" * (len(iptc) % 2)
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


# ---------------------------------------------------------------- ICC profiles

_D50 = (0.9642, 1.0, 0.8249)
#: Adobe RGB (1998) colorants adapted to D50, with its 563/256 gamma
ADOBE_RGB_COLORANTS = (
    (0.6097559, 0.3111242, 0.0194811),
    (0.2052401, 0.6256560, 0.0608902),
    (0.1492240, 0.0632197, 0.7448387),
)
ADOBE_RGB_GAMMA = 563 / 256


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(xyz: tuple[float, float, float]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in xyz)


def _gamma_tag(gamma: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _desc_tag(text: str) -> bytes:
    ascii_text = text.encode() + b"\0"
    body = b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text
    return body + b"\0" * 8 + b"\0\0\0" + b"\0" * 67


def _text_tag(text: str) -> bytes:
    return b"text\0\0\0\0" + text.encode() + b"\0"


def icc_profile(space: bytes, tags: dict[bytes, bytes]) -> bytes:
    """A version 2 display profile with ``tags`` (plus description, copyright, white point)."""
    tags = {
        b"desc": _desc_tag("Facemend test " + space.decode().strip()),
        b"cprt": _text_tag("public domain"),
        b"wtpt": _xyz_tag(_D50),
        **tags,
    }
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table, data = struct.pack(">I", len(tags)), b""
    for sig, body in tags.items():
        body += b"\0" * (-len(body) % 4)
        table += struct.pack(">4sII", sig, offset + len(data), len(body))
        data += body
    size = 128 + table_size + len(data)
    now = time.gmtime(0)
    header = struct.pack(
        ">I4sI4s4s4s6H4s4sI4s4sII",
        size,
        b"none",
        0x02100000,
        b"mntr",
        space,
        b"XYZ ",
        now.tm_year,
        now.tm_mon,
        now.tm_mday,
        0,
        0,
        0,
        b"acsp",
        b"APPL",
        0,
        b"none",
        b"none",
        0,
        0,
    )
    header += struct.pack(">I", 0) + b"".join(_s15(v) for v in _D50) + b"none"
    header += b"\0" * (128 - len(header))
    return header + table + data


def adobe_rgb_profile() -> bytes:
    colorants = dict(zip((b"rXYZ", b"gXYZ", b"bXYZ"), ADOBE_RGB_COLORANTS, strict=True))
    curve = _gamma_tag(ADOBE_RGB_GAMMA)
    return icc_profile(
        b"RGB ", {**{k: _xyz_tag(v) for k, v in colorants.items()}, b"rTRC": curve, b"gTRC": curve, b"bTRC": curve}
    )


def grey_gamma_profile(gamma: float = 1.8) -> bytes:
    return icc_profile(b"GRAY", {b"kTRC": _gamma_tag(gamma)})


def srgb_profile_from_lcms() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def is_srgb(profile: bytes | None) -> bool:
    from PIL import ImageCms

    return profile is not None and "sRGB" in ImageCms.getProfileDescription(
        ImageCms.ImageCmsProfile(io.BytesIO(profile))
    )


# ---------------------------------------------------------------- writers


def _pil_image(pixels: np.ndarray, alpha: np.ndarray | None = None) -> Image.Image:
    data = pixels if pixels.ndim == 2 or pixels.shape[2] != 1 else pixels[..., 0]
    if alpha is not None:
        data = np.dstack([data, alpha])
    return Image.fromarray(np.ascontiguousarray(data))


def write_pillow(
    path: Path, pixels: np.ndarray, alpha: np.ndarray | None = None, *, orientation: int = 1, **params: object
) -> Path:
    """Any Pillow format, with the pixels stored for ``orientation`` and EXIF saying so."""
    image = _pil_image(
        store_oriented(pixels, orientation), None if alpha is None else store_oriented(alpha, orientation)
    )
    if orientation != 1 and "exif" not in params:
        params["exif"] = exif_bytes(orientation)
    image.save(path, **params)
    return path


def write_png_16bit(path: Path, pixels: np.ndarray, alpha: np.ndarray | None = None) -> Path:
    """16-bit grey, RGB or RGBA PNG through OpenCV (Pillow cannot write 16-bit colour)."""
    import cv2

    data = pixels[..., ::-1] if pixels.ndim == 3 and pixels.shape[2] == 3 else pixels
    if alpha is not None:
        data = np.dstack([data, alpha])
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(data))
    assert ok
    path.write_bytes(encoded.tobytes())
    return path


def write_tiff(
    path: Path,
    pixels: np.ndarray,
    alpha: np.ndarray | None = None,
    *,
    orientation: int = 1,
    icc: bytes | None = None,
    compression: str | None = "zlib",
    planar: bool = False,
    pages: int = 1,
    xmp: bytes | None = None,
    iptc: bytes | None = None,
) -> Path:
    """tifffile TIFF (8/16-bit, float, grey or RGB, alpha, planar, multi-page) with an orientation tag."""
    import tifffile

    stored = store_oriented(pixels, orientation)
    data = stored if alpha is None else np.dstack([stored, store_oriented(alpha, orientation)])
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[..., 0]
    if planar and data.ndim == 3:
        data = np.moveaxis(data, -1, 0)
    colour = pixels.ndim == 3 and pixels.shape[2] == 3
    extratags = [(274, "H", 1, orientation, True)]
    if xmp:
        extratags.append((700, "B", len(xmp), xmp, True))
    if iptc:
        extratags.append((33723, 7, len(iptc), iptc, True))
    with tifffile.TiffWriter(path) as tif:
        for page in range(pages):
            tif.write(
                data if page == 0 else data[::2, ::2] if not planar else data[:, ::2, ::2],
                photometric="rgb" if colour else "minisblack",
                planarconfig="separate" if planar else "contig",
                extrasamples=["unassalpha"] if alpha is not None else None,
                compression=compression,
                iccprofile=icc if page == 0 else None,
                metadata=None,
                extratags=extratags if page == 0 else [],
            )
    return path


def write_tiff_lzw(path: Path, pixels: np.ndarray, alpha: np.ndarray | None = None) -> Path:
    """LZW TIFF through OpenCV's libtiff (tifffile needs imagecodecs for LZW)."""
    import cv2

    data = pixels[..., ::-1] if pixels.shape[2] == 3 else pixels
    if alpha is not None:
        data = np.dstack([data, alpha])
    ok, encoded = cv2.imencode(".tif", np.ascontiguousarray(data), [cv2.IMWRITE_TIFF_COMPRESSION, 5])
    assert ok
    path.write_bytes(encoded.tobytes())
    return path


def write_heic(
    path: Path, pixels: np.ndarray, *, orientation: int = 1, quality: int = 95, icc: bytes | None = None
) -> Path:
    import pillow_heif

    image = _pil_image(store_oriented(pixels, orientation))
    if icc:
        image.info["icc_profile"] = icc
    pillow_heif.from_pillow(image).save(path, quality=quality, exif=exif_bytes(orientation), chroma=444)
    return path


def write_dng(path: Path, pixels: np.ndarray, *, orientation: int = 1) -> Path:
    """A Bayer (RGGB) DNG whose camera space is linear sRGB, so a correct decode looks like ``pixels``."""
    from pidng.core import RAW2DNG
    from pidng.defs import CalibrationIlluminant, CFAPattern, DNGVersion, PhotometricInterpretation
    from pidng.dng import DNGTags, Tag

    stored = store_oriented(pixels, orientation).astype(np.float64) / 255
    linear = np.where(stored <= 0.04045, stored / 12.92, ((stored + 0.055) / 1.055) ** 2.4)
    height, width = linear.shape[:2]
    mosaic = np.empty((height, width), dtype=np.uint16)
    white = 4095
    for (dy, dx), channel in (((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 2)):
        mosaic[dy::2, dx::2] = np.rint(linear[dy::2, dx::2, channel] * white)
    xyz_to_srgb = ((3.2406, -1.5372, -0.4986), (-0.9689, 1.8758, 0.0415), (0.0557, -0.2040, 1.0570))
    tags = DNGTags()
    for tag, value in (
        (Tag.ImageWidth, width),
        (Tag.ImageLength, height),
        (Tag.TileWidth, width),
        (Tag.TileLength, height),
        (Tag.Orientation, orientation),
        (Tag.PhotometricInterpretation, PhotometricInterpretation.Color_Filter_Array),
        (Tag.SamplesPerPixel, 1),
        (Tag.BitsPerSample, 16),
        (Tag.CFARepeatPatternDim, [2, 2]),
        (Tag.CFAPattern, CFAPattern.RGGB),
        (Tag.BlackLevel, 0),
        (Tag.WhiteLevel, white),
        (Tag.ColorMatrix1, [[round(v * 10000), 10000] for row in xyz_to_srgb for v in row]),
        (Tag.CalibrationIlluminant1, CalibrationIlluminant.D65),
        (Tag.AsShotNeutral, [[1, 1], [1, 1], [1, 1]]),
        (Tag.Make, "FacemendTestCam"),
        (Tag.Model, "DNG 1"),
        (Tag.DNGVersion, DNGVersion.V1_4),
        (Tag.DNGBackwardVersion, DNGVersion.V1_2),
    ):
        tags.set(tag, value)
    converter = RAW2DNG()
    converter.options(tags, path="", compress=False)
    path.write_bytes(bytes(converter.convert(mosaic)))
    return path


def write_psd(path: Path, pixels: np.ndarray) -> Path:
    """A layered PSD (one pixel layer) of 8- or 16-bit grey or RGB pixels, with its merged image."""
    from psd_tools import PSDImage

    mode = "L" if pixels.shape[2] == 1 else "RGB"
    depth = 16 if pixels.dtype == np.uint16 else 8
    psd = PSDImage.new(mode, (pixels.shape[1], pixels.shape[0]), depth=depth)
    psd.create_pixel_layer_from_array(pixels if mode == "RGB" else pixels[..., 0], name="photo")
    psd.save(path)
    return path


def write_exr(path: Path, pixels: np.ndarray, alpha: np.ndarray | None = None, *, half: bool = False) -> Path:
    import OpenEXR

    dtype = np.float16 if half else np.float32
    names = ["Y"] if pixels.shape[2] == 1 else ["R", "G", "B"]
    channels = {name: np.ascontiguousarray(pixels[..., i].astype(dtype)) for i, name in enumerate(names)}
    if alpha is not None:
        channels["A"] = alpha.astype(dtype)
    OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, channels).write(str(path))
    return path


def write_radiance(path: Path, pixels: np.ndarray) -> Path:
    import cv2

    ok, encoded = cv2.imencode(".hdr", np.ascontiguousarray(pixels[..., ::-1].astype(np.float32)))
    assert ok
    path.write_bytes(encoded.tobytes())
    return path


def hdr_scene(rgb8: np.ndarray) -> np.ndarray:
    """Scene-linear float32 from a photo, with highlights far above 1.0 like a real HDR."""
    linear = (rgb8.astype(np.float32) / 255) ** 2.2
    return (linear * 4.0 + linear**4 * 60.0).astype(np.float32)


# ---------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Sample:
    """One generated file and what load_image must make of it."""

    path: Path
    #: upright pixels as decoded (H x W x C), and alpha
    pixels: np.ndarray
    alpha: np.ndarray | None
    #: None: bit-identical; else the largest mean absolute error allowed (lossy or developed),
    #: relative to the brightest channel of each pixel for float data
    tolerance: float | None = None
    format: str = ""


SAMPLE_NAMES = (
    "jpeg",
    "jpeg_grey",
    "png",
    "png_alpha",
    "png_grey",
    "png_grey_alpha",
    "png16",
    "png16_alpha",
    "png16_grey",
    "png_palette",
    "tiff",
    "tiff16",
    "tiff16_alpha",
    "tiff16_grey",
    "tiff16_planar",
    "tiff_float",
    "tiff_pages",
    "tiff16_lzw",
    "tiff_lzw_alpha",
    "tiff_cmyk",
    "webp",
    "webp_lossy",
    "bmp",
    "tga",
    "gif",
    "heic",
    "avif",
    "dng",
    "psd",
    "psd16",
    "psd16_grey",
    "exr",
    "exr_half_grey",
    "radiance",
)


def catalogue(folder: Path, rgb: np.ndarray) -> dict[str, Sample]:
    """One file per format and variant, generated from ``rgb`` (upright RGB uint8) into ``folder``."""
    h, w = rgb.shape[:2]
    g = grey(rgb)[..., None]
    a8 = alpha_ramp(h, w)
    rgb16, g16, a16 = deepen(rgb), deepen(g[..., 0])[..., None], alpha_ramp(h, w, np.uint16)
    scene = hdr_scene(rgb)
    out: dict[str, Sample] = {}

    def add(
        name: str,
        path: Path,
        pixels: np.ndarray,
        alpha: np.ndarray | None = None,
        tolerance: float | None = None,
        fmt: str = "",
    ) -> None:
        out[name] = Sample(path, pixels, alpha, tolerance, fmt)

    add(
        "jpeg",
        write_pillow(
            folder / "photo.jpg",
            rgb,
            quality=95,
            icc_profile=adobe_rgb_profile(),
            exif=exif_bytes(thumbnail=True),
            xmp=XMP,
            extra=jpeg_app13(iptc_bytes()),
        ),
        rgb,
        tolerance=3.0,
        fmt="JPEG",
    )
    add("jpeg_grey", write_pillow(folder / "grey.jpg", g, quality=95), g, tolerance=3.0, fmt="JPEG")
    add(
        "png",
        write_pillow(folder / "photo.png", rgb, exif=exif_bytes(), icc_profile=adobe_rgb_profile()),
        rgb,
        fmt="PNG",
    )
    add("png_alpha", write_pillow(folder / "alpha.png", rgb, a8), rgb, a8, fmt="PNG")
    add("png_grey", write_pillow(folder / "grey.png", g), g, fmt="PNG")
    add("png_grey_alpha", write_pillow(folder / "grey_alpha.png", g, a8), g, a8, fmt="PNG")
    add("png16", write_png_16bit(folder / "deep.png", rgb16), rgb16, fmt="PNG")
    add("png16_alpha", write_png_16bit(folder / "deep_alpha.png", rgb16, a16), rgb16, a16, fmt="PNG")
    add("png16_grey", write_png_16bit(folder / "deep_grey.png", g16[..., 0]), g16, fmt="PNG")
    palette = Image.fromarray(rgb).quantize(64)
    palette.save(folder / "palette.png")
    add("png_palette", folder / "palette.png", np.asarray(palette.convert("RGB")), fmt="PNG")
    add(
        "tiff",
        write_tiff(folder / "photo.tif", rgb, icc=adobe_rgb_profile(), xmp=XMP, iptc=iptc_bytes()),
        rgb,
        fmt="TIFF",
    )
    add("tiff16", write_tiff(folder / "deep.tif", rgb16), rgb16, fmt="TIFF")
    add("tiff16_alpha", write_tiff(folder / "deep_alpha.tif", rgb16, a16), rgb16, a16, fmt="TIFF")
    add("tiff16_grey", write_tiff(folder / "deep_grey.tif", g16, icc=grey_gamma_profile()), g16, fmt="TIFF")
    add("tiff16_planar", write_tiff(folder / "planar.tif", rgb16, planar=True), rgb16, fmt="TIFF")
    add("tiff_float", write_tiff(folder / "float.tif", scene), scene, fmt="TIFF")
    add("tiff_pages", write_tiff(folder / "pages.tif", rgb, pages=3), rgb, fmt="TIFF")
    add("tiff16_lzw", write_tiff_lzw(folder / "lzw16.tif", rgb16), rgb16, fmt="TIFF")
    add("tiff_lzw_alpha", write_tiff_lzw(folder / "lzw_alpha.tif", rgb, a8), rgb, a8, fmt="TIFF")
    Image.fromarray(rgb).convert("CMYK").save(folder / "cmyk.tif", compression="tiff_lzw")
    add("tiff_cmyk", folder / "cmyk.tif", np.asarray(Image.open(folder / "cmyk.tif").convert("RGB")), fmt="TIFF")
    add(
        "webp",
        write_pillow(folder / "photo.webp", rgb, a8, lossless=True, exact=True, exif=exif_bytes(), xmp=XMP),
        rgb,
        a8,
        fmt="WEBP",
    )
    add("webp_lossy", write_pillow(folder / "lossy.webp", rgb, quality=95), rgb, tolerance=3.0, fmt="WEBP")
    add("bmp", write_pillow(folder / "photo.bmp", rgb), rgb, fmt="BMP")
    add("tga", write_pillow(folder / "photo.tga", rgb, a8), rgb, a8, fmt="TGA")
    frames = [Image.fromarray(rgb).quantize(128), Image.fromarray(rgb[::-1].copy()).quantize(128)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    add("gif", folder / "anim.gif", np.asarray(frames[0].convert("RGB")), fmt="GIF")
    add("heic", write_heic(folder / "photo.heic", rgb), rgb, tolerance=3.0, fmt="HEIF")
    add("avif", write_pillow(folder / "photo.avif", rgb, quality=95), rgb, tolerance=4.0, fmt="AVIF")
    add("dng", write_dng(folder / "photo.dng", rgb), rgb.astype(np.uint16) * 257, tolerance=8.0 * 257, fmt="RAW")
    add("psd", write_psd(folder / "photo.psd", rgb), rgb, fmt="PSD")
    add("psd16", write_psd(folder / "deep.psd", rgb16), rgb16, fmt="PSD")
    add("psd16_grey", write_psd(folder / "deep_grey.psd", g16), g16, fmt="PSD")
    add(
        "exr",
        write_exr(folder / "scene.exr", scene, a8.astype(np.float32) / 255),
        scene,
        a8.astype(np.float32) / 255,
        fmt="EXR",
    )
    half = scene.astype(np.float16).astype(np.float32)
    add("exr_half_grey", write_exr(folder / "grey.exr", half[..., :1], half=True), half[..., :1], fmt="EXR")
    add("radiance", write_radiance(folder / "scene.hdr", scene), scene, tolerance=0.02, fmt="HDR")
    return out
