"""Multipart uploads streamed into a job's folder, never held whole in memory.

The body is parsed as it arrives (python-multipart's streaming parser): file parts go
straight to files in the job's private folder under names the server chooses, text fields
are kept up to ``MAX_SETTINGS_BYTES`` each. The whole body is bounded by the server's upload
limit, checked on ``Content-Length`` before anything is read and again on every chunk (a
client may not send one, or lie). The client's file name is kept only as a safe label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from ..io import INPUT_EXTENSIONS
from ..params import MAX_SETTINGS_BYTES
from .errors import ApiError

MAX_FIELDS = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 100


@dataclass(frozen=True)
class UploadedFile:
    filename: str  # the client's name for it, made safe (see ``safe_name``)
    path: Path
    size: int


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)


async def read_form(request: Request, folder: Path, files: Mapping[str, str], *, max_bytes: int) -> Form:
    """Parse a multipart/form-data body; file fields named in ``files`` (field -> file stem)
    are written into ``folder``, any other file field is refused. Raises ``ApiError``."""
    content_type = request.headers.get("content-type", "")
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data" or b"boundary" not in options:
        raise ApiError(415, "send the request as multipart/form-data, the image as a file field")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(413, _too_large(max_bytes))
    reader = _FormReader(folder, files)
    parser = MultipartParser(options[b"boundary"], reader.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise ApiError(413, _too_large(max_bytes))
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        raise ApiError(400, "the multipart body is malformed") from None
    finally:
        reader.close()
    if reader.open_part:
        raise ApiError(400, "the multipart body ends in the middle of a part")
    return reader.form


def safe_name(name: str, fallback: str = "image") -> str:
    """A client's file name as a label: the last path component, letters, digits and ``._-`` only."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = _UNSAFE.sub("_", base).strip("._") or fallback
    if len(cleaned) > MAX_NAME:
        stem, dot, suffix = cleaned.rpartition(".")
        cleaned = stem[: MAX_NAME - len(suffix) - 1] + dot + suffix if dot and len(suffix) < 10 else cleaned[:MAX_NAME]
    return cleaned


def _too_large(max_bytes: int) -> str:
    return f"the upload is over this server's limit of {max_bytes / 1e6:g} MB (facemend-server --max-upload-mb)"


class _FormReader:
    """python-multipart callbacks that fill a ``Form``.

    File data is written synchronously from the parser's callbacks: chunks are the size the
    server reads (tens of kB) and land in the page cache, far cheaper than a thread hop each.
    """

    def __init__(self, folder: Path, files: Mapping[str, str]) -> None:
        self.folder = folder
        self.file_stems = files
        self.form = Form()
        self.open_part = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._filename: str | None = None
        self._data = bytearray()
        self._file: IO[bytes] | None = None
        self._path: Path | None = None
        self._size = 0

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self._part_begin,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_part,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
        }

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _part_begin(self) -> None:
        self.open_part = True
        self._disposition, self._name, self._filename = b"", "", None
        self._data = bytearray()
        self._size = 0

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise ApiError(400, "a multipart part has no field name")
        self._name = options[b"name"].decode("utf-8", "replace")
        if self._name in self.form.fields or self._name in self.form.files:
            raise ApiError(400, f"the field {self._name!r} is given twice")
        if b"filename" not in options:
            if len(self.form.fields) >= MAX_FIELDS:
                raise ApiError(400, f"too many form fields (at most {MAX_FIELDS})")
            return
        stem = self.file_stems.get(self._name)
        if stem is None:
            expected = ", ".join(self.file_stems) or "none"
            raise ApiError(400, f"unexpected file field {self._name!r}; file fields here: {expected}")
        self._filename = options[b"filename"].decode("utf-8", "replace")
        suffix = Path(safe_name(self._filename)).suffix.lower()
        self._path = self.folder / f"{stem}{suffix if suffix in INPUT_EXTENSIONS else ''}"
        self._file = open(self._path, "xb")  # noqa: SIM115 - closed at the part's end or by close()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self._file.write(data[start:end])
            self._size += end - start
            return
        if len(self._data) + end - start > MAX_SETTINGS_BYTES:
            raise ApiError(413, f"the field {self._name!r} is over {MAX_SETTINGS_BYTES // 1024} kB")
        self._data += data[start:end]

    def _part_end(self) -> None:
        self.open_part = False
        if self._file is None:
            try:
                self.form.fields[self._name] = self._data.decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(400, f"the field {self._name!r} is not UTF-8 text") from None
            return
        self.close()
        assert self._path is not None and self._filename is not None
        self.form.files[self._name] = UploadedFile(safe_name(self._filename), self._path, self._size)
