"""Describing Python exceptions for JavaScript: the one place that turns an
exception into text.

Every function here is total: it returns for *any* exception object, even one
whose ``__str__``, ``__repr__``, ``__name__`` or traceback machinery raises.
The describer runs on lane threads and in the native bridge's error path; if it
raised, the job it reports on would never settle and the run would hang. So
each step that runs user code falls back: ``str(exc)`` → ``repr(exc)`` → the
type's name."""

from __future__ import annotations

import builtins
import os
import sysconfig
import traceback
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

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


_GROUP: Any = getattr(builtins, "BaseExceptionGroup", None)  # Python 3.11+
_MAX_CHAIN = 20  # causes shown for one exception; a longer chain is cut with a count
_MAX_MEMBERS = 20  # members shown for one ExceptionGroup


def _one_line(exc: BaseException) -> str:
    """``Type: message (file:line)``, the line the user's code raised it at when known."""
    text = " ".join(exception_text(exc).split())
    head = f"{type_name(exc)}: {text}" if text else type_name(exc)
    try:
        where = user_frame(traceback.extract_tb(exc.__traceback__))
    except BaseException:  # noqa: BLE001 - a frame whose source cannot be read
        where = None
    return f"{head} ({where.filename}:{where.lineno})" if where is not None else head


def _members(exc: BaseException, indent: str, seen: Set[int]) -> List[str]:
    """The numbered members of an ExceptionGroup, each with its own chain and members."""
    if _GROUP is None or not isinstance(exc, _GROUP):
        return []
    members = list(getattr(exc, "exceptions", ()))
    lines: List[str] = []
    for i, member in enumerate(members[:_MAX_MEMBERS], 1):
        if id(member) in seen:
            continue
        seen.add(id(member))
        lines.append(f"{indent}[{i}] {_one_line(member)}")
        lines += _chain(member, indent + "    ", seen)
        lines += _members(member, indent + "    ", seen)
    if len(members) > _MAX_MEMBERS:
        lines.append(f"{indent}… and {len(members) - _MAX_MEMBERS} more")
    return lines


def _chain(exc: BaseException, indent: str, seen: Set[int]) -> List[str]:
    """What ``exc`` was raised from (``caused by``) or while handling (``while handling``)."""
    lines: List[str] = []
    current = exc
    for _ in range(_MAX_CHAIN):
        if current.__cause__ is not None:
            nxt, relation = current.__cause__, "caused by"
        elif current.__context__ is not None and not current.__suppress_context__:
            nxt, relation = current.__context__, "while handling"
        else:
            return lines
        if id(nxt) in seen:
            return lines
        seen.add(id(nxt))
        lines.append(f"{indent}{relation} {_one_line(nxt)}")
        lines += _members(nxt, indent + "    ", seen)
        current = nxt
    lines.append(f"{indent}… (a longer chain)")
    return lines


def exception_details(exc: BaseException) -> List[str]:
    """The lines that say what else went wrong: the chain of causes and the members of
    an ExceptionGroup (a TaskGroup's), each with the user's file:line. Empty when none."""
    seen = {id(exc)}
    return _members(exc, "", seen) + _chain(exc, "", seen)


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
    try:
        details = exception_details(exc)
    except BaseException:  # noqa: BLE001 - the traceback has them all anyway
        details = []
    if details:
        info["details"] = details
    if isinstance(exc, DatabaseError):
        info["errno"] = exc.errno if isinstance(exc.errno, int) else None
        info["sqlState"] = exc.sqlstate if isinstance(exc.sqlstate, str) else None
    return info
