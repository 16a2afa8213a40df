"""The addon's module (``_test_rig_native``), or a stand-in that explains itself
when test_rig is imported by plain Python (editors, type checkers, docs)."""

from __future__ import annotations

from typing import Any

try:
    import _test_rig_native as native

    EMBEDDED = True
except ImportError:

    class _Unavailable:
        def __getattr__(self, name: str) -> Any:
            raise RuntimeError(
                "test_rig's database calls only work inside test-rig (test-rig run / demo, or "
                "loadPythonHandlers from Node); this is a plain Python process"
            )

    native = _Unavailable()  # type: ignore[assignment]
    EMBEDDED = False
