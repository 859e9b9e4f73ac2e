"""A job the way AWX / Automation Controller runs one, against the LEM simulator.

ansible-runner gets a private data directory laid out as AWX lays it out: env/envvars holds what a
credential of the type in extensions/awx/credential_type.yml injects (rendered here the way AWX renders
injectors, the CA certificate written to a file under env/), env/extravars what the survey of
extensions/awx/survey_spec.json sends, project/ the project playbook of extensions/awx/project/, and
inventory/hosts the controller. The collection comes from ANSIBLE_COLLECTIONS_PATH (set for every test),
where an execution environment has it installed.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import ansible_runner
import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment
from multidict import CIMultiDict

from tests.simulator.storage import UrlSigner, object_key

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "extensions" / "awx"
LEM_VARIABLES = {"LEM_URL", "LEM_API_TOKEN", "LEM_PROJECT_ID", "LEM_VALIDATE_CERTS", "LEM_CA_PATH"}
MODEL = "gasFive.tflite"


def credential_type():
    return yaml.safe_load((AWX / "credential_type.yml").read_text())


def survey_spec():
    return json.loads((AWX / "survey_spec.json").read_text())


def inject_credential(cred_type, inputs, private_data_dir):
    """The environment a credential of `cred_type` with `inputs` gives a job, rendered the way AWX renders
    injectors: a sandboxed Jinja environment; secret and plain inputs by value, empty ones left undefined,
    booleans never given set to false; each file injector written to a new file under env/ (mode 0600) whose
    path is `tower.filename.<label>`. (In AWX's container that path starts with /runner/, where the private
    data directory is mounted; here the job runs on this host, with the host's path.)"""
    sandbox = ImmutableSandboxedEnvironment()
    namespace = {"tower": SimpleNamespace()}
    for field in cred_type["inputs"]["fields"]:
        value = inputs.get(field["id"])
        if field["type"] == "boolean":
            namespace[field["id"]] = bool(value)
        elif value:
            namespace[field["id"]] = value
    files = {}
    for label, template in cred_type["injectors"].get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=str(private_data_dir / "env"))
        with os.fdopen(handle, "w") as stream:
            stream.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        files[label.split(".", 1)[1]] = path
    namespace["tower"].filename = SimpleNamespace(**files)
    return {name: sandbox.from_string(template).render(**namespace) for name, template in cred_type["injectors"]["env"].items()}


def survey_answers(spec, answers):
    """`answers` as the survey sends them, after the checks AWX makes on a launch."""
    questions = {question["variable"]: question for question in spec["spec"]}
    assert set(answers) <= set(questions)
    for variable, question in questions.items():
        if question["required"]:
            assert answers.get(variable) not in (None, "", []), variable
        if variable not in answers:
            continue
        value = answers[variable]
        if question["type"] in ("text", "textarea"):
            assert isinstance(value, str) and question["min"] <= len(value) <= question["max"], variable
        elif question["type"] == "integer":
            assert isinstance(value, int) and question["min"] <= value <= question["max"], variable
        elif question["type"] == "multiselect":
            assert isinstance(value, list) and set(value) <= set(question["choices"]), variable
        else:
            raise AssertionError("question type %s not handled here" % question["type"])
    return answers


@pytest.fixture
def job(sim, tmp_path, monkeypatch):
    """A private data directory for a job with a LEM credential for the simulator and the survey's answers."""
    for name in list(os.environ):
        if name.startswith("LEM_"):
            monkeypatch.delenv(name)
    # The job's ansible-playbook is this Python's, as an execution environment's is its own.
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    private_data_dir = tmp_path / "job"
    for part in ("env", "project", "inventory"):
        (private_data_dir / part).mkdir(parents=True)
    shutil.copy(AWX / "project" / "rollout.yml", private_data_dir / "project" / "rollout.yml")
    (private_data_dir / "project" / "models").mkdir()
    (private_data_dir / "project" / "models" / MODEL).write_bytes(b"tflite model " * 4096)
    (private_data_dir / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    envvars = inject_credential(credential_type(), {
        "lem_url": sim.url,
        "lem_token": sim.token,
        "lem_project_id": sim.project_id,
        "lem_ca_cert": Path(sim.ca_path).read_text(),
        "lem_validate_certs": "true",
    }, private_data_dir)
    (private_data_dir / "env" / "envvars").write_text(json.dumps(envvars))
    return private_data_dir


def launch(private_data_dir, extravars):
    (private_data_dir / "env" / "extravars").write_text(json.dumps(survey_answers(survey_spec(), extravars)))
    events = []

    def on_event(event):
        events.append(event)
        return True  # keep it in artifacts/<ident>/job_events/ too

    runner = ansible_runner.run(
        private_data_dir=str(private_data_dir),
        playbook="rollout.yml",
        verbosity=3,
        quiet=True,
        event_handler=on_event,
    )
    return runner, events


def test_the_credential_type_injects_the_lem_environment(sim, job):
    cred_type = credential_type()
    assert cred_type["kind"] == "cloud"
    fields = {field["id"]: field for field in cred_type["inputs"]["fields"]}
    assert list(fields) == ["lem_url", "lem_token", "lem_project_id", "lem_ca_cert", "lem_validate_certs"]
    assert [name for name, field in fields.items() if field.get("secret")] == ["lem_token"]
    assert fields["lem_ca_cert"]["multiline"] is True and fields["lem_ca_cert"]["secret"] is False
    assert fields["lem_validate_certs"]["type"] == "string" and fields["lem_validate_certs"]["choices"] == ["true", "false"]
    assert fields["lem_validate_certs"]["default"] == "true"
    assert cred_type["inputs"]["required"] == ["lem_url", "lem_token", "lem_project_id"]
    assert set(cred_type["injectors"]["env"]) == LEM_VARIABLES
    assert list(cred_type["injectors"]["file"]) == ["template.ca"]

    envvars = json.loads((job / "env" / "envvars").read_text())
    assert set(envvars) == LEM_VARIABLES
    assert {name: envvars[name] for name in ("LEM_URL", "LEM_API_TOKEN", "LEM_PROJECT_ID", "LEM_VALIDATE_CERTS")} == {
        "LEM_URL": sim.url, "LEM_API_TOKEN": sim.token, "LEM_PROJECT_ID": sim.project_id, "LEM_VALIDATE_CERTS": "true"}
    ca_file = Path(envvars["LEM_CA_PATH"])
    assert ca_file.parent == job / "env" and stat.S_IMODE(ca_file.stat().st_mode) == 0o600
    assert ca_file.read_text() == Path(sim.ca_path).read_text()


def test_without_a_ca_certificate_no_ca_path_is_injected_and_certificates_are_checked(tmp_path):
    (tmp_path / "env").mkdir()
    envvars = inject_credential(credential_type(), {"lem_url": "https://lem.example.com", "lem_token": "t",
                                                    "lem_project_id": "p"}, tmp_path)
    assert envvars == {"LEM_URL": "https://lem.example.com", "LEM_API_TOKEN": "t", "LEM_PROJECT_ID": "p",
                       "LEM_VALIDATE_CERTS": "true", "LEM_CA_PATH": ""}


def test_a_job_rolls_the_model_out_in_batches_and_shows_no_secret(sim, job):
    devices = sim.state()["devices"]
    assert os.path.isdir(Path(os.environ["ANSIBLE_COLLECTIONS_PATH"]) / "ansible_collections" / "litmus" / "lem")

    runner, events = launch(job, {
        # AWX's EE sees the project under /runner/project/; this job runs on the host, where it is here.
        "model_rollout_src": str(job / "project" / "models" / MODEL),
        "model_rollout_devices": "%s, %s, %s" % (devices[0]["prettyName"], devices[1]["hostname"], devices[2]["deviceId"]),
        "model_rollout_batches": ["1", "100%"],
        "model_rollout_max_fail_percentage": 0,
    })
    stdout = "".join(event.get("stdout", "") + "\n" for event in events)
    assert (runner.status, runner.rc) == ("successful", 0), stdout[-4000:]
    # ansible-playbook ran with the collection path of the test session and no LEM_* but the credential's.
    assert runner.config.env["ANSIBLE_COLLECTIONS_PATH"] == os.environ["ANSIBLE_COLLECTIONS_PATH"]
    assert {name: value for name, value in runner.config.env.items() if name.startswith("LEM_")} == json.loads(
        (job / "env" / "envvars").read_text())

    state = sim.state()
    assert all(MODEL in [model["name"] for model in device["models"]] for device in state["devices"])
    assert [len(task["subtasks"]) for task in state["tasks"]] == [1, 2]
    outcome = [event for event in events if event["event"] == "runner_on_ok"
               and event["event_data"]["task"] == "Show the outcome"]
    assert len(outcome) == 1
    result = outcome[0]["event_data"]["res"]["model_rollout_result"]
    assert [batch["status"] for batch in result["batches"]] == ["SUCCESS", "SUCCESS"]
    assert sorted(result["deployed_devices"]) == sorted(device["deviceId"] for device in devices)

    # No secret in what AWX keeps of a job: the event stream, and the artifacts it gets back.
    stream = "\n".join(json.dumps({"stdout": event.get("stdout", ""), "event_data": event.get("event_data", {})})
                       for event in events)
    artifacts = {path.relative_to(job / "artifacts").as_posix(): path.read_text(errors="replace")
                 for path in (job / "artifacts").rglob("*") if path.is_file()}
    assert any(name.endswith("/stdout") for name in artifacts) and any("/job_events/" in name for name in artifacts)
    token, basic, *signatures = secret_values(sim)
    for secret in [token, basic] + signatures:
        assert secret not in stream
    # ansible-runner's `command` file records the environment ansible-playbook ran with, the credential's
    # variables included, as in AWX's own private data directory (which AWX removes after the job).
    assert [name for name, text in artifacts.items() if token in text] == [runner.config.ident + "/command"]
    assert [name for name, text in artifacts.items() if any(secret in text for secret in [basic] + signatures)] == []
    sha256 = hashlib.sha256((job / "project" / "models" / MODEL).read_bytes()).hexdigest()
    assert sha256 in stream
    for text in [stream] + list(artifacts.values()):
        assert "X-Amz-" not in text
        # A SigV4 signature is 64 hex digits: the only such value shown is the model's sha256.
        assert set(re.findall(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", text)) <= {sha256}


def secret_values(sim):
    """The token, its HTTP Basic form, and the signature of every upload URL LEM handed out."""
    values = [sim.token, base64.b64encode(("%s:" % sim.token).encode()).decode()]
    puts = [entry for entry in sim.requests("storage_put") if entry["status"] == 200]
    assert puts, "no upload reached the storage"
    signer = UrlSigner()
    for put in puts:
        signed_at = datetime.strptime(put["query"]["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        url = signer.presign_put("https://" + put["headers"]["Host"], object_key(sim.project_id, put["file_name"]),
                                 int(put["query"]["X-Amz-Expires"]), signed_at=signed_at)
        signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
        # The storage accepts this signature for the request it logged: it is the one the job used.
        signer.verify(scheme="https", host=put["headers"]["Host"], path=put["path"],
                      query=dict(put["query"], **{"X-Amz-Signature": signature}), headers=CIMultiDict(put["headers"]),
                      now=signed_at)
        values.append(signature)
    return values
