"""The inline driver: handlers with ``inline = True`` run on the JS thread,
holding the GIL, one call per visit.

Their coroutines are stepped by JavaScript: a step returns either the result
or the ``[op, *args]`` request the coroutine awaits; JS performs it and sends
the answer back in with ``resume_inline``. A minimal loop (``_inline_loop``) is the
JS thread's running loop, so ``asyncio.sleep`` works: JS sleeps until its timer
is due. Awaitables no timer completes fail with advice. A deadline (``ctx.deadline``) is enforced
natively: past it, ``InlineDeadlineError`` is raised in the running code."""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any, Optional

from ._describe import exception_text
from ._inline_loop import loop as _loop
from ._jscalls import JsRequest
from ._visits import current_context, visit_coroutine, visit_sync
from .errors import error_from_js


class InlineDeadlineError(TimeoutError):
    """Raised in an inline handler still running Python code at its deadline (the
    machine's state or run timeout, test-rig run's --timeout): the JS thread it holds
    could not get to its timers."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*(args or ("the inline handler was still running at its deadline and was interrupted",)))


class InlineTask:
    """A coroutine being stepped by JS, with the handler context it runs for."""

    __slots__ = ("coro", "ctx", "waiting")

    def __init__(self, coro: Any, ctx: Any) -> None:
        self.coro = coro
        self.ctx = ctx
        self.waiting: Any = None  # the asyncio future the coroutine awaits (asyncio.sleep's)


js_thread_ident: Optional[int] = None  # set by _bridge.exports()
_inline_ctx: Any = None  # the context of the inline call in progress (JS thread only)


def context_now() -> Any:
    """The context of the handler call running on this thread, if any."""
    ctx = current_context.get()
    if ctx is None and threading.get_ident() == js_thread_ident:
        return _inline_ctx
    return ctx


def visit_inline(handler: Any, ctx: Any, state: str, enter: bool, exit_too: bool) -> Any:
    """A visit of a sync inline handler, on the JS thread: one call per visit."""
    global _inline_ctx
    previous, _inline_ctx = _inline_ctx, ctx
    try:
        ctx.state = state
        return visit_sync(handler, ctx, state, enter, exit_too)
    finally:
        _inline_ctx = previous


def visit_inline_async(handler: Any, ctx: Any, state: str, enter: bool, exit_too: bool, task: InlineTask) -> Any:
    """A visit of an inline handler with ``async def`` methods, stepped on the JS
    thread in ``task``: one call per visit, plus one per awaited test-rig call.
    Returns the visit's outcome (a state string itself, else ``[0, outcome]``) or
    the first request."""
    ctx.state = state
    task.coro, task.ctx = visit_coroutine(handler, ctx, state, enter, exit_too, _explain_inline), ctx
    return _step(task, None, None)


def install_loop() -> None:
    """Makes the inline loop the JS thread's running loop, for good: setting it around each
    step would cost two getpid() calls per async visit."""
    asyncio._set_running_loop(_loop)


def _explain_inline(exc: BaseException) -> BaseException:
    text = exception_text(exc)
    if isinstance(exc, RuntimeError) and ("no running event loop" in text or "from a running event loop" in text):
        advice = RuntimeError(_INLINE_ASYNCIO)
        advice.__cause__ = exc
        advice.__traceback__ = exc.__traceback__  # keeps the user's file:line
        return advice
    return exc


def new_inline_task() -> InlineTask:
    """A slot for the coroutine of one inline call; JS keeps one per handler and reuses it."""
    return InlineTask(None, None)


def run_inline(handler: Any, method: str, ctx: Any, task: InlineTask) -> Any:
    """Calls ``handler.method(ctx)`` on the JS thread. Returns the
    state string itself in the common case, ``[0, result]`` for any other
    result, or the request (``[op, *args]``) when a coroutine awaits a JS
    call: JS performs it and passes the answer to ``resume_inline(task, …)``."""
    global _inline_ctx
    previous, _inline_ctx = _inline_ctx, ctx
    try:
        result = getattr(handler, method)(ctx)
    finally:
        _inline_ctx = previous
    if type(result) is str:
        return result
    if inspect.iscoroutine(result):
        task.coro, task.ctx = result, ctx
        return _step(task, None, None)
    return [0, result]


def resume_inline(task: InlineTask, ok: bool, value: Any) -> Any:
    if ok:
        return _step(task, value, None)
    return _step(task, None, error_from_js(value))


def _step(task: InlineTask, value: Any, error: Optional[BaseException]) -> Any:
    global _inline_ctx
    coro = task.coro
    waiting = task.waiting
    if waiting is not None and error is None:
        # JS slept until the next timer (a "sleep" request): run what is due
        _loop.run_due()
        if not waiting.done():
            return _sleep_request(task)
        task.waiting = None
    elif waiting is not None:
        task.waiting = None
        waiting.cancel()
    previous, _inline_ctx = _inline_ctx, task.ctx
    try:
        yielded = coro.throw(error) if error is not None else coro.send(value)
    except StopIteration as stop:
        task.coro = task.ctx = None
        result = stop.value
        return result if type(result) is str else [0, result]
    except BaseException as exc:
        task.coro = task.ctx = None
        explained = _explain_inline(exc)
        if explained is exc:
            raise
        raise explained from exc
    finally:
        _inline_ctx = previous
    if type(yielded) is JsRequest:
        return yielded.payload
    if yielded is None:  # asyncio.sleep(0): give the JS thread a turn
        return ["sleep", 0]
    if asyncio.isfuture(yielded) and getattr(yielded, "get_loop", lambda: None)() is _loop:
        # one of the inline loop's futures (asyncio.sleep's): resumed once it is done
        yielded._asyncio_future_blocking = False
        task.waiting = yielded
        return _step(task, None, None)
    # Another loop's future, or a bare yield: no timer of ours completes it; the error is
    # raised at the handler's await, so its stage and line get the blame.
    return _step(task, None, RuntimeError(f"an inline handler awaited {_safe_repr(yielded)}: {_INLINE_ASYNCIO}"))


def _sleep_request(task: InlineTask) -> Any:
    delay = _loop.next_delay()
    if delay is None:  # nothing pending will ever complete it
        return _step(task, None, RuntimeError(f"an inline handler awaited {_safe_repr(task.waiting)}: {_INLINE_ASYNCIO}"))
    return ["sleep", delay * 1000]


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except BaseException:  # noqa: BLE001 - a user object's __repr__
        return f"a {type(value).__name__}"


_INLINE_ASYNCIO = (
    "inline handlers (inline = True) run on the JS thread and can await test-rig's own calls "
    "(`await context.connection.query(...)`, `await context.open_connection_async()`) and "
    "`asyncio.sleep`, nothing else of asyncio; remove `inline = True` to use asyncio (gather, tasks)"
)
