"""Routes ``print`` output of a handler to the test case it belongs to.

sys.stdout/sys.stderr are replaced by routers: text written while a handler
of a context with an output sink runs (its lane, its inline steps, and the
threads it starts through ``contextvars``-aware code) is sent to JavaScript,
which prefixes it with the case name and streams it live. Everything else
goes to the real streams unchanged.

A handler printing in a tight loop makes lines faster than JavaScript takes
them, and each line queued between the two costs about 1 KB. So a context's
first 10,000 lines are sent as printed; after that only the last 10,000 are
held here, sent on at most every 0.5 s (and when the case ends,
``flush_output``), with the count of lines dropped in between (a ``dropped``
message: JavaScript counts them with the lines its own report drops)."""

from __future__ import annotations

import collections
import io
import sys
import threading
import time
from typing import Any, Deque, List, Optional, TextIO, Tuple

from . import _bridge

# The longest unfinished line kept here before it is sent on as a line of its own.
_MAX_PENDING = 1 << 20


# Lines sent as printed, then lines held (the newest) between throttled sends.
_HEAD_LINES = 10_000
_TAIL_LINES = 10_000
_SEND_EVERY = 0.5  # seconds


def _send(key: Any, stream: str, text: str) -> None:
    _bridge.post_js(["output", key, stream, text])


class _Capture:
    """One context's output past its first lines: the newest lines, sent on now and then."""

    __slots__ = ("sent", "tail", "dropped_lines", "dropped_chars", "last_send", "lock")

    def __init__(self) -> None:
        self.sent = 0  # lines sent as printed
        self.tail: Optional[Deque[Tuple[str, str]]] = None  # set once the first lines are sent
        self.dropped_lines = 0
        self.dropped_chars = 0
        self.last_send = time.monotonic()
        self.lock = threading.RLock()  # send() runs inside write() too

    def write(self, key: Any, stream: str, chunk: str) -> None:
        """``chunk``: whole lines, each ending with a newline."""
        with self.lock:  # the handler's threads may print at once
            if self.tail is None:
                n = chunk.count("\n")
                if self.sent + n <= _HEAD_LINES:
                    self.sent += n
                    _send(key, stream, chunk)
                    return
                cut = 0
                for _ in range(_HEAD_LINES - self.sent):
                    cut = chunk.index("\n", cut) + 1
                if cut:
                    _send(key, stream, chunk[:cut])
                chunk = chunk[cut:]
                self.sent = _HEAD_LINES
                self.tail = collections.deque(maxlen=_TAIL_LINES)
            tail = self.tail
            for line in chunk.split("\n")[:-1]:
                if len(tail) == _TAIL_LINES:
                    self.dropped_lines += 1
                    self.dropped_chars += len(tail[0][1])
                tail.append((stream, line))
            if time.monotonic() - self.last_send >= _SEND_EVERY:
                self.send(key)

    def send(self, key: Any) -> None:
        """Sends what is held: the count dropped, then the lines, a run of one stream at a time."""
        with self.lock:
            if self.tail is None or (not self.tail and not self.dropped_lines):
                return
            lines: List[Tuple[str, str]] = list(self.tail)
            self.tail.clear()
            dropped, chars = self.dropped_lines, self.dropped_chars
            self.dropped_lines = self.dropped_chars = 0
            self.last_send = time.monotonic()
        if dropped:
            _bridge.post_js(["dropped", key, dropped, chars])
        start = 0
        for k in range(1, len(lines) + 1):
            if k == len(lines) or lines[k][0] != lines[start][0]:
                _send(key, lines[start][0], "\n".join(text for _, text in lines[start:k]) + "\n")
                start = k


def _capture(ctx: Any) -> _Capture:
    cap = ctx.__dict__.get("_rig_capture")
    if cap is None:
        cap = ctx.__dict__.setdefault("_rig_capture", _Capture())
    return cap


def flush_output(ctx: Any) -> None:
    """Sends what a context holds (its case is ending). Called by JS."""
    key = getattr(ctx, "_rig_output", None)
    cap = ctx.__dict__.get("_rig_capture")
    if key is not None and cap is not None:
        cap.send(key)


class _Router(io.TextIOBase):
    def __init__(self, real: TextIO, stream: str) -> None:
        self._real = real
        self._stream = stream

    def write(self, text: str) -> int:  # type: ignore[override]
        ctx = _bridge.context_now()
        key = getattr(ctx, "_rig_output", None)
        if key is None:
            return self._real.write(text)
        # Whole lines only: print() writes a line in several pieces.
        buffers = ctx.__dict__.setdefault("_rig_outbuf", {})
        pending = buffers.get(self._stream, "") + text
        cut = pending.rfind("\n") + 1
        if cut:
            _capture(ctx).write(key, self._stream, pending[:cut])
        rest = pending[cut:]
        if len(rest) >= _MAX_PENDING:
            # a line without end (a progress bar, say) is sent in pieces: the
            # buffer stays bounded and appending to it stays cheap
            _capture(ctx).write(key, self._stream, rest + "\n")
            rest = ""
        buffers[self._stream] = rest
        return len(text)

    def flush(self) -> None:
        ctx = _bridge.context_now()
        buffers = getattr(ctx, "_rig_outbuf", None)
        key = getattr(ctx, "_rig_output", None)
        if buffers and key is not None and buffers.get(self._stream):
            _capture(ctx).write(key, self._stream, buffers.pop(self._stream) + "\n")
        self._real.flush()

    def isatty(self) -> bool:
        return self._real.isatty()

    def fileno(self) -> int:
        return self._real.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._real, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def install() -> None:
    if not isinstance(sys.stdout, _Router) and sys.stdout is not None:
        sys.stdout = _Router(sys.stdout, "stdout")  # type: ignore[assignment]
    if not isinstance(sys.stderr, _Router) and sys.stderr is not None:
        sys.stderr = _Router(sys.stderr, "stderr")  # type: ignore[assignment]
