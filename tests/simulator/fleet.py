"""The devices of the simulated project: generated from a seed, or given."""

from __future__ import annotations

import random
import string
from typing import Any

from .state import DeployedModel, Device

_ID_ALPHABET = string.digits + string.ascii_lowercase

# The three devices of the API reference's "Get Models" example, verbatim.
_REFERENCE_DEVICES: list[dict[str, Any]] = [
    {
        "deviceId": "1a5wiavluwxuhwai5leb1v0hc",
        "hostname": "litmus-edge-94c6911b9c77",
        "prettyName": "Litmus Edge (94:c6:91:1b:9c:77)- SJ office sensor",
        "online": True,
        "models": [
            {"name": "coco", "size": 136145199},
            {"name": "gasFive.tflite", "size": 101132},
            {"name": "motionModel", "size": 5094648},
            {"name": "savedmodel4", "size": 511197},
            {"name": ".ipynb_checkpoints", "size": 0},
        ],
    },
    {
        "deviceId": "3y0vcdju38zvqjrlm5lcpm1l",
        "hostname": "litmus-edge-080027b4a1c8",
        "prettyName": "Litmus Edge (08:00:27:b4:a1:c8)",
        "online": False,
        "models": [{"name": "motionModel", "size": 5094648}],
    },
    {
        "deviceId": "vkrih85ka6fn7zcofirk20vs",
        "hostname": "litmus-edge-005056b965c2",
        "prettyName": "VM",
        "online": True,
        "models": [],
    },
]

# Added to the demo fleet so that inventories meet a device without a
# hostname and two devices sharing one.
_DEMO_EXTRA_DEVICES: list[dict[str, Any]] = [
    {
        "deviceId": "4nq8v2k7x1m3c9z5r0t6w2y8b",
        "hostname": None,
        "prettyName": "Line 4 sensor",
        "online": True,
        "models": [],
    },
    {
        "deviceId": "5p0d3f7h1j9l2n4q6s8u0w2y4",
        "hostname": "litmus-edge-0242ac110002",
        "prettyName": "Line 5 sensor",
        "online": True,
        "models": [],
    },
    {
        "deviceId": "6r1e4g8i2k0m3o5q7t9v1x3z5",
        "hostname": "litmus-edge-0242ac110002",
        "prettyName": "Line 6 sensor",
        "online": True,
        "models": [],
    },
]

DEMO_SEED = "demo"


def build_fleet(seed: str, devices: list[dict[str, Any]] | None, device_count: int) -> list[Device]:
    """`devices` when given; else the demo fleet for seed "demo"; else generated."""
    if devices is not None:
        return [device_from_spec(spec) for spec in devices]
    if seed == DEMO_SEED:
        return [device_from_spec(spec) for spec in _REFERENCE_DEVICES + _DEMO_EXTRA_DEVICES]
    return generate_devices(seed, device_count)


def generate_devices(seed: str, count: int) -> list[Device]:
    """`count` online devices without models, the same for the same seed."""
    rng = random.Random(f"lem-simulator:{seed}")
    return [
        Device(
            device_id="".join(rng.choice(_ID_ALPHABET) for _position in range(25)),
            hostname="litmus-edge-" + "".join(rng.choice("0123456789abcdef") for _position in range(12)),
            pretty_name=f"Line {number} sensor",
        )
        for number in range(1, count + 1)
    ]


def device_from_spec(spec: dict[str, Any]) -> Device:
    """A device from its LEM-style description; ValueError when malformed.

    Keys: deviceId (required), hostname, prettyName, online, models
    ([{name, size, deploymentSource}]), behaviour, fail_msg, status.
    """
    allowed = {"deviceId", "hostname", "prettyName", "online", "models", "behaviour", "fail_msg", "status"}
    unknown = set(spec) - allowed
    if unknown:
        raise ValueError(f"unknown device keys: {sorted(unknown)}")
    device_id = spec.get("deviceId")
    if not isinstance(device_id, str) or not device_id:
        raise ValueError(f"device without a deviceId: {spec!r}")
    device = Device(
        device_id=device_id,
        hostname=spec.get("hostname"),
        pretty_name=spec.get("prettyName") or device_id,
        online=bool(spec.get("online", True)),
        models=[model_from_spec(model) for model in spec.get("models", [])],
    )
    device.set_behaviour(spec.get("behaviour"), spec.get("fail_msg"), spec.get("status"))
    return device


def model_from_spec(spec: dict[str, Any]) -> DeployedModel:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ValueError(f"a model needs at least a name: {spec!r}")
    return DeployedModel(
        name=spec["name"],
        size=int(spec.get("size", 0)),
        deployment_source=spec.get("deploymentSource", "LE"),
    )
