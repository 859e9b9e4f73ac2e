"""The AnsibleModule helper: merged options, env fallbacks, failures as one sentence."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.litmus.lem.plugins.module_utils._client import LemError
from ansible_collections.litmus.lem.plugins.module_utils._module import CONNECTION_ARGUMENT_SPEC, LemModule

TOKEN = "tok-unit-SECRET-99"
CONNECTION = {"lem_url": "https://lem.example.com", "lem_token": TOKEN, "project_id": "p1"}


def outcome(capsys, decide, args, options=None):
    """Run a LemModule with ``decide``; return (exit code, the JSON it printed)."""
    with patch_module_args(args), pytest.raises(SystemExit) as stop:
        LemModule(options or {"name": {"type": "str"}}).run(decide)
    return stop.value.code, json.loads(capsys.readouterr().out)


def test_connection_options_are_merged_with_the_modules_own(capsys):
    code, result = outcome(capsys, lambda module, client: {"changed": False, "name": module.params["name"],
                                                           "project": client.project_id},
                           dict(CONNECTION, name="m.zip"))
    assert code == 0 and result["name"] == "m.zip" and result["project"] == "p1"
    assert set(CONNECTION_ARGUMENT_SPEC) == {"lem_url", "lem_token", "auth_mode", "project_id", "validate_certs",
                                             "ca_path", "timeout", "retries"}
    assert CONNECTION_ARGUMENT_SPEC["lem_token"]["no_log"] is True


def test_environment_fallbacks(capsys, monkeypatch):
    monkeypatch.setenv("LEM_URL", "https://from-env.example.com")
    monkeypatch.setenv("LEM_API_TOKEN", TOKEN)
    monkeypatch.setenv("LEM_PROJECT_ID", "env-project")
    monkeypatch.setenv("LEM_TIMEOUT", "7.5")
    monkeypatch.setenv("LEM_AUTH_MODE", "header")
    code, result = outcome(capsys, lambda module, client: {"url": client.base_url, "timeout": client.timeout,
                                                           "mode": client.auth_mode, "project": client.project_id}, {})
    assert code == 0
    assert result["url"] == "https://from-env.example.com" and result["timeout"] == 7.5
    assert result["mode"] == "header" and result["project"] == "env-project"


def test_a_lem_error_fails_with_its_sentence_and_result(capsys):
    def decide(module, client):
        raise LemError("The deployment timed out.", result={"status": "TIMEOUT"})
    code, result = outcome(capsys, decide, CONNECTION)
    assert code == 1 and result["failed"] is True
    assert result["msg"] == "The deployment timed out." and result["status"] == "TIMEOUT" and result["changed"] is False


def test_an_unforeseen_exception_is_a_sentence_without_secrets(capsys):
    def decide(module, client):
        raise KeyError("deviceId with %s" % TOKEN)
    code, result = outcome(capsys, decide, CONNECTION)
    assert code == 1
    assert result["msg"].startswith("Unexpected failure in") and "KeyError" in result["msg"] and "bug in litmus.lem" in result["msg"]
    assert TOKEN not in json.dumps(result)


def test_a_bad_lem_url_is_refused_before_anything_is_sent(capsys):
    code, result = outcome(capsys, lambda module, client: {}, dict(CONNECTION, lem_url="lem.example.com"))
    assert code == 1 and "is not a URL of LEM" in result["msg"]
