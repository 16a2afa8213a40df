"""The lane driver: one thread, one asyncio loop, the jobs of one machine.

In the spirit of Pyodide's webloop (an asyncio loop driven by someone else's
event loop), a lane lets JavaScript drive Python without ever waiting for the
GIL: JS queues jobs natively and gets a Promise; the lane thread takes them
and settles each through ``native.complete``.

Contract
--------
* Jobs come from the native queue as lists: ``["c", id, target, method, args]``
  (call ``target.method(*args)``, or ``target(*args)`` when method is None),
  ``["r", token, ok, value]`` (JS's answer to an awaited ``call_js``) and
  ``["s"]`` (stop).
* **Every call job is settled exactly once**, with ``native.complete(id, ok,
  value)``, whatever the callee does: returns, raises (even an exception that
  cannot be printed), returns a coroutine (settled when it finishes) or is
  cancelled. No exception from a job escapes into the lane's own loop: a lane
  thread that died would leave its Promise, and the run, waiting forever.
* With no coroutine in flight the thread waits in ``native.lane_wait`` (GIL
  released). A coroutine returned by a call is *driven* on the thread
  (``_drive``): an awaited JS call blocks the thread for the answer, unless the
  loop has work of its own, and asyncio futures run the loop until done. Jobs
  that arrive meanwhile (through the eventfd reader) never start a second
  drive: their coroutines become tasks of the loop. While tasks exist the loop
  runs (``run_forever``) until the last one finishes.
* **Abandonment** (``interrupt_lane``): when JS gives up on a job (a timeout, an
  abort) it never sends the lane another call. The lane cancels the coroutine
  it drives and every task, raises ``TimeoutError`` in its thread at the next
  bytecode (a busy or sleeping sync handler), and ends its thread once
  unwound. The jobs JS gave up on are settled at once (with an error nobody
  reads), so a thread stuck in C keeps no Promise, and no Node process, alive.
  The machine goes on with a fresh lane. When the abandoned thread finally
  unwinds, its asyncio loop (epoll, self-pipe) and eventfd are closed
  (``lane_close``): a timed-out case costs nothing once its call returns.
  Until then it counts as stuck; with 64 stuck, no new lane is created.
* ``where_stuck`` tells, from the JS thread, which handler method a lane is in
  and the innermost line of the user's code there."""

from __future__ import annotations

import asyncio
import contextvars
import ctypes
import inspect
import itertools
import sys
import threading
import types
from typing import Any, Callable, Dict, List, Optional, Set

from ._describe import NOT_USER_CODE, describe_exception, exception_text, type_name
from ._jscalls import JsRequest, Request, lane_by_loop, lane_by_thread
from ._native import native
from ._visits import CALL_CODE, VISIT_CODES, visit_async
from .errors import error_from_js


def _minimal(exc: BaseException, prefix: str = "") -> Dict[str, Any]:
    name, text = type_name(exc), exception_text(exc)
    return {"message": f"{prefix}{name}: {text}", "pyType": name, "pyMessage": text, "pyTraceback": ""}


class Lane:
    def __init__(self, lane_id: int, fd: int) -> None:
        self.id = lane_id
        self.fd = fd
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.futures: Dict[int, "asyncio.Future[Any]"] = {}
        self._tokens = itertools.count(1)
        self.ready = threading.Event()
        self.tasks = 0  # coroutines in flight as tasks of this lane's asyncio loop
        self.driven: Optional[_DrivenTask] = None  # the coroutine _drive steps, if any
        self.driving = False  # _drive is stepping it right now (not waiting in the loop)
        self.loop_marked = False  # self.loop is asyncio's running loop for this thread
        self.idle_loop = False  # _main runs the loop (run_forever) for tasks only
        self.open_jobs: Set[int] = set()  # call jobs taken and not settled yet
        self.stopped = False
        self.abandoned = False  # set by interrupt_lane: the lane is never used again
        self.ending = False  # the thread is past its last job: interrupt_lane raises nothing more
        self.end_lock = threading.Lock()  # orders interrupt_lane's raise against `ending`
        self.thread = threading.Thread(target=self._main, name=f"test-rig-lane-{lane_id}", daemon=True)

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(self._loop_error)
        self.loop = loop
        lane_by_loop[loop] = self
        lane_by_thread[threading.get_ident()] = self
        loop.add_reader(self.fd, self._drain)
        self.ready.set()
        try:
            while not self.stopped and not self.abandoned:
                try:
                    if self.tasks:
                        self._mark_loop(False)  # run_forever sets it itself
                        self.idle_loop = True
                        try:
                            loop.run_forever()
                        finally:
                            self.idle_loop = False
                    else:
                        self._handle(native.lane_wait(self.id))
                except BaseException as exc:  # noqa: BLE001
                    # interrupt_lane's TimeoutError, arriving between jobs: the lane ends
                    # quietly. Anything else is a bug of ours, reported, and the lane goes on.
                    if self.abandoned:
                        break
                    print(f"test-rig: lane {self.id} recovered from {_minimal(exc)['message']}", file=sys.stderr)
        finally:
            self._end(loop)

    def _end(self, loop: asyncio.AbstractEventLoop) -> None:
        """Releases what the lane holds: its loop's descriptors and its eventfd."""
        # interrupt_lane's TimeoutError may still be on its way: stop it from being
        # sent, clear one that was, and retry should it land in between.
        while True:
            try:
                with self.end_lock:
                    self.ending = True
                    if self.thread.ident is not None:
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread.ident), None)
                break
            except BaseException:  # noqa: BLE001 - that TimeoutError, landing just now
                continue
        lane_by_loop.pop(loop, None)
        lane_by_thread.pop(threading.get_ident(), None)
        _lanes.pop(self.id, None)
        try:
            loop.remove_reader(self.fd)
            loop.close()
        except BaseException:  # noqa: BLE001 - a loop that cannot close: the eventfd still goes
            pass
        native.lane_close(self.id)

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: Dict[str, Any]) -> None:
        if self.abandoned:
            return  # what interrupt_lane's TimeoutError broke in a callback: nobody waits for it
        loop.default_exception_handler(context)

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

    def _settle(self, job_id: int, ok: bool, value: Any) -> None:
        """native.complete, falling back to an error JS can always take (a value
        that cannot cross the bridge, say)."""
        self.open_jobs.discard(job_id)
        try:
            native.complete(job_id, ok, value)
        except BaseException as exc:  # noqa: BLE001 - the job must settle
            native.complete(job_id, False, _minimal(exc, "the handler's result could not be sent to JavaScript: "))

    def _fail(self, job_id: int, exc: BaseException) -> None:
        self._settle(job_id, False, describe_exception(exc))

    def _call(self, job_id: int, target: Any, method: Optional[str], args: List[Any]) -> None:
        """Runs one call job; settles it (now, or when its coroutine finishes)."""
        self.open_jobs.add(job_id)
        try:
            # Each job runs in a context of its own, so a handler's current_context
            # stays with the coroutine it starts.
            context = contextvars.copy_context()
            if self.loop_marked and target is not visit_async:
                self._mark_loop(False)  # user code may run now, and may call asyncio.run()
            fn = getattr(target, method) if method is not None else target
            result = context.run(fn, *args)
            if inspect.iscoroutine(result) and not self.tasks and self.driven is None:
                context.run(self._drive, job_id, result)
            elif inspect.isawaitable(result):
                assert self.loop is not None
                task = asyncio.ensure_future(result, loop=self.loop)
                self.tasks += 1
                task.add_done_callback(lambda t: self._task_done(job_id, t))
            else:
                self._settle(job_id, True, result)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to JS
            self._fail(job_id, exc)

    def _drive(self, job_id: int, coro: Any) -> None:
        """Steps a handler coroutine on this thread (inside the job's context),
        with a stand-in task as asyncio's current task (asyncio.timeout,
        TaskGroup and, from 3.12, wait_for need one). An awaited JS call goes
        straight to JS and the lane thread blocks for the answer, as
        execute_query does, unless the loop has work of its own (timers, other
        tasks): then the loop runs while the answer comes, so a timeout can
        fire. Anything asyncio (sleep, gather, futures) runs the lane's loop
        until it is done, then stepping resumes. Settles the job."""
        assert self.loop is not None
        loop = self.loop
        task = _DrivenTask(loop, coro)
        value: Any = None
        error: Optional[BaseException] = None
        ok, result = True, None
        self.driven = task
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
                    if type(yielded) is JsRequest:
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
            self.driven = None
        self._settle(job_id, ok, result)

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
        if task.cancelled():
            self._settle(job_id, False, {"message": "CancelledError: the handler's task was cancelled", "pyType": "CancelledError"})
        elif task.exception() is not None:
            self._fail(job_id, task.exception())  # type: ignore[arg-type]
        else:
            self._settle(job_id, True, task.result())
        # Back to lane_wait, unless the loop runs for a driven coroutine (_wait), which
        # must not be stopped under it.
        if self.tasks == 0 and self.idle_loop and self.loop is not None:
            self.loop.stop()

    def call_js(self, payload: Request) -> "asyncio.Future[Any]":
        assert self.loop is not None
        fut = self.loop.create_future()
        token = next(self._tokens)
        self.futures[token] = fut
        native.call_js_async(payload, self.id, token)
        return fut

    def abandon(self) -> None:
        """On the lane's own thread: cancel what runs (interrupt_lane's first step)."""
        if self.driven is not None:
            self.driven.cancel("test-rig gave up on this visit")
        assert self.loop is not None
        for task in asyncio.all_tasks(self.loop):
            task.cancel()


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


_lanes: Dict[int, Lane] = {}


def start_lane(lane_id: int, fd: int) -> None:
    """Called by JS once per lane it creates."""
    lane = Lane(lane_id, fd)
    _lanes[lane_id] = lane
    lane.thread.start()
    lane.ready.wait()


def interrupt_lane(lane_id: int) -> bool:
    """Abandons a lane JS gave up on: cancels its coroutines and raises
    TimeoutError in its thread at the next bytecode. Returns False if the lane
    is unknown or already gone."""
    lane = _lanes.get(lane_id)
    if lane is None or lane.loop is None or lane.thread.ident is None or lane.abandoned:
        return False
    lane.abandoned = True
    native.lane_abandoned(lane_id)
    # Settle what JS gave up on now: a job left open keeps Node's event loop alive
    # (a thread stuck in C may never settle it). The thread's own settling later is ignored.
    for job_id in list(lane.open_jobs):
        native.complete(job_id, False, {"message": "the lane was abandoned: test-rig stopped waiting for this call", "pyType": "TimeoutError"})
    lane.open_jobs.clear()
    with lane.end_lock:
        if lane.ending:  # its thread is done with jobs and closing the lane itself
            return False
        try:
            lane.loop.call_soon_threadsafe(lane.abandon)
        except RuntimeError:  # the loop is closed: the thread has ended
            return False
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(lane.thread.ident), ctypes.py_object(TimeoutError))
    return True


# ---- where a lane is stuck -------------------------------------------------------


def _coroutine_frames(coro: Any) -> List[types.FrameType]:
    """The frames of a suspended coroutine chain, outermost first."""
    frames: List[types.FrameType] = []
    seen = 0
    while coro is not None and seen < 200:
        seen += 1
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            frames.append(frame)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return frames


def _thread_frames(ident: int) -> List[types.FrameType]:
    frame = sys._current_frames().get(ident)
    frames: List[types.FrameType] = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()
    return frames


def where_stuck(lane_id: int) -> Optional[Dict[str, Any]]:
    """Which handler method a lane is running (``method``: enter, execute or exit)
    and the innermost line of the user's code there (``file``, ``line``,
    ``function``); None when it runs none. Called on the JS thread."""
    lane = _lanes.get(lane_id)
    if lane is None or lane.thread.ident is None:
        return None
    frames = _thread_frames(lane.thread.ident)
    driven = lane.driven
    if driven is not None and not lane.driving:  # suspended in an await: its frames are not on the stack
        frames += _coroutine_frames(driven._coro)
    elif driven is None and lane.loop is not None and lane.tasks:
        for task in list(asyncio.all_tasks(lane.loop)):
            frames += _coroutine_frames(task.get_coro())
            break
    method: Optional[str] = None
    user: Optional[types.FrameType] = None
    for frame in frames:
        code = frame.f_code
        if code in VISIT_CODES:
            method = frame.f_locals.get("stage")
        elif code is CALL_CODE:
            method = frame.f_locals.get("method")
        filename = code.co_filename
        if not filename.startswith("<") and not filename.startswith(NOT_USER_CODE):
            user = frame
    if method is None and user is None:
        return None
    out: Dict[str, Any] = {"method": method if isinstance(method, str) else None}
    if user is not None:
        out.update(file=user.f_code.co_filename, line=user.f_lineno, function=user.f_code.co_name)
    return out
