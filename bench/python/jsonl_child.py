"""The baseline bridge: a python3 child process serving handler calls as JSON
lines on stdin/stdout (the design the old rig used, and python-shell's).
Request: {"id", "cls", "method", "ctx"} -> response {"id", "ok", "value"}."""

import importlib.util
import json
import sys


def main() -> None:
    spec = importlib.util.spec_from_file_location("handlers", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    instances = {}
    out = sys.stdout
    for line in sys.stdin:
        req = json.loads(line)
        try:
            obj = instances.get(req["cls"])
            if obj is None:
                obj = instances[req["cls"]] = getattr(module, req["cls"])(req.get("config"))
            value = getattr(obj, req["method"])(req.get("ctx"))
            resp = {"id": req["id"], "ok": True, "value": value}
        except Exception as exc:  # noqa: BLE001
            resp = {"id": req["id"], "ok": False, "value": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(resp) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
