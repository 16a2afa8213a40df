// PyRef: a JS handle that owns one reference to a Python object. Finalizers
// run on the JS thread, which must never wait for the GIL, so they only queue
// the DECREF; whichever thread next holds the GIL releases the queue.
#pragma once

#include <napi.h>

#include "python.h"

namespace test_rig {

// Wraps a new (stolen) reference.
Napi::Value WrapPyRef(Napi::Env env, PyObject* obj);
// The object behind a PyRef (borrowed), or nullptr if `v` is not one.
PyObject* UnwrapPyRef(const Napi::Value& v);
// Releases queued references. Call with the GIL held.
void DrainDeferredDecrefs();
// After the interpreter is gone, finalizers must not touch Python at all.
void ForgetPythonObjects();

}  // namespace test_rig
