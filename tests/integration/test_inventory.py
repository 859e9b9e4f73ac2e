"""The inventory plugin litmus.lem.lem_devices through ansible-inventory and ansible-playbook, against the LEM simulator."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.litmus.lem.plugins.module_utils._module import CONNECTION_ARGUMENT_SPEC
from tests.integration.conftest import lem_environment
from tests.simulator import Simulator

ANSIBLE_INVENTORY = str(Path(sys.executable).with_name("ansible-inventory"))
ANSIBLE_DOC = str(Path(sys.executable).with_name("ansible-doc"))
ANSIBLE_VAULT = str(Path(sys.executable).with_name("ansible-vault"))

# The demo fleet (tests/simulator/README.md): the reference's three devices, one without a hostname, two sharing one.
SJ, OFFLINE, VM = "litmus-edge-94c6911b9c77", "litmus-edge-080027b4a1c8", "litmus-edge-005056b965c2"
NO_HOSTNAME, SHARED_1, SHARED_2 = "4nq8v2k7x1m3c9z5r0t6w2y8b", "5p0d3f7h1j9l2n4q6s8u0w2y4", "6r1e4g8i2k0m3o5q7t9v1x3z5"
DEMO_VARS = {
    SJ: {"lem_device_id": "1a5wiavluwxuhwai5leb1v0hc", "lem_hostname": SJ,
         "lem_pretty_name": "Litmus Edge (94:c6:91:1b:9c:77)- SJ office sensor", "lem_online": True,
         "lem_models": ["coco", "gasFive.tflite", "motionModel", "savedmodel4", ".ipynb_checkpoints"]},
    OFFLINE: {"lem_device_id": "3y0vcdju38zvqjrlm5lcpm1l", "lem_hostname": OFFLINE,
              "lem_pretty_name": "Litmus Edge (08:00:27:b4:a1:c8)", "lem_online": False, "lem_models": ["motionModel"]},
    VM: {"lem_device_id": "vkrih85ka6fn7zcofirk20vs", "lem_hostname": VM, "lem_pretty_name": "VM", "lem_online": True,
         "lem_models": []},
    NO_HOSTNAME: {"lem_device_id": NO_HOSTNAME, "lem_hostname": None, "lem_pretty_name": "Line 4 sensor",
                  "lem_online": True, "lem_models": []},
    SHARED_1: {"lem_device_id": SHARED_1, "lem_hostname": "litmus-edge-0242ac110002", "lem_pretty_name": "Line 5 sensor",
               "lem_online": True, "lem_models": []},
    SHARED_2: {"lem_device_id": SHARED_2, "lem_hostname": "litmus-edge-0242ac110002", "lem_pretty_name": "Line 6 sensor",
               "lem_online": True, "lem_models": []},
}
LACKING_MOTION = {VM, NO_HOSTNAME, SHARED_1, SHARED_2}


def source(tmp_path, options=None, name="lem_devices.yml"):
    """An inventory source file for the plugin with these options."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(dict({"plugin": "litmus.lem.lem_devices"}, **(options or {}))))
    return path


def ansible_inventory(sim, path, *args, env=None, lem=True):
    """Run ansible-inventory on one source; a source that fails to parse fails the run."""
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith(("LEM_", "ANSIBLE_INVENTORY_CACHE", "ANSIBLE_CACHE_PLUGIN"))}
    environment.update({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"})
    if lem:
        environment.update(lem_environment(sim))
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run([ANSIBLE_INVENTORY, "-i", str(path)] + list(args), env=environment, capture_output=True,
                          text=True, timeout=300, check=False)


def plain(value):
    """ansible-inventory's JSON with the marks of untrusted strings ({"__ansible_unsafe": text}) taken off."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def inventory_json(stdout):
    """The JSON document of --list output, after what -v and more print before it."""
    return plain(json.loads(stdout[stdout.index("{\n"):]))


def listing(sim, path, *args, **kwargs):
    done = ansible_inventory(sim, path, "--list", *args, **kwargs)
    assert done.returncode == 0, done.stderr
    return inventory_json(done.stdout)


def groups(data):
    """{group: set of hosts} of an --list answer, hosts of child groups not included."""
    return {name: set(group.get("hosts", [])) for name, group in data.items() if name != "_meta"}


def device_requests(sim):
    return sim.requests("device_models")


# ---- hosts, variables, groups ------------------------------------------------------------------------

def test_demo_fleet_hosts_and_their_variables(sim, tmp_path):
    sim.reset(seed="demo")
    data = listing(sim, source(tmp_path))
    assert data["_meta"]["hostvars"] == DEMO_VARS  # no connection variables, nothing else


def test_demo_fleet_groups_online_offline_and_per_model(sim, tmp_path):
    sim.reset(seed="demo")
    found = groups(listing(sim, source(tmp_path)))
    assert found["lem_online"] == {SJ, VM, NO_HOSTNAME, SHARED_1, SHARED_2}
    assert found["lem_offline"] == {OFFLINE}
    assert found["lem_model_motionModel"] == {SJ, OFFLINE}
    for group in ("lem_model_coco", "lem_model_gasFive_tflite", "lem_model_savedmodel4", "lem_model__ipynb_checkpoints"):
        assert found[group] == {SJ}
    assert {name for name in found if name.startswith("lem_model_")} == {
        "lem_model_coco", "lem_model_gasFive_tflite", "lem_model_motionModel", "lem_model_savedmodel4",
        "lem_model__ipynb_checkpoints"}


def test_graph_shows_the_groups(sim, tmp_path):
    sim.reset(seed="demo")
    path = source(tmp_path)
    done = ansible_inventory(sim, path, "--graph", "lem_model_motionModel")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["@lem_model_motionModel:", "  |--%s" % SJ, "  |--%s" % OFFLINE]
    done = ansible_inventory(sim, path, "--graph")
    assert done.returncode == 0, done.stderr
    assert "  |--@lem_offline:\n  |  |--%s\n" % OFFLINE in done.stdout
    assert "  |--@lem_model_gasFive_tflite:\n  |  |--%s\n" % SJ in done.stdout


def test_groups_follow_the_devices_state(sim, tmp_path):
    fleet = sim.state()["devices"]
    sim.set_device(fleet[0]["deviceId"], online=False, models=[{"name": "my model v2.onnx", "size": 3}])
    found = groups(listing(sim, source(tmp_path)))
    assert found["lem_offline"] == {fleet[0]["hostname"]}
    assert found["lem_online"] == {device["hostname"] for device in fleet[1:]}
    assert found["lem_model_my_model_v2_onnx"] == {fleet[0]["hostname"]}


def test_both_online_groups_exist_when_empty(sim, tmp_path):
    data = listing(sim, source(tmp_path))
    assert "lem_offline" in data["all"]["children"] and groups(data).get("lem_offline", set()) == set()


def test_every_page_is_read(sim, tmp_path):
    sim.reset(device_count=23)
    sim.configure(max_page_size=5)
    data = listing(sim, source(tmp_path))
    expected = {device["hostname"] for device in sim.state()["devices"]}
    assert len(expected) == 23 and set(data["_meta"]["hostvars"]) == expected
    assert [entry["query"]["requestedPage"] for entry in device_requests(sim)] == ["0", "1", "2", "3", "4"]


def test_odd_records_from_lem(sim, tmp_path):
    """A plain array, only one of the online flags, an empty hostname, a hostname that is another device's id,
    models null, a record without a device id."""
    sim.add_fault("device_models", "json", body=[
        {"deviceId": "d1", "hostname": "", "prettyName": "Empty hostname", "online": True, "models": [{"name": "m.onnx"}]},
        {"deviceId": "d2", "hostname": "d1", "prettyName": "Hostname is d1", "isOnline": False, "models": None},
        {"deviceId": "d3", "hostname": "edge-3", "prettyName": "Only isOnline", "isOnline": True,
         "models": [{"name": "m.onnx"}, {"name": "coco"}]},
        {"hostname": "ghost", "prettyName": "No device id", "isOnline": True, "models": []},
    ])
    done = ansible_inventory(sim, source(tmp_path), "--list")
    assert done.returncode == 0, done.stderr
    data = inventory_json(done.stdout)
    assert set(data["_meta"]["hostvars"]) == {"d1", "d2", "edge-3"}
    assert data["_meta"]["hostvars"]["d2"] == {"lem_device_id": "d2", "lem_hostname": "d1", "lem_pretty_name": "Hostname is d1",
                                               "lem_online": False, "lem_models": []}
    found = groups(data)
    assert found["lem_online"] == {"d1", "edge-3"} and found["lem_offline"] == {"d2"}
    assert found["lem_model_m_onnx"] == {"d1", "edge-3"} and found["lem_model_coco"] == {"edge-3"}
    assert "1 device record(s) without a deviceId" in " ".join(done.stderr.split())


# ---- constructed ---------------------------------------------------------------------------------------

def test_compose_keyed_groups_and_groups(sim, tmp_path):
    sim.reset(seed="demo")
    data = listing(sim, source(tmp_path, {
        "compose": {"lem_model_count": "lem_models | length", "site": "lem_pretty_name.split(' ')[0]"},
        "keyed_groups": [{"prefix": "state", "key": "'up' if lem_online else 'down'"},
                         {"prefix": "has", "key": "lem_models"}],
        "groups": {"lacking_motion": "'motionModel' not in lem_models",
                   "named_by_id": "inventory_hostname == lem_device_id and lem_hostname is not none"},
    }, name="plant_lem_devices.yaml"))
    hostvars = data["_meta"]["hostvars"]
    assert hostvars[SJ]["lem_model_count"] == 5 and hostvars[OFFLINE]["lem_model_count"] == 1
    assert hostvars[VM]["site"] == "VM" and hostvars[NO_HOSTNAME]["site"] == "Line"
    found = groups(data)
    assert found["state_down"] == {OFFLINE} and found["state_up"] == set(DEMO_VARS) - {OFFLINE}
    assert found["has_motionModel"] == {SJ, OFFLINE} and found["has_gasFive_tflite"] == {SJ}
    assert found["lacking_motion"] == LACKING_MOTION
    assert found["named_by_id"] == {SHARED_1, SHARED_2}


def test_strict_makes_a_bad_expression_fail_the_source(sim, tmp_path):
    options = {"compose": {"broken": "lem_no_such_var.upper()", "count": "lem_models | length"}}
    data = listing(sim, source(tmp_path, dict(options, strict=False)))
    assert all("broken" not in host_vars and "count" in host_vars for host_vars in data["_meta"]["hostvars"].values())

    done = ansible_inventory(sim, source(tmp_path, dict(options, strict=True)), "--list")
    assert done.returncode != 0
    assert "Could not set broken for host" in " ".join(done.stderr.split())


# ---- caching -------------------------------------------------------------------------------------------

def cached_source(tmp_path, **options):
    return source(tmp_path, dict({"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
                                  "cache_connection": str(tmp_path / "cache")}, **options))


def test_a_cached_inventory_makes_no_request_until_flushed(sim, tmp_path):
    sim.reset(seed="demo")
    path = cached_source(tmp_path)
    first = listing(sim, path)
    assert len(device_requests(sim)) == 1
    stored = list((tmp_path / "cache").iterdir())
    assert len(stored) == 1 and sim.token not in stored[0].read_text()

    sim.set_device("vkrih85ka6fn7zcofirk20vs", online=False)
    assert listing(sim, path) == first  # from the cache: VM is still online there
    assert len(device_requests(sim)) == 1

    flushed = listing(sim, path, "--flush-cache")
    assert len(device_requests(sim)) == 2
    assert groups(flushed)["lem_offline"] == {OFFLINE, VM}
    assert listing(sim, path) == flushed  # the flush renewed the cache
    assert len(device_requests(sim)) == 2


def test_constructed_options_apply_to_cached_devices(sim, tmp_path):
    listing(sim, cached_source(tmp_path))
    data = listing(sim, cached_source(tmp_path, compose={"lem_model_count": "lem_models | length"}))
    assert len(device_requests(sim)) == 1
    assert {host_vars["lem_model_count"] for host_vars in data["_meta"]["hostvars"].values()} == {0}


def test_the_cache_is_kept_per_project(sim, tmp_path):
    path = cached_source(tmp_path)
    listing(sim, path)
    done = ansible_inventory(sim, path, "--list", env={"LEM_PROJECT_ID": "otherproject0000000000000"})
    assert done.returncode != 0
    assert "check project_id (otherproject0000000000000)" in " ".join(done.stderr.split())
    assert len(device_requests(sim)) == 2


def test_without_cache_every_run_asks_lem(sim, tmp_path):
    path = source(tmp_path)
    listing(sim, path)
    listing(sim, path)
    assert len(device_requests(sim)) == 2


# ---- connection options and errors -------------------------------------------------------------------

def test_options_in_the_file_and_the_token_never_in_the_output(sim, tmp_path):
    path = source(tmp_path, {"lem_url": sim.url + "/", "lem_token": sim.token, "project_id": sim.project_id,
                             "ca_path": sim.ca_path})
    done = ansible_inventory(sim, path, "--list", "-vvv", lem=False)
    assert done.returncode == 0, done.stderr
    assert len(inventory_json(done.stdout)["_meta"]["hostvars"]) == 3
    basic = base64.b64encode(("%s:" % sim.token).encode()).decode()
    assert sim.token not in done.stdout + done.stderr and basic not in done.stdout + done.stderr


def test_a_bad_token_is_a_clear_error_without_the_token(sim, tmp_path):
    bad = "lem-wrong-token-5f3a9c71"
    done = ansible_inventory(sim, source(tmp_path), "--list", "-vvv", env={"LEM_API_TOKEN": bad})
    assert done.returncode != 0
    message = " ".join(done.stderr.split())
    assert "LEM refused the API token (401 Unauthorized) on the device list (Get Models)" in message
    basic = base64.b64encode(("%s:" % bad).encode()).decode()
    assert bad not in done.stdout + done.stderr and basic not in done.stdout + done.stderr


def test_a_vaulted_token_in_the_file_works(sim, tmp_path):
    password = tmp_path / "vault-password"
    password.write_text("inventory-test-password\n")
    vaulted = subprocess.run([ANSIBLE_VAULT, "encrypt_string", "--vault-password-file", str(password), sim.token,
                              "--name", "lem_token"], capture_output=True, text=True, check=True).stdout
    path = tmp_path / "lem_devices.yml"
    path.write_text("plugin: litmus.lem.lem_devices\n" + vaulted)
    done = ansible_inventory(sim, path, "--list", "--vault-password-file", str(password),
                             env={"LEM_API_TOKEN": "lem-wrong-token-5f3a9c71"})
    assert done.returncode == 0, done.stderr
    assert len(inventory_json(done.stdout)["_meta"]["hostvars"]) == 3


@pytest.mark.parametrize("mode, works", [("header", True), ("basic", False)])
def test_auth_mode_falls_back_to_the_environment(sim, tmp_path, mode, works):
    sim.configure(auth_basic=False)
    done = ansible_inventory(sim, source(tmp_path), "--list", env={"LEM_AUTH_MODE": mode})
    assert (done.returncode == 0) is works, done.stderr
    assert all("X-AuthToken" in entry["headers"] and "Authorization" not in entry["headers"]
               for entry in device_requests(sim)) is works


def test_http_works_with_a_warning_about_the_token_in_clear_text(sim, tmp_path):
    with Simulator(seed="demo", tls=False) as clear:
        done = ansible_inventory(sim, source(tmp_path), "--list", env={"LEM_URL": clear.url, "LEM_CA_PATH": None})
    assert done.returncode == 0, done.stderr
    assert set(inventory_json(done.stdout)["_meta"]["hostvars"]) == set(DEMO_VARS)
    assert "the API token travels in clear text" in " ".join(done.stderr.split())


@pytest.mark.parametrize("ca_path", [None, ""])
def test_without_the_ca_the_tls_error_names_host_and_fix(sim, tmp_path, ca_path):
    # An empty LEM_CA_PATH (an AWX credential without a CA) means no CA file, not the current directory.
    done = ansible_inventory(sim, source(tmp_path), "--list", env={"LEM_CA_PATH": ca_path})
    assert done.returncode != 0
    message = " ".join(done.stderr.split())
    assert "Could not verify the TLS certificate of 127.0.0.1" in message and "ca_path" in message


def test_pages_that_do_not_advance_are_an_error(sim, tmp_path):
    sim.reset(device_count=12)
    sim.configure(max_page_size=5)
    sim.add_fault("device_models", "stale_page")
    done = ansible_inventory(sim, source(tmp_path), "--list")
    assert done.returncode != 0
    assert "the pages do not advance" in " ".join(done.stderr.split())


def test_a_source_with_another_name_is_not_read(sim, tmp_path):
    done = ansible_inventory(sim, source(tmp_path, name="devices.yml"), "--list")
    assert done.returncode != 0
    assert device_requests(sim) == []


def test_the_documented_options_are_the_modules_connection_options_plus_constructed_and_cache():
    done = subprocess.run([ANSIBLE_DOC, "--json", "-t", "inventory", "litmus.lem.lem_devices"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)["litmus.lem.lem_devices"]["doc"]
    assert doc["version_added"] == "0.1.0"
    options = doc["options"]
    for name, spec in CONNECTION_ARGUMENT_SPEC.items():
        option = options[name]
        # ca_path is a str for the plugin: Ansible's config turns an empty path into the current directory.
        assert option["type"] == ("str" if name == "ca_path" else spec["type"]), name
        assert bool(option.get("required")) == bool(spec.get("required")), name
        assert option.get("default") == spec.get("default"), name
        assert [entry["name"] for entry in option.get("env", [])] == list(spec.get("fallback", (None, []))[1]), name
    assert set(options) == set(CONNECTION_ARGUMENT_SPEC) | {
        "plugin", "strict", "compose", "groups", "keyed_groups", "use_extra_vars", "leading_separator",
        "cache", "cache_plugin", "cache_timeout", "cache_connection", "cache_prefix"}


# ---- a playbook on the devices that lack a model ------------------------------------------------------

def test_a_play_targets_the_devices_lacking_a_model_then_deploys_it_to_them(sim, playbook, tmp_path):
    sim.reset(seed="demo")
    path = source(tmp_path)
    run = playbook("lacking_model.yml", inventory=path)
    assert run.rc == 0, run.output
    named = [entry for entry in run.results if entry["task"] == "Name the device"]
    assert sorted(entry["host"] for entry in named) == sorted(LACKING_MOTION)
    assert all(entry["result"]["msg"].startswith("%s is %s " % (entry["host"], DEMO_VARS[entry["host"]]["lem_device_id"]))
               for entry in named)
    assert run.outcome("Deploy the model to all of them in one LEM task") == "skipped"

    sim.stage_file("motionModel.zip", content=b"motion" * 100)
    run = playbook("lacking_model.yml", inventory=path, extra_vars={"deploy": True})
    assert run.rc == 0, run.output
    result = run.task("Deploy the model to all of them in one LEM task")
    assert sorted(result["deployed_devices"]) == sorted(DEMO_VARS[host]["lem_device_id"] for host in LACKING_MOTION)
    assert len(sim.state()["tasks"]) == 1

    run = playbook("lacking_model.yml", inventory=path)
    assert run.rc == 0, run.output
    assert run.results == [] and "no hosts matched" in run.output
