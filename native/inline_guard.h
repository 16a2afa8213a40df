// The JS thread running Python (inline calls): which call is in progress, and
// the deadline after which a watchdog thread interrupts it.
#pragma once

#include <napi.h>

#include <cstdint>

#include "python.h"

namespace test_rig {

// Marks the JS thread as running Python while in scope (outermost calls are
// numbered). Blocking calls to JS from other threads cannot be served meanwhile.
class JsRunsPython {
 public:
  JsRunsPython();
  ~JsRunsPython();
  JsRunsPython(const JsRunsPython&) = delete;
  JsRunsPython& operator=(const JsRunsPython&) = delete;
};

// The number of the JS thread's Python call in progress; 0: none. Any thread.
uint64_t CurrentJsPythonCall();

// Records the JS thread's Python thread id (on the JS thread, once).
void InlineGuardInit();

// armInlineDeadline(ms): the JS thread's next Python call gets `ms` to return; past
// that, the exception registered with set_deadline_error is raised in its Python code
// (at the next bytecode: a call blocked in C, like time.sleep, is not interrupted).
Napi::Value ArmInlineDeadline(const Napi::CallbackInfo& info);

// `_test_rig_native.set_deadline_error(cls)`.
PyObject* PySetDeadlineError(PyObject*, PyObject* cls);

// Stops the watchdog from touching Python (before finalization).
void InlineGuardShutdown();

}  // namespace test_rig
