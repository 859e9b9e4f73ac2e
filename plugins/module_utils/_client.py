# -*- coding: utf-8 -*-

# Copyright: (c) 2026, litmus.lem contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Internal to litmus.lem: the one HTTP client for Litmus Edge Manager (LEM).

This is not a public API; it may change in any release.

Everything the collection says to LEM goes through LemClient: authentication,
TLS, retries, pagination, the pre-signed storage upload, and the one sentence
each failure is explained with. It takes plain values, not an AnsibleModule,
so modules, the inventory plugin and tests use it alike.
"""

from __future__ import annotations

import base64
import email.utils
import json
import random
import re
import time
import traceback
import warnings

from urllib.parse import quote, unquote, urlsplit, urlunsplit

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    import requests.certs
    import requests.utils
    from urllib3.exceptions import InsecureRequestWarning, NewConnectionError
except ImportError:
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()


API = "/api/v1"
FILE_TYPE = "mlModel"
TASK_TYPE = "ANALYTICS_ML_MODEL_UPLOAD"

# Pages are asked this big; LEM may cap them lower, the page count is followed anyway.
PAGE_SIZE = 100

# A storage upload is read, hashed and sent in blocks this big: far above the 8 or 16 KiB that http.client and
# urllib3 would ask for (each block costs a read, a hash update and a TLS write), yet small enough to stay in the
# CPU's cache between the three.
BODY_BLOCK = 256 * 1024

# What is retried, and how long to wait (documented with the retries option in doc_fragments/connection.py).
RETRY_STATUSES = frozenset((429, 502, 503, 504))
BACKOFF_FIRST = 0.5
BACKOFF_CAP = 20.0
RETRY_AFTER_CAP = 60.0

# Repeat policies of a call. SAFE: sent again after a failure before sending and
# after 429/502/503/504 (reads, the upload steps, deletion); reads also after a
# connection that broke once the request was sent. UNSENT_ONLY: only where LEM
# certainly did not act on it (the deployment request: a second one would deploy twice).
SAFE = "safe"
UNSENT_ONLY = "unsent-only"

# How much of a failed answer's body a message quotes.
EXCERPT = 200


class LemError(Exception):
    """A failure, explained in one sentence a person can act on.

    ``result`` holds what a module should return beside the message, for
    example the partial state of a deployment that timed out.
    """

    def __init__(self, message, status=None, result=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.result = result or {}

    def __str__(self):
        return self.message


class LemHTTPError(LemError):
    """LEM (or its storage) answered with a status that is not a success.

    ``lem_answer`` is true when the body is LEM's own error answer
    (``{"code": ..., "message": ...}``): the endpoint exists and refused.
    """

    def __init__(self, message, status=None, result=None, lem_answer=False):
        super().__init__(message, status=status, result=result)
        self.lem_answer = lem_answer


class LemOutcomeUnknown(LemError):
    """A request that must not be repeated may or may not have reached LEM."""


class LemStorageError(LemError):
    """The object storage refused the pre-signed upload; ``code`` is its S3 error code."""

    def __init__(self, message, status=None, code=None):
        super().__init__(message, status=status)
        self.code = code


class LemURLExpired(LemStorageError):
    """The pre-signed URL had expired by the time the upload reached the storage."""


def base_url(url):
    """Return lem_url as ``scheme://host[:port]``, or raise LemError saying what is wrong with it."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if "@" in parts.netloc:
        raise LemError(
            "lem_url must not carry credentials (user:password@): give it as %s://%s and the API token as lem_token."
            % (parts.scheme or "https", parts.netloc.rpartition("@")[2]))
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise LemError(
            "lem_url %r is not a URL of LEM: give it as https://host[:port], for example https://lem.example.com."
            % redact_url(text))
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise LemError(
            "lem_url %r has a path or query: give only the base URL, %s://%s (the collection adds /api/v1/...)."
            % (redact_url(text), parts.scheme, parts.netloc))
    try:
        parts.port
    except ValueError:
        raise LemError("lem_url %r has an invalid port: give it as https://host[:port]." % text)
    return "%s://%s" % (parts.scheme, parts.netloc.lower())


def redact_url(url):
    """A URL fit for a message: the query (where a pre-signed URL keeps its signature) is cut off."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "...", ""))


def quote_segment(value):
    """A path segment with everything but unreserved characters percent-encoded (spaces, unicode, '/')."""
    return quote(value, safe="")


def retry_after_seconds(value, now=None):
    """Seconds a ``Retry-After`` header asks to wait (delta seconds or an HTTP date), capped; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def backoff_seconds(attempt, rand=random.random):
    """Capped exponential backoff with jitter for retry ``attempt`` (1, 2, ...): between half and all of the step."""
    step = min(BACKOFF_CAP, BACKOFF_FIRST * (2 ** (attempt - 1)))
    return step * (0.5 + rand() / 2)


def _status_text(response):
    return ("%s %s" % (response.status_code, response.reason or "")).strip()


def _shorten(text):
    text = " ".join((text or "").split())
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "..."


def s3_error(body):
    """(Code, Message) from an S3-style XML error body, or (None, None)."""
    code = re.search(r"<Code>([^<]*)</Code>", body or "")
    message = re.search(r"<Message>([^<]*)</Message>", body or "")
    return (code.group(1) if code else None, message.group(1) if message else None)


def _not_sent(exc):
    """True when the request failed before any byte of it was sent (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.ProxyError)):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        reason = getattr(exc.args[0], "reason", exc.args[0])
        return isinstance(reason, NewConnectionError)
    return False


def _connection_reason(exc):
    """The short cause of a connection failure, as the socket layer put it."""
    text = str(exc.args[0] if exc.args else exc)
    for pattern, reason in (
            (r"Name or service not known|nodename nor servname|getaddrinfo failed|Failed to resolve|"
             r"Temporary failure in name resolution|No address associated", "the host name does not resolve"),
            (r"Connection refused", "connection refused"),
            (r"No route to host", "no route to host"),
            (r"Network is unreachable", "network unreachable"),
            (r"Connection reset", "connection reset"),
            (r"RemoteDisconnected|closed connection without response|Connection aborted",
             "the connection was closed without an answer")):
        if re.search(pattern, text):
            return reason
    return "connection failed"


def _is_lem_answer(response):
    """True when an error answer is LEM's own ({"code": ..., "message": ...}), not a web server's page."""
    try:
        data = response.json()
    except ValueError:
        return False
    return isinstance(data, dict) and "code" in data and "message" in data


def _environ_proxy(url):
    """(variable, host:port) of the proxy the environment sets for ``url``, without credentials; None without one."""
    proxies = requests.utils.get_environ_proxies(url)
    for key in (urlsplit(url).scheme, "all"):
        proxy = proxies.get(key)
        if proxy:
            netloc = urlsplit(proxy if "://" in proxy else "http://" + proxy).netloc
            return "%s_PROXY" % key.upper(), netloc.rpartition("@")[2]
    return None


def _tls_reason(exc):
    text = str(exc)
    match = re.search(r"certificate verify failed: ([^(\)'\"]+)", text)
    if match:
        return match.group(1).strip()
    match = re.search(r"hostname '?([^' ]+)'? doesn't match", text)
    if match:
        return "the certificate does not name %s" % match.group(1)
    return "TLS handshake failed"


class _TokenAuth:
    """Adds the API token to a request the way auth_mode says; only ever given to requests for LEM's API."""

    def __init__(self, token, mode):
        self._headers = {}
        if mode in ("basic", "auto"):
            basic = base64.b64encode(("%s:" % token).encode("utf-8")).decode("ascii")
            self._headers["Authorization"] = "Basic " + basic
        if mode in ("header", "auto"):
            self._headers["X-AuthToken"] = token

    def __call__(self, request):
        request.headers.update(self._headers)
        return request

    def __repr__(self):
        return "<token auth>"


class UploadBody:
    """A file sent as a request body: exact length, large blocks, hashed as it is read.

    http.client and urllib3 ask a body for 8 or 16 KiB at a time; each block
    costs a read, a hash update and a TLS write, so this hands out
    ``block_size`` bytes whatever they ask for: the same bytes in far fewer,
    larger writes. A reusable buffer keeps memory flat whatever the file size.
    ``rewind`` restarts file, count and hash for a retry.
    """

    def __init__(self, fileobj, size, hasher_factory=None, block_size=BODY_BLOCK):
        self._file = fileobj
        self.size = size
        self._start = fileobj.tell()
        self._hasher_factory = hasher_factory
        self._buffer = bytearray(block_size)
        self._view = memoryview(self._buffer)
        self.hasher = hasher_factory() if hasher_factory else None
        self.bytes_read = 0
        self.bytes_sent_total = 0

    def __len__(self):
        # requests sets Content-Length from this; without it a stream goes chunked, which storage refuses.
        return self.size

    def __iter__(self):  # requests only treats bodies with __iter__ as streams
        while True:
            block = self.read()
            if not block:
                return
            yield bytes(block)

    def read(self, size=-1):  # pylint: disable=unused-argument
        remaining = self.size - self.bytes_read
        if remaining <= 0:
            return b""
        count = self._file.readinto(self._view[:min(len(self._buffer), remaining)])
        if not count:
            raise LemError("The file being uploaded shrank while it was read (%d of %d bytes): do not change it during the upload."
                           % (self.bytes_read, self.size))
        block = self._view[:count]
        if self.hasher is not None:
            self.hasher.update(block)
        self.bytes_read += count
        self.bytes_sent_total += count
        return block

    def rewind(self):
        self._file.seek(self._start)
        self.bytes_read = 0
        self.hasher = self._hasher_factory() if self._hasher_factory else None


class LemClient:
    """Talks to one LEM project: every API call, and the storage upload, with retries and error sentences."""

    def __init__(self, lem_url, token, project_id, auth_mode="auto", validate_certs=True, ca_path=None,
                 timeout=30.0, retries=3, sleep=time.sleep, rand=random.random):
        if requests is None:
            raise LemError("The Python library 'requests' is required on the host that runs litmus.lem; install it (pip install requests).")
        self.base_url = base_url(lem_url)
        if not token or not token.strip():
            raise LemError("lem_token is empty: set it (or LEM_API_TOKEN) to an API token from System > Access Control > Tokens.")
        if token != token.strip() or any(not 32 <= ord(char) <= 126 for char in token):
            # Said without quoting the token: it is a secret, and a header it would break could carry it anywhere.
            raise LemError("lem_token holds a line break, a control character, a character outside ASCII or spaces at either "
                           "end, which an HTTP header cannot carry: set it (or LEM_API_TOKEN) to the token alone, as System > "
                           "Access Control > Tokens shows it.")
        if not project_id or not project_id.strip():
            raise LemError("project_id is empty: set it (or LEM_PROJECT_ID) to the id of the LEM project.")
        if auth_mode not in ("auto", "basic", "header"):
            raise LemError("auth_mode %r is not one of auto, basic, header." % auth_mode)
        if retries is None or retries < 0:
            raise LemError("retries must be 0 or more, not %r." % retries)
        if timeout is None or timeout <= 0:
            raise LemError("timeout must be a number of seconds above 0, not %r." % timeout)
        self.project_id = project_id.strip()
        self.auth_mode = auth_mode
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.warnings = []
        self._secrets = (token, base64.b64encode(("%s:" % token).encode("utf-8")).decode("ascii"))
        self._auth = _TokenAuth(token, auth_mode)
        self._sleep = sleep
        self._rand = rand
        if ca_path and validate_certs:
            try:
                with open(ca_path, "rb"):
                    pass
            except (IOError, OSError) as exc:
                raise LemError("ca_path %s cannot be read (%s): point it at the PEM file of the CA that signed LEM's certificate."
                               % (ca_path, exc.strerror or exc))
        # An explicit bundle, so that REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE cannot override the user's choice.
        self._verify = (ca_path or requests.certs.where()) if validate_certs else False
        self._session = requests.Session()
        # Nothing from the environment but proxies (added per request): no .netrc credentials
        # (they would reach the storage), no CA bundle variables.
        self._session.trust_env = False
        self._session.headers["User-Agent"] = "litmus.lem (python-requests %s)" % requests.__version__
        if self.base_url.startswith("http://"):
            self.warnings.append(
                "lem_url %s uses http://: the API token travels in clear text. Use https:// unless the network is trusted."
                % self.base_url)

    # ---- the LEM API, in its own words -------------------------------------------------------------

    def staged_files(self):
        """Every file staged on LEM (Get Models on Edge Manager), all pages."""
        return self.pages(self._project_path("file", "{project}", "list"), "the staged file list")

    def staged_file(self, name):
        """The record of the model file ``name`` staged on LEM, or None (files of other types do not count)."""
        for record in self.staged_files():
            if record.get("name") == name and record.get("fileType") in (FILE_TYPE, None):
                return record
        return None

    def upload_url(self, name):
        """Step 1 of the upload: a pre-signed URL to PUT the bytes to."""
        path = self._project_path("file", "{project}", FILE_TYPE, name, "upload-url")
        answer = self.call("POST", path, "an upload URL for %s" % name,
                           json_body={"projectId": self.project_id, "fileName": name})
        url = answer.get("url") if isinstance(answer, dict) else None
        if not url or not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise LemError("LEM's answer to the upload URL request for %s has no usable 'url' (got %s): the collection expects {\"url\": \"https://...\"}."
                           % (name, self._excerpt(json.dumps(sorted(answer)) if isinstance(answer, dict) else type(answer).__name__)))
        return url

    def upload(self, name, body, upload_timeout, via_lem_url=False):
        """Steps 1 and 2: a pre-signed URL, then the bytes; one fresh URL if the storage says the first expired."""
        try:
            self.put_object(self.upload_url(name), body, upload_timeout, via_lem_url)
        except LemURLExpired:
            body.rewind()
            try:
                self.put_object(self.upload_url(name), body, upload_timeout, via_lem_url)
            except LemURLExpired as exc:
                raise LemURLExpired("%s A fresh URL had expired too: check that the clocks of the controller, LEM and its "
                                    "storage agree, and that LEM's upload URLs live longer than the upload takes."
                                    % exc.message, status=exc.status, code=exc.code)

    def complete_upload(self, name, description):
        """Step 3: tell LEM the bytes are there, with the description to keep."""
        path = self._project_path("file", "{project}", FILE_TYPE, name)
        self.call("POST", path, "the upload-complete step for %s" % name, json_body={"description": description},
                  not_found="LEM has no uploaded bytes for %s in project %s (404 on the upload-complete step): run the "
                            "task again with overwrite: always to upload them anew." % (name, self.project_id))

    def delete_file(self, name):
        """Delete a staged model file; False when LEM says it was not there (already gone)."""
        path = self._project_path("file", "{project}", FILE_TYPE, name)
        try:
            self.call("DELETE", path, "the deletion of %s" % name, expect_json=False)
        except LemHTTPError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def device_models(self):
        """Every device of the project with the models deployed on it (Get Models), all pages."""
        return self.pages(self._project_path("analytics", "{project}", "models"), "the device list (Get Models)")

    def model_list(self):
        """The project's models aggregated over devices: a plain array of {name, size, count}."""
        answer = self.call("GET", self._project_path("analytics", "{project}", "model-list"), "the model list")
        if not isinstance(answer, list):
            raise LemError("LEM's model list is not a JSON array (got %s): check that lem_url points at Litmus Edge Manager."
                           % type(answer).__name__)
        return self._objects(answer, "the model list")

    def deploy_model(self, file_name, device_ids, wait_for_online=False, task_name=None):
        """Deploy a staged model file to devices as one async task (LEM's envelope, as its API reference gives it);
        returns the task id."""
        count = len(device_ids)
        return self.create_task({
            "name": task_name or "Upload AI/ML Models (%d edge %s)" % (count, "device" if count == 1 else "devices"),
            "description": "",
            "params": {},
            "projectId": self.project_id,
            "subtasks": [
                {"deviceId": device_id, "num": number, "params": {"fileName": file_name}, "type": TASK_TYPE, "plannedExecTime": 0}
                for number, device_id in enumerate(device_ids)
            ],
            "type": TASK_TYPE,
            "waitForOnline": bool(wait_for_online),
        })

    def create_task(self, body):
        """Start an async task (a deployment); returns its id. Never sent twice where LEM may have acted."""
        what = "the deployment request (%s)" % body.get("name", "async task")
        hint = ("Check with litmus.lem.lem_model_info (gather: [history] or [devices]) whether the deployment ran "
                "before running this again.")
        try:
            answer = self.call("POST", API + "/async-task/task-with-subtasks", what, json_body=body, repeat=UNSENT_ONLY)
        except LemOutcomeUnknown as exc:
            raise LemOutcomeUnknown("%s It was not sent again, so as not to deploy twice. %s" % (exc.message, hint), status=exc.status)
        task_id = answer.get("taskId") if isinstance(answer, dict) else None
        if not task_id:
            raise LemOutcomeUnknown("LEM accepted %s but its answer has no taskId (got %s), so the deployment may have started. %s"
                                    % (what, self._excerpt(json.dumps(answer)), hint))
        return str(task_id)

    def subtasks(self, task_id):
        """The subtasks of one async task (a plain array), with status, progress and per-device messages."""
        # A plain array as documented, or pages on a LEM that pages this answer too: every page is read either way.
        return self.pages(API + "/async-task/%s/subtasks" % quote_segment(task_id), "the subtasks of task %s" % task_id,
                          not_found="LEM at %s has no task %s (404 Not Found): check the task id; it is known only to "
                                    "the LEM that started the task." % (self.base_url, task_id))

    def task_history(self, task_type=TASK_TYPE):
        """Every subtask of that type in the project's task history, all pages; None where LEM has no history endpoint."""
        try:
            return self.pages(API + "/async-task/subtasks", "the task history",
                              params={"projectId": self.project_id, "taskType": task_type})
        except LemHTTPError as exc:
            # A missing endpoint; LEM's own 404 answer (an unknown project) is a failure like any other.
            if exc.status == 404 and not exc.lem_answer:
                return None
            raise

    # ---- HTTP ---------------------------------------------------------------------------------------

    def call(self, method, path, what, json_body=None, params=None, repeat=SAFE, expect_json=True, not_found=None):
        """One API call; returns the decoded JSON answer (None for an empty one) or raises LemError."""
        response = self.send(method, self.base_url + path, what, repeat=repeat, auth=self._auth, json=json_body,
                             params=params, timeout=(self.timeout, self.timeout), allow_redirects=False)
        self._check(response, method, path, what, not_found, repeat)
        if not expect_json or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            problem = "LEM answered %s with something that is not JSON (%s, starting %r)" % (
                what, response.headers.get("Content-Type", "no content type"), self._excerpt(response.text)[:60])
            fix = "check that lem_url (%s) points at Litmus Edge Manager and not at a proxy or login page." % self.base_url
            if repeat == UNSENT_ONLY:
                # A success status with an answer nobody can read: whatever answered may have passed the request on.
                raise LemOutcomeUnknown("%s, so it may have acted on it: %s" % (problem, fix), status=response.status_code)
            raise LemError("%s: %s" % (problem, fix), status=response.status_code)

    def pages(self, path, what, params=None, not_found=None):
        """Every element of a paged answer, reading page after page as pagesCount says.

        A page that does not advance (another pageNum than asked, or only
        elements already seen) is an error: never a silent truncation.
        """
        elements, seen, page, count = [], set(), 0, 1
        while page < count:
            query = dict(params or {}, requestedPage=page, pageSize=PAGE_SIZE, limit=PAGE_SIZE)
            answer = self.call("GET", path, "%s (page %d)" % (what, page), params=query, not_found=not_found)
            if isinstance(answer, list) and page == 0:
                return self._objects(answer, what)  # a LEM that answers this one with a plain array
            if not isinstance(answer, dict) or not isinstance(answer.get("elements"), list):
                raise LemError("LEM's answer to %s (page %d) is not a list of records: the collection expects a JSON array "
                               "or a page {pageNum, pagesCount, size, totalSize, elements}, got %s. Check that lem_url "
                               "points at Litmus Edge Manager."
                               % (what, page, self._excerpt(json.dumps(sorted(answer)) if isinstance(answer, dict) else type(answer).__name__)))
            self._objects(answer["elements"], "%s (page %d)" % (what, page))
            try:
                number = int(answer.get("pageNum", page))
                if "pagesCount" in answer:
                    count = int(answer["pagesCount"])
                elif "totalSize" in answer:
                    # No page count: the element count says whether another page follows.
                    count = page + (2 if len(elements) + len(answer["elements"]) < int(answer["totalSize"]) else 1)
                else:
                    raise LemError("LEM's answer to %s (page %d) has neither pagesCount nor totalSize, so the collection "
                                   "cannot tell whether it read every page." % (what, page))
            except (TypeError, ValueError):
                raise LemError("LEM's answer to %s (page %d) has a pageNum, pagesCount or totalSize that is not a number."
                               % (what, page))
            if number != page:
                raise LemError("LEM answered page %d when asked for page %d of %s: the pages do not advance, so the list "
                               "cannot be read completely." % (number, page, what))
            keys = [json.dumps(element, sort_keys=True) for element in answer["elements"]]
            if page > 0 and (not keys or all(key in seen for key in keys)):
                raise LemError("Page %d of %d of %s brought %s: the pages do not advance, so the list cannot be read "
                               "completely."
                               % (page, count, what, "no elements" if not keys else "only elements already seen"))
            seen.update(keys)
            elements.extend(answer["elements"])
            page += 1
        return elements

    def put_object(self, url, body, upload_timeout, via_lem_url=False):
        """Step 2: PUT the bytes to the pre-signed URL, with no credentials of ours (the signature is the authorization)."""
        target, headers = url, {"Content-Length": str(body.size)}
        if via_lem_url:
            # Connect to LEM's address but keep the Host the URL was signed for; TLS checks lem_url's host.
            signed = urlsplit(url)
            own = urlsplit(self.base_url)
            target = urlunsplit((own.scheme, own.netloc, signed.path, signed.query, ""))
            headers["Host"] = signed.netloc
        what = "the upload of %s to the storage at %s" % (body_name(url), redact_url(url))
        # urllib3 applies the connect timeout while it sends the body, so both must be upload_timeout: a shorter
        # one would fail a slow but moving upload.
        response = self.send("PUT", target, what, repeat=SAFE, data=body, headers=headers, rewind=body.rewind,
                             timeout=(upload_timeout, upload_timeout), allow_redirects=False, storage=True,
                             via_lem_url=via_lem_url)
        if response.status_code in (200, 201, 204):
            return
        code, message = (self._excerpt(part) if part else part for part in s3_error(response.text))
        if response.status_code == 403 and "expired" in ("%s %s" % (code, message)).lower():
            raise LemURLExpired("The pre-signed upload URL LEM gave for %s had expired when the upload reached the storage (%s: %s)."
                                % (body_name(url), code, message), status=403, code=code)
        hint = ""
        if code == "SignatureDoesNotMatch":
            hint = (" Something between the controller and the storage changes the request (a proxy, or a Host that differs"
                    " from the signed one); if LEM signs URLs with an address the controller reaches another way, try"
                    " upload_via_lem_url: true.")
        tries = " after %d attempts" % response.attempts if response.attempts > 1 else ""
        raise LemStorageError("The storage refused %s with %s%s (S3 error code %s: %s).%s"
                              % (what, _status_text(response), tries, code or "none", self._excerpt(message or response.text), hint),
                              status=response.status_code, code=code)

    def send(self, method, url, what, repeat=SAFE, rewind=None, storage=False, via_lem_url=False, **kwargs):
        """Send one request, retrying transient failures as the retries option documents; returns the last response.

        The one place retries are decided: a failure before sending is retried
        for every call; 502/503/504 for calls that are SAFE to repeat; 429 for
        every call (LEM did not act); a connection that broke after sending
        only for reads (GET), where a repeat cannot do anything twice.
        """
        attempt = 0
        kwargs.setdefault("verify", self._verify)
        kwargs["proxies"] = requests.utils.get_environ_proxies(url)
        while True:
            try:
                with warnings.catch_warnings():
                    if not kwargs["verify"]:
                        warnings.simplefilter("ignore", InsecureRequestWarning)  # the user turned checks off on purpose
                    response = self._session.request(method, url, **kwargs)
            except requests.exceptions.RequestException as exc:
                unsent = _not_sent(exc)
                retryable = not isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.InvalidURL))
                if retryable and attempt < self.retries and (unsent or (repeat == SAFE and method == "GET")):
                    attempt += 1
                    self._wait(attempt, None, rewind)
                    continue
                raise self._request_error(exc, method, url, what, unsent, repeat, attempt, storage, via_lem_url)
            if response.status_code in RETRY_STATUSES and attempt < self.retries and (
                    repeat == SAFE or response.status_code == 429):
                attempt += 1
                response.close()
                self._wait(attempt, response.headers.get("Retry-After"), rewind)
                continue
            response.attempts = attempt + 1
            return response

    def _wait(self, attempt, retry_after, rewind):
        # Retry-After is honoured, but never shorter than the backoff: a "0" must not make a tight loop.
        backoff = backoff_seconds(attempt, self._rand)
        delay = retry_after_seconds(retry_after)
        self._sleep(backoff if delay is None else max(delay, backoff))
        if rewind is not None:
            rewind()

    def _check(self, response, method, path, what, not_found, repeat):
        """Raise the sentence for an answer that is not a success; a 3xx is never one."""
        status = response.status_code
        if 200 <= status < 300:
            return
        tries = " after %d attempts" % response.attempts if response.attempts > 1 else ""
        where = "%s %s" % (method, path)
        if repeat == UNSENT_ONLY and status >= 500:
            raise LemOutcomeUnknown("LEM answered %s to %s (%s): %s, so it may have acted on it."
                                    % (_status_text(response), what, where, self._lem_message(response)), status=status)
        if 300 <= status < 400:
            location = redact_url(response.headers.get("Location", "nowhere"))
            message = ("LEM answered %s (a redirect to %s) to %s: API calls are not redirected, so check that lem_url (%s) "
                       "is LEM's own address, with the right scheme and port." % (_status_text(response), location, what, self.base_url))
        elif status == 401:
            message = ("LEM refused the API token (401 Unauthorized) on %s: the token is invalid or expired. Create one under "
                       "System > Access Control > Tokens and set lem_token (or LEM_API_TOKEN)." % what)
            if self.auth_mode != "auto":
                message += " This LEM may read the token the other way: try auth_mode: auto."
        elif status == 403:
            access = "write" if method in ("POST", "PUT", "DELETE") else "read"
            message = ("The API token lacks the right for %s on project %s (403 Forbidden, %s): give the token %s access to "
                       "this project under System > Access Control > Tokens." % (what, self.project_id, where, access))
        elif status == 404:
            message = not_found or ("LEM found nothing at %s (404 Not Found, for %s): check project_id (%s) and that lem_url "
                                    "is a Litmus Edge Manager that offers this API." % (where, what, self.project_id))
            detail = self._lem_message(response)
            if not_found and detail:
                message = "%s LEM said: %s" % (message, detail)
        elif status == 400:
            message = "LEM refused %s as malformed (400 Bad Request, %s): %s" % (what, where, self._lem_message(response))
        elif status == 429:
            message = ("LEM kept answering 429 Too Many Requests to %s (%s)%s: it is rate limiting this token; run again "
                       "later or with fewer parallel jobs." % (what, where, tries))
        elif status >= 500:
            message = ("LEM answered %s to %s (%s)%s: %s. LEM may be restarting or overloaded: see its logs under "
                       "System > Support, then run again." % (_status_text(response), what, where, tries, self._lem_message(response)))
        else:
            message = "LEM answered %s to %s (%s): %s" % (_status_text(response), what, where, self._lem_message(response))
        raise LemHTTPError(self.redact(message), status=status, lem_answer=_is_lem_answer(response))

    def _request_error(self, exc, method, url, what, unsent, repeat, attempt, storage, via_lem_url):
        """The sentence for a request that got no answer."""
        parts = urlsplit(url)
        host = parts.netloc
        tries = " (after %d attempts)" % (attempt + 1) if attempt else ""
        if isinstance(exc, requests.exceptions.SSLError):
            reason = _tls_reason(exc)
            return LemError(self.redact(
                "Could not verify the TLS certificate of %s (%s) for %s. If LEM uses a self-signed certificate, point "
                "ca_path (or LEM_CA_PATH) at the CA that signed it, or set validate_certs: false to skip the check."
                % (host, reason, what)))
        if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema)):
            source = "the upload URL LEM returned" if storage else "lem_url"
            return LemError(self.redact("%s, %s, is not a usable URL for %s (%s): %s." % (
                source, redact_url(url), what, exc, "check LEM's storage settings" if storage else "check lem_url")))
        if isinstance(exc, requests.exceptions.Timeout):
            problem = "did not answer within the time limit"
            if isinstance(exc, requests.exceptions.ConnectTimeout):
                problem = "did not accept a connection within the time limit"
            fix = ("raise upload_timeout, or check the network to the storage" if storage
                   else "raise timeout, or check LEM's load")
            detail = "%s at %s %s for %s%s" % (("The storage" if storage else "LEM"), host, problem, what, tries)
        elif isinstance(exc, requests.exceptions.ProxyError):
            variable, proxy = _environ_proxy(url) or ("the environment", "?")
            detail = "Could not reach %s at %s for %s%s through the proxy %s set by %s (%s)" % (
                "the storage" if storage else "LEM", host, what, tries, proxy, variable, _connection_reason(exc))
            fix = "check that proxy, or add %s to NO_PROXY to connect directly" % parts.hostname
        else:
            reason = _connection_reason(exc)
            target = "the storage" if storage else "LEM"
            if unsent:
                detail = "Could not reach %s at %s (%s) for %s%s" % (target, host, reason, what, tries)
            else:
                detail = "The connection to %s at %s broke (%s) during %s%s" % (target, host, reason, what, tries)
            own_host = parts.hostname == urlsplit(self.base_url).hostname
            if storage and reason == "the host name does not resolve" and not via_lem_url and not own_host:
                fix = ("LEM signs upload URLs with the host %s, which this controller cannot resolve: set "
                       "upload_via_lem_url: true to send the upload to lem_url's address instead" % parts.hostname)
            elif storage:
                fix = "check that the storage of LEM is reachable from the controller, then run again"
            elif reason == "the host name does not resolve":
                fix = "check the host name in lem_url (%s)" % self.base_url
            else:
                fix = "check lem_url (%s) and that LEM is running and reachable from the controller" % self.base_url
        if repeat == UNSENT_ONLY and not unsent:
            return LemOutcomeUnknown(self.redact("%s after the request was sent, so LEM may have acted on it." % detail))
        return LemError(self.redact("%s: %s." % (detail, fix)))

    def _objects(self, items, what):
        """``items``, when every one is a JSON object (LEM's records are); else the sentence saying it is not."""
        for item in items:
            if not isinstance(item, dict):
                raise LemError("LEM's answer to %s holds an element that is not an object (got %s): check that lem_url (%s) "
                               "points at Litmus Edge Manager." % (what, self._excerpt(json.dumps(item))[:40], self.base_url))
        return items

    def _excerpt(self, text):
        """A short, secret-free quote of what LEM or the storage said (redacted before it is cut, so no part of a secret survives)."""
        return _shorten(self.redact(text or ""))

    def _lem_message(self, response):
        """LEM's own explanation from an error answer ({code, message, ...}), else an excerpt of the body."""
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in ("message", "messageDetails", "error", "detail"):
                if data.get(key):
                    return self._excerpt(str(data[key]))
        return self._excerpt(response.text)

    def redact(self, text):
        """Text with the token, its Basic form and any URL query (a pre-signed signature) removed."""
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "********")
        # The query ends at a space, a quote or a closing parenthesis; punctuation right after it stays.
        return re.sub(r"(https?://[^\s?'\"()]*)\?[^\s'\"()]*?(?=[.,;:]*(?:[\s'\"()]|$))", r"\1?...", text)

    def _project_path(self, *segments):
        return API + "/" + "/".join(
            quote_segment(self.project_id) if segment == "{project}" else quote_segment(segment) for segment in segments)


def body_name(url):
    """The file name at the end of a pre-signed URL's path, for messages."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])
