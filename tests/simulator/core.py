"""The simulator's shared state and its control operations.

One `SimulatorCore` serves both the HTTP handlers, which run in the server's
event-loop thread, and the control API, called from any thread; one lock
guards it. With a state directory the settings, the project state and the
stored objects survive a restart.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .faults import FaultBook, FaultRule
from .fleet import build_fleet, model_from_spec
from .requestlog import RequestEntry, RequestLog
from .settings import RESET_ONLY, Settings
from .state import Device, LemState, StoredFile
from .storage import ObjectInfo, ObjectStore, UrlSigner, object_key

FLEET_KEYS = frozenset({"seed", "devices", "device_count"})


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class FleetSpec:
    """Where a fresh state's devices come from (see fleet.build_fleet)."""

    seed: str = "test"
    devices: list[dict[str, Any]] | None = None
    device_count: int = 3


class SimulatorCore:
    """Settings, project state, storage, fault rules and request log."""

    def __init__(
        self, directory: Path, fleet: FleetSpec, explicit_settings: dict[str, Any], keep_uploads: bool = True
    ) -> None:
        self.lock = threading.RLock()
        self.store = ObjectStore(directory / "objects", keep_bytes=keep_uploads)
        self.signer = UrlSigner()
        self.faults = FaultBook()
        self.log = RequestLog()
        self._state_file = directory / "state.json"
        self._fleet = fleet
        # What reset() returns to: the defaults with the explicit settings.
        self._baseline = Settings().updated(**explicit_settings)
        saved = self._load()
        if saved is None:
            self.settings = self._baseline
            self.state = _fresh_state(self.settings, fleet)
        else:
            # Settings changed at run time survive a restart, unless the
            # restart names them again.
            self.settings = Settings(**saved["settings"]).updated(**explicit_settings)
            self.state = LemState.from_dict(saved["state"])
            if self.state.project_id != self.settings.project_id:
                raise ValueError(
                    f"{directory} holds project {self.state.project_id}, not {self.settings.project_id}"
                )
        self._saved_revision: int | None = None
        self._save()

    # -- used by the HTTP handlers ----------------------------------------

    @contextmanager
    def session(self) -> Iterator[LemState]:
        """The state, locked; saved afterwards if it changed."""
        with self.lock:
            try:
                yield self.state
            finally:
                self._save()

    def commit_object(self, file_name: str, info: ObjectInfo) -> None:
        with self.session() as state:
            state.put_object(file_name, size=info.size, last_modified=info.last_modified, etag=info.etag)

    def delete_file(self, file_name: str) -> None:
        with self.session() as state:
            state.delete_file(file_name)
            self.store.delete(object_key(state.project_id, file_name))

    def take_fault(self, kind: str) -> FaultRule | None:
        with self.lock:
            return self.faults.take(kind)

    def open_request(self, **fields: Any) -> RequestEntry:
        with self.lock:
            return self.log.open(**fields)

    def update_request(self, entry: RequestEntry, **fields: Any) -> None:
        with self.lock:
            for name, value in fields.items():
                setattr(entry, name, value)

    # -- control operations -----------------------------------------------

    def reset(self, **changes: Any) -> None:
        """Fresh fleet, files, tasks, faults, log and settings; `changes` are
        settings or fleet keys (seed, devices, device_count) for this reset."""
        fleet = replace(self._fleet, **{k: v for k, v in changes.items() if k in FLEET_KEYS})
        settings = self._baseline.updated(**{k: v for k, v in changes.items() if k not in FLEET_KEYS})
        state = _fresh_state(settings, fleet)
        with self.lock:
            self.settings = settings
            self.state = state
            self.store.clear()
            self.faults.clear()
            self.log.clear()
            self._save(force=True)

    def configure(self, **changes: Any) -> dict[str, Any]:
        reset_only = RESET_ONLY.intersection(changes)
        if reset_only:
            raise ValueError(f"{', '.join(sorted(reset_only))} can only be changed by reset")
        with self.lock:
            self.settings = self.settings.updated(**changes)
            self._save(force=True)
            return self.settings.to_dict()

    def add_fault(self, spec: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return self.faults.add(spec).to_dict()

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def fault_rules(self) -> list[dict[str, Any]]:
        with self.lock:
            return self.faults.rules()

    def requests(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return self.log.entries(endpoint)

    def clear_requests(self) -> None:
        with self.lock:
            self.log.clear()

    def set_device(
        self,
        key: str,
        *,
        online: bool | None = None,
        behaviour: str | None = None,
        fail_msg: str | None = None,
        status: str | None = None,
        models: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        deployed = None if models is None else [model_from_spec(m) for m in models]
        with self.session() as state:
            device = state.update_device(
                key, now_ms(), online=online, behaviour=behaviour, fail_msg=fail_msg, status=status, models=deployed
            )
            return _device_snapshot(device, state.project_id)

    def stage_file(self, name: str, content: bytes, description: str = "") -> dict[str, Any]:
        """As if `content` had been uploaded and registered under `name`."""
        with self.session() as state:
            info = self.store.write(object_key(state.project_id, name), content)
            state.put_object(name, size=info.size, last_modified=info.last_modified, etag=info.etag)
            return _file_snapshot(state.register_file(name, description), self.store.sha256(object_key(state.project_id, name)))

    def snapshot(self) -> dict[str, Any]:
        """Settings, devices (with their behaviour), stored files (with the
        sha256 and size of their bytes), tasks and fault rules."""
        with self.session() as state:
            now = now_ms()
            state.advance(now)
            return {
                "settings": self.settings.to_dict(),
                "devices": [_device_snapshot(d, state.project_id) for d in state.devices.values()],
                "files": [
                    _file_snapshot(f, self.store.sha256(object_key(state.project_id, f.name)))
                    for f in sorted(state.files.values(), key=lambda f: f.name)
                ],
                "tasks": state.task_records(now),
                "faults": self.faults.rules(),
            }

    # -- persistence ------------------------------------------------------

    def _load(self) -> dict[str, Any] | None:
        if not self._state_file.exists():
            return None
        return json.loads(self._state_file.read_text(encoding="utf-8"))

    def _save(self, force: bool = False) -> None:
        """Write settings and state atomically, if anything changed."""
        with self.lock:
            if not force and self.state.revision == self._saved_revision:
                return
            data = {"settings": self.settings.to_dict(), "state": self.state.to_dict()}
            partial = self._state_file.with_suffix(".json.part")
            partial.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(partial, self._state_file)
            self._saved_revision = self.state.revision


def _fresh_state(settings: Settings, fleet: FleetSpec) -> LemState:
    return LemState(settings.project_id, build_fleet(fleet.seed, fleet.devices, fleet.device_count))


def _device_snapshot(device: Device, project_id: str) -> dict[str, Any]:
    return {
        **device.record(project_id),
        "behaviour": device.behaviour,
        "fail_msg": device.fail_msg,
        "final_status": device.final_status,
    }


def _file_snapshot(stored: StoredFile, sha256: str | None = None) -> dict[str, Any]:
    return {
        "name": stored.name,
        "size": stored.size,
        "sha256": sha256,
        "etag": stored.etag,
        "lastModified": stored.last_modified,
        "description": stored.description,
        "registered": stored.registered,
    }
