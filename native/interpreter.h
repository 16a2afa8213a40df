// The embedded interpreter's lifecycle and direct calls from the JS thread.
#pragma once

#include <napi.h>

namespace test_rig {

// init({ home, path: string[], executable, prefix, execPrefix }) -> version
Napi::Value Init(const Napi::CallbackInfo& info);
// shutdown({ finalize?: boolean }): idempotent; never waits more than ~2 s.
Napi::Value Shutdown(const Napi::CallbackInfo& info);
// importModule(name) -> PyRef
Napi::Value ImportModule(const Napi::CallbackInfo& info);
// call(target, method|null, ...args) -> value (opaque objects come back as PyRefs)
Napi::Value Call(const Napi::CallbackInfo& info);

}  // namespace test_rig
