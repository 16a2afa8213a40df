"""State visits: ``enter`` (when entering), ``execute`` and, when execute
leaves for another state, ``exit``, as one call from JS.

Each visit function returns ``[failed_stage, error, next_state, exit_ran]`` so
JS can attribute a failure to the method that raised; the common outcome, a
state string returned without exit running, is that string alone (a list costs
JS about 1 µs to take, a string a tenth of that, on every visit). The stage being run is
kept in the local ``stage`` of ``_visit_sync`` / ``_visit_async``, where
``_lane.where_stuck`` reads it when JS gives up on a visit."""

from __future__ import annotations

import contextvars
import inspect
import types
from typing import Any, Callable, Optional

from ._describe import describe_exception

# The context of the handler call in progress on a lane (for RealPyConnection & co.).
current_context: contextvars.ContextVar[Any] = contextvars.ContextVar("test_rig_context", default=None)


def call_handler(handler: Any, method: str, ctx: Any) -> Any:
    """What a lane runs for one handler method: ``current_context`` is set for
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
    """One state visit in one lane job."""
    current_context.set(ctx)  # runs in the job's own context (Lane._call)
    ctx.state = state
    return visit_sync(handler, ctx, state, enter, exit_too)


def visit_async(handler: Any, ctx: Any, state: str, enter: bool, exit_too: bool) -> Any:
    """``visit`` of a handler with any ``async def`` method: returns the visit's
    coroutine, which the lane then drives (no handler code runs here)."""
    current_context.set(ctx)
    ctx.state = state
    return visit_coroutine(handler, ctx, state, enter, exit_too)


def visit_sync(handler: Any, ctx: Any, state: str, enter: bool, exit_too: bool) -> Any:
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
    return nxt if type(nxt) is str and not ran_exit else [None, None, nxt, ran_exit]


def _awaitable(value: Any) -> bool:
    # inspect.isawaitable's ABC checks are slow; async def methods return plain coroutines.
    t = type(value)
    return t is types.CoroutineType or (t is not str and value is not None and inspect.isawaitable(value))


async def visit_coroutine(
    handler: Any,
    ctx: Any,
    state: str,
    enter: bool,
    exit_too: bool,
    explain: Optional[Callable[[BaseException], BaseException]] = None,
) -> Any:
    """The visit as a coroutine. ``explain(exc)`` may swap an exception for a
    clearer one before JS hears of it."""
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
    return nxt if type(nxt) is str and not ran_exit else [None, None, nxt, ran_exit]


# Code objects whose frame holds the visit's ``stage`` (and call_handler's ``method``).
VISIT_CODES = (visit_sync.__code__, visit_coroutine.__code__)
CALL_CODE = call_handler.__code__
