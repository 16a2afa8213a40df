"""Describing Python exceptions for JavaScript: the one place that turns an
exception into text.

Every function here is total: it returns for *any* exception object, even one
whose ``__str__``, ``__repr__``, ``__name__`` or traceback machinery raises.
The describer runs on lane threads and in the native bridge's error path; if it
raised, the job it reports on would never settle and the run would hang. So
each step that runs user code falls back: ``str(exc)`` → ``repr(exc)`` → the
type's name."""

from __future__ import annotations

import os
import sysconfig
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import DatabaseError

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# Frames in these are never "the user's line" of an error (asyncio's own yield, json's parser...).
NOT_USER_CODE = tuple({_PACKAGE_DIR, *(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib"))})


def type_name(exc: BaseException) -> str:
    """The exception's class name (never raises: a metaclass may override ``__name__``)."""
    try:
        name = type(exc).__name__
        if isinstance(name, str):
            return name
    except BaseException:  # noqa: BLE001 - a name that cannot be read
        pass
    return "Exception"


def exception_text(exc: BaseException) -> str:
    """``str(exc)``, else ``repr(exc)``, else ``<unprintable TypeName>``."""
    renders: Tuple[Callable[[object], str], ...] = (str, repr)
    for render in renders:
        try:
            text = render(exc)
            if isinstance(text, str):
                return text
        except BaseException:  # noqa: BLE001 - user code in __str__/__repr__
            pass
    return f"<unprintable {type_name(exc)}>"


def format_traceback(exc: BaseException) -> str:
    """The formatted traceback; on failure, the frames alone and the type's name."""
    try:
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except BaseException:  # noqa: BLE001 - e.g. a chained exception whose __str__ raises on an old Python
        pass
    try:
        frames = "".join(traceback.format_tb(exc.__traceback__))
    except BaseException:  # noqa: BLE001
        frames = ""
    return f"Traceback (most recent call last):\n{frames}{type_name(exc)}: {exception_text(exc)}\n"


def user_frame(frames: List[traceback.FrameSummary]) -> Optional[traceback.FrameSummary]:
    """The innermost frame of the user's code (outside test_rig and the stdlib)."""
    user = [f for f in frames if not f.filename.startswith("<frozen ") and not f.filename.startswith(NOT_USER_CODE)]
    return user[-1] if user else None


def describe_exception(exc: BaseException) -> Dict[str, Any]:
    """What JS learns about a Python exception: type, message, traceback and
    the user's file:line (the innermost frame outside test_rig itself). Total."""
    try:
        return _describe(exc)
    except BaseException:  # noqa: BLE001 - the last resort: never fail to describe
        name = type_name(exc)
        text = exception_text(exc)
        return {"message": f"{name}: {text}", "pyType": name, "pyMessage": text, "pyTraceback": ""}


def _describe(exc: BaseException) -> Dict[str, Any]:
    name = type_name(exc)
    text = exception_text(exc)
    info: Dict[str, Any] = {
        "message": f"{name}: {text}",
        "pyType": name,
        "pyMessage": text,
        "pyTraceback": format_traceback(exc),
    }
    try:
        where = user_frame(traceback.extract_tb(exc.__traceback__))
    except BaseException:  # noqa: BLE001 - a frame whose source cannot be read
        where = None
    # No frame of the user's (a module or file that is not found, say): no location
    # rather than test_rig's or the stdlib's (pyTraceback still has every frame).
    if isinstance(exc, SyntaxError) and isinstance(exc.filename, str) and exc.filename:
        info["file"] = exc.filename  # the error is in the file being compiled
        info["line"] = exc.lineno if isinstance(exc.lineno, int) else 0
    elif where is not None:
        info["file"] = where.filename
        info["line"] = where.lineno
        info["function"] = where.name
    if isinstance(exc, DatabaseError):
        info["errno"] = exc.errno if isinstance(exc.errno, int) else None
        info["sqlState"] = exc.sqlstate if isinstance(exc.sqlstate, str) else None
    return info
