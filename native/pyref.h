// Owning Python objects from threads that may not hold the GIL.
//
// PyShare: a share of one strong reference to a Python object. The reference
// is taken (GIL held) when the first share is made; shares are copied and
// dropped on any thread without the GIL, and the last one to go queues the
// DECREF, which whichever thread next holds the GIL performs. The JS thread
// must never wait for the GIL, so this is how it owns Python objects.
//
// PyRef: the JS handle on a Python object, an External holding one PyShare.
#pragma once

#include <napi.h>

#include <memory>

#include "python.h"

namespace test_rig {

using PyShare = std::shared_ptr<PyObject>;

// Takes over (steals) a new reference.
PyShare SharePyObject(PyObject* stolen);

// Wraps a share, or a new (stolen) reference, in a JS handle.
Napi::Value WrapPyRef(Napi::Env env, PyShare share);
Napi::Value WrapPyRef(Napi::Env env, PyObject* stolen);
// The object behind a PyRef (borrowed: valid while `v` is), or nullptr if `v` is not one.
PyObject* UnwrapPyRef(const Napi::Value& v);
// A share of the object behind a PyRef, or an empty one if `v` is not one.
PyShare SharePyRef(const Napi::Value& v);
// Releases queued references. Call with the GIL held.
void DrainDeferredDecrefs();
// After the interpreter is gone, finalizers must not touch Python at all.
void ForgetPythonObjects();

}  // namespace test_rig
