"""The LEM API endpoints of the AI/ML model workflow.

Handlers run behind `middlewares.lem_api`, so the caller is authenticated
(request[GRANT]) and ApiError, NotFound and Invalid become LEM error answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from .core import SimulatorCore, now_ms
from .http_shared import (
    CORE,
    FILE_NAME,
    FIRST_PAGE_ONLY,
    GRANT,
    PRESIGN_EXPIRED,
    PRESIGN_HOST,
    TASK_ID,
    ApiError,
    lem_success,
)
from .paging import PageRequest, page_of, page_request
from .state import ML_MODEL_TASK_TYPE, SubtaskRequest
from .storage import object_key

ML_MODEL_FILE_TYPE = "mlModel"


async def upload_url(request: web.Request) -> web.Response:
    """Step 1: a pre-signed PUT URL for the file's storage object."""
    core = request.app[CORE]
    project_id, file_name = request.match_info["project"], request.match_info["fileName"]
    _check_project(request, project_id)
    body = await _json_body(request)
    _require_value(body, "projectId", project_id)
    _require_value(body, "fileName", file_name)
    settings = core.settings
    host = request.get(PRESIGN_HOST) or settings.presign_host or request.host
    signed_at = None
    if request.get(PRESIGN_EXPIRED):
        signed_at = datetime.now(timezone.utc) - timedelta(seconds=settings.url_expires + 60)
    url = core.signer.presign_put(
        f"{request.scheme}://{host}", object_key(project_id, file_name), settings.url_expires, signed_at
    )
    return web.json_response({"url": url})


async def upload_complete(request: web.Request) -> web.Response:
    """Step 3: register the uploaded object as a staged file."""
    core = request.app[CORE]
    _check_project(request, request.match_info["project"])
    body = await _json_body(request)
    description = body.get("description")
    if not isinstance(description, str):
        raise ApiError(400, "description is required (a string)")
    with core.session() as state:
        state.register_file(request.match_info["fileName"], description)
    return lem_success()


async def file_list(request: web.Request) -> web.Response:
    core = request.app[CORE]
    _check_project(request, request.match_info["project"])
    page = _page(request, "pageSize")
    with core.session() as state:
        records = [f.record() for f in state.staged_files()]
    return web.json_response(page_of(records, page))


async def file_delete(request: web.Request) -> web.Response:
    core = request.app[CORE]
    _check_project(request, request.match_info["project"])
    file_type = request.match_info["fileType"]
    if file_type != ML_MODEL_FILE_TYPE:
        raise ApiError(404, f"file type {file_type} not found")
    core.delete_file(request.match_info["fileName"])
    return lem_success()


async def deploy(request: web.Request) -> web.Response:
    """Create a deployment task: one subtask per device."""
    core = request.app[CORE]
    body = await _json_body(request)
    project_id = body.get("projectId")
    if not isinstance(project_id, str) or not project_id:
        raise ApiError(400, "projectId is required")
    _check_project(request, project_id)
    if body.get("type") != ML_MODEL_TASK_TYPE:
        raise ApiError(400, f"unsupported task type {body.get('type')!r}; expected {ML_MODEL_TASK_TYPE}")
    name = body.get("name", "")
    wait_for_online = body.get("waitForOnline", False)
    if not isinstance(name, str) or not isinstance(wait_for_online, bool):
        raise ApiError(400, "name must be a string and waitForOnline a boolean")
    subtasks = body.get("subtasks")
    if not isinstance(subtasks, list) or not subtasks:
        raise ApiError(400, "subtasks must be a non-empty list")
    entries = [_subtask_request(index, entry) for index, entry in enumerate(subtasks)]
    device_ids = [e.device_id for e in entries]
    if len(set(device_ids)) != len(device_ids):
        raise ApiError(400, "a device is listed in more than one subtask")
    request[FILE_NAME] = entries[0].params["fileName"]
    with core.session() as state:
        task = state.create_task(
            name=name,
            wait_for_online=wait_for_online,
            subtasks=entries,
            step_ms=int(core.settings.task_step * 1000),
            now=now_ms(),
        )
    request[TASK_ID] = task.task_id
    return web.json_response({"taskId": task.task_id})


def _subtask_request(index: int, entry: Any) -> SubtaskRequest:
    where = f"subtasks[{index}]"
    if not isinstance(entry, dict):
        raise ApiError(400, f"{where} must be an object")
    device_id = entry.get("deviceId")
    if not isinstance(device_id, str) or not device_id:
        raise ApiError(400, f"{where}.deviceId is required")
    params = entry.get("params")
    if not isinstance(params, dict) or not isinstance(params.get("fileName"), str) or not params["fileName"]:
        raise ApiError(400, f"{where}.params.fileName is required")
    if entry.get("type", ML_MODEL_TASK_TYPE) != ML_MODEL_TASK_TYPE:
        raise ApiError(400, f"{where}.type must be {ML_MODEL_TASK_TYPE}")
    num = entry.get("num", index)
    planned = entry.get("plannedExecTime", 0)
    if not isinstance(num, int) or not isinstance(planned, int):
        raise ApiError(400, f"{where}.num and plannedExecTime must be integers")
    return SubtaskRequest(device_id=device_id, num=num, params=params, planned_exec_time=planned)


async def subtasks(request: web.Request) -> web.Response:
    core = request.app[CORE]
    task_id = request.match_info["taskId"]
    with core.session() as state:
        records = state.subtask_records(task_id, now_ms())
        if not request[GRANT].allows(state.project_id):
            raise ApiError(403, "the token has no access to this task's project")
    return web.json_response(records)


async def history(request: web.Request) -> web.Response:
    """Task history: every deployment subtask of the project, newest first."""
    core = request.app[CORE]
    if not core.settings.history:
        # An older LEM has no such endpoint.
        raise web.HTTPNotFound()
    project_id = request.query.get("projectId")
    if not project_id:
        raise ApiError(400, "projectId is required")
    _check_project(request, project_id)
    task_type = request.query.get("taskType")
    page = _page(request, "pageSize")
    with core.session() as state:
        records = state.history_records(now_ms())
    if task_type:
        records = [r for r in records if r["type"] == task_type]
    return web.json_response(page_of(records, page))


async def device_models(request: web.Request) -> web.Response:
    core = request.app[CORE]
    _check_project(request, request.match_info["project"])
    page = _page(request, "limit")
    with core.session() as state:
        records = state.device_records(now_ms())
    return web.json_response(page_of(records, page))


async def model_list(request: web.Request) -> web.Response:
    core = request.app[CORE]
    _check_project(request, request.match_info["project"])
    with core.session() as state:
        return web.json_response(state.model_list(now_ms()))


def _check_project(request: web.Request, project_id: str) -> None:
    core: SimulatorCore = request.app[CORE]
    if project_id != core.settings.project_id:
        raise ApiError(404, f"project {project_id} not found")
    if not request[GRANT].allows(project_id):
        raise ApiError(403, f"the token has no access to project {project_id}")


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


def _require_value(body: dict[str, Any], name: str, expected: str) -> None:
    if name not in body:
        raise ApiError(400, f"{name} is required")
    if body[name] != expected:
        raise ApiError(400, f"{name} {body[name]!r} does not match the path ({expected!r})")


def _page(request: web.Request, size_param: str) -> PageRequest:
    settings = request.app[CORE].settings
    query = dict(request.query)
    if request.get(FIRST_PAGE_ONLY):
        query["requestedPage"] = "0"
    try:
        return page_request(
            query, size_param, default_size=settings.default_page_size, max_size=settings.max_page_size
        )
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
