"""What happens around every request: logging, fault injection, API auth.

Order, outermost first: `record_requests` logs everything but the control
plane; `inject_faults` applies the first matching fault rule, ahead of
authentication as a failing proxy or gateway would; `lem_api` authenticates
API calls and turns errors into LEM's JSON answers.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web

from .auth import grant_for
from .http_shared import (
    API_PREFIX,
    BODY_BYTES,
    CONTROL_PREFIX,
    CORE,
    CUT_AFTER,
    DROPPED,
    FAULT,
    FILE_NAME,
    FIRST_PAGE_ONLY,
    GRANT,
    PRESIGN_EXPIRED,
    PRESIGN_HOST,
    TASK_ID,
    ApiError,
    endpoint_kind,
    lem_error,
    spring_error,
)
from .state import Invalid, NotFound

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_NOT_JSON_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>"
    "<body><h1>Welcome to nginx!</h1></body></html>\n"
)


@web.middleware
async def record_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(CONTROL_PREFIX):
        return await handler(request)
    core = request.app[CORE]
    kind = endpoint_kind(request)
    started = time.monotonic()
    entry = core.open_request(
        time=time.time(),
        method=request.method,
        path=request.path,
        endpoint=kind,
        query={k: ("REDACTED" if k == "X-Amz-Signature" else v) for k, v in request.query.items()},
        headers=_headers_as_received(request),
    )
    status = 0
    body_bytes = 0
    try:
        # Storage bodies are streamed by their handler, which counts them.
        if kind != "storage_put" and request.body_exists:
            body = await request.read()
            body_bytes = len(body)
            core.update_request(entry, body_json=_json_or_none(body))
        response = await handler(request)
        status = 0 if request.get(DROPPED) else response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except Exception:
        status = 500
        raise
    finally:
        core.update_request(
            entry,
            status=status,
            fault=request.get(FAULT),
            body_bytes=request.get(BODY_BYTES, body_bytes),
            task_id=request.get(TASK_ID) or request.match_info.get("taskId"),
            file_name=request.get(FILE_NAME) or request.match_info.get("fileName"),
            elapsed=round(time.monotonic() - started, 6),
        )
        # Closed only now, so that the log is complete before the client
        # can notice and look.
        if request.get(DROPPED) and request.transport is not None:
            request.transport.close()


def _headers_as_received(request: web.Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


@web.middleware
async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    kind = endpoint_kind(request)
    rule = request.app[CORE].take_fault(kind) if kind else None
    if rule is None:
        return await handler(request)
    request[FAULT] = rule.action
    return await _FAULT_ACTIONS[rule.action](request, handler, rule.params)


async def _answer_status(request: web.Request, handler: Handler, params: dict[str, Any]) -> web.StreamResponse:
    if params.get("act"):
        await _run_and_discard(request, handler)
    status = params["status"]
    headers = {"Retry-After": str(params["retry_after"])} if "retry_after" in params else {}
    if status < 200 or status in (204, 304):
        return web.Response(status=status, headers=headers)
    body = params.get("body", _default_fault_body(request, status))
    if isinstance(body, str):
        content_type = params.get("content_type") or ("application/xml" if body.startswith("<") else "text/plain")
        return web.Response(status=status, text=body, content_type=content_type, headers=headers)
    return web.json_response(body, status=status, headers=headers)


def _default_fault_body(request: web.Request, status: int) -> Any:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    if endpoint_kind(request) == "storage_put":
        code = phrase.replace(" ", "")
        return f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{phrase}</Message></Error>"
    return {"code": "E", "message": phrase, "messageDetails": None}


async def _drop(request: web.Request, handler: Handler, params: dict[str, Any]) -> web.StreamResponse:
    if params.get("act"):
        await _run_and_discard(request, handler)
    return _close_without_answer(request)


async def _delay(request: web.Request, handler: Handler, params: dict[str, Any]) -> web.StreamResponse:
    await asyncio.sleep(params["seconds"])
    return await handler(request)


async def _cut(request: web.Request, handler: Handler, params: dict[str, Any]) -> web.StreamResponse:
    # The storage handler stops reading after this many bytes; when that is
    # the whole body the object is stored and only the answer is lost.
    request[CUT_AFTER] = params["after_bytes"]
    await _run_and_discard(request, handler)
    return _close_without_answer(request)


async def _not_json(request: web.Request, handler: Handler, params: dict[str, Any]) -> web.StreamResponse:
    return web.Response(text=_NOT_JSON_PAGE, content_type="text/html")


async def _json(request: web.Request, handler: Handler, params: dict[str, Any]) -> web.StreamResponse:
    return web.json_response(params["body"])


def _noting(key: str, value_of: Callable[[dict[str, Any]], Any]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """An action the handler carries out itself, told through `request[key]`."""

    async def action(request: web.Request, handler: Handler, params: dict[str, Any]) -> web.StreamResponse:
        request[key] = value_of(params)
        return await handler(request)

    return action


_FAULT_ACTIONS: dict[str, Callable[..., Awaitable[web.StreamResponse]]] = {
    "status": _answer_status,
    "drop": _drop,
    "delay": _delay,
    "cut": _cut,
    "not_json": _not_json,
    "json": _json,
    "stale_page": _noting(FIRST_PAGE_ONLY, lambda params: True),
    "expired_url": _noting(PRESIGN_EXPIRED, lambda params: True),
    "presign_host": _noting(PRESIGN_HOST, lambda params: params["host"]),
}


async def _run_and_discard(request: web.Request, handler: Handler) -> None:
    """Let the real handler act (create the task, store the object...)."""
    try:
        await handler(request)
    except web.HTTPException:
        pass


def _close_without_answer(request: web.Request) -> web.StreamResponse:
    """Mark the connection for closing (record_requests closes it). aiohttp
    still sends the response returned; with the connection closed it goes
    nowhere."""
    request[DROPPED] = True
    return web.Response(status=499)


@web.middleware
async def lem_api(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    grant = grant_for(request.headers, request.app[CORE].settings)
    if grant is None:
        return lem_error(401, "Unauthorized")
    if grant.read_only and request.method not in ("GET", "HEAD"):
        return lem_error(403, "Forbidden: the token is read-only")
    request[GRANT] = grant
    try:
        return await handler(request)
    except ApiError as exc:
        return lem_error(exc.status, exc.message)
    except NotFound as exc:
        return lem_error(404, str(exc))
    except Invalid as exc:
        return lem_error(400, str(exc))
    except web.HTTPNotFound:
        return spring_error(request, 404, "Not Found")
    except web.HTTPMethodNotAllowed:
        return spring_error(request, 405, "Method Not Allowed")
