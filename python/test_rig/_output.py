"""Routes ``print`` output of a handler to the test case it belongs to.

sys.stdout/sys.stderr are replaced by routers: text written while a handler
of a context with an output sink runs (its lane, its inline steps, and the
threads it starts through ``contextvars``-aware code) is sent to JavaScript,
which prefixes it with the case name and streams it live. Everything else
goes to the real streams unchanged."""

from __future__ import annotations

import io
import sys
from typing import Any, TextIO

from . import _bridge

# The longest unfinished line kept here before it is sent on as a line of its own.
_MAX_PENDING = 1 << 20


def _send(key: Any, stream: str, text: str) -> None:
    _bridge.post_js(["output", key, stream, text])


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
            _send(key, self._stream, pending[:cut])
        rest = pending[cut:]
        if len(rest) >= _MAX_PENDING:
            # a line without end (a progress bar, say) is sent in pieces: the
            # buffer stays bounded and appending to it stays cheap
            _send(key, self._stream, rest + "\n")
            rest = ""
        buffers[self._stream] = rest
        return len(text)

    def flush(self) -> None:
        ctx = _bridge.context_now()
        buffers = getattr(ctx, "_rig_outbuf", None)
        key = getattr(ctx, "_rig_output", None)
        if buffers and key is not None and buffers.get(self._stream):
            _send(key, self._stream, buffers.pop(self._stream))
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
