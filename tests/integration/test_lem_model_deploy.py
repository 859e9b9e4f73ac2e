"""lem_model_deploy through ansible-playbook, against the LEM simulator over HTTPS."""

import time

import pytest

MODEL = "motionModel.zip"


def devices(sim):
    return sim.state()["devices"]


def deploys(sim):
    return [entry for entry in sim.requests() if entry["endpoint"] == "deploy"]


def lists(sim, device_id, name="motionModel"):
    device = next(device for device in devices(sim) if device["deviceId"] == device_id)
    return any(model["name"] == name for model in device["models"])


@pytest.fixture
def fleet(sim):
    sim.stage_file(MODEL, content=b"model v1" * 100)
    return devices(sim)


def test_deploy_by_id_hostname_and_pretty_name_then_rerun_is_skipped(sim, playbook, fleet):
    targets = [fleet[0]["deviceId"], fleet[1]["hostname"], fleet[2]["prettyName"]]
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": targets}})
    assert run.rc == 0, run.output
    result = run.task("Call lem_model_deploy")
    assert result["changed"] is True and result["status"] == "SUCCESS" and result["task_id"]
    ids = [device["deviceId"] for device in fleet]
    assert result["deployed_devices"] == ids and result["skipped_devices"] == [] and result["failed_devices"] == []
    assert [item["action"] for item in result["devices"]] == ["deployed"] * 3
    assert set(result["devices"][0]) == {"device_id", "hostname", "pretty_name", "action", "status", "msg", "progress"}
    assert all(item["status"] == "SUCCESS" and item["progress"] == 1 for item in result["devices"])
    assert isinstance(result["elapsed"], float)
    assert all(lists(sim, device_id) for device_id in ids)

    body = deploys(sim)[0]["body"] if "body" in deploys(sim)[0] else None
    task = sim.state()["tasks"][0]
    assert task["name"] == "Upload AI/ML Models (3 edge devices)" and task["waitForOnline"] is False
    assert [sub["num"] for sub in task["subtasks"]] == [0, 1, 2]
    del body

    sim.clear_requests()
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": targets}})
    result = run.task("Call lem_model_deploy")
    assert result["changed"] is False and result["status"] == "SKIPPED" and result["task_id"] is None
    assert result["skipped_devices"] == ids
    assert deploys(sim) == []


def test_one_device_names_the_task_in_the_singular(sim, playbook, fleet):
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": [fleet[0]["deviceId"]]}})
    assert run.rc == 0, run.output
    assert sim.state()["tasks"][0]["name"] == "Upload AI/ML Models (1 edge device)"


def test_a_device_holding_an_older_upload_is_redeployed_a_current_one_skipped(sim, playbook, fleet):
    first, second = fleet[0]["deviceId"], fleet[1]["deviceId"]
    assert playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": [first, second]}}).rc == 0
    time.sleep(0.01)
    sim.stage_file(MODEL, content=b"model v2" * 100)  # new bytes: both now hold an older upload
    assert playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": [first]}}).rc == 0

    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": [first, second]}})
    result = run.task("Call lem_model_deploy")
    assert result["deployed_devices"] == [second] and result["skipped_devices"] == [first]
    assert [sub["deviceId"] for sub in sim.state()["tasks"][-1]["subtasks"]] == [second]


def test_without_task_history_listing_the_model_counts_as_current_with_a_warning(sim, playbook, fleet):
    first = fleet[0]["deviceId"]
    assert playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": [first]}}).rc == 0
    sim.configure(history=False)
    sim.stage_file(MODEL, content=b"model v2" * 100)
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": [first]}})
    result = run.task("Call lem_model_deploy")
    assert result["status"] == "SKIPPED" and result["skipped_devices"] == [first]
    assert any("no task history" in warning for warning in result.get("warnings", []))


def test_all_reads_every_page_and_makes_one_task(sim, playbook):
    sim.reset(device_count=25)
    sim.configure(max_page_size=10)
    sim.stage_file(MODEL, content=b"m" * 10)
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": ["all"]}})
    assert run.rc == 0, run.output
    result = run.task("Call lem_model_deploy")
    assert len(result["deployed_devices"]) == 25 and len(set(result["deployed_devices"])) == 25
    assert len(deploys(sim)) == 1
    pages = [entry for entry in sim.requests() if entry["endpoint"] == "device_models"]
    assert [entry["query"]["requestedPage"] for entry in pages] == ["0", "1", "2"]


def test_redeploy_always_deploys_to_current_devices(sim, playbook, fleet):
    target = [fleet[0]["deviceId"]]
    assert playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": target}}).rc == 0
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": target, "redeploy": "always"}})
    result = run.task("Call lem_model_deploy")
    assert result["changed"] is True and result["deployed_devices"] == target
    assert len(deploys(sim)) == 2


def test_unknown_and_ambiguous_names_fail_before_deploying(sim, playbook):
    sim.reset(seed="demo")
    sim.stage_file(MODEL, content=b"m")
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": ["nosuchdevice", "litmus-edge-0242ac110002"]}})
    assert run.rc != 0
    message = run.task("Call lem_model_deploy")["msg"]
    assert "'nosuchdevice' matches no device" in message
    assert "'litmus-edge-0242ac110002' matches 2 devices" in message
    assert "litmus-edge-94c6911b9c77 (1a5wiavluwxuhwai5leb1v0hc)" in message
    assert deploys(sim) == []


def test_duplicates_are_dropped(sim, playbook, fleet):
    device = fleet[0]
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": [device["deviceId"], device["hostname"], device["deviceId"]]}})
    result = run.task("Call lem_model_deploy")
    assert result["deployed_devices"] == [device["deviceId"]] and len(result["devices"]) == 1


def test_a_model_that_is_not_staged_fails_naming_lem_model_file(sim, playbook, fleet):
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": "other.zip", "devices": ["all"]}})
    assert run.rc != 0
    message = run.task("Call lem_model_deploy")["msg"]
    assert "other.zip is not staged" in message and "litmus.lem.lem_model_file" in message
    assert deploys(sim) == []


def test_check_mode_predicts_without_deploying_and_warns_on_an_unstaged_file(sim, playbook, fleet):
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": ["all"]}}, check=True)
    assert run.rc == 0, run.output
    result = run.task("Call lem_model_deploy")
    assert result["changed"] is True and result["task_id"] is None
    assert result["deployed_devices"] == [device["deviceId"] for device in fleet]
    assert deploys(sim) == []

    run = playbook("deploy.yml", extra_vars={"deploy": {"name": "later.zip", "devices": ["all"]}}, check=True)
    result = run.task("Call lem_model_deploy")
    assert run.rc == 0 and result["changed"] is True
    assert any("later.zip is not staged" in warning for warning in result["warnings"])
    assert deploys(sim) == []


def test_a_failing_device_fails_the_task_naming_it_and_its_message(sim, playbook, fleet):
    bad = fleet[1]
    sim.set_device(bad["deviceId"], behaviour="fail", fail_msg="disk full on /var/lib")
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": ["all"]}})
    assert run.rc != 0
    result = run.task("Call lem_model_deploy")
    assert result["status"] == "FAILED" and result["failed_devices"] == [bad["deviceId"]]
    assert bad["hostname"] in result["msg"] and "disk full on /var/lib" in result["msg"]
    assert len(result["deployed_devices"]) == 2

    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": ["all"], "fail_on_device_error": False}})
    assert run.rc == 0
    result = run.task("Call lem_model_deploy")
    assert result["status"] == "FAILED" and result["deployed_devices"] == [] and len(result["skipped_devices"]) == 2

    sim.set_device(bad["deviceId"], behaviour="ok")
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": ["all"]}})
    result = run.task("Call lem_model_deploy")
    assert run.rc == 0 and result["deployed_devices"] == [bad["deviceId"]]


def test_an_offline_device_fails_unless_waiting_for_it(sim, playbook, fleet):
    offline = fleet[2]["deviceId"]
    sim.set_device(offline, online=False)
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": [offline]}})
    assert run.rc != 0
    result = run.task("Call lem_model_deploy")
    assert result["failed_devices"] == [offline] and "offline" in result["msg"]

    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": [offline], "wait_for_online": True, "wait_timeout": 1}})
    result = run.task("Call lem_model_deploy")
    assert run.rc != 0 and result["status"] == "TIMEOUT"
    assert result["devices"][0]["status"] == "PENDING"
    assert sim.state()["tasks"][-1]["waitForOnline"] is True


def test_a_task_that_does_not_finish_times_out_with_the_partial_state(sim, playbook, fleet):
    sim.set_device(fleet[0]["deviceId"], behaviour="hang")
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": ["all"], "wait_timeout": 2}})
    assert run.rc != 0
    result = run.task("Call lem_model_deploy")
    assert result["status"] == "TIMEOUT" and result["task_id"]
    assert result["failed_devices"] == [fleet[0]["deviceId"]]
    assert sorted(result["deployed_devices"]) == sorted(device["deviceId"] for device in fleet[1:])
    assert "wait_timeout" in result["msg"] and result["task_id"] in result["msg"]


def test_polling_errors_are_retried_until_the_task_is_done(sim, playbook, fleet):
    sim.add_fault(endpoint="subtasks", action="status", status=503, times=6)
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": ["all"], "retries": 0}})
    assert run.rc == 0, run.output
    assert run.task("Call lem_model_deploy")["status"] == "SUCCESS"


@pytest.mark.parametrize("fault", [
    {"action": "status", "status": 503, "act": False},
    {"action": "status", "status": 502, "act": True},
    {"action": "drop", "act": True},
])
def test_the_deploy_post_is_sent_once_after_a_5xx_or_a_lost_answer(sim, playbook, fleet, fault):
    sim.add_fault(endpoint="deploy", times=1, **fault)
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": ["all"]}})
    assert run.rc != 0
    message = run.task("Call lem_model_deploy")["msg"]
    assert "may have" in message and "lem_model_info" in message and "history" in message
    assert len(deploys(sim)) == 1


def test_the_deploy_post_is_retried_after_429(sim, playbook, fleet):
    sim.add_fault(endpoint="deploy", action="status", status=429, retry_after="1", times=1)
    started = time.monotonic()
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": ["all"]}})
    assert run.rc == 0, run.output
    assert [entry["status"] for entry in deploys(sim)] == [429, 200]
    assert time.monotonic() - started >= 1
    assert len(sim.state()["tasks"]) == 1


def test_wait_false_returns_the_task_id_at_once(sim, playbook, fleet):
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": ["all"], "wait": False}})
    assert run.rc == 0, run.output
    result = run.task("Call lem_model_deploy")
    assert result["status"] == "PENDING" and result["task_id"] == sim.state()["tasks"][0]["taskId"]
    assert not any(entry["endpoint"] == "subtasks" for entry in sim.requests())


def test_all_on_a_project_without_devices_is_skipped_with_a_warning(sim, playbook):
    sim.reset(devices=[])
    sim.stage_file(MODEL, content=b"m")
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": ["all"]}})
    assert run.rc == 0, run.output
    result = run.task("Call lem_model_deploy")
    assert result["status"] == "SKIPPED" and result["changed"] is False and result["devices"] == []
    assert any("has no devices" in warning for warning in result["warnings"])
    assert deploys(sim) == []


def test_a_final_polling_error_keeps_the_task_id_and_says_how_to_follow_it(sim, playbook, fleet):
    sim.add_fault(endpoint="subtasks", action="status", status=403, times=None)
    run = playbook("deploy.yml", extra_vars={"deploy": {"name": MODEL, "devices": ["all"]}})
    assert run.rc != 0
    result = run.task("Call lem_model_deploy")
    task_id = sim.state()["tasks"][0]["taskId"]
    assert result["task_id"] == task_id and result["changed"] is True and result["status"] == "IN_PROGRESS"
    assert "was started" in result["msg"] and "gather: [task], task_id: %s" % task_id in result["msg"]
    assert len([entry for entry in sim.requests() if entry["endpoint"] == "subtasks"]) == 1
