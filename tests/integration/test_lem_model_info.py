"""lem_model_info through ansible-playbook, against the LEM simulator over HTTPS."""

import base64
import hashlib
import time

import requests

MODELS_DIR = "/var/lib/loopedge-analytics2/models"
SJ_OFFICE = "1a5wiavluwxuhwai5leb1v0hc"
OFFLINE = "3y0vcdju38zvqjrlm5lcpm1l"
VM = "vkrih85ka6fn7zcofirk20vs"
SHARED_HOSTNAME = "litmus-edge-0242ac110002"
DEMO_IDS = [SJ_OFFICE, OFFLINE, VM, "4nq8v2k7x1m3c9z5r0t6w2y8b", "5p0d3f7h1j9l2n4q6s8u0w2y4", "6r1e4g8i2k0m3o5q7t9v1x3z5"]

STAGED_KEYS = {"name", "size", "last_modified", "file_type", "description", "sha256"}
DEVICE_KEYS = {"device_id", "hostname", "pretty_name", "online", "total_size", "models"}
DEVICE_MODEL_KEYS = {"name", "path", "size", "deployment_source"}
MODEL_KEYS = {"name", "size", "count"}
TASK_KEYS = {"task_id", "status", "done", "subtasks"}
SUBTASK_KEYS = {"task_id", "subtask_id", "num", "device_id", "pretty_name", "file_name", "status", "done", "progress",
                "msg", "start_time", "stop_time"}
HISTORY_KEYS = {"task_id", "device_id", "file_name", "status", "msg", "start_time", "stop_time"}
GATHERED = ("staged_files", "devices", "models", "task", "history")


def deployed(name, size, source="LE"):
    return {"name": name, "path": "%s/%s" % (MODELS_DIR, name), "size": size, "deployment_source": source}


def device(device_id, hostname, pretty_name, online, models):
    return {"device_id": device_id, "hostname": hostname, "pretty_name": pretty_name, "online": online,
            "total_size": sum(model["size"] for model in models), "models": models}


# The demo fleet: the reference's Get Models example, then three devices of the simulator's own.
SJ_MODELS = [deployed("coco", 136145199), deployed("gasFive.tflite", 101132), deployed("motionModel", 5094648),
             deployed("savedmodel4", 511197), deployed(".ipynb_checkpoints", 0)]
DEMO_DEVICES = [
    device(SJ_OFFICE, "litmus-edge-94c6911b9c77", "Litmus Edge (94:c6:91:1b:9c:77)- SJ office sensor", True, SJ_MODELS),
    device(OFFLINE, "litmus-edge-080027b4a1c8", "Litmus Edge (08:00:27:b4:a1:c8)", False, [deployed("motionModel", 5094648)]),
    device(VM, "litmus-edge-005056b965c2", "VM", True, []),
    device("4nq8v2k7x1m3c9z5r0t6w2y8b", None, "Line 4 sensor", True, []),
    device("5p0d3f7h1j9l2n4q6s8u0w2y4", SHARED_HOSTNAME, "Line 5 sensor", True, []),
    device("6r1e4g8i2k0m3o5q7t9v1x3z5", SHARED_HOSTNAME, "Line 6 sensor", True, []),
]
DEMO_MODELS = [
    {"name": ".ipynb_checkpoints", "size": 0, "count": 1},
    {"name": "coco", "size": 136145199, "count": 1},
    {"name": "gasFive.tflite", "size": 101132, "count": 1},
    {"name": "motionModel", "size": 5094648, "count": 2},
    {"name": "savedmodel4", "size": 511197, "count": 1},
]


def sha(content):
    return hashlib.sha256(content).hexdigest()


def endpoints(sim):
    return [entry["endpoint"] for entry in sim.requests()]


def gathered(result):
    """The facts a result holds, by key."""
    return {key: result[key] for key in GATHERED if key in result}


def last_modified(sim, name):
    return next(item["lastModified"] for item in sim.state()["files"] if item["name"] == name)


def staged(sim, name, description):
    return {"name": name, "size": 0, "last_modified": last_modified(sim, name), "file_type": "mlModel",
            "description": description, "sha256": None}


def deploy(sim, file_name, device_ids):
    """Start a deployment through the simulator's API and wait until every subtask is done; returns the task id."""
    body = {
        "name": "Upload AI/ML Models (%d edge devices)" % len(device_ids),
        "projectId": sim.project_id,
        "subtasks": [{"deviceId": device_id, "num": num, "params": {"fileName": file_name}, "type": "ANALYTICS_ML_MODEL_UPLOAD"}
                     for num, device_id in enumerate(device_ids)],
        "type": "ANALYTICS_ML_MODEL_UPLOAD",
        "waitForOnline": False,
    }
    answer = requests.post(sim.url + "/api/v1/async-task/task-with-subtasks", json=body, timeout=10,
                           headers={"X-AuthToken": sim.token}, verify=sim.ca_path)
    assert answer.status_code == 200, answer.text
    task_id = answer.json()["taskId"]
    deadline = time.monotonic() + 10
    while not all(sub["done"] for sub in task_record(sim, task_id)["subtasks"]):
        assert time.monotonic() < deadline, task_record(sim, task_id)
        time.sleep(0.1)
    return task_id


def task_record(sim, task_id):
    return next(task for task in sim.state()["tasks"] if task["taskId"] == task_id)


def history_entry(subtask):
    return {"task_id": subtask["taskId"], "device_id": subtask["deviceId"], "file_name": subtask["params"]["fileName"],
            "status": subtask["status"], "msg": subtask["msg"], "start_time": subtask["startTime"],
            "stop_time": subtask["stopTime"]}


def assert_secret_free(run, sim):
    """Neither the token nor its Basic form anywhere in the run's output."""
    assert sim.token not in run.output
    assert base64.b64encode(("%s:" % sim.token).encode()).decode() not in run.output


def items(run):
    """Per-case results of the looped lem_model_info task of cases.yml; none of them changed anything."""
    results = run.task("Call lem_model_info for each case")["results"]
    assert all(result["changed"] is False for result in results), results
    return results


def test_default_gather_reads_staged_devices_and_models(sim, playbook):
    sim.reset(seed="demo")
    sim.stage_file("motionModel.zip", content=b"v3", description="Motion v3 [sha256:%s]" % sha(b"v3"))
    run = playbook("info.yml")
    assert run.rc == 0, run.output
    result = run.task("Call lem_model_info")
    assert result["changed"] is False
    assert sorted(gathered(result)) == ["devices", "models", "staged_files"]
    assert result["staged_files"] == [dict(staged(sim, "motionModel.zip", "Motion v3"), sha256=sha(b"v3"))]
    assert result["devices"] == DEMO_DEVICES
    assert result["models"] == DEMO_MODELS
    assert set(result["staged_files"][0]) == STAGED_KEYS
    assert all(set(item) == DEVICE_KEYS for item in result["devices"])
    assert all(set(model) == DEVICE_MODEL_KEYS for model in result["devices"][0]["models"])
    assert all(set(item) == MODEL_KEYS for item in result["models"])
    assert sorted(endpoints(sim)) == ["device_models", "file_list", "model_list"]


def test_each_gather_value_requests_only_its_own_endpoint(sim, playbook):
    sim.reset(seed="demo")
    sim.stage_file("gasFive.tflite", content=b"gas")
    task_id = deploy(sim, "gasFive.tflite", [VM])
    sim.clear_requests()
    cases = [{"gather": ["staged"]}, {"gather": ["devices"]}, {"gather": ["models"]},
             {"gather": ["task"], "task_id": task_id}, {"gather": ["history"]}]
    run = playbook("cases.yml", extra_vars={"info_cases": cases})
    assert run.rc == 0, run.output
    staged_only, devices_only, models_only, task_only, history_only = items(run)
    assert endpoints(sim) == ["file_list", "device_models", "model_list", "subtasks", "history"]

    assert gathered(staged_only) == {"staged_files": [staged(sim, "gasFive.tflite", "")]}
    assert list(gathered(devices_only)) == ["devices"]
    assert [item["device_id"] for item in devices_only["devices"]] == DEMO_IDS
    assert list(gathered(models_only)) == ["models"] and all(set(item) == MODEL_KEYS for item in models_only["models"])

    assert list(gathered(task_only)) == ["task"]
    task = task_only["task"]
    assert set(task) == TASK_KEYS
    assert (task["task_id"], task["status"], task["done"]) == (task_id, "SUCCESS", True)
    subtask = task_record(sim, task_id)["subtasks"][0]
    assert task["subtasks"] == [{
        "task_id": task_id, "subtask_id": subtask["id"], "num": 0, "device_id": VM, "pretty_name": "VM",
        "file_name": "gasFive.tflite", "status": "SUCCESS", "done": True, "progress": 1, "msg": None,
        "start_time": subtask["startTime"], "stop_time": subtask["stopTime"]}]
    assert set(task["subtasks"][0]) == SUBTASK_KEYS

    assert list(gathered(history_only)) == ["history"]
    assert history_only["history"] == [history_entry(subtask)]
    assert set(history_only["history"][0]) == HISTORY_KEYS


def test_sha256_comes_from_the_description_marker_and_the_description_is_shown_without_it(sim, playbook):
    digest = sha(b"a")
    descriptions = {
        "a.zip": "Motion v3 [sha256:%s]" % digest,
        "b.zip": "[sha256:%s]" % digest,
        "c.zip": "uploaded in the UI",
        "d.zip": "",
        "e.zip": "[sha256:%s]" % digest.upper(),
        "f.zip": "see [sha256:%s] first" % digest,
    }
    for name, description in descriptions.items():
        sim.stage_file(name, content=name.encode(), description=description)
    run = playbook("info.yml", extra_vars={"info": {"gather": ["staged"]}})
    assert run.rc == 0, run.output
    files = {item["name"]: (item["description"], item["sha256"]) for item in run.task("Call lem_model_info")["staged_files"]}
    assert files == {
        "a.zip": ("Motion v3", digest),
        "b.zip": ("", digest),
        "c.zip": ("uploaded in the UI", None),
        "d.zip": ("", None),
        "e.zip": (descriptions["e.zip"], None),
        "f.zip": (descriptions["f.zip"], None),
    }


def test_online_when_either_of_lems_flags_says_so(sim, playbook):
    flags = [{"isOnline": False, "online": True}, {"isOnline": True, "online": False}, {"isOnline": True},
             {"online": True}, {"isOnline": False, "online": False}, {}]
    elements = [dict(flag, deviceId="device%d" % number, hostname="host%d" % number, prettyName="Device %d" % number,
                     totalSize=0, models=[])
                for number, flag in enumerate(flags)]
    sim.add_fault(endpoint="device_models", action="json",
                  body={"pageNum": 0, "pagesCount": 1, "size": len(elements), "totalSize": len(elements), "elements": elements})
    run = playbook("info.yml", extra_vars={"info": {"gather": ["devices"]}})
    assert run.rc == 0, run.output
    devices = run.task("Call lem_model_info")["devices"]
    assert [item["online"] for item in devices] == [True, True, True, True, False, False]


def test_the_name_filter_narrows_every_list_by_file_name_or_deployed_name(sim, playbook):
    sim.reset(seed="demo")
    for name in ("motionModel.zip", "gasFive.tflite", "coco.zip"):
        sim.stage_file(name, content=name.encode())
    cases = [{"name": "motionModel.zip"}, {"name": "motionModel"}, {"name": "gasFive.tflite"}, {"name": "coco.zip"},
             {"name": "absent.zip"}]
    run = playbook("cases.yml", extra_vars={"info_cases": cases})
    assert run.rc == 0, run.output
    by_file, by_deployed_name, tflite, coco, absent = items(run)

    def narrowed(model_name):
        return [dict(item, models=[model for model in item["models"] if model["name"] == model_name]) for item in DEMO_DEVICES]

    assert gathered(by_file) == {
        "staged_files": [staged(sim, "motionModel.zip", "")],
        "devices": narrowed("motionModel"),
        "models": [{"name": "motionModel", "size": 5094648, "count": 2}],
    }
    assert gathered(by_deployed_name) == gathered(by_file)
    assert gathered(tflite) == {
        "staged_files": [staged(sim, "gasFive.tflite", "")],
        "devices": narrowed("gasFive.tflite"),
        "models": [{"name": "gasFive.tflite", "size": 101132, "count": 1}],
    }
    assert [item["name"] for item in coco["staged_files"]] == ["coco.zip"]
    assert [item["models"] for item in coco["devices"]] == [[deployed("coco", 136145199)]] + [[]] * 5
    assert coco["models"] == [{"name": "coco", "size": 136145199, "count": 1}]
    assert gathered(absent) == {"staged_files": [], "devices": narrowed("absent"), "models": []}


def test_the_devices_filter_takes_ids_hostnames_and_pretty_names(sim, playbook):
    sim.reset(seed="demo")
    cases = [
        {"gather": ["devices", "models"],
         "devices": [OFFLINE, "litmus-edge-005056b965c2", "Litmus Edge (94:c6:91:1b:9c:77)- SJ office sensor"]},
        {"gather": ["devices", "models"], "devices": [SJ_OFFICE], "name": "motionModel.zip"},
        {"gather": ["devices"], "devices": ["Line 4 sensor", VM, "VM"]},
        {"gather": ["devices"], "devices": ["no-such-device"]},
        {"gather": ["devices"], "devices": [SHARED_HOSTNAME]},
    ]
    run = playbook("cases.yml", extra_vars={"info_cases": cases})
    three, one_model, no_hostname, unknown, shared = items(run)

    assert three["devices"] == [DEMO_DEVICES[1], DEMO_DEVICES[2], DEMO_DEVICES[0]]
    by_name = sorted(three["models"], key=lambda model: model["name"])
    assert by_name == DEMO_MODELS  # the three hold every model of the project
    assert one_model["devices"] == [dict(DEMO_DEVICES[0], models=[deployed("motionModel", 5094648)])]
    assert one_model["models"] == [{"name": "motionModel", "size": 5094648, "count": 1}]
    assert [item["device_id"] for item in no_hostname["devices"]] == ["4nq8v2k7x1m3c9z5r0t6w2y8b", VM]

    assert unknown["failed"] is True and "devices" not in unknown
    assert unknown["msg"].startswith("'no-such-device' matches no device. Devices of the project: ")
    assert all(device_id in unknown["msg"] for device_id in DEMO_IDS), unknown["msg"]
    assert "Line 4 sensor (4nq8v2k7x1m3c9z5r0t6w2y8b)" in unknown["msg"]
    assert shared["failed"] is True
    assert shared["msg"].startswith("'%s' matches 2 devices: %s (5p0d3f7h1j9l2n4q6s8u0w2y4), %s (6r1e4g8i2k0m3o5q7t9v1x3z5); "
                                    "use a device id." % (SHARED_HOSTNAME, SHARED_HOSTNAME, SHARED_HOSTNAME)), shared["msg"]
    assert endpoints(sim) == ["device_models"] * 5
    assert_secret_free(run, sim)


def test_every_page_is_read(sim, playbook):
    sim.reset(device_count=7)
    sim.configure(max_page_size=2)
    for number in range(5):
        sim.stage_file("model%d.zip" % number, content=b"%d" % number)
    ids = [item["deviceId"] for item in sim.state()["devices"]]
    task_id = deploy(sim, "model0.zip", ids)
    sim.clear_requests()
    run = playbook("info.yml", extra_vars={"info": {"gather": ["staged", "devices", "models", "history"]}})
    assert run.rc == 0, run.output
    result = run.task("Call lem_model_info")
    assert [item["name"] for item in result["staged_files"]] == ["model%d.zip" % number for number in range(5)]
    assert [item["device_id"] for item in result["devices"]] == ids
    assert all([model["name"] for model in item["models"]] == ["model0"] for item in result["devices"])
    assert result["models"] == [{"name": "model0", "size": 1, "count": 7}]
    assert sorted(entry["device_id"] for entry in result["history"]) == sorted(ids)
    assert {entry["task_id"] for entry in result["history"]} == {task_id}

    asked = [(entry["endpoint"], entry["query"].get("requestedPage"), entry["status"]) for entry in sim.requests()]
    assert asked == ([("device_models", str(page), 200) for page in range(4)]
                     + [("file_list", str(page), 200) for page in range(3)]
                     + [("model_list", None, 200)]
                     + [("history", str(page), 200) for page in range(4)])
    paged = [entry for entry in sim.requests() if entry["endpoint"] != "model_list"]
    assert all(entry["query"]["pageSize"] == entry["query"]["limit"] == "100" for entry in paged)


def test_history_newest_first_task_state_filters_and_failures(sim, playbook):
    sim.reset(seed="demo")
    sim.stage_file("motionModel.zip", content=b"motion")
    sim.stage_file("gasFive.tflite", content=b"gas")
    first = deploy(sim, "motionModel.zip", [SJ_OFFICE, OFFLINE])
    on_sj_office, on_offline = task_record(sim, first)["subtasks"]
    on_vm = task_record(sim, deploy(sim, "gasFive.tflite", [VM]))["subtasks"][0]
    assert (on_sj_office["status"], on_offline["status"], on_offline["msg"]) == ("SUCCESS", "FAILED", "Device is offline")
    # The first history answer lists the oldest deployment first: the module orders it itself.
    sim.add_fault(endpoint="history", action="json", times=1,
                  body={"pageNum": 0, "pagesCount": 1, "size": 3, "totalSize": 3, "elements": [on_sj_office, on_offline, on_vm]})
    sim.clear_requests()
    cases = [
        {"label": "all", "gather": ["history"]},
        {"label": "deployed name", "gather": ["history"], "name": "motionModel"},
        {"label": "file name", "gather": ["history"], "name": "motionModel.zip"},
        {"label": "one device", "gather": ["history"], "devices": ["VM"]},
        {"label": "task", "gather": ["task"], "task_id": first},
        {"label": "task on one device", "gather": ["task"], "task_id": first, "devices": [SJ_OFFICE]},
        {"label": "task of another file", "gather": ["task"], "task_id": first, "name": "gasFive.tflite"},
        {"label": "unknown task", "gather": ["task"], "task_id": "no-such-task"},
        {"label": "no task id", "gather": ["task"]},
        {"label": "unknown project", "gather": ["history"], "project_id": "no-such-project"},
    ]
    run = playbook("cases.yml", extra_vars={"info_cases": cases})
    result = {item["item"]["label"]: item for item in items(run)}

    newest_first = [history_entry(on_vm), history_entry(on_sj_office), history_entry(on_offline)]
    assert result["all"]["history"] == newest_first
    assert result["deployed name"]["history"] == newest_first[1:]
    assert result["file name"]["history"] == newest_first[1:]
    assert result["one device"]["history"] == newest_first[:1]

    task = result["task"]["task"]
    assert (task["task_id"], task["status"], task["done"]) == (first, "FAILED", True)
    assert [(item["device_id"], item["status"], item["msg"]) for item in task["subtasks"]] == [
        (SJ_OFFICE, "SUCCESS", None), (OFFLINE, "FAILED", "Device is offline")]
    assert result["task on one device"]["task"]["status"] == "SUCCESS"
    assert [item["device_id"] for item in result["task on one device"]["task"]["subtasks"]] == [SJ_OFFICE]
    assert result["task of another file"]["task"]["subtasks"] == []

    assert result["unknown task"]["failed"] is True
    assert result["unknown task"]["msg"] == (
        "LEM at %s has no task no-such-task (404 Not Found): check the task id; it is known only to the LEM that "
        "started the task. LEM said: task no-such-task not found" % sim.url)
    assert result["no task id"]["failed"] is True
    assert result["no task id"]["msg"] == (
        "gather holds task but task_id is not set: give the task id that lem_model_deploy returned.")
    assert result["unknown project"]["failed"] is True and "history" not in result["unknown project"]
    assert result["unknown project"]["msg"] == (
        "LEM found nothing at GET /api/v1/async-task/subtasks (404 Not Found, for the task history (page 0)): "
        "check project_id (no-such-project) and that lem_url is a Litmus Edge Manager that offers this API.")

    assert [(entry["endpoint"], entry["status"]) for entry in sim.requests()] == [
        ("history", 200), ("history", 200), ("history", 200), ("device_models", 200), ("history", 200),
        ("subtasks", 200), ("device_models", 200), ("subtasks", 200), ("subtasks", 200), ("subtasks", 404),
        ("history", 404)]
    assert run.task("Call lem_model_info for each case").get("warnings", []) == []
    assert_secret_free(run, sim)


def test_a_lem_without_task_history_gives_an_empty_history_and_a_warning(sim, playbook):
    sim.configure(history=False)
    run = playbook("info.yml", extra_vars={"info": {"gather": ["history"]}})
    assert run.rc == 0, run.output
    result = run.task("Call lem_model_info")
    assert result["changed"] is False and result["history"] == []
    assert result["warnings"] == [
        "This LEM has no task history endpoint (404 on /api/v1/async-task/subtasks): history is empty."]
    assert [(entry["endpoint"], entry["status"]) for entry in sim.requests()] == [("history", 404)]


def test_check_mode_reads_the_same_and_changes_nothing(sim, playbook):
    sim.reset(seed="demo")
    sim.stage_file("motionModel.zip", content=b"v3")
    run = playbook("info.yml", check=True)
    assert run.rc == 0, run.output
    result = run.task("Call lem_model_info")
    assert result["changed"] is False
    assert result["devices"] == DEMO_DEVICES and result["models"] == DEMO_MODELS
    assert result["staged_files"] == [staged(sim, "motionModel.zip", "")]
    assert all(entry["method"] == "GET" for entry in sim.requests())
