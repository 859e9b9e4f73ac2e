"""lem_model_file through ansible-playbook, against the LEM simulator over HTTPS."""

import base64
import hashlib

import pytest

MUTATING = ("POST", "PUT", "DELETE")


def mutating(sim):
    return [entry for entry in sim.requests() if entry["method"] in MUTATING]


def model(tmp_path, name="motionModel.zip", content=b"model-bytes-v1" * 1000):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def staged(sim, name):
    return next((item for item in sim.state()["files"] if item["name"] == name and item["registered"]), None)


def test_lifecycle_check_apply_repeat_change_never_absent(sim, playbook, tmp_path):
    src = model(tmp_path)
    sha_v1 = hashlib.sha256(src.read_bytes()).hexdigest()

    # check mode: a real prediction, nothing written
    run = playbook("file.yml", extra_vars={"file": {"src": str(src), "description": "v1"}}, check=True, diff=True)
    assert run.rc == 0, run.output
    result = run.task("Call lem_model_file")
    assert result["changed"] is True and result["uploaded"] is False and result["bytes_sent"] == 0
    assert result["file"]["sha256"] == sha_v1 and result["file"]["size"] == src.stat().st_size
    assert result["diff"]["before"] == {"state": "absent"}
    assert result["diff"]["after"]["state"] == "present" and result["diff"]["after"]["sha256"] == sha_v1
    assert mutating(sim) == []
    assert staged(sim, "motionModel.zip") is None

    # apply: three steps, then the file is there with the marker
    run = playbook("file.yml", extra_vars={"file": {"src": str(src), "description": "v1"}})
    assert run.rc == 0, run.output
    result = run.task("Call lem_model_file")
    assert result["changed"] is True and result["uploaded"] is True
    assert result["bytes_sent"] == src.stat().st_size
    assert set(result) >= {"file", "uploaded", "bytes_sent"}
    assert set(result["file"]) == {"name", "size", "sha256", "description", "last_modified", "file_type"}
    assert result["file"]["description"] == "v1" and result["file"]["sha256"] == sha_v1
    assert isinstance(result["file"]["last_modified"], int)
    assert [entry["endpoint"] for entry in mutating(sim)] == ["upload_url", "storage_put", "upload_complete"]
    stored = staged(sim, "motionModel.zip")
    assert stored["sha256"] == sha_v1 and stored["description"] == "v1 [sha256:%s]" % sha_v1

    # repeat: unchanged, no mutating request, at most one read
    sim.clear_requests()
    run = playbook("file.yml", extra_vars={"file": {"src": str(src), "description": "v1"}})
    result = run.task("Call lem_model_file")
    assert result["changed"] is False and result["uploaded"] is False and result["bytes_sent"] == 0
    assert mutating(sim) == []
    assert len(sim.requests()) <= 3

    # changed content: uploaded again
    src.write_bytes(b"model-bytes-v2" * 1000)
    sha_v2 = hashlib.sha256(src.read_bytes()).hexdigest()
    sim.clear_requests()
    run = playbook("file.yml", extra_vars={"file": {"src": str(src), "description": "v1"}}, diff=True)
    result = run.task("Call lem_model_file")
    assert result["changed"] is True and result["uploaded"] is True
    assert result["diff"]["before"]["sha256"] == sha_v1 and result["diff"]["after"]["sha256"] == sha_v2
    assert staged(sim, "motionModel.zip")["sha256"] == sha_v2

    # overwrite: never keeps the file, description included
    src.write_bytes(b"model-bytes-v3" * 1000)
    sim.clear_requests()
    run = playbook("file.yml", extra_vars={"file": {"src": str(src), "description": "other", "overwrite": "never"}})
    result = run.task("Call lem_model_file")
    assert result["changed"] is False and result["file"]["sha256"] == sha_v2 and result["file"]["description"] == "v1"
    assert mutating(sim) == []

    # absent, then absent again
    run = playbook("file.yml", extra_vars={"file": {"name": "motionModel.zip", "state": "absent"}}, diff=True)
    result = run.task("Call lem_model_file")
    assert result["changed"] is True and result["file"] is None
    assert result["diff"]["after"] == {"state": "absent"}
    assert staged(sim, "motionModel.zip") is None
    sim.clear_requests()
    run = playbook("file.yml", extra_vars={"file": {"name": "motionModel.zip", "state": "absent"}})
    assert run.task("Call lem_model_file")["changed"] is False
    assert mutating(sim) == []


def test_absent_in_check_mode_deletes_nothing(sim, playbook):
    sim.stage_file("old.zip", content=b"abc")
    run = playbook("file.yml", extra_vars={"file": {"name": "old.zip", "state": "absent"}}, check=True)
    assert run.task("Call lem_model_file")["changed"] is True
    assert mutating(sim) == []
    assert staged(sim, "old.zip") is not None


def test_a_file_uploaded_by_hand_counts_as_different_once(sim, playbook, tmp_path):
    src = model(tmp_path)
    sim.stage_file("motionModel.zip", content=src.read_bytes(), description="uploaded in the UI")
    run = playbook("file.yml", extra_vars={"file": {"src": str(src)}})
    assert run.task("Call lem_model_file")["uploaded"] is True
    run = playbook("file.yml", extra_vars={"file": {"src": str(src)}})
    assert run.task("Call lem_model_file")["changed"] is False


def test_a_description_change_repeats_only_the_upload_complete_step(sim, playbook, tmp_path):
    src = model(tmp_path)
    assert playbook("file.yml", extra_vars={"file": {"src": str(src), "description": "v1"}}).rc == 0
    sim.clear_requests()
    run = playbook("file.yml", extra_vars={"file": {"src": str(src), "description": "v1 tuned"}})
    result = run.task("Call lem_model_file")
    assert result["changed"] is True and result["uploaded"] is False and result["bytes_sent"] == 0
    assert [entry["endpoint"] for entry in mutating(sim)] == ["upload_complete"]
    assert result["file"]["description"] == "v1 tuned"


def test_overwrite_always_uploads_every_run(sim, playbook, tmp_path):
    src = model(tmp_path)
    for attempt in range(2):
        run = playbook("file.yml", extra_vars={"file": {"src": str(src), "overwrite": "always"}})
        assert run.task("Call lem_model_file")["uploaded"] is True, "run %d did not upload" % attempt
    assert len([entry for entry in sim.requests() if entry["endpoint"] == "storage_put"]) == 2


def test_the_put_is_exact_length_unchunked_and_carries_no_token(sim, playbook, tmp_path):
    src = model(tmp_path)
    assert playbook("file.yml", extra_vars={"file": {"src": str(src)}}).rc == 0
    puts = [entry for entry in sim.requests() if entry["endpoint"] == "storage_put"]
    assert len(puts) == 1
    headers = {key.lower(): value for key, value in puts[0]["headers"].items()}
    assert headers["content-length"] == str(src.stat().st_size)
    assert "transfer-encoding" not in headers
    assert "authorization" not in headers and "x-authtoken" not in headers
    basic = base64.b64encode(("%s:" % sim.token).encode()).decode()
    flat = repr(puts[0])
    assert sim.token not in flat and basic not in flat


def test_an_expired_url_gets_one_fresh_url(sim, playbook, tmp_path):
    src = model(tmp_path)
    sim.add_fault(endpoint="upload_url", action="expired_url", times=1)
    run = playbook("file.yml", extra_vars={"file": {"src": str(src)}})
    assert run.rc == 0, run.output
    assert run.task("Call lem_model_file")["uploaded"] is True
    kinds = [(entry["endpoint"], entry["status"]) for entry in mutating(sim)]
    assert kinds == [("upload_url", 200), ("storage_put", 403), ("upload_url", 200), ("storage_put", 200), ("upload_complete", 200)]


def test_urls_that_keep_expiring_fail_clearly(sim, playbook, tmp_path):
    src = model(tmp_path)
    sim.add_fault(endpoint="upload_url", action="expired_url", times=None)
    run = playbook("file.yml", extra_vars={"file": {"src": str(src)}})
    assert run.rc != 0
    message = run.task("Call lem_model_file")["msg"]
    assert "expired" in message and "motionModel.zip" in message
    assert "X-Amz-Signature" not in run.output
    assert not any(entry["endpoint"] == "upload_complete" for entry in sim.requests())


@pytest.mark.parametrize("endpoint, action", [
    ("storage_put", {"action": "status", "status": 503}),
    ("upload_url", {"action": "status", "status": 429, "retry_after": "1"}),
    ("upload_complete", {"action": "status", "status": 502}),
    ("file_list", {"action": "status", "status": 504}),
])
def test_transient_failures_are_retried(sim, playbook, tmp_path, endpoint, action):
    src = model(tmp_path)
    sim.add_fault(endpoint=endpoint, times=1, **action)
    run = playbook("file.yml", extra_vars={"file": {"src": str(src)}})
    assert run.rc == 0, run.output
    assert run.task("Call lem_model_file")["uploaded"] is True
    assert staged(sim, "motionModel.zip")["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()


def test_an_unresolvable_storage_host_fails_with_the_fix_and_works_via_lem_url(sim, playbook, tmp_path):
    src = model(tmp_path)
    port = sim.url.rsplit(":", 1)[1]
    sim.add_fault(endpoint="upload_url", action="presign_host", host="lem-storage.invalid:%s" % port, times=None)
    run = playbook("file.yml", extra_vars={"file": {"src": str(src), "retries": 0}})
    assert run.rc != 0
    message = run.task("Call lem_model_file")["msg"]
    assert "lem-storage.invalid" in message and "upload_via_lem_url: true" in message
    assert not any(entry["endpoint"] == "upload_complete" for entry in sim.requests())

    run = playbook("file.yml", extra_vars={"file": {"src": str(src), "upload_via_lem_url": True}})
    assert run.rc == 0, run.output
    put = [entry for entry in sim.requests() if entry["endpoint"] == "storage_put"][-1]
    assert put["headers"].get("Host", put["headers"].get("host")) == "lem-storage.invalid:%s" % port


@pytest.mark.parametrize("name", ["my model.zip", "modèle-é ✓.zip"])
def test_spaces_and_unicode_in_names_work(sim, playbook, tmp_path, name):
    src = model(tmp_path, name="plain.zip")
    run = playbook("file.yml", extra_vars={"file": {"src": str(src), "name": name}})
    assert run.rc == 0, run.output
    assert staged(sim, name)["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert playbook("file.yml", extra_vars={"file": {"src": str(src), "name": name}}).task("Call lem_model_file")["changed"] is False


def test_bad_inputs_fail_clearly_before_anything_is_sent(sim, playbook, tmp_path):
    good = model(tmp_path)
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    unreadable = tmp_path / "secret.zip"
    unreadable.write_bytes(b"x")
    unreadable.chmod(0)
    cases = [
        ({"src": str(good), "name": ""}, "empty"),
        ({"src": str(good), "name": "."}, "not a file name"),
        ({"src": str(good), "name": ".."}, "not a file name"),
        ({"src": str(good), "name": "../x.zip"}, "path separator"),
        ({"src": str(good), "name": "a/b.zip"}, "path separator"),
        ({"src": str(good), "name": "a\\b.zip"}, "path separator"),
        ({"src": str(good), "name": "a\u0001b.zip"}, "control character"),
        ({"src": str(good), "name": "x" * 256}, "256 bytes"),
        ({"src": str(tmp_path / "missing.zip")}, "was not found on the controller"),
        ({"src": str(tmp_path / "missing.zip"), "remote_src": True}, "does not exist"),
        ({"src": str(tmp_path), "remote_src": True}, "is a directory"),
        ({"src": str(empty)}, "is empty (0 bytes)"),
        ({"name": "x.zip"}, "src is required with state: present"),
        ({"state": "absent"}, "empty"),
        ({"src": str(good), "lem_url": "lem.example.com"}, "is not a URL of LEM"),
    ]
    import os
    if os.geteuid() != 0:  # root reads any file
        cases.append(({"src": str(unreadable), "remote_src": True}, "cannot be read"))
    for args, words in cases:
        run = playbook("file.yml", extra_vars={"file": args})
        assert run.rc != 0, (args, run.output)
        message = run.task("Call lem_model_file")["msg"]
        assert words in message, (args, message)
    assert sim.requests() == []
