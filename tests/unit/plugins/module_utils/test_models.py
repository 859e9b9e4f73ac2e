"""The pure rules: file names, the content marker, deployed names, device matching, currency."""

import hashlib

import pytest

from ansible_collections.litmus.lem.plugins.module_utils._models import (
    InputError,
    aggregate_models,
    check_file_name,
    deployed_name,
    device_facts,
    file_sha256,
    is_current,
    join_description,
    latest_successes,
    matches_model,
    newest_first,
    resolve_devices,
    split_description,
    staged_file_facts,
    subtask_done,
    task_status,
)

HEX = "ab" * 32


# ---- file names ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["motionModel.zip", "my model.zip", "modèle-é.tflite", "a" * 255, "é" * 127, ".hidden"])
def test_good_names_pass(name):
    assert check_file_name(name) == name


@pytest.mark.parametrize("name, words", [
    ("", "empty"),
    (None, "empty"),
    (".", "not a file name"),
    ("..", "not a file name"),
    ("../x.zip", "path separator"),
    ("a/b.zip", "path separator"),
    ("a\\b.zip", "path separator"),
    ("a\x00b.zip", "control character"),
    ("a\nb.zip", "control character"),
    ("a\x7fb.zip", "control character"),
    ("a\x85b.zip", "control character"),
    ("a" * 256, "256 bytes"),
    ("é" * 128, "256 bytes"),
])
def test_bad_names_are_refused_with_the_reason(name, words):
    with pytest.raises(InputError) as error:
        check_file_name(name)
    assert words in str(error.value)


def test_deployed_name_drops_only_a_zip_extension():
    assert deployed_name("motionModel.zip") == "motionModel"
    assert deployed_name("motionModel.ZIP") == "motionModel"
    assert deployed_name("gasFive.tflite") == "gasFive.tflite"
    assert deployed_name(".zip") == ".zip"


def test_a_model_matches_by_file_or_deployed_name():
    assert matches_model("motionModel", "motionModel.zip")
    assert matches_model("motionModel.zip", "motionModel")
    assert matches_model("motionModel.zip", "motionModel.zip")
    assert not matches_model("motionModel2", "motionModel.zip")


# ---- the content marker ------------------------------------------------------------------------------------

@pytest.mark.parametrize("stored, description, sha", [
    ("[sha256:%s]" % HEX, "", HEX),
    ("Motion v3 [sha256:%s]" % HEX, "Motion v3", HEX),
    ("Motion v3", "Motion v3", None),
    ("", "", None),
    (None, "", None),
    ("Motion [sha256:%s" % HEX, "Motion [sha256:%s" % HEX, None),
    ("[sha256:%s]" % HEX.upper(), "[sha256:%s]" % HEX.upper(), None),
    ("x [sha256:abc]", "x [sha256:abc]", None),
])
def test_split_description(stored, description, sha):
    assert split_description(stored) == (description, sha)


@pytest.mark.parametrize("description", ["", "Motion v3", "  spaced  ", "with [brackets]"])
def test_join_then_split_gives_back_description_and_hash(description):
    stored = join_description(description, HEX)
    assert split_description(stored) == (description.strip(), HEX)
    assert stored.endswith("[sha256:%s]" % HEX)


def test_empty_description_stores_the_marker_alone():
    assert join_description("", HEX) == "[sha256:%s]" % HEX


def test_file_sha256_matches_hashlib(tmp_path):
    data = bytes(range(256)) * 40000
    path = tmp_path / "m.bin"
    path.write_bytes(data)
    assert file_sha256(str(path)) == hashlib.sha256(data).hexdigest()


def test_staged_file_facts_show_description_without_marker():
    facts = staged_file_facts({"name": "m.zip", "size": 0, "lastModified": 5, "fileType": "mlModel",
                               "description": "v3 [sha256:%s]" % HEX})
    assert facts == {"name": "m.zip", "size": 0, "last_modified": 5, "file_type": "mlModel", "description": "v3", "sha256": HEX}


# ---- devices ----------------------------------------------------------------------------------------------

FLEET = [
    {"deviceId": "id1", "hostname": "edge-1", "prettyName": "Line 1", "isOnline": True, "models": []},
    {"deviceId": "id2", "hostname": "edge-2", "prettyName": "Shared", "isOnline": False, "online": True, "models": []},
    {"deviceId": "id3", "hostname": "edge-3", "prettyName": "Shared", "isOnline": False, "models": []},
]


def test_devices_resolve_by_id_hostname_and_pretty_name_in_order_without_duplicates():
    chosen = resolve_devices(["Line 1", "id2", "edge-3", "edge-1", "id1"], FLEET)
    assert [device["deviceId"] for device in chosen] == ["id1", "id2", "id3"]


def test_all_means_every_device():
    assert [device["deviceId"] for device in resolve_devices(["all"], FLEET)] == ["id1", "id2", "id3"]


def test_unknown_and_ambiguous_names_fail_listing_candidates():
    with pytest.raises(InputError) as error:
        resolve_devices(["nope", "Shared"], FLEET)
    text = str(error.value)
    assert "'nope' matches no device" in text
    assert "'Shared' matches 2 devices" in text and "use a device id" in text
    assert "edge-1 (id1)" in text


def test_an_id_wins_over_a_name_that_equals_another_devices_id():
    fleet = FLEET + [{"deviceId": "id4", "hostname": "id1", "prettyName": "x"}]
    assert [device["deviceId"] for device in resolve_devices(["id1"], fleet)] == ["id1"]


@pytest.mark.parametrize("requested", [[], [""], ["all", "id1"]])
def test_empty_or_mixed_all_is_refused(requested):
    with pytest.raises(InputError):
        resolve_devices(requested, FLEET)


def test_online_when_either_flag_says_so():
    assert [device_facts(device)["online"] for device in FLEET] == [True, True, False]


def test_device_facts_filter_models_by_name():
    device = {"deviceId": "x", "models": [{"name": "motionModel", "absolutePath": "/m", "size": 3, "deploymentSource": "LE"},
                                          {"name": "coco"}]}
    facts = device_facts(device, "motionModel.zip")
    assert facts["models"] == [{"name": "motionModel", "path": "/m", "size": 3, "deployment_source": "LE"}]


# ---- currency ------------------------------------------------------------------------------------------

def success(device_id, stop, file_name="m.zip", status="SUCCESS"):
    return {"deviceId": device_id, "status": status, "stopTime": stop, "params": {"fileName": file_name}}


HOLDER = {"deviceId": "d", "models": [{"name": "m"}]}


def current(device, last_modified, history):
    return is_current(device, "m.zip", last_modified, latest_successes(history, "m.zip"))


def test_a_device_without_the_model_is_not_current():
    assert not current({"deviceId": "d", "models": []}, 100, [success("d", 200)])


def test_a_device_with_a_deployment_since_the_upload_is_current():
    assert current(HOLDER, 100, [success("d", 50), success("d", 100)])


def test_a_device_holding_an_older_upload_is_not_current():
    assert not current(HOLDER, 100, [success("d", 99)])


def test_only_successful_deployments_of_this_file_on_this_device_count():
    history = [success("d", 200, status="FAILED"), success("other", 200), success("d", 200, file_name="x.zip")]
    assert not current(HOLDER, 100, history)


def test_latest_successes_keeps_the_newest_per_device():
    history = [success("d", 5), success("d", 9), success("e", 3), success("d", 7), success("e", None)]
    assert latest_successes(history, "m.zip") == {"d": 9, "e": 3}


def test_without_history_listing_the_model_is_enough():
    assert is_current(HOLDER, "m.zip", 100, None)


def test_newest_first_orders_history():
    records = [{"createdOn": 1}, {"createdOn": 3}, {"stopTime": 2}]
    assert [r.get("createdOn", r.get("stopTime")) for r in newest_first(records)] == [3, 2, 1]


@pytest.mark.parametrize("subtasks, status", [
    ([{"done": True, "status": "SUCCESS"}] * 2, "SUCCESS"),
    ([{"done": True, "status": "SUCCESS"}, {"done": True, "status": "FAILED"}], "FAILED"),
    ([{"done": True, "status": "SUCCESS"}, {"done": True, "status": "CANCELLED"}], "FAILED"),
    ([{"done": True, "status": "SUCCESS"}, {"done": False, "status": "IN_PROGRESS"}], "IN_PROGRESS"),
    ([{"done": False, "status": "PENDING"}], "PENDING"),
    ([], "PENDING"),
])
def test_task_status(subtasks, status):
    assert task_status(subtasks) == status


def test_aggregate_models_counts_devices():
    devices = [{"models": [{"name": "a", "size": 1}, {"name": "b", "size": 2}]}, {"models": [{"name": "a", "size": 1}]}]
    assert sorted(aggregate_models(devices), key=lambda m: m["name"]) == [
        {"name": "a", "size": 1, "count": 2}, {"name": "b", "size": 2, "count": 1}]


# ---- batches ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("count, sizes, expected", [
    (5, [], [5]),
    (5, [1], [1, 1, 1, 1, 1]),
    (10, [1, "20%", "50%"], [1, 2, 5, 2]),
    (10, [2, 3], [2, 3, 3, 2]),
    (3, ["10%"], [1, 1, 1]),
    (3, [0], [3]),
    (4, [1, 0], [1, 3]),
    (0, [1], []),
    (7, ["100%"], [7]),
    (7, [" 2 "], [2, 2, 2, 1]),
])
def test_rollout_batches_follow_serial(count, sizes, expected):
    from ansible_collections.litmus.lem.plugins.module_utils._models import rollout_batches
    batches = rollout_batches(list(range(count)), sizes)
    assert [len(batch) for batch in batches] == expected
    assert [item for batch in batches for item in batch] == list(range(count))


@pytest.mark.parametrize("size", ["ten", "-5%", True, "5 %x"])
def test_bad_batch_sizes_are_refused(size):
    from ansible_collections.litmus.lem.plugins.module_utils._models import rollout_batches
    with pytest.raises(InputError) as error:
        rollout_batches([1, 2], [size])
    assert "batch size" in str(error.value)


# ---- answers with keys missing ----------------------------------------------------------------------------

def test_a_device_record_without_an_id_is_left_out():
    fleet = FLEET + [{"hostname": "ghost", "prettyName": "Line 1"}]
    assert [device["deviceId"] for device in resolve_devices(["all"], fleet)] == ["id1", "id2", "id3"]
    assert [device["deviceId"] for device in resolve_devices(["Line 1"], fleet)] == ["id1"]


@pytest.mark.parametrize("subtask, done", [
    ({"done": True, "status": "CANCELLED"}, True),
    ({"done": False, "status": "SUCCESS"}, False),
    ({"status": "SUCCESS"}, True),
    ({"status": "FAILED"}, True),
    ({"status": "IN_PROGRESS"}, False),
    ({"status": "QUEUED"}, False),
    ({}, False),
])
def test_a_subtask_without_done_is_done_with_a_final_status(subtask, done):
    assert subtask_done(subtask) is done
    assert task_status([subtask]) == ("PENDING" if not done and subtask.get("status") in (None, "PENDING") else
                                      "IN_PROGRESS" if not done else
                                      "SUCCESS" if subtask.get("status") == "SUCCESS" else "FAILED")


def test_device_models_match_by_the_deployed_name_only():
    from ansible_collections.litmus.lem.plugins.module_utils._models import is_deployed_as, lists_model
    device = {"deviceId": "d", "models": [{"name": "motionModel.zip"}]}
    assert not lists_model(device, "motionModel.zip")
    assert device_facts(device, "motionModel.zip")["models"] == []
    assert is_deployed_as("motionModel", "motionModel.zip") and is_deployed_as("motionModel", "motionModel")
