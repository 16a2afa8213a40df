// The JS thread running Python (inline calls): which call is in progress, its
// deadline, and Ctrl-C while it runs. A watchdog thread raises in the call
// (through Py_AddPendingCall, so it never waits for the GIL): the deadline
// error past the call's deadline, again every 100 ms while the call goes on;
// KeyboardInterrupt on SIGINT or SIGTERM. Either lands at the call's next
// bytecode: a call blocked in C (time.sleep) is not interrupted.
#pragma once

#include <napi.h>

#include <cstdint>

#include "python.h"

namespace test_rig {

// Marks the JS thread as running Python while in scope (outermost calls are
// numbered and take the deadline armed for them). Blocking calls to JS from
// other threads cannot be served meanwhile. GIL held.
class JsRunsPython {
 public:
  JsRunsPython();
  ~JsRunsPython();
  // The call's deadline has passed already: run no Python, raise PastDeadline().
  bool Expired() const;
  JsRunsPython(const JsRunsPython&) = delete;
  JsRunsPython& operator=(const JsRunsPython&) = delete;
};

// Sets the deadline error (GIL held).
void RaiseDeadlineError();

// The number of the JS thread's Python call in progress; 0: none. Any thread.
uint64_t CurrentJsPythonCall();

// Starts the watchdog (on the JS thread, once, GIL held).
void InlineGuardInit();

// armInlineDeadline(ms): the JS thread's next Python call gets `ms` to return
// (0 or less: it is already due, and raises at once).
Napi::Value ArmInlineDeadline(const Napi::CallbackInfo& info);

// `_test_rig_native.set_deadline_error(cls)`.
PyObject* PySetDeadlineError(PyObject*, PyObject* cls);

// Stops the watchdog from touching Python (before finalization).
void InlineGuardShutdown();

}  // namespace test_rig
