// INVARIANTS
// - The JS thread owns g_calls, g_depth, g_next_deadline and g_deadline; other
//   threads read only g_call (the call in progress, 0: none).
// - The watchdog's state (Guard) is under G().mutex. Lock order: the GIL, then
//   G().mutex (the JS thread takes it holding the GIL); the watchdog never
//   holds G().mutex while it takes the GIL. It asks the JS thread to raise with
//   Py_AddPendingCall (before 3.13 it then takes the GIL for a moment, which
//   makes the JS thread look at its pending calls), and the pending call, run
//   by the JS thread at its next bytecode, checks that the call it was meant
//   for is still the one running.
// - The SIGINT/SIGTERM handler is installed only while one call has run for a
//   poll interval (50 ms): the JS thread is inside Python then, so JS cannot
//   start or stop listening for signals, and libuv cannot replace or remove
//   its own handler under ours. It chains to the handler it replaced (libuv's,
//   so JS still sees the signal once the call returns) and is removed before
//   JS runs again: the JS thread, ending the call, removes it (waiting for an
//   install in progress); the watchdog installs only for a call it has seen
//   still running after publishing which call it guards (g_guarded_call).
#include "inline_guard.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace test_rig {

namespace {

using Clock = std::chrono::steady_clock;
constexpr Clock::time_point kNever = Clock::time_point::max();
constexpr auto kPoll = std::chrono::milliseconds(50);     // while inline calls run
constexpr auto kIdleAfter = std::chrono::seconds(1);      // no inline call for this long: stop polling
constexpr auto kRefire = std::chrono::milliseconds(100);  // a call past its deadline that caught the error
constexpr auto kLateness = std::chrono::milliseconds(1);  // a wake-up this much early or late is fine

std::atomic<uint64_t> g_call{0};             // the JS thread's Python call in progress (0: none)
uint64_t g_calls = 0;                        // JS thread only
int g_depth = 0;                             // JS thread only
Clock::time_point g_next_deadline = kNever;  // JS thread: armed for the next outermost call
Clock::time_point g_deadline = kNever;       // JS thread: the current call's

constexpr int kSignals[] = {SIGINT, SIGTERM};
// The call the signal handler is installed (or being installed) for; 0: none.
std::atomic<uint64_t> g_guarded_call{0};
std::atomic<int> g_signal{0};  // the signal received while installed (0: none)
struct sigaction g_saved[2];   // written only while not installed

struct Guard {
  std::mutex mutex;
  std::condition_variable cv;
  uint64_t call = 0;  // the call the deadline `at` is for (0: none armed)
  Clock::time_point at = kNever;
  Clock::time_point sleeping_until = kNever;
  Clock::time_point last_busy;  // when the watchdog last saw an inline call running
  bool polling = false;         // sleeping at most kPoll: it will see a new call by itself
  bool started = false;
  bool stopped = false;
  uint64_t seen = 0;           // the call running at the previous look
  uint64_t installed_for = 0;  // the call the signal handler is installed for
  uint64_t interrupted = 0;    // the call KeyboardInterrupt was sent to
  bool installed[2] = {false, false};
  PyObject* error = nullptr;  // the deadline exception class (owned)
};
Guard& G() {
  static auto* g = new Guard();  // heap: the watchdog may still run at exit
  return *g;
}

// ---- signals -----------------------------------------------------------------

void OnSignal(int sig, siginfo_t* info, void* uctx) {
  int saved_errno = errno;
  if (g_signal.exchange(sig) != 0) _exit(128 + sig);  // a second one, the JS thread still held: quit now
  const struct sigaction& old = g_saved[sig == SIGINT ? 0 : 1];
  if (old.sa_flags & SA_SIGINFO)
    old.sa_sigaction(sig, info, uctx);
  else if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)
    old.sa_handler(sig);
  errno = saved_errno;
}

// Call with G().mutex held.
void RemoveHandlerLocked() {
  for (int k = 0; k < 2; k++) {
    if (G().installed[k]) sigaction(kSignals[k], &g_saved[k], nullptr);
    G().installed[k] = false;
  }
  g_guarded_call.store(0);
  g_signal.store(0);
  G().installed_for = 0;
}

// Installs OnSignal in front of a handler JS listens with (where the signal
// would kill the process or is ignored, that stays so). Call with G().mutex held.
void InstallHandlerLocked(uint64_t call) {
  // Published before the call is checked, as the JS thread ends a call before it
  // checks this: either it sees the call guarded (and waits for G().mutex to
  // remove the handler), or this sees the call over (and installs nothing).
  g_guarded_call.store(call);
  if (g_call.load() != call) {
    g_guarded_call.store(0);
    return;
  }
  struct sigaction ours = {};
  ours.sa_sigaction = OnSignal;
  ours.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&ours.sa_mask);
  bool any = false;
  for (int k = 0; k < 2; k++) {
    struct sigaction current;
    if (sigaction(kSignals[k], nullptr, &current) != 0) continue;
    bool handled = (current.sa_flags & SA_SIGINFO) || (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN);
    if (!handled) continue;
    g_saved[k] = current;
    G().installed[k] = sigaction(kSignals[k], &ours, nullptr) == 0;
    any = any || G().installed[k];
  }
  if (!any) {
    g_guarded_call.store(0);
    return;
  }
  G().installed_for = call;
}

// ---- raising in the JS thread's call (pending calls: JS thread, GIL held) ------

int RaiseIfPastDeadline(void* arg) {
  if (g_call.load(std::memory_order_relaxed) != reinterpret_cast<uintptr_t>(arg)) return 0;
  if (Clock::now() < g_deadline) return 0;
  RaiseDeadlineError();
  return -1;
}

int RaiseInterrupt(void* arg) {
  if (g_call.load(std::memory_order_relaxed) != reinterpret_cast<uintptr_t>(arg)) return 0;
  PyErr_SetNone(PyExc_KeyboardInterrupt);
  return -1;
}

// Before 3.13, a pending call added from another thread does not trip the JS
// thread's eval breaker (that thread only notices pending calls when it next
// checks for something else): asking for the GIL makes it check at once. (3.12
// was thought fixed; 3.12.1 never ran the call while a handler spun in Python.)
bool g_poke_with_gil = false;

void RaiseInJsThread(int (*raise)(void*), uint64_t call) {
  Py_AddPendingCall(raise, reinterpret_cast<void*>(static_cast<uintptr_t>(call)));
  if (!g_poke_with_gil) return;
  PyGILState_STATE gil = PyGILState_Ensure();
  PyGILState_Release(gil);
}

void Watch() {
  std::unique_lock<std::mutex> lock(G().mutex);
  for (;;) {
    if (G().stopped) {
      RemoveHandlerLocked();
      return;
    }
    auto now = Clock::now();
    uint64_t running = g_call.load();
    if (running != 0) G().last_busy = now;
    if (G().installed_for != 0 && G().installed_for != running) RemoveHandlerLocked();
    if (running != 0 && running == G().seen && G().installed_for == 0) InstallHandlerLocked(running);
    G().seen = running;
    if (g_signal.load() != 0 && running != 0 && running == G().installed_for && G().interrupted != running) {
      G().interrupted = running;
      lock.unlock();  // never the GIL under G().mutex
      RaiseInJsThread(RaiseInterrupt, running);
      lock.lock();
      continue;
    }
    if (G().call != 0 && now >= G().at) {
      if (G().call == running) {
        // Past its deadline and still running: raise, and again later should it catch the error.
        G().at = now + kRefire;
        lock.unlock();
        RaiseInJsThread(RaiseIfPastDeadline, running);
        lock.lock();
        continue;
      } else if (G().call < running || running == 0) {
        G().call = 0;  // that call is over
      }
    }
    G().polling = now - G().last_busy < kIdleAfter;
    Clock::time_point until = G().call != 0 ? G().at : kNever;
    if (G().polling && now + kPoll < until) until = now + kPoll;
    G().sleeping_until = until;
    if (until == kNever)
      G().cv.wait(lock);
    else
      G().cv.wait_until(lock, until);
  }
}

}  // namespace

JsRunsPython::JsRunsPython() {
  if (g_depth++ != 0) return;
  uint64_t call = ++g_calls;
  g_call.store(call);
  g_deadline = g_next_deadline;
  g_next_deadline = kNever;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(G().mutex);
    if (!G().started) return;
    if (g_deadline != kNever) {
      G().call = call;
      G().at = g_deadline;
      wake = G().at + kLateness < G().sleeping_until;
    }
    if (!G().polling) {
      G().polling = true;  // the first call after a quiet spell: the watchdog starts looking
      G().last_busy = Clock::now();
      wake = true;
    }
  }
  if (wake) G().cv.notify_one();
}

JsRunsPython::~JsRunsPython() {
  if (--g_depth != 0) return;
  g_call.store(0);
  g_deadline = kNever;
  if (g_guarded_call.load() != 0) {
    std::lock_guard<std::mutex> lock(G().mutex);
    RemoveHandlerLocked();
  }
}

bool JsRunsPython::Expired() const { return g_deadline != kNever && Clock::now() >= g_deadline; }

void RaiseDeadlineError() {
  PyObject* error;
  {
    std::lock_guard<std::mutex> lock(G().mutex);
    error = G().error;
  }
  PyErr_SetNone(error != nullptr ? error : PyExc_TimeoutError);
}

uint64_t CurrentJsPythonCall() { return g_call.load(std::memory_order_relaxed); }

void InlineGuardInit() {
  PyObject* version = PySys_GetObject("version_info");  // borrowed
  PyObject* minor = version != nullptr ? PySequence_GetItem(version, 1) : nullptr;
  g_poke_with_gil = minor == nullptr || PyLong_AsLong(minor) < 13;
  Py_XDECREF(minor);
  PyErr_Clear();
  std::lock_guard<std::mutex> lock(G().mutex);
  if (G().started) return;
  G().started = true;
  std::thread(Watch).detach();
}

Napi::Value ArmInlineDeadline(const Napi::CallbackInfo& info) {
  double ms = info[0].As<Napi::Number>().DoubleValue();
  constexpr double kFarMs = 30.0 * 24 * 3600 * 1000;  // beyond this (or NaN): no deadline
  if (!(ms < kFarMs)) {
    g_next_deadline = kNever;
  } else {
    g_next_deadline = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(ms > 0 ? ms * 1000 : 0));
  }
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
