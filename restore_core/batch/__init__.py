"""Folder batches at archive scale: plan the files, skip what the manifest shows done, restore
the rest on an executor (this process, or a Ray cluster), record every outcome.

``plan_folder`` / ``plan_files`` -> ``Plan``; ``Batch(plan, spec, ...).run(executor)`` ->
``BatchSummary``. ``LocalExecutor`` restores in this process; ``RayExecutor``
(``restore_core.batch.ray_pool``, needs the ``cluster`` extra) on an actor pool.
"""

from .manifest import MANIFEST_NAME, FileRecord, Manifest, OutputFile
from .plan import BatchItem, Plan, is_image_file, plan_files, plan_folder
from .run import Batch, BatchSummary, Executor, LocalExecutor
from .worker import FileJob, FileOutcome, Worker, WorkerSpec

__all__ = [
    "MANIFEST_NAME",
    "Batch",
    "BatchItem",
    "BatchSummary",
    "Executor",
    "FileJob",
    "FileOutcome",
    "FileRecord",
    "LocalExecutor",
    "Manifest",
    "OutputFile",
    "Plan",
    "Worker",
    "WorkerSpec",
    "is_image_file",
    "plan_files",
    "plan_folder",
]
