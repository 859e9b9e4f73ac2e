"""LEM's paged answers: `{pageNum, pagesCount, size, totalSize, elements}`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PageRequest:
    number: int
    size: int


def page_request(
    query: Mapping[str, str], size_param: str, *, default_size: int, max_size: int
) -> PageRequest:
    """The page asked for. LEM reads the page size from `limit` on some
    endpoints and `pageSize` on others, so only `size_param` counts here.
    ValueError for a value that is not a proper number."""
    number = _non_negative_int(query, "requestedPage", default=0)
    size = _non_negative_int(query, size_param, default=default_size)
    if size == 0:
        raise ValueError(f"{size_param} must be at least 1")
    return PageRequest(number=number, size=min(size, max_size))


def page_of(items: Sequence[Any], request: PageRequest) -> dict[str, Any]:
    """One page of `items`; past the end it is empty. `size` counts the
    elements on this page, `totalSize` all of them."""
    start = request.number * request.size
    elements = list(items[start : start + request.size])
    return {
        "pageNum": request.number,
        "pagesCount": max(1, math.ceil(len(items) / request.size)),
        "size": len(elements),
        "totalSize": len(items),
        "elements": elements,
    }


def _non_negative_int(query: Mapping[str, str], name: str, *, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return value
