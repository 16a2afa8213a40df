"""Finding handler classes: loading modules by dotted name or path, the
discovery rule, and instantiating a handler with case parameters."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import sys
from types import ModuleType
from typing import Any, Dict, List, Optional, Tuple

from ._aliases import imports_legacy_api
from .compat import MultiConnectionTestHandler
from .handler import PyStateHandler

LIBRARY_BASES = (PyStateHandler, MultiConnectionTestHandler)


def is_handler_class(obj: Any) -> bool:
    """A subclass of PyStateHandler at any depth, named ``…Handler``, not one of ours."""
    return (
        isinstance(obj, type)
        and issubclass(obj, PyStateHandler)
        and obj not in LIBRARY_BASES
        and obj.__name__.endswith("Handler")
        and not obj.__name__.startswith("_")
    )


def _module_name_for(path: str) -> str:
    """A dotted name for a file: its package chain if it lives in packages
    (the chain's parent goes on sys.path), else its stem (its folder goes on sys.path)."""
    folder, filename = os.path.split(os.path.abspath(path))
    parts = [os.path.splitext(filename)[0]]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, pkg = os.path.split(folder)
        parts.insert(0, pkg)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return ".".join(parts)


def load_file(path: str) -> ModuleType:
    """Imports a .py file with ``__file__`` and ``__name__`` set, fresh each time."""
    name = _module_name_for(path)
    if "." in name:
        importlib.import_module(name.rsplit(".", 1)[0])  # parent packages first
    spec = importlib.util.spec_from_file_location(name, os.path.abspath(path))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)  # type: ignore[attr-defined]  # (missing from typeshed's 3.9 Loader)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load(target: str) -> List[ModuleType]:
    """A dotted module name, a .py file, or a folder (every non-private .py in it)."""
    if os.path.isdir(target):
        files = sorted(f for f in os.listdir(target) if f.endswith(".py") and not f.startswith("_"))
        return [load_file(os.path.join(target, f)) for f in files]
    if target.endswith(".py") or os.path.sep in target:
        if not os.path.isfile(target):
            raise FileNotFoundError(f"no such Python file: {target}")
        if not target.endswith(".py"):
            raise ImportError(f"not a Python file (.py), package or folder: {target}")
        return [load_file(target)]
    return [importlib.import_module(target)]


def handlers_in(modules: List[ModuleType]) -> List[type]:
    """Handler classes defined in these modules (not merely imported there)."""
    found: List[type] = []
    for module in modules:
        for obj in vars(module).values():
            if is_handler_class(obj) and obj.__module__ == module.__name__ and obj not in found:
                found.append(obj)
    return found


def misnamed_in(modules: List[ModuleType]) -> List[Dict[str, Any]]:
    """PyStateHandler subclasses defined in these modules that the naming rule
    skips (not named ``…Handler``; ``_private`` ones are skipped on purpose)."""
    found: List[Dict[str, Any]] = []
    for module in modules:
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, PyStateHandler)
                and obj not in LIBRARY_BASES
                and obj.__module__ == module.__name__
                and not obj.__name__.endswith("Handler")
                and not obj.__name__.startswith("_")
            ):
                found.append(describe(obj))
    return found


# file -> (its (mtime, size), {class qualname: first line}): one parse per file version.
_class_lines: Dict[str, Tuple[Tuple[int, int], Dict[str, int]]] = {}


def _class_line(file: str, qualname: str) -> Optional[int]:
    """The line a class's definition starts on (its first decorator's, as inspect
    says), from one parse of the file: inspect.getsourcelines parses the whole file
    again for every class, which made describing a file of 30 classes take ~0.5 s."""
    try:
        st = os.stat(file)
        version = (st.st_mtime_ns, st.st_size)
        cached = _class_lines.get(file)
        if cached is None or cached[0] != version:
            with open(file, "rb") as f:
                tree = ast.parse(f.read(), file)
            lines: Dict[str, int] = {}

            def walk(node: ast.AST, prefix: str) -> None:
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.ClassDef):
                        name = prefix + child.name
                        first = child.decorator_list[0].lineno if child.decorator_list else child.lineno
                        lines.setdefault(name, first)
                        walk(child, name + ".")
                    elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        walk(child, prefix + child.name + ".<locals>.")
                    else:
                        walk(child, prefix)

            walk(tree, "")
            cached = _class_lines[file] = (version, lines)
        return cached[1].get(qualname)
    except (OSError, SyntaxError, ValueError):
        return None


def describe(cls: type) -> Dict[str, Any]:
    """What TypeScript needs to know about a handler class."""
    try:
        file: Optional[str] = inspect.getsourcefile(cls)
        found = _class_line(file, cls.__qualname__) if file else None
        line = found if found is not None else inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        file, line = None, 0
    methods: Dict[str, Any] = {}
    for name in ("enter", "execute", "exit"):
        fn = getattr(cls, name, None)
        code = getattr(fn, "__code__", None)
        methods[name] = {
            "async": inspect.iscoroutinefunction(fn),
            "line": code.co_firstlineno if code is not None else 0,
            "file": code.co_filename if code is not None else file,
            "overridden": fn is not getattr(PyStateHandler, name, None),
        }
    requires = getattr(cls, "requires", None)
    return {
        "name": cls.__name__,
        "module": cls.__module__,
        "file": file,
        "line": line,
        "state": getattr(cls, "state", None),
        "inline": bool(getattr(cls, "inline", False)),
        "requires": requires if isinstance(requires, (dict, str, list)) or requires is None else str(requires),
        "tags": [str(t) for t in (getattr(cls, "tags", ()) or ())],
        "methods": methods,
        "doc": (inspect.getdoc(cls) or "").split("\n", 1)[0],
        "legacy": imports_legacy_api(file),
    }


_SCALARS = {"int": int, "float": float, "bool": bool, "str": str}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _param_type(p: inspect.Parameter) -> Optional[type]:
    """The type a parameter's value is converted to: its annotation when that is
    int, float, bool or str, else the type of its default (None: left as given)."""
    ann = p.annotation
    if isinstance(ann, str):  # postponed annotations
        ann = _SCALARS.get(ann, ann)
    if ann in (int, float, bool, str):
        return ann  # type: ignore[no-any-return]
    if p.default is not inspect.Parameter.empty and type(p.default) in (int, float, bool, str):
        return type(p.default)
    return None


def _coerce(name: str, value: Any, kind: type) -> Any:
    """``value`` (a string, or what JSON made of it) as ``kind``; a ValueError names the parameter."""
    if type(value) is kind:
        return value
    text = value if isinstance(value, str) else None
    try:
        if kind is str:
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, (int, float)):
                return str(value)
        elif kind is bool:
            word = (text if text is not None else str(value)).strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        elif kind is int and not isinstance(value, bool):
            if text is not None:
                return int(text.strip())
            if isinstance(value, float) and value.is_integer():
                return int(value)
        elif kind is float and not isinstance(value, bool):
            if text is not None:
                return float(text.strip())
            if isinstance(value, int):
                return float(value)
    except ValueError:
        pass
    raise ValueError(f"parameter {name}={value!r}: expected {kind.__name__}") from None


def instantiate(cls: type, params: Optional[Dict[str, Any]] = None) -> Any:
    """Creates a handler: parameters go to ``__init__`` arguments of the same
    name (converted to the type of their annotation or default), and all of them
    as a dict to a parameter named ``config``."""
    params = params or {}
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return cls()
    kwargs: Dict[str, Any] = {}
    for name, p in signature.parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if name == "config":
            kwargs[name] = dict(params)
        elif name in params:
            kind = _param_type(p)
            value = params[name]
            if kind is not None:
                try:
                    value = _coerce(name, value, kind)
                except ValueError as exc:
                    raise ValueError(f"{cls.__name__}: {exc} (the type of its default or annotation)") from None
            kwargs[name] = value
    return cls(**kwargs)


def load_handlers(target: str) -> List[List[Any]]:
    """Imports ``target`` and returns ``[[class, description], ...]`` of its handlers."""
    return [[cls, describe(cls)] for cls in handlers_in(load(target))]


def load_handlers_checked(target: str) -> List[Any]:
    """Like load_handlers, plus descriptions of the classes the naming rule skipped:
    ``[[[class, description], ...], [description, ...]]``."""
    modules = load(target)
    return [[[cls, describe(cls)] for cls in handlers_in(modules)], misnamed_in(modules)]


def describe_handlers(target: str) -> List[Dict[str, Any]]:
    """Descriptions of the handlers in ``target``, without instantiating them."""
    return [describe(cls) for cls in handlers_in(load(target))]
