"""Just enough of an asyncio event loop for inline handlers (``inline = True``),
whose coroutines JavaScript steps on its own thread: ``asyncio.sleep`` and
futures completed by its timers.

It never runs by itself. It is the JS thread's running loop (so ``asyncio.run``
is refused there, with advice); when the coroutine waits for one of its futures, JS sleeps until the
next timer is due (a ``sleep`` request, so the JS thread is free meanwhile) and
the stepper then runs what is due."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import deque
from typing import Any, Callable, Deque, List, Optional


class InlineLoop(asyncio.AbstractEventLoop):
    def __init__(self) -> None:
        self._ready: Deque[asyncio.Handle] = deque()
        self._timers: List[asyncio.TimerHandle] = []

    # -- what futures, handles and asyncio.sleep ask of a loop --------------------

    def time(self) -> float:
        return time.monotonic()

    def get_debug(self) -> bool:
        return False

    def is_running(self) -> bool:
        return True

    def is_closed(self) -> bool:
        return False

    def create_future(self) -> "asyncio.Future[Any]":
        return asyncio.Future(loop=self)

    def call_soon(self, callback: Callable[..., Any], *args: Any, context: Any = None) -> asyncio.Handle:
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any, context: Any = None) -> asyncio.TimerHandle:
        return self.call_at(self.time() + delay, callback, *args, context=context)

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any, context: Any = None) -> asyncio.TimerHandle:
        handle = asyncio.TimerHandle(when, callback, args, self, context)
        heapq.heappush(self._timers, handle)
        return handle

    def create_task(self, coro: Any, *, name: Any = None, context: Any = None) -> "asyncio.Task[Any]":
        # a task may sleep; one awaiting test-rig's calls cannot be stepped by JS (Task rejects the request)
        return asyncio.Task(coro, loop=self, name=name)

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        pass  # dropped when it comes due

    def call_exception_handler(self, context: Any) -> None:
        pass  # a callback's error; the awaiting coroutine sees its own

    # -- the stepper's side ------------------------------------------------------

    def run_due(self) -> None:
        """Runs the timers that are due and every callback they make ready."""
        now = self.time()
        while self._timers and self._timers[0].when() <= now:
            timer = heapq.heappop(self._timers)
            if not timer.cancelled():
                self._ready.append(timer)
        for _ in range(10_000):  # bounded: a callback that keeps rescheduling itself
            if not self._ready:
                break
            handle = self._ready.popleft()
            if not handle.cancelled():
                handle._run()

    def next_delay(self) -> Optional[float]:
        """Seconds until the next live timer, or None when none is pending."""
        while self._timers and self._timers[0].cancelled():
            heapq.heappop(self._timers)
        if self._ready:
            return 0.0
        return max(0.0, self._timers[0].when() - self.time()) if self._timers else None


# The rest of the loop API (sockets, subprocesses, signals) is abstract: never called inline.
loop = InlineLoop()  # type: ignore[abstract]
