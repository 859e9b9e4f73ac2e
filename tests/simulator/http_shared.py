"""Names and answers shared by the simulator's request handlers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .auth import Grant
from .core import SimulatorCore

CORE = web.AppKey("core", SimulatorCore)
# The server's connection details now: url, token, project_id, ca_path...
SERVER_INFO = web.AppKey("server_info", Callable[[], dict[str, Any]])

CONTROL_PREFIX = "/_sim/"
API_PREFIX = "/api/"

# Per-request notes, set by middlewares and handlers.
GRANT = web.RequestKey("grant", Grant)
FAULT = web.RequestKey("fault", str)
DROPPED = web.RequestKey("dropped", bool)
BODY_BYTES = web.RequestKey("body_bytes", int)
TASK_ID = web.RequestKey("task_id", str)
FILE_NAME = web.RequestKey("file_name", str)
# Fault effects that handlers carry out.
FIRST_PAGE_ONLY = web.RequestKey("first_page_only", bool)
PRESIGN_EXPIRED = web.RequestKey("presign_expired", bool)
PRESIGN_HOST = web.RequestKey("presign_host", str)
CUT_AFTER = web.RequestKey("cut_after", int)


class ApiError(Exception):
    """An error answer of the LEM API."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def endpoint_kind(request: web.Request) -> str | None:
    """The endpoint kind (faults.ENDPOINT_KINDS) this request was routed to."""
    return request.match_info.route.name


def lem_error(status: int, message: str) -> web.Response:
    return web.json_response({"code": "E", "message": message, "messageDetails": None}, status=status)


def lem_success() -> web.Response:
    return web.json_response({"code": "S", "message": None, "messageDetails": None})


def spring_error(request: web.Request, status: int, reason: str) -> web.Response:
    """The answer of LEM's framework for a path it does not serve."""
    body: dict[str, Any] = {
        "timestamp": int(time.time() * 1000),
        "status": status,
        "error": reason,
        "path": request.path,
    }
    return web.json_response(body, status=status)
