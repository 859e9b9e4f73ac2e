"""Fault rules: which requests get a simulated failure instead of (or after)
the normal answer. Pure bookkeeping; the HTTP side is in middlewares.py."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

ENDPOINT_KINDS = (
    "upload_url",
    "storage_put",
    "upload_complete",
    "file_list",
    "file_delete",
    "deploy",
    "subtasks",
    "history",
    "device_models",
    "model_list",
)
PAGED_KINDS = frozenset({"file_list", "history", "device_models"})
ANY_ENDPOINT = "*"

# Parameters each action takes beyond endpoint/times/action; True = required.
ACTION_PARAMS: dict[str, dict[str, bool]] = {
    "status": {"status": True, "retry_after": False, "body": False, "content_type": False, "act": False},
    "drop": {"act": False},
    "delay": {"seconds": True},
    "cut": {"after_bytes": True},
    "not_json": {},
    "json": {"body": True},
    "stale_page": {},
    "expired_url": {},
    "presign_host": {"host": True},
}

# Actions that only make sense for some endpoints. A rule for "*" skips the
# others, without using up its `times`.
ACTION_SCOPE: dict[str, frozenset[str]] = {
    "cut": frozenset({"storage_put"}),
    "stale_page": PAGED_KINDS,
    "expired_url": frozenset({"upload_url"}),
    "presign_host": frozenset({"upload_url"}),
}


@dataclass
class FaultRule:
    id: int
    endpoint: str
    action: str
    times: int | None
    params: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    def applies_to(self, kind: str) -> bool:
        if self.endpoint not in (ANY_ENDPOINT, kind):
            return False
        return kind in ACTION_SCOPE.get(self.action, frozenset(ENDPOINT_KINDS))

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "endpoint": self.endpoint,
            "action": self.action,
            "times": self.times,
            "hits": self.hits,
            **self.params,
        }


def parse_rule(rule_id: int, spec: dict[str, Any]) -> FaultRule:
    """A rule from its JSON form; ValueError says what is wrong."""
    spec = dict(spec)
    endpoint = spec.pop("endpoint", None)
    action = spec.pop("action", None)
    times = spec.pop("times", None)
    if endpoint != ANY_ENDPOINT and endpoint not in ENDPOINT_KINDS:
        raise ValueError(f"endpoint must be '*' or one of {', '.join(ENDPOINT_KINDS)}; got {endpoint!r}")
    if action not in ACTION_PARAMS:
        raise ValueError(f"action must be one of {', '.join(ACTION_PARAMS)}; got {action!r}")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise ValueError(f"times must be a positive integer or null; got {times!r}")
    scope = ACTION_SCOPE.get(action)
    if scope is not None and endpoint != ANY_ENDPOINT and endpoint not in scope:
        raise ValueError(f"action {action} applies only to {', '.join(sorted(scope))}")
    allowed = ACTION_PARAMS[action]
    unknown = set(spec) - set(allowed)
    if unknown:
        raise ValueError(f"action {action} takes no {', '.join(sorted(unknown))}")
    missing = [name for name, required in allowed.items() if required and name not in spec]
    if missing:
        raise ValueError(f"action {action} needs {', '.join(missing)}")
    _check_params(action, spec)
    return FaultRule(id=rule_id, endpoint=endpoint, action=action, times=times, params=spec)


def _check_params(action: str, params: dict[str, Any]) -> None:
    status = params.get("status")
    if action == "status" and (not isinstance(status, int) or not 100 <= status <= 599):
        raise ValueError(f"status must be an HTTP status code; got {status!r}")
    seconds = params.get("seconds", 0)
    if not isinstance(seconds, (int, float)) or seconds < 0:
        raise ValueError(f"seconds must be a non-negative number; got {seconds!r}")
    after_bytes = params.get("after_bytes", 0)
    if not isinstance(after_bytes, int) or after_bytes < 0:
        raise ValueError(f"after_bytes must be a non-negative integer; got {after_bytes!r}")
    if "retry_after" in params and not isinstance(params["retry_after"], (str, int)):
        raise ValueError("retry_after must be a string (seconds or an HTTP date) or an integer")
    if "act" in params and not isinstance(params["act"], bool):
        raise ValueError("act must be true or false")
    if "host" in params and not isinstance(params["host"], str):
        raise ValueError("host must be a string")


class FaultBook:
    """The rules in force, first match wins. Not thread-safe: lock around it."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict[str, Any]) -> FaultRule:
        rule = parse_rule(next(self._ids), spec)
        self._rules.append(rule)
        return rule

    def clear(self) -> None:
        self._rules.clear()

    def take(self, kind: str) -> FaultRule | None:
        """The first live rule for a request of this kind, counting the hit."""
        for rule in self._rules:
            if not rule.exhausted and rule.applies_to(kind):
                rule.hits += 1
                return rule
        return None

    def rules(self) -> list[dict[str, Any]]:
        return [rule.to_dict() for rule in self._rules]
