// What the bridge's units share (not for the rest of the addon: see bridge.h).
//
//   lanes.cc      JS -> lane jobs: the lane table, Submit, settling job promises,
//                 closing lanes whose thread ended
//   js_calls.cc   Python -> JS calls: queueing, serving, answering, withdrawing
//   wakeups.cc    waking the JS thread (the thread-safe function), spinning,
//                 the per-environment state and its cleanup (INVARIANTS there)
//   module.cc     the `_test_rig_native` module table and Python error payloads
#pragma once

#include <napi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "pyref.h"
#include "python.h"
#include "value.h"

namespace test_rig {

// ---- lanes.cc ------------------------------------------------------------------

struct Job {
  char kind;  // 'c' call, 'r' resolve an awaited JS call, 's' stop
  uint64_t id = 0;
  PyShare target;  // 'c'
  std::string method;
  bool has_method = false;
  Value args;  // List
  bool ok = true;
  Value value;
};

// A job's outcome, from the lane that ran it to the JS thread.
struct Completion {
  uint64_t id;
  bool ok;
  Value value;
};

void PushLaneJob(int lane_id, Job&& job);
// Queues a stop job on every lane.
void StopLanes();
// Settles the promises of finished jobs (JS thread).
void SettleJobs(Napi::Env env, std::vector<Completion>& done);
// Whether any job's promise is unsettled (JS thread): the process must stay up.
bool JobsInFlight();
// True on a thread that has served a lane.
bool OnLaneThread();
PyObject* PyLaneTake(PyObject*, PyObject* arg);
PyObject* PyLaneWait(PyObject*, PyObject* arg);
PyObject* PyComplete(PyObject*, PyObject* args);
PyObject* PyLaneAbandoned(PyObject*, PyObject* arg);
PyObject* PyLaneClose(PyObject*, PyObject* arg);

// ---- js_calls.cc ---------------------------------------------------------------

// A Python->JS call. Sync calls block their Python thread on `cv`; async ones
// are answered with an 'r' job on `lane`.
struct JsCall {
  uint64_t id = 0;
  Value payload;
  bool sync = true;
  int lane = -1;
  uint64_t token = 0;
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::atomic<bool> answered{false};  // `done` for spinners, without the mutex
  bool ok = false;
  Value result;
};

void FinishJsCall(const std::shared_ptr<JsCall>& call, bool ok, Value&& result);
// Hands new requests to the registered JS handler (JS thread).
void ServeJsCalls(Napi::Env env, std::vector<std::shared_ptr<JsCall>>& requests);
PyObject* PyCallJsSync(PyObject*, PyObject* payload);
PyObject* PyCallJsAsync(PyObject*, PyObject* args);

// ---- wakeups.cc ----------------------------------------------------------------

// What Python threads have for the JS thread, guarded by `mutex`.
struct News {
  std::atomic<bool> has_news{false};  // completions or requests: lets the JS thread spin for them
  std::mutex mutex;
  std::vector<Completion> completions;
  std::vector<std::shared_ptr<JsCall>> requests;  // not yet seen by JS
  std::unordered_map<uint64_t, std::shared_ptr<JsCall>> waiting_sync;
  bool wake_pending = false;
  bool js_spinning = false;  // the JS thread is spinning for news: no need to wake it
  bool shut_down = false;
  uint64_t next_call_id = 1;
};
News& N();

// Whether the JS thread needs a wake-up; if so, marks one as on its way. Call
// with N().mutex held, then WakeJs() after unlocking (a syscall: not inside
// the critical section).
bool JsWakeNeededLocked();
void WakeJs();
// JS thread, with one job in flight: spins briefly for news and handles it.
void AwaitNewsBriefly(Napi::Env env);
// JS thread: keeps the process alive exactly while jobs are in flight.
void UpdateKeepAlive(Napi::Env env);

// Jobs submitted and not yet settled (readable off the JS thread).
extern std::atomic<size_t> g_in_flight;
extern std::atomic<int> g_spinners;
constexpr int kMaxSpinners = 2;
constexpr auto kSpinMicros = std::chrono::microseconds(40);
// A blocking call to JS usually waits for a server round trip.
constexpr auto kReplySpinMicros = std::chrono::microseconds(150);

// Waiting for another thread by spinning saves a sleep and a wake-up through
// the kernel (tens of µs on a VM), but only pays while a core is free: at most
// two threads spin at a time (the two ends of a hand-off), each for at most
// `budget`; nobody spins while more than one job is in flight; any other
// waiter sleeps at once.
// `spun` (optional) tells whether it spun at all, rather than being refused.
template <typename F>
bool SpinUntil(F ready, std::chrono::microseconds budget = kSpinMicros, bool* spun = nullptr) {
  if (spun != nullptr) *spun = false;
  if (ready()) return true;
  if (g_in_flight.load(std::memory_order_relaxed) > 1) return false;
  if (g_spinners.fetch_add(1, std::memory_order_acq_rel) >= kMaxSpinners) {
    g_spinners.fetch_sub(1, std::memory_order_acq_rel);
    return false;
  }
  if (spun != nullptr) *spun = true;
  auto until = std::chrono::steady_clock::now() + budget;
  bool got = true;
  for (unsigned round = 1; !ready(); round++) {
    if (std::chrono::steady_clock::now() >= until) {
      got = false;
      break;
    }
    // Mostly CPU pauses: sched_yield is a syscall, slow on a VM. Now and then
    // yield anyway, so a thread waiting for this core gets it.
    for (int k = 0; k < 32; k++) __builtin_ia32_pause();
    if (round % 16 == 0) std::this_thread::yield();
  }
  g_spinners.fetch_sub(1, std::memory_order_acq_rel);
  return got;
}

// The JS thread's state, one per environment (wakeups.cc creates it, its
// cleanup hook retires it). JS thread only.
struct JsState {
  std::unordered_map<uint64_t, Napi::Promise::Deferred> pending;   // lanes.cc: unsettled jobs
  std::unordered_map<uint64_t, std::shared_ptr<JsCall>> js_calls;  // js_calls.cc: seen by JS, unanswered
  Napi::FunctionReference js_handler;                              // js_calls.cc
  uint64_t next_job = 1;                                           // lanes.cc
  bool torn_down = false;  // the environment is being cleaned up: no JS from here on
};
// nullptr before BridgeInit and after the environment's cleanup.
JsState* Js();

// ---- module.cc -----------------------------------------------------------------

// The pending Python exception as the payload JS expects (via the describer); clears it.
Value DescribeAndClearPythonError();
// A JS Error from such a payload.
Napi::Error MakeJsError(Napi::Env env, const Value& info);

}  // namespace test_rig
