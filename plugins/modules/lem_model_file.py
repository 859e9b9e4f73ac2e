#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, litmus.lem contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lem_model_file
short_description: Stage an AI/ML model file on Litmus Edge Manager, or remove it
version_added: 0.1.0
description:
  - Stages a model file on Litmus Edge Manager (LEM), ready to be deployed to devices with M(litmus.lem.lem_model_deploy),
    with LEM's three-step upload - a pre-signed URL, the bytes sent to LEM's storage, then the upload-complete step - and
    reads the file list back to make sure the file is there.
  - Idempotent by content. LEM keeps no checksum, so the module keeps the sha256 of the content in the file's description,
    as C(DESCRIPTION [sha256:HEX]), and compares it with the sha256 of O(src).
  - Removes a staged file with O(state=absent).
author:
  - Litmus LEM collection maintainers (@litmus-lem)
options:
  name:
    description:
      - File name on LEM, for example V(motionModel.zip). Defaults to the base name of O(src).
      - Refused, before anything is sent, when it is empty, V(.) or V(..), contains V(/), V(\\) or a control character,
        or is longer than 255 bytes. Spaces and other characters are fine; they are URL-encoded.
      - Required with O(state=absent).
    type: str
  src:
    description:
      - The model file. Required with O(state=present).
      - With O(remote_src=false), a path on the controller, found the way M(ansible.builtin.copy) finds it
        (a relative path is looked up in the role's and the playbook's C(files/) directories).
      - With O(remote_src=true), a path on the host the module runs on.
      - It must be a regular, readable, non-empty file.
    type: path
  remote_src:
    description:
      - V(false) finds O(src) on the controller; V(true) takes it as a path on the host the module runs on.
    type: bool
    default: false
  state:
    description:
      - V(present) stages the file; V(absent) removes it from LEM.
    type: str
    choices: [present, absent]
    default: present
  description:
    description:
      - Description shown in LEM. The module appends the content marker C([sha256:HEX]) to it.
    type: str
    default: ""
  overwrite:
    description:
      - When to upload over a file of the same name.
      - V(different) uploads when the content differs (a file without the content marker counts as different), and
        repeats only the upload-complete step, without sending the bytes, when only the description differs.
      - V(never) keeps any file of that name as it is, description included.
      - V(always) uploads every run.
    type: str
    choices: [different, never, always]
    default: different
  upload_timeout:
    description:
      - The upload to LEM's storage fails when no bytes move, or no answer comes, for this many seconds; it is also how
        long the storage may take to accept the connection.
      - API calls use O(timeout) instead.
    type: float
    default: 600
  upload_via_lem_url:
    description:
      - Send the upload to the host and port of O(lem_url), keeping the C(Host) header the URL was signed for,
        instead of to the host in the pre-signed URL.
      - For a LEM that signs upload URLs with an address the controller cannot reach. The storage's certificate
        is then checked against the host of O(lem_url).
    type: bool
    default: false
extends_documentation_fragment:
  - litmus.lem.connection
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Reads what LEM holds and computes the content's sha256, then reports the change it would make, without any upload or deletion.
  diff_mode:
    support: full
    details: The name, sha256, size, description and state before and after.
  platform:
    platforms: all
  action:
    support: full
    details: Finds O(src) on the controller, in the role's and playbook's C(files/) directories, unless O(remote_src=true).
  async:
    support: none
  bypass_host_loop:
    support: none
  action_group:
    support: full
    membership:
      - litmus.lem.lem
notes:
  - The bytes go to the pre-signed URL LEM returns, streamed from disk with a C(Content-Length) (never chunked),
    without the API token (the URL's signature is the authorization). A URL that expired before the upload reached
    the storage is replaced once by a fresh one.
  - The pre-signed URL is a credential; it is never returned or printed whole.
  - When LEM has no file of that name yet, the sha256 is computed while the file is uploaded, in one pass over it.
seealso:
  - module: litmus.lem.lem_model_deploy
  - module: litmus.lem.lem_model_info
"""

EXAMPLES = r"""
- name: Stage the motion model (found in the role's or playbook's files/)
  litmus.lem.lem_model_file:
    lem_url: https://lem.example.com
    lem_token: "{{ lem_token }}"
    project_id: 462j1mq70mph31wa100t1yuxa
    ca_path: /etc/pki/lem-ca.pem
    src: motionModel.zip
    description: Motion detection v3
  delegate_to: localhost

- name: Stage a model built on the host, under another name (connection from LEM_* environment variables)
  litmus.lem.lem_model_file:
    src: /srv/build/out/model.zip
    remote_src: true
    name: motionModel.zip

- name: Never replace a file that is already staged
  litmus.lem.lem_model_file:
    src: motionModel.zip
    overwrite: never
  delegate_to: localhost

- name: Remove the staged file
  litmus.lem.lem_model_file:
    name: motionModel.zip
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
file:
  description:
    - The staged file as it is after the task (in check mode, as it would be). Null with O(state=absent).
  returned: always
  type: dict
  contains:
    name:
      description: File name on LEM.
      type: str
      sample: motionModel.zip
    size:
      description: The content's size in bytes; the local file's where the module read it, LEM's own figure otherwise.
      type: int
      sample: 5094648
    sha256:
      description: sha256 of the content, from the content marker; null for a file without the marker.
      type: str
      sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    description:
      description: The description, without the content marker.
      type: str
      sample: Motion detection v3
    last_modified:
      description: When LEM last stored the file's bytes, epoch milliseconds, as LEM gives it (null in check mode for a new file).
      type: int
      sample: 1734531634590
    file_type:
      description: LEM's file type.
      type: str
      sample: mlModel
uploaded:
  description: Whether new bytes were sent to LEM (false in check mode).
  returned: always
  type: bool
  sample: true
bytes_sent:
  description: Bytes sent to LEM's storage by this task, a retried upload counted again (0 in check mode).
  returned: always
  type: int
  sample: 5094648
"""

import hashlib
import os

from ansible_collections.litmus.lem.plugins.module_utils._client import FILE_TYPE, LemError, UploadBody
from ansible_collections.litmus.lem.plugins.module_utils._models import (
    InputError,
    check_file_name,
    file_sha256,
    join_description,
    staged_file_facts,
)
from ansible_collections.litmus.lem.plugins.module_utils._module import LemModule

OPTIONS = dict(
    name=dict(type="str"),
    src=dict(type="path"),
    remote_src=dict(type="bool", default=False),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    description=dict(type="str", default=""),
    overwrite=dict(type="str", default="different", choices=["different", "never", "always"]),
    upload_timeout=dict(type="float", default=600),
    upload_via_lem_url=dict(type="bool", default=False),
)


def source_size(src):
    """Size of the model file, or InputError naming what is wrong with it."""
    if not os.path.exists(src):
        raise InputError("src %s does not exist: give the path of the model file (a relative path is looked up in the "
                         "role's and playbook's files/ directories; remote_src: true takes it on the host the module runs on)." % src)
    if os.path.isdir(src):
        raise InputError("src %s is a directory: give the model file itself (zip a model directory first)." % src)
    if not os.path.isfile(src):
        raise InputError("src %s is not a regular file: give the model file itself." % src)
    try:
        with open(src, "rb"):
            pass
    except (IOError, OSError) as exc:
        raise InputError("src %s cannot be read (%s): give the user running Ansible read access to it." % (src, exc.strerror or exc))
    size = os.path.getsize(src)
    if size == 0:
        raise InputError("src %s is empty (0 bytes): a model needs content; check that the file was produced completely." % src)
    return size


def diff_view(facts):
    """A staged file (or its absence) as diff mode shows it."""
    if facts is None:
        return {"state": "absent"}
    view = dict((key, facts[key]) for key in ("name", "sha256", "size", "description"))
    view["state"] = "present"
    return view


def stage_file(module, client):
    params = module.params
    name = check_file_name(params["name"] if params["name"] is not None else os.path.basename(params["src"] or ""))
    if params["state"] == "absent":
        return remove_file(module, client, name)
    if not params["src"]:
        raise InputError("src is required with state: present: give the path of the model file to stage.")
    size = source_size(params["src"])
    description = (params["description"] or "").strip()

    staged = client.staged_file(name)
    before = staged_file_facts(staged) if staged else None
    sha256 = None
    if staged is None or params["overwrite"] == "always":
        action = "upload"
    elif params["overwrite"] == "never":
        action = "keep"
    else:
        sha256 = file_sha256(params["src"])
        if sha256 == before["sha256"]:
            before = dict(before, size=size)  # the same content: LEM's own size figure (often 0) would only mislead
        if sha256 != before["sha256"]:
            action = "upload"
        elif description != before["description"]:
            action = "describe"
        else:
            action = "keep"

    if action == "keep":
        return outcome(module, before, before, changed=False)

    if module.check_mode:
        if sha256 is None:
            sha256 = file_sha256(params["src"])
        predicted = {"name": name, "size": size, "sha256": sha256, "description": description,
                     "last_modified": before["last_modified"] if (before and action == "describe") else None,
                     "file_type": FILE_TYPE}
        return outcome(module, before, predicted, changed=True)

    bytes_sent = 0
    if action == "upload":
        with open(params["src"], "rb") as handle:
            # Hashed as it is sent even when the hash is known: the marker must describe the bytes LEM got.
            body = UploadBody(handle, size, hasher_factory=hashlib.sha256)
            client.upload(name, body, params["upload_timeout"], params["upload_via_lem_url"])
            bytes_sent = body.bytes_sent_total
            sent = body.hasher.hexdigest()
        if sha256 is not None and sent != sha256:
            raise LemError("src %s changed while it was uploaded (sha256 %s before, %s of the bytes sent), so %s was not "
                           "registered: run the task again once the file is no longer being written."
                           % (params["src"], sha256, sent, name), result=written(True, bytes_sent))
        sha256 = sent
    try:
        client.complete_upload(name, join_description(description, sha256))
        after = client.staged_file(name)
    except LemError as exc:
        if action == "upload":
            what = "The bytes of %s reached LEM's storage, but LEM did not register them" % name
        else:
            what = "LEM did not take the new description of %s" % name
        raise LemError("%s: %s Run the task again to finish." % (what, exc.message), status=exc.status,
                       result=written(action == "upload", bytes_sent))
    facts = staged_file_facts(after) if after else None
    if facts is None or facts["sha256"] != sha256 or facts["description"] != description:
        raise LemError("LEM does not list %s with the content just staged (expected [sha256:%s] in its description, found %r): "
                       "the upload did not take. Run the task again; if it persists, check LEM's file store."
                       % (name, sha256, after.get("description") if after else "no such file"),
                       result=written(action == "upload", bytes_sent))
    return outcome(module, before, dict(facts, size=size), changed=True, uploaded=action == "upload", bytes_sent=bytes_sent)


def written(uploaded, bytes_sent):
    """What a failure after a write returns beside its message: LEM was changed."""
    return {"changed": True, "file": None, "uploaded": uploaded, "bytes_sent": bytes_sent}


def remove_file(module, client, name):
    staged = client.staged_file(name)
    before = staged_file_facts(staged) if staged else None
    if staged is not None and not module.check_mode:
        client.delete_file(name)
        try:
            still_listed = client.staged_file(name) is not None
        except LemError as exc:
            raise LemError("%s was deleted, but reading the file list back failed: %s" % (name, exc.message),
                           status=exc.status, result=written(False, 0))
        if still_listed:
            raise LemError("LEM answered the deletion of %s without an error, but still lists it: the deletion did not take "
                           "(check that lem_url is LEM's own address, not a proxy's). Run the task again; if it persists, "
                           "check LEM's file store." % name)
    return outcome(module, before, None, changed=staged is not None)


def outcome(module, before, after, changed, uploaded=False, bytes_sent=0):
    result = {"changed": changed, "file": after, "uploaded": uploaded, "bytes_sent": bytes_sent}
    if module._diff:
        result["diff"] = {"before": diff_view(before), "after": diff_view(after)}
    return result


def main():
    LemModule(OPTIONS).run(stage_file)


if __name__ == "__main__":
    main()
