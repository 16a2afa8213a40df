"""The Python half of the bridge: lanes, the inline driver and calls to JS.

A *lane* is a thread running its own asyncio loop; each state machine gets
one, so handlers of different machines run concurrently and a blocking
handler only blocks its own machine. JS hands a lane jobs through the native
queue (an eventfd the loop watches). *Inline* handlers instead run on the JS
thread: their coroutines are stepped by JS, which performs every awaited
connection call itself and sends the result back in."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import itertools
import os
import sysconfig
import threading
import traceback
import types
from typing import Any, Callable, Dict, List, Optional

from .errors import DatabaseError, error_from_js

try:
    import _test_rig_native as native

    EMBEDDED = True
except ImportError:  # imported by plain python (editors, type checkers, docs)

    class _Unavailable:
        def __getattr__(self, name: str) -> Any:
            raise RuntimeError(
                "test_rig's database calls only work inside test-rig (test-rig run / demo, or "
                "loadPythonHandlers from Node); this is a plain Python process"
            )

    native = _Unavailable()  # type: ignore[assignment]
    EMBEDDED = False

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# Frames in these are never "the user's line" of an error (asyncio's own yield, json's parser...).
_NOT_USER_CODE = tuple({_PACKAGE_DIR, *(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib"))})

# A request to JS: ``[op, *args]``, e.g. ``["query", conn_key, sql, params]``
# (see Request in ts/python/runtime.ts). Lists cross the bridge more cheaply than dicts.
Request = List[Any]

# The context of the handler call in progress (for RealPyConnection & co.).
current_context: contextvars.ContextVar[Any] = contextvars.ContextVar("test_rig_context", default=None)


# ---- errors sent to JS ------------------------------------------------------


def describe_exception(exc: BaseException) -> Dict[str, Any]:
    """What JS learns about a Python exception: type, message, traceback and
    the user's file:line (the innermost frame outside test_rig itself)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<frozen ")]
    user = [f for f in frames if not f.filename.startswith(_NOT_USER_CODE)]
    # No frame of the user's (a module or file that is not found, say): no location
    # rather than test_rig's or the stdlib's (pyTraceback still has every frame).
    where = user[-1] if user else None
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    info: Dict[str, Any] = {
        "message": f"{type(exc).__name__}: {exc}",
        "pyType": type(exc).__name__,
        "pyMessage": str(exc),
        "pyTraceback": text,
    }
    if isinstance(exc, SyntaxError) and exc.filename:  # the error is in the file being compiled
        info["file"] = exc.filename
        info["line"] = exc.lineno or 0
    elif where is not None:
        info["file"] = where.filename
        info["line"] = where.lineno
        info["function"] = where.name
    if isinstance(exc, DatabaseError):
        info["errno"] = exc.errno
        info["sqlState"] = exc.sqlstate
    return info


class InlineDeadlineError(TimeoutError):
    """Raised in an inline handler still running Python code at its deadline (the
    machine's state or run timeout, test-rig run's --timeout): the JS thread it holds
    could not get to its timers."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*(args or ("the inline handler was still running at its deadline and was interrupted",)))


if EMBEDDED:
    native.set_exception_describer(describe_exception)
    native.set_deadline_error(InlineDeadlineError)


# ---- lanes ---------------------------------------------------------------------


class Lane:
    def __init__(self, lane_id: int, fd: int) -> None:
        self.id = lane_id
        self.fd = fd
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.futures: Dict[int, "asyncio.Future[Any]"] = {}
        self._tokens = itertools.count(1)
        self.ready = threading.Event()
        self.tasks = 0  # coroutines in flight on this lane's asyncio loop
        self.driving = False  # a coroutine is being stepped by _drive right now
        self.loop_marked = False  # self.loop is asyncio's running loop for this thread
        self.stopped = False
        self.abandoned = False  # set by interrupt_lane: the lane is never used again
        self.thread = threading.Thread(target=self._main, name=f"test-rig-lane-{lane_id}", daemon=True)

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.loop = loop
        _lane_by_loop[loop] = self
        _lane_by_thread[threading.get_ident()] = self
        loop.add_reader(self.fd, self._drain)
        self.ready.set()
        try:
            # With no coroutine in flight the lane blocks in lane_wait (cheap to
            # wake); while coroutines run, the asyncio loop runs and the eventfd
            # reader delivers jobs, until the last coroutine finishes.
            while not self.stopped:
                if self.tasks:
                    self._mark_loop(False)  # run_forever sets it itself
                    loop.run_forever()
                else:
                    self._handle(native.lane_wait(self.id))
        except TimeoutError:
            # interrupt_lane's asynchronous TimeoutError arrived after the handler
            # had already returned (or its task was cancelled): the lane is
            # abandoned, so its thread just ends, without a traceback on stderr.
            if not self.abandoned:
                raise
        finally:
            _lane_by_loop.pop(loop, None)

    def _drain(self) -> None:
        self._handle(native.lane_take(self.id))

    def _handle(self, jobs: List[Any]) -> None:
        for job in jobs:
            kind = job[0]
            if kind == "c":
                self._call(job[1], job[2], job[3], job[4])
            elif kind == "r":
                fut = self.futures.pop(job[1], None)
                if fut is not None and not fut.done():
                    if job[2]:
                        fut.set_result(job[3])
                    else:
                        fut.set_exception(error_from_js(job[3]))
            else:
                self.stopped = True
                assert self.loop is not None
                self.loop.stop()

    def _call(self, job_id: int, target: Any, method: Optional[str], args: List[Any]) -> None:
        # Each job runs in a context of its own, so a handler's current_context
        # stays with the coroutine it starts.
        context = contextvars.copy_context()
        if self.loop_marked and target is not visit_async:
            self._mark_loop(False)  # user code may run now, and may call asyncio.run()
        try:
            fn = getattr(target, method) if method is not None else target
            result = context.run(fn, *args)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to JS
            native.complete(job_id, False, describe_exception(exc))
            return
        if inspect.iscoroutine(result) and not self.tasks:
            context.run(self._drive, job_id, result)
        elif inspect.isawaitable(result):
            assert self.loop is not None
            task = asyncio.ensure_future(result, loop=self.loop)
            self.tasks += 1
            task.add_done_callback(lambda t: self._task_done(job_id, t))
        else:
            native.complete(job_id, True, result)

    def _drive(self, job_id: int, coro: Any) -> None:
        """Steps a handler coroutine on this thread (inside the job's context),
        with a stand-in task as asyncio's current task (asyncio.timeout,
        TaskGroup and, from 3.12, wait_for need one). An awaited JS call goes
        straight to JS and the lane thread blocks for the answer, as
        execute_query does, unless the loop has work of its own (timers, other
        tasks): then the loop runs while the answer comes, so a timeout can
        fire. Anything asyncio (sleep, gather, futures) runs the lane's loop
        until it is done, then stepping resumes."""
        assert self.loop is not None
        loop = self.loop
        task = _DrivenTask(loop, coro)
        value: Any = None
        error: Optional[BaseException] = None
        ok, result = True, None
        self.driving = True
        if not self.loop_marked:
            self._mark_loop(True)
        try:
            while True:
                if task._must_cancel:
                    task._must_cancel = False
                    value, error = None, asyncio.CancelledError(*task._cancel_args)
                _enter_task(loop, task)
                try:
                    yielded = coro.throw(error) if error is not None else coro.send(value)
                except StopIteration as stop:
                    result = stop.value
                    break
                except BaseException as exc:  # noqa: BLE001
                    ok, result = False, describe_exception(exc)
                    break
                finally:
                    _leave_task(loop, task)
                value, error = None, None
                try:
                    if type(yielded) is _JsRequest:
                        if _has_work(loop):
                            value = self._wait(task, self.call_js(yielded.payload)).result()
                        else:
                            answered, answer = native.call_js_sync(yielded.payload)
                            if answered:
                                value = answer
                            else:
                                error = error_from_js(answer)
                    else:
                        # An asyncio future (or a bare yield): resuming with None makes
                        # Future.__await__ return its result or raise its exception.
                        self._wait(task, yielded)
                except BaseException as exc:  # noqa: BLE001 - thrown into the coroutine
                    error = exc
        finally:
            self.driving = False
        native.complete(job_id, ok, result)

    def _wait(self, task: "_DrivenTask", fut: Any) -> Any:
        """Runs the lane's loop until ``fut`` is done (None: one round) and returns it;
        ``task.cancel()`` meanwhile cancels it."""
        assert self.loop is not None
        self.driving = False
        self._mark_loop(False)  # run_until_complete sets it itself
        task._fut_waiter = fut
        try:
            if fut is None:
                self.loop.run_until_complete(asyncio.sleep(0))
            else:
                try:
                    self.loop.run_until_complete(fut)
                except BaseException:  # noqa: BLE001 - the future's own outcome, read by the caller
                    if not fut.done():
                        raise
        finally:
            task._fut_waiter = None
            self.driving = True
            self._mark_loop(True)
        return fut

    def _mark_loop(self, on: bool) -> None:
        # While _drive steps a coroutine, asyncio APIs (sleep, gather, wait_for) must
        # find the lane's loop as the running one. Setting it costs ~1 us, so it stays
        # set from one coroutine visit to the next, and is cleared only before code
        # that may start a loop of its own (a sync handler's asyncio.run) or before
        # the lane's loop runs itself (run_forever and run_until_complete set it).
        self.loop_marked = on
        asyncio.events._set_running_loop(self.loop if on else None)

    def _task_done(self, job_id: int, task: "asyncio.Future[Any]") -> None:
        self.tasks -= 1
        _settle(job_id, task)
        if self.tasks == 0 and self.loop is not None:
            self.loop.stop()  # back to lane_wait

    def call_js(self, payload: Request) -> "asyncio.Future[Any]":
        assert self.loop is not None
        fut = self.loop.create_future()
        token = next(self._tokens)
        self.futures[token] = fut
        native.call_js_async(payload, self.id, token)
        return fut


# asyncio's own bookkeeping of the current task; typed loosely: a _DrivenTask stands in for a Task.
_enter_task: Callable[[Any, Any], None] = asyncio.tasks._enter_task  # type: ignore[attr-defined]
_leave_task: Callable[[Any, Any], None] = asyncio.tasks._leave_task  # type: ignore[attr-defined]


# asyncio's registries of live tasks (names vary by version): when all are empty,
# no loop has a task, which is cheaper to see than asyncio.all_tasks(loop).
_TASK_REGISTRIES = [getattr(asyncio.tasks, n) for n in ("_all_tasks", "_scheduled_tasks", "_eager_tasks") if hasattr(asyncio.tasks, n)]


def _has_work(loop: Any) -> bool:
    """Whether the loop has callbacks, live timers (a timeout) or tasks waiting to run."""
    if loop._ready or any(not timer.cancelled() for timer in loop._scheduled):
        return True
    if _TASK_REGISTRIES and not any(len(r) for r in _TASK_REGISTRIES):
        return False
    return bool(asyncio.all_tasks(loop))


class _DrivenTask:
    """asyncio's current task while Lane._drive steps a handler coroutine (it is
    not an asyncio Task: those are scheduled by the loop, step by step). It has
    what asyncio.timeout and TaskGroup use of a task: cancel() cancels the
    future being waited for, or throws CancelledError in at the next step."""

    __slots__ = ("_loop", "_coro", "_fut_waiter", "_must_cancel", "_cancel_args", "_cancel_requests")

    def __init__(self, loop: asyncio.AbstractEventLoop, coro: Any) -> None:
        self._loop = loop
        self._coro = coro
        self._fut_waiter: Any = None
        self._must_cancel = False
        self._cancel_args: tuple = ()
        self._cancel_requests = 0

    def cancel(self, msg: Any = None) -> bool:
        self._cancel_requests += 1
        waiter = self._fut_waiter
        if waiter is not None and waiter.cancel(msg=msg):
            return True
        self._must_cancel = True
        self._cancel_args = () if msg is None else (msg,)
        return True

    def cancelling(self) -> int:
        return self._cancel_requests

    def uncancel(self) -> int:
        if self._cancel_requests > 0:
            self._cancel_requests -= 1
            if self._cancel_requests == 0:
                self._must_cancel = False
        return self._cancel_requests

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def get_coro(self) -> Any:
        return self._coro

    def get_name(self) -> str:
        return "test-rig handler visit"

    def done(self) -> bool:
        return False

    def cancelled(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<{self.get_name()} {self._coro!r}>"


def _settle(job_id: int, task: "asyncio.Future[Any]") -> None:
    if task.cancelled():
        native.complete(job_id, False, {"message": "CancelledError: the handler's task was cancelled", "pyType": "CancelledError"})
        return
    exc = task.exception()
    if exc is not None:
        native.complete(job_id, False, describe_exception(exc))
    else:
        native.complete(job_id, True, task.result())


_lane_by_loop: Dict[asyncio.AbstractEventLoop, Lane] = {}
_lane_by_thread: Dict[int, Lane] = {}
_lanes: Dict[int, Lane] = {}


def start_lane(lane_id: int, fd: int) -> None:
    """Called by JS once per lane it creates."""
    lane = Lane(lane_id, fd)
    _lanes[lane_id] = lane
    lane.thread.start()
    lane.ready.wait()


def call_handler(handler: Any, method: str, ctx: Any) -> Any:
    """What a lane runs for a handler method: ``current_context`` is set for
    the call, and a coroutine becomes a task created inside that context."""
    current_context.set(ctx)  # runs in the job's own context (Lane._call)
    return getattr(handler, method)(ctx)


_CANONICAL = frozenset(
    (
        "Initial",
        "ParsingConfig",
        "Connecting",
        "TestingConnection",
        "VerifyingDatabase",
        "GettingVersion",
        "CheckingImportJobs",
        "ShowingImportJobDetails",
        "Completed",
    )
)


def _leaves(state: str, nxt: Any) -> bool:
    """True when ``nxt`` certainly names another state than ``state``. JS maps
    legacy spellings ("connecting", "Connecting to TiDB") onto canonical names
    only, so a custom state is left for anything else, and a canonical one for
    another canonical name or an error state; anything else is left to JS."""
    if type(nxt) is not str or nxt == state:
        return False
    return state not in _CANONICAL or nxt in _CANONICAL or nxt.startswith("Error")


def visit(handler: Any, ctx: Any, state: str, enter: bool, exit_too: bool) -> Any:
    """One state visit in one lane job: ``enter`` (when entering), ``execute``
    and, when execute leaves for another state, ``exit``. Returns
    ``[failed_stage, error, next_state, exit_ran]`` so JS can attribute a
    failure to the method that raised."""
    current_context.set(ctx)  # runs in the job's own context (Lane._call)
    ctx.state = state
    return _visit_sync(handler, ctx, state, enter, exit_too)


def visit_async(handler: Any, ctx: Any, state: str, enter: bool, exit_too: bool) -> Any:
    """``visit`` of a handler with any ``async def`` method: returns the visit's
    coroutine, which the lane then drives (no handler code runs here)."""
    current_context.set(ctx)
    ctx.state = state
    return _visit_async(handler, ctx, state, enter, exit_too)


def visit_inline(handler: Any, ctx: Any, state: str, enter: bool, exit_too: bool) -> Any:
    """``visit`` of a sync inline handler, on the JS thread: one call per visit."""
    global _inline_ctx
    previous, _inline_ctx = _inline_ctx, ctx
    try:
        ctx.state = state
        return _visit_sync(handler, ctx, state, enter, exit_too)
    finally:
        _inline_ctx = previous


def _visit_sync(handler: Any, ctx: Any, state: str, enter: bool, exit_too: bool) -> Any:
    stage, nxt, ran_exit = "enter", None, False
    try:
        if enter:
            handler.enter(ctx)
        stage = "execute"
        nxt = handler.execute(ctx)
        ran_exit = exit_too and _leaves(state, nxt)
        if ran_exit:
            stage = "exit"
            handler.exit(ctx)
    except BaseException as exc:  # noqa: BLE001 - attributed to its stage in JS
        return [stage, describe_exception(exc), nxt, ran_exit]
    return [None, None, nxt, ran_exit]


def _awaitable(value: Any) -> bool:
    # inspect.isawaitable's ABC checks are slow; async def methods return plain coroutines.
    t = type(value)
    return t is types.CoroutineType or (t is not str and value is not None and inspect.isawaitable(value))


async def _visit_async(
    handler: Any, ctx: Any, state: str, enter: bool, exit_too: bool, explain: Optional[Any] = None
) -> Any:
    """``explain(exc)`` may swap an exception for a clearer one before JS hears of it."""
    stage, nxt, ran_exit = "enter", None, False
    try:
        if enter:
            r = handler.enter(ctx)
            if _awaitable(r):
                await r
        stage = "execute"
        nxt = handler.execute(ctx)
        if _awaitable(nxt):
            nxt = await nxt
        ran_exit = exit_too and _leaves(state, nxt)
        if ran_exit:
            stage = "exit"
            r = handler.exit(ctx)
            if _awaitable(r):
                await r
    except BaseException as exc:  # noqa: BLE001
        return [stage, describe_exception(explain(exc) if explain else exc), nxt, ran_exit]
    return [None, None, nxt, ran_exit]


# ---- calls to JS -------------------------------------------------------------


class _JsRequest:
    """Awaited by an inline handler: the JS driver performs the call."""

    __slots__ = ("payload",)

    def __init__(self, payload: Request) -> None:
        self.payload = payload

    def __await__(self):  # type: ignore[no-untyped-def]
        # Stepped by JS (inline) or by Lane._drive: the stepper performs the call and
        # sends the answer back in. Otherwise an asyncio loop awaits it.
        if native.on_js_thread():
            return (yield self)
        lane = _lane_by_thread.get(threading.get_ident())
        if lane is not None and lane.driving:
            return (yield self)
        return (yield from _call_js_on_loop(self.payload).__await__())


def post_js(payload: Request) -> None:
    """Sends JS a message that needs no answer (lane -1 drops the reply)."""
    native.call_js_async(payload, -1, 0)


def call_js_blocking(payload: Request) -> Any:
    ok, value = native.call_js_sync(payload)
    if not ok:
        raise error_from_js(value)
    return value


def call_js(payload: Request) -> "_JsRequest":
    """Awaitable call to JS from whichever context the caller runs in (an object,
    not a coroutine: one frame less per awaited query)."""
    return _JsRequest(payload)


async def _call_js_on_loop(payload: Request) -> Any:
    loop = asyncio.get_running_loop()
    lane = _lane_by_loop.get(loop)
    if lane is not None:
        return await lane.call_js(payload)
    # A loop of the handler's own (e.g. asyncio.run in a thread): wait in a worker.
    return await loop.run_in_executor(None, call_js_blocking, payload)


# ---- the inline driver (runs on the JS thread) ----------------------------------


class _InlineTask:
    """A coroutine being stepped by JS, with the handler context it runs for."""

    __slots__ = ("coro", "ctx")

    def __init__(self, coro: Any, ctx: Any) -> None:
        self.coro = coro
        self.ctx = ctx


_js_thread_ident: Optional[int] = None
_inline_ctx: Any = None  # the context of the inline call in progress (JS thread only)


def context_now() -> Any:
    """The context of the handler call running on this thread, if any."""
    ctx = current_context.get()
    if ctx is None and threading.get_ident() == _js_thread_ident:
        return _inline_ctx
    return ctx


def visit_inline_async(handler: Any, ctx: Any, state: str, enter: bool, exit_too: bool, task: _InlineTask) -> Any:
    """``visit`` of an inline handler with ``async def`` methods, stepped on the JS
    thread in ``task``: one call per visit, plus one per awaited test-rig call.
    Returns ``[0, outcome]`` (as ``visit``) or the first request."""
    ctx.state = state
    task.coro, task.ctx = _visit_async(handler, ctx, state, enter, exit_too, _explain_inline), ctx
    return _step(task, None, None)


def _explain_inline(exc: BaseException) -> BaseException:
    if isinstance(exc, RuntimeError) and "no running event loop" in str(exc):  # asyncio.sleep & co.
        advice = RuntimeError(_INLINE_ASYNCIO)
        advice.__cause__ = exc
        advice.__traceback__ = exc.__traceback__  # keeps the user's file:line
        return advice
    return exc


def new_inline_task() -> _InlineTask:
    """A slot for the coroutine of one inline call; JS keeps one per handler and reuses it."""
    return _InlineTask(None, None)


def run_inline(handler: Any, method: str, ctx: Any, task: _InlineTask) -> Any:
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


def resume_inline(task: _InlineTask, ok: bool, value: Any) -> Any:
    if ok:
        return _step(task, value, None)
    return _step(task, None, error_from_js(value))


def _step(task: _InlineTask, value: Any, error: Optional[BaseException]) -> Any:
    global _inline_ctx
    coro = task.coro
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
    if type(yielded) is _JsRequest:
        return yielded.payload
    # An asyncio future (no loop runs here): the error is raised at the handler's
    # await, so its stage and line get the blame.
    return _step(task, None, RuntimeError(f"an inline handler awaited {yielded!r}: {_INLINE_ASYNCIO}"))


_INLINE_ASYNCIO = (
    "inline handlers (inline = True) run on the JS thread without an asyncio loop and can only await "
    "test-rig's own calls such as `await context.connection.query(...)`; "
    "remove `inline = True` to use asyncio (sleep, gather, tasks)"
)


# ---- what JS calls --------------------------------------------------------------


def wrap_connection(key: int, name: str) -> Any:
    from .connection import PyConnection

    return PyConnection(None, name, _rig_key=key)


def new_context(key: int) -> Any:
    from .context import PyStateContext

    ctx = PyStateContext()
    ctx._rig_key = key
    return ctx


def interrupt_lane(lane_id: int) -> bool:
    """Stops what a lane is stuck in: cancels its tasks and raises TimeoutError
    in its thread at the next bytecode. Returns False if the lane is unknown."""
    import ctypes

    lane = _lanes.get(lane_id)
    if lane is None or lane.loop is None or lane.thread.ident is None:
        return False

    def cancel_all() -> None:
        for task in asyncio.all_tasks(lane.loop):
            task.cancel()

    lane.abandoned = True
    lane.loop.call_soon_threadsafe(cancel_all)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(lane.thread.ident), ctypes.py_object(TimeoutError))
    return True


def set_output(ctx: Any, key: Any) -> None:
    """Routes this context's print output to JS under ``key`` (None: real stdout)."""
    ctx._rig_output = key


def add_import_path(folder: str) -> None:
    import sys

    if folder not in sys.path:
        sys.path.insert(0, folder)


def exports() -> Dict[str, Any]:
    """The functions JS holds handles to. Called once, on the JS thread."""
    global _js_thread_ident
    from . import _discovery, _output, _reload

    _js_thread_ident = threading.get_ident()
    _output.install()

    return {
        "call_handler": call_handler,
        "visit": visit,
        "visit_async": visit_async,
        "visit_inline": visit_inline,
        "visit_inline_async": visit_inline_async,
        "run_inline": run_inline,
        "add_import_path": add_import_path,
        "reload_files": _reload.reload_files,
        "carry_over": _reload.carry_over,
        "resume_inline": resume_inline,
        "new_inline_task": new_inline_task,
        "start_lane": start_lane,
        "wrap_connection": wrap_connection,
        "new_context": new_context,
        "load_handlers": _discovery.load_handlers,
        "load_handlers_checked": _discovery.load_handlers_checked,
        "instantiate": _discovery.instantiate,
        "describe_handlers": _discovery.describe_handlers,
        "interrupt_lane": interrupt_lane,
        "set_output": set_output,
    }
