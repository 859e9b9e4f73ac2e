# -*- coding: utf-8 -*-

# Copyright: (c) 2026, litmus.lem contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Internal to litmus.lem: the pure rules about models, files and devices.

This is not a public API; it may change in any release.

No HTTP here: file names, the content marker kept in a description, the
deployed name of a file, which device a name means, whether a device is
current, and LEM's records turned into the collection's snake_case facts.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME_BYTES = 255
# Subtask statuses that end a subtask (LEM-NOTES.md); others are reported as they come.
FINAL_STATUSES = ("SUCCESS", "FAILED")
HASH_BLOCK = 4 * 1024 * 1024

# LEM keeps no checksum, so the content's sha256 rides at the end of the description.
_MARKER = re.compile(r"(?:^|\s)\[sha256:([0-9a-f]{64})\]\s*$")


class InputError(ValueError):
    """An option value that is refused before anything is sent; the text says why and what to do."""


def check_file_name(name):
    """Return the file name if LEM can take it in a URL path; raise InputError otherwise."""
    if name is None or name == "":
        raise InputError("The file name is empty: set name (or give src, whose base name is used).")
    if name in (".", ".."):
        raise InputError("The file name %r is not a file name: give the model's file name, for example motionModel.zip." % name)
    if "/" in name or "\\" in name:
        raise InputError("The file name %r contains a path separator: give only the file name, for example %r."
                         % (name, re.split(r"[/\\]", name)[-1] or "motionModel.zip"))
    bad = [char for char in name if ord(char) < 32 or 127 <= ord(char) < 160]  # C0, DEL and C1
    if bad:
        raise InputError("The file name %r contains the control character %r: remove it." % (name, bad[0]))
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_NAME_BYTES:
        raise InputError("The file name %s... is %d bytes long: LEM takes at most %d bytes, shorten it."
                         % (name[:40], size, MAX_NAME_BYTES))
    return name


def deployed_name(file_name):
    """The name a device lists for a deployed file: a zip without its .zip, anything else as it is."""
    if file_name.lower().endswith(".zip") and len(file_name) > 4:
        return file_name[:-4]
    return file_name


def matches_model(file_name, wanted):
    """True when a staged or deployed file's name is the model called ``wanted`` (a file name or a deployed name)."""
    return file_name in (wanted, deployed_name(wanted)) or deployed_name(file_name) == wanted


def is_deployed_as(model_name, wanted):
    """True when a name a device lists is the model called ``wanted``: by the deployed-name rule only, the same rule
    that decides whether a device holds a model (lists_model)."""
    return model_name == deployed_name(wanted)


def split_description(stored):
    """(description, sha256 or None) from a description as LEM stores it."""
    stored = stored or ""
    match = _MARKER.search(stored)
    if not match:
        return stored, None
    return stored[:match.start()].rstrip(), match.group(1)


def join_description(description, sha256):
    """The description to store: DESCRIPTION [sha256:HEX], or [sha256:HEX] alone."""
    marker = "[sha256:%s]" % sha256
    description = (description or "").strip()
    return "%s %s" % (description, marker) if description else marker


def file_sha256(path):
    """sha256 of a file, read in large blocks into one reused buffer (memory stays flat)."""
    digest = hashlib.sha256()
    buffer = bytearray(HASH_BLOCK)
    view = memoryview(buffer)
    with open(path, "rb") as handle:
        while True:
            count = handle.readinto(buffer)
            if not count:
                break
            digest.update(view[:count])
    return digest.hexdigest()


# ---- devices -----------------------------------------------------------------------------------------

def device_label(device):
    """How a device is named in messages: its hostname (or pretty name) and id."""
    name = device.get("hostname") or device.get("prettyName") or "?"
    return "%s (%s)" % (name, device.get("deviceId"))


def _candidates(devices, limit=20):
    labels = sorted(device_label(device) for device in devices)
    more = len(labels) - limit
    text = ", ".join(labels[:limit])
    return text + (" and %d more" % more if more > 0 else "") if labels else "none"


def resolve_devices(requested, devices):
    """The devices that ``requested`` names (ids, hostnames, pretty names, or ['all']), in the order given.

    ``devices`` are LEM's device records (Get Models). Duplicates are dropped;
    a name that matches no device, or several, raises InputError listing the
    candidates, before anything is deployed.
    """
    requested = [str(value).strip() for value in (requested or [])]
    # A record without a deviceId cannot be deployed to, nor named: it is left out.
    devices = [device for device in devices if device.get("deviceId")]
    if not requested or any(value == "" for value in requested):
        raise InputError("devices is empty or holds an empty name: list device ids, hostnames or pretty names, or use [all].")
    if "all" in requested:
        if len(requested) > 1:
            raise InputError("devices holds 'all' and other names: use either [all] or a list of devices.")
        unique = {}
        for device in devices:
            unique.setdefault(device.get("deviceId"), device)
        return list(unique.values())
    by_id, by_name = {}, {}
    for device in devices:
        by_id.setdefault(device.get("deviceId"), device)
        for name in set((device.get("hostname"), device.get("prettyName"))):
            if name:
                by_name.setdefault(name, {}).setdefault(device.get("deviceId"), device)
    chosen, seen, problems = [], set(), []
    for value in requested:
        found = {value: by_id[value]} if value in by_id else by_name.get(value, {})
        if not found:
            problems.append("%r matches no device" % value)
        elif len(found) > 1:
            problems.append("%r matches %d devices: %s; use a device id" % (value, len(found), _candidates(found.values())))
        else:
            device = next(iter(found.values()))
            if device.get("deviceId") not in seen:
                seen.add(device.get("deviceId"))
                chosen.append(device)
    if problems:
        raise InputError("%s. Devices of the project: %s." % ("; ".join(problems), _candidates(devices)))
    return chosen


def lists_model(device, file_name):
    """True when the device lists the model deployed from ``file_name``."""
    return any(is_deployed_as(model.get("name"), file_name) for model in device.get("models") or [])


def latest_successes(history, file_name):
    """{device id: stopTime (epoch ms) of its newest successful deployment of ``file_name``} from task history."""
    latest = {}
    for subtask in history:
        if subtask.get("status") != "SUCCESS" or (subtask.get("params") or {}).get("fileName") != file_name:
            continue
        stop = subtask.get("stopTime")
        device_id = subtask.get("deviceId")
        if isinstance(stop, (int, float)) and stop > latest.get(device_id, float("-inf")):
            latest[device_id] = stop
    return latest


def is_current(device, file_name, staged_last_modified, successes):
    """A device is current when it lists the model and, where LEM keeps task history (``successes``
    from latest_successes, or None without history), its newest successful deployment of this file is
    at or after the staged file's lastModified."""
    if not lists_model(device, file_name):
        return False
    if successes is None:
        return True
    stop = successes.get(device.get("deviceId"))
    if stop is None:
        return False
    return staged_last_modified is None or stop >= staged_last_modified


def is_online(device):
    return bool(device.get("isOnline") or device.get("online"))


# ---- LEM records as facts ------------------------------------------------------------------------------

def staged_file_facts(record):
    description, sha256 = split_description(record.get("description"))
    return {
        "name": record.get("name"),
        "size": record.get("size"),
        "last_modified": record.get("lastModified"),
        "file_type": record.get("fileType"),
        "description": description,
        "sha256": sha256,
    }


def device_facts(record, model_filter=None):
    models = [
        {
            "name": model.get("name"),
            "path": model.get("absolutePath"),
            "size": model.get("size"),
            "deployment_source": model.get("deploymentSource"),
        }
        for model in record.get("models") or []
        if model_filter is None or is_deployed_as(model.get("name"), model_filter)
    ]
    return {
        "device_id": record.get("deviceId"),
        "hostname": record.get("hostname"),
        "pretty_name": record.get("prettyName"),
        "online": is_online(record),
        "total_size": record.get("totalSize"),
        "models": models,
    }


def subtask_facts(record):
    return {
        "task_id": record.get("taskId"),
        "subtask_id": record.get("id"),
        "num": record.get("num"),
        "device_id": record.get("deviceId"),
        "pretty_name": record.get("devicePrettyName"),
        "file_name": (record.get("params") or {}).get("fileName"),
        "status": record.get("status"),
        "done": subtask_done(record),
        "progress": record.get("progress"),
        "msg": record.get("msg"),
        "start_time": record.get("startTime"),
        "stop_time": record.get("stopTime"),
    }


def history_facts(record):
    return {
        "task_id": record.get("taskId"),
        "device_id": record.get("deviceId"),
        "file_name": (record.get("params") or {}).get("fileName"),
        "status": record.get("status"),
        "msg": record.get("msg"),
        "start_time": record.get("startTime"),
        "stop_time": record.get("stopTime"),
    }


def newest_first(subtasks):
    """Task history records, newest first (by creation, then stop time), whatever order LEM gave."""
    def when(record):
        return max(value for value in (record.get("createdOn"), record.get("stopTime"), record.get("startTime"), 0)
                   if isinstance(value, (int, float)))
    return sorted(subtasks, key=when, reverse=True)


def subtask_done(subtask):
    """True when a subtask is finished: its ``done``, or, where LEM leaves ``done`` out, a final status."""
    if subtask.get("done") is None:
        return subtask.get("status") in FINAL_STATUSES
    return bool(subtask.get("done"))


def task_status(subtasks):
    """The state of a whole task from its subtasks: SUCCESS when all succeeded, FAILED when all are done
    and any did not succeed, IN_PROGRESS once any has started, else PENDING."""
    if subtasks and all(subtask_done(subtask) for subtask in subtasks):
        return "SUCCESS" if all(subtask.get("status") == "SUCCESS" for subtask in subtasks) else "FAILED"
    if any(subtask_done(subtask) or subtask.get("status") not in (None, "PENDING") for subtask in subtasks):
        return "IN_PROGRESS"
    return "PENDING"


def aggregate_models(devices):
    """The model list ({name, size, count}) of some devices, as LEM's model-list gives it for all of them."""
    models = {}
    for device in devices:
        for model in device.get("models") or []:
            entry = models.setdefault(model.get("name"), {"name": model.get("name"), "size": model.get("size"), "count": 0})
            entry["count"] += 1
    return list(models.values())


# ---- progressive rollout ---------------------------------------------------------------------------------

def batch_size(size, total):
    """One entry of a batch list as a device count, the way a play's serial reads it:
    an int, or "N%" of ``total`` rounded down but at least 1; 0 or less means all that remain."""
    if isinstance(size, bool):
        raise InputError("A batch size must be a number or a percentage string such as '10%%', not %r." % size)
    text = str(size).strip()
    try:
        if text.endswith("%"):
            percent = float(text[:-1])
            if percent < 0:
                raise ValueError(text)
            return int(percent / 100.0 * total) or 1
        return int(text)
    except ValueError:
        raise InputError("A batch size must be a number or a percentage string such as '10%%', not %r." % (size,))


def rollout_batches(items, sizes):
    """``items`` cut into consecutive batches of the given sizes, the last size repeated until none remain.

    Percentages are of all ``items``; every batch has at least one item; no sizes means one batch.
    """
    items = list(items)
    sizes = list(sizes or [])
    total = len(items)
    counts = [batch_size(size, total) for size in sizes] or [0]
    batches, start, index = [], 0, 0
    while start < total:
        count = counts[min(index, len(counts) - 1)]
        end = total if count <= 0 else start + count
        batches.append(items[start:end])
        start, index = end, index + 1
    return batches


# ---- devices as inventory hosts ------------------------------------------------------------------------

def model_names(device):
    """The names of the models a device lists, in LEM's order, each once."""
    names = []
    for model in device.get("models") or []:
        name = model.get("name") if isinstance(model, dict) else None
        if name and name not in names:
            names.append(name)
    return names


def _usable_hostname(device):
    hostname = device.get("hostname")
    if isinstance(hostname, str) and hostname.strip():
        return hostname.strip()
    return None


def inventory_hosts(devices):
    """The devices as inventory hosts: a list of (host name, host vars), one per device id, in LEM's order.

    A host is named by its hostname, or by its device id when the hostname is
    missing or also names another device (shared with another device, or
    another device's id), so that every host name means exactly one device.
    A record without a deviceId cannot be deployed to and is left out; a
    device listed twice counts once (its first record).
    """
    unique = {}
    for device in devices:
        if device.get("deviceId"):
            unique.setdefault(str(device["deviceId"]), device)
    owners = {}
    for device_id, device in unique.items():
        owners.setdefault(device_id, set()).add(device_id)
        hostname = _usable_hostname(device)
        if hostname:
            owners.setdefault(hostname, set()).add(device_id)
    hosts = []
    for device_id, device in unique.items():
        hostname = _usable_hostname(device)
        name = hostname if hostname and owners[hostname] == {device_id} else device_id
        hosts.append((name, {
            "lem_device_id": device_id,
            "lem_hostname": device.get("hostname"),
            "lem_pretty_name": device.get("prettyName"),
            "lem_online": is_online(device),
            "lem_models": model_names(device),
        }))
    return hosts
