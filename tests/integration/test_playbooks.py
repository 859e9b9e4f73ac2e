"""The playbooks users run (playbooks/), as they are, against the LEM simulator."""

from pathlib import Path

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def test_rollout_playbook_rolls_out_and_shows_the_result(sim, playbook, tmp_path):
    model = tmp_path / "gasFive.tflite"
    model.write_bytes(b"tflite" * 1000)
    run = playbook(str(PLAYBOOKS / "rollout.yml"),
                   extra_vars={"model_rollout_src": str(model), "model_rollout_devices": ["all"]})
    assert run.rc == 0, run.output
    result = run.task("Show the outcome")["model_rollout_result"]
    assert len(result["deployed_devices"]) == 3 and result["verified"] is True
    assert all(any(m["name"] == "gasFive.tflite" for m in device["models"]) for device in sim.state()["devices"])


def test_report_shows_a_table_per_device(sim, playbook):
    sim.reset(seed="demo")
    run = playbook(str(PLAYBOOKS / "report.yml"))
    assert run.rc == 0, run.output
    lines = run.task("Show the models per device")["msg"]
    assert lines[0].split() == ["DEVICE", "ID", "HOSTNAME", "NAME", "ONLINE", "MODEL", "SIZE", "(bytes)"]
    first = next(line for line in lines if line.startswith("1a5wiavluwxuhwai5leb1v0hc"))
    assert "litmus-edge-94c6911b9c77" in first and " yes " in first and ".ipynb_checkpoints" in first
    assert any(line.split()[-2:] == ["coco", "136145199"] for line in lines)
    offline = next(line for line in lines if line.startswith("3y0vcdju38zvqjrlm5lcpm1l"))
    assert " no " in offline and offline.split()[-2:] == ["motionModel", "5094648"]
    assert lines[-1] == "6 device(s); staged on LEM: nothing"

    run = playbook(str(PLAYBOOKS / "report.yml"), extra_vars={"report_model": "coco", "report_devices": ["VM"]})
    lines = run.task("Show the models per device")["msg"]
    assert len(lines) == 3 and lines[1].startswith("vkrih85ka6fn7zcofirk20vs") and lines[1].split()[-1] == "-"


def test_remove_staged_removes_the_files_named(sim, playbook):
    sim.stage_file("a.zip", content=b"a")
    sim.stage_file("b.zip", content=b"b")
    run = playbook(str(PLAYBOOKS / "remove_staged.yml"), extra_vars={"remove_staged_names": ["a.zip", "missing.zip"]})
    assert run.rc == 0, run.output
    results = run.task("Remove each staged file")["results"]
    assert [item["changed"] for item in results] == [True, False]
    assert [item["name"] for item in sim.state()["files"] if item["registered"]] == ["b.zip"]

    run = playbook(str(PLAYBOOKS / "remove_staged.yml"))
    assert run.rc != 0 and "remove_staged_names" in run.task("Check that names were given")["msg"]
