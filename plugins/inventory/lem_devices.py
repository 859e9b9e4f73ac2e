# -*- coding: utf-8 -*-

# Copyright: (c) 2026, litmus.lem contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: lem_devices
short_description: The edge devices of a Litmus Edge Manager project as inventory hosts
version_added: 0.1.0
description:
  - Makes every edge device of a Litmus Edge Manager (LEM) project an inventory host, grouped by whether it is online and
    by the AI/ML models deployed on it, so that a play can target, for example, the devices that lack a model.
  - The devices come from LEM's device model list (Get Models, C(GET /api/v1/analytics/{project}/models)), read to the last
    page.
  - The host name (C(inventory_hostname)) is the device's hostname, or its device id when the hostname is missing or also
    names another device (several devices sharing one hostname are all named by their ids).
  - "Each host gets the variables C(lem_device_id), C(lem_hostname) (null when LEM has none), C(lem_pretty_name),
    C(lem_online) (a boolean) and C(lem_models) (the names of the deployed models, as the device lists them:
    V(motionModel) for a deployed C(motionModel.zip))."
  - Hosts are in the groups C(lem_online) or C(lem_offline) (both always exist, maybe empty), and C(lem_model_<name>) for
    each model deployed on them, with characters that are invalid in a group name replaced by C(_)
    (C(gasFive.tflite) gives C(lem_model_gasFive_tflite)). Two model names that differ only in such characters share a group.
  - "No connection variables are set. Devices are managed through LEM, not over SSH, so plays on these hosts run their tasks
    on the controller (C(connection: local) or C(delegate_to: localhost)), with C(gather_facts: false)."
  - The source file's name must end in C(lem_devices.yml) or C(lem_devices.yaml).
  - The API token is never shown, not even with C(-vvv).
  - "With O(cache=true), the device list is kept in the cache plugin's store under a key made of the source file's path,
    O(lem_url) and O(project_id); a cached inventory makes no request to LEM. C(--flush-cache) and C(meta: refresh_inventory)
    read LEM again and renew the cache. O(compose), O(groups) and O(keyed_groups) apply to cached devices too."
author:
  - Litmus LEM collection maintainers (@litmus-lem)
options:
  plugin:
    description:
      - The name of this plugin; it makes the file an inventory source of this plugin.
    type: str
    required: true
    choices: [litmus.lem.lem_devices]
extends_documentation_fragment:
  - litmus.lem.connection.plugins
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
notes:
  - Variables made with O(compose), and groups made with O(groups) or O(keyed_groups), can use the host variables above.
  - A device that is offline is still a host (in C(lem_offline)); target C(lem_online) to leave it out.
seealso:
  - module: litmus.lem.lem_model_info
  - module: litmus.lem.lem_model_deploy
  - plugin: ansible.builtin.constructed
    plugin_type: inventory
    description: The options O(compose), O(groups) and O(keyed_groups) work as they do there.
requirements:
  - requests
"""

EXAMPLES = r"""
---
# lem_devices.yml, the minimal source. The connection options come from the environment
# (LEM_URL, LEM_API_TOKEN, LEM_PROJECT_ID, LEM_CA_PATH, ...) or are set here.
plugin: litmus.lem.lem_devices

---
# lem_devices.yml with groups of its own, a variable per host, and a cache.
plugin: litmus.lem.lem_devices
lem_url: https://lem.example.com
project_id: 462j1mq70mph31wa100t1yuxa
ca_path: /etc/pki/lem-ca.pem
# lem_token: from LEM_API_TOKEN, so that it stays out of the file
# A bad expression skips the host it fails on; strict: true makes it fail the inventory instead.
strict: false
compose:
  model_count: lem_models | length
keyed_groups:
  # site_<first word of the pretty name>, for example site_Line
  - prefix: site
    key: lem_pretty_name.split(' ')[0]
groups:
  # online devices that hold no model at all
  lem_empty: lem_online and not lem_models
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/lem_inventory
cache_timeout: 600

---
# A playbook that deploys motionModel.zip to the devices that lack it:
# ansible-playbook -i lem_devices.yml deploy_motion.yml
- name: Deploy the motion model where it is missing
  hosts: "all:!lem_model_motionModel"
  connection: local
  gather_facts: false
  tasks:
    - name: Show the devices that lack the model
      ansible.builtin.debug:
        msg: "{{ inventory_hostname }} ({{ lem_pretty_name }}) lacks motionModel"

    - name: Deploy it to all of them in one LEM task
      litmus.lem.lem_model_deploy:
        name: motionModel.zip
        devices: "{{ ansible_play_hosts | map('extract', hostvars, 'lem_device_id') | list }}"
      run_once: true
"""

import hashlib
import os

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable, to_safe_group_name
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.litmus.lem.plugins.module_utils._client import LemClient, LemError
from ansible_collections.litmus.lem.plugins.module_utils._models import inventory_hosts

ONLINE_GROUP = "lem_online"
OFFLINE_GROUP = "lem_offline"
MODEL_GROUP_PREFIX = "lem_model_"


def model_group(name):
    """The group of the devices that list the model ``name``, with invalid characters replaced by '_'."""
    return to_safe_group_name(MODEL_GROUP_PREFIX + name)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """The devices of a LEM project as hosts, from Get Models, through the collection's one client."""

    NAME = "litmus.lem.lem_devices"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("lem_devices.yml", "lem_devices.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        try:
            client = LemClient(
                self.get_option("lem_url"), self.get_option("lem_token"), self.get_option("project_id"),
                auth_mode=self.get_option("auth_mode"), validate_certs=self.get_option("validate_certs"),
                # A str option: a path option would turn an empty LEM_CA_PATH (an AWX credential without a CA)
                # into the current directory instead of "no CA file".
                ca_path=os.path.expanduser(self.get_option("ca_path") or "") or None, timeout=self.get_option("timeout"),
                retries=self.get_option("retries"))
            devices = self._devices(client, path, cache)
        except LemError as exc:
            raise AnsibleParserError(str(exc))
        for warning in client.warnings:
            self.display.warning(warning)
        self._populate(devices)

    def _devices(self, client, path, cache):
        """LEM's device records: from the cache when it may be read and holds them, else from LEM (then cached)."""
        use_cache = self.get_option("cache")
        source = "%s %s" % (client.base_url, client.project_id)
        key = "%s_%s" % (self.get_cache_key(path), hashlib.sha256(source.encode("utf-8")).hexdigest()[:8])
        if use_cache and cache:
            try:
                return self._cache[key]
            except KeyError:
                pass
        devices = client.device_models()
        if use_cache:
            self._cache[key] = devices
        return devices

    def _populate(self, devices):
        strict = self.get_option("strict")
        for group in (ONLINE_GROUP, OFFLINE_GROUP):
            self.inventory.add_group(group)
        hosts = inventory_hosts(devices)
        left_out = sum(1 for device in devices if not device.get("deviceId"))
        if left_out:
            self.display.warning("LEM listed %d device record(s) without a deviceId; they are not in the inventory." % left_out)
        for name, host_vars in hosts:
            self.inventory.add_host(name)
            for variable, value in host_vars.items():
                self.inventory.set_variable(name, variable, wrap_var(value))
            self.inventory.add_child(ONLINE_GROUP if host_vars["lem_online"] else OFFLINE_GROUP, name)
            for model in host_vars["lem_models"]:
                self.inventory.add_child(self.inventory.add_group(model_group(model)), name)
            known = self.inventory.get_host(name).get_vars()
            self._set_composite_vars(self.get_option("compose"), known, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), known, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), known, name, strict=strict)
