"""Nothing lost: atomic writes, no overwriting, originals untouched, bad input refused cleanly."""

from __future__ import annotations

import builtins
import hashlib
import os
import struct
import zlib
from pathlib import Path

import formats
import numpy as np
import pytest

from restore_core.errors import InputError, OutputError
from restore_core.io import INPUT_EXTENSIONS, LoadedImage, atomic_write, image_size, load_image, save_image
from restore_core.io.atomic import TEMP_SUFFIX


@pytest.fixture(scope="module")
def rgb(photos_dir: Path) -> np.ndarray:
    return formats.photo(photos_dir, long_side=120)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory, rgb: np.ndarray) -> dict[str, formats.Sample]:
    return formats.catalogue(tmp_path_factory.mktemp("formats"), rgb)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- atomic writes


def test_atomic_write_writes_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = atomic_write(tmp_path / "report.json", lambda fh: fh.write(b"{}"))
    assert target.read_bytes() == b"{}"
    assert os.listdir(tmp_path) == ["report.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # like any new file, not the 0600 of mkstemp


class WriterFailedError(Exception):
    pass


def _half_then_fail(fh) -> None:
    fh.write(b"half a file")
    raise WriterFailedError


def test_a_writer_failing_midway_leaves_no_output_and_no_temp(tmp_path: Path) -> None:
    with pytest.raises(WriterFailedError):
        atomic_write(tmp_path / "out.png", _half_then_fail)
    assert os.listdir(tmp_path) == []


def test_a_failed_overwrite_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"previous")
    with pytest.raises(WriterFailedError):
        atomic_write(target, _half_then_fail, overwrite=True)
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["out.png"]


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_disk_errors_become_output_errors_and_clean_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, step, fail)
    with pytest.raises(OutputError, match="the disk is full") as caught:
        atomic_write(tmp_path / "out.png", lambda fh: fh.write(b"data"))
    assert caught.value.path == tmp_path / "out.png"
    assert os.listdir(tmp_path) == []


def test_save_image_failing_in_the_encoder_leaves_nothing(
    tmp_path: Path, rgb: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    from restore_core.io import _png

    def chunk_then_fail(*args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(_png, "_paeth", chunk_then_fail)  # after the header chunks are written
    with pytest.raises(OutputError, match="Input/output error"):
        save_image(LoadedImage(rgb), tmp_path / "out.png")
    assert os.listdir(tmp_path) == []


def test_existing_output_is_not_replaced_without_overwrite(tmp_path: Path, rgb: np.ndarray) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"keep me")
    with pytest.raises(OutputError, match="already exists"):
        save_image(LoadedImage(rgb), target)
    with pytest.raises(OutputError, match="already exists"):
        atomic_write(target, lambda fh: fh.write(b"new"))
    assert target.read_bytes() == b"keep me"
    save_image(LoadedImage(rgb), target, overwrite=True)
    np.testing.assert_array_equal(load_image(target).pixels, rgb)


def test_missing_output_folder(tmp_path: Path, rgb: np.ndarray) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        save_image(LoadedImage(rgb), tmp_path / "missing" / "out.png")


def test_temp_files_are_hidden_from_folder_batches() -> None:
    assert TEMP_SUFFIX not in INPUT_EXTENSIONS


# ---------------------------------------------------------------- the original is safe


def test_the_input_is_only_ever_opened_for_reading(
    samples: dict[str, formats.Sample], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[tuple[str, str]] = []
    real_open = builtins.open

    def spying_open(file, mode="r", *args, **kwargs):
        opened.append((str(file), mode))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spying_open)
    for name, sample in samples.items():
        before = _digest(sample.path)
        image = load_image(sample.path)
        image_size(sample.path)
        suffix = ".exr" if image.is_hdr else ".png" if image.alpha is not None or image.bit_depth == 16 else ".jpg"
        save_image(image, tmp_path / f"{name}{suffix}")
        assert _digest(sample.path) == before
    inputs = {str(s.path) for s in samples.values()}
    assert {mode for path, mode in opened if path in inputs} == {"rb"}


def test_the_input_file_is_never_the_output(tmp_path: Path, rgb: np.ndarray) -> None:
    path = formats.write_pillow(tmp_path / "original.png", rgb)
    before = _digest(path)
    image = load_image(path)
    for target in (path, tmp_path / "." / "original.png"):
        with pytest.raises(OutputError, match="is the input"):
            save_image(image.with_pixels(np.zeros_like(rgb)), target, overwrite=True)
    assert _digest(path) == before


def test_read_only_inputs_are_read(tmp_path: Path, rgb: np.ndarray) -> None:
    path = formats.write_pillow(tmp_path / "locked.png", rgb)
    path.chmod(0o444)
    np.testing.assert_array_equal(load_image(path).pixels, rgb)


# ---------------------------------------------------------------- decompression bombs


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    idat = zlib.compress(b"\0" * 1000)  # a valid start of what would be gigabytes of rows
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", idat)
    )


def _jpeg_header(width: int, height: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + sof + b"\xff\xd9"


def _gif_header(width: int, height: int) -> bytes:
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", width, height, 0, 0, 0)
        + b",\0\0\0\0"
        + struct.pack("<HH", width, height)
        + b"\0\x02\x02L\x01\0;"
    )


def _tiff_header(width: int, height: int) -> bytes:
    entries = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 8),
        (277, 3, 1, 1),
        (278, 4, 1, height),
        (279, 4, 1, width * height),
    ]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"
    return b"II*\0" + struct.pack("<I", 8 + 16) + b"\0" * 16 + ifd


def _psd_header(width: int, height: int) -> bytes:
    return b"8BPS" + struct.pack(">H6sHIIHH", 1, b"", 3, height, width, 8, 3) + b"\0" * 16


def _webp_header(width: int, height: int) -> bytes:
    vp8x = (
        b"VP8X"
        + struct.pack("<I", 10)
        + b"\0\0\0\0"
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little")
    )
    body = b"WEBP" + vp8x + b"VP8L" + struct.pack("<I", 5) + b"\x2f\0\0\0\0\0"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _radiance_header(width: int, height: int) -> bytes:
    return b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n" + f"-Y {height} +X {width}\n".encode() + b"\0" * 64


BOMBS = {
    "bomb.png": _png_header(100_000, 100_000),
    "bomb.jpg": _jpeg_header(65_000, 65_000),
    "bomb.gif": _gif_header(65_000, 65_000),
    "bomb.tif": _tiff_header(60_000, 60_000),
    "bomb.psd": _psd_header(30_000, 30_000),
    "bomb.webp": _webp_header(16_384, 16_384),
    "bomb.hdr": _radiance_header(100_000, 100_000),
}


@pytest.fixture()
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pixel decoder Facemend uses, replaced by one that fails the test."""
    import cv2
    import OpenEXR
    import pillow_heif
    import psd_tools
    import rawpy
    import tifffile
    from PIL import ImageFile

    def decoder_called(*args: object, **kwargs: object) -> None:
        raise AssertionError("a pixel decoder ran before the pixel limit was checked")

    class RawWithoutUnpack(rawpy.RawPy):  # LibRaw's type is immutable: replace it by a subclass
        unpack = decoder_called

    exr_file = OpenEXR.File

    def exr_header_only(*args: object, header_only: bool = False, **kwargs: object) -> object:
        if not header_only:
            decoder_called()
        return exr_file(*args, header_only=True, **kwargs)

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoder_called)
    monkeypatch.setattr(cv2, "imdecode", decoder_called)
    monkeypatch.setattr(tifffile.TiffPage, "asarray", decoder_called)
    monkeypatch.setattr(rawpy, "RawPy", RawWithoutUnpack)
    monkeypatch.setattr(psd_tools.PSDImage, "open", decoder_called)
    monkeypatch.setattr(pillow_heif.HeifFile, "__array_interface__", property(decoder_called))
    monkeypatch.setattr(OpenEXR, "File", exr_header_only)


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_decompression_bombs_are_refused_from_the_header(tmp_path: Path, no_decoding: None, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(BOMBS[name])
    # WebP cannot be larger than 268 MP, under the default limit: give it a lower one
    limit = 100_000_000 if name.endswith(".webp") else None
    with pytest.raises(InputError, match="over the limit") as caught:
        load_image(path) if limit is None else load_image(path, max_pixels=limit)
    assert caught.value.path == path


@pytest.mark.parametrize("name", ["png16", "tiff16", "dng", "psd16", "heic", "exr"])
def test_the_limit_is_checked_before_decoding_real_files(
    samples: dict[str, formats.Sample], no_decoding: None, name: str
) -> None:
    sample = samples[name]
    with pytest.raises(InputError, match="over the limit of 0 MP"):
        load_image(sample.path, max_pixels=100)


@pytest.mark.parametrize("name", ["png16", "tiff16", "dng", "psd16", "heic", "exr"])
def test_the_decoder_spies_do_catch_decoding(samples: dict[str, formats.Sample], no_decoding: None, name: str) -> None:
    """The check above can fail: under the limit, the same files reach a spied decoder."""
    with pytest.raises(InputError, match="a pixel decoder ran"):
        load_image(samples[name].path)


def test_the_limit_is_configurable(samples: dict[str, formats.Sample]) -> None:
    sample = samples["png"]
    pixels = sample.pixels.shape[0] * sample.pixels.shape[1]
    assert load_image(sample.path, max_pixels=pixels).width == sample.pixels.shape[1]
    with pytest.raises(InputError):
        load_image(sample.path, max_pixels=pixels - 1)


# ---------------------------------------------------------------- broken files


#: files of several frames whose first frame ends before the cut: they rightly still decode
MULTI_FRAME = ("gif", "tiff_pages")


@pytest.mark.parametrize("keep", [0.3, 0.99])
@pytest.mark.parametrize("name", formats.SAMPLE_NAMES)
def test_truncated_files_fail_cleanly(
    samples: dict[str, formats.Sample], tmp_path: Path, name: str, keep: float
) -> None:
    data = samples[name].path.read_bytes()
    cut = tmp_path / f"cut{samples[name].path.suffix}"
    cut.write_bytes(data[: int(len(data) * keep)])
    if name in MULTI_FRAME and keep > 0.5:
        np.testing.assert_array_equal(load_image(cut).pixels, samples[name].pixels)
        return
    with pytest.raises(InputError) as caught:
        load_image(cut)
    assert str(cut) in str(caught.value)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".heic", ".dng", ".tga", ".exr", ""])
def test_random_bytes_fail_cleanly(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"noise{suffix}"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    with pytest.raises(InputError):
        load_image(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"hello, this is not an image\n" * 10, "not an image Facemend can read"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not a valid PNG file"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 40, "not a valid JPEG file"),  # decoded by content, not by its .png name
    ],
)
def test_broken_files_name_the_file_and_the_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    with pytest.raises(InputError, match=reason) as caught:
        load_image(path)
    assert caught.value.path == path
    assert str(caught.value).startswith(str(path))


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load_image(tmp_path / "missing.jpg")
    with pytest.raises(InputError, match="is a folder"):
        load_image(tmp_path)
    with pytest.raises(InputError, match="file not found"):
        image_size(tmp_path / "missing.jpg")
