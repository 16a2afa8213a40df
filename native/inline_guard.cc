#include "inline_guard.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace test_rig {

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<uint64_t> g_call{0};  // the JS thread's Python call in progress (0: none)
uint64_t g_calls = 0;             // JS thread only
int g_depth = 0;                  // JS thread only
unsigned long g_js_ident = 0;     // the JS thread's Python thread id

// The watchdog's state, guarded by Guard().mutex. Heap: never destroyed at exit,
// the watchdog thread may still be waiting then.
struct Guard {
  std::mutex mutex;
  std::condition_variable cv;
  uint64_t call = 0;  // the call the deadline is for (0: none armed)
  Clock::time_point at;
  // What the watchdog sleeps until: arming a later deadline need not wake it (a
  // syscall per inline call); it finds the new one when it wakes.
  Clock::time_point sleeping_until = Clock::time_point::max();
  bool started = false;
  bool stopped = false;
  PyObject* error = nullptr;  // the exception class to raise (owned)
};
Guard& G() {
  static auto* g = new Guard();
  return *g;
}
// How late the watchdog may be: a deadline armed again, recomputed from JS's clock,
// lands a few microseconds either side of the one it sleeps until.
constexpr auto kLateness = std::chrono::milliseconds(1);

// The call an exception was sent to: cleared if that call returned before raising it.
std::atomic<uint64_t> g_sent_to{0};

void Interrupt(uint64_t call, PyObject* error) {
  PyGILState_STATE gil = PyGILState_Ensure();
  // With the GIL held here, the JS thread is not between a return and its end of
  // call: if the number still matches, the exception lands in that very call.
  if (g_call.load(std::memory_order_acquire) == call && error != nullptr) {
    g_sent_to.store(call, std::memory_order_release);
    PyThreadState_SetAsyncExc(g_js_ident, error);
  }
  PyGILState_Release(gil);
}

void Watch() {
  std::unique_lock<std::mutex> lock(G().mutex);
  for (;;) {
    if (G().stopped) return;
    if (G().call == 0) {
      G().sleeping_until = Clock::time_point::max();
      G().cv.wait(lock);
      continue;
    }
    if (Clock::now() < G().at) {
      G().sleeping_until = G().at;
      G().cv.wait_until(lock, G().at);
      continue;  // woken early, or the deadline moved: look again
    }
    uint64_t call = G().call;
    G().call = 0;  // fired: once per arming
    if (g_call.load(std::memory_order_acquire) != call) continue;
    PyObject* error = G().error;  // read under the lock, as set_deadline_error writes it
    lock.unlock();
    Interrupt(call, error);
    lock.lock();
  }
}

}  // namespace

JsRunsPython::JsRunsPython() {
  if (g_depth++ == 0) g_call.store(++g_calls, std::memory_order_release);
}

JsRunsPython::~JsRunsPython() {
  if (--g_depth != 0) return;
  uint64_t call = g_call.load(std::memory_order_relaxed);
  g_call.store(0, std::memory_order_release);
  // The call returned before the exception was raised in it: it must not hit the next one.
  if (g_sent_to.load(std::memory_order_acquire) == call) {
    PyThreadState_SetAsyncExc(g_js_ident, nullptr);
    g_sent_to.store(0, std::memory_order_relaxed);
  }
}

uint64_t CurrentJsPythonCall() { return g_call.load(std::memory_order_relaxed); }

void InlineGuardInit() { g_js_ident = PyThread_get_thread_ident(); }

Napi::Value ArmInlineDeadline(const Napi::CallbackInfo& info) {
  double ms = info[0].As<Napi::Number>().DoubleValue();
  bool wake;
  {
    std::lock_guard<std::mutex> lock(G().mutex);
    if (G().stopped) return info.Env().Undefined();
    G().call = g_calls + 1;  // the JS thread's next outermost call
    G().at = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(ms > 0 ? ms * 1000 : 0));
    wake = G().at + kLateness < G().sleeping_until;  // the same case deadline again: no wake-up
    if (!G().started) {
      G().started = true;
      std::thread(Watch).detach();
    }
  }
  if (wake) G().cv.notify_one();
  return info.Env().Undefined();
}

PyObject* PySetDeadlineError(PyObject*, PyObject* cls) {
  Py_INCREF(cls);
  std::lock_guard<std::mutex> lock(G().mutex);
  Py_XDECREF(G().error);
  G().error = cls;
  Py_RETURN_NONE;
}

void InlineGuardShutdown() {
  {
    std::lock_guard<std::mutex> lock(G().mutex);
    G().stopped = true;
  }
  G().cv.notify_one();
}

}  // namespace test_rig
