"""In-memory model of one LEM project: devices, staged files, deployment tasks.

Pure: no I/O and no clock. Every method that depends on time takes `now`
(epoch milliseconds), so tests can drive it step by step. Deployments move
on with time but nothing runs in the background: `advance(now)` works out
what has happened since the last call, and applies each subtask's side
effects (the model appearing on its device) once, when the subtask becomes
done. Every read of tasks or devices advances first.
"""

from __future__ import annotations

import copy
import dataclasses
import uuid
from dataclasses import dataclass, field
from typing import Any

ML_MODEL_TASK_TYPE = "ANALYTICS_ML_MODEL_UPLOAD"
MODELS_DIR = "/var/lib/loopedge-analytics2/models"

PENDING = "PENDING"
IN_PROGRESS = "IN_PROGRESS"
SUCCESS = "SUCCESS"
FAILED = "FAILED"

BEHAVIOURS = ("ok", "fail", "hang", "status")
DEFAULT_FAIL_MSG = "Failed to deploy model on device"
OFFLINE_MSG = "Device is offline"
TASK_AUTHOR = "lem-sim"


class NotFound(LookupError):
    """A named entity does not exist (the API answers 404)."""


class Invalid(ValueError):
    """A request cannot be carried out as asked (the API answers 400)."""


def deployed_model_name(file_name: str) -> str:
    """The name a device lists a deployed file under: a zip loses `.zip`."""
    stem, dot, extension = file_name.rpartition(".")
    if dot and stem and extension.lower() == "zip":
        return stem
    return file_name


@dataclass
class DeployedModel:
    name: str
    size: int
    deployment_source: str = "LE"

    def record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "absolutePath": f"{MODELS_DIR}/{self.name}",
            "size": self.size,
            "deploymentSource": self.deployment_source,
        }


@dataclass
class Device:
    """An edge device and how it reacts to deployments.

    behaviour: ok (succeeds), fail (FAILED with fail_msg), hang (stays
    IN_PROGRESS), status (done with final_status, e.g. CANCELLED).
    """

    device_id: str
    hostname: str | None
    pretty_name: str
    online: bool = True
    models: list[DeployedModel] = field(default_factory=list)
    behaviour: str = "ok"
    fail_msg: str = DEFAULT_FAIL_MSG
    final_status: str = "CANCELLED"

    def set_behaviour(self, behaviour: str | None, fail_msg: str | None, status: str | None) -> None:
        # A status on its own means "finish with this status".
        if behaviour is None and status is not None:
            behaviour = "status"
        if behaviour is not None:
            if behaviour not in BEHAVIOURS:
                raise Invalid(f"unknown behaviour {behaviour!r}; one of {', '.join(BEHAVIOURS)}")
            self.behaviour = behaviour
        if fail_msg is not None:
            self.fail_msg = fail_msg
        if status is not None:
            self.final_status = status

    def install(self, model: DeployedModel) -> None:
        self.models = [m for m in self.models if m.name != model.name] + [model]

    def record(self, project_id: str) -> dict[str, Any]:
        return {
            "projectId": project_id,
            "deviceId": self.device_id,
            "hostname": self.hostname,
            "prettyName": self.pretty_name,
            "isOnline": self.online,
            "totalSize": sum(m.size for m in self.models),
            "models": [m.record() for m in self.models],
            "online": self.online,
        }


@dataclass
class StoredFile:
    """An object in storage; listed by LEM once registered (upload complete)."""

    name: str
    size: int
    last_modified: int
    etag: str
    description: str = ""
    registered: bool = False

    def record(self) -> dict[str, Any]:
        # LEM reports size 0 for staged files.
        return {
            "name": self.name,
            "size": 0,
            "lastModified": self.last_modified,
            "fileType": "mlModel",
            "description": self.description,
        }


@dataclass
class SubtaskRequest:
    """One entry of a deploy request's `subtasks`, already validated."""

    device_id: str
    num: int
    params: dict[str, Any]
    planned_exec_time: int = 0


@dataclass
class Subtask:
    id: str
    task_id: str
    num: int
    device_id: str
    device_pretty_name: str
    params: dict[str, Any]
    planned_exec_time: int
    created_on: int
    step_ms: int
    wait_for_online: bool
    model_size: int
    # When the wait before starting began: the creation time, or the moment
    # the device came online; None while waiting for the device.
    countdown_from: int | None
    status: str = PENDING
    progress: float = 0
    msg: str | None = None
    start_time: int | None = None
    stop_time: int | None = None
    updated_on: int = 0
    done: bool = False

    @property
    def file_name(self) -> str:
        return self.params["fileName"]

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "taskId": self.task_id,
            "num": self.num,
            "deviceId": self.device_id,
            "devicePrettyName": self.device_pretty_name,
            "type": ML_MODEL_TASK_TYPE,
            "params": copy.deepcopy(self.params),
            "plannedExecTime": self.planned_exec_time,
            "progress": self.progress,
            "status": self.status,
            "msg": self.msg,
            "startTime": self.start_time,
            "stopTime": self.stop_time,
            "context": None,
            "createdOn": self.created_on,
            "updatedOn": self.updated_on,
            "createdBy": TASK_AUTHOR,
            "updatedBy": TASK_AUTHOR,
            "done": self.done,
        }


@dataclass
class Task:
    task_id: str
    seq: int
    name: str
    wait_for_online: bool
    created_on: int
    subtasks: list[Subtask]

    def record(self) -> dict[str, Any]:
        return {
            "taskId": self.task_id,
            "name": self.name,
            "type": ML_MODEL_TASK_TYPE,
            "waitForOnline": self.wait_for_online,
            "createdOn": self.created_on,
            "subtasks": [s.record() for s in self.subtasks],
        }


class LemState:
    """One project's devices, files and tasks. Not thread-safe: lock around it."""

    def __init__(self, project_id: str, devices: list[Device]) -> None:
        self.project_id = project_id
        self.devices: dict[str, Device] = {d.device_id: d for d in devices}
        self.files: dict[str, StoredFile] = {}
        self.tasks: dict[str, Task] = {}
        # Bumped by every change, so the owner knows when to save.
        self.revision = 0

    # -- devices ---------------------------------------------------------

    def find_device(self, key: str) -> Device:
        """The device with this id, else the one with this hostname."""
        if key in self.devices:
            return self.devices[key]
        matches = [d for d in self.devices.values() if d.hostname == key]
        if not matches:
            raise NotFound(f"device {key} not found")
        if len(matches) > 1:
            raise Invalid(f"hostname {key} is shared by devices {', '.join(d.device_id for d in matches)}")
        return matches[0]

    def update_device(
        self,
        key: str,
        now: int,
        *,
        online: bool | None = None,
        behaviour: str | None = None,
        fail_msg: str | None = None,
        status: str | None = None,
        models: list[DeployedModel] | None = None,
    ) -> Device:
        device = self.find_device(key)
        # Settle everything that happened under the old state first.
        self.advance(now)
        device.set_behaviour(behaviour, fail_msg, status)
        if models is not None:
            device.models = models
        if online is not None:
            came_online = online and not device.online
            device.online = online
            if came_online:
                for subtask in self._open_subtasks():
                    if subtask.device_id == device.device_id and subtask.countdown_from is None:
                        subtask.countdown_from = now
        self._changed()
        return device

    def device_records(self, now: int) -> list[dict[str, Any]]:
        self.advance(now)
        return [d.record(self.project_id) for d in self.devices.values()]

    def model_list(self, now: int) -> list[dict[str, Any]]:
        """Deployed models aggregated over devices: name, size, device count."""
        self.advance(now)
        summary: dict[str, dict[str, Any]] = {}
        for device in self.devices.values():
            for model in device.models:
                entry = summary.setdefault(model.name, {"name": model.name, "size": model.size, "count": 0})
                entry["size"] = max(entry["size"], model.size)
                entry["count"] += 1
        return [summary[name] for name in sorted(summary)]

    # -- files -----------------------------------------------------------

    def put_object(self, name: str, *, size: int, last_modified: int, etag: str) -> StoredFile:
        """Record new bytes for `name`; a registered file stays registered."""
        previous = self.files.get(name)
        stored = StoredFile(name=name, size=size, last_modified=last_modified, etag=etag)
        if previous is not None:
            stored.description = previous.description
            stored.registered = previous.registered
        self.files[name] = stored
        self._changed()
        return stored

    def register_file(self, name: str, description: str) -> StoredFile:
        stored = self.files.get(name)
        if stored is None:
            raise NotFound(f"file {name} was not uploaded")
        stored.description = description
        stored.registered = True
        self._changed()
        return stored

    def delete_file(self, name: str) -> StoredFile:
        stored = self.files.pop(name, None)
        if stored is None:
            raise NotFound(f"file {name} not found")
        self._changed()
        return stored

    def staged_files(self) -> list[StoredFile]:
        return sorted((f for f in self.files.values() if f.registered), key=lambda f: f.name)

    # -- tasks -----------------------------------------------------------

    def create_task(
        self,
        *,
        name: str,
        wait_for_online: bool,
        subtasks: list[SubtaskRequest],
        step_ms: int,
        now: int,
    ) -> Task:
        """A deployment task, one subtask per entry; NotFound for an unknown device or file."""
        self.advance(now)
        for entry in subtasks:
            if entry.device_id not in self.devices:
                raise NotFound(f"device {entry.device_id} not found")
            stored = self.files.get(entry.params["fileName"])
            if stored is None or not stored.registered:
                raise NotFound(f"file {entry.params['fileName']} not found")
        task_id = str(uuid.uuid4())
        task = Task(
            task_id=task_id,
            seq=len(self.tasks),
            name=name,
            wait_for_online=wait_for_online,
            created_on=now,
            subtasks=[
                Subtask(
                    id=str(uuid.uuid4()),
                    task_id=task_id,
                    num=entry.num,
                    device_id=entry.device_id,
                    device_pretty_name=self.devices[entry.device_id].pretty_name,
                    params=entry.params,
                    planned_exec_time=entry.planned_exec_time,
                    created_on=now,
                    updated_on=now,
                    step_ms=step_ms,
                    wait_for_online=wait_for_online,
                    model_size=self.files[entry.params["fileName"]].size,
                    countdown_from=now,
                )
                for entry in subtasks
            ],
        )
        self.tasks[task_id] = task
        self._changed()
        return task

    def subtask_records(self, task_id: str, now: int) -> list[dict[str, Any]]:
        self.advance(now)
        task = self.tasks.get(task_id)
        if task is None:
            raise NotFound(f"task {task_id} not found")
        return [s.record() for s in task.subtasks]

    def history_records(self, now: int) -> list[dict[str, Any]]:
        """Every deployment subtask, newest task first, each task's in `num` order."""
        self.advance(now)
        tasks = sorted(self.tasks.values(), key=lambda t: (t.created_on, t.seq), reverse=True)
        return [s.record() for t in tasks for s in sorted(t.subtasks, key=lambda s: s.num)]

    def task_records(self, now: int) -> list[dict[str, Any]]:
        self.advance(now)
        return [t.record() for t in self.tasks.values()]

    # -- time ------------------------------------------------------------

    def advance(self, now: int) -> None:
        """Apply every subtask transition due by `now`, oldest task first."""
        for subtask in self._open_subtasks():
            while self._step(subtask, now):
                self._changed()

    def _open_subtasks(self) -> list[Subtask]:
        tasks = sorted(self.tasks.values(), key=lambda t: t.seq)
        return [s for t in tasks for s in t.subtasks if not s.done]

    def _step(self, subtask: Subtask, now: int) -> bool:
        """Make the subtask's next transition if it is due; True if one was made."""
        if subtask.done or subtask.countdown_from is None:
            return False
        device = self.devices[subtask.device_id]
        if subtask.status == PENDING:
            start_at = subtask.countdown_from + subtask.step_ms
            if now < start_at:
                return False
            if not device.online:
                if subtask.wait_for_online:
                    # Stays PENDING; update_device restarts the countdown.
                    subtask.countdown_from = None
                    self._changed()
                    return False
                self._finish(subtask, FAILED, OFFLINE_MSG, start_at)
                return True
            subtask.status = IN_PROGRESS
            subtask.progress = 0.5
            subtask.start_time = start_at
            subtask.updated_on = start_at
            return True
        assert subtask.start_time is not None
        stop_at = subtask.start_time + subtask.step_ms
        if now < stop_at or device.behaviour == "hang":
            return False
        if device.behaviour == "fail":
            self._finish(subtask, FAILED, device.fail_msg, stop_at)
        elif device.behaviour == "status":
            self._finish(subtask, device.final_status, None, stop_at)
        else:
            self._finish(subtask, SUCCESS, None, stop_at)
            subtask.progress = 1
            device.install(DeployedModel(deployed_model_name(subtask.file_name), subtask.model_size, "LEM"))
        return True

    @staticmethod
    def _finish(subtask: Subtask, status: str, msg: str | None, at: int) -> None:
        subtask.status = status
        subtask.msg = msg
        subtask.done = True
        subtask.stop_time = at
        subtask.updated_on = at

    def _changed(self) -> None:
        self.revision += 1

    # -- persistence -----------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "devices": [dataclasses.asdict(d) for d in self.devices.values()],
            "files": [dataclasses.asdict(f) for f in self.files.values()],
            "tasks": [dataclasses.asdict(t) for t in self.tasks.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LemState:
        devices = [
            Device(**{**d, "models": [DeployedModel(**m) for m in d["models"]]}) for d in data["devices"]
        ]
        state = cls(data["project_id"], devices)
        state.files = {f["name"]: StoredFile(**f) for f in data["files"]}
        state.tasks = {
            t["task_id"]: Task(**{**t, "subtasks": [Subtask(**s) for s in t["subtasks"]]}) for t in data["tasks"]
        }
        return state
