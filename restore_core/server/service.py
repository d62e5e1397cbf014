"""One running server: the job table, the board, the device worker and the expiry sweeper.

The API modules use it to take an upload, queue a job, find one and serve its files; it
starts and stops with the ASGI app (its lifespan). Work that touches the disk beyond a few
bytes (probing an upload, sweeping folders) runs in a thread, never in the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ..engine import RenderEngine
from ..errors import InputError, SettingsError
from ..io import ImageProbe, probe_image
from ..params import Settings
from .config import ServerConfig
from .errors import ApiError
from .jobs import Job, JobBoard, JobRequest, make_private_folder
from .records import ImageFacts, JobRecord, JobStatus
from .store import JobStore
from .uploads import Form, UploadedFile, read_form
from .worker import DeviceWorker, QueueFullError

log = logging.getLogger(__name__)

DATABASE_NAME = "jobs.sqlite3"
#: signed download links are good for an hour (as presigned links of the service Facemend mirrors)
LINK_LIFETIME_S = 3600


@dataclass(frozen=True)
class Upload:
    """A request's upload, in the folder of the job it may become."""

    job_id: str
    folder: Path
    form: Form
    image: UploadedFile
    probe: ImageProbe  # the image's header: format and size, limits checked

    def record(self, api: str, settings: Settings, *, output_format: str, model: str, where: str) -> JobRecord:
        """The record of the job this upload becomes: what came in, and the output ``settings`` plan."""
        probe = self.probe
        try:
            width, height = settings.output.output_size(probe.width, probe.height)
        except SettingsError as exc:
            raise ApiError(400, f"{where}: {exc}") from None
        return JobRecord(
            id=self.job_id,
            api=api,
            filename=self.image.filename,
            created=time.time(),
            input=ImageFacts(probe.format, probe.width, probe.height, self.image.size),
            output=ImageFacts(output_format, width, height),
            model=model,
        )


def service_of(request: Request) -> Service:
    """The service of the app serving ``request``."""
    service: Service = request.app.state.service
    return service


class Service:
    def __init__(self, config: ServerConfig, engine_factory: Callable[[], RenderEngine] | None = None) -> None:
        self.config = config
        self._engine_factory = engine_factory
        self._secret = secrets.token_bytes(32)
        self._board: JobBoard | None = None
        self._worker: DeviceWorker | None = None
        self._store: JobStore | None = None
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def board(self) -> JobBoard:
        if self._board is None:
            raise RuntimeError("the service is not running")
        return self._board

    @property
    def worker(self) -> DeviceWorker:
        if self._worker is None:
            raise RuntimeError("the service is not running")
        return self._worker

    async def start(self) -> None:
        make_private_folder(self.config.data_dir)
        self._store = JobStore(self.config.data_dir / DATABASE_NAME)
        self._board = JobBoard(self.config, self._store, asyncio.get_running_loop())
        await run_in_threadpool(self._board.recover)
        self._worker = DeviceWorker(self._board, self.config, self._engine_factory)
        self._worker.start()
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._worker is not None:
            await run_in_threadpool(self._worker.stop)
        if self._store is not None:
            self._store.close()

    # ----- submitting -------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def upload(self, request: Request, image_field: str, files: Mapping[str, str]) -> AsyncIterator[Upload]:
        """Read the request's form into a new job folder and probe its image (header only).

        The folder is removed again if the block raises (a refused request leaves nothing).
        """
        self._refuse_when_full()
        job_id, folder = self.board.new_folder()
        try:
            form = await read_form(request, folder, files, max_bytes=self.config.max_upload_bytes)
            image = form.files.get(image_field)
            if image is None:
                raise ApiError(400, f"no image: send the photo as the multipart file field {image_field!r}")
            probe = await self.probe(image.path, image.filename)
            yield Upload(job_id, folder, form, image, probe)
        except BaseException:
            self.board.discard_folder(folder)
            raise

    async def probe(self, path: Path, name: str) -> ImageProbe:
        """An uploaded image's format and size from its header, within the server's limits; 400
        with the reason (naming the file as the client did) otherwise."""
        limits = self.config.limits
        try:
            return await run_in_threadpool(
                probe_image, path, max_pixels=limits.max_pixels, max_pixels_per_byte=limits.max_pixels_per_byte
            )
        except InputError as exc:
            raise ApiError(400, f"{name}: {exc.reason}") from None

    def enqueue(self, record: JobRecord, upload: Upload, request: JobRequest) -> Job:
        """Make the upload a job and queue it; 429 when the queue is full."""
        job = self.board.add(record, upload.folder, request, queued_ahead=self.worker.ahead())
        try:
            self.worker.submit(job)
        except QueueFullError:
            self.board.withdraw(job)
            raise ApiError(429, self._full_message()) from None
        return job

    # ----- finding ----------------------------------------------------------------------
    def job(self, job_id: str) -> Job:
        job = self.board.get(job_id)
        if job is None:
            raise ApiError(404, f"no job {job_id[:64]!r} on this server")
        return job

    def result_file(self, record: JobRecord, name: str) -> Path:
        """The file ``name`` of a completed job: only a name the job lists, inside its own folder."""
        if record.expired:
            raise ApiError(410, f"the results of job {record.id} expired and were deleted")
        if record.status is not JobStatus.COMPLETED:
            raise ApiError(409, f"job {record.id} is {record.status.value}; its result is not ready")
        stored = record.files.get(name)
        if stored is None:
            raise ApiError(404, f"job {record.id} has no file {name[:64]!r}; it has: {', '.join(record.files)}")
        folder = self.board.jobs_dir / record.id
        path = folder / stored
        if path.parent != folder or not path.is_file():
            raise ApiError(410, f"the results of job {record.id} are no longer on this server")
        return path

    # ----- signed links -----------------------------------------------------------------
    def sign(self, job_id: str, name: str, expires: int) -> str:
        message = f"{job_id}/{name}/{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def check_signature(self, job_id: str, name: str, expires: int, signature: str) -> None:
        if expires < time.time() or not hmac.compare_digest(self.sign(job_id, name, expires), signature):
            raise ApiError(
                403, "this download link is invalid or has expired; ask /image/v1/download/{id} for a new one"
            )

    # ----- internals --------------------------------------------------------------------
    def _refuse_when_full(self) -> None:
        """Refuse before reading the body when the queue is full already (a last check follows at queueing)."""
        if self.worker.ahead() > self.config.max_queue:
            raise ApiError(429, self._full_message())

    def _full_message(self) -> str:
        return f"the queue is full ({self.config.max_queue} jobs waiting); try again when some have finished"

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.sweep_interval_s)
            try:
                await run_in_threadpool(self.board.sweep)
            except Exception:  # a failed sweep is tried again at the next interval
                log.exception("sweeping expired results failed")
