"""Hot reloading: re-import changed handler modules, and the project modules
that import them, in dependency order.

Each module is executed into a *fresh* module object that replaces the old
one in ``sys.modules`` only when every changed module executed cleanly, so a
save with a syntax or import error leaves the previous code (and every
handler class JavaScript holds) untouched."""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType
from typing import Any, Dict, List, Set

from ._describe import describe_exception
from ._discovery import describe, handlers_in


def _file_of(module: ModuleType) -> str:
    return os.path.abspath(getattr(module, "__file__", None) or "")


def project_modules(root: str) -> Dict[str, ModuleType]:
    """Modules loaded from files under ``root`` (the handler's project)."""
    root = os.path.abspath(root) + os.sep
    return {
        name: m
        for name, m in list(sys.modules.items())
        if isinstance(m, ModuleType) and _file_of(m).startswith(root) and _file_of(m).endswith(".py")
    }


def _imports_of(module: ModuleType, project: Dict[str, ModuleType]) -> Set[str]:
    """Project modules ``module`` refers to: imported modules and imported names."""
    deps: Set[str] = set()
    for value in vars(module).values():
        if isinstance(value, ModuleType):
            name = value.__name__
        else:
            name = getattr(value, "__module__", None) or ""
        if name in project and project[name] is not module:
            deps.add(name)
    return deps


def reload_order(changed: List[str], root: str) -> List[str]:
    """The changed modules plus everything in the project that depends on them,
    each after the modules it imports."""
    project = project_modules(root)
    deps = {name: _imports_of(m, project) for name, m in project.items()}
    by_file = {_file_of(m): name for name, m in project.items()}
    affected = {by_file[os.path.abspath(f)] for f in changed if os.path.abspath(f) in by_file}
    grew = True
    while grew:
        grew = False
        for name, d in deps.items():
            if name not in affected and d & affected:
                affected.add(name)
                grew = True
    order: List[str] = []

    def visit(name: str, stack: Set[str]) -> None:
        if name in order or name in stack:
            return
        stack.add(name)
        for dep in sorted(deps.get(name, ())):
            if dep in affected:
                visit(dep, stack)
        order.append(name)

    for name in sorted(affected):
        visit(name, set())
    return order


def reload_files(changed: List[str], root: str) -> Dict[str, Any]:
    """Re-executes the affected modules. Returns ``{"reloaded": [names],
    "handlers": [[class, description], ...]}`` or ``{"error": description}``
    (the previous modules stay in place)."""
    order = reload_order(changed, root)
    fresh: Dict[str, ModuleType] = {}
    saved = {name: sys.modules.get(name) for name in order}
    try:
        for name in order:
            old = sys.modules[name]
            spec = importlib.util.spec_from_file_location(name, _file_of(old))
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot reload {name}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # dependents executed next import this one
            spec.loader.exec_module(module)  # type: ignore[attr-defined]  # (missing from typeshed's 3.9 Loader)
            fresh[name] = module
    except BaseException as exc:  # noqa: BLE001 - reported to JS, old code kept
        for name, old_module in saved.items():
            if old_module is not None:
                sys.modules[name] = old_module
        info = describe_exception(exc)
        return {"error": info}
    modules = list(fresh.values())
    return {
        "reloaded": order,
        "files": [_file_of(m) for m in modules],
        "handlers": [[cls, describe(cls)] for cls in handlers_in(modules)],
    }


def carry_over(new: Any, old: Any) -> None:
    """Lets the new instance take what it wants from the old one (opt-in)."""
    hook = getattr(new, "__reload__", None)
    if callable(hook):
        hook(old)
