"""The aiohttp application: LEM API, storage and control plane on one port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from . import api, bucket
from .control import add_control_routes
from .core import SimulatorCore
from .http_shared import CORE, SERVER_INFO
from .middlewares import inject_faults, lem_api, record_requests

# API request bodies are small JSON documents; storage PUTs are streamed and
# not bound by this.
_MAX_API_BODY = 1 << 20

# (method, path, endpoint kind, handler). The kind names the route, so that
# fault rules and the request log can tell endpoints apart.
_ROUTES = [
    ("POST", "/api/v1/file/{project}/mlModel/{fileName}/upload-url", "upload_url", api.upload_url),
    ("PUT", "/files/{project}/mlModel/{fileName}", "storage_put", bucket.put_object),
    ("POST", "/api/v1/file/{project}/mlModel/{fileName}", "upload_complete", api.upload_complete),
    ("GET", "/api/v1/file/{project}/list", "file_list", api.file_list),
    ("DELETE", "/api/v1/file/{project}/{fileType}/{fileName}", "file_delete", api.file_delete),
    ("POST", "/api/v1/async-task/task-with-subtasks", "deploy", api.deploy),
    ("GET", "/api/v1/async-task/{taskId}/subtasks", "subtasks", api.subtasks),
    ("GET", "/api/v1/async-task/subtasks", "history", api.history),
    ("GET", "/api/v1/analytics/{project}/models", "device_models", api.device_models),
    ("GET", "/api/v1/analytics/{project}/model-list", "model_list", api.model_list),
]


def build_app(core: SimulatorCore, server_info: Callable[[], dict[str, Any]]) -> web.Application:
    app = web.Application(
        middlewares=[record_requests, inject_faults, lem_api],
        client_max_size=_MAX_API_BODY,
    )
    app[CORE] = core
    app[SERVER_INFO] = server_info
    for method, path, kind, handler in _ROUTES:
        app.router.add_route(method, path, handler, name=kind)
    add_control_routes(app)
    return app
