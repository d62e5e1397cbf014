"""The Topaz-compatible restore API (``/image/v1``): a script written for the commercial
service's face recovery can point at a local Facemend and keep working.

``POST /image/v1/restore-gen/async`` takes the form fields of its Face Recovery 3 and Recover
Faces models (``TOPAZ_PARAMS`` plus ``image``, ``model``, ``output_format``,
``iai_packed_metadata``, ``input_width``/``input_height``, ``reference_uri``) and answers
``{"process_id", "eta"}`` (also as ``X-Process-ID``/``X-ETA``). Status, download (a signed
link on this server, valid for an hour) and cancel follow that API's reference. What it has
and Facemend does not (webhooks, crop_to_fill, source_url, other models) is refused by name.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from ..errors import InputError, SettingsError
from ..faces import DetectedFace
from ..params import Settings
from .enhance import media_type
from .errors import ApiError
from .fields import Param, build_settings, json_schema, multipart_schema, parse_form_value, with_reference
from .jobs import JobRequest
from .records import ImageFacts, JobRecord, JobStatus
from .references import fetch_reference
from .service import LINK_LIFETIME_S, Service, Upload, service_of

API = "restore-gen"
IMAGE_FIELD = "image"
DEFAULT_MODEL = "Faces"
#: the model names this endpoint answers to (in any case) -> their default strength
MODELS = {"Faces": 1.0, "Face Recovery 3": 1.0, "Recover Faces": 0.8}
_MODEL_NAMES = {name.lower(): name for name in MODELS}
#: output_format -> (the format's name in status answers, file extension)
OUTPUT_FORMATS = {
    "jpeg": ("jpeg", ".jpg"),
    "jpg": ("jpeg", ".jpg"),
    "png": ("png", ".png"),
    "tiff": ("tiff", ".tif"),
    "tif": ("tiff", ".tif"),
}
DEFAULT_OUTPUT_FORMAT = "jpeg"
STATUS_NAMES = {
    JobStatus.PENDING: "Pending",
    JobStatus.PROCESSING: "Processing",
    JobStatus.COMPLETED: "Completed",
    JobStatus.FAILED: "Failed",
    JobStatus.CANCELLED: "Cancelled",
}
#: fields of the service's API that Facemend does not implement
UNSUPPORTED = ("source_url", "source_id", "webhook_url", "crop_to_fill", "face_enhancement", "subject_detection")

TOPAZ_PARAMS: dict[str, Param] = {
    "strength": Param("face", "strength", "blend of the restored face over the original"),
    "grain": Param("grain", "enabled", "add film grain to the restored faces"),
    "grain_model": Param("grain", "model"),
    "grain_density": Param("grain", "density"),
    "grain_size": Param("grain", "size"),
    "grain_strength": Param("grain", "strength"),
    "noise_sigma": Param("face", "noise_sigma"),
    "blur_sigma": Param("face", "blur_sigma"),
    "noise_seed": Param("face", "noise_seed"),
    "output_width": Param("output", "width", "output width; the other side keeps the aspect ratio"),
    "output_height": Param("output", "height", "output height; the other side keeps the aspect ratio"),
    # Facemend's own, in the same style
    "face_model": Param("face", "model", "Facemend's face model: auto, gfpgan, codeformer or passthrough"),
    "creativity": Param("face", "creativity"),
    "color_match": Param("face", "color_match"),
    "mask": Param("face", "mask"),
    "keep_tone": Param("face", "keep_tone"),
    "grain_seed": Param("grain", "seed"),
    "sensitivity": Param("detection", "sensitivity"),
    "only_center_face": Param("detection", "only_center_face"),
}

router = APIRouter(prefix="/image/v1", tags=["restore-gen (Topaz-compatible)"])

_FORM_SCHEMA = multipart_schema(
    IMAGE_FIELD,
    {
        IMAGE_FIELD: {"type": "string", "format": "binary"},
        "model": {"type": "string", "enum": list(MODELS)},
        "output_format": {"type": "string", "enum": list(OUTPUT_FORMATS)},
        "iai_packed_metadata": {
            "type": "string",
            "description": "face boxes instead of detection: JSON [[x1, y1, x2, y2, score], ...], "
            "a flat list in fives, or Facemend's detect report",
        },
        "input_width": {"type": "integer", "description": "the width the boxes refer to"},
        "input_height": {"type": "integer", "description": "the height the boxes refer to"},
        "reference_uri": {"type": "string", "description": "http(s) URL of a reference photo"},
        "reference": {"type": "string", "format": "binary", "description": "a reference photo"},
        **{name: json_schema(p) for name, p in TOPAZ_PARAMS.items()},
    },
)


@router.post("/restore-gen/async", openapi_extra=_FORM_SCHEMA)
async def restore_gen(request: Request) -> JSONResponse:
    """Queue a photo for face recovery; answers ``{"process_id", "eta"}``."""
    service = service_of(request)
    async with service.upload(request, IMAGE_FIELD, {IMAGE_FIELD: "upload", "reference": "reference"}) as upload:
        fields = dict(upload.form.fields)
        asked = fields.pop("model", DEFAULT_MODEL)
        model = _MODEL_NAMES.get(asked.strip().lower())
        if model is None:
            raise ApiError(400, f"model {asked!r} is not available here: Facemend restores faces (model Faces)")
        output_format, extension = _output_format(fields.pop("output_format", DEFAULT_OUTPUT_FORMAT))
        external = _packed_faces(fields, upload)
        reference_uri = fields.pop("reference_uri", None)
        refused = sorted(set(fields) & set(UNSUPPORTED))
        if refused:
            raise ApiError(400, f"{', '.join(refused)}: not supported by Facemend (see its README)")
        settings = _settings(fields, MODELS[model], upload, service)
        reference = upload.form.files.get("reference")
        if reference is not None:
            await service.probe(reference.path, reference.filename)
            settings = with_reference(settings, reference.path)
        elif reference_uri:
            if not service.config.allow_remote_references:
                raise ApiError(
                    400,
                    "reference_uri URLs are not fetched by this server (start it with --allow-remote-references); "
                    "upload the reference photo as the file field 'reference' instead",
                )
            path = await fetch_reference(
                reference_uri, upload.folder / "reference", max_bytes=service.config.max_upload_bytes
            )
            await service.probe(path, "reference_uri")
            settings = with_reference(settings, path)
        record = upload.record(API, settings, output_format=output_format, model=model, where="form")
        output_name = f"{Path(upload.image.filename).stem}_restored{extension}"
        job = service.enqueue(record, upload, JobRequest(upload.image.path, settings, output_name, external))
    eta = math.ceil(job.record.eta)
    return JSONResponse(
        {"process_id": upload.job_id, "eta": eta}, headers={"X-Process-ID": upload.job_id, "X-ETA": str(eta)}
    )


@router.get("/status/{process_id}")
async def status(process_id: str, request: Request) -> dict[str, Any]:
    service = service_of(request)
    return status_view(service.board.record(service.job(process_id)))


@router.get("/download/{process_id}")
async def download(process_id: str, request: Request) -> dict[str, Any]:
    """A link to the result on this server (signed, valid for an hour or until the result expires)."""
    service = service_of(request)
    record = service.board.record(service.job(process_id))
    name = next(iter(record.files), "")
    service.result_file(record, name)  # 409 not ready, 410 expired
    assert record.finished is not None
    expiry = int(min(time.time() + LINK_LIFETIME_S, record.finished + service.config.keep_results_s))
    query = urlencode({"expires": expiry, "signature": service.sign(record.id, name, expiry)})
    url = f"{request.url_for('signed_file', process_id=record.id, name=name)}?{query}"
    return {"download_url": url, "head_url": url, "expiry": expiry}


@router.get("/files/{process_id}/{name}", name="signed_file", response_class=FileResponse)
@router.head("/files/{process_id}/{name}", include_in_schema=False)
async def signed_file(process_id: str, name: str, expires: int, signature: str, request: Request) -> FileResponse:
    """The file behind a download link; the signature is its credential (no X-API-Key needed)."""
    service = service_of(request)
    service.check_signature(process_id, name, expires, signature)
    path = service.result_file(service.board.record(service.job(process_id)), name)
    return FileResponse(path, media_type=media_type(name), filename=name)


@router.delete("/cancel/{process_id}")
async def cancel(process_id: str, request: Request) -> dict[str, Any]:
    service = service_of(request)
    job = service.job(process_id)
    if not service.board.cancel(job):
        state = STATUS_NAMES[service.board.record(job).status]
        raise ApiError(409, f"process {process_id} cannot be cancelled: it is {state}")
    return {"process_id": process_id, "status": STATUS_NAMES[service.board.record(job).status]}


def status_view(record: JobRecord) -> dict[str, Any]:
    source = record.input or ImageFacts("", 0, 0)
    output = record.output or ImageFacts("", 0, 0)
    view: dict[str, Any] = {
        "process_id": record.id,
        "filename": record.filename,
        "input_format": source.format.lower(),
        "input_width": source.width,
        "input_height": source.height,
        "output_format": output.format,
        "output_width": output.width,
        "output_height": output.height,
        "category": "Restore",
        "model_type": "Generative",
        "model": record.model,
        "crop_to_fill": False,
        "status": STATUS_NAMES[record.status],
        "progress": record.percent,
        "creation_time": int(record.created),
        "modification_time": int(record.updated),
        "eta": math.ceil(record.eta),
        "credits": 0,
    }
    if record.status.finished:
        view["faces_detected"] = len(record.faces)
        view["notes"] = list(record.notes)
    if record.error:
        view["error"] = record.error
    if record.expired:
        view["expired"] = True
    return view


# ----- form fields ------------------------------------------------------------------------
def _settings(fields: dict[str, str], default_strength: float, upload: Upload, service: Service) -> Settings:
    if "output_width" in fields and "output_height" in fields:
        _keep_one_side(fields, upload)
    try:
        unknown = sorted(set(fields) - set(TOPAZ_PARAMS))
        if unknown:
            raise SettingsError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(TOPAZ_PARAMS))}")
        values = {"strength": default_strength}
        values.update({name: parse_form_value(name, TOPAZ_PARAMS[name], text) for name, text in fields.items()})
        return build_settings(values, TOPAZ_PARAMS, limits=service.config.limits, where="form")
    except SettingsError as exc:
        raise ApiError(400, str(exc)) from None


def _keep_one_side(fields: dict[str, str], upload: Upload) -> None:
    """Both output sides given: fine when they keep the aspect ratio (Facemend does not crop or letterbox)."""
    width = parse_form_value("output_width", TOPAZ_PARAMS["output_width"], fields["output_width"])
    height = parse_form_value("output_height", TOPAZ_PARAMS["output_height"], fields["output_height"])
    expected = upload.probe.height * width / upload.probe.width
    if abs(expected - height) > 1:
        raise ApiError(
            400,
            f"output_width x output_height ({width} x {height}) changes the aspect ratio of the "
            f"{upload.probe.width} x {upload.probe.height} image; Facemend does not crop or letterbox "
            "(crop_to_fill): give one side",
        )
    del fields["output_height"]


def _output_format(output_format: str) -> tuple[str, str]:
    known = OUTPUT_FORMATS.get(output_format.strip().lower())
    if known is None:
        raise ApiError(400, f"output_format must be one of {', '.join(OUTPUT_FORMATS)}, got {output_format!r}")
    return known


def _packed_faces(fields: dict[str, str], upload: Upload) -> tuple[DetectedFace, ...] | None:
    """``iai_packed_metadata``: face boxes (and scores) that replace detection, in the pixels of
    ``input_width`` x ``input_height`` (default: the image's own), scaled to the image."""
    packed = fields.pop("iai_packed_metadata", None)
    sizes = [fields.pop(name, None) for name in ("input_width", "input_height")]
    if packed is None:
        return None
    try:
        data = json.loads(packed)
    except (json.JSONDecodeError, RecursionError):
        raise ApiError(400, "iai_packed_metadata must be JSON: a list of [x1, y1, x2, y2, score] boxes") from None
    if isinstance(data, list) and data and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in data):
        if len(data) % 5:
            raise ApiError(
                400, "iai_packed_metadata: a flat list holds x1, y1, x2, y2, score per face (a multiple of 5)"
            )
        data = [{"box": data[i : i + 4], "score": data[i + 4]} for i in range(0, len(data), 5)]
    elif isinstance(data, list):
        data = [{"box": e[:4], "score": e[4]} if isinstance(e, list) and len(e) == 5 else e for e in data]
    from ..detect import faces_from_json  # the detect package loads torch: not at server start

    try:
        faces = faces_from_json(data)
    except InputError as exc:
        raise ApiError(400, f"iai_packed_metadata: {exc.reason}") from None
    width, height = upload.probe.width, upload.probe.height
    try:
        sx = int(sizes[0]) / width if sizes[0] else 1.0
        sy = int(sizes[1]) / height if sizes[1] else 1.0
    except ValueError:
        raise ApiError(400, "input_width and input_height must be whole numbers") from None
    if sx <= 0 or sy <= 0:
        raise ApiError(400, "input_width and input_height must be positive")
    return tuple(_scaled(face, 1 / sx, 1 / sy) for face in faces)


def _scaled(face: DetectedFace, sx: float, sy: float) -> DetectedFace:
    if sx == sy == 1.0:
        return face
    x1, y1, x2, y2 = face.box
    box = (x1 * sx, y1 * sy, x2 * sx, y2 * sy)
    return DetectedFace(box=box, score=face.score, landmarks=tuple((x * sx, y * sy) for x, y in face.landmarks))
