"""The S3-compatible object storage behind LEM's upload URLs.

`UrlSigner` makes and checks SigV4 pre-signed PUT URLs with botocore, the way
an S3 or MinIO backend does; `ObjectStore` keeps the objects on disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

import botocore.session
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import Credentials

BUCKET = "files"
REGION = "us-east-1"
SERVICE = "s3"
ACCESS_KEY = "LEMSIMULATORACCESSKEY"
SECRET_KEY = "lem-simulator-secret-key"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
# S3 refuses pre-signed URLs valid for longer than a week.
MAX_EXPIRES = 604800

# Writes to disk are batched so that a large upload costs few thread hops
# while holding at most two batches in memory: the one being written and
# hashed in worker threads, and the next one arriving meanwhile.
_FLUSH_BYTES = 4 << 20

_AUTH_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)


class StorageError(Exception):
    """An S3-style error answer: status, `<Code>`, `<Message>` and details."""

    def __init__(self, status: int, code: str, message: str, **details: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def to_xml(self, resource: str) -> str:
        fields = {"Code": self.code, "Message": self.message, **self.details, "Resource": resource}
        body = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in fields.items())
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{body}<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>'


def _query_auth_error(message: str) -> StorageError:
    return StorageError(400, "AuthorizationQueryParametersError", message)


def object_key(project_id: str, file_name: str) -> str:
    return f"{project_id}/mlModel/{file_name}"


@dataclass(frozen=True)
class _Signing:
    canonical_request: str
    string_to_sign: str
    signature: str


class UrlSigner:
    """Pre-signs PUT URLs for the `files` bucket and verifies them."""

    def __init__(self, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> None:
        self._access_key = access_key
        self._credentials = Credentials(access_key, secret_key)
        self._session = botocore.session.Session()
        self._clients: dict[str, BaseClient] = {}

    def presign_put(self, base_url: str, key: str, expires: int, signed_at: datetime | None = None) -> str:
        """A path-style URL `base_url/files/key?X-Amz-...`, signed now by
        botocore's presigner, or as if at `signed_at` (to hand out URLs that
        are already expired)."""
        if signed_at is None:
            return self._client(base_url).generate_presigned_url(
                "put_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=expires
            )
        # botocore's presigner always signs with the current time, so a
        # backdated URL goes through the same signer one level down.
        request = AWSRequest(method="PUT", url=f"{base_url}/{BUCKET}/{quote(key, safe='/~')}")
        signing = self._sign(request, signed_at.strftime(AMZ_DATE_FORMAT), expires)
        return f"{request.url}&X-Amz-Signature={signing.signature}"

    def verify(
        self,
        *,
        scheme: str,
        host: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        now: datetime,
    ) -> None:
        """Raise StorageError unless the request carries a valid, unexpired
        signature for `host` and the decoded `path`."""
        if not any(name in query for name in _AUTH_PARAMS):
            raise StorageError(403, "AccessDenied", "Access Denied")
        if any(name not in query for name in _AUTH_PARAMS):
            raise _query_auth_error(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
            )
        if query["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
            raise _query_auth_error('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
        amz_date = query["X-Amz-Date"]
        signed_at = _parse_amz_date(amz_date)
        expires = _parse_expires(query["X-Amz-Expires"])
        self._check_credential(query["X-Amz-Credential"], amz_date)

        expires_at = signed_at + timedelta(seconds=expires)
        if now > expires_at:
            raise StorageError(
                403,
                "AccessDenied",
                "Request has expired",
                **{
                    "X-Amz-Expires": str(expires),
                    "Expires": expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "ServerTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            )

        signed_names = [name for name in query["X-Amz-SignedHeaders"].split(";") if name]
        other_params = {k: v for k, v in query.items() if k not in _AUTH_PARAMS}
        request = AWSRequest(
            method="PUT",
            url=f"{scheme}://{host}{quote(path, safe='/~')}"
            + (f"?{urlencode(other_params, quote_via=quote)}" if other_params else ""),
            headers={name: headers.get(name, "") for name in signed_names},
        )
        signing = self._sign(request, amz_date, expires)
        if not hmac.compare_digest(signing.signature, query["X-Amz-Signature"]):
            raise StorageError(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
                AWSAccessKeyId=self._access_key,
                StringToSign=signing.string_to_sign,
                SignatureProvided=query["X-Amz-Signature"],
                CanonicalRequest=signing.canonical_request,
            )

    def _sign(self, request: AWSRequest, amz_date: str, expires: int) -> _Signing:
        """Sign `request` for query authentication at `amz_date`, adding the
        X-Amz-* parameters (except the signature) to its URL."""
        auth = S3SigV4QueryAuth(self._credentials, SERVICE, REGION, expires=expires)
        request.context["timestamp"] = amz_date
        auth._modify_request_before_signing(request)  # pylint: disable=protected-access
        canonical_request = auth.canonical_request(request)
        string_to_sign = auth.string_to_sign(request, canonical_request)
        return _Signing(canonical_request, string_to_sign, auth.signature(string_to_sign, request))

    def _check_credential(self, credential: str, amz_date: str) -> None:
        parts = credential.split("/")
        if len(parts) != 5 or parts[2:] != [REGION, SERVICE, "aws4_request"]:
            raise _query_auth_error(f"Error parsing the X-Amz-Credential parameter: {credential}")
        if parts[0] != self._access_key:
            raise StorageError(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                AWSAccessKeyId=parts[0],
            )
        if parts[1] != amz_date[:8]:
            raise _query_auth_error("Invalid credential date. Date is not the same as X-Amz-Date.")

    def _client(self, base_url: str) -> BaseClient:
        client = self._clients.get(base_url)
        if client is None:
            client = self._session.create_client(
                "s3",
                region_name=REGION,
                endpoint_url=base_url,
                aws_access_key_id=self._credentials.access_key,
                aws_secret_access_key=self._credentials.secret_key,
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
            )
            self._clients[base_url] = client
        return client


def _parse_amz_date(value: str) -> datetime:
    try:
        return datetime.strptime(value, AMZ_DATE_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise _query_auth_error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"") from None


def _parse_expires(value: str) -> int:
    if not value.isdigit():
        raise _query_auth_error("X-Amz-Expires should be a number")
    expires = int(value)
    if not 1 <= expires <= MAX_EXPIRES:
        raise _query_auth_error("X-Amz-Expires must be less than a week (in seconds) that is 604800")
    return expires


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str
    last_modified: int  # epoch milliseconds: the object file's mtime, or the upload's end when no bytes are kept


class _ObjectFile:
    """A file being written. No digest is taken on the way in: on a small
    machine the simulator shares the CPU with the clients it serves, and a
    real LEM's storage runs elsewhere. The sha256 tests read is computed on
    demand (ObjectStore.sha256)."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("wb")
        self.size = 0

    def write(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self._file.write(chunk)
            self.size += len(chunk)

    async def write_async(self, chunks: list[bytes]) -> None:
        """`write` in a worker thread (file writes release the GIL), so the event loop keeps reading the socket."""
        await asyncio.get_running_loop().run_in_executor(None, self.write, chunks)

    def close(self) -> None:
        self._file.close()


class _ByteCounter:
    """An upload that keeps no bytes, only their count (`keep_bytes=False`)."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, chunks: list[bytes]) -> None:
        self.size += sum(len(chunk) for chunk in chunks)

    async def write_async(self, chunks: list[bytes]) -> None:
        self.write(chunks)

    def close(self) -> None:
        pass


class ObjectStore:
    """Objects as files named by a hash of their key, so no key can reach
    outside the directory. An upload goes to a temporary file that replaces
    the object only once every declared byte arrived.

    With `keep_bytes=False` an upload (a storage PUT) is read to its last
    byte and counted, and nothing is written: for benchmarks, where writing
    to memory or disk would add the server machine's costs (and their noise)
    to the client's. Sizes and ETags are as usual; `sha256` is None. Files
    staged with `write` keep their bytes either way."""

    _PARTIAL_SUFFIX = ".part"

    def __init__(self, root: Path, keep_bytes: bool = True) -> None:
        self._root = root
        self._keep_bytes = keep_bytes
        self._digests: dict[Path, tuple[int, int, str]] = {}  # path -> (mtime_ns, size, sha256)
        root.mkdir(parents=True, exist_ok=True)
        # Left behind by a simulator killed mid-upload.
        for leftover in root.glob(f"*{self._PARTIAL_SUFFIX}"):
            leftover.unlink()

    async def receive(self, key: str, chunks: AsyncIterator[bytes], length: int) -> ObjectInfo:
        """Stream `chunks` into the object; StorageError if fewer than
        `length` bytes come, and then the previous object is untouched."""
        partial, sink = self._new_upload()
        # The batch being written while the next one is collected.
        pending: asyncio.Future[None] | None = None
        try:
            batch: list[bytes] = []
            batch_bytes = 0
            async for chunk in chunks:
                batch.append(chunk)
                batch_bytes += len(chunk)
                if batch_bytes >= _FLUSH_BYTES:
                    if pending is not None:
                        await pending
                    pending = asyncio.ensure_future(sink.write_async(batch))
                    batch, batch_bytes = [], 0
            if pending is not None:
                await pending
            pending = asyncio.ensure_future(sink.write_async(batch))
            await pending
            sink.close()
            if sink.size != length:
                raise StorageError(
                    400,
                    "IncompleteBody",
                    "You did not provide the number of bytes specified by the Content-Length HTTP header",
                )
            self._commit(partial, key)
        except BaseException:
            if pending is not None:
                # Let the worker thread finish with the file before it is closed and removed.
                await asyncio.wait([pending])
            sink.close()
            if partial is not None:
                partial.unlink(missing_ok=True)
            raise
        return self._info(key, sink)

    def write(self, key: str, data: bytes) -> ObjectInfo:
        """Store `data` at once (for staging files without an upload; kept whatever `keep_bytes` says)."""
        partial = self._partial_path()
        sink = _ObjectFile(partial)
        sink.write([data])
        sink.close()
        self._commit(partial, key)
        return self._info(key, sink)

    def _new_upload(self) -> tuple[Path | None, _ObjectFile | _ByteCounter]:
        """Where an upload's bytes go: a temporary file and its writer, or no file and a counter."""
        if not self._keep_bytes:
            return None, _ByteCounter()
        partial = self._partial_path()
        return partial, _ObjectFile(partial)

    def _partial_path(self) -> Path:
        return self._root / f"{uuid.uuid4().hex}{self._PARTIAL_SUFFIX}"

    def _commit(self, partial: Path | None, key: str) -> None:
        """Make a complete upload the object: its file replaces the old one; counted bytes replace it with none,
        so that no earlier content is reported for it."""
        if partial is None:
            self._path(key).unlink(missing_ok=True)
        else:
            os.replace(partial, self._path(key))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def clear(self) -> None:
        for path in self._root.iterdir():
            path.unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        return self._root / hashlib.sha256(key.encode()).hexdigest()

    def sha256(self, key: str) -> str | None:
        """The sha256 of the object's bytes (None without an object), kept until the object changes."""
        path = self._path(key)
        try:
            status = path.stat()
        except FileNotFoundError:
            return None
        cached = self._digests.get(path)
        if cached is None or cached[:2] != (status.st_mtime_ns, status.st_size):
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            cached = (status.st_mtime_ns, status.st_size, digest.hexdigest())
            self._digests[path] = cached
        return cached[2]

    def _info(self, key: str, sink: _ObjectFile | _ByteCounter) -> ObjectInfo:
        written_ns = self._path(key).stat().st_mtime_ns if isinstance(sink, _ObjectFile) else time.time_ns()
        # S3 gives an opaque ETag; this one changes whenever the bytes are replaced, without reading them again.
        etag = '"%x-%x"' % (written_ns, sink.size)
        return ObjectInfo(size=sink.size, etag=etag, last_modified=written_ns // 1_000_000)
