"""The ASGI app: both APIs, ``/health``, ``/api/v1/models``, the API-key gate, error answers.

``create_app(config)`` gives a FastAPI app whose lifespan starts and stops the ``Service``
(job table, device worker, sweeper); uvicorn serves it (``facemend-server``), and tests run
it on a free loopback port. The schema is served at ``/openapi.json``, browsable at ``/docs``.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..engine import RenderEngine
from ..errors import FacemendError
from .config import ServerConfig
from .errors import ApiError
from .service import Service

#: reachable without a key: liveness, the schema, and signed links (their signature is the credential)
OPEN_PATHS = ("/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")
OPEN_PREFIXES = ("/image/v1/files/",)
TOPAZ_PREFIX = "/image/v1"


def create_app(config: ServerConfig, engine_factory: Callable[[], RenderEngine] | None = None) -> FastAPI:
    """The app for ``config``; ``engine_factory`` replaces the worker's engine (tests)."""
    from . import enhance, topaz

    service = Service(config, engine_factory)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(
        title="Facemend",
        version=__version__,
        summary="Face restoration on this machine: the enhance-faces API and a Topaz-compatible restore API",
        lifespan=lifespan,
    )
    app.state.service = service
    app.add_middleware(ApiKeyGate, key=config.api_key)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(FacemendError, _facemend_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(enhance.router)
    app.include_router(topaz.router)

    @app.get("/health", tags=["server"])
    async def health() -> dict[str, Any]:
        """Liveness and the queue, without a key."""
        return {
            "status": "ok",
            "version": __version__,
            "queue": {"ahead": service.worker.ahead(), "max": config.max_queue},
        }

    @app.get("/api/v1/models", tags=["server"])
    async def models() -> dict[str, Any]:
        """The models Facemend knows, which are installed, and the device the worker uses."""
        return await run_in_threadpool(_models, config)

    return app


def _models(config: ServerConfig) -> dict[str, Any]:
    from ..models import MODELS, describe_device, select_device, statuses
    from ..params import NAMED_MODELS

    found = statuses()
    device = describe_device(select_device(config.device))
    return {
        "device": {"type": device.type, "name": device.name, "threads": device.threads},
        "faceModels": list(NAMED_MODELS),
        "models": [
            {
                "name": spec.name,
                "kind": spec.kind,
                "title": spec.title,
                "licence": spec.licence,
                "status": found[spec.name].value,
            }
            for spec in MODELS.values()
        ],
    }


class ApiKeyGate:
    """Every request but ``OPEN_PATHS`` must carry the server's key as ``X-API-Key`` (when it has one)."""

    def __init__(self, app: ASGIApp, key: str | None) -> None:
        self.app = app
        self.key = key.encode() if key else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.key is not None and not _is_open(scope["path"]):
            given = Headers(scope=scope).get("x-api-key", "").encode()
            if not hmac.compare_digest(given, self.key):
                response = error_response(scope["path"], 401, "a valid API key is required: send it as X-API-Key")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def error_response(path: str, status: int, message: str) -> JSONResponse:
    """An error in the shape of the API the path belongs to."""
    if path.startswith(TOPAZ_PREFIX):
        return JSONResponse({"message": message, "code": status}, status_code=status)
    return JSONResponse({"error": message}, status_code=status)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    response = error_response(request.url.path, exc.status, exc.message)
    if exc.status == 429:
        response.headers["Retry-After"] = "5"
    return response


async def _facemend_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(request.url.path, 400, str(exc))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(request.url.path, exc.status_code, str(exc.detail))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return error_response(request.url.path, 400, f"bad request: {problems}")
