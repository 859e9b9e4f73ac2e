"""The log of every API and storage request the simulator received."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any


@dataclass
class RequestEntry:
    """One request. `status` is None while it is being handled and 0 when
    the connection was closed without an answer; `fault` is the action of
    the fault rule applied, if any; `elapsed` is the seconds from its arrival
    to its answer (None while it is being handled)."""

    seq: int
    time: float
    method: str
    path: str
    endpoint: str | None
    query: dict[str, str]
    headers: dict[str, str]
    body_bytes: int = 0
    body_json: Any = None
    status: int | None = None
    fault: str | None = None
    task_id: str | None = None
    file_name: str | None = None
    elapsed: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "endpoint": self.endpoint,
            "query": dict(self.query),
            "headers": dict(self.headers),
            "body_bytes": self.body_bytes,
            "body_json": copy.deepcopy(self.body_json),
            "status": self.status,
            "fault": self.fault,
            "task_id": self.task_id,
            "file_name": self.file_name,
            "elapsed": self.elapsed,
        }


class RequestLog:
    """Append-only until cleared. Not thread-safe: lock around it."""

    def __init__(self) -> None:
        self._entries: list[RequestEntry] = []
        self._next_seq = 1

    def open(self, **fields: Any) -> RequestEntry:
        """A new entry, logged at once so that a request still running shows."""
        entry = RequestEntry(seq=self._next_seq, **fields)
        self._next_seq += 1
        self._entries.append(entry)
        return entry

    def entries(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self._entries if endpoint is None or e.endpoint == endpoint]

    def clear(self) -> None:
        self._entries.clear()
