"""The role litmus.lem.model_rollout, run by ansible-playbook against the LEM simulator."""

import base64
import hashlib
import re

import pytest

NAME = "motionModel.zip"
MUTATING = ("POST", "PUT", "DELETE")


@pytest.fixture
def src(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(b"motion model v1 " * 4096)
    return path


def rollout(playbook, src, check=False, verbosity=0, env=None, lem=True, **variables):
    extra = {"model_rollout_src": str(src), "model_rollout_devices": ["all"]}
    extra.update(variables)
    return playbook("role.yml", extra_vars=extra, check=check, verbosity=verbosity, env=env, lem=lem)


def recap(run):
    match = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", run.output)
    assert match, run.output[-2000:]
    return {"ok": int(match.group(1)), "changed": int(match.group(2)), "failed": int(match.group(3))}


def result_of(run):
    return run.task("Show the outcome")["model_rollout_result"]


def fact(run):
    """model_rollout_result as the last task that set it left it (also when the role failed)."""
    for entry in reversed(run.results):
        facts = entry["result"].get("ansible_facts", {})
        if "model_rollout_result" in facts:
            return facts["model_rollout_result"]
    raise AssertionError("model_rollout_result was never set\n" + run.output[-3000:])


def holders(sim, model="motionModel"):
    return [device["deviceId"] for device in sim.state()["devices"] if any(m["name"] == model for m in device["models"])]


def deploy_posts(sim):
    return [entry for entry in sim.requests() if entry["endpoint"] == "deploy"]


# ---- one model to a fleet ------------------------------------------------------------------------------------

def test_fresh_rollout_then_rerun_changes_nothing(sim, playbook, src):
    everyone = [device["deviceId"] for device in sim.state()["devices"]]
    run = rollout(playbook, src)
    assert run.rc == 0, run.output
    result = result_of(run)
    assert set(result) == {"uploaded", "task_id", "deployed_devices", "skipped_devices", "failed_devices", "verified", "batches"}
    assert result["uploaded"] is True and result["verified"] is True
    assert result["deployed_devices"] == everyone and result["failed_devices"] == [] and result["skipped_devices"] == []
    assert len(result["batches"]) == 1 and result["batches"][0]["status"] == "SUCCESS"
    assert result["task_id"] == result["batches"][0]["task_id"]
    assert sorted(holders(sim)) == sorted(everyone)

    sim.clear_requests()
    run = rollout(playbook, src)
    assert run.rc == 0, run.output
    assert recap(run)["changed"] == 0
    result = result_of(run)
    assert result["uploaded"] is False and result["task_id"] is None and result["batches"] == []
    assert result["skipped_devices"] == everyone and result["deployed_devices"] == []
    assert [entry for entry in sim.requests() if entry["method"] in MUTATING] == []


def test_new_content_reaches_every_device(sim, playbook, src):
    assert rollout(playbook, src).rc == 0
    src.write_bytes(b"motion model v2 " * 4096)
    run = rollout(playbook, src)
    assert run.rc == 0, run.output
    result = result_of(run)
    assert result["uploaded"] is True and len(result["deployed_devices"]) == 3
    tasks = sim.state()["tasks"]
    assert len(tasks) == 2 and len(tasks[-1]["subtasks"]) == 3
    staged = next(item for item in sim.state()["files"] if item["name"] == NAME)
    assert staged["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()


def test_check_mode_changes_nothing_and_shows_the_plan(sim, playbook, src):
    run = rollout(playbook, src, check=True, model_rollout_batches=[1, 2])
    assert run.rc == 0, run.output
    assert [entry for entry in sim.requests() if entry["method"] in MUTATING] == []
    result = result_of(run)
    ids = [device["deviceId"] for device in sim.state()["devices"]]
    assert [batch["devices"] for batch in result["batches"]] == [ids[:1], ids[1:]]
    assert all(batch["status"] == "PLANNED" and batch["task_id"] is None for batch in result["batches"])
    assert result["deployed_devices"] == ids and result["verified"] is False
    assert "3 to deploy in 2 batch(es): 1, 2 (check mode: nothing deployed)" in run.output


def test_check_mode_on_a_converged_fleet_reports_no_change(sim, playbook, src):
    assert rollout(playbook, src).rc == 0
    run = rollout(playbook, src, check=True)
    assert run.rc == 0 and recap(run)["changed"] == 0
    assert result_of(run)["batches"] == []


def test_a_failing_step_stops_with_its_message_and_what_was_done(sim, playbook, src):
    sim.add_fault(endpoint="deploy", action="status", status=503, act=True, times=1)
    run = rollout(playbook, src)
    assert run.rc != 0
    message = run.task("Stop the rollout with the reason and what was done before it")["msg"]
    assert "stopped at 'Deploy the model to the batch and wait for it'" in message
    assert "may have" in message and "lem_model_info" in message
    assert "Upload: new bytes sent." in message
    assert len(deploy_posts(sim)) == 1
    # The deployment may have started: the batch is on record, its outcome unknown.
    everyone = [device["deviceId"] for device in sim.state()["devices"]]
    assert fact(run)["uploaded"] is True
    assert fact(run)["batches"] == [{"devices": everyone, "task_id": None, "status": "UNKNOWN"}]
    assert "Batches run: 1 (task None, UNKNOWN, 3 device(s))." in message


def test_a_device_that_does_not_list_the_model_fails_verification(sim, playbook, src):
    quiet = sim.state()["devices"][1]
    sim.set_device(quiet["deviceId"], status="SUCCESS")  # finishes "successfully" without installing
    run = rollout(playbook, src)
    assert run.rc != 0
    result = fact(run)
    assert result["failed_devices"] == [quiet["deviceId"]] and result["verified"] is False
    message = run.task("Fail when the model did not reach every device")["msg"]
    assert "does not list the model" in message and quiet["hostname"] in message


def test_remove_staged_deletes_the_file_after_a_verified_rollout(sim, playbook, src):
    run = rollout(playbook, src, model_rollout_remove_staged=True)
    assert run.rc == 0, run.output
    assert not [item for item in sim.state()["files"] if item["name"] == NAME and item["registered"]]
    assert len(holders(sim)) == 3


def test_the_role_runs_once_whatever_the_play_hosts_are(sim, playbook, src, tmp_path):
    play = tmp_path / "many_hosts.yml"
    play.write_text(
        "- name: Roll out from a play over several hosts\n"
        "  hosts: edge\n"
        "  gather_facts: false\n"
        "  module_defaults:\n"
        "    litmus.lem.lem_model_deploy:\n"
        "      wait_sleep: 0.2\n"
        "  roles:\n"
        "    - role: litmus.lem.model_rollout\n")
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("edge:\n  hosts:\n    line1:\n    line2:\n    line3:\n")
    run = playbook(str(play), extra_vars={"model_rollout_src": str(src), "model_rollout_devices": ["all"]},
                   inventory=inventory)
    assert run.rc == 0, run.output
    assert len(deploy_posts(sim)) == 1
    assert len([entry for entry in sim.requests() if entry["endpoint"] == "storage_put"]) == 1


def test_connection_from_variables_instead_of_the_environment(sim, playbook, src):
    run = rollout(playbook, src, lem=False, lem_url=sim.url, lem_token=sim.token, lem_project_id=sim.project_id,
                  lem_ca_path=sim.ca_path, lem_auth_mode="header", lem_retries=1, lem_timeout=20)
    assert run.rc == 0, run.output
    assert "Authorization" not in sim.requests()[0]["headers"]


def test_no_secret_in_the_output_even_at_vvv(sim, playbook, src):
    run = rollout(playbook, src, verbosity=3)
    assert run.rc == 0, run.output
    basic = base64.b64encode(("%s:" % sim.token).encode()).decode()
    assert sim.token not in run.output and basic not in run.output
    assert "X-Amz-Signature=" not in run.output
    sim.add_fault(endpoint="deploy", action="status", status=403, times=1)
    run = rollout(playbook, src, verbosity=3, model_rollout_redeploy="always")
    assert run.rc != 0
    assert sim.token not in run.output and basic not in run.output


def test_bad_variables_are_refused_by_the_argument_spec(sim, playbook, src):
    run = playbook("role.yml", extra_vars={"model_rollout_devices": ["all"], "model_rollout_overwrite": "sometimes"})
    assert run.rc != 0
    assert "model_rollout_src" in run.output and "model_rollout_overwrite" in run.output
    assert sim.requests() == []


# ---- progressive rollout ----------------------------------------------------------------------------------

@pytest.fixture
def fleet(sim):
    sim.reset(device_count=6)
    return [device["deviceId"] for device in sim.state()["devices"]]


def test_a_failed_batch_stops_the_rollout_before_the_next(sim, playbook, src, fleet):
    sim.set_device(fleet[1], behaviour="fail", fail_msg="GPU driver missing")
    run = rollout(playbook, src, model_rollout_batches=[1, 1])
    assert run.rc != 0
    result = fact(run)
    assert [batch["devices"] for batch in result["batches"]] == [[fleet[0]], [fleet[1]]]
    assert [batch["status"] for batch in result["batches"]] == ["SUCCESS", "FAILED"]
    assert result["failed_devices"] == [fleet[1]] and result["deployed_devices"] == [fleet[0]]
    message = run.task("Fail when the model did not reach every device")["msg"]
    assert "GPU driver missing" in message and fleet[1] in message
    assert "Not deployed because the rollout stopped: 4" in message
    assert len(deploy_posts(sim)) == 2
    assert holders(sim) == [fleet[0]]

    # the fix, then the rerun continues where it stopped
    sim.set_device(fleet[1], behaviour="ok")
    run = rollout(playbook, src, model_rollout_batches=[1, 1])
    assert run.rc == 0, run.output
    result = result_of(run)
    assert result["skipped_devices"] == [fleet[0]] and result["deployed_devices"] == fleet[1:]
    assert [len(batch["devices"]) for batch in result["batches"]] == [1] * 5
    assert sorted(holders(sim)) == sorted(fleet)


def test_within_the_budget_the_rollout_goes_on_and_still_fails_at_the_end(sim, playbook, src, fleet):
    sim.set_device(fleet[0], behaviour="fail", fail_msg="checksum mismatch")
    run = rollout(playbook, src, model_rollout_batches=[2], model_rollout_max_fail_percentage=50)
    assert run.rc != 0
    result = fact(run)
    assert [batch["status"] for batch in result["batches"]] == ["FAILED", "SUCCESS", "SUCCESS"]
    assert result["failed_devices"] == [fleet[0]] and result["deployed_devices"] == fleet[1:]
    assert "checksum mismatch" in run.task("Fail when the model did not reach every device")["msg"]


def test_over_the_budget_the_rollout_stops(sim, playbook, src, fleet):
    sim.set_device(fleet[0], behaviour="fail", fail_msg="no space")
    sim.set_device(fleet[1], behaviour="fail", fail_msg="no space")
    run = rollout(playbook, src, model_rollout_batches=[3], model_rollout_max_fail_percentage=50)
    assert run.rc != 0
    assert len(fact(run)["batches"]) == 1


def test_percentages_of_the_devices_that_need_the_model(sim, playbook, src):
    sim.reset(device_count=10)
    run = rollout(playbook, src, model_rollout_batches=["10%", "50%"])
    assert run.rc == 0, run.output
    assert [len(batch["devices"]) for batch in result_of(run)["batches"]] == [1, 5, 4]


def test_current_devices_are_skipped_not_batched(sim, playbook, src, fleet):
    assert rollout(playbook, src, model_rollout_devices=fleet[:2]).rc == 0
    run = rollout(playbook, src, model_rollout_batches=["50%"])
    assert run.rc == 0, run.output
    result = result_of(run)
    assert result["skipped_devices"] == fleet[:2]
    assert [batch["devices"] for batch in result["batches"]] == [fleet[2:4], fleet[4:]]


def test_a_device_that_times_out_counts_as_failed(sim, playbook, src, fleet):
    sim.set_device(fleet[0], behaviour="hang")
    run = rollout(playbook, src, model_rollout_batches=[1], model_rollout_wait_timeout=1)
    assert run.rc != 0
    result = fact(run)
    assert [batch["status"] for batch in result["batches"]] == ["TIMEOUT"]
    assert result["failed_devices"] == [fleet[0]]


def test_all_with_batches_across_pages_in_lems_order(sim, playbook, src):
    sim.reset(device_count=25)
    sim.configure(max_page_size=10)
    order = [device["deviceId"] for device in sim.state()["devices"]]
    run = rollout(playbook, src, check=True, model_rollout_batches=[5, "40%"])
    assert run.rc == 0, run.output
    batches = [batch["devices"] for batch in result_of(run)["batches"]]
    assert [len(batch) for batch in batches] == [5, 10, 10]
    assert [device for batch in batches for device in batch] == order


def test_remove_staged_keeps_the_file_when_nothing_was_verified(sim, playbook, src):
    run = rollout(playbook, src, model_rollout_remove_staged=True, model_rollout_verify=False)
    assert run.rc == 0, run.output
    assert [item["name"] for item in sim.state()["files"] if item["registered"]] == [NAME]
    assert result_of(run)["verified"] is False
