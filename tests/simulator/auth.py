"""Who is calling: LEM API tokens sent as HTTP Basic or as X-AuthToken."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

from .settings import Settings


@dataclass(frozen=True)
class Grant:
    """What a token may do. `projects` None means every project."""

    read_only: bool
    projects: frozenset[str] | None

    def allows(self, project_id: str) -> bool:
        return self.projects is None or project_id in self.projects


_FULL = Grant(read_only=False, projects=None)
_READ_ONLY = Grant(read_only=True, projects=None)
# Valid, but for projects this simulator does not serve.
_OTHER_PROJECTS = Grant(read_only=False, projects=frozenset())


def grant_for(headers: Mapping[str, str], settings: Settings) -> Grant | None:
    """The grant of the first valid token offered in an enabled style."""
    grants = {
        settings.token: _FULL,
        settings.readonly_token: _READ_ONLY,
        settings.restricted_token: _OTHER_PROJECTS,
    }
    for token in _offered_tokens(headers, settings):
        if token in grants:
            return grants[token]
    return None


def _offered_tokens(headers: Mapping[str, str], settings: Settings) -> list[str]:
    tokens = []
    if settings.auth_basic:
        token = _basic_token(headers.get("Authorization", ""))
        if token is not None:
            tokens.append(token)
    if settings.auth_header and headers.get("X-AuthToken"):
        tokens.append(headers["X-AuthToken"])
    return tokens


def _basic_token(authorization: str) -> str | None:
    """The username of `Basic base64(token:)`; None unless the password is empty."""
    scheme, _space, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    if not colon or password:
        return None
    return username
