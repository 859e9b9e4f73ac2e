#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, litmus.lem contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lem_model_deploy
short_description: Deploy a staged AI/ML model to Litmus Edge devices and wait for it
version_added: 0.1.0
description:
  - Deploys a model file staged on Litmus Edge Manager (LEM) with M(litmus.lem.lem_model_file) to edge devices,
    as one LEM async task for all of them, waits for the task and reports the outcome per device.
  - Idempotent with O(redeploy=missing) - devices that are current are skipped, and when every device is current
    nothing is sent and the module reports no change.
  - A device is current when it lists the model and LEM's task history shows a successful deployment of this file
    on it at or after the time the staged file's bytes were last stored. So a rerun after a half-finished rollout of
    new content deploys to the devices that still hold the older upload. Where LEM has no task history endpoint,
    a device that lists the model counts as current, with a warning.
author:
  - Litmus LEM collection maintainers (@litmus-lem)
options:
  name:
    description:
      - Name of the staged file to deploy, for example V(motionModel.zip).
      - A device lists it by its deployed name - the file name without C(.zip) for a zip, else the file name.
    type: str
    required: true
  devices:
    description:
      - The devices to deploy to, each a device id, a hostname or a pretty name; or the single value V(all) for every
        device of the project, online or not.
      - Names are resolved through LEM's device list. A name that matches no device, or several, fails before anything
        is deployed and lists the candidates. Duplicates are dropped.
    type: list
    elements: str
    required: true
  redeploy:
    description:
      - V(missing) deploys only to devices that are not current (see above).
      - V(always) deploys to every device in O(devices).
    type: str
    choices: [missing, always]
    default: missing
  wait:
    description:
      - Wait for the deployment task to finish. With V(false), the module returns the task id at once.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the task, on a monotonic clock. At the deadline the module fails with status V(TIMEOUT)
        and the partial per-device state.
    type: int
    default: 900
  wait_sleep:
    description:
      - Seconds between two polls of the task. Polling errors other than 401, 403 and 404 are retried until O(wait_timeout).
    type: float
    default: 5
  wait_for_online:
    description:
      - LEM's C(waitForOnline). V(true) lets LEM wait for offline devices to come online; V(false) lets their deployment fail.
    type: bool
    default: false
  task_name:
    description:
      - Name of the LEM task. Defaults to C(Upload AI/ML Models (N edge devices)), or C(Upload AI/ML Models (1 edge device)).
    type: str
  fail_on_device_error:
    description:
      - Fail when the deployment failed on any device, with a message naming each failed device and LEM's message for it.
      - With V(false), the module returns status V(FAILED) and the per-device state without failing.
    type: bool
    default: true
extends_documentation_fragment:
  - litmus.lem.connection
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: Resolves the devices and reads their models and LEM's task history, then reports which devices would be deployed to, without deploying.
  diff_mode:
    support: none
  platform:
    platforms: all
  action_group:
    support: full
    membership:
      - litmus.lem.lem
notes:
  - The deployment request is never sent twice where LEM may have acted on it. After a 5xx answer or a lost answer, the
    module fails saying the deployment may have started; check with M(litmus.lem.lem_model_info) (O(litmus.lem.lem_model_info#module:gather=history)
    or O(litmus.lem.lem_model_info#module:gather=devices)) before running again.
  - In check mode, a file that is not staged yet is a warning, not an error, because an earlier task of the same run would have staged it.
seealso:
  - module: litmus.lem.lem_model_file
  - module: litmus.lem.lem_model_info
"""

EXAMPLES = r"""
- name: Deploy the motion model to two lines, skipping devices that already have it
  litmus.lem.lem_model_deploy:
    lem_url: https://lem.example.com
    lem_token: "{{ lem_token }}"
    project_id: 462j1mq70mph31wa100t1yuxa
    ca_path: /etc/pki/lem-ca.pem
    name: motionModel.zip
    devices:
      - litmus-edge-94c6911b9c77
      - Line 2 sensor
  delegate_to: localhost
  register: deployment

- name: Deploy to every device, let offline ones pick it up when they come back (connection from module_defaults)
  litmus.lem.lem_model_deploy:
    name: motionModel.zip
    devices: [all]
    wait_for_online: true
    wait_timeout: 3600
  delegate_to: localhost

- name: Start a deployment and follow it later
  litmus.lem.lem_model_deploy:
    name: motionModel.zip
    devices: [all]
    redeploy: always
    wait: false
  delegate_to: localhost
  register: started
"""

RETURN = r"""
task_id:
  description: Id of the LEM task; null when nothing was deployed (and in check mode).
  returned: always
  type: str
  sample: ca549da1-e645-4f21-8865-487cb5a4aac1
status:
  description:
    - V(SUCCESS) when every device succeeded; V(FAILED) when all finished and any failed; V(TIMEOUT) when the task did
      not finish within O(wait_timeout); V(PENDING) with O(wait=false) and in check mode; V(IN_PROGRESS) when the task
      was started but reading its state failed (the module then fails, with RV(task_id) in the result); V(SKIPPED) when
      every device was current and nothing was deployed.
  returned: always
  type: str
  sample: SUCCESS
devices:
  description: One entry per device in O(devices).
  returned: always
  type: list
  elements: dict
  contains:
    device_id:
      description: LEM's device id.
      type: str
      sample: 1a5wiavluwxuhwai5leb1v0hc
    hostname:
      description: Host name of the device.
      type: str
      sample: litmus-edge-94c6911b9c77
    pretty_name:
      description: Display name of the device.
      type: str
      sample: Line 1 sensor
    action:
      description:
        - V(deployed) - the model was deployed to the device (or, with O(wait=false) and in check mode, is or would be);
          V(skipped) - the device was current; V(failed) - its deployment failed or did not finish in time.
      type: str
      sample: deployed
    status:
      description: LEM's status of the device's subtask, as it comes; null for a skipped device and in check mode.
      type: str
      sample: SUCCESS
    msg:
      description: LEM's message for the device (null on success), or why it was skipped.
      type: str
      sample: null
    progress:
      description: Progress of the device's subtask, from 0 to 1; null where there is none.
      type: float
      sample: 1
deployed_devices:
  description: Ids of the devices with RV(devices[].action=deployed).
  returned: always
  type: list
  elements: str
skipped_devices:
  description: Ids of the devices that were current.
  returned: always
  type: list
  elements: str
failed_devices:
  description: Ids of the devices whose deployment failed or did not finish within O(wait_timeout).
  returned: always
  type: list
  elements: str
elapsed:
  description: Seconds the module took.
  returned: always
  type: float
  sample: 12.4
"""

import time

from ansible_collections.litmus.lem.plugins.module_utils._client import LemError, LemHTTPError
from ansible_collections.litmus.lem.plugins.module_utils._models import (
    check_file_name,
    device_label,
    is_current,
    latest_successes,
    lists_model,
    resolve_devices,
    subtask_done,
    task_status,
)
from ansible_collections.litmus.lem.plugins.module_utils._module import LemModule

OPTIONS = dict(
    name=dict(type="str", required=True),
    devices=dict(type="list", elements="str", required=True),
    redeploy=dict(type="str", default="missing", choices=["missing", "always"]),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=900),
    wait_sleep=dict(type="float", default=5),
    wait_for_online=dict(type="bool", default=False),
    task_name=dict(type="str"),
    fail_on_device_error=dict(type="bool", default=True),
)

# Polling answers that no wait will change.
FINAL_POLL_ERRORS = (401, 403, 404)
UNFINISHED = "did not finish in time"
NO_SUBTASK = "LEM reports no subtask for this device"


def deploy(module, client):
    started = time.monotonic()
    params = module.params
    name = check_file_name(params["name"])

    staged = client.staged_file(name)
    if staged is None:
        message = ("%s is not staged on LEM (project %s): stage it first with litmus.lem.lem_model_file (src: the model file, name: %s)."
                   % (name, client.project_id, name))
        if not module.check_mode:
            raise LemError(message)
        module.warn(message + " Predicting as if an earlier task of this run had staged it.")

    targets = resolve_devices(params["devices"], client.device_models())
    if not targets:
        module.warn("Project %s has no devices: there is nothing to deploy %s to." % (client.project_id, name))
    pending = choose_devices(module, client, name, targets, staged)
    pending_ids = set(device["deviceId"] for device in pending)
    plan = [entry(device, "deployed" if device["deviceId"] in pending_ids else "skipped") for device in targets]

    if not pending:
        return report(plan, None, "SKIPPED", started, changed=False)
    if module.check_mode:
        return report(plan, None, "PENDING", started, changed=True)

    task_id = client.deploy_model(name, [device["deviceId"] for device in pending], params["wait_for_online"], params["task_name"])
    if not params["wait"]:
        for item in plan:
            if item["action"] == "deployed":
                item.update(status="PENDING", progress=0)
        return report(plan, task_id, "PENDING", started, changed=True)

    try:
        subtasks, status, poll_error = wait_for(client, task_id, params["wait_timeout"], params["wait_sleep"])
    except LemError as exc:
        # The task runs on LEM whatever happened here: say so in the result too.
        exc.result = report(plan, task_id, "IN_PROGRESS", started, changed=True)
        raise
    settle(plan, subtasks)
    if status == "SUCCESS" and any(item["action"] == "failed" for item in plan):
        status = "FAILED"  # all subtasks LEM listed succeeded, but not every device had one
    result = report(plan, task_id, status, started, changed=True)
    if status == "TIMEOUT":
        raise LemError(timeout_message(name, task_id, plan, params["wait_timeout"], poll_error), result=result)
    if status == "FAILED" and params["fail_on_device_error"]:
        raise LemError(failure_message(name, task_id, plan), result=result)
    return result


def choose_devices(module, client, name, targets, staged):
    """The targets that need the model: all with redeploy=always, else those that are not current."""
    if module.params["redeploy"] == "always":
        return list(targets)
    successes = {}
    if any(lists_model(device, name) for device in targets):
        # Only a device that lists the model needs the history to tell an older upload from this one.
        history = client.task_history()
        successes = None if history is None else latest_successes(history, name)
        if history is None:
            module.warn("This LEM has no task history endpoint (404 on /api/v1/async-task/subtasks), so a device that lists "
                        "the model counts as current even if it holds an older upload of %s. Use redeploy: always after "
                        "changing the staged file." % name)
    last_modified = staged.get("lastModified") if staged else None
    return [device for device in targets if not is_current(device, name, last_modified, successes)]


def wait_for(client, task_id, timeout, sleep):
    """Poll the task's subtasks until all are done or the monotonic deadline passes.

    Returns (subtasks, SUCCESS | FAILED | TIMEOUT, the last polling error or None).
    Polling errors are retried until the deadline, except answers no wait will change.
    """
    deadline = time.monotonic() + timeout
    subtasks, poll_error = [], None
    while True:
        try:
            subtasks = client.subtasks(task_id)
            poll_error = None
        except LemHTTPError as exc:
            if exc.status in FINAL_POLL_ERRORS:
                raise LemError("Deployment task %s was started, but reading its state failed: %s Follow it with "
                               "litmus.lem.lem_model_info (gather: [task], task_id: %s)." % (task_id, exc.message, task_id))
            poll_error = exc
        except LemError as exc:
            poll_error = exc
        status = task_status(subtasks) if poll_error is None else None
        if status in ("SUCCESS", "FAILED"):
            return subtasks, status, None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return subtasks, "TIMEOUT", poll_error
        time.sleep(min(sleep, remaining))


def entry(device, action):
    return {
        "device_id": device.get("deviceId"),
        "hostname": device.get("hostname"),
        "pretty_name": device.get("prettyName"),
        "action": action,
        "status": None,
        "msg": "already current" if action == "skipped" else None,
        "progress": None,
    }


def settle(plan, subtasks):
    """Put each subtask's state on its device; a device that did not succeed, or did not finish, is failed."""
    by_device = dict((subtask.get("deviceId"), subtask) for subtask in subtasks)
    for item in plan:
        if item["action"] != "deployed":
            continue
        subtask = by_device.get(item["device_id"])
        if subtask is None:
            item.update(action="failed", msg=NO_SUBTASK if subtasks else UNFINISHED)
            continue
        item.update(status=subtask.get("status"), msg=subtask.get("msg"), progress=subtask.get("progress"))
        if not subtask_done(subtask):
            item.update(action="failed", msg=item["msg"] or UNFINISHED)
        elif subtask.get("status") != "SUCCESS":
            item["action"] = "failed"


def report(plan, task_id, status, started, changed):
    def ids(action):
        return [item["device_id"] for item in plan if item["action"] == action]
    return {
        "changed": changed,
        "task_id": task_id,
        "status": status,
        "devices": plan,
        "deployed_devices": ids("deployed"),
        "skipped_devices": ids("skipped"),
        "failed_devices": ids("failed"),
        "elapsed": round(time.monotonic() - started, 1),
    }


def _describe(item):
    device = {"hostname": item["hostname"], "prettyName": item["pretty_name"], "deviceId": item["device_id"]}
    return "%s: %s (%s)" % (device_label(device), item["msg"] or "no message", item["status"] or "no status")


def failure_message(name, task_id, plan):
    failed = [item for item in plan if item["action"] == "failed"]
    sent = len([item for item in plan if item["action"] != "skipped"])
    return ("The deployment of %s failed on %d of %d devices (task %s): %s. Fix the devices, then run again: devices that "
            "succeeded are skipped." % (name, len(failed), sent, task_id, "; ".join(_describe(item) for item in failed)))


def timeout_message(name, task_id, plan, timeout, poll_error):
    open_items = [item for item in plan if item["action"] == "failed"]
    text = ("The deployment of %s (task %s) did not finish within wait_timeout (%d s); not done or failed on %d device(s): %s."
            % (name, task_id, timeout, len(open_items), "; ".join(_describe(item) for item in open_items)))
    if poll_error is not None:
        text += " The last poll failed: %s" % poll_error.message
    return text + (" Raise wait_timeout, or follow the task with litmus.lem.lem_model_info (gather: [task], task_id: %s)." % task_id)


def main():
    LemModule(OPTIONS).run(deploy)


if __name__ == "__main__":
    main()
