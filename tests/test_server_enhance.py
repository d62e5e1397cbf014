"""The enhance-faces API over real HTTP: the documented curl example end to end, SSE, downloads,
and the same pixels as the CLI for the same settings."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from restore_core.cli import main as cli

PORTRAIT = "portrait.jpg"


def _decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def _portrait(aligned_dir: Path, folder: Path) -> Path:
    """A one-face JPEG (a face model on CPU costs seconds per face)."""
    path = folder / PORTRAIT
    cv2.imwrite(str(path), cv2.imread(str(aligned_dir / "0240.png")), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


def test_the_documented_example_streams_progress_and_gives_the_cli_pixels(
    face_models_dir: Path, aligned_dir: Path, tmp_path: Path, serve
) -> None:
    """``curl -F "file=@portrait.jpg" -F 'settings={"model":"codeformer","strength":0.7,"onlyCenterFace":false}'``"""
    server = serve()
    photo = _portrait(aligned_dir, tmp_path)
    settings = {"model": "codeformer", "strength": 0.7, "onlyCenterFace": False}
    answer = server.client.post(
        "/api/v1/tools/enhance-faces",
        files={"file": (PORTRAIT, photo.read_bytes(), "image/jpeg")},
        data={"settings": json.dumps(settings)},
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["async"] is True and set(body) == {"jobId", "async"}
    job_id = body["jobId"]

    stream = server_events(server, job_id)
    names = [name for name, _ in stream]
    assert names[-1] == "complete" and set(names[:-1]) == {"progress"}
    progress = [data for name, data in stream if name == "progress"]
    percents = [p["percent"] for p in progress]
    assert percents == sorted(percents) and percents[0] >= 0 and percents[-1] < 100
    assert {"Detecting faces...", "Enhancing faces..."} <= {p["stage"] for p in progress}
    assert all(set(p) >= {"phase", "stage", "percent"} for p in progress)
    final = stream[-1][1]
    assert final["phase"] == "complete" and final["percent"] == 100
    result = final["result"]
    assert result["jobId"] == job_id
    assert result["downloadUrl"] == f"/api/v1/download/{job_id}/portrait_enhanced.png"
    assert result["previewUrl"] == f"/api/v1/download/{job_id}/preview.webp"
    assert result["originalSize"] == photo.stat().st_size
    assert result["model"] == "codeformer"

    png = server.client.get(result["downloadUrl"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert result["processedSize"] == len(png.content)

    # The CLI with the same settings writes the same pixels, and finds the same faces.
    out, report = tmp_path / "cli.png", tmp_path / "cli.json"
    assert (
        cli(
            ["restore", str(photo), "-o", str(out), "--model", "codeformer", "--strength", "0.7", "--json", str(report)]
        )
        == 0
    )
    np.testing.assert_array_equal(_decode(png.content), cv2.imread(str(out), cv2.IMREAD_UNCHANGED))
    cli_faces = json.loads(report.read_text())["faces"]
    assert result["facesDetected"] == len(cli_faces) == 1
    for face, expected in zip(result["faces"], cli_faces, strict=True):
        x1, y1, x2, y2 = expected["box"]
        assert [face["x"], face["y"], face["w"], face["h"]] == pytest.approx([x1, y1, x2 - x1, y2 - y1], abs=0.1)

    preview = server.client.get(result["previewUrl"])
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/webp"
    small = _decode(preview.content)
    full = _decode(png.content)
    assert max(small.shape[:2]) == min(1024, max(full.shape[:2])) and small.shape[2] == 3

    # A stream opened after the end replays the whole job and ends the same way.
    again = server_events(server, job_id)
    assert again[-1] == stream[-1]


def server_events(server, job_id: str) -> list:
    from server_support import events

    return events(server.client, f"/api/v1/jobs/{job_id}/progress")


def _enhance(server, photo: Path, settings: dict) -> dict:
    answer = server.client.post(
        "/api/v1/tools/enhance-faces",
        files={"file": (photo.name, photo.read_bytes(), "image/jpeg")},
        data={"settings": json.dumps(settings)},
    )
    assert answer.status_code == 202, answer.text
    final = server_events(server, answer.json()["jobId"])[-1]
    assert final[0] == "complete", final
    return final[1]["result"]


def test_mask_and_keep_tone_reach_the_faces_and_the_result_says_which_mask(
    parsing_models_dir: Path, aligned_dir: Path, tmp_path: Path, serve
) -> None:
    """A black-and-white portrait (grey stored as RGB): by default the face is pasted through the
    parsed face and stays grey; ``mask: box, keepTone: false`` gives the stand-in model's
    coloured face through the box, the CLI's pixels for the same flags."""
    server = serve()
    grey = cv2.cvtColor(cv2.imread(str(aligned_dir / "0240.png")), cv2.COLOR_BGR2GRAY)
    photo = tmp_path / PORTRAIT
    cv2.imwrite(str(photo), cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])

    def chroma(result: dict) -> float:
        pixels = _decode(server.client.get(result["downloadUrl"]).content).astype(np.int16)
        return float(np.abs(pixels - pixels.mean(axis=2, keepdims=True)).max())

    kept = _enhance(server, photo, {"model": "gfpgan"})
    assert [face["mask"] for face in kept["faces"]] == ["parsing"]
    toned = _enhance(server, photo, {"model": "gfpgan", "mask": "box", "keepTone": False, "strength": 1})
    assert [face["mask"] for face in toned["faces"]] == ["box"]
    assert chroma(kept) <= 3 < 20 < chroma(toned)  # JPEG keeps a little chroma noise; the model's face is colour

    out = tmp_path / "cli.png"
    assert (
        cli(
            [
                "restore",
                str(photo),
                "-o",
                str(out),
                "--model",
                "gfpgan",
                "--mask",
                "box",
                "--no-keep-tone",
                "--strength",
                "1",
            ]
        )
        == 0
    )
    png = server.client.get(toned["downloadUrl"]).content
    np.testing.assert_array_equal(_decode(png), cv2.imread(str(out), cv2.IMREAD_UNCHANGED))

    refused = server.client.post(
        "/api/v1/tools/enhance-faces",
        files={"file": (photo.name, photo.read_bytes(), "image/jpeg")},
        data={"settings": json.dumps({"mask": "blob"})},
    )
    assert refused.status_code == 400 and "mask" in refused.text and "parsing" in refused.text, refused.text
