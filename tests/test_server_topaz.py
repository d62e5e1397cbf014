"""The Topaz-compatible restore API over real HTTP: submit, poll, download (signed link), cancel,
face boxes passed in, and its form fields checked by Facemend's own parameter rules."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import httpx
import numpy as np
from server_support import GatedEngine, wait_for

from restore_core.params import NAMED_MODELS

PHOTO = "family_three_print.png"
PASSTHROUGH = {"face_model": "passthrough"}


def _submit(client: httpx.Client, photo: Path, **fields: object) -> httpx.Response:
    return client.post(
        "/image/v1/restore-gen/async",
        files={"image": (photo.name, photo.read_bytes(), "application/octet-stream")},
        data={key: str(value) for key, value in fields.items()},
    )


def _finished(status: dict) -> bool:
    return status["status"] in ("Completed", "Failed", "Cancelled")


def _decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def test_submit_poll_download_with_strength_zero_gives_the_input_pixels(
    models_dir: Path, photos_dir: Path, serve
) -> None:
    server = serve(api_key="sesame")
    photo = photos_dir / PHOTO
    answer = _submit(server.client, photo, model="Faces", strength=0, output_format="png", **PASSTHROUGH)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    process_id = body["process_id"]
    assert set(body) == {"process_id", "eta"} and isinstance(body["eta"], int)
    assert answer.headers["X-Process-ID"] == process_id and answer.headers["X-ETA"] == str(body["eta"])

    status = wait_for(server.client, f"/image/v1/status/{process_id}", _finished)
    height, width = cv2.imread(str(photo), cv2.IMREAD_UNCHANGED).shape[:2]
    assert status["status"] == "Completed", status
    assert status["progress"] == 100 and status["model"] == "Faces" and status["filename"] == PHOTO
    assert (status["input_format"], status["input_width"], status["input_height"]) == ("png", width, height)
    assert (status["output_format"], status["output_width"], status["output_height"]) == ("png", width, height)
    assert status["faces_detected"] == 3
    assert status["creation_time"] <= status["modification_time"]

    link = server.client.get(f"/image/v1/download/{process_id}").json()
    assert set(link) == {"download_url", "head_url", "expiry"}
    assert link["download_url"].startswith(f"{server.url}/image/v1/files/{process_id}/")
    # A presigned link: fetched without the key, as scripts fetch the service's links
    result = httpx.get(link["download_url"])
    assert result.status_code == 200 and result.headers["content-type"] == "image/png"
    np.testing.assert_array_equal(_decode(result.content), cv2.imread(str(photo), cv2.IMREAD_UNCHANGED))
    assert int(httpx.head(link["head_url"]).headers["content-length"]) == len(result.content)
    forged = link["download_url"].replace("signature=", "signature=0")
    assert httpx.get(forged).status_code == 403
    # everything else needs the key
    assert httpx.get(f"{server.url}/image/v1/status/{process_id}").status_code == 401


def test_cancel_a_waiting_and_a_running_job(models_dir: Path, photos_dir: Path, serve) -> None:
    engine = GatedEngine()
    server = serve(engine_factory=lambda: engine)
    photo = photos_dir / "collage_two_faces.jpg"
    running = _submit(server.client, photo, **PASSTHROUGH).json()["process_id"]
    assert engine.opening.wait(30)
    waiting = _submit(server.client, photo, **PASSTHROUGH).json()["process_id"]
    assert server.client.get(f"/image/v1/status/{running}").json()["status"] == "Processing"
    assert server.client.get(f"/image/v1/status/{waiting}").json()["status"] == "Pending"

    cancelled = server.client.delete(f"/image/v1/cancel/{waiting}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "Cancelled"
    assert server.client.delete(f"/image/v1/cancel/{running}").status_code == 200
    engine.gate.set()
    status = wait_for(server.client, f"/image/v1/status/{running}", _finished)
    assert status["status"] == "Cancelled"
    assert not (server.jobs_dir / running).exists() and not (server.jobs_dir / waiting).exists()
    again = server.client.delete(f"/image/v1/cancel/{running}")
    assert again.status_code == 409 and "Cancelled" in again.json()["message"]
    assert server.client.get(f"/image/v1/download/{running}").status_code == 409
    unknown = server.client.delete("/image/v1/cancel/00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404

    # the worker goes on with the next job
    done = _submit(server.client, photo, **PASSTHROUGH).json()["process_id"]
    assert wait_for(server.client, f"/image/v1/status/{done}", _finished)["status"] == "Completed"


def test_face_boxes_given_replace_detection_and_scale_from_the_input_size(
    models_dir: Path, photos_dir: Path, expected_faces: dict, serve
) -> None:
    server = serve()
    name = "two_children_film.jpg"
    photo = photos_dir / name
    x1, y1, x2, y2 = expected_faces[name][0]
    packed = json.dumps([[x1 / 2, y1 / 2, x2 / 2, y2 / 2, 0.9]])  # boxes of a half-size copy
    # grain marks the restored faces (passthrough alone gives the photo's pixels back)
    fields = {
        "iai_packed_metadata": packed,
        "output_format": "png",
        "grain": "true",
        "grain_strength": 1,
        **PASSTHROUGH,
    }
    source = cv2.imread(str(photo))
    height, width = source.shape[:2]
    answer = _submit(server.client, photo, input_width=width // 2, input_height=height // 2, **fields)
    process_id = answer.json()["process_id"]
    status = wait_for(server.client, f"/image/v1/status/{process_id}", _finished)
    assert status["status"] == "Completed" and status["faces_detected"] == 1
    result = _decode(httpx.get(server.client.get(f"/image/v1/download/{process_id}").json()["download_url"]).content)
    changed = np.any(result != source, axis=2)
    assert changed.any()
    # only around the given face (scaled back to full size); the other child is not restored
    ys, xs = np.nonzero(changed)
    w, h = x2 - x1, y2 - y1
    assert x1 - w <= xs.min() and xs.max() <= x2 + w and y1 - h <= ys.min() and ys.max() <= y2 + h


def test_form_fields_are_checked_by_the_parameter_rules(models_dir: Path, photos_dir: Path, serve) -> None:
    server = serve()
    photo = photos_dir / "collage_two_faces.jpg"
    cases = {
        "strength must be between 0.0 and 1.0, got 2.0": {"strength": 2},
        "grain must be true or false, got 'maybe'": {"grain": "maybe"},
        "grain_model must be one of silver, gaussian, grey, got 'pink'": {"grain_model": "pink"},
        "noise_seed must be a whole number, got '2.5'": {"noise_seed": 2.5},
        "unknown field(s) colour": {"colour": "red"},
        "model 'Standard V2' is not available here": {"model": "Standard V2"},
        "webhook_url: not supported by Facemend": {"webhook_url": "https://example.com/hook"},
        "output_format must be one of": {"output_format": "bmp"},
        "changes the aspect ratio": {"output_width": 100, "output_height": 100},
        f"face_model must be one of {', '.join(NAMED_MODELS)}, got": {"face_model": "/etc/passwd"},
        "reference_uri URLs are not fetched by this server": {"reference_uri": "https://example.com/me.jpg"},
    }
    for expected, fields in cases.items():
        answer = _submit(server.client, photo, **fields)
        assert answer.status_code == 400, (fields, answer.text)
        assert expected in answer.json()["message"], (expected, answer.json())
        assert answer.json()["code"] == 400
    assert list(server.jobs_dir.iterdir()) == []  # refused requests leave nothing
