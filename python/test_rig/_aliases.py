"""Import paths of the old rig: ``src.common.test_rig_python`` and
``test_rig_python`` resolve to this very package, so handler files written
for it import unchanged and get the same objects as ``import test_rig``.

A finder at the front of ``sys.meta_path`` answers exactly those names. A
finder at the end answers only what no real module provides: the ``src`` and
``src.common`` parents, and ``<package>.test_rig_python``. The old suites'
``__init__.py`` files import ``.test_rig_python`` from their own folder, a
sibling that the old rig never needed (it ran each file on its own, so the
package never ran) and that is usually absent; a real sibling file still wins."""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import os
import sys
from types import ModuleType
from typing import Any, Dict, Optional, Sequence, Tuple

ALIASES = ("test_rig_python", "src.common.test_rig_python")
_PARENTS = ("src", "src.common")
_MODULE = "test_rig_python"


class _AliasLoader(importlib.abc.Loader):
    # (typeshed's Python 3.9 Loader says create_module returns None; it may return a module)
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:  # type: ignore[override]
        return sys.modules["test_rig"]

    def exec_module(self, module: ModuleType) -> None:
        pass


class _ParentLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[ModuleType]:  # type: ignore[override]
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__path__ = []  # type: ignore[attr-defined]


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Optional[Sequence[str]], target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname in ALIASES:
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader())
        return None


class _FallbackFinder(importlib.abc.MetaPathFinder):
    """Asked only after every other finder found nothing."""

    def find_spec(self, fullname: str, path: Optional[Sequence[str]], target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname in _PARENTS:
            return importlib.machinery.ModuleSpec(fullname, _ParentLoader(), is_package=True)
        if fullname.rpartition(".")[2] == _MODULE:  # `<package>.test_rig_python` (a relative import)
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader())
        return None


def install() -> None:
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
        sys.meta_path.append(_FallbackFinder())


_legacy_files: Dict[str, Tuple[float, bool]] = {}


def imports_legacy_api(path: Optional[str]) -> bool:
    """Whether the file at ``path`` imports the old rig's API (``test_rig_python``
    under any of its names): its handlers are old-style ones, held to
    ``--strict-legacy``. Read from the source, cached per file and mtime."""
    if not path:
        return False
    try:
        mtime = os.path.getmtime(path)
        cached = _legacy_files.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return False
    legacy = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        if any(n.rpartition(".")[2] == _MODULE for n in names):
            legacy = True
            break
    _legacy_files[path] = (mtime, legacy)
    return legacy
