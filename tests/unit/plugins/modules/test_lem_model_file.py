"""lem_model_file's decisions, with a stand-in client (the HTTP side is the integration tests')."""

import hashlib
from types import SimpleNamespace

import pytest

from ansible_collections.litmus.lem.plugins.module_utils._client import LemError
from ansible_collections.litmus.lem.plugins.modules.lem_model_file import stage_file


class Client:
    """LEM holding one staged file; upload() runs `during_upload` while the body is being sent."""

    def __init__(self, staged=None, during_upload=None):
        self.staged = staged
        self.during_upload = during_upload
        self.calls = []

    def staged_file(self, name):
        self.calls.append("list")
        return self.staged

    def upload(self, name, body, upload_timeout, via_lem_url):
        self.calls.append("upload")
        if self.during_upload:
            self.during_upload()
        while body.read():
            pass

    def complete_upload(self, name, description):
        self.calls.append("complete")
        self.staged = {"name": name, "description": description, "fileType": "mlModel", "size": 0, "lastModified": 1}


def module(src, **params):
    values = {"name": None, "src": str(src), "state": "present", "description": "", "overwrite": "different",
              "upload_timeout": 60, "upload_via_lem_url": False}
    values.update(params)
    return SimpleNamespace(params=values, check_mode=False, _diff=True)


def test_a_file_that_changes_during_the_upload_is_not_registered(tmp_path):
    src = tmp_path / "m.zip"
    src.write_bytes(b"version one " * 1000)
    stale = {"name": "m.zip", "description": "[sha256:%s]" % ("0" * 64), "fileType": "mlModel"}
    client = Client(staged=stale, during_upload=lambda: src.write_bytes(b"version two " * 1000))
    with pytest.raises(LemError) as error:
        stage_file(module(src), client)
    assert "changed while it was uploaded" in str(error.value)
    assert "complete" not in client.calls
    assert error.value.result["changed"] is True and error.value.result["uploaded"] is True


def test_the_marker_is_the_hash_of_the_bytes_sent(tmp_path):
    src = tmp_path / "m.zip"
    src.write_bytes(b"version one " * 1000)
    client = Client()
    result = stage_file(module(src, description="v1"), client)
    assert result["file"]["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert client.calls == ["list", "upload", "complete", "list"]


def test_an_unchanged_file_shows_no_size_change_in_the_diff(tmp_path):
    src = tmp_path / "m.zip"
    src.write_bytes(b"same " * 100)
    staged = {"name": "m.zip", "description": "d [sha256:%s]" % hashlib.sha256(src.read_bytes()).hexdigest(),
              "fileType": "mlModel", "size": 0}
    result = stage_file(module(src, description="d"), Client(staged=staged))
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["file"]["size"] == 500
