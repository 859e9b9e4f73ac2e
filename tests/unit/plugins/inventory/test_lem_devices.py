"""The inventory plugin's rules without HTTP: host names, host variables, group names, source files."""

import pytest

from ansible_collections.litmus.lem.plugins.inventory.lem_devices import InventoryModule, model_group
from ansible_collections.litmus.lem.plugins.module_utils._models import inventory_hosts, model_names


def device(device_id, hostname=None, online=True, models=(), pretty=None):
    return {"deviceId": device_id, "hostname": hostname, "prettyName": pretty or "Device %s" % device_id,
            "isOnline": online, "online": online, "models": [{"name": name, "size": 1} for name in models]}


def names(devices):
    return [name for name, _host_vars in inventory_hosts(devices)]


# ---- host names ----------------------------------------------------------------------------------------

def test_a_device_is_named_by_its_hostname():
    assert names([device("id1", "edge-1"), device("id2", "edge-2")]) == ["edge-1", "edge-2"]


@pytest.mark.parametrize("hostname", [None, "", "   "])
def test_a_device_without_hostname_is_named_by_its_id(hostname):
    assert names([device("id1", hostname), device("id2", "edge-2")]) == ["id1", "edge-2"]


def test_devices_sharing_a_hostname_are_all_named_by_their_ids():
    fleet = [device("id1", "edge-1"), device("id2", "shared"), device("id3", "shared"), device("id4", "edge-4")]
    assert names(fleet) == ["edge-1", "id2", "id3", "edge-4"]


def test_a_hostname_that_is_another_devices_id_is_not_used():
    assert names([device("id1"), device("id2", "id1")]) == ["id1", "id2"]


def test_a_hostname_equal_to_the_devices_own_id_is_fine():
    assert names([device("id1", "id1")]) == ["id1"]


def test_a_device_listed_twice_is_one_host_from_its_first_record():
    hosts = inventory_hosts([device("id1", "edge-1", models=["a"]), device("id1", "edge-1", models=["b"])])
    assert [(name, host_vars["lem_models"]) for name, host_vars in hosts] == [("edge-1", ["a"])]


def test_a_record_without_device_id_is_left_out_and_does_not_make_a_hostname_shared():
    fleet = [{"hostname": "edge-1", "isOnline": True}, device("id1", "edge-1")]
    assert names(fleet) == ["edge-1"]


def test_the_order_is_lems():
    fleet = [device("z", "zulu"), device("a", "alpha"), device("m")]
    assert names(fleet) == ["zulu", "alpha", "m"]


# ---- host variables ------------------------------------------------------------------------------------

def test_host_variables_are_exactly_the_documented_ones():
    record = dict(device("1a5wiavluwxuhwai5leb1v0hc", "litmus-edge-94c6911b9c77", models=["coco", "motionModel"],
                         pretty="SJ office sensor"), totalSize=5, projectId="p")
    assert inventory_hosts([record]) == [("litmus-edge-94c6911b9c77", {
        "lem_device_id": "1a5wiavluwxuhwai5leb1v0hc",
        "lem_hostname": "litmus-edge-94c6911b9c77",
        "lem_pretty_name": "SJ office sensor",
        "lem_online": True,
        "lem_models": ["coco", "motionModel"],
    })]


def test_lem_hostname_stays_as_lem_gives_it():
    assert inventory_hosts([device("id1", None)])[0][1]["lem_hostname"] is None


@pytest.mark.parametrize("flags, online", [
    ({"isOnline": True}, True),
    ({"online": True}, True),
    ({"isOnline": False, "online": True}, True),
    ({"isOnline": False, "online": False}, False),
    ({}, False),
])
def test_online_when_either_flag_says_so(flags, online):
    record = dict({"deviceId": "id1", "hostname": "edge-1"}, **flags)
    value = inventory_hosts([record])[0][1]["lem_online"]
    assert value is online


def test_model_names_keep_lems_order_once_each_without_empty_names():
    record = {"models": [{"name": "b"}, {"name": "a"}, {"name": "b"}, {"name": ""}, {"name": None}, {"size": 3}, "junk"]}
    assert model_names(record) == ["b", "a"]


@pytest.mark.parametrize("models", [None, []])
def test_a_device_without_models_has_an_empty_list(models):
    assert model_names({"models": models}) == []


# ---- groups and source files ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, group", [
    ("motionModel", "lem_model_motionModel"),
    ("gasFive.tflite", "lem_model_gasFive_tflite"),
    (".ipynb_checkpoints", "lem_model__ipynb_checkpoints"),
    ("my model-v2", "lem_model_my_model_v2"),
    ("2024_model", "lem_model_2024_model"),
])
def test_model_groups_replace_characters_invalid_in_group_names(name, group):
    assert model_group(name) == group


@pytest.mark.parametrize("file_name, accepted", [
    ("lem_devices.yml", True),
    ("plant.lem_devices.yaml", True),
    ("site_lem_devices.yml", True),
    ("devices.yml", False),
    ("lem_devices.yml.bak", False),
    ("lem_devices.json", False),
])
def test_only_files_named_lem_devices_yml_or_yaml_are_sources(tmp_path, file_name, accepted):
    path = tmp_path / file_name
    path.write_text("plugin: litmus.lem.lem_devices\n")
    assert InventoryModule().verify_file(str(path)) is accepted


def test_a_missing_file_is_not_a_source(tmp_path):
    assert InventoryModule().verify_file(str(tmp_path / "lem_devices.yml")) is False
