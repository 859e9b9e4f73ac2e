"""The fault matrix and the abuse matrix (tests/integration/reliability.py), every row run against the simulator.

Most rows run a module in this process (its main(), over real HTTPS to the
simulator): an ansible-playbook run costs seconds, a module run a few
milliseconds. The role and the secret sweep run through ansible-playbook.
Every run is checked for what must never happen: a traceback, an
upload-complete after a failed PUT, a secret in a message.
"""

import base64
import contextlib
import hashlib
import io
import json
import socket
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.litmus.lem.plugins.module_utils._client import LemClient
from ansible_collections.litmus.lem.plugins.modules import lem_model_deploy, lem_model_file, lem_model_info
from tests.integration import reliability
from tests.simulator import Simulator
from tests.simulator.storage import UrlSigner
from tests.utils import reliability_doc

ROOT = Path(__file__).resolve().parents[2]

NAME = "motionModel.zip"
DEPLOYED = "motionModel"
WRONG_TOKEN = "lem-token-never-issued-7d1c"
SWEEP_TOKEN = "lem-SWEEP-token-5b9e1f0c7a3d"
OUTCOME_UNKNOWN = ("may have", "lem_model_info", "history")
TASK_STEP = 0.05
FAST = {"wait_sleep": 0.05, "wait_timeout": 10}


def basic(token):
    return base64.b64encode(("%s:" % token).encode()).decode()


def host_of(sim):
    return sim.url.split("://", 1)[1]


def assert_absent(secrets, text, where):
    """Fail, without printing them, when any of ``secrets`` is in ``text``."""
    found = [number for number, secret in enumerate(secrets) if secret and secret in text]
    if found:
        pytest.fail("secret number %s of %d is in %s" % (found, len(secrets), where), pytrace=False)


# ---- running a module in this process -------------------------------------------------------------------------

class Run:
    """One module run: its result, the simulator's request log during it, and how long it took."""

    def __init__(self, result, log, elapsed):
        self.result = result
        self.log = log
        self.elapsed = elapsed

    @property
    def failed(self):
        return bool(self.result.get("failed"))

    @property
    def msg(self):
        return self.result.get("msg", "")

    @property
    def warnings(self):
        return [item["event"]["msg"] if isinstance(item, dict) else item for item in self.result.get("warnings", [])]

    def entries(self, endpoint):
        return [entry for entry in self.log or [] if entry["endpoint"] == endpoint]

    def statuses(self, endpoint):
        return [entry["status"] for entry in self.entries(endpoint)]

    def endpoints(self):
        return [entry["endpoint"] for entry in self.log or []]


def check_upload_order(log):
    """Step 3 never follows a failed PUT: each upload-complete after a PUT follows one the storage accepted."""
    last_put_ok = None
    for entry in log or []:
        if entry["endpoint"] == "storage_put":
            last_put_ok = entry["status"] in (200, 201, 204)
        elif entry["endpoint"] == "upload_complete":
            assert last_put_ok is not False, "upload-complete after a failed PUT: %s" % [
                (item["endpoint"], item["status"]) for item in log]


class Lab:
    """What a row needs: the simulators, a model file, module runs, and faults at the client's steps."""

    def __init__(self, sim, durable, tmp_path, monkeypatch, playbook):
        self.sim = sim
        self.durable = durable
        self.tmp_path = tmp_path
        self.monkeypatch = monkeypatch
        self.playbook = playbook
        sim.reset(task_step=TASK_STEP)

    def ids(self, sim=None):
        return [device["deviceId"] for device in (sim or self.sim).state()["devices"]]

    def model(self, content=b"motion model v1 " * 4096, name=NAME):
        path = self.tmp_path / name
        path.write_bytes(content)
        return path

    def run(self, module, sim=None, **args):
        sim = sim or self.sim
        arguments = {"lem_url": sim.url, "lem_token": sim.token, "project_id": sim.project_id, "ca_path": sim.ca_path,
                     "retries": 1}
        arguments.update(args)
        if module is lem_model_deploy:
            arguments = dict(FAST, **arguments)
        with contextlib.suppress(RuntimeError):  # a stopped simulator has no log
            sim.clear_requests()
        ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
        ansible_warnings._global_deprecations.clear()  # pylint: disable=protected-access
        printed = io.StringIO()
        started = time.monotonic()
        with patch_module_args(arguments), contextlib.redirect_stdout(printed):
            with contextlib.suppress(SystemExit):
                module.main()
        elapsed = time.monotonic() - started
        result = json.loads(printed.getvalue())
        result.pop("invocation", None)
        log = None
        with contextlib.suppress(RuntimeError):
            log = sim.requests()
        run = Run(result, log, elapsed)
        assert "exception" not in result and not run.msg.startswith("Unexpected failure"), run.msg
        assert_absent((sim.token, basic(sim.token)), json.dumps(result), "the result")
        check_upload_order(log)
        return run

    def converge(self, module, sim=None, **args):
        """The rerun after a fault: it succeeds, and a third run changes nothing."""
        sim = sim or self.sim
        sim.clear_faults()
        settle_tasks(sim)
        second = self.run(module, sim=sim, **args)
        assert not second.failed, second.msg
        third = self.run(module, sim=sim, **args)
        assert not third.failed and third.result["changed"] is False, third.result
        assert [entry for entry in third.log if entry["method"] in ("POST", "PUT", "DELETE")] == []
        if module is lem_model_deploy:
            assert third.result["status"] == "SKIPPED", third.result
        return second

    @contextlib.contextmanager
    def before(self, step, action):
        """Run ``action(client)`` once, right before the client's method ``step``."""
        original = getattr(LemClient, step)
        fired = []

        def wrapper(client, *args, **kwargs):
            if not fired:
                fired.append(True)
                action(client)
            return original(client, *args, **kwargs)

        setattr(LemClient, step, wrapper)
        try:
            yield fired
        finally:
            setattr(LemClient, step, original)

    def staged(self, sim=None, name=NAME):
        return next((item for item in (sim or self.sim).state()["files"] if item["name"] == name and item["registered"]),
                    None)


def settle_tasks(sim, limit=10.0):
    """Wait until every deployment task of the simulator is done."""
    deadline = time.monotonic() + limit
    while any(not subtask["done"] for task in sim.state()["tasks"] for subtask in task["subtasks"]):
        assert time.monotonic() < deadline, "the simulator's tasks did not finish"
        time.sleep(0.05)


def assert_outcome_unknown(run):
    assert run.failed
    assert all(word in run.msg for word in OUTCOME_UNKNOWN), run.msg


@pytest.fixture(scope="module")
def durable(tmp_path_factory):
    """A simulator that keeps its state on disk, so that it can be stopped and started again mid-run."""
    server = Simulator(seed="test", task_step=TASK_STEP, state_dir=tmp_path_factory.mktemp("durable-lem"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def lab(sim, durable, tmp_path, monkeypatch, playbook):
    return Lab(sim, durable, tmp_path, monkeypatch, playbook)


# ---- the fault scenarios ------------------------------------------------------------------------------------------

ENDPOINT_WORDS = {endpoint: words for endpoint, _call, words in reliability.ENDPOINTS}


def setup_for(lab, endpoint):
    """The module and arguments that reach ``endpoint``, with the simulator prepared for it."""
    if endpoint in ("upload_url", "storage_put", "upload_complete", "file_list"):
        return lem_model_file, {"src": str(lab.model())}
    if endpoint == "file_delete":
        lab.sim.stage_file(NAME, content=b"staged")
        return lem_model_file, {"name": NAME, "state": "absent"}
    if endpoint == "model_list":
        return lem_model_info, {"gather": ["models"]}
    lab.sim.stage_file(NAME, content=b"model v1" * 100)
    if endpoint == "history":
        # The history is read only when a target lists the model; this one does, from an unknown deployment.
        lab.sim.set_device(lab.ids()[0], models=[{"name": DEPLOYED, "size": 1}])
    return lem_model_deploy, {"name": NAME, "devices": ["all"]}


def endpoint_status(lab, endpoint, status, persistent):
    module, args = setup_for(lab, endpoint)
    fault = {"status": status}
    if status == 429:
        fault["retry_after"] = "0" if persistent else "1"
    lab.sim.add_fault(endpoint, "status", times=None if persistent else 1, **fault)
    if endpoint == "subtasks" and persistent:
        args["wait_timeout"] = 1
    run = lab.run(module, **args)
    hits = run.entries(endpoint)
    words = ENDPOINT_WORDS[endpoint]
    if endpoint == "deploy" and status != 429:
        assert_outcome_unknown(run)
        assert str(status) in run.msg and len(hits) == 1
        assert lab.sim.state()["tasks"] == []
    elif not persistent:
        assert not run.failed, run.msg
        assert [entry["status"] for entry in hits[:2]] == [status, 200]
        if status == 429:
            assert hits[1]["time"] - hits[0]["time"] >= 0.9, "Retry-After: 1 was not honoured"
        if "src" in args:  # the bytes LEM stores are the file's, whatever was retried
            stored = lab.staged()
            assert stored["sha256"] == hashlib.sha256(Path(args["src"]).read_bytes()).hexdigest()
            assert stored["description"] == "[sha256:%s]" % stored["sha256"]
        if module is lem_model_deploy:
            assert run.result["status"] == "SUCCESS" and len(lab.sim.state()["tasks"]) == 1
    elif endpoint == "subtasks":
        assert run.failed and run.result["status"] == "TIMEOUT"
        assert words in run.msg and str(status) in run.msg and run.result["task_id"] in run.msg
        assert len(run.result["devices"]) == 3
    else:
        assert run.failed and words in run.msg and str(status) in run.msg, run.msg
        assert "after 2 attempts" in run.msg, run.msg
        assert [entry["status"] for entry in hits] == [status, status]
        later = {"upload_url": ("storage_put", "upload_complete"), "storage_put": ("upload_complete",)}.get(endpoint, ())
        assert not set(later) & set(run.endpoints())
        if module is lem_model_deploy:
            assert lab.sim.state()["tasks"] == []
    lab.converge(module, **args)


def upload_step_down(lab, step, fault):
    src = lab.model()
    if fault == "refused":
        sim = lab.durable
        sim.reset(task_step=TASK_STEP)
        with lab.before(step, lambda client: sim.stop()) as fired:
            run = lab.run(lem_model_file, sim=sim, src=str(src))
        assert fired
        sim.start()
        assert run.failed and "(connection refused)" in run.msg and "after 2 attempts" in run.msg, run.msg
        assert host_of(sim) in run.msg
        stored = next((item for item in sim.state()["files"] if item["name"] == NAME), None)
        if step == "complete_upload":
            assert "did not register them" in run.msg and stored is not None and not stored["registered"]
        else:
            assert stored is None
        lab.converge(lem_model_file, sim=sim, src=str(src))
        return
    sim = lab.sim
    args = {"src": str(src)}
    if fault == "dns":
        lem_url = "https://localhost:%d" % sim.port
        real = socket.getaddrinfo
        down = []

        def resolve(host, *rest, **kwargs):
            if down and host == "localhost":
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return real(host, *rest, **kwargs)

        def stop_resolving(client):
            client._session.close()  # pylint: disable=protected-access  # idle connections would hide the lookup
            down.append(True)

        lab.monkeypatch.setattr(socket, "getaddrinfo", resolve)
        with lab.before(step, stop_resolving):
            run = lab.run(lem_model_file, lem_url=lem_url, **args)
        down.clear()
        assert run.failed and "localhost:%d (the host name does not resolve)" % sim.port in run.msg, run.msg
        assert "upload_via_lem_url" not in run.msg  # the storage is lem_url's own host: no use sending the PUT there
        args["lem_url"] = lem_url
    else:
        endpoint = {"upload_url": "upload_url", "put_object": "storage_put", "complete_upload": "upload_complete"}[step]
        sim.add_fault(endpoint, "delay", seconds=1.5)
        run = lab.run(lem_model_file, timeout=0.5, upload_timeout=0.5, **args)
        assert run.failed and "did not answer within the time limit" in run.msg, run.msg
        assert ("raise upload_timeout" if step == "put_object" else "raise timeout") in run.msg
        time.sleep(1.1)  # the delayed requests finish
    what = {"upload_url": "an upload URL for", "put_object": "the upload of", "complete_upload": "the upload-complete step"}
    assert what[step] in run.msg, run.msg
    later = {"upload_url": {"storage_put", "upload_complete"}, "put_object": {"upload_complete"}}.get(step, set())
    assert not later & set(run.endpoints())
    if step == "complete_upload":
        assert "did not register them" in run.msg and "Run the task again" in run.msg
    lab.converge(lem_model_file, **args)


def restart_between(lab, point):
    sim = lab.durable
    sim.reset(task_step=TASK_STEP)
    restarts = []

    def stop_and_restart(client):
        del client
        sim.stop()
        timer = threading.Timer(0.2, sim.start)
        restarts.append(timer)
        timer.start()

    if point in ("upload_url", "put_object", "complete_upload"):
        module, args = lem_model_file, {"src": str(lab.model())}
    else:
        sim.stage_file(NAME, content=b"model v1" * 100)
        module, args = lem_model_deploy, {"name": NAME, "devices": ["all"]}
    step = {"polling": "subtasks"}.get(point, point)
    with lab.before(step, stop_and_restart):
        run = lab.run(module, sim=sim, retries=5, **args)
    restarts[0].join()
    assert not run.failed, run.msg
    if module is lem_model_file:
        assert run.result["uploaded"] is True
        assert lab.staged(sim)["sha256"] == hashlib.sha256(Path(args["src"]).read_bytes()).hexdigest()
    else:
        assert run.result["status"] == "SUCCESS" and len(sim.state()["tasks"]) == 1
        assert all(any(m["name"] == DEPLOYED for m in device["models"]) for device in sim.state()["devices"])
    lab.converge(module, sim=sim, **args)


def storage_cut(lab, where):
    src = lab.model(b"x" * 200000)
    if where == "replacing":
        assert not lab.run(lem_model_file, src=str(src)).failed
        old = lab.staged()["sha256"]
        src.write_bytes(b"y" * 200000)
    after = 200000 if where == "answer-lost" else 100000
    lab.sim.add_fault("storage_put", "cut", after_bytes=after)
    run = lab.run(lem_model_file, src=str(src))
    assert run.failed and "storage" in run.msg and "closed" in run.msg, run.msg
    assert "upload_complete" not in run.endpoints()
    staged = lab.staged()
    if where == "replacing":
        assert staged["sha256"] == old
    else:
        assert staged is None
    second = lab.converge(lem_model_file, src=str(src))
    assert second.result["uploaded"] is True
    assert lab.staged()["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()


def rollout_new_content_halfway(lab):
    sim = lab.sim
    ids = lab.ids()
    src = lab.model(b"motion model v1 " * 2048)
    extra = {"model_rollout_src": str(src), "model_rollout_devices": ["all"]}
    run = lab.playbook("role.yml", extra_vars=extra)
    assert run.rc == 0, run.output
    src.write_bytes(b"motion model v2 " * 2048)
    sim.set_device(ids[1], behaviour="fail", fail_msg="disk full on /var/lib")
    run = lab.playbook("role.yml", extra_vars=extra)
    assert run.rc != 0
    message = run.task("Fail when the model did not reach every device")["msg"]
    assert ids[1] in message and "disk full on /var/lib" in message
    sim.set_device(ids[1], behaviour="ok")
    run = lab.playbook("role.yml", extra_vars=extra)
    assert run.rc == 0, run.output
    result = run.task("Show the outcome")["model_rollout_result"]
    assert result["uploaded"] is False and result["deployed_devices"] == [ids[1]]
    assert result["skipped_devices"] == [ids[0], ids[2]]
    run = lab.playbook("role.yml", extra_vars=extra)
    assert run.rc == 0, run.output
    result = run.task("Show the outcome")["model_rollout_result"]
    assert result["deployed_devices"] == [] and result["batches"] == [] and len(result["skipped_devices"]) == 3


def deploy_new_content_halfway(lab):
    sim = lab.sim
    first, second = lab.ids()[:2]
    sim.stage_file(NAME, content=b"model v1" * 100)
    args = {"name": NAME, "devices": [first, second]}
    assert lab.run(lem_model_deploy, **args).result["status"] == "SUCCESS"
    time.sleep(0.01)
    sim.stage_file(NAME, content=b"model v2" * 100)
    sim.set_device(second, behaviour="fail", fail_msg="GPU driver missing")
    run = lab.run(lem_model_deploy, **args)
    assert run.failed and run.result["failed_devices"] == [second] and run.result["deployed_devices"] == [first]
    sim.set_device(second, behaviour="ok")
    rerun = lab.converge(lem_model_deploy, **args)
    assert rerun.result["deployed_devices"] == [second] and rerun.result["skipped_devices"] == [first]


def expired_url(lab, persistent):
    src = lab.model()
    lab.sim.add_fault("upload_url", "expired_url", times=None if persistent else 1)
    run = lab.run(lem_model_file, src=str(src))
    if persistent:
        assert run.failed and "expired" in run.msg and NAME in run.msg, run.msg
        assert "X-Amz-Signature" not in run.msg and "upload_complete" not in run.endpoints()
    else:
        assert not run.failed, run.msg
        assert run.statuses("storage_put") == [403, 200] and len(run.entries("upload_url")) == 2
    lab.converge(lem_model_file, src=str(src))


def unresolvable_presign(lab, via_lem_url):
    src = lab.model()
    signed_host = "lem-storage.invalid:%d" % lab.sim.port
    lab.sim.add_fault("upload_url", "presign_host", host=signed_host)
    run = lab.run(lem_model_file, src=str(src), upload_via_lem_url=via_lem_url, retries=0)
    if via_lem_url:
        assert not run.failed, run.msg
        put = run.entries("storage_put")[0]
        assert {name.lower(): value for name, value in put["headers"].items()}["host"] == signed_host
    else:
        assert run.failed and "lem-storage.invalid" in run.msg and "upload_via_lem_url: true" in run.msg, run.msg
        assert "upload_complete" not in run.endpoints()
    lab.converge(lem_model_file, src=str(src), upload_via_lem_url=via_lem_url)


def deploy_device(lab, kind):
    sim = lab.sim
    ids = lab.ids()
    sim.stage_file(NAME, content=b"model v1" * 100)
    args = {"name": NAME, "devices": ["all"]}
    if kind == "fails":
        sim.set_device(ids[1], behaviour="fail", fail_msg="disk full on /var/lib")
        run = lab.run(lem_model_deploy, **args)
        assert run.failed and run.result["status"] == "FAILED" and run.result["failed_devices"] == [ids[1]]
        assert "disk full on /var/lib" in run.msg and ids[1] in run.msg
        assert run.result["deployed_devices"] == [ids[0], ids[2]]
        sim.set_device(ids[1], behaviour="ok")
    elif kind == "offline":
        args["devices"] = [ids[2]]
        sim.set_device(ids[2], online=False)
        run = lab.run(lem_model_deploy, **args)
        assert run.failed and run.result["failed_devices"] == [ids[2]] and "Device is offline" in run.msg
        sim.set_device(ids[2], online=True)
    else:
        sim.set_device(ids[0], behaviour="hang")
        run = lab.run(lem_model_deploy, wait_timeout=1, **args)
        assert run.failed and run.result["status"] == "TIMEOUT" and run.result["failed_devices"] == [ids[0]]
        assert run.result["task_id"] in run.msg and "wait_timeout" in run.msg and ids[0] in run.msg
        assert run.result["deployed_devices"] == ids[1:]
        sim.set_device(ids[0], behaviour="ok")
    second = lab.converge(lem_model_deploy, **args)
    if kind != "hangs":
        assert second.result["deployed_devices"] == [ids[1] if kind == "fails" else ids[2]]


def polling_fails_for_a_while(lab):
    lab.sim.stage_file(NAME, content=b"model v1" * 100)
    lab.sim.add_fault("subtasks", "status", status=503, times=6)
    run = lab.run(lem_model_deploy, name=NAME, devices=["all"], retries=0)
    assert not run.failed and run.result["status"] == "SUCCESS", run.msg
    assert run.statuses("subtasks")[:6] == [503] * 6
    lab.converge(lem_model_deploy, name=NAME, devices=["all"])


def deploy_post_lost(lab, fault):
    lab.sim.stage_file(NAME, content=b"model v1" * 100)
    args = {"name": NAME, "devices": ["all"]}
    extra = {}
    if fault == "5xx_acted":
        lab.sim.add_fault("deploy", "status", status=502, act=True, times=1)
    elif fault == "drop_acted":
        lab.sim.add_fault("deploy", "drop", act=True, times=1)
    elif fault == "drop":
        lab.sim.add_fault("deploy", "drop", times=1)
    else:
        lab.sim.add_fault("deploy", "delay", seconds=1.5, times=1)
        extra["timeout"] = 0.5
    run = lab.run(lem_model_deploy, retries=3, **dict(args, **extra))
    assert_outcome_unknown(run)
    assert len(run.entries("deploy")) == 1
    time.sleep(1.1 if fault == "timeout" else 0)
    assert len(lab.sim.state()["tasks"]) == (0 if fault == "drop" else 1)
    lab.converge(lem_model_deploy, **args)


def not_json(lab, endpoint):
    module, args = setup_for(lab, endpoint)
    if endpoint == "subtasks":
        args["wait_timeout"] = 1
    lab.sim.add_fault(endpoint, "not_json")
    run = lab.run(module, **args)
    assert run.failed, run.result
    if endpoint == "storage_put":
        assert "did not register them" in run.msg and "upload_complete" in run.endpoints(), run.msg
    elif endpoint == "file_delete":
        assert "still lists" in run.msg and lab.staged() is not None, run.msg
    elif endpoint == "deploy":
        assert_outcome_unknown(run)
        assert "not JSON" in run.msg and len(run.entries("deploy")) == 1
    else:
        assert "not JSON" in run.msg and "lem_url" in run.msg, run.msg
        if endpoint == "subtasks":
            assert run.result["status"] == "TIMEOUT"
        if endpoint == "upload_complete":
            assert "did not register them" in run.msg
    if endpoint in ("history", "device_models"):
        assert "deploy" not in run.endpoints()
    if endpoint == "upload_url":
        assert "storage_put" not in run.endpoints()
    if endpoint in ("upload_url", "file_list", "history", "device_models", "model_list", "subtasks"):
        lab.sim.clear_faults()  # a read that failed changed nothing: the rerun is an ordinary run
    lab.converge(module, **args)


def device_records(sim):
    keys = ("projectId", "deviceId", "hostname", "prettyName", "isOnline", "online", "totalSize", "models")
    return [{key: device[key] for key in keys if key in device} for device in sim.state()["devices"]]


def odd_answer(lab, case):  # pylint: disable=too-many-branches,too-many-statements
    sim = lab.sim
    ids = lab.ids()
    deploy_args = {"name": NAME, "devices": ["all"]}
    if case == "upload-url-without-url":
        sim.add_fault("upload_url", "json", body={})
        run = lab.run(lem_model_file, src=str(lab.model()))
        assert run.failed and "no usable 'url'" in run.msg and "storage_put" not in run.endpoints()
    elif case == "upload-complete-not-registered":
        src = lab.model()
        sim.add_fault("upload_complete", "json", body={})
        run = lab.run(lem_model_file, src=str(src))
        assert run.failed and "does not list %s with the content just staged" % NAME in run.msg, run.msg
        lab.converge(lem_model_file, src=str(src))
    elif case in ("page-without-pagescount", "page-without-counts"):
        for name in ("a.zip", "b.zip"):
            sim.stage_file(name, content=name.encode())
        sim.configure(max_page_size=1)
        page = {"pageNum": 0, "size": 1, "elements": [{"name": "a.zip", "size": 0, "lastModified": 1,
                                                       "fileType": "mlModel", "description": ""}]}
        if case == "page-without-pagescount":
            page["totalSize"] = 2
        sim.add_fault("file_list", "json", body=page, times=1)
        run = lab.run(lem_model_info, gather=["staged"])
        if case == "page-without-pagescount":
            assert not run.failed, run.msg
            assert [item["name"] for item in run.result["staged_files"]] == ["a.zip", "b.zip"]
        else:
            assert run.failed and "neither pagesCount nor totalSize" in run.msg, run.msg
    elif case == "page-not-a-page":
        sim.stage_file(NAME, content=b"m")
        sim.add_fault("device_models", "json", body={})
        run = lab.run(lem_model_deploy, **deploy_args)
        assert run.failed and "is not a list of records" in run.msg and "pagesCount" in run.msg and "deploy" not in run.endpoints()
    elif case in ("elements-not-objects", "devices-not-objects", "models-not-objects", "subtasks-not-objects"):
        junk = [1, None, "x"]
        sim.stage_file(NAME, content=b"m")
        if case == "elements-not-objects":
            sim.add_fault("file_list", "json", body={"pageNum": 0, "pagesCount": 1, "elements": junk})
            run = lab.run(lem_model_info, gather=["staged"])
        elif case == "devices-not-objects":
            sim.add_fault("device_models", "json", body={"pageNum": 0, "pagesCount": 1, "elements": junk})
            run = lab.run(lem_model_deploy, **deploy_args)
            assert "deploy" not in run.endpoints()
        elif case == "models-not-objects":
            sim.add_fault("model_list", "json", body=junk)
            run = lab.run(lem_model_info, gather=["models"])
        else:
            sim.add_fault("subtasks", "json", body=junk)
            run = lab.run(lem_model_deploy, **dict(deploy_args, wait_timeout=1))
            assert run.result["status"] == "TIMEOUT"
        assert run.failed and "not an object" in run.msg, run.msg
    elif case == "device-without-id":
        sim.stage_file(NAME, content=b"m")
        records = device_records(sim) + [{"hostname": "ghost", "prettyName": "a record without id", "models": []}]
        sim.add_fault("device_models", "json", body={"pageNum": 0, "pagesCount": 1, "totalSize": 4, "elements": records})
        run = lab.run(lem_model_deploy, **deploy_args)
        assert not run.failed, run.msg
        assert run.result["deployed_devices"] == ids and [item["device_id"] for item in run.result["devices"]] == ids
        lab.converge(lem_model_deploy, **deploy_args)
    elif case in ("subtasks-without-done", "subtasks-without-device"):
        sim.stage_file(NAME, content=b"m")
        if case == "subtasks-without-done":
            body = [{"deviceId": device_id, "status": "SUCCESS", "progress": 1, "msg": None} for device_id in ids]
        else:
            body = [{"status": "SUCCESS", "done": True, "progress": 1}]
        sim.add_fault("subtasks", "json", body=body)
        run = lab.run(lem_model_deploy, **deploy_args)
        if case == "subtasks-without-done":
            assert not run.failed and run.result["status"] == "SUCCESS", run.msg
            assert run.elapsed < 5
        else:
            assert run.failed and run.result["status"] == "FAILED" and run.result["failed_devices"] == ids, run.result
            assert run.msg.count("LEM reports no subtask for this device") == 3
    elif case == "deploy-without-task-id":
        sim.stage_file(NAME, content=b"m")
        sim.add_fault("deploy", "json", body={})
        run = lab.run(lem_model_deploy, **deploy_args)
        assert_outcome_unknown(run)
        assert "no taskId" in run.msg and len(run.entries("deploy")) == 1
    elif case == "model-list-not-array":
        sim.add_fault("model_list", "json", body={"models": []})
        run = lab.run(lem_model_info, gather=["models"])
        assert run.failed and "not a JSON array" in run.msg
    elif case == "empty-page-midway":
        for name in ("a.zip", "b.zip"):
            sim.stage_file(name, content=name.encode())
        sim.configure(max_page_size=1)
        sim.add_fault("file_list", "delay", seconds=0, times=1)  # page 0 as it is
        sim.add_fault("file_list", "json", body={"pageNum": 1, "pagesCount": 2, "size": 0, "totalSize": 2, "elements": []})
        run = lab.run(lem_model_file, name="a.zip", state="absent")
        assert run.failed and "brought no elements" in run.msg and "file_delete" not in run.endpoints(), run.msg
    elif case == "empty-device-list":
        sim.stage_file(NAME, content=b"m")
        sim.add_fault("device_models", "json", body={"pageNum": 0, "pagesCount": 1, "size": 0, "totalSize": 0, "elements": []})
        run = lab.run(lem_model_deploy, name=NAME, devices=[ids[0]])
        assert run.failed and "matches no device" in run.msg and "Devices of the project: none" in run.msg
    elif case in ("stale-file-list", "stale-history", "stale-device-list"):
        sim.configure(max_page_size=1)
        for name in ("a.zip", "b.zip", NAME):
            sim.stage_file(name, content=name.encode())
        endpoint = {"stale-file-list": "file_list", "stale-history": "history", "stale-device-list": "device_models"}[case]
        if endpoint == "history":
            lab.run(lem_model_deploy, redeploy="always", **deploy_args)
            assert len(sim.state()["tasks"]) == 1
        sim.add_fault(endpoint, "stale_page")
        run = lab.run(lem_model_deploy, **deploy_args)
        assert run.failed and "the pages do not advance" in run.msg and "deploy" not in run.endpoints(), run.msg
    elif case == "unknown-status-done":
        sim.stage_file(NAME, content=b"m")
        sim.set_device(ids[0], status="CANCELLED")
        run = lab.run(lem_model_deploy, **deploy_args)
        assert run.failed and run.result["status"] == "FAILED" and run.result["failed_devices"] == [ids[0]]
        assert run.result["devices"][0]["status"] == "CANCELLED" and "CANCELLED" in run.msg
    elif case == "unknown-status-not-done":
        sim.stage_file(NAME, content=b"m")
        sim.add_fault("subtasks", "json", body=[{"deviceId": device_id, "status": "QUEUED", "done": False} for device_id in ids])
        run = lab.run(lem_model_deploy, **dict(deploy_args, wait_timeout=1))
        assert run.failed and run.result["status"] == "TIMEOUT"
        assert [item["status"] for item in run.result["devices"]] == ["QUEUED"] * 3 and "QUEUED" in run.msg
    else:
        raise AssertionError("no such case: %s" % case)


# ---- the abuse scenarios ------------------------------------------------------------------------------------------

def bad_name(lab, name, words):
    lab.sim.stage_file(NAME, content=b"m")
    src = lab.model()
    for module, args in ((lem_model_file, {"src": str(src), "name": name}),
                         (lem_model_file, {"name": name, "state": "absent"}),
                         (lem_model_deploy, {"name": name, "devices": ["all"]})):
        run = lab.run(module, **args)
        assert run.failed and words in run.msg, (module.__name__, run.msg)
        assert run.log == [], run.log
        assert not any(ord(char) < 32 or 127 <= ord(char) < 160 for char in run.msg), repr(run.msg)


def good_name(lab, name):
    src = lab.model(name="plain.zip")
    run = lab.run(lem_model_file, src=str(src), name=name)
    assert not run.failed, run.msg
    paths = [entry["path"] for entry in run.log if entry["endpoint"] in ("upload_url", "storage_put", "upload_complete")]
    project = lab.sim.project_id
    assert paths == ["/api/v1/file/%s/mlModel/%s/upload-url" % (project, name), "/files/%s/mlModel/%s" % (project, name),
                     "/api/v1/file/%s/mlModel/%s" % (project, name)]
    assert lab.staged(name=name)["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert lab.run(lem_model_file, src=str(src), name=name).result["changed"] is False
    deployed = lab.run(lem_model_deploy, name=name, devices=[lab.ids()[0]])
    assert not deployed.failed and deployed.result["status"] == "SUCCESS", deployed.msg


def bad_lem_url(lab, url, words):
    sim = lab.sim
    url = url.format(host=host_of(sim), hostname="127.0.0.1", token=sim.token)
    run = lab.run(lem_model_info, gather=["staged"], lem_url=url)
    assert run.failed and words in run.msg, run.msg
    assert run.log == []
    assert_absent(("s3cret", sim.token, basic(sim.token)), run.msg, "the message")


def plain_http(lab):
    with Simulator(seed="test", tls=False) as plain:
        run = lab.run(lem_model_info, sim=plain, gather=["staged"], ca_path=None)
    assert not run.failed, run.msg
    assert any("travels in clear text" in warning for warning in run.warnings), run.warnings


def token(lab, kind):
    sim = lab.sim
    if kind in ("wrong", "empty", "blank", "newline", "non-ascii", "other-project"):
        value = {"wrong": WRONG_TOKEN, "empty": "", "blank": "   ", "newline": sim.token + "\r\nX-Evil: forged",
                 "non-ascii": "t\u00f6k\u20acn-42", "other-project": sim.restricted_token}[kind]
        run = lab.run(lem_model_info, gather=["staged"], lem_token=value)
        assert run.failed
        assert_absent((value.strip(), basic(value)), run.msg, "the message")
        if kind == "wrong":
            assert "401 Unauthorized" in run.msg and "invalid or expired" in run.msg
        elif kind == "other-project":
            assert "403 Forbidden" in run.msg and "read access" in run.msg
        else:
            assert "lem_token" in run.msg and run.log == [], run.msg
            assert not any("x-evil" in name.lower() for entry in sim.requests() for name in entry["headers"])
        return
    src = lab.model()
    sim.stage_file("old.zip", content=b"old")
    sim.stage_file(NAME, content=b"staged")
    before = sim.state()["files"]
    readonly = sim.readonly_token
    project = sim.project_id
    for module, args, where in (
            (lem_model_file, {"src": str(src), "overwrite": "always"}, "POST /api/v1/file/%s/mlModel/%s/upload-url" % (project, NAME)),
            (lem_model_file, {"name": "old.zip", "state": "absent"}, "DELETE /api/v1/file/%s/mlModel/old.zip" % project),
            (lem_model_deploy, {"name": NAME, "devices": ["all"]}, "POST /api/v1/async-task/task-with-subtasks")):
        run = lab.run(module, lem_token=readonly, **args)
        assert run.failed and "403 Forbidden" in run.msg and "write access" in run.msg, run.msg
        assert where in run.msg, run.msg
        assert_absent((readonly, basic(readonly)), run.msg, "the message")
    assert sim.state()["files"] == before and sim.state()["tasks"] == []
    assert not lab.run(lem_model_info, lem_token=readonly).failed


def devices(lab, kind):
    sim = lab.sim
    if kind in ("ambiguous", "info-ambiguous"):
        sim.reset(seed="demo", task_step=TASK_STEP)
    sim.stage_file(NAME, content=b"m")
    ids = lab.ids()
    shared = "litmus-edge-0242ac110002"
    if kind == "duplicates":
        device = sim.state()["devices"][0]
        run = lab.run(lem_model_deploy, name=NAME,
                      devices=[device["deviceId"], device["hostname"], device["prettyName"], device["deviceId"]])
        assert not run.failed and run.result["deployed_devices"] == [ids[0]] and len(run.result["devices"]) == 1
        assert [len(task["subtasks"]) for task in sim.state()["tasks"]] == [1]
        return
    if kind == "info-ambiguous":
        run = lab.run(lem_model_info, gather=["devices"], devices=[shared])
    else:
        names = {"ambiguous": [shared], "unknown": ["nosuchdevice"], "all-and-names": ["all", ids[0]],
                 "empty-name": [ids[0], ""]}[kind]
        run = lab.run(lem_model_deploy, name=NAME, devices=names)
    words = {"ambiguous": "matches 2 devices", "info-ambiguous": "matches 2 devices", "unknown": "matches no device",
             "all-and-names": "either [all] or a list", "empty-name": "holds an empty name"}[kind]
    assert run.failed and words in run.msg, run.msg
    if kind in ("ambiguous", "info-ambiguous"):
        assert "5p0d3f7h1j9l2n4q6s8u0w2y4" in run.msg and "6r1e4g8i2k0m3o5q7t9v1x3z5" in run.msg and "device id" in run.msg
    if kind == "unknown":
        assert all(device_id in run.msg for device_id in ids)
    assert "deploy" not in run.endpoints() and sim.state()["tasks"] == []


def path_injection(lab, kind):
    if kind == "project_id":
        run = lab.run(lem_model_info, gather=["staged"], project_id="../../x")
        assert run.failed and "404 Not Found" in run.msg and "check project_id (../../x)" in run.msg, run.msg
        assert run.endpoints() == ["file_list"]
    else:
        run = lab.run(lem_model_info, gather=["task"], task_id="../../file/x/list")
        assert run.failed and "has no task ../../file/x/list" in run.msg, run.msg
        assert run.endpoints() == ["subtasks"]


def echoed_secret(lab, kind):
    sim = lab.sim
    if kind == "storage":
        signature = "5ea1ed0f" * 8
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Denied for "
                "https://%s/files/x?X-Amz-Credential=AK%%2F1&amp;X-Amz-Signature=%s</Message></Error>" % (host_of(sim), signature))
        sim.add_fault("storage_put", "status", status=403, body=body)
        run = lab.run(lem_model_file, src=str(lab.model()))
        assert run.failed and "AccessDenied" in run.msg and signature not in run.msg and "X-Amz-Credential" not in run.msg, run.msg
    elif kind == "lem":
        body = {"code": "E", "message": "bad request headers: Authorization: Basic %s X-AuthToken: %s" % (basic(sim.token), sim.token)}
        sim.add_fault("file_list", "status", status=500, body=body)
        run = lab.run(lem_model_info, gather=["staged"], retries=0)
        assert run.failed and "********" in run.msg, run.msg
    else:
        sim.add_fault("file_list", "status", status=302)
        run = lab.run(lem_model_info, gather=["staged"])
        assert run.failed and "not redirected" in run.msg and len(run.log) == 1, run.msg


def secret_sweep(lab, playbook, failing=False):  # pylint: disable=too-many-locals
    sim = lab.sim
    sim.reset(token=SWEEP_TOKEN)
    issued = []
    presign = UrlSigner.presign_put

    def recording(signer, *args, **kwargs):
        url = presign(signer, *args, **kwargs)
        issued.append(parse_qs(urlsplit(url).query)["X-Amz-Signature"][0])
        return url

    lab.monkeypatch.setattr(UrlSigner, "presign_put", recording)
    src = lab.model()
    device = sim.state()["devices"][0]
    name = Path(playbook).name
    inventory = None
    variables = {
        "cases.yml": {"info_cases": [{"gather": ["staged"]}, {"gather": ["devices"], "token": "full"}],
                      "file_cases": [{"src": str(src), "token": "full"}], "tokens": {"full": sim.token}},
        "deploy.yml": {"deploy": {"name": NAME, "devices": ["all"]}},
        "file.yml": {"file": {"src": str(src), "retries": 0}},
        "info.yml": {"info": {"gather": ["staged", "devices", "models", "history"]}},
        "lacking_model.yml": {"deploy": True},
        "module_defaults.yml": {"lem_connection": {"lem_url": sim.url, "lem_token": sim.token,
                                                   "project_id": sim.project_id, "ca_path": sim.ca_path},
                                "model_src": str(src), "model_device": device["deviceId"]},
        "role.yml": {"model_rollout_src": str(src), "model_rollout_devices": ["all"]},
        "rollout.yml": {"model_rollout_src": str(src), "model_rollout_devices": ["all"]},
        "report.yml": {},
        "remove_staged.yml": {"remove_staged_names": ["old.zip"]},
    }[name]
    if name in ("deploy.yml", "lacking_model.yml", "info.yml"):
        sim.stage_file(NAME, content=b"model v1" * 100)
    if name == "info.yml":
        assert not lab.run(lem_model_deploy, name=NAME, devices=["all"]).failed
    if name == "remove_staged.yml":
        sim.stage_file("old.zip", content=b"old")
    if name == "lacking_model.yml":
        inventory = lab.tmp_path / "lem_devices.yml"
        inventory.write_text(yaml.safe_dump({"plugin": "litmus.lem.lem_devices"}))
    if failing:
        fake = "f00dfeed" * 8
        sim.add_fault("storage_put", "status", status=403, body=(
            "<Error><Code>SignatureDoesNotMatch</Code><Message>Check https://%s/files/x?X-Amz-Signature=%s</Message>"
            "</Error>" % (host_of(sim), fake)))
    sim.clear_requests()
    run = lab.playbook(str(ROOT / playbook), extra_vars=variables, verbosity=3, inventory=inventory)
    if failing:
        assert run.rc != 0 and "SignatureDoesNotMatch" in run.output, run.output[-3000:]
        issued.append(fake)
    else:
        assert run.rc == 0, run.output[-3000:]
    secrets = [sim.token, basic(sim.token)] + issued
    assert_absent(secrets, run.output, "the output of %s" % playbook)
    assert_absent(secrets, json.dumps(run.results), "the results of %s" % playbook)
    puts = sim.requests("storage_put")
    for entry in puts:
        assert_absent((sim.token, basic(sim.token)), json.dumps([entry["headers"], entry["query"]]), "a storage request")
        assert not {key.lower() for key in entry["headers"]} & {"authorization", "x-authtoken"}
    if name in ("file.yml", "role.yml", "rollout.yml", "module_defaults.yml", "cases.yml"):
        assert issued and puts, "the sweep of %s uploaded nothing" % playbook


SCENARIOS = {function.__name__: function for function in (
    endpoint_status, upload_step_down, restart_between, storage_cut, rollout_new_content_halfway,
    deploy_new_content_halfway, expired_url, unresolvable_presign, deploy_device, polling_fails_for_a_while,
    deploy_post_lost, not_json, odd_answer, bad_name, good_name, bad_lem_url, plain_http, token, devices,
    path_injection, echoed_secret, secret_sweep)}


# ---- the matrices -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("row", reliability.FAULTS, ids=[row.id for row in reliability.FAULTS])
def test_fault(lab, row):
    SCENARIOS[row.how](lab, **row.params)


@pytest.mark.parametrize("row", reliability.ABUSE, ids=[row.id for row in reliability.ABUSE])
def test_abuse(lab, row):
    SCENARIOS[row.how](lab, **row.params)


def test_every_row_is_unique_and_runs_a_scenario():
    for matrix, rows in reliability.MATRICES:
        ids = [row.id for row in rows]
        assert len(ids) == len(set(ids)), matrix
        for row in rows:
            assert row.how in SCENARIOS, row.id
            assert row.case and row.expected and row.area, row.id


def test_the_secret_sweep_covers_every_playbook():
    playbooks = {str(path.relative_to(ROOT)) for directory in ("tests/integration/playbooks", "playbooks")
                 for path in (ROOT / directory).glob("*.yml")}
    assert playbooks == {path for _name, path in reliability.PLAYBOOKS}


def test_the_report_is_generated_from_the_matrices():
    committed = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert committed == reliability_doc.render(), (
        "docs/reliability.md differs from the matrices: run python tests/utils/reliability_doc.py")
