"""One store for ``context.custom_data`` (Python) and ``ctx.customData``
(TypeScript): the values both sides see live in the Python context's
``custom_data`` dict, and TypeScript reads and writes them through these
functions, on the JS thread, between handler calls.

Only values that cross to JavaScript unchanged are shown to TypeScript (None,
bool, int, float, str, bytes, and lists, tuples and str-keyed dicts of those);
others (a set, a Decimal, an object of the handler's) stay Python's: TypeScript
does not see the key."""

from __future__ import annotations

from typing import Any, Dict, List

_SCALARS = (type(None), bool, int, float, str, bytes)


def crosses(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` reaches JavaScript unchanged (tuples as arrays)."""
    if depth > 100:  # deeper than any shared data; a cycle
        return False
    if type(value) in _SCALARS:
        return True
    if type(value) in (list, tuple):
        return all(crosses(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str and crosses(v, depth + 1) for k, v in value.items())
    return False


def _store(ctx: Any) -> Dict[str, Any]:
    """The context's custom_data; a handler that assigned something else gets a dict again."""
    data = getattr(ctx, "custom_data", None)
    if not isinstance(data, dict):
        data = {}
        ctx.custom_data = data
    return data


def shared_get(ctx: Any, key: str) -> List[Any]:
    """``[True, value]``, or ``[False]`` when absent or Python's only."""
    data = _store(ctx)
    if key in data and crosses(data[key]):
        return [True, data[key]]
    return [False]


def shared_set(ctx: Any, key: str, value: Any) -> None:
    _store(ctx)[key] = value


def shared_delete(ctx: Any, key: str) -> bool:
    return _store(ctx).pop(key, _ABSENT) is not _ABSENT


def shared_keys(ctx: Any) -> List[str]:
    return [k for k, v in _store(ctx).items() if type(k) is str and crosses(v)]


_ABSENT = object()
