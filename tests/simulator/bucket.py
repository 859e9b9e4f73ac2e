"""Step 2 of an upload: the PUT to the pre-signed URL.

This is the object storage, not the LEM API: no token, the URL's signature is
the authorization, and errors come as S3's XML.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

from aiohttp import web

from .http_shared import BODY_BYTES, CORE, CUT_AFTER
from .storage import StorageError, object_key


async def put_object(request: web.Request) -> web.Response:
    core = request.app[CORE]
    project_id, file_name = request.match_info["project"], request.match_info["fileName"]
    try:
        _check_auth_mechanism(request)
        _check_content_length(request)
        core.signer.verify(
            scheme=request.scheme,
            host=request.headers.get("Host", ""),
            path=request.path,
            query=request.query,
            headers=request.headers,
            now=datetime.now(timezone.utc),
        )
        if project_id != core.settings.project_id:
            raise StorageError(403, "AccessDenied", "Access Denied")
        assert request.content_length is not None
        info = await core.store.receive(
            object_key(project_id, file_name), _body_chunks(request), request.content_length
        )
    except StorageError as error:
        return web.Response(status=error.status, text=error.to_xml(request.path), content_type="application/xml")
    core.commit_object(file_name, info)
    return web.Response(status=200, headers={"ETag": info.etag})


def _check_auth_mechanism(request: web.Request) -> None:
    """S3 reads either an Authorization header or a query signature."""
    if "Authorization" not in request.headers:
        return
    if "X-Amz-Signature" in request.query or "X-Amz-Algorithm" in request.query:
        raise StorageError(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
            "string parameter or the Authorization header should be specified",
            ArgumentName="Authorization",
        )
    raise StorageError(400, "InvalidArgument", "Unsupported Authorization Type", ArgumentName="Authorization")


def _check_content_length(request: web.Request) -> None:
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if chunked or request.content_length is None:
        raise StorageError(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")


async def _body_chunks(request: web.Request) -> AsyncIterator[bytes]:
    """The body as it arrives, counted for the request log; it ends early if
    the client goes away or a `cut` fault says so."""
    limit = request.get(CUT_AFTER)
    received = 0
    while limit is None or received < limit:
        try:
            chunk = await request.content.readany()
        except ConnectionResetError:
            return
        if not chunk:
            return
        if limit is not None:
            chunk = chunk[: limit - received]
        received += len(chunk)
        request[BODY_BYTES] = received
        yield chunk
