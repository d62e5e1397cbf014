"""The enhance-faces API: one POST makes a job, its progress streams as server-sent events,
its PNG and WebP preview download by name.

``settings`` is the API's JSON object (``model``, ``strength`` with the API's default of 0.8,
``onlyCenterFace``, ``sensitivity``) plus Facemend's own parameters in the same camelCase
style; ``faces`` takes face indices or face boxes. See ``ENHANCE_PARAMS``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from ..errors import InputError, SettingsError
from ..faces import DetectedFace
from ..params import MAX_SETTINGS_BYTES, Settings
from .errors import ApiError
from .fields import Param, build_settings, json_schema, multipart_schema, with_reference
from .jobs import Job, JobRequest
from .progress import QUEUED_STAGE
from .records import JobRecord, JobStatus
from .service import Service, Upload, service_of
from .worker import PREVIEW_NAME

API = "enhance-faces"
IMAGE_FIELD = "file"
#: the API's default strength (a subtle blend), not Facemend's 1.0
DEFAULT_STRENGTH = 0.8

ENHANCE_PARAMS: dict[str, Param] = {
    "model": Param("face", "model", "auto picks per face; gfpgan, codeformer, or passthrough (no network)"),
    "strength": Param("face", "strength", "blend of the enhanced face over the original, default 0.8 here"),
    "onlyCenterFace": Param("detection", "only_center_face", "only the most central, prominent face"),
    "sensitivity": Param("detection", "sensitivity"),
    "minFace": Param("detection", "min_face"),
    "maxFace": Param("detection", "max_face"),
    "detector": Param("detection", "detector"),
    "creativity": Param("face", "creativity"),
    "colorMatch": Param("face", "color_match", "match the restored face's colour to the original's"),
    "mask": Param("face", "mask"),
    "keepTone": Param("face", "keep_tone"),
    "noiseSigma": Param("face", "noise_sigma"),
    "blurSigma": Param("face", "blur_sigma"),
    "noiseSeed": Param("face", "noise_seed"),
    "grain": Param("grain", "enabled", "add film grain to the restored faces"),
    "grainModel": Param("grain", "model"),
    "grainDensity": Param("grain", "density"),
    "grainSize": Param("grain", "size"),
    "grainStrength": Param("grain", "strength"),
    "grainSeed": Param("grain", "seed"),
    "grainScope": Param("grain", "scope"),
    "scale": Param("output", "scale"),
    "width": Param("output", "width"),
    "height": Param("output", "height"),
    "upscaler": Param("output", "upscaler"),
    "faces": Param(None, "faces", "face indices [0, 2], or face boxes [[x1, y1, x2, y2], ...] instead of detecting"),
}

router = APIRouter(tags=["enhance-faces"])

_FORM_SCHEMA = multipart_schema(
    IMAGE_FIELD,
    {
        IMAGE_FIELD: {"type": "string", "format": "binary", "description": "the photo"},
        "settings": {
            "type": "string",
            "description": "a JSON object of these parameters: "
            + json.dumps({name: json_schema(p) for name, p in ENHANCE_PARAMS.items()}),
        },
        "reference": {
            "type": "string",
            "format": "binary",
            "description": "a sharper photo of the same person (guides the faces' colour)",
        },
    },
)


@router.post("/api/v1/tools/enhance-faces", status_code=202, openapi_extra=_FORM_SCHEMA)
async def enhance_faces(request: Request) -> JSONResponse:
    """Queue a photo; answers ``{"jobId", "async": true}`` at once (202)."""
    service = service_of(request)
    async with service.upload(request, IMAGE_FIELD, {IMAGE_FIELD: "upload", "reference": "reference"}) as upload:
        fields = dict(upload.form.fields)
        text = fields.pop("settings", "") or "{}"
        if fields:
            raise ApiError(400, f"unknown form field(s) {', '.join(sorted(fields))}; send settings as one JSON field")
        settings, external = parse_settings(text, service)
        reference = upload.form.files.get("reference")
        if reference is not None:
            await service.probe(reference.path, reference.filename)
            settings = with_reference(settings, reference.path)
        record = upload.record(API, settings, output_format="png", model=settings.face.model, where="settings")
        service.enqueue(record, upload, _request(upload, settings, external))
    return JSONResponse({"jobId": upload.job_id, "async": True}, status_code=202)


def parse_settings(text: str, service: Service) -> tuple[Settings, tuple[DetectedFace, ...] | None]:
    """The ``settings`` field: JSON, known names, declared types and ranges; 400 otherwise."""
    if len(text.encode()) > MAX_SETTINGS_BYTES:
        raise ApiError(413, f"settings is over {MAX_SETTINGS_BYTES // 1024} kB")
    try:
        values = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ApiError(400, f"settings is not valid JSON: {getattr(exc, 'msg', 'nested too deeply')}") from None
    if not isinstance(values, dict):
        raise ApiError(400, 'settings must be a JSON object, like {"model": "codeformer", "strength": 0.7}')
    values = {"strength": DEFAULT_STRENGTH, **values}
    external = None
    faces = values.get("faces")
    if isinstance(faces, list) and faces and not all(isinstance(i, int) and not isinstance(i, bool) for i in faces):
        from ..detect import faces_from_json  # the detect package loads torch: not at server start

        try:
            external = tuple(faces_from_json(values.pop("faces")))
        except InputError as exc:
            raise ApiError(400, f"settings: faces: {exc.reason}") from None
    try:
        settings = build_settings(values, ENHANCE_PARAMS, limits=service.config.limits, where="settings")
    except SettingsError as exc:
        raise ApiError(400, str(exc)) from None
    return settings, external


def _request(upload: Upload, settings: Settings, external: tuple[DetectedFace, ...] | None) -> JobRequest:
    output_name = f"{Path(upload.image.filename).stem}_enhanced.png"
    return JobRequest(upload.image.path, settings, output_name, external, preview=True)


# ----- progress, status, downloads -------------------------------------------------------
@router.get("/api/v1/jobs/{job_id}/progress", response_class=StreamingResponse)
async def job_progress(job_id: str, request: Request) -> StreamingResponse:
    """Server-sent events: ``progress`` while the job runs, then ``complete`` or ``failed``."""
    service = service_of(request)
    job = service.job(job_id)
    return StreamingResponse(
        _events(service, job),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(service: Service, job: Job) -> AsyncIterator[str]:
    record = service.board.record(job)
    if record.status is JobStatus.PENDING:
        yield sse("progress", {"phase": "queued", "stage": QUEUED_STAGE, "percent": 0})
    if job.feed is not None:
        async for event in job.feed.events():
            if event is None:
                yield ": keep-alive\n\n"
            elif event.name == "progress":
                yield sse("progress", {"phase": "processing", **event.data})
    record = service.board.record(job)
    if record.status is JobStatus.COMPLETED and not record.expired:
        yield sse("complete", {"phase": "complete", "percent": 100, "result": result_view(record)})
    else:
        yield sse("failed", failure_view(record))


@router.get("/api/v1/jobs/{job_id}")
async def job_status(job_id: str, request: Request) -> dict[str, Any]:
    """The job as JSON (a Facemend addition, for clients that poll instead of streaming)."""
    service = service_of(request)
    record = service.board.record(service.job(job_id))
    view: dict[str, Any] = {"jobId": record.id, "status": record.status.value, "percent": record.percent}
    view["stage"] = record.stage
    if record.status is JobStatus.COMPLETED and not record.expired:
        view["result"] = result_view(record)
    elif record.status.finished:
        view.update(failure_view(record))
    return view


@router.delete("/api/v1/jobs/{job_id}")
async def cancel_job(job_id: str, request: Request) -> dict[str, Any]:
    """Cancel a waiting or running job (a Facemend addition)."""
    service = service_of(request)
    job = service.job(job_id)
    if not service.board.cancel(job):
        raise ApiError(409, f"job {job_id} has finished already ({service.board.record(job).status.value})")
    return {"jobId": job_id, "cancelled": True}


@router.get("/api/v1/download/{job_id}/{name}", response_class=FileResponse)
@router.head("/api/v1/download/{job_id}/{name}", include_in_schema=False)
async def download(job_id: str, name: str, request: Request) -> FileResponse:
    """The result PNG (``<name>_enhanced.png``) or ``preview.webp`` of a completed job."""
    service = service_of(request)
    path = service.result_file(service.board.record(service.job(job_id)), name)
    return FileResponse(path, media_type=media_type(name), filename=name)


def result_view(record: JobRecord) -> dict[str, Any]:
    """The ``result`` of a completed job, as the enhance-faces API gives it."""
    output_name = next(name for name in record.files if name != PREVIEW_NAME)
    assert record.input is not None and record.output is not None
    return {
        "jobId": record.id,
        "downloadUrl": f"/api/v1/download/{record.id}/{output_name}",
        "previewUrl": f"/api/v1/download/{record.id}/{PREVIEW_NAME}",
        "originalSize": record.input.bytes,
        "processedSize": record.output.bytes,
        "facesDetected": len(record.faces),
        "faces": [
            {
                "x": round(face.box[0], 1),
                "y": round(face.box[1], 1),
                "w": round(face.box[2] - face.box[0], 1),
                "h": round(face.box[3] - face.box[1], 1),
                "score": round(face.score, 4),
                "restored": face.restored,
                "model": face.model,
                "mask": face.mask,
            }
            for face in record.faces
        ],
        "model": record.restored_model,
        "width": record.output.width,
        "height": record.output.height,
        "notes": list(record.notes),
    }


def failure_view(record: JobRecord) -> dict[str, Any]:
    error = record.error or ""
    if record.status is JobStatus.COMPLETED:  # completed, but its files are gone
        error = f"the results of job {record.id} expired and were deleted"
    return {
        "phase": "failed",
        "jobId": record.id,
        "status": record.status.value,
        "percent": record.percent,
        "error": error,
    }


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


_MEDIA_TYPES = {".png": "image/png", ".webp": "image/webp", ".jpg": "image/jpeg", ".tif": "image/tiff"}


def media_type(name: str) -> str:
    return _MEDIA_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")
