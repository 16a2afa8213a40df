#include "interpreter.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bridge.h"
#include "inline_guard.h"
#include "pyref.h"
#include "python.h"
#include "value.h"

namespace test_rig {

namespace {

enum class Phase { Fresh, Running, Shut };
Phase g_phase = Phase::Fresh;
std::string g_version;

// Takes the GIL on the calling thread for the lifetime of the guard.
class Gil {
 public:
  Gil() : state_(PyGILState_Ensure()) {}
  ~Gil() { PyGILState_Release(state_); }
  Gil(const Gil&) = delete;
  Gil& operator=(const Gil&) = delete;

 private:
  PyGILState_STATE state_;
};

void RequireRunning(Napi::Env env) {
  if (g_phase != Phase::Running)
    throw Napi::Error::New(env, g_phase == Phase::Fresh ? "the Python runtime is not initialised"
                                                        : "the Python runtime has been shut down");
}

// Interned attribute names: handler method names repeat on every call.
PyObject* InternedName(const std::string& name) {
  static auto* cache = new std::unordered_map<std::string, PyObject*>();
  auto it = cache->find(name);
  if (it != cache->end()) return it->second;
  PyObject* s = PyUnicode_InternFromString(name.c_str());
  if (s != nullptr) cache->emplace(name, s);
  return s;
}

bool SetSysString(const char* attr, const std::string& value) {
  PyObject* s = PyUnicode_FromString(value.c_str());
  if (s == nullptr) return false;
  int rc = PySys_SetObject(attr, s);
  Py_DECREF(s);
  return rc == 0;
}

// Sets an environment variable for the duration of a scope, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    if (!value.empty()) setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_, old_.c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

}  // namespace

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_phase == Phase::Running) return Napi::String::New(env, g_version);
  if (g_phase == Phase::Shut) throw Napi::Error::New(env, "the Python runtime cannot be restarted after shutdown");
  Napi::Object opts = info[0].As<Napi::Object>();
  std::string home = opts.Has("home") ? opts.Get("home").ToString().Utf8Value() : "";

  if (PyImport_AppendInittab("_test_rig_native", InitNativeModule) < 0)
    throw Napi::Error::New(env, "could not register the _test_rig_native module");
  {
    // PYTHONHOME makes the standard library's location independent of PATH;
    // it is restored at once so child processes never inherit it.
    ScopedEnv scoped("PYTHONHOME", home);
    Py_InitializeEx(0);  // 0: leave SIGINT & co. to Node
  }
  if (!Py_IsInitialized()) throw Napi::Error::New(env, "Py_InitializeEx failed");

  // The discovered interpreter's view of the world: its sys.path (venv
  // site-packages included), executable and prefixes.
  Napi::Array path = opts.Get("path").As<Napi::Array>();
  PyObject* list = PyList_New(0);
  for (uint32_t k = 0; k < path.Length(); k++) {
    PyObject* s = PyUnicode_FromString(path.Get(k).ToString().Utf8Value().c_str());
    PyList_Append(list, s);
    Py_DECREF(s);
  }
  PySys_SetObject("path", list);
  Py_DECREF(list);
  for (const char* key : {"executable", "prefix", "exec_prefix"}) {
    std::string js_key = key;
    if (js_key == "exec_prefix") js_key = "execPrefix";
    if (opts.Has(js_key)) SetSysString(key, opts.Get(js_key).ToString().Utf8Value());
  }

  PyObject* sys = PyImport_ImportModule("sys");
  PyObject* ver = sys != nullptr ? PyObject_GetAttrString(sys, "version") : nullptr;
  const char* text = ver != nullptr ? PyUnicode_AsUTF8AndSize(ver, nullptr) : nullptr;
  g_version = text != nullptr ? text : "";
  Py_XDECREF(ver);
  Py_XDECREF(sys);
  PyErr_Clear();

  BridgeInit(env);
  InlineGuardInit();
  g_phase = Phase::Running;
  PyEval_SaveThread();  // release the GIL: lanes need it from now on
  return Napi::String::New(env, g_version);
}

Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_phase != Phase::Running) return env.Undefined();
  bool finalize =
      info.Length() > 0 && info[0].IsObject() && info[0].As<Napi::Object>().Get("finalize").ToBoolean().Value();
  g_phase = Phase::Shut;
  InlineGuardShutdown();
  BridgeShutdown();

  // Flush Python's stdio (and finalize when asked) on a helper thread with a
  // deadline: a thread holding the GIL in C code must not hang Node's exit.
  struct Sync {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
  };
  auto* sync = new Sync();  // leaked on timeout on purpose: the thread may still use it
  std::thread worker([sync, finalize] {
    PyGILState_STATE st = PyGILState_Ensure();
    DrainDeferredDecrefs();
    PyObject* sys = PyImport_ImportModule("sys");
    for (const char* stream : {"stdout", "stderr"}) {
      PyObject* f = sys != nullptr ? PyObject_GetAttrString(sys, stream) : nullptr;
      PyObject* r = f != nullptr && f != Py_None ? PyObject_CallMethod(f, "flush", nullptr) : nullptr;
      Py_XDECREF(r);
      Py_XDECREF(f);
      PyErr_Clear();
    }
    Py_XDECREF(sys);
    if (finalize) {
      ForgetPythonObjects();
      Py_FinalizeEx();  // takes the thread state with it; no Release after
    } else {
      PyGILState_Release(st);
    }
    std::lock_guard<std::mutex> lock(sync->m);
    sync->done = true;
    sync->cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(sync->m);
    sync->cv.wait_for(lock, std::chrono::seconds(2), [&] { return sync->done; });
  }
  worker.detach();
  if (!finalize) ForgetPythonObjects();
  return env.Undefined();
}

Napi::Value ImportModule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireRunning(env);
  std::string name = info[0].As<Napi::String>().Utf8Value();
  Gil gil;
  DrainDeferredDecrefs();
  PyObject* mod = PyImport_ImportModule(name.c_str());
  if (mod == nullptr) throw TakePythonError(env);
  return WrapPyRef(env, mod);
}

Napi::Value Call(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireRunning(env);
  PyObject* target = UnwrapPyRef(info[0]);
  if (target == nullptr) throw Napi::TypeError::New(env, "call: target is not a Python object");
  bool has_method = info[1].IsString();
  std::string method;
  if (has_method) method = WithUtf8(info[1], [](const char* p, size_t n) { return std::string(p, n); });
  // Arguments are the remaining JS arguments (no array to unpack: this is the inline hot
  // path), converted straight to Python: the GIL is held, so no Value tree is needed.
  Gil gil;
  DrainDeferredDecrefs();
  Py_ssize_t argc = info.Length() > 2 ? static_cast<Py_ssize_t>(info.Length() - 2) : 0;
  PyObject* tuple = PyTuple_New(argc);
  if (tuple == nullptr) throw TakePythonError(env);
  try {
    for (Py_ssize_t k = 0; k < argc; k++) PyTuple_SetItem(tuple, k, PyFromJs(info[static_cast<size_t>(k) + 2]));
  } catch (...) {
    Py_DECREF(tuple);
    throw;
  }
  PyObject* callable = target;
  if (has_method) {
    PyObject* name = InternedName(method);
    callable = name != nullptr ? PyObject_GetAttr(target, name) : nullptr;
    if (callable == nullptr) {
      Py_DECREF(tuple);
      throw TakePythonError(env);
    }
  }
  PyObject* result;
  {
    JsRunsPython busy;
    if (busy.Expired()) {
      RaiseDeadlineError();  // due before it started: no Python runs past its deadline
      result = nullptr;
    } else {
      result = PyObject_Call(callable, tuple, nullptr);
    }
  }
  if (has_method) Py_DECREF(callable);
  Py_DECREF(tuple);
  if (result == nullptr) throw TakePythonError(env);
  Napi::Value out = JsFromPy(env, result);
  Py_DECREF(result);
  if (out.IsEmpty()) throw TakePythonError(env);
  return out;
}

}  // namespace test_rig
