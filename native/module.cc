// The builtin module `_test_rig_native` (what Python code calls), and Python
// exceptions as the payloads JS turns into Errors.
#include "bridge.h"
#include "bridge_internal.h"
#include "inline_guard.h"
#include "rows.h"

namespace test_rig {

namespace {

PyObject* g_describer = nullptr;  // test_rig's describe_exception(exc) -> dict

PyObject* PySetDescriber(PyObject*, PyObject* fn) {
  Py_XDECREF(g_describer);
  Py_INCREF(fn);
  g_describer = fn;
  Py_RETURN_NONE;
}

PyObject* PyOnJsThread(PyObject*, PyObject*) { return PyBool_FromLong(OnJsThread() ? 1 : 0); }

PyMethodDef kMethods[] = {
    {"lane_take", PyLaneTake, METH_O, "Take the queued jobs of a lane."},
    {"lane_wait", PyLaneWait, METH_O, "Wait for jobs on a lane (GIL released), then take them."},
    {"lane_abandoned", PyLaneAbandoned, METH_O, "Mark a lane as given up on (stuck until closed)."},
    {"lane_close", PyLaneClose, METH_O, "Close a lane whose thread is ending (its eventfd; drop its jobs)."},
    {"complete", PyComplete, METH_VARARGS, "Settle the JS promise of a job: complete(id, ok, value)."},
    {"call_js_sync", PyCallJsSync, METH_O, "Call JS and wait (GIL released). Returns (ok, value)."},
    {"call_js_async", PyCallJsAsync, METH_VARARGS, "Call JS; the answer comes back as a lane job."},
    {"on_js_thread", PyOnJsThread, METH_NOARGS, "True on the JS main thread."},
    {"set_exception_describer", PySetDescriber, METH_O, "Register fn(exc) -> dict used for errors sent to JS."},
    {"set_deadline_error", PySetDeadlineError, METH_O,
     "Register the exception class raised in inline calls past their deadline."},
    {"unpack_rows", PyUnpackRows, METH_VARARGS, "Build the Row dicts of a packed query result."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef kModule = {PyModuleDef_HEAD_INIT,
                       "_test_rig_native",
                       "test-rig's native bridge.",
                       -1,
                       kMethods,
                       nullptr,
                       nullptr,
                       nullptr,
                       nullptr};

}  // namespace

PyObject* InitNativeModule() { return PyModule_Create(&kModule); }

Value DescribeAndClearPythonError() {
  PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb != nullptr && value != nullptr) PyException_SetTraceback(value, tb);
  Value info;
  PyObject* described = nullptr;
  if (g_describer != nullptr && value != nullptr) described = PyObject_CallFunctionObjArgs(g_describer, value, nullptr);
  if (described != nullptr && ValueFromPy(described, &info)) {
    Py_DECREF(described);
  } else {
    Py_XDECREF(described);
    PyErr_Clear();
    PyObject* s = value != nullptr ? PyObject_Str(value) : nullptr;
    const char* text = s != nullptr ? PyUnicode_AsUTF8AndSize(s, nullptr) : nullptr;
    info = Value::Str(text != nullptr ? text : "unknown Python error");
    Py_XDECREF(s);
    PyErr_Clear();
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  return info;
}

Napi::Error MakeJsError(Napi::Env env, const Value& info) {
  // `info` is the dict describe_exception builds; copy every field onto the
  // Error so JS sees pyType, pyTraceback, file, line...
  std::string message = "Python error";
  if (info.kind == Value::Kind::Dict) {
    for (const auto& kv : info.dict)
      if (kv.first == "message" && kv.second.kind == Value::Kind::String) message = kv.second.str;
  } else if (info.kind == Value::Kind::String) {
    message = info.str;
  }
  Napi::Error err = Napi::Error::New(env, message);
  if (info.kind == Value::Kind::Dict) {
    for (const auto& kv : info.dict)
      if (kv.first != "message") err.Value().Set(kv.first, ValueToJs(env, kv.second));
  }
  return err;
}

Napi::Error TakePythonError(Napi::Env env) { return MakeJsError(env, DescribeAndClearPythonError()); }

}  // namespace test_rig
