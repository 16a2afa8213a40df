#include "pyref.h"

#include <atomic>
#include <mutex>
#include <vector>

namespace test_rig {

namespace {

const napi_type_tag kPyRefTag = {0x7e57121960a1c0deULL, 0x5079526566000001ULL};

std::mutex& DeferredMutex() {
  static auto* m = new std::mutex();  // heap: never destroyed at exit
  return *m;
}
std::vector<PyObject*>& Deferred() {
  static auto* v = new std::vector<PyObject*>();
  return *v;
}
bool g_forgotten = false;
// Set with the first deferred object: every Python call drains, and most find none.
std::atomic<bool> g_has_deferred{false};

// The deleter of the last share: any thread, GIL or not.
void DeferDecref(PyObject* obj) {
  std::lock_guard<std::mutex> lock(DeferredMutex());
  if (g_forgotten) return;
  Deferred().push_back(obj);
  g_has_deferred.store(true, std::memory_order_release);
}

PyShare* SharePtr(const Napi::Value& v) {
  if (v.Type() != napi_external) return nullptr;
  bool tagged = false;
  napi_check_object_type_tag(v.Env(), v, &kPyRefTag, &tagged);
  if (!tagged) return nullptr;
  return v.As<Napi::External<PyShare>>().Data();
}

}  // namespace

PyShare SharePyObject(PyObject* stolen) { return PyShare(stolen, DeferDecref); }

Napi::Value WrapPyRef(Napi::Env env, PyShare share) {
  auto ext =
      Napi::External<PyShare>::New(env, new PyShare(std::move(share)), [](Napi::Env, PyShare* held) { delete held; });
  napi_type_tag_object(env, ext, &kPyRefTag);
  return ext;
}

Napi::Value WrapPyRef(Napi::Env env, PyObject* stolen) { return WrapPyRef(env, SharePyObject(stolen)); }

PyObject* UnwrapPyRef(const Napi::Value& v) {
  PyShare* share = SharePtr(v);
  return share != nullptr ? share->get() : nullptr;
}

PyShare SharePyRef(const Napi::Value& v) {
  PyShare* share = SharePtr(v);
  return share != nullptr ? *share : PyShare();
}

void DrainDeferredDecrefs() {
  if (!g_has_deferred.load(std::memory_order_acquire)) return;
  std::vector<PyObject*> batch;
  {
    std::lock_guard<std::mutex> lock(DeferredMutex());
    g_has_deferred.store(false, std::memory_order_relaxed);
    batch.swap(Deferred());
  }
  for (PyObject* obj : batch) Py_DECREF(obj);
}

void ForgetPythonObjects() {
  std::lock_guard<std::mutex> lock(DeferredMutex());
  g_forgotten = true;
  Deferred().clear();
}

}  // namespace test_rig
