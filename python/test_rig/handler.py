"""The base class every Python state handler derives from."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any, Awaitable, ClassVar, List, Optional, Union

from .state import PyState

if TYPE_CHECKING:
    from .context import PyStateContext


class PyStateHandler:
    """Base class of Python state handlers.

    Override ``enter``, ``execute`` and ``exit``; each may be ``async def``.

    Class attributes:
      ``state``: the state this handler serves when loaded with
        ``loadPythonHandlers`` (else the mapping option or the class name decides).
      ``inline``: run on the JS thread (fast path). Blocking calls such as
        ``execute_query`` then raise; use ``await context.connection.query()``.
      ``requires``: what a test case needs, e.g. ``{"server": "tidb", "min_version": "6.2"}``
        or ``{"feature": "savepoint"}``; unmet requirements skip the case.
      ``tags``: labels for ``test-rig run --tag``.
    """

    state: ClassVar[Optional[str]] = None
    inline: ClassVar[bool] = False
    requires: ClassVar[Optional[Any]] = None
    tags: ClassVar[tuple] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Accept and ignore arguments so subclasses may call super().__init__(...)
        # with whatever the old API's helper classes passed.
        pass

    # Each method may be overridden with ``def`` or ``async def``: the return types
    # say both, so type checkers accept either kind of override.
    def enter(self, context: "PyStateContext") -> Union[Optional[str], Awaitable[Optional[str]]]:
        """Called when the machine moves into this handler's state.
        The return value is informational; it does not redirect the machine."""
        return PyState.connecting()

    def execute(self, context: "PyStateContext") -> Union[str, Awaitable[str]]:
        """Called on every step in this state; returns the next state.

        Every handler must override it. The base one raises: a handler whose
        ``execute`` is misspelt (``def excute``) or missing tested nothing, and
        must not pass."""
        raise NotImplementedError(missing_execute_message(type(self)))

    def exit(self, context: "PyStateContext") -> Union[None, Awaitable[None]]:
        """Called when the machine leaves this state for a different one."""
        return None


def _own_methods(cls: type) -> List[str]:
    """Names of the callables a handler class defines itself (and in its bases below PyStateHandler)."""
    names: List[str] = []
    for klass in cls.__mro__:
        if klass is PyStateHandler or klass is object or issubclass(PyStateHandler, klass):
            continue
        for name, value in vars(klass).items():
            if callable(value) and not name.startswith("__") and name not in names:
                names.append(name)
    return names


def missing_execute_message(cls: type) -> str:
    """Why a handler without its own ``execute`` fails, naming a likely typo."""
    candidates = [n for n in _own_methods(cls) if n not in ("enter", "exit")]
    close = difflib.get_close_matches("execute", candidates, n=1, cutoff=0.6)
    typo = f" (it defines {close[0]}(): a typo for execute?)" if close else ""
    return f"{cls.__name__} does not define execute(){typo}: every handler must, and return the next state"
