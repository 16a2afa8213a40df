"""Calls from Python to JavaScript: blocking (``call_js_blocking``), awaited
(``call_js``) and one-way (``post_js``).

An awaited call is a ``JsRequest`` object. Whoever steps the coroutine decides
how it is performed: the inline driver (on the JS thread) and a lane's driver
(while it steps a handler coroutine) see the request itself, perform it and
send the answer back in; on any other asyncio loop it becomes a future."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, List

from ._native import native
from .errors import error_from_js

# A request to JS: ``[op, *args]``, e.g. ``["query", conn_key, sql, params]``
# (see Request in ts/python/runtime.ts). Lists cross the bridge more cheaply than dicts.
Request = List[Any]

# Filled by the lane driver (_lane.py): the lane serving a thread, and the lane
# whose asyncio loop a loop is. A lane has ``driving`` (it steps a coroutine now)
# and ``call_js(payload) -> Future``.
lane_by_thread: Dict[int, Any] = {}
lane_by_loop: Dict[asyncio.AbstractEventLoop, Any] = {}


class JsRequest:
    """An awaited call to JS (an object, not a coroutine: one frame less per awaited query)."""

    __slots__ = ("payload",)

    def __init__(self, payload: Request) -> None:
        self.payload = payload

    def __await__(self):  # type: ignore[no-untyped-def]
        # Stepped by JS (inline) or by a lane's driver: the stepper performs the call and
        # sends the answer back in. Otherwise an asyncio loop awaits it.
        if native.on_js_thread():
            return (yield self)
        lane = lane_by_thread.get(threading.get_ident())
        if lane is not None and lane.driving:
            return (yield self)
        return (yield from _call_js_on_loop(self.payload).__await__())


def call_js(payload: Request) -> JsRequest:
    """Awaitable call to JS from whichever context the caller runs in."""
    return JsRequest(payload)


def call_js_blocking(payload: Request) -> Any:
    ok, value = native.call_js_sync(payload)
    if not ok:
        raise error_from_js(value)
    return value


def post_js(payload: Request) -> None:
    """Sends JS a message that needs no answer (lane -1 drops the reply)."""
    native.call_js_async(payload, -1, 0)


async def _call_js_on_loop(payload: Request) -> Any:
    loop = asyncio.get_running_loop()
    lane = lane_by_loop.get(loop)
    if lane is not None:
        return await lane.call_js(payload)
    # A loop of the handler's own (e.g. asyncio.run in a thread): wait in a worker.
    return await loop.run_in_executor(None, call_js_blocking, payload)
