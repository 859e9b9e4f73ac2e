"""Run-time settings of the simulator: what `configure()` and `reset()` change."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

DEFAULT_PROJECT_ID = "462j1mq70mph31wa100t1yuxa"
DEFAULT_TOKEN = "lem-sim-token-0123456789abcdef"
DEFAULT_READONLY_TOKEN = "lem-sim-token-readonly"
DEFAULT_RESTRICTED_TOKEN = "lem-sim-token-other-project"

# A real LEM signs upload URLs for 7 days.
DEFAULT_URL_EXPIRES = 604800

# Settings that only reset() may change: changing them in place would orphan
# the files and tasks stored under the old value.
RESET_ONLY = frozenset({"project_id"})


@dataclass
class Settings:
    """Everything about the simulator's behaviour that tests may switch.

    token            full access to the project
    readonly_token   may read, gets 403 on POST/PUT/DELETE of the API
    restricted_token valid, but scoped to another project: 403 on this one
    auth_basic       accept `Authorization: Basic base64(token:)`
    auth_header      accept `X-AuthToken: token`
    history          serve the task-history endpoint (off = 404, an older LEM)
    task_step        seconds a deployment spends in each of PENDING and IN_PROGRESS
    presign_host     host[:port] put in upload URLs (default: the request's Host)
    url_expires      X-Amz-Expires of upload URLs, seconds
    default_page_size, max_page_size   pagination
    """

    project_id: str = DEFAULT_PROJECT_ID
    token: str = DEFAULT_TOKEN
    readonly_token: str = DEFAULT_READONLY_TOKEN
    restricted_token: str = DEFAULT_RESTRICTED_TOKEN
    auth_basic: bool = True
    auth_header: bool = True
    history: bool = True
    task_step: float = 0.2
    presign_host: str | None = None
    url_expires: int = DEFAULT_URL_EXPIRES
    default_page_size: int = 10
    max_page_size: int = 100

    def updated(self, **changes: Any) -> Settings:
        """A validated copy with `changes` applied; ValueError names a bad one."""
        known = {f.name: f for f in dataclasses.fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}")
            _check(name, value, self.__annotations__[name])
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check(name: str, value: Any, annotation: str) -> None:
    if annotation == "bool":
        ok = isinstance(value, bool)
    elif annotation == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    elif annotation == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    elif annotation == "str | None":
        ok = value is None or (isinstance(value, str) and value != "")
    else:
        ok = isinstance(value, str) and value != ""
    if not ok:
        raise ValueError(f"setting {name!r}: bad value {value!r} (expected {annotation})")
