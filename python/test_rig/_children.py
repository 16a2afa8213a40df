"""Processes that handlers start behave as they would under a plain Python.

Python runs inside Node here, and a child process inherits Node's state:

* **Subprocesses** (``subprocess``): Node opens its standard streams
  close-on-exec, so a child got none (``echo`` failed writing). Fds 0-2 are
  made inheritable, and a ``subprocess`` child whose stdin/stdout/stderr are
  not redirected gets ``/dev/null`` as stdin and pipes for its output, which
  go into the case's output like ``print`` (the terminal, JSON lines, JUnit).
* **Forked children** (``os.fork``, ``multiprocessing``'s default ``fork``):
  they inherited Node's signal handlers, which write to a pipe the parent
  test-rig reads, so a pool's SIGTERM to its workers stopped the run. Signals
  are blocked from just before the fork until, in the child, every signal has
  a plain Python's disposition back (SIGINT raises KeyboardInterrupt, SIGPIPE
  ignored, the rest default); then the child's mask is cleared, Node's own
  descriptors are closed, print() writes to the real streams, and test-rig's calls refuse to
  run: the connections belong to the parent. A child that returns into
  test-rig instead of exiting (a bare ``os.fork()`` whose child returns from
  ``execute``) exits there, with status 0 (1 if it was failing), instead of
  hanging on to the parent's output and sockets.

``multiprocessing`` with ``spawn`` or ``forkserver`` starts ``sys.executable``,
which test-rig sets to the Python it embeds, so it works unchanged (the
workers import the handler's module by name, as with any spawned process).
"""

from __future__ import annotations

import contextvars
import os
import signal
import subprocess
import sys
import threading
from typing import Any, Dict, Tuple

# Descriptors open when test-rig loaded Python (Node's event loop, its signal
# pipe, the supervisor channel, the log file): fd -> (device, inode), so that
# a number reused since for something else is not closed by mistake.
_RIG_FDS: Dict[int, Tuple[int, int]] = {}

_REFUSED = (
    "test-rig's connections and calls belong to the parent process, not to a process forked "
    "by a handler (open your own connection in the child, or use multiprocessing with the 'spawn' start method)"
)


def _snapshot_fds() -> None:
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return
    for name in names:
        fd = int(name)
        if fd <= 2:
            continue
        try:
            st = os.fstat(fd)
        except OSError:
            continue
        _RIG_FDS[fd] = (st.st_dev, st.st_ino)


def _reset_signals() -> None:
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError, RuntimeError):
            pass  # reserved by the C library, or not settable
    for sig, handler in ((signal.SIGPIPE, signal.SIG_IGN), (signal.SIGINT, signal.default_int_handler)):
        try:
            signal.signal(sig, handler)
        except (OSError, ValueError, RuntimeError):
            pass
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
    except (OSError, ValueError):
        pass


def _close_rig_fds() -> None:
    for fd, ident in _RIG_FDS.items():
        try:
            st = os.fstat(fd)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == ident:
            try:
                os.close(fd)
            except OSError:
                pass


def _exit_child(status: int) -> None:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status)


def _guard_native() -> None:
    """In the child: calls to JS raise; returning into test-rig exits the child."""
    try:
        from . import _bridge

        native: Any = _bridge.native
        if not _bridge.EMBEDDED:
            return
    except Exception:
        return

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(_REFUSED)

    def complete(_job: Any, ok: Any = True, *_rest: Any) -> None:
        _exit_child(0 if ok else 1)

    def leave(*_args: Any) -> None:
        _exit_child(0)

    on_js_thread = False
    try:
        on_js_thread = bool(native.on_js_thread())
    except Exception:
        pass
    for name in ("call_js_sync", "call_js_async"):
        try:
            setattr(native, name, refuse)
        except (AttributeError, TypeError):
            pass
    for name, fn in (("complete", complete), ("lane_wait", leave), ("lane_take", leave)):
        try:
            setattr(native, name, fn)
        except (AttributeError, TypeError):
            pass
    if on_js_thread:
        # Forked from an inline handler: returning from the outermost Python
        # frame would run Node's event loop, a second test-rig. Exit there instead.
        outer = sys._getframe()
        while outer.f_back is not None:
            outer = outer.f_back
        code = outer.f_code

        def on_return(frame: Any, event: str, _arg: Any) -> None:
            if event == "return" and frame.f_code is code and frame.f_back is None:
                _exit_child(0)

        sys.setprofile(on_return)


def _plain_streams() -> None:
    """print() in the child writes to the real streams (the case's output is the parent's to send)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        real = getattr(stream, "_real", None)
        if real is not None:
            setattr(sys, name, real)


# The forking thread's signal mask before fork: all signals stay blocked from
# just before fork until the child has reset its handlers, so a signal sent to
# a child that has just started (a pool terminating a worker it forked a moment
# ago) cannot run Node's handler, which would tell the parent test-rig.
_saved_mask: Any = None


def _before_fork() -> None:
    global _saved_mask
    try:
        _saved_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    except (OSError, ValueError):
        _saved_mask = None


def _after_fork_in_parent() -> None:
    if _saved_mask is not None:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, _saved_mask)
        except (OSError, ValueError):
            pass


def _after_fork_in_child() -> None:
    _reset_signals()
    _close_rig_fds()
    _plain_streams()
    _guard_native()


# ---- subprocesses --------------------------------------------------------------


def _forward(fd: int, stream: Any) -> None:
    """Copies a child's output pipe into the case's output, line by line."""
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        pending = b""
        while True:
            chunk = pipe.read(65536)
            if not chunk:
                break
            pending += chunk
            cut = pending.rfind(b"\n") + 1
            if cut:
                stream.write(pending[:cut].decode("utf-8", "replace"))
                pending = pending[cut:]
        if pending:
            stream.write(pending.decode("utf-8", "replace") + "\n")
        stream.flush()


def _output_pipe(name: str) -> Tuple[int, threading.Thread]:
    """A pipe whose read end a thread copies into sys.<name> (in this handler's context)."""
    r, w = os.pipe()
    stream = getattr(sys, name)
    ctx = contextvars.copy_context()
    thread = threading.Thread(target=ctx.run, args=(_forward, r, stream), name=f"test-rig {name} of a subprocess", daemon=True)
    thread.start()
    return w, thread


def _patch_subprocess() -> None:
    popen: Any = subprocess.Popen
    if getattr(popen, "_test_rig_patched", False) or not hasattr(popen, "_get_handles"):
        return
    get_handles = popen._get_handles
    execute_child = popen._execute_child

    def _get_handles(self: Any, stdin: Any, stdout: Any, stderr: Any) -> Any:
        ours = []
        threads = []
        if stdin is None:
            stdin = subprocess.DEVNULL
        if stdout is None:
            stdout, thread = _output_pipe("stdout")
            ours.append(stdout)
            threads.append(thread)
        if stderr is None:
            stderr, thread = _output_pipe("stderr")
            ours.append(stderr)
            threads.append(thread)
        self._test_rig_pipes = ours
        self._test_rig_forwarders = threads
        return get_handles(self, stdin, stdout, stderr)

    def _execute_child(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return execute_child(self, *args, **kwargs)
        finally:
            # the child has its copies; closing ours lets the forwarders see EOF
            for fd in getattr(self, "_test_rig_pipes", ()):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._test_rig_pipes = []

    wait = popen.wait

    def _wait(self: Any, timeout: Any = None) -> Any:
        status = wait(self, timeout)
        # the child has exited: let its last lines reach the case's output first
        # (briefly: a grandchild may still hold the pipe)
        for thread in getattr(self, "_test_rig_forwarders", ()):
            thread.join(1.0)
        return status

    popen._get_handles = _get_handles
    popen._execute_child = _execute_child
    popen.wait = _wait
    popen._test_rig_patched = True


def install() -> None:
    """Called once when test_rig is imported inside test-rig."""
    try:
        from . import _bridge

        if not _bridge.EMBEDDED:
            return
    except Exception:
        return
    for fd in (0, 1, 2):
        try:
            os.set_inheritable(fd, True)
        except OSError:
            pass  # not open
    _snapshot_fds()
    _patch_subprocess()
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)
