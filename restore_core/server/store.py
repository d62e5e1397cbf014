"""The job table: one SQLite row per job, so a restarted server still knows every job.

Rows hold a ``JobRecord`` as JSON beside the columns the server queries by. One connection,
shared by the event loop and the worker thread under a lock; every write is committed at once
(WAL journal), so a killed server loses at most the progress of the job it was running.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from .records import JobRecord, JobStatus

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    finished REAL,
    expired INTEGER NOT NULL DEFAULT 0,
    record TEXT NOT NULL
)
"""


class JobStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def save(self, record: JobRecord) -> None:
        row = (
            record.id,
            record.status.value,
            record.created,
            record.finished,
            int(record.expired),
            json.dumps(record.to_json()),
        )
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?)", row)

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            row = self._db.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return JobRecord.from_json(json.loads(row[0])) if row else None

    def unfinished(self) -> list[JobRecord]:
        """Jobs a stopped server left pending or processing."""
        return self._select(
            "SELECT record FROM jobs WHERE status IN (?, ?)", (JobStatus.PENDING.value, JobStatus.PROCESSING.value)
        )

    def finished_before(self, when: float) -> list[JobRecord]:
        """Finished jobs whose files are still kept and that finished before ``when``."""
        return self._select("SELECT record FROM jobs WHERE expired = 0 AND finished < ?", (when,))

    def forget_before(self, when: float) -> int:
        """Drop the rows of jobs created before ``when`` (their files went long ago)."""
        with self._lock:
            return self._db.execute("DELETE FROM jobs WHERE expired = 1 AND created < ?", (when,)).rowcount

    def delete(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def ids(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT id FROM jobs")}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _select(self, query: str, args: tuple[object, ...]) -> list[JobRecord]:
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        return [JobRecord.from_json(json.loads(row[0])) for row in rows]
