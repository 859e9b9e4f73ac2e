"""Tests of the LEM simulator (tests/simulator): real HTTPS against a started
`Simulator`, with `requests`, the way the collection talks to LEM."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

import pytest
import requests

from tests.simulator import Simulator
from tests.simulator.__main__ import _parse_args as parse_simulator_args
from tests.simulator.state import Device, LemState, SubtaskRequest, deployed_model_name

REPO_ROOT = Path(__file__).resolve().parents[2]

TASK_TYPE = "ANALYTICS_ML_MODEL_UPLOAD"
ID_PATTERN = re.compile(r"^[0-9a-z]{25}$")

# The "Get Models" example of the API reference, which seed "demo" reproduces.
REFERENCE_DEVICES = [
    {
        "projectId": "462j1mq70mph31wa100t1yuxa",
        "deviceId": "1a5wiavluwxuhwai5leb1v0hc",
        "hostname": "litmus-edge-94c6911b9c77",
        "prettyName": "Litmus Edge (94:c6:91:1b:9c:77)- SJ office sensor",
        "isOnline": True,
        "totalSize": 141852176,
        "models": [
            {
                "name": "coco",
                "absolutePath": "/var/lib/loopedge-analytics2/models/coco",
                "size": 136145199,
                "deploymentSource": "LE",
            },
            {
                "name": "gasFive.tflite",
                "absolutePath": "/var/lib/loopedge-analytics2/models/gasFive.tflite",
                "size": 101132,
                "deploymentSource": "LE",
            },
            {
                "name": "motionModel",
                "absolutePath": "/var/lib/loopedge-analytics2/models/motionModel",
                "size": 5094648,
                "deploymentSource": "LE",
            },
            {
                "name": "savedmodel4",
                "absolutePath": "/var/lib/loopedge-analytics2/models/savedmodel4",
                "size": 511197,
                "deploymentSource": "LE",
            },
            {
                "name": ".ipynb_checkpoints",
                "absolutePath": "/var/lib/loopedge-analytics2/models/.ipynb_checkpoints",
                "size": 0,
                "deploymentSource": "LE",
            },
        ],
        "online": True,
    },
    {
        "projectId": "462j1mq70mph31wa100t1yuxa",
        "deviceId": "3y0vcdju38zvqjrlm5lcpm1l",
        "hostname": "litmus-edge-080027b4a1c8",
        "prettyName": "Litmus Edge (08:00:27:b4:a1:c8)",
        "isOnline": False,
        "totalSize": 5094648,
        "models": [
            {
                "name": "motionModel",
                "absolutePath": "/var/lib/loopedge-analytics2/models/motionModel",
                "size": 5094648,
                "deploymentSource": "LE",
            }
        ],
        "online": False,
    },
    {
        "projectId": "462j1mq70mph31wa100t1yuxa",
        "deviceId": "vkrih85ka6fn7zcofirk20vs",
        "hostname": "litmus-edge-005056b965c2",
        "prettyName": "VM",
        "isOnline": True,
        "totalSize": 0,
        "models": [],
        "online": True,
    },
]
SUBTASK_KEYS = {
    "id",
    "taskId",
    "num",
    "deviceId",
    "devicePrettyName",
    "type",
    "params",
    "plannedExecTime",
    "progress",
    "status",
    "msg",
    "startTime",
    "stopTime",
    "context",
    "createdOn",
    "updatedOn",
    "createdBy",
    "updatedBy",
    "done",
}


# -- fixtures and helpers -----------------------------------------------------


@pytest.fixture(scope="module")
def running_simulator() -> Iterator[Simulator]:
    with Simulator(seed="test", device_count=3, task_step=0.1) as simulator:
        yield simulator


@pytest.fixture
def sim(running_simulator: Simulator) -> Simulator:
    running_simulator.reset()
    return running_simulator


def new_session(sim: Simulator) -> requests.Session:
    session = requests.Session()
    # Ignore REQUESTS_CA_BUNDLE and proxy variables: trust exactly the
    # simulator's CA and talk to loopback directly.
    session.trust_env = False
    session.verify = sim.ca_path if sim.ca_path else False
    return session


class Lem:
    """A minimal LEM client: a session with both auth styles by default."""

    def __init__(self, sim: Simulator, token: str | None = None, auth: str = "both") -> None:
        self.sim = sim
        self.session = new_session(sim)
        token = sim.token if token is None else token
        if auth in ("both", "basic"):
            self.session.auth = (token, "")
        if auth in ("both", "header"):
            self.session.headers["X-AuthToken"] = token

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.sim.url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    # -- the workflow --

    def file_path(self, name: str, suffix: str = "") -> str:
        return f"/api/v1/file/{self.sim.project_id}/mlModel/{quote(name)}{suffix}"

    def upload_url(self, name: str) -> str:
        response = self.post(self.file_path(name, "/upload-url"), json={"projectId": self.sim.project_id, "fileName": name})
        assert response.status_code == 200, response.text
        return response.json()["url"]

    def complete(self, name: str, description: str = "") -> requests.Response:
        return self.post(self.file_path(name), json={"description": description})

    def upload(self, name: str, content: bytes, description: str = "") -> None:
        put = storage_put(self.sim, self.upload_url(name), content)
        assert put.status_code == 200, put.text
        assert self.complete(name, description).status_code == 200

    def deploy(self, file_name: str, device_ids: list[str], wait_for_online: bool = False) -> requests.Response:
        return self.post("/api/v1/async-task/task-with-subtasks", json=deploy_body(self.sim, file_name, device_ids, wait_for_online))

    def subtasks(self, task_id: str) -> list[dict[str, Any]]:
        response = self.get(f"/api/v1/async-task/{task_id}/subtasks")
        assert response.status_code == 200, response.text
        return response.json()

    def wait_done(self, task_id: str, timeout: float = 5.0) -> list[dict[str, Any]]:
        def finished() -> list[dict[str, Any]] | None:
            subtasks = self.subtasks(task_id)
            return subtasks if all(s["done"] for s in subtasks) else None

        return wait_until(finished, timeout)

    def device(self, device_id: str) -> dict[str, Any]:
        elements = self.get(f"/api/v1/analytics/{self.sim.project_id}/models", params={"limit": 100}).json()["elements"]
        return next(d for d in elements if d["deviceId"] == device_id)

    def history(self, **params: Any) -> requests.Response:
        return self.get("/api/v1/async-task/subtasks", params={"projectId": self.sim.project_id, "taskType": TASK_TYPE, **params})


def deploy_body(sim: Simulator, file_name: str, device_ids: list[str], wait_for_online: bool = False) -> dict[str, Any]:
    """The API reference's full deploy request."""
    return {
        "name": f"Upload AI/ML Models ({len(device_ids)} edge device{'s' if len(device_ids) > 1 else ''})",
        "description": "",
        "params": {},
        "projectId": sim.project_id,
        "subtasks": [
            {"deviceId": d, "num": n, "params": {"fileName": file_name}, "type": TASK_TYPE, "plannedExecTime": 0}
            for n, d in enumerate(device_ids)
        ],
        "type": TASK_TYPE,
        "waitForOnline": wait_for_online,
    }


def storage_put(sim: Simulator, url: str, content: Any, **kwargs: Any) -> requests.Response:
    """The PUT to a pre-signed URL: no LEM credentials."""
    kwargs.setdefault("timeout", 30)
    return new_session(sim).put(url, data=content, **kwargs)


def wait_until(probe: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s")
        time.sleep(interval)


def device_ids(sim: Simulator) -> list[str]:
    return [d["deviceId"] for d in sim.state()["devices"]]


def s3_code(response: requests.Response) -> str:
    match = re.search(r"<Code>([^<]*)</Code>", response.text)
    assert match, response.text
    return match.group(1)


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    encoded = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items())
    return urlunsplit(parts._replace(query=encoded))


def finished_entries(sim: Simulator, endpoint: str) -> list[dict[str, Any]]:
    return [e for e in sim.requests(endpoint) if e["status"] is not None]


# -- the upload workflow --------------------------------------------------------


def test_upload_url_is_a_path_style_sigv4_url_on_the_request_host(sim: Simulator) -> None:
    name = "my mödel v2.zip"
    url = Lem(sim).upload_url(name)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == sim.url
    assert parts.path == f"/files/{sim.project_id}/mlModel/{quote(name)}"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert list(query) == [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    ]
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Credential"].endswith(f"/{query['X-Amz-Date'][:8]}/us-east-1/s3/aws4_request")
    assert query["X-Amz-Expires"] == "604800"
    assert query["X-Amz-SignedHeaders"] == "host"
    assert re.fullmatch(r"[0-9a-f]{64}", query["X-Amz-Signature"])


def test_three_step_upload_stages_the_file(sim: Simulator) -> None:
    lem = Lem(sim)
    content = b"model bytes \x00\x01" * 100
    url = lem.upload_url("my mödel v2.zip")
    put = storage_put(sim, url, content)
    assert put.status_code == 200
    assert put.headers["ETag"] == sim.state()["files"][0]["etag"]
    assert re.fullmatch(r'"[0-9a-f]+-%x"' % len(content), put.headers["ETag"])
    # Stored but not registered: not listed yet.
    assert lem.get(f"/api/v1/file/{sim.project_id}/list").json()["elements"] == []

    complete = lem.complete("my mödel v2.zip", "first [sha256:abc]")
    assert complete.status_code == 200
    assert complete.json() == {"code": "S", "message": None, "messageDetails": None}

    listing = lem.get(f"/api/v1/file/{sim.project_id}/list").json()
    stored = sim.state()["files"][0]
    assert listing == {
        "pageNum": 0,
        "pagesCount": 1,
        "size": 1,
        "totalSize": 1,
        "elements": [
            {
                "name": "my mödel v2.zip",
                "size": 0,
                "lastModified": stored["lastModified"],
                "fileType": "mlModel",
                "description": "first [sha256:abc]",
            }
        ],
    }
    assert stored["sha256"] == hashlib.sha256(content).hexdigest()
    assert stored["size"] == len(content)
    assert abs(stored["lastModified"] - time.time() * 1000) < 60_000


def test_upload_complete_again_changes_only_the_description(sim: Simulator) -> None:
    lem = Lem(sim)
    lem.upload("a.zip", b"one", "old")
    before = sim.state()["files"][0]
    assert lem.complete("a.zip", "new").status_code == 200
    after = sim.state()["files"][0]
    assert after["description"] == "new"
    assert (after["lastModified"], after["sha256"]) == (before["lastModified"], before["sha256"])


def test_upload_complete_without_an_object_is_404(sim: Simulator) -> None:
    response = Lem(sim).complete("never-put.zip")
    assert response.status_code == 404
    assert response.json()["code"] == "E"


def test_delete_removes_metadata_and_object(sim: Simulator) -> None:
    lem = Lem(sim)
    lem.upload("gone.zip", b"bytes")
    path = f"/api/v1/file/{sim.project_id}/mlModel/gone.zip"
    assert lem.delete(path).status_code == 200
    assert sim.state()["files"] == []
    assert lem.get(f"/api/v1/file/{sim.project_id}/list").json()["elements"] == []
    # Registering it again needs a new PUT: the object went too.
    assert lem.complete("gone.zip").status_code == 404
    assert lem.delete(path).status_code == 404
    assert lem.delete(f"/api/v1/file/{sim.project_id}/otherType/x.zip").status_code == 404


def test_stage_file_shortcut(sim: Simulator) -> None:
    record = sim.stage_file("staged.tflite", b"abc", description="d")
    assert record["sha256"] == hashlib.sha256(b"abc").hexdigest()
    assert record["registered"] is True
    names = [e["name"] for e in Lem(sim).get(f"/api/v1/file/{sim.project_id}/list").json()["elements"]]
    assert names == ["staged.tflite"]


# -- storage: the pre-signed PUT --------------------------------------------------


def test_put_with_tampered_signature_is_signature_does_not_match(sim: Simulator) -> None:
    url = Lem(sim).upload_url("t.zip")
    tampered = with_query(url, **{"X-Amz-Signature": "0" * 64})
    response = storage_put(sim, tampered, b"x")
    assert response.status_code == 403
    assert s3_code(response) == "SignatureDoesNotMatch"
    assert response.headers["Content-Type"].startswith("application/xml")


def test_put_to_another_key_than_signed_fails(sim: Simulator) -> None:
    url = Lem(sim).upload_url("t.zip")
    response = storage_put(sim, url.replace("/t.zip?", "/other.zip?"), b"x")
    assert response.status_code == 403
    assert s3_code(response) == "SignatureDoesNotMatch"


def test_put_with_a_wrong_host_header_fails(sim: Simulator) -> None:
    url = Lem(sim).upload_url("t.zip")
    response = storage_put(sim, url, b"x", headers={"Host": f"localhost:{sim.port}"})
    assert response.status_code == 403
    assert s3_code(response) == "SignatureDoesNotMatch"


def test_put_with_authorization_header_is_refused(sim: Simulator) -> None:
    url = Lem(sim).upload_url("t.zip")
    response = storage_put(sim, url, b"x", auth=(sim.token, ""))
    assert response.status_code == 400
    assert s3_code(response) == "InvalidArgument"
    assert "Only one auth mechanism allowed" in response.text
    assert sim.token not in response.text


def test_put_without_signature_is_access_denied(sim: Simulator) -> None:
    response = storage_put(sim, f"{sim.url}/files/{sim.project_id}/mlModel/t.zip", b"x")
    assert response.status_code == 403
    assert s3_code(response) == "AccessDenied"


def test_chunked_put_is_missing_content_length(sim: Simulator) -> None:
    url = Lem(sim).upload_url("t.zip")
    response = storage_put(sim, url, iter([b"a", b"b"]))
    assert response.status_code == 411
    assert s3_code(response) == "MissingContentLength"
    assert sim.state()["files"] == []


def test_expired_url_is_access_denied(sim: Simulator) -> None:
    sim.add_fault("upload_url", "expired_url", times=1)
    lem = Lem(sim)
    expired = lem.upload_url("e.zip")
    response = storage_put(sim, expired, b"x")
    assert response.status_code == 403
    assert s3_code(response) == "AccessDenied"
    assert "<Message>Request has expired</Message>" in response.text
    # The rule was used up: the next URL works.
    assert storage_put(sim, lem.upload_url("e.zip"), b"x").status_code == 200


def test_presign_host_setting_signs_for_a_name_that_never_resolves(sim: Simulator) -> None:
    storage_host = f"lem-storage.invalid:{sim.port}"
    sim.configure(presign_host=storage_host)
    url = Lem(sim).upload_url("p.zip")
    assert urlsplit(url).netloc == storage_host
    # As a client does with upload_via_lem_url: connect to LEM, keep the signed Host.
    via_lem = urlunsplit(urlsplit(url)._replace(netloc=f"127.0.0.1:{sim.port}"))
    assert storage_put(sim, via_lem, b"x", headers={"Host": storage_host}).status_code == 200
    assert storage_put(sim, via_lem, b"x").status_code == 403


def send_truncated_put(sim: Simulator, url: str, declared: int, sent: int) -> None:
    """A PUT that declares `declared` bytes, sends `sent` and hangs up."""
    parts = urlsplit(url)
    context = ssl.create_default_context(cafile=sim.ca_path)
    with socket.create_connection((parts.hostname, parts.port)) as raw:
        with context.wrap_socket(raw, server_hostname=parts.hostname) as tls:
            head = f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {declared}\r\n\r\n"
            tls.sendall(head.encode("ascii") + b"y" * sent)


def test_client_cut_off_put_leaves_the_previous_object(sim: Simulator) -> None:
    lem = Lem(sim)
    lem.upload("keep.zip", b"original")
    before = sim.state()["files"][0]
    sim.clear_requests()
    send_truncated_put(sim, lem.upload_url("keep.zip"), declared=1_000_000, sent=100_000)
    entry = wait_until(lambda: finished_entries(sim, "storage_put"))[0]
    assert entry["body_bytes"] < 1_000_000
    assert sim.state()["files"] == [before]


def test_client_cut_off_put_leaves_no_new_object(sim: Simulator) -> None:
    lem = Lem(sim)
    send_truncated_put(sim, lem.upload_url("new.zip"), declared=500_000, sent=1000)
    wait_until(lambda: finished_entries(sim, "storage_put"))
    assert sim.state()["files"] == []
    assert lem.complete("new.zip").status_code == 404


# -- devices and models -----------------------------------------------------------


def test_demo_fleet_is_the_reference_example(sim: Simulator) -> None:
    sim.reset(seed="demo")
    page = Lem(sim).get(f"/api/v1/analytics/{sim.project_id}/models").json()
    assert page["elements"][:3] == REFERENCE_DEVICES
    extra = page["elements"][3:]
    assert any(d["hostname"] is None for d in extra)
    hostnames = [d["hostname"] for d in extra if d["hostname"]]
    assert len(hostnames) != len(set(hostnames))  # two devices share one


def test_model_list_aggregates_over_devices(sim: Simulator) -> None:
    sim.reset(seed="demo")
    models = Lem(sim).get(f"/api/v1/analytics/{sim.project_id}/model-list").json()
    assert isinstance(models, list)
    by_name = {m["name"]: m for m in models}
    assert by_name["motionModel"] == {"name": "motionModel", "size": 5094648, "count": 2}
    assert by_name["coco"] == {"name": "coco", "size": 136145199, "count": 1}
    assert set(by_name) == {"coco", "gasFive.tflite", "motionModel", "savedmodel4", ".ipynb_checkpoints"}


def test_generated_fleet_is_deterministic(sim: Simulator) -> None:
    first = sim.reset(seed="line-a", device_count=4)["devices"]
    again = sim.reset(seed="line-a", device_count=4)["devices"]
    other = sim.reset(seed="line-b", device_count=4)["devices"]
    assert [d["deviceId"] for d in first] == [d["deviceId"] for d in again]
    assert [d["deviceId"] for d in first] != [d["deviceId"] for d in other]
    for number, device in enumerate(first, start=1):
        assert ID_PATTERN.match(device["deviceId"])
        assert re.fullmatch(r"litmus-edge-[0-9a-f]{12}", device["hostname"])
        assert device["prettyName"] == f"Line {number} sensor"
        assert device["isOnline"] is device["online"] is True
        assert device["models"] == []


def test_explicit_devices(sim: Simulator) -> None:
    sim.reset(
        devices=[
            {"deviceId": "a" * 25, "hostname": None, "prettyName": "A", "online": False, "models": [{"name": "m", "size": 3}]},
            {"deviceId": "b" * 25, "hostname": "same", "prettyName": "B"},
            {"deviceId": "c" * 25, "hostname": "same", "prettyName": "C", "behaviour": "fail"},
        ]
    )
    elements = Lem(sim).get(f"/api/v1/analytics/{sim.project_id}/models").json()["elements"]
    assert [d["deviceId"] for d in elements] == ["a" * 25, "b" * 25, "c" * 25]
    assert elements[0]["models"][0]["absolutePath"] == "/var/lib/loopedge-analytics2/models/m"
    assert elements[0]["totalSize"] == 3 and elements[0]["isOnline"] is False
    with pytest.raises(ValueError, match="shared"):
        sim.set_device("same", online=False)


# -- pagination ----------------------------------------------------------------------


def test_device_models_pages_by_limit(sim: Simulator) -> None:
    sim.reset(device_count=25)
    lem = Lem(sim)
    path = f"/api/v1/analytics/{sim.project_id}/models"
    page = lem.get(path, params={"requestedPage": 1, "limit": 10}).json()
    assert (page["pageNum"], page["pagesCount"], page["size"], page["totalSize"]) == (1, 3, 10, 25)
    # pageSize is not this endpoint's parameter: the default of 10 applies.
    assert lem.get(path, params={"pageSize": 3}).json()["size"] == 10
    assert lem.get(path, params={"limit": 3, "pageSize": 20}).json()["size"] == 3
    last = lem.get(path, params={"requestedPage": 2, "limit": 10}).json()
    assert last["size"] == 5
    beyond = lem.get(path, params={"requestedPage": 7, "limit": 10}).json()
    assert (beyond["pageNum"], beyond["elements"], beyond["totalSize"]) == (7, [], 25)
    every = [d["deviceId"] for n in range(3) for d in lem.get(path, params={"requestedPage": n, "limit": 10}).json()["elements"]]
    assert every == device_ids(sim)


def test_page_size_is_capped(sim: Simulator) -> None:
    sim.reset(device_count=12, max_page_size=5)
    page = Lem(sim).get(f"/api/v1/analytics/{sim.project_id}/models", params={"limit": 1000}).json()
    assert (page["size"], page["pagesCount"]) == (5, 3)


def test_file_list_pages_by_page_size(sim: Simulator) -> None:
    for n in range(12):
        sim.stage_file(f"f{n:02}.zip", b"x")
    lem = Lem(sim)
    path = f"/api/v1/file/{sim.project_id}/list"
    page = lem.get(path, params={"requestedPage": 1, "pageSize": 5}).json()
    assert [e["name"] for e in page["elements"]] == ["f05.zip", "f06.zip", "f07.zip", "f08.zip", "f09.zip"]
    assert page["pagesCount"] == 3
    assert lem.get(path, params={"limit": 5}).json()["size"] == 10
    assert lem.get(path, params={"requestedPage": 5, "pageSize": 5}).json()["elements"] == []


def test_empty_answers_have_one_page(sim: Simulator) -> None:
    sim.reset(devices=[])
    lem = Lem(sim)
    for path in (f"/api/v1/analytics/{sim.project_id}/models", f"/api/v1/file/{sim.project_id}/list"):
        assert lem.get(path).json() == {"pageNum": 0, "pagesCount": 1, "size": 0, "totalSize": 0, "elements": []}
    assert lem.history().json()["pagesCount"] == 1


def test_bad_page_parameters_are_400(sim: Simulator) -> None:
    lem = Lem(sim)
    path = f"/api/v1/analytics/{sim.project_id}/models"
    for params in ({"requestedPage": "x"}, {"requestedPage": -1}, {"limit": 0}):
        assert lem.get(path, params=params).status_code == 400


def test_history_pages_by_page_size(sim: Simulator) -> None:
    sim.stage_file("h.zip", b"x")
    lem = Lem(sim)
    for _round in range(3):
        assert lem.deploy("h.zip", device_ids(sim)).status_code == 200
    page = lem.history(requestedPage=1, pageSize=4).json()
    assert (page["pageNum"], page["pagesCount"], page["size"], page["totalSize"]) == (1, 3, 4, 9)
    assert lem.history(limit=4).json()["size"] == 9


# -- authentication and errors ----------------------------------------------------------


def test_both_auth_styles_work_alone(sim: Simulator) -> None:
    path = f"/api/v1/file/{sim.project_id}/list"
    assert Lem(sim, auth="basic").get(path).status_code == 200
    assert Lem(sim, auth="header").get(path).status_code == 200
    assert Lem(sim, auth="both").get(path).status_code == 200


def test_missing_or_wrong_token_is_401(sim: Simulator) -> None:
    path = f"/api/v1/file/{sim.project_id}/list"
    for response in (
        Lem(sim, auth="none").get(path),
        Lem(sim, token="wrong").get(path),
        Lem(sim, token="wrong", auth="header").get(path),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == "E" and response.json()["message"] == "Unauthorized"
    with_password = new_session(sim).get(sim.url + path, auth=(sim.token, "secret"), timeout=10)
    assert with_password.status_code == 401


def test_auth_styles_can_be_switched_off(sim: Simulator) -> None:
    path = f"/api/v1/file/{sim.project_id}/list"
    sim.configure(auth_basic=False)
    assert Lem(sim, auth="basic").get(path).status_code == 401
    assert Lem(sim, auth="header").get(path).status_code == 200
    assert Lem(sim, auth="both").get(path).status_code == 200
    sim.configure(auth_basic=True, auth_header=False)
    assert Lem(sim, auth="header").get(path).status_code == 401
    assert Lem(sim, auth="basic").get(path).status_code == 200


def test_read_only_token_cannot_change_anything(sim: Simulator) -> None:
    sim.stage_file("ro.zip", b"x")
    lem = Lem(sim, token=sim.readonly_token)
    assert lem.get(f"/api/v1/file/{sim.project_id}/list").status_code == 200
    assert lem.post(lem.file_path("ro.zip", "/upload-url"), json={"projectId": sim.project_id, "fileName": "ro.zip"}).status_code == 403
    assert lem.complete("ro.zip").status_code == 403
    assert lem.delete(f"/api/v1/file/{sim.project_id}/mlModel/ro.zip").status_code == 403
    assert lem.deploy("ro.zip", device_ids(sim)[:1]).status_code == 403
    assert len(sim.state()["files"]) == 1 and sim.state()["tasks"] == []


def test_unknown_project_is_404_and_a_foreign_token_403(sim: Simulator) -> None:
    response = Lem(sim).get("/api/v1/file/nosuchproject/list")
    assert response.status_code == 404
    assert "project nosuchproject not found" in response.json()["message"]
    restricted = Lem(sim, token=sim.restricted_token)
    assert restricted.get(f"/api/v1/file/{sim.project_id}/list").status_code == 403
    assert restricted.get(f"/api/v1/analytics/{sim.project_id}/models").status_code == 403
    sim.stage_file("m.zip", b"x")
    task_id = Lem(sim).deploy("m.zip", device_ids(sim)[:1]).json()["taskId"]
    assert restricted.get(f"/api/v1/async-task/{task_id}/subtasks").status_code == 403
    assert restricted.deploy("m.zip", device_ids(sim)[:1]).status_code == 403


def test_malformed_bodies_are_400(sim: Simulator) -> None:
    lem = Lem(sim)
    upload_url = lem.file_path("m.zip", "/upload-url")
    assert lem.post(upload_url, data=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert lem.post(upload_url, json=["a list"]).status_code == 400
    assert lem.post(upload_url, json={"fileName": "m.zip"}).status_code == 400
    assert lem.post(upload_url, json={"projectId": sim.project_id, "fileName": "other.zip"}).status_code == 400
    assert lem.post(lem.file_path("m.zip"), json={}).status_code == 400


def test_unknown_api_path_is_404_after_authentication(sim: Simulator) -> None:
    assert Lem(sim).get("/api/v1/nothing-here").status_code == 404
    assert Lem(sim, auth="none").get("/api/v1/nothing-here").status_code == 401


# -- deployment ---------------------------------------------------------------------------


def test_deploy_progresses_to_success_and_installs_the_model(sim: Simulator) -> None:
    sim.configure(task_step=0.3)
    lem = Lem(sim)
    lem.upload("motionModel.zip", b"z" * 1234)
    target = device_ids(sim)[0]
    sim.set_device(target, models=[{"name": "motionModel", "size": 99}, {"name": "other", "size": 1}])
    response = lem.deploy("motionModel.zip", [target])
    assert response.status_code == 200
    task_id = response.json()["taskId"]
    assert re.fullmatch(r"[0-9a-f-]{36}", task_id)

    seen = []
    for _poll in range(200):
        subtask = lem.subtasks(task_id)[0]
        if not seen or seen[-1] != subtask["status"]:
            seen.append(subtask["status"])
            assert set(subtask) == SUBTASK_KEYS
            assert subtask["progress"] == {"PENDING": 0, "IN_PROGRESS": 0.5, "SUCCESS": 1}[subtask["status"]]
        if subtask["done"]:
            break
        time.sleep(0.02)
    assert seen == ["PENDING", "IN_PROGRESS", "SUCCESS"]
    assert subtask["msg"] is None
    assert subtask["taskId"] == task_id and subtask["deviceId"] == target
    assert subtask["params"] == {"fileName": "motionModel.zip"}
    assert subtask["stopTime"] - subtask["createdOn"] == 600
    assert subtask["startTime"] - subtask["createdOn"] == 300

    device = lem.device(target)
    assert device["models"] == [
        {"name": "other", "absolutePath": "/var/lib/loopedge-analytics2/models/other", "size": 1, "deploymentSource": "LE"},
        {
            "name": "motionModel",
            "absolutePath": "/var/lib/loopedge-analytics2/models/motionModel",
            "size": 1234,
            "deploymentSource": "LEM",
        },
    ]
    assert device["totalSize"] == 1235
    assert sim.state()["tasks"][0]["name"] == "Upload AI/ML Models (1 edge device)"


def test_one_subtask_per_device(sim: Simulator) -> None:
    sim.stage_file("gasFive.tflite", b"abc")
    lem = Lem(sim)
    ids = device_ids(sim)
    subtasks = lem.wait_done(lem.deploy("gasFive.tflite", ids).json()["taskId"])
    assert [s["deviceId"] for s in subtasks] == ids
    assert [s["num"] for s in subtasks] == [0, 1, 2]
    assert {s["status"] for s in subtasks} == {"SUCCESS"}
    # The model name rule: only a zip loses its extension.
    assert {m["name"] for m in lem.device(ids[0])["models"]} == {"gasFive.tflite"}
    assert {m["name"] for m in lem.get(f"/api/v1/analytics/{sim.project_id}/model-list").json()} == {"gasFive.tflite"}


def test_deployed_model_name_rule() -> None:
    assert deployed_model_name("motionModel.zip") == "motionModel"
    assert deployed_model_name("gasFive.tflite") == "gasFive.tflite"
    assert deployed_model_name("archive.tar.zip") == "archive.tar"
    assert deployed_model_name("noext") == "noext"


def test_failing_device(sim: Simulator) -> None:
    sim.stage_file("m.zip", b"x")
    first, second = device_ids(sim)[:2]
    sim.set_device(second, behaviour="fail", fail_msg="disk full")
    lem = Lem(sim)
    subtasks = lem.wait_done(lem.deploy("m.zip", [first, second]).json()["taskId"])
    assert [(s["status"], s["msg"], s["done"]) for s in subtasks] == [("SUCCESS", None, True), ("FAILED", "disk full", True)]
    assert lem.device(second)["models"] == []


def test_hanging_device_stays_in_progress(sim: Simulator) -> None:
    sim.stage_file("m.zip", b"x")
    target = device_ids(sim)[0]
    sim.set_device(target, behaviour="hang")
    lem = Lem(sim)
    task_id = lem.deploy("m.zip", [target]).json()["taskId"]
    time.sleep(0.5)  # five steps: long past when it would have finished
    subtask = lem.subtasks(task_id)[0]
    assert (subtask["status"], subtask["progress"], subtask["done"]) == ("IN_PROGRESS", 0.5, False)
    # Released, it finishes.
    sim.set_device(target, behaviour="ok")
    assert lem.wait_done(task_id)[0]["status"] == "SUCCESS"


def test_custom_final_status(sim: Simulator) -> None:
    sim.stage_file("m.zip", b"x")
    target = device_ids(sim)[0]
    sim.set_device(target, status="CANCELLED")
    lem = Lem(sim)
    subtask = lem.wait_done(lem.deploy("m.zip", [target]).json()["taskId"])[0]
    assert (subtask["status"], subtask["done"]) == ("CANCELLED", True)


def test_offline_device_fails_without_wait_for_online(sim: Simulator) -> None:
    sim.stage_file("m.zip", b"x")
    target = device_ids(sim)[0]
    sim.set_device(target, online=False)
    lem = Lem(sim)
    subtask = lem.wait_done(lem.deploy("m.zip", [target]).json()["taskId"])[0]
    assert subtask["status"] == "FAILED"
    assert "offline" in subtask["msg"].lower()


def test_offline_device_waits_with_wait_for_online(sim: Simulator) -> None:
    sim.stage_file("m.zip", b"x")
    target = device_ids(sim)[0]
    sim.set_device(target, online=False)
    lem = Lem(sim)
    task_id = lem.deploy("m.zip", [target], wait_for_online=True).json()["taskId"]
    time.sleep(0.4)
    assert (lem.subtasks(task_id)[0]["status"], lem.subtasks(task_id)[0]["done"]) == ("PENDING", False)
    went_online = time.time() * 1000
    sim.set_device(target, online=True)
    subtask = lem.wait_done(task_id)[0]
    assert subtask["status"] == "SUCCESS"
    assert subtask["startTime"] >= went_online + 100 - 5


def test_deploy_validation(sim: Simulator) -> None:
    sim.stage_file("m.zip", b"x")
    lem = Lem(sim)
    target = device_ids(sim)[0]
    path = "/api/v1/async-task/task-with-subtasks"

    wrong_type = {**deploy_body(sim, "m.zip", [target]), "type": "APP_LAUNCH"}
    assert lem.post(path, json=wrong_type).status_code == 400
    assert lem.post(path, json={**deploy_body(sim, "m.zip", [target]), "subtasks": []}).status_code == 400
    assert lem.post(path, json={**deploy_body(sim, "m.zip", [target]), "projectId": "nope"}).status_code == 404
    assert lem.deploy("m.zip", [target, target]).status_code == 400
    assert lem.post(path, data=b"nope", headers={"Content-Type": "application/json"}).status_code == 400

    unknown_device = lem.deploy("m.zip", [target, "zzzzzzzzzzzzzzzzzzzzzzzzz"])
    assert unknown_device.status_code == 404
    assert "zzzzzzzzzzzzzzzzzzzzzzzzz" in unknown_device.json()["message"]
    unknown_file = lem.deploy("not-staged.zip", [target])
    assert unknown_file.status_code == 404
    assert "not-staged.zip" in unknown_file.json()["message"]
    assert sim.state()["tasks"] == []
    assert lem.get("/api/v1/async-task/no-such-task/subtasks").status_code == 404


def test_history_lists_newest_first_and_can_be_switched_off(sim: Simulator) -> None:
    sim.stage_file("m.zip", b"x")
    lem = Lem(sim)
    ids = device_ids(sim)
    first = lem.deploy("m.zip", ids[:2]).json()["taskId"]
    time.sleep(0.01)
    second = lem.deploy("m.zip", ids[2:]).json()["taskId"]
    lem.wait_done(first)
    lem.wait_done(second)
    history = lem.history().json()
    assert [(e["taskId"], e["num"]) for e in history["elements"]] == [(second, 0), (first, 0), (first, 1)]
    assert all(set(e) == SUBTASK_KEYS for e in history["elements"])
    assert lem.history(taskType="APP_LAUNCH").json()["elements"] == []
    assert lem.get("/api/v1/async-task/subtasks").status_code == 400  # no projectId

    sim.configure(history=False)
    switched_off = lem.history()
    assert switched_off.status_code == 404
    assert switched_off.json()["status"] == 404


def test_progress_side_effects_apply_once() -> None:
    """The pure state: however often it is advanced, a success installs once."""
    state = LemState("p", [Device("d1", "h1", "One")])
    state.put_object("m.zip", size=10, last_modified=0, etag='"e"')
    state.register_file("m.zip", "")
    task = state.create_task(
        name="t", wait_for_online=False, subtasks=[SubtaskRequest("d1", 0, {"fileName": "m.zip"})], step_ms=100, now=1000
    )
    assert state.subtask_records(task.task_id, 1099)[0]["status"] == "PENDING"
    assert state.subtask_records(task.task_id, 1100)[0]["status"] == "IN_PROGRESS"
    revision = state.revision
    for now in (1200, 1200, 5000, 9000):
        record = state.subtask_records(task.task_id, now)[0]
        assert (record["status"], record["stopTime"], record["updatedOn"]) == ("SUCCESS", 1200, 1200)
    assert state.revision == revision + 1
    state.devices["d1"].models.clear()
    state.advance(10_000)
    assert state.devices["d1"].models == []


# -- faults ---------------------------------------------------------------------------------


def test_status_fault_with_retry_after_and_times(sim: Simulator) -> None:
    rule = sim.add_fault("file_list", "status", status=503, retry_after="2", times=2)
    assert rule["hits"] == 0
    lem = Lem(sim)
    path = f"/api/v1/file/{sim.project_id}/list"
    for _round in range(2):
        response = lem.get(path)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        assert response.json()["code"] == "E"
    assert lem.get(path).status_code == 200
    assert sim.faults()[0]["hits"] == 2
    entries = sim.requests("file_list")
    assert [e["fault"] for e in entries] == ["status", "status", None]
    assert [e["status"] for e in entries] == [503, 503, 200]


def test_status_fault_with_http_date_and_body(sim: Simulator) -> None:
    sim.add_fault("model_list", "status", status=429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT", body={"why": "slow down"})
    response = Lem(sim).get(f"/api/v1/analytics/{sim.project_id}/model-list")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert response.json() == {"why": "slow down"}


def test_status_fault_on_storage_answers_s3_xml(sim: Simulator) -> None:
    sim.add_fault("storage_put", "status", status=503, times=1)
    lem = Lem(sim)
    url = lem.upload_url("s.zip")
    response = storage_put(sim, url, b"x")
    assert response.status_code == 503
    assert s3_code(response) == "ServiceUnavailable"
    assert sim.state()["files"] == []
    assert storage_put(sim, url, b"x").status_code == 200


def test_acting_fault_creates_the_task_but_answers_502(sim: Simulator) -> None:
    sim.stage_file("m.zip", b"x")
    sim.add_fault("deploy", "status", status=502, act=True, times=1)
    lem = Lem(sim)
    assert lem.deploy("m.zip", device_ids(sim)[:1]).status_code == 502
    tasks = sim.state()["tasks"]
    assert len(tasks) == 1
    # The log names the task the lost answer would have carried.
    assert sim.requests("deploy")[0]["task_id"] == tasks[0]["taskId"]


def test_drop_fault_closes_without_an_answer(sim: Simulator) -> None:
    sim.stage_file("m.zip", b"x")
    sim.add_fault("deploy", "drop", times=1)
    lem = Lem(sim)
    with pytest.raises(requests.ConnectionError):
        lem.deploy("m.zip", device_ids(sim)[:1])
    assert sim.state()["tasks"] == []
    entry = sim.requests("deploy")[0]
    assert (entry["status"], entry["fault"]) == (0, "drop")
    assert lem.deploy("m.zip", device_ids(sim)[:1]).status_code == 200


def test_acting_drop_fault_acts_then_closes(sim: Simulator) -> None:
    sim.stage_file("m.zip", b"x")
    sim.add_fault("deploy", "drop", act=True, times=1)
    with pytest.raises(requests.ConnectionError):
        Lem(sim).deploy("m.zip", device_ids(sim)[:1])
    assert len(sim.state()["tasks"]) == 1


def test_delay_fault_causes_read_timeouts(sim: Simulator) -> None:
    sim.add_fault("device_models", "delay", seconds=0.6, times=1)
    lem = Lem(sim)
    path = f"/api/v1/analytics/{sim.project_id}/models"
    with pytest.raises(requests.ReadTimeout):
        lem.get(path, timeout=0.2)
    assert lem.get(path, timeout=5).status_code == 200


def test_cut_fault_stops_the_upload_midway(sim: Simulator) -> None:
    lem = Lem(sim)
    lem.upload("c.zip", b"before")
    before = sim.state()["files"][0]
    sim.add_fault("storage_put", "cut", after_bytes=1000, times=1)
    with pytest.raises(requests.ConnectionError):
        storage_put(sim, lem.upload_url("c.zip"), b"a" * 200_000)
    entry = wait_until(lambda: finished_entries(sim, "storage_put"))[-1]
    assert (entry["status"], entry["fault"], entry["body_bytes"]) == (0, "cut", 1000)
    assert sim.state()["files"] == [before]


def test_cut_fault_after_the_whole_body_loses_only_the_answer(sim: Simulator) -> None:
    sim.add_fault("storage_put", "cut", after_bytes=10_000, times=1)
    lem = Lem(sim)
    with pytest.raises(requests.ConnectionError):
        storage_put(sim, lem.upload_url("c.zip"), b"a" * 100)
    assert sim.state()["files"][0]["size"] == 100


def test_not_json_and_json_faults(sim: Simulator) -> None:
    sim.add_fault("file_list", "not_json", times=1)
    sim.add_fault("file_list", "json", body={"elements": [{"name": "odd"}]}, times=1)
    lem = Lem(sim)
    path = f"/api/v1/file/{sim.project_id}/list"
    html = lem.get(path)
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        html.json()
    assert lem.get(path).json() == {"elements": [{"name": "odd"}]}
    assert lem.get(path).json()["pagesCount"] == 1


def test_stale_page_fault_always_answers_page_zero(sim: Simulator) -> None:
    sim.reset(device_count=5)
    sim.add_fault("device_models", "stale_page")
    lem = Lem(sim)
    path = f"/api/v1/analytics/{sim.project_id}/models"
    first = lem.get(path, params={"requestedPage": 0, "limit": 2}).json()
    second = lem.get(path, params={"requestedPage": 1, "limit": 2}).json()
    assert second["pageNum"] == 0
    assert second["elements"] == first["elements"]
    assert first["pagesCount"] == 3


def test_presign_host_fault(sim: Simulator) -> None:
    sim.add_fault("upload_url", "presign_host", host="lem-storage.invalid:9", times=1)
    lem = Lem(sim)
    assert urlsplit(lem.upload_url("x.zip")).netloc == "lem-storage.invalid:9"
    assert urlsplit(lem.upload_url("x.zip")).netloc == f"127.0.0.1:{sim.port}"


def test_wildcard_rules_apply_in_order_and_skip_what_they_cannot_do(sim: Simulator) -> None:
    sim.add_fault("*", "cut", after_bytes=0)
    sim.add_fault("*", "status", status=503, times=1)
    sim.add_fault("file_list", "status", status=429, times=1)
    lem = Lem(sim)
    path = f"/api/v1/file/{sim.project_id}/list"
    assert [lem.get(path).status_code for _round in range(3)] == [503, 429, 200]
    assert [rule["hits"] for rule in sim.faults()] == [0, 1, 1]


def test_invalid_fault_rules_are_refused(sim: Simulator) -> None:
    for bad in (
        {"endpoint": "nope", "action": "status", "status": 500},
        {"endpoint": "deploy", "action": "explode"},
        {"endpoint": "deploy", "action": "status"},
        {"endpoint": "deploy", "action": "cut", "after_bytes": 1},
        {"endpoint": "deploy", "action": "status", "status": 500, "times": 0},
        {"endpoint": "deploy", "action": "drop", "seconds": 1},
    ):
        with pytest.raises(ValueError):
            sim.add_fault(**bad)
    sim.clear_faults()
    assert sim.faults() == []


# -- the request log ------------------------------------------------------------------------


def test_request_log(sim: Simulator) -> None:
    lem = Lem(sim)
    lem.upload("log.zip", b"12345")
    Lem(sim, auth="none").get(f"/api/v1/file/{sim.project_id}/list")
    requests_seen = sim.requests()
    assert [e["endpoint"] for e in requests_seen] == ["upload_url", "storage_put", "upload_complete", "file_list"]
    assert [e["seq"] for e in requests_seen] == sorted(e["seq"] for e in requests_seen)

    put = requests_seen[1]
    assert put["method"] == "PUT"
    assert put["path"] == f"/files/{sim.project_id}/mlModel/log.zip"
    assert put["query"]["X-Amz-Signature"] == "REDACTED"
    assert put["query"]["X-Amz-SignedHeaders"] == "host"
    assert put["headers"]["Content-Length"] == "5"
    assert not {"authorization", "x-authtoken"} & {name.lower() for name in put["headers"]}
    assert (put["body_bytes"], put["status"], put["fault"], put["file_name"]) == (5, 200, None, "log.zip")

    first = requests_seen[0]
    assert first["headers"]["X-AuthToken"] == sim.token
    assert first["body_json"] == {"projectId": sim.project_id, "fileName": "log.zip"}
    assert requests_seen[3]["status"] == 401
    assert sim.requests("storage_put") == [put]
    sim.clear_requests()
    assert sim.requests() == []


def test_deploy_and_subtasks_are_logged_with_the_task(sim: Simulator) -> None:
    sim.stage_file("m.zip", b"x")
    lem = Lem(sim)
    task_id = lem.deploy("m.zip", device_ids(sim)[:1], wait_for_online=True).json()["taskId"]
    lem.subtasks(task_id)
    deploy, subtasks = sim.requests()
    assert (deploy["task_id"], deploy["file_name"], deploy["body_json"]["waitForOnline"]) == (task_id, "m.zip", True)
    assert subtasks["task_id"] == task_id


# -- control plane over HTTP ----------------------------------------------------------------


def test_control_plane_over_http(sim: Simulator) -> None:
    control = new_session(sim)

    def call(method: str, path: str, body: Any = None) -> Any:
        response = control.request(method, f"{sim.url}/_sim/{path}", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    info = call("GET", "info")
    assert (info["url"], info["token"], info["project_id"]) == (sim.url, sim.token, sim.project_id)
    state = call("POST", "reset", {"seed": "demo", "task_step": 0.1})
    assert len(state["devices"]) == 6
    assert call("POST", "configure", {"history": False})["history"] is False
    staged = call("POST", "files", {"name": "ctl.zip", "content_base64": base64.b64encode(b"\x00\x01").decode()})
    assert staged["sha256"] == hashlib.sha256(b"\x00\x01").hexdigest()
    call("POST", "files", {"name": "text.tflite", "content": "hello", "description": "t"})
    device = call("POST", "devices/litmus-edge-005056b965c2", {"online": False, "behaviour": "fail", "fail_msg": "no"})
    assert (device["deviceId"], device["online"], device["behaviour"]) == ("vkrih85ka6fn7zcofirk20vs", False, "fail")
    rule = call("POST", "faults", {"endpoint": "model_list", "action": "status", "status": 500, "times": 1})
    assert call("GET", "faults") == [rule]

    lem = Lem(sim)
    assert lem.get(f"/api/v1/analytics/{sim.project_id}/model-list").status_code == 500
    assert lem.history().status_code == 404
    logged = call("GET", "requests?endpoint=model_list")
    assert len(logged) == 1 and logged[0]["fault"] == "status"
    # The control plane itself is not logged.
    assert all(not e["path"].startswith("/_sim/") for e in call("GET", "requests"))

    call("DELETE", "faults")
    call("DELETE", "requests")
    assert call("GET", "faults") == [] and call("GET", "requests") == []
    call("POST", "configure", {"token": "changed-token"})
    assert call("GET", "info")["token"] == "changed-token" == sim.token
    state = call("GET", "state")
    assert {f["name"] for f in state["files"]} == {"ctl.zip", "text.tflite"}
    assert state["settings"]["history"] is False

    assert control.post(f"{sim.url}/_sim/configure", json={"nope": 1}, timeout=10).status_code == 400
    assert control.post(f"{sim.url}/_sim/faults", json={"endpoint": "x"}, timeout=10).status_code == 400
    assert control.post(f"{sim.url}/_sim/devices/unknown", json={"online": True}, timeout=10).status_code == 404
    assert control.post(f"{sim.url}/_sim/reset", data=b"[1]", timeout=10).status_code == 400


# -- settings, persistence, plain HTTP, CLI -------------------------------------------------


def test_configure_refuses_unknown_settings_and_project_changes(sim: Simulator) -> None:
    with pytest.raises(ValueError):
        sim.configure(no_such_setting=True)
    with pytest.raises(ValueError):
        sim.configure(task_step="fast")
    with pytest.raises(ValueError):
        sim.configure(project_id="other")
    sim.reset(project_id="otherproject000000000000a")
    assert sim.project_id == "otherproject000000000000a"
    assert Lem(sim).get("/api/v1/file/otherproject000000000000a/list").status_code == 200


def test_state_survives_a_restart(tmp_path: Path) -> None:
    simulator = Simulator(state_dir=tmp_path, task_step=0.1)
    simulator.start()
    try:
        lem = Lem(simulator)
        lem.upload("kept.zip", b"persist me", "desc")
        target = device_ids(simulator)[0]
        lem.wait_done(lem.deploy("kept.zip", [target]).json()["taskId"])
        simulator.configure(auth_basic=False, task_step=0.2)
        simulator.set_device(device_ids(simulator)[1], online=False)
        before = simulator.state()
        ca_pem = Path(simulator.ca_path).read_bytes()
        port = simulator.port
    finally:
        simulator.stop()

    # The same instance, started again: same port, same CA, same everything.
    simulator.start()
    try:
        assert simulator.port == port
        assert Path(simulator.ca_path).read_bytes() == ca_pem
        after = simulator.state()
        assert {k: v for k, v in after.items() if k != "settings"} == {k: v for k, v in before.items() if k != "settings"}
        # Settings changed at run time are kept; those given to the
        # constructor are applied again.
        assert after["settings"]["auth_basic"] is False
        assert after["settings"]["task_step"] == 0.1
        assert Lem(simulator, auth="basic").get(f"/api/v1/file/{simulator.project_id}/list").status_code == 401
        assert Lem(simulator, auth="header").get(f"/api/v1/file/{simulator.project_id}/list").json()["totalSize"] == 1
    finally:
        simulator.stop()

    # A new simulator on the same directory and port (as after a kill).
    with Simulator(state_dir=tmp_path, port=port, auth_basic=True) as again:
        assert again.state()["files"] == before["files"]
        assert again.state()["tasks"] == before["tasks"]
        assert again.state()["settings"]["task_step"] == 0.1
        lem = Lem(again, auth="basic")
        assert lem.device(target)["models"][0]["name"] == "kept"
        assert lem.deploy("kept.zip", [target]).status_code == 200


def test_a_task_in_flight_finishes_after_a_restart(tmp_path: Path) -> None:
    with Simulator(state_dir=tmp_path, task_step=0.2) as simulator:
        simulator.stage_file("m.zip", b"x")
        task_id = Lem(simulator).deploy("m.zip", device_ids(simulator)[:1]).json()["taskId"]
        port = simulator.port
    with Simulator(state_dir=tmp_path, port=port) as simulator:
        assert Lem(simulator).wait_done(task_id)[0]["status"] == "SUCCESS"


def test_discarded_uploads_are_counted_and_not_kept(tmp_path: Path) -> None:
    with Simulator(state_dir=tmp_path) as simulator:
        Lem(simulator).upload("big.zip", b"bytes kept by an earlier run")
    with Simulator(state_dir=tmp_path, task_step=0.1, keep_uploads=False) as simulator:
        lem = Lem(simulator)
        content = os.urandom(3 * 1024 * 1024 + 5)
        put = storage_put(simulator, lem.upload_url("big.zip"), content)
        assert put.status_code == 200
        assert lem.complete("big.zip", "[sha256:%s]" % hashlib.sha256(content).hexdigest()).status_code == 200
        stored = simulator.state()["files"][0]
        # The earlier run's bytes are gone too: no sha256 but that of the content sent could be reported.
        assert (stored["name"], stored["size"], stored["sha256"], stored["etag"]) == (
            "big.zip", len(content), None, put.headers["ETag"])
        assert abs(stored["lastModified"] - time.time() * 1000) < 60_000
        assert list((tmp_path / "objects").iterdir()) == []
        # Files staged through the control API keep their bytes.
        assert simulator.stage_file("staged.zip", b"abc")["sha256"] == hashlib.sha256(b"abc").hexdigest()
        stored = next(record for record in simulator.state()["files"] if record["name"] == "big.zip")
        # Still a storage: a body shorter than its Content-Length stages nothing.
        simulator.clear_requests()
        send_truncated_put(simulator, lem.upload_url("big.zip"), declared=1_000_000, sent=1000)
        wait_until(lambda: finished_entries(simulator, "storage_put"))
        assert next(record for record in simulator.state()["files"] if record["name"] == "big.zip") == stored
        target = device_ids(simulator)[0]
        assert lem.wait_done(lem.deploy("big.zip", [target]).json()["taskId"])[0]["status"] == "SUCCESS"


def test_command_line_discard_uploads() -> None:
    assert parse_simulator_args(["--discard-uploads"]).discard_uploads is True
    assert parse_simulator_args([]).discard_uploads is False


def test_without_state_dir_nothing_is_left_behind() -> None:
    simulator = Simulator().start()
    ca_path = Path(simulator.ca_path)
    assert ca_path.exists()
    simulator.stop()
    assert not ca_path.exists()


def test_plain_http() -> None:
    with Simulator(tls=False) as simulator:
        assert simulator.url.startswith("http://") and simulator.ca_path is None
        lem = Lem(simulator)
        url = lem.upload_url("h.zip")
        assert url.startswith(f"http://127.0.0.1:{simulator.port}/files/")
        assert storage_put(simulator, url, b"x").status_code == 200


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        simulator = Simulator(host="::1").start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        assert simulator.url == f"https://[::1]:{simulator.port}"
        lem = Lem(simulator)
        url = lem.upload_url("six.zip")
        assert storage_put(simulator, url, b"6").status_code == 200
    finally:
        simulator.stop()


def test_command_line(tmp_path: Path) -> None:
    env_file = tmp_path / "env.json"
    command = [sys.executable, "-m", "tests.simulator", "--seed", "demo", "--task-step", "0.1"]
    command += ["--state-dir", str(tmp_path / "state"), "--env-file", str(env_file)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        environment = wait_until(lambda: env_file.exists() and json.loads(env_file.read_text()), timeout=30)
        assert set(environment) == {"LEM_URL", "LEM_API_TOKEN", "LEM_PROJECT_ID", "LEM_CA_PATH"}
        session = requests.Session()
        session.trust_env = False
        response = session.get(
            f"{environment['LEM_URL']}/api/v1/analytics/{environment['LEM_PROJECT_ID']}/models",
            headers={"X-AuthToken": environment["LEM_API_TOKEN"]},
            verify=environment["LEM_CA_PATH"],
            timeout=10,
        )
        assert response.json()["elements"][:3] == REFERENCE_DEVICES
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0
    printed = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    assert printed == environment


# -- resources ---------------------------------------------------------------------------------


def resident_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


class GeneratedBody:
    """`size` bytes made on the fly, with their sha256; requests sends a
    file-like object with a length with Content-Length, not chunked."""

    def __init__(self, size: int) -> None:
        self._left = size
        self._size = size
        self._block = os.urandom(1 << 20)
        self.sha256 = hashlib.sha256()

    def __len__(self) -> int:
        return self._size

    def read(self, amount: int = -1) -> bytes:
        amount = self._left if amount is None or amount < 0 else min(amount, self._left)
        data = self._block[: min(amount, len(self._block))]
        self._left -= len(data)
        self.sha256.update(data)
        return data


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_1gib_upload_streams_to_disk(sim: Simulator) -> None:
    size = 1 << 30
    url = Lem(sim).upload_url("big.bin")
    baseline = resident_bytes()
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], resident_bytes())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    body = GeneratedBody(size)
    try:
        response = storage_put(sim, url, body, timeout=120)
    finally:
        done.set()
        sampler.join()
    assert response.status_code == 200
    assert max(peak[0], resident_bytes()) - baseline < 100 * (1 << 20)
    stored = sim.state()["files"][0]
    assert (stored["size"], stored["sha256"]) == (size, body.sha256.hexdigest())
