"""Hostile and broken requests: each gets a 4xx or a failed job with one clear message (the CLI's
own words for the same file), nothing is left behind, and the server goes on serving."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import httpx
import pytest
from http_server import FileServer, file_server  # noqa: F401 (fixture)
from server_support import events, wait_for

from restore_core.params import NAMED_MODELS
from restore_core.server import references
from restore_core.server.cli import main as server_main

ENHANCE = "/api/v1/tools/enhance-faces"
PHOTO = "collage_two_faces.jpg"


def _post(client: httpx.Client, name: str, data: bytes, settings: object = None) -> httpx.Response:
    form = {} if settings is None else {"settings": settings if isinstance(settings, str) else json.dumps(settings)}
    return client.post(ENHANCE, files={"file": (name, data, "application/octet-stream")}, data=form)


def _cli_error(path: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    """The CLI's one-line error for ``path``, with the path written as the file's name."""
    from restore_core.cli import main

    assert main(["restore", str(path), "-o", str(path.parent / "never.png"), *flags]) == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    return line.removeprefix("error: ").replace(str(path), path.name)


def _bomb() -> bytes:
    """A PNG header claiming 100000 x 100000 pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000))


def test_bad_files_get_the_cli_message_and_the_server_goes_on(
    models_dir: Path, photos_dir: Path, tmp_path: Path, serve, capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve()
    photo = (photos_dir / PHOTO).read_bytes()
    refused = {"notes.txt": b"shopping list: eggs, flour\n", "bomb.png": _bomb(), "empty.jpg": b""}
    for name, data in refused.items():
        (tmp_path / name).write_bytes(data)
        answer = _post(server.client, name, data)
        assert answer.status_code == 400, answer.text
        assert answer.json() == {"error": _cli_error(tmp_path / name, capsys)}
    assert "over the limit" in _post(server.client, "bomb.png", _bomb()).json()["error"]

    # A truncated JPEG has a good header: it is refused when decoded, as a failed job.
    (tmp_path / "cut.jpg").write_bytes(photo[: len(photo) // 2])
    job = _post(server.client, "cut.jpg", photo[: len(photo) // 2]).json()["jobId"]
    stream = events(server.client, f"/api/v1/jobs/{job}/progress")
    name, final = stream[-1]
    assert name == "failed" and final["error"] == _cli_error(tmp_path / "cut.jpg", capsys)

    # A face number the photo does not have: the CLI's message too
    (tmp_path / PHOTO).write_bytes(photo)
    job = _post(server.client, PHOTO, photo, {"model": "passthrough", "faces": [9]}).json()["jobId"]
    name, final = events(server.client, f"/api/v1/jobs/{job}/progress")[-1]
    assert name == "failed"
    assert final["error"] == _cli_error(tmp_path / PHOTO, capsys, "--model", "passthrough", "--faces", "9")

    good = _post(server.client, PHOTO, photo, {"model": "passthrough"}).json()["jobId"]
    assert events(server.client, f"/api/v1/jobs/{good}/progress")[-1][0] == "complete"
    assert sorted(p.name for p in server.jobs_dir.iterdir()) == [good]  # failed and refused jobs keep nothing


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"strength": 2}, "settings: strength must be between 0.0 and 1.0, got 2"),
        ({"onlyCenterFace": "yes"}, 'settings: onlyCenterFace must be true or false, got "yes"'),
        ({"colour": "red"}, "settings: unknown parameter(s) colour; known: "),
        ({"model": "/etc/passwd"}, f"settings: model must be one of {', '.join(NAMED_MODELS)}, got"),
        ({"grainModel": "pink"}, "settings: grainModel must be one of silver, gaussian, grey, got 'pink'"),
        ({"width": 100, "height": 100}, "settings: give width or height, not both"),
        ({"faces": [[1, 2]]}, "settings: faces: face 0: box [x1, y1, x2, y2] must be 4 numbers"),
        ("{not json", "settings is not valid JSON"),
        ("[1, 2]", "settings must be a JSON object"),
    ],
)
def test_wrong_settings_are_refused_naming_the_parameter(
    models_dir: Path, photos_dir: Path, serve, settings: object, message: str
) -> None:
    server = serve()
    answer = _post(server.client, PHOTO, (photos_dir / PHOTO).read_bytes(), settings)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(message), answer.json()
    assert list(server.jobs_dir.iterdir()) == []


def test_uploads_over_the_limit_are_refused_while_streaming(models_dir: Path, photos_dir: Path, serve) -> None:
    server = serve(max_upload_bytes=50_000)
    photo = (photos_dir / PHOTO).read_bytes()  # 93 kB
    answer = _post(server.client, PHOTO, photo)
    assert answer.status_code == 413 and "over this server's limit of 0.05 MB" in answer.json()["error"]

    # Without a Content-Length (chunked), the body is counted as it arrives.
    boundary = "facemend-test-boundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{PHOTO}"\r\n\r\n'.encode()

    def body():
        yield head
        for start in range(0, len(photo), 8192):
            yield photo[start : start + 8192]
        yield f"\r\n--{boundary}--\r\n".encode()

    chunked = server.client.post(
        ENHANCE, content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert chunked.status_code == 413
    big_settings = _post(server.client, PHOTO, photo[:1000], "x" * (1 << 20 + 1))
    assert big_settings.status_code == 413
    assert list(server.jobs_dir.iterdir()) == []
    assert server.client.get("/health").json()["status"] == "ok"


def test_form_shape_is_checked(models_dir: Path, photos_dir: Path, serve) -> None:
    server = serve()
    photo = (photos_dir / PHOTO).read_bytes()
    no_file = server.client.post(ENHANCE, data={"settings": "{}"}, files={"other": ("x.jpg", photo)})
    assert no_file.status_code == 400 and "unexpected file field 'other'" in no_file.json()["error"]
    missing = server.client.post(ENHANCE, files={"settings": (None, "{}")})
    assert missing.status_code == 400 and "no image" in missing.json()["error"]
    not_multipart = server.client.post(ENHANCE, json={"file": "portrait.jpg"})
    assert not_multipart.status_code == 415
    extra = server.client.post(ENHANCE, files={"file": (PHOTO, photo)}, data={"strength": "0.5"})
    assert extra.status_code == 400 and "unknown form field(s) strength" in extra.json()["error"]


def test_names_and_ids_cannot_reach_outside_a_job(models_dir: Path, photos_dir: Path, serve) -> None:
    server = serve()
    photo = (photos_dir / PHOTO).read_bytes()
    answer = _post(server.client, "../../../evil name.jpg", photo, {"model": "passthrough"})
    job = answer.json()["jobId"]
    result = events(server.client, f"/api/v1/jobs/{job}/progress")[-1][1]["result"]
    assert result["downloadUrl"].endswith("/evil_name_enhanced.png")
    assert sorted(p.name for p in (server.jobs_dir / job).iterdir()) == [
        "evil_name_enhanced.png",
        "preview.webp",
        "upload.jpg",
    ]
    assert sorted(p.name for p in server.config.data_dir.iterdir() if not p.name.startswith("jobs")) == []
    for private in (server.config.data_dir, server.jobs_dir, server.jobs_dir / job):  # other people's photos
        assert private.stat().st_mode & 0o077 == 0, private
    for name in ("upload.jpg", "..%2Fjobs.sqlite3", "%2e%2e%2f%2e%2e%2fjobs.sqlite3", "..", "%00"):
        assert server.client.get(f"/api/v1/download/{job}/{name}").status_code == 404, name
    for bad_id in ("..", "..%2F..%2Fjobs.sqlite3", job.upper(), "not-a-job"):
        assert server.client.get(f"/api/v1/download/{bad_id}/preview.webp").status_code == 404, bad_id
        assert server.client.get(f"/image/v1/status/{bad_id}").status_code == 404, bad_id
    assert server.client.get(f"/api/v1/download/{job}/preview.webp").status_code == 200


def test_an_api_key_guards_every_request_but_health_and_the_schema(models_dir: Path, serve) -> None:
    server = serve(api_key="sesame")
    open_client = httpx.Client(base_url=server.url)
    assert open_client.get("/health").status_code == 200
    assert open_client.get("/openapi.json").json()["info"]["title"] == "Facemend"
    assert open_client.get("/docs").status_code == 200
    for headers in ({}, {"X-API-Key": "wrong"}):
        refused = open_client.get("/api/v1/models", headers=headers)
        assert refused.status_code == 401 and "X-API-Key" in refused.json()["error"]
        assert open_client.get("/image/v1/status/x", headers=headers).json()["code"] == 401
    models = server.client.get("/api/v1/models").json()
    assert models["device"]["type"] == "cpu"
    assert {m["name"]: m["status"] for m in models["models"]}["retinaface_mobile0.25"] == "unverified"
    assert "passthrough" in models["faceModels"]


def test_listening_beyond_loopback_needs_a_key(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.delenv("FACEMEND_API_KEY", raising=False)
    assert server_main(["--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: refusing to listen on 0.0.0.0 without an API key")
    from restore_core.server.cli import build_parser, config_from_args

    assert config_from_args(build_parser().parse_args(["--host", "0.0.0.0", "--api-key", "k"])).api_key == "k"
    monkeypatch.setenv("FACEMEND_API_KEY", "from-env")
    assert config_from_args(build_parser().parse_args(["--host", "192.168.1.5"])).api_key == "from-env"
    assert config_from_args(build_parser().parse_args([])).host == "127.0.0.1"


def test_remote_references_are_fetched_only_when_allowed_and_never_from_inside(
    models_dir: Path,
    photos_dir: Path,
    aligned_dir: Path,
    serve,
    file_server: FileServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve(allow_remote_references=True)
    photo = photos_dir / PHOTO
    file_server.serve("/me.png", (aligned_dir / "0143.png").read_bytes())

    def submit(uri: str) -> httpx.Response:
        fields = {"reference_uri": uri, "face_model": "passthrough", "output_format": "png"}
        return server.client.post(
            "/image/v1/restore-gen/async", files={"image": (PHOTO, photo.read_bytes())}, data=fields
        )

    for uri, message in {
        f"{file_server.url}/me.png": "is a private or local address (127.0.0.1)",
        "file:///etc/passwd": "reference_uri must be an http(s) URL",
        "http://[::1]:1/x": "is a private or local address",
    }.items():
        answer = submit(uri)
        assert answer.status_code == 400 and message in answer.json()["message"], answer.text
    assert file_server.requests == []

    monkeypatch.setattr(references, "is_public_address", lambda address: True)  # as if 127.0.0.1 were public
    process_id = submit(f"{file_server.url}/me.png").json()["process_id"]
    status = wait_for(
        server.client,
        f"/image/v1/status/{process_id}",
        lambda s: s["status"] in ("Completed", "Failed"),
    )
    assert status["status"] == "Completed", status
    assert [r.path for r in file_server.requests] == ["/me.png"]
    assert "reference" in {p.name for p in (server.jobs_dir / process_id).iterdir()}
