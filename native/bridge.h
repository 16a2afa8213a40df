// The thread bridge between the JS thread and Python "lanes" (what the rest of
// the addon uses; the bridge's own units share bridge_internal.h).
//
// A lane is a Python thread running its own asyncio loop. The JS thread hands
// it jobs through a queue the lane waits on (lanes.cc), so the JS thread never
// waits for the GIL. Results and Python->JS requests (js_calls.cc) come back
// through one thread-safe function whose wake-ups coalesce (wakeups.cc, which
// states the bridge's invariants). module.cc is the Python module.
#pragma once

#include <napi.h>

#include "python.h"

namespace test_rig {

// Called once from Init on the JS thread.
void BridgeInit(Napi::Env env);
// Fails waiting Python->JS calls and stops every lane. Idempotent.
void BridgeShutdown();
// True on the thread that initialised the interpreter (the JS main thread).
bool OnJsThread();

// JS-facing functions.
Napi::Value LaneCreate(const Napi::CallbackInfo& info);
Napi::Value Submit(const Napi::CallbackInfo& info);
Napi::Value SetJsHandler(const Napi::CallbackInfo& info);
Napi::Value ResolveJsCall(const Napi::CallbackInfo& info);

// The builtin module `_test_rig_native` that Python code uses.
PyObject* InitNativeModule();

// Converts the current Python exception into a JS Error carrying the Python
// type, message and traceback (GIL held). Clears the exception.
Napi::Error TakePythonError(Napi::Env env);

}  // namespace test_rig
