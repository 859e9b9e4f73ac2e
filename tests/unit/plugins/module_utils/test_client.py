"""The shared client's rules, with a scripted stand-in for the HTTP session (no network)."""

import base64
import email.utils
import io
import json
import time

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

from ansible_collections.litmus.lem.plugins.module_utils import _client
from ansible_collections.litmus.lem.plugins.module_utils._client import (
    LemClient,
    LemError,
    LemHTTPError,
    LemOutcomeUnknown,
    LemStorageError,
    LemURLExpired,
    UploadBody,
    backoff_seconds,
    base_url,
    retry_after_seconds,
)

TOKEN = "tok-SECRET-4242-abcdef"
BASIC = base64.b64encode(("%s:" % TOKEN).encode()).decode()
PROJECT = "462j1mq70mph31wa100t1yuxa"


def answer(status=200, body=None, headers=None, reason=None):
    """A real requests.Response with the given status, JSON (or text) body and headers."""
    response = requests.models.Response()
    response.status_code = status
    response.reason = reason or {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
                                 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
                                 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "")
    if body is None:
        content = b""
    elif isinstance(body, (bytes, str)):
        content = body.encode() if isinstance(body, str) else body
    else:
        content = json.dumps(body).encode()
    response._content = content
    response._content_consumed = True
    response.headers.update(headers or {})
    response.url = "https://lem.example.com/"
    return response


def refused():
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/", reason))


def unresolvable(host="lem.invalid"):
    reason = NameResolutionError(host, None, OSError("[Errno -2] Name or service not known"))
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/", reason))


def lost():
    return requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError("RemoteDisconnected('Remote end closed connection without response')")))


class ScriptedSession:
    """Plays back answers (or raises exceptions) in order; records every request and the headers its auth added."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls = []
        self.headers = {}

    def request(self, method, url, **kwargs):
        prepared = requests.Request(method, url, headers=dict(kwargs.get("headers") or {})).prepare()
        if kwargs.get("auth"):
            kwargs["auth"](prepared)
        self.calls.append({"method": method, "url": url, "headers": dict(prepared.headers), "kwargs": kwargs})
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


def client_with(*script, **options):
    sleeps = []
    client = LemClient("https://lem.example.com/", TOKEN, PROJECT, sleep=sleeps.append, rand=lambda: 1.0, **options)
    client._session = ScriptedSession(*script)
    client.sleeps = sleeps
    return client


def page(number, count, elements):
    return answer(body={"pageNum": number, "pagesCount": count, "size": len(elements), "totalSize": 99, "elements": elements})


# ---- lem_url ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("https://lem.example.com", "https://lem.example.com"),
    ("https://LEM.example.com:8443/", "https://lem.example.com:8443"),
    ("http://10.0.0.5", "http://10.0.0.5"),
])
def test_base_url_accepts_a_base_url(url, expected):
    assert base_url(url) == expected


@pytest.mark.parametrize("url, words", [
    ("lem.example.com", "is not a URL of LEM"),
    ("ftp://lem.example.com", "is not a URL of LEM"),
    ("https://admin:pw@lem.example.com", "must not carry credentials"),
    ("https://lem.example.com/api/v1", "has a path or query"),
    ("https://lem.example.com/?x=1", "has a path or query"),
    ("https://lem.example.com:99999", "invalid port"),
    ("", "is not a URL of LEM"),
])
def test_base_url_refuses_what_is_not_a_base_url(url, words):
    with pytest.raises(LemError) as error:
        base_url(url)
    assert words in str(error.value)
    assert "pw" not in str(error.value)


def test_http_url_works_with_a_clear_text_warning():
    client = LemClient("http://lem.example.com", TOKEN, PROJECT)
    assert any("clear text" in warning for warning in client.warnings)


# ---- authentication --------------------------------------------------------------------------------

@pytest.mark.parametrize("mode, basic, header", [("basic", True, False), ("header", False, True), ("auto", True, True)])
def test_token_is_sent_as_auth_mode_says(mode, basic, header):
    client = client_with(answer(body=[]), auth_mode=mode)
    client.model_list()
    sent = client._session.calls[0]["headers"]
    assert (sent.get("Authorization") == "Basic " + BASIC) is basic
    assert ("Authorization" in sent) is basic
    assert (sent.get("X-AuthToken") == TOKEN) is header
    assert ("X-AuthToken" in sent) is header


def test_storage_put_carries_no_credentials_and_an_exact_length():
    client = client_with(answer(200))
    body = UploadBody(io.BytesIO(b"x" * 10), 10)
    client.put_object("https://storage.example.com/files/p/mlModel/a.zip?X-Amz-Signature=abc", body, 60)
    call = client._session.calls[0]
    assert "Authorization" not in call["headers"] and "X-AuthToken" not in call["headers"]
    assert call["kwargs"].get("auth") is None
    assert call["headers"]["Content-Length"] == "10"
    assert call["kwargs"]["timeout"] == (60, 60)


def test_upload_via_lem_url_connects_to_lem_and_keeps_the_signed_host():
    client = client_with(answer(200))
    client.put_object("https://storage.internal:9000/files/p/mlModel/a.zip?X-Amz-Signature=abc",
                      UploadBody(io.BytesIO(b"abc"), 3), 60, via_lem_url=True)
    call = client._session.calls[0]
    assert call["url"] == "https://lem.example.com/files/p/mlModel/a.zip?X-Amz-Signature=abc"
    assert call["headers"]["Host"] == "storage.internal:9000"


def test_verification_ignores_ca_bundle_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent.pem")
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    assert client_with(answer(body=[]))._verify == requests.certs.where()
    assert client_with(answer(body=[]), ca_path=str(ca))._verify == str(ca)
    assert client_with(answer(body=[]), validate_certs=False)._verify is False
    client = client_with(answer(body=[]), ca_path=str(ca))
    client.model_list()
    assert client._session.calls[0]["kwargs"]["verify"] == str(ca)


def test_unreadable_ca_path_is_refused_before_anything_is_sent(tmp_path):
    with pytest.raises(LemError) as error:
        LemClient("https://lem.example.com", TOKEN, PROJECT, ca_path=str(tmp_path / "missing.pem"))
    assert "ca_path" in str(error.value) and "missing.pem" in str(error.value)


def test_empty_token_is_refused():
    with pytest.raises(LemError) as error:
        LemClient("https://lem.example.com", " ", PROJECT)
    assert "lem_token is empty" in str(error.value)


# ---- retries ----------------------------------------------------------------------------------------------

def test_retry_after_in_seconds_and_as_http_date_capped():
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds("600") == 60
    now = time.time()
    assert 9 <= retry_after_seconds(email.utils.formatdate(now + 10, usegmt=True), now=now) <= 10
    assert retry_after_seconds(email.utils.formatdate(now - 10, usegmt=True), now=now) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_backoff_grows_exponentially_is_jittered_and_capped():
    assert backoff_seconds(1, lambda: 1.0) == 0.5
    assert backoff_seconds(3, lambda: 1.0) == 2.0
    assert backoff_seconds(3, lambda: 0.0) == 1.0
    assert backoff_seconds(30, lambda: 1.0) == _client.BACKOFF_CAP


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_get_is_retried_on_transient_statuses(status):
    client = client_with(answer(status), answer(body=[{"name": "m", "size": 1, "count": 1}]))
    assert client.model_list()[0]["name"] == "m"
    assert len(client._session.calls) == 2
    assert client.sleeps == [0.5]


def test_retry_after_is_honoured():
    client = client_with(answer(429, headers={"Retry-After": "3"}), answer(body=[]))
    client.model_list()
    assert client.sleeps == [3]


@pytest.mark.parametrize("failure", [refused, lost, lambda: requests.exceptions.ReadTimeout("read timed out")])
def test_get_is_retried_after_connection_failures(failure):
    client = client_with(failure(), answer(body=[]))
    assert client.model_list() == []
    assert len(client._session.calls) == 2


@pytest.mark.parametrize("failure", [lost, lambda: requests.exceptions.ReadTimeout("read timed out")])
def test_writes_are_not_retried_after_a_connection_that_broke_after_sending(failure):
    client = client_with(failure(), answer(200))
    with pytest.raises(LemError) as error:
        client.put_object("https://s.example.com/files/p/mlModel/a.zip?X-Amz-Signature=1", UploadBody(io.BytesIO(b"a"), 1), 5)
    assert len(client._session.calls) == 1
    assert "the storage" in str(error.value)
    client = client_with(refused(), answer(200))
    client.put_object("https://s.example.com/files/p/mlModel/a.zip?X-Amz-Signature=1", UploadBody(io.BytesIO(b"a"), 1), 5)
    assert len(client._session.calls) == 2


def test_persistent_failure_names_endpoint_status_and_attempts():
    client = client_with(*[answer(503, body={"message": "maintenance"})] * 4)
    with pytest.raises(LemHTTPError) as error:
        client.model_list()
    text = str(error.value)
    assert "503 Service Unavailable" in text and "/model-list" in text and "after 4 attempts" in text
    assert "maintenance" in text
    assert len(client._session.calls) == 4
    assert client.sleeps == [0.5, 1.0, 2.0]


def test_retries_zero_means_one_attempt():
    client = client_with(answer(503), retries=0)
    with pytest.raises(LemHTTPError):
        client.model_list()
    assert len(client._session.calls) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_deploy_post_is_never_repeated_after_a_5xx(status):
    client = client_with(answer(status), answer(body={"taskId": "t-2"}))
    with pytest.raises(LemOutcomeUnknown) as error:
        client.create_task({"name": "Upload AI/ML Models (1 edge device)"})
    assert len(client._session.calls) == 1
    text = str(error.value)
    assert "may have" in text and "lem_model_info" in text and "history" in text and "not sent again" in text


@pytest.mark.parametrize("failure", [lost, lambda: requests.exceptions.ReadTimeout("read timed out")])
def test_deploy_post_is_never_repeated_after_a_lost_answer(failure):
    client = client_with(failure(), answer(body={"taskId": "t-2"}))
    with pytest.raises(LemOutcomeUnknown) as error:
        client.create_task({"name": "x"})
    assert len(client._session.calls) == 1
    assert "may have acted" in str(error.value)


@pytest.mark.parametrize("first", [lambda: answer(429, headers={"Retry-After": "1"}), refused])
def test_deploy_post_is_repeated_where_lem_did_not_act(first):
    client = client_with(first(), answer(body={"taskId": "t-1"}))
    assert client.create_task({"name": "x"}) == "t-1"
    assert len(client._session.calls) == 2


def test_deploy_answer_without_task_id_says_the_deployment_may_have_started():
    client = client_with(answer(body={"code": "S"}))
    with pytest.raises(LemOutcomeUnknown) as error:
        client.create_task({"name": "x"})
    assert "may have started" in str(error.value)


def test_storage_put_retry_rewinds_and_rehashes_the_body():
    import hashlib
    client = client_with(answer(503), answer(200))
    body = UploadBody(io.BytesIO(b"hello world"), 11, hasher_factory=hashlib.sha256, block_size=4)

    def consume(method, url, **kwargs):
        while kwargs["data"].read():
            pass
        return ScriptedSession.request(client._session, method, url, **kwargs)

    client._session.request = consume
    client.put_object("https://s.example.com/files/p/mlModel/a.zip?sig=1", body, 60)
    assert body.hasher.hexdigest() == hashlib.sha256(b"hello world").hexdigest()
    assert body.bytes_read == 11 and body.bytes_sent_total == 22


# ---- error sentences ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("status, words", [
    (401, ["401 Unauthorized", "invalid or expired", "lem_token"]),
    (403, ["403 Forbidden", "lacks the right", PROJECT, "read access"]),
    (404, ["404 Not Found", "project_id"]),
    (400, ["400 Bad Request", "malformed"]),
    (302, ["redirect", "https://lem.example.com/login?...", "lem_url"]),
    (500, ["500 Internal Server Error", "System > Support"]),
])
def test_each_status_has_its_sentence(status, words):
    client = client_with(answer(status, body={"message": "detail"}, headers={"Location": "https://lem.example.com/login?next=x"}))
    with pytest.raises(LemHTTPError) as error:
        client.model_list()
    for word in words:
        assert word in str(error.value)
    assert error.value.status == status


def test_403_on_a_write_asks_for_write_access():
    client = client_with(answer(403))
    with pytest.raises(LemHTTPError) as error:
        client.complete_upload("a.zip", "")
    assert "write access" in str(error.value)


def test_401_with_a_fixed_auth_mode_suggests_auto():
    client = client_with(answer(401), auth_mode="header")
    with pytest.raises(LemHTTPError) as error:
        client.model_list()
    assert "auth_mode: auto" in str(error.value)


def test_non_json_answer_is_explained():
    client = client_with(answer(200, body="<html>login</html>", headers={"Content-Type": "text/html"}))
    with pytest.raises(LemError) as error:
        client.model_list()
    assert "not JSON" in str(error.value) and "text/html" in str(error.value)


def test_tls_failure_names_the_host_and_both_fixes():
    failure = requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='lem.example.com', port=443): Max retries exceeded (Caused by SSLError(SSLCertVerificationError(1, "
        "'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)')))")
    client = client_with(failure)
    with pytest.raises(LemError) as error:
        client.model_list()
    text = str(error.value)
    assert "lem.example.com" in text and "self-signed certificate in certificate chain" in text
    assert "ca_path" in text and "validate_certs: false" in text
    assert len(client._session.calls) == 1  # a certificate does not fix itself


def test_connection_refused_names_the_url():
    client = client_with(refused(), refused(), refused(), refused())
    with pytest.raises(LemError) as error:
        client.model_list()
    text = str(error.value)
    assert "connection refused" in text and "https://lem.example.com" in text and "after 4 attempts" in text


def test_dns_failure_names_the_host():
    client = client_with(*[unresolvable()] * 4)
    with pytest.raises(LemError) as error:
        client.model_list()
    assert "does not resolve" in str(error.value) and "lem.example.com" in str(error.value)


def test_unresolvable_storage_host_suggests_upload_via_lem_url():
    client = client_with(*[unresolvable("minio.internal")] * 4)
    with pytest.raises(LemError) as error:
        client.put_object("https://minio.internal:9000/files/p/mlModel/a.zip?X-Amz-Signature=SIG123",
                          UploadBody(io.BytesIO(b"abc"), 3), 60)
    text = str(error.value)
    assert "upload_via_lem_url: true" in text and "minio.internal" in text
    assert "SIG123" not in text


def test_expired_url_is_told_apart_from_other_storage_refusals():
    expired = answer(403, body="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
    client = client_with(expired)
    with pytest.raises(LemURLExpired):
        client.put_object("https://s/files/a.zip?X-Amz-Signature=1", UploadBody(io.BytesIO(b"a"), 1), 5)
    mismatch = answer(403, body="<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>")
    client = client_with(mismatch)
    with pytest.raises(LemStorageError) as error:
        client.put_object("https://s/files/a.zip?X-Amz-Signature=1", UploadBody(io.BytesIO(b"a"), 1), 5)
    assert not isinstance(error.value, LemURLExpired)
    assert "SignatureDoesNotMatch" in str(error.value) and error.value.code == "SignatureDoesNotMatch"


def test_upload_gets_one_fresh_url_when_the_first_expired():
    expired = answer(403, body="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
    url = {"url": "https://s.example.com/files/p/mlModel/a.zip?X-Amz-Signature=1"}
    client = client_with(answer(body=url), expired, answer(body=url), answer(200))
    client.upload("a.zip", UploadBody(io.BytesIO(b"a"), 1), 5)
    assert [call["method"] for call in client._session.calls] == ["POST", "PUT", "POST", "PUT"]
    client = client_with(answer(body=url), expired, answer(body=url), expired)
    with pytest.raises(LemURLExpired):
        client.upload("a.zip", UploadBody(io.BytesIO(b"a"), 1), 5)


def test_no_exception_text_holds_the_token_or_a_signature():
    """Every failure path, fed answers that echo the secrets back, keeps them out of the sentence."""
    echo = "token %s basic %s" % (TOKEN, BASIC)
    signed = "https://s.example.com/files/a.zip?X-Amz-Signature=SIGSECRET"
    scripts = [answer(status, body={"message": echo}, headers={"Location": signed}) for status in (302, 400, 401, 403, 404, 500, 418)]
    scripts.append(answer(200, body="<html>%s</html>" % echo))
    texts = []
    for item in scripts:
        client = client_with(item, retries=0)
        with pytest.raises(LemError) as error:
            client.model_list()
        texts.append(str(error.value))
    client = client_with(answer(403, body="<Error><Code>X</Code><Message>%s %s</Message></Error>" % (echo, signed)), retries=0)
    with pytest.raises(LemError) as error:
        client.put_object(signed, UploadBody(io.BytesIO(b"a"), 1), 5)
    texts.append(str(error.value))
    for text in texts:
        assert TOKEN not in text and BASIC not in text and "SIGSECRET" not in text, text


# ---- pages -----------------------------------------------------------------------------------------------

def test_pages_are_read_to_the_end_with_both_size_parameters():
    client = client_with(page(0, 3, [{"id": 1}]), page(1, 3, [{"id": 2}]), page(2, 3, [{"id": 3}]))
    assert [element["id"] for element in client.staged_files()] == [1, 2, 3]
    params = [call["kwargs"]["params"] for call in client._session.calls]
    assert [p["requestedPage"] for p in params] == [0, 1, 2]
    assert all(p["pageSize"] == p["limit"] == _client.PAGE_SIZE for p in params)


def test_a_page_with_another_number_is_an_error():
    client = client_with(page(0, 2, [{"id": 1}]), page(0, 2, [{"id": 1}]))
    with pytest.raises(LemError) as error:
        client.device_models()
    assert "do not advance" in str(error.value)


def test_a_page_of_elements_already_seen_is_an_error():
    client = client_with(page(0, 2, [{"id": 1}]), page(1, 2, [{"id": 1}]))
    with pytest.raises(LemError) as error:
        client.device_models()
    assert "already seen" in str(error.value)


def test_an_empty_page_before_the_last_is_an_error():
    client = client_with(page(0, 3, [{"id": 1}]), page(1, 3, []))
    with pytest.raises(LemError) as error:
        client.device_models()
    assert "no elements" in str(error.value)


def test_an_empty_first_page_is_an_empty_list():
    client = client_with(page(0, 1, []))
    assert client.device_models() == []


def test_a_plain_array_is_taken_as_it_is():
    client = client_with(answer(body=[{"id": 1}]))
    assert client.staged_files() == [{"id": 1}]


def test_an_answer_that_is_not_a_page_is_explained():
    client = client_with(answer(body={"items": []}))
    with pytest.raises(LemError) as error:
        client.device_models()
    assert "is not a list of records" in str(error.value) and "lem_url" in str(error.value)


def test_history_is_none_where_lem_has_no_history_endpoint():
    client = client_with(answer(404))
    assert client.task_history() is None


def test_names_are_url_encoded_in_paths():
    client = client_with(answer(body={"code": "S"}))
    client.complete_upload("my model é.zip", "")
    assert client._session.calls[0]["url"].endswith("/mlModel/my%20model%20%C3%A9.zip")


# ---- answers of a shape LEM does not send -----------------------------------------------------------------

@pytest.mark.parametrize("token", ["tok-42\r\nX-Evil: 1", "t\u00f6ken-42", " tok-42", "tok-42\t"])
def test_a_token_no_header_can_carry_is_refused_without_repeating_it(token):
    with pytest.raises(LemError) as error:
        LemClient("https://lem.example.com", token, PROJECT)
    assert "lem_token holds" in str(error.value) and token.strip() not in str(error.value)


def test_pages_without_pagescount_follow_totalsize():
    first = answer(body={"pageNum": 0, "totalSize": 2, "elements": [{"id": 1}]})
    second = answer(body={"pageNum": 1, "totalSize": 2, "elements": [{"id": 2}]})
    assert [element["id"] for element in client_with(first, second).staged_files()] == [1, 2]


def test_a_page_without_any_count_is_an_error():
    client = client_with(answer(body={"pageNum": 0, "elements": [{"id": 1}]}))
    with pytest.raises(LemError) as error:
        client.staged_files()
    assert "neither pagesCount nor totalSize" in str(error.value)


@pytest.mark.parametrize("call, body", [
    ("staged_files", {"pageNum": 0, "pagesCount": 1, "elements": [{"id": 1}, 2]}),
    ("device_models", [None]),
    ("model_list", ["coco"]),
])
def test_elements_that_are_not_objects_are_explained(call, body):
    client = client_with(answer(body=body))
    with pytest.raises(LemError) as error:
        getattr(client, call)()
    assert "holds an element that is not an object" in str(error.value)


def test_subtasks_that_are_not_objects_are_explained():
    client = client_with(answer(body=[1]))
    with pytest.raises(LemError) as error:
        client.subtasks("t-1")
    assert "not an object" in str(error.value)


def test_a_deploy_answer_that_is_not_json_says_the_deployment_may_have_started():
    client = client_with(answer(200, body="<html>proxy</html>", headers={"Content-Type": "text/html"}))
    with pytest.raises(LemOutcomeUnknown) as error:
        client.create_task({"name": "x"})
    assert "not JSON" in str(error.value) and "may have" in str(error.value) and "lem_model_info" in str(error.value)
    assert len(client._session.calls) == 1


@pytest.mark.parametrize("text, expected", [
    ("upload to https://s.x/files/a.zip?X-Amz-Signature=abc: refused", "upload to https://s.x/files/a.zip?...: refused"),
    ("(see https://s/a?sig=1)", "(see https://s/a?...)"),
    ("at https://s/a?x=1.5&sig=2.", "at https://s/a?...."),
    ("'https://s/a?x=1&y=2' end", "'https://s/a?...' end"),
])
def test_redaction_cuts_the_whole_query_and_keeps_the_punctuation_after_it(text, expected):
    assert client_with().redact(text) == expected


def test_a_connection_that_broke_after_sending_is_not_called_unreachable():
    client = client_with(lost())
    with pytest.raises(LemError) as error:
        client.put_object("https://s.example.com/files/p/mlModel/a.zip?X-Amz-Signature=1", UploadBody(io.BytesIO(b"a"), 1), 5)
    assert str(error.value).startswith("The connection to the storage at s.example.com broke")


def test_subtasks_answered_in_pages_are_read_to_the_end():
    client = client_with(page(0, 2, [{"deviceId": "a", "done": True}]), page(1, 2, [{"deviceId": "b", "done": False}]))
    assert [subtask["deviceId"] for subtask in client.subtasks("t1")] == ["a", "b"]


def test_subtasks_as_a_plain_array():
    client = client_with(answer(body=[{"deviceId": "a"}]))
    assert client.subtasks("t1") == [{"deviceId": "a"}]


def test_credentials_in_any_url_are_never_repeated():
    with pytest.raises(LemError) as error:
        base_url("ftp://admin:hunter2@lem.example.com")
    assert "hunter2" not in str(error.value) and "must not carry credentials" in str(error.value)


def test_a_zero_retry_after_still_backs_off():
    client = client_with(answer(429, headers={"Retry-After": "0"}), answer(body=[]))
    client.model_list()
    assert client.sleeps == [0.5]


def test_a_second_expired_url_says_what_to_check():
    expired = answer(403, body="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
    url = {"url": "https://s.example.com/files/p/mlModel/a.zip?X-Amz-Signature=1"}
    client = client_with(answer(body=url), expired, answer(body=url), expired)
    with pytest.raises(LemURLExpired) as error:
        client.upload("a.zip", UploadBody(io.BytesIO(b"a"), 1), 5)
    assert "clocks" in str(error.value)


def test_an_unusable_upload_url_is_named_without_its_signature():
    client = client_with(requests.exceptions.InvalidURL("Failed to parse"))
    with pytest.raises(LemError) as error:
        client.put_object("https://s.example.com:99x/files/a.zip?X-Amz-Signature=SIG", UploadBody(io.BytesIO(b"a"), 1), 5)
    assert "the upload URL LEM returned" in str(error.value) and "SIG" not in str(error.value)


def test_staged_file_ignores_files_of_other_types():
    records = [{"name": "m.zip", "fileType": "firmware"}, {"name": "m.zip", "fileType": "mlModel", "description": "x"}]
    client = client_with(page(0, 1, records))
    assert client.staged_file("m.zip")["description"] == "x"
    assert client_with(page(0, 1, records[:1])).staged_file("m.zip") is None


def test_deploy_model_sends_lems_envelope():
    client = client_with(answer(body={"taskId": "t-9"}))
    assert client.deploy_model("m.zip", ["d1", "d2"], wait_for_online=True) == "t-9"
    body = client._session.calls[0]["kwargs"]["json"]
    assert body == {
        "name": "Upload AI/ML Models (2 edge devices)", "description": "", "params": {}, "projectId": PROJECT,
        "subtasks": [
            {"deviceId": "d1", "num": 0, "params": {"fileName": "m.zip"}, "type": "ANALYTICS_ML_MODEL_UPLOAD", "plannedExecTime": 0},
            {"deviceId": "d2", "num": 1, "params": {"fileName": "m.zip"}, "type": "ANALYTICS_ML_MODEL_UPLOAD", "plannedExecTime": 0},
        ],
        "type": "ANALYTICS_ML_MODEL_UPLOAD", "waitForOnline": True}
