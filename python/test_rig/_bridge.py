"""The Python half of the bridge: what JavaScript calls (``exports()``).

The pieces, each in its own module:

* ``_lane``: the lane driver, one thread and asyncio loop per machine, and its
  contract (every job settles exactly once; abandonment; ``where_stuck``);
* ``_inline``: the inline driver, handlers stepped on the JS thread;
* ``_visits``: a state visit (enter, execute, exit) as one call;
* ``_jscalls``: calls from Python to JavaScript;
* ``_describe``: the one, total, description of a Python exception.

The names other modules (connection.py, _output.py) and older code import from
here stay here: ``call_js``, ``call_js_blocking``, ``post_js``, ``context_now``,
``describe_exception``, ``current_context``."""

from __future__ import annotations

import sys
import threading
from typing import Any, Dict

from . import _inline
from ._describe import describe_exception
from ._inline import InlineDeadlineError, context_now
from ._jscalls import Request, call_js, call_js_blocking, post_js
from ._lane import interrupt_lane, start_lane, threads_where, where_stuck
from ._native import EMBEDDED, native
from ._visits import call_handler, current_context, visit, visit_async

__all__ = [
    "EMBEDDED",
    "InlineDeadlineError",
    "Request",
    "call_js",
    "call_js_blocking",
    "context_now",
    "current_context",
    "describe_exception",
    "exports",
    "post_js",
]

if EMBEDDED:
    native.set_exception_describer(describe_exception)
    native.set_deadline_error(InlineDeadlineError)


def wrap_connection(key: int, name: str) -> Any:
    from .connection import PyConnection

    return PyConnection(None, name, _rig_key=key)


def new_context(key: int) -> Any:
    from .context import PyStateContext

    ctx = PyStateContext()
    ctx._rig_key = key
    return ctx


def set_output(ctx: Any, key: Any) -> None:
    """Routes this context's print output to JS under ``key`` (None: real stdout)."""
    ctx._rig_output = key


def add_import_path(folder: str) -> None:
    if folder not in sys.path:
        sys.path.insert(0, folder)


def exports() -> Dict[str, Any]:
    """The functions JS holds handles to. Called once, on the JS thread."""
    from . import _discovery, _output, _reload, _shared_data

    _inline.js_thread_ident = threading.get_ident()
    _inline.install_loop()
    _output.install()

    return {
        "call_handler": call_handler,
        "visit": visit,
        "visit_async": visit_async,
        "visit_inline": _inline.visit_inline,
        "visit_inline_async": _inline.visit_inline_async,
        "run_inline": _inline.run_inline,
        "add_import_path": add_import_path,
        "reload_files": _reload.reload_files,
        "carry_over": _reload.carry_over,
        "resume_inline": _inline.resume_inline,
        "new_inline_task": _inline.new_inline_task,
        "start_lane": start_lane,
        "wrap_connection": wrap_connection,
        "new_context": new_context,
        "load_handlers": _discovery.load_handlers,
        "load_handlers_checked": _discovery.load_handlers_checked,
        "instantiate": _discovery.instantiate,
        "describe_handlers": _discovery.describe_handlers,
        "interrupt_lane": interrupt_lane,
        "where_stuck": where_stuck,
        "threads_where": threads_where,
        "set_output": set_output,
        "shared_get": _shared_data.shared_get,
        "shared_set": _shared_data.shared_set,
        "shared_delete": _shared_data.shared_delete,
        "shared_keys": _shared_data.shared_keys,
        "flush_output": _output.flush_output,
    }
