// The one place Python.h is included: the addon is built against the stable
// ABI (Py_LIMITED_API 3.9) and links no libpython, so one binary serves every
// CPython 3.9+; the JS loader preloads the chosen libpython RTLD_GLOBAL first.
#pragma once

#define PY_SSIZE_T_CLEAN
#ifndef Py_LIMITED_API
#define Py_LIMITED_API 0x03090000
#endif
#include <Python.h>

extern "C" {
// Exported with this exact signature by every libpython since 3.3, but only
// declared by the limited headers from 3.10 on. It saves a bytes copy per
// string conversion, the hottest path of the bridge.
#if Py_LIMITED_API + 0 < 0x030A0000
PyAPI_FUNC(const char*) PyUnicode_AsUTF8AndSize(PyObject* unicode, Py_ssize_t* size);
#endif
}
