#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, litmus.lem contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lem_model_info
short_description: Read what Litmus Edge Manager knows about AI/ML models
version_added: 0.1.0
description:
  - Reads, from Litmus Edge Manager (LEM), the model files staged on it, the devices of the project with the models
    deployed on each, the model list aggregated over devices, one deployment task, and the deployment history.
  - Only what O(gather) asks for is requested from LEM. Paged answers are read to the last page.
  - Keys are snake_case. Nothing is ever changed.
author:
  - Litmus LEM collection maintainers (@litmus-lem)
options:
  gather:
    description:
      - What to read.
      - V(staged) is the file list of LEM (the files staged for deployment), returned as RV(staged_files).
      - V(devices) is every device of the project with the models deployed on it, returned as RV(devices).
      - V(models) is the model list aggregated over devices, returned as RV(models).
      - V(task) is the state of the task O(task_id), returned as RV(task).
      - V(history) is every model deployment subtask in LEM's task history, newest first, returned as RV(history).
    type: list
    elements: str
    choices: [staged, devices, models, task, history]
    default: [staged, devices, models]
  name:
    description:
      - Only this model, given as the file name (V(motionModel.zip)) or as the deployed name (V(motionModel)).
      - Narrows every list, including the models of each device.
    type: str
  devices:
    description:
      - Only these devices, each given as a device id, a hostname or a pretty name.
      - A name that matches no device, or several, fails and lists the candidates.
      - Narrows every list. With O(gather=models), the model list is then computed from these devices' models.
    type: list
    elements: str
  task_id:
    description:
      - The task to read with O(gather=task), as RV(litmus.lem.lem_model_deploy#module:task_id) returns it.
    type: str
extends_documentation_fragment:
  - litmus.lem.connection
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: The module only reads, so it runs in check mode as it does otherwise.
  diff_mode:
    support: none
  platform:
    platforms: all
  action_group:
    support: full
    membership:
      - litmus.lem.lem
notes:
  - Where LEM has no task history endpoint (an older LEM), RV(history) is empty and a warning says so.
seealso:
  - module: litmus.lem.lem_model_file
  - module: litmus.lem.lem_model_deploy
"""

EXAMPLES = r"""
- name: Read everything about the motion model
  litmus.lem.lem_model_info:
    lem_url: https://lem.example.com
    lem_token: "{{ lem_token }}"
    project_id: 462j1mq70mph31wa100t1yuxa
    ca_path: /etc/pki/lem-ca.pem
    name: motionModel.zip
  delegate_to: localhost
  register: motion

- name: Show the devices that lack it
  ansible.builtin.debug:
    msg: "{{ motion.devices | rejectattr('models') | map(attribute='hostname') | list }}"

- name: Follow a deployment task (connection from module_defaults or LEM_* environment variables)
  litmus.lem.lem_model_info:
    gather: [task]
    task_id: "{{ deployment.task_id }}"
  delegate_to: localhost

- name: Last deployments of a model on two devices
  litmus.lem.lem_model_info:
    gather: [history]
    name: motionModel.zip
    devices: [litmus-edge-94c6911b9c77, VM]
  delegate_to: localhost
"""

RETURN = r"""
staged_files:
  description: The files staged on LEM, with O(gather=staged).
  returned: when O(gather) holds V(staged)
  type: list
  elements: dict
  contains:
    name:
      description: File name.
      type: str
      sample: motionModel.zip
    size:
      description: Size as LEM reports it (LEM has been seen to report 0).
      type: int
      sample: 0
    last_modified:
      description: When the file's bytes were last stored, in epoch milliseconds.
      type: int
      sample: 1734531634590
    file_type:
      description: LEM's file type.
      type: str
      sample: mlModel
    description:
      description: The description, without the content marker.
      type: str
      sample: Motion detection v3
    sha256:
      description: sha256 of the content, from the marker M(litmus.lem.lem_model_file) keeps in the description; null without one.
      type: str
      sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
devices:
  description: The devices of the project, with the models deployed on each, with O(gather=devices).
  returned: when O(gather) holds V(devices)
  type: list
  elements: dict
  contains:
    device_id:
      description: LEM's device id (not a DeviceHub device id).
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
    online:
      description: Whether LEM sees the device online (either of LEM's C(isOnline) and C(online) says so).
      type: bool
      sample: true
    total_size:
      description: Total size of the device's models, in bytes.
      type: int
      sample: 141852176
    models:
      description: Models deployed on the device.
      type: list
      elements: dict
      contains:
        name:
          description: Deployed name (a zip file's name without C(.zip)).
          type: str
          sample: motionModel
        path:
          description: Where the model lives on the device.
          type: str
          sample: /var/lib/loopedge-analytics2/models/motionModel
        size:
          description: Size in bytes.
          type: int
          sample: 5094648
        deployment_source:
          description: Where the deployment came from, as LEM says.
          type: str
          sample: LE
models:
  description: Models aggregated over devices, with O(gather=models).
  returned: when O(gather) holds V(models)
  type: list
  elements: dict
  contains:
    name:
      description: Deployed name.
      type: str
      sample: motionModel
    size:
      description: Size in bytes.
      type: int
      sample: 5094648
    count:
      description: Number of devices that have it.
      type: int
      sample: 2
task:
  description: One task and its subtasks, with O(gather=task).
  returned: when O(gather) holds V(task)
  type: dict
  contains:
    task_id:
      description: The task id.
      type: str
      sample: ca549da1-e645-4f21-8865-487cb5a4aac1
    status:
      description:
        - V(SUCCESS) when every subtask succeeded, V(FAILED) when all are done and any did not succeed,
          V(IN_PROGRESS) once any has started, else V(PENDING).
      type: str
      sample: SUCCESS
    done:
      description: Whether every subtask is done.
      type: bool
      sample: true
    subtasks:
      description: One entry per device.
      type: list
      elements: dict
      contains:
        task_id:
          description: The task id.
          type: str
        subtask_id:
          description: LEM's id of the subtask.
          type: str
        num:
          description: Position of the subtask in the task.
          type: int
        device_id:
          description: Device id.
          type: str
        pretty_name:
          description: Display name of the device.
          type: str
        file_name:
          description: The file deployed.
          type: str
        status:
          description: LEM's status of the subtask, as it comes (V(PENDING), V(IN_PROGRESS), V(SUCCESS), V(FAILED), or another).
          type: str
        done:
          description: Whether the subtask is finished.
          type: bool
        progress:
          description: Progress from 0 to 1.
          type: float
        msg:
          description: LEM's message for the device, null on success.
          type: str
        start_time:
          description: Start, epoch milliseconds.
          type: int
        stop_time:
          description: End, epoch milliseconds.
          type: int
history:
  description: Model deployment subtasks from LEM's task history, newest first, with O(gather=history).
  returned: when O(gather) holds V(history)
  type: list
  elements: dict
  contains:
    task_id:
      description: Task id.
      type: str
    device_id:
      description: Device id.
      type: str
    file_name:
      description: The file deployed.
      type: str
      sample: motionModel.zip
    status:
      description: LEM's status of the subtask.
      type: str
      sample: SUCCESS
    msg:
      description: LEM's message for the device, null on success.
      type: str
    start_time:
      description: Start, epoch milliseconds.
      type: int
    stop_time:
      description: End, epoch milliseconds.
      type: int
"""

from ansible_collections.litmus.lem.plugins.module_utils._models import (
    InputError,
    aggregate_models,
    device_facts,
    history_facts,
    is_deployed_as,
    matches_model,
    newest_first,
    resolve_devices,
    staged_file_facts,
    subtask_done,
    subtask_facts,
    task_status,
)
from ansible_collections.litmus.lem.plugins.module_utils._module import LemModule

OPTIONS = dict(
    gather=dict(type="list", elements="str", default=["staged", "devices", "models"],
                choices=["staged", "devices", "models", "task", "history"]),
    name=dict(type="str"),
    devices=dict(type="list", elements="str"),
    task_id=dict(type="str"),
)


def gather(module, client):
    params = module.params
    wanted, name = set(params["gather"]), params["name"]
    if "task" in wanted and not params["task_id"]:
        raise InputError("gather holds task but task_id is not set: give the task id that lem_model_deploy returned.")
    result = {"changed": False}

    def named(value):
        return name is None or matches_model(value or "", name)

    chosen = None  # the devices filter, as LEM's records, read only when needed
    if "devices" in wanted or params["devices"]:
        records = client.device_models()
        chosen = resolve_devices(params["devices"], records) if params["devices"] else records
    chosen_ids = None if not params["devices"] else {record["deviceId"] for record in chosen}

    if "staged" in wanted:
        result["staged_files"] = [staged_file_facts(record) for record in client.staged_files() if named(record.get("name"))]
    if "devices" in wanted:
        result["devices"] = [device_facts(record, name) for record in chosen]
    if "models" in wanted:
        models = client.model_list() if chosen_ids is None else aggregate_models(chosen)
        result["models"] = [{"name": model.get("name"), "size": model.get("size"), "count": model.get("count")}
                            for model in models if name is None or is_deployed_as(model.get("name"), name)]
    if "task" in wanted:
        subtasks = [record for record in client.subtasks(params["task_id"])
                    if (chosen_ids is None or record.get("deviceId") in chosen_ids)
                    and named((record.get("params") or {}).get("fileName"))]
        result["task"] = {
            "task_id": params["task_id"],
            "status": task_status(subtasks),
            "done": bool(subtasks) and all(subtask_done(record) for record in subtasks),
            "subtasks": [subtask_facts(record) for record in subtasks],
        }
    if "history" in wanted:
        history = client.task_history()
        if history is None:
            module.warn("This LEM has no task history endpoint (404 on /api/v1/async-task/subtasks): history is empty.")
            history = []
        result["history"] = [history_facts(record) for record in newest_first(history)
                             if named((record.get("params") or {}).get("fileName"))
                             and (chosen_ids is None or record.get("deviceId") in chosen_ids)]
    return result


def main():
    LemModule(OPTIONS).run(gather)


if __name__ == "__main__":
    main()
