"""The control plane over HTTP, under /_sim/: the same operations as the
Python API, JSON in and out, no authentication, not logged."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .http_shared import CORE, SERVER_INFO
from .state import NotFound

ControlHandler = Callable[[web.Request], Awaitable[Any]]


def _json_handler(operation: ControlHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Run `operation` and answer its result as JSON; bad input is a 400
    and an unknown device a 404, with `{"error": message}`."""

    async def handler(request: web.Request) -> web.Response:
        try:
            result = await operation(request)
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except NotFound as exc:
            return web.json_response({"error": str(exc)}, status=404)
        return web.json_response(result)

    return handler


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ValueError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


async def _info(request: web.Request) -> Any:
    return request.app[SERVER_INFO]()


async def _state(request: web.Request) -> Any:
    return request.app[CORE].snapshot()


async def _reset(request: web.Request) -> Any:
    core = request.app[CORE]
    core.reset(**await _body(request))
    return core.snapshot()


async def _configure(request: web.Request) -> Any:
    return request.app[CORE].configure(**await _body(request))


async def _faults(request: web.Request) -> Any:
    return request.app[CORE].fault_rules()


async def _add_fault(request: web.Request) -> Any:
    return request.app[CORE].add_fault(await _body(request))


async def _clear_faults(request: web.Request) -> Any:
    request.app[CORE].clear_faults()
    return {}


async def _requests(request: web.Request) -> Any:
    return request.app[CORE].requests(request.query.get("endpoint"))


async def _clear_requests(request: web.Request) -> Any:
    request.app[CORE].clear_requests()
    return {}


async def _set_device(request: web.Request) -> Any:
    return request.app[CORE].set_device(request.match_info["device"], **await _body(request))


async def _stage_file(request: web.Request) -> Any:
    """Body: name, and content (text) or content_base64, and description."""
    body = await _body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("name is required")
    if "content_base64" in body:
        try:
            content = base64.b64decode(body["content_base64"], validate=True)
        except (binascii.Error, TypeError):
            raise ValueError("content_base64 is not valid base64") from None
    else:
        content = str(body.get("content", "")).encode("utf-8")
    return request.app[CORE].stage_file(name, content, body.get("description", ""))


def add_control_routes(app: web.Application) -> None:
    routes = [
        ("GET", "info", _info),
        ("GET", "state", _state),
        ("POST", "reset", _reset),
        ("POST", "configure", _configure),
        ("GET", "faults", _faults),
        ("POST", "faults", _add_fault),
        ("DELETE", "faults", _clear_faults),
        ("GET", "requests", _requests),
        ("DELETE", "requests", _clear_requests),
        ("POST", "devices/{device}", _set_device),
        ("POST", "files", _stage_file),
    ]
    for method, path, operation in routes:
        app.router.add_route(method, f"/_sim/{path}", _json_handler(operation))
