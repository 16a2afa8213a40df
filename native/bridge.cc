#include "bridge.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "inline_guard.h"
#include "pyref.h"
#include "value.h"

namespace test_rig {

namespace {

// ---- state shared across threads (heap-allocated: never destroyed at exit) --

struct Job {
  char kind;  // 'c' call, 'r' resolve an awaited JS call, 's' stop
  uint64_t id = 0;
  PyObject* target = nullptr;  // borrowed: pinned by the JS side until completion
  std::string method;
  bool has_method = false;
  Value args;  // List
  bool ok = true;
  Value value;
};

struct Lane {
  int fd = -1;                        // wakes the lane's asyncio loop while it runs
  std::atomic<bool> has_jobs{false};  // lets lane_wait spin briefly before sleeping
  std::mutex mutex;
  std::condition_variable cv;  // wakes the lane while it waits in lane_wait (no loop running)
  std::deque<Job> queue;
  // Guarded by `mutex`. A lane in lane_wait needs no eventfd write (a syscall,
  // costly on a VM); `signaled` says whether there is one to read back.
  bool in_wait = false;
  bool signaled = false;
};

struct Completion {
  uint64_t id;
  bool ok;
  Value value;
};

// A Python->JS call. Sync calls block their Python thread on `cv`.
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

// Waiting for another thread by spinning saves a sleep and a wake-up through
// the kernel (tens of µs on a VM), but only pays while a core is free: at most
// two threads spin at a time (the two ends of a hand-off), each for at most
// `budget`; any other waiter sleeps at once.
std::atomic<int> g_spinners{0};
constexpr int kMaxSpinners = 2;
// Jobs submitted and not yet settled (g_pending's size, readable off the JS
// thread). With several machines busy, every core has work: nobody spins.
std::atomic<size_t> g_in_flight{0};
constexpr auto kSpinMicros = std::chrono::microseconds(40);
// A blocking call to JS usually waits for a server round trip.
constexpr auto kReplySpinMicros = std::chrono::microseconds(150);
template <typename F>
bool SpinUntil(F ready, std::chrono::microseconds budget = kSpinMicros) {
  if (ready()) return true;
  if (g_in_flight.load(std::memory_order_relaxed) > 1) return false;
  if (g_spinners.fetch_add(1, std::memory_order_acq_rel) >= kMaxSpinners) {
    g_spinners.fetch_sub(1, std::memory_order_acq_rel);
    return false;
  }
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

struct Shared {
  std::atomic<bool> has_news{false};  // completions or requests: lets the JS thread spin for them
  std::mutex mutex;                   // guards everything below
  std::vector<Completion> completions;
  std::vector<std::shared_ptr<JsCall>> requests;  // not yet seen by JS
  std::unordered_map<uint64_t, std::shared_ptr<JsCall>> waiting_sync;
  bool wake_pending = false;
  bool js_spinning = false;  // the JS thread is spinning for news: no need to wake it
  bool shut_down = false;
  uint64_t next_call_id = 1;
};
Shared& S() {
  static auto* s = new Shared();
  return *s;
}

std::thread::id g_js_thread;

// A blocking call to JS that waits this long while the JS thread stays inside one
// Python call is withdrawn: that call is most likely waiting for the caller. Only
// for threads of the user's: a lane is a machine's own thread, which no inline
// call waits for, so a long inline call must not fail another machine's query.
constexpr auto kUnservedLimit = std::chrono::seconds(2);
thread_local bool t_lane_thread = false;  // set once the thread serves a lane

// ---- JS-thread-only state --------------------------------------------------

struct Pending {
  Napi::Promise::Deferred deferred;
  std::vector<Napi::Reference<Napi::Value>> pins;
};
std::unordered_map<uint64_t, Pending>* g_pending = nullptr;
std::unordered_map<uint64_t, std::shared_ptr<JsCall>>* g_js_calls = nullptr;
void DrainOnJsThread(Napi::Env env, Napi::Function);

// The wake-up's callback runs DrainOnJsThread directly, not through a JS function:
// a stale wake-up (its news already taken by AwaitNewsBriefly) may be delivered
// while Node tears the environment down, when calling into JS fails; an error
// that cannot be thrown into JS then is dropped instead of aborting the process.
void WakeCallback(Napi::Env env, Napi::Function, std::nullptr_t*, void*) {
  if (env == nullptr) return;
  try {
    DrainOnJsThread(env, Napi::Function());
  } catch (const Napi::Error& e) {
    try {
      e.ThrowAsJavaScriptException();
    } catch (...) {  // JS cannot run any more: the environment is going away
    }
  }
}
using WakeTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, void, WakeCallback>;

WakeTsfn* g_tsfn = nullptr;
Napi::FunctionReference* g_js_handler = nullptr;
uint64_t g_next_job = 1;
bool g_tsfn_refd = false;

void UpdateTsfnRef(Napi::Env env) {
  bool want = !g_pending->empty();
  if (want == g_tsfn_refd) return;
  if (want)
    g_tsfn->Ref(env);
  else
    g_tsfn->Unref(env);
  g_tsfn_refd = want;
}

Napi::Error MakeJsError(Napi::Env env, const Value& info) {
  // `info` is the dict test_rig._bridge.describe_exception builds; copy every
  // field onto the Error so JS sees pyType, pyTraceback, file, line...
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

// Whether the JS thread needs a wake-up (none is on its way, and it is not
// spinning for news). Call with S().mutex held; call WakeJs() after unlocking:
// the wake-up is a syscall, which must not lengthen the critical section.
bool JsWakeNeededLocked() {
  if (S().wake_pending || S().js_spinning || g_tsfn == nullptr) return false;
  S().wake_pending = true;
  return true;
}

void WakeJs() { g_tsfn->NonBlockingCall(); }

// Lanes by id, readable without a lock: created once, never freed or moved.
constexpr size_t kMaxLanes = 4096;
std::atomic<Lane*> g_lanes[kMaxLanes];
std::atomic<size_t> g_lane_count{0};

Lane* FindLane(long lane_id) {
  if (lane_id < 0 || static_cast<size_t>(lane_id) >= g_lane_count.load(std::memory_order_acquire)) return nullptr;
  return g_lanes[static_cast<size_t>(lane_id)].load(std::memory_order_acquire);
}

void PushLaneJob(int lane_id, Job&& job) {
  Lane* lane = FindLane(lane_id);
  if (lane == nullptr) return;
  bool signal;
  {
    std::lock_guard<std::mutex> lock(lane->mutex);
    lane->queue.push_back(std::move(job));
    lane->has_jobs.store(true, std::memory_order_release);
    signal = !lane->in_wait && !lane->signaled;
    if (signal) lane->signaled = true;
  }
  lane->cv.notify_one();
  if (signal) {
    uint64_t one = 1;
    ssize_t ignored = write(lane->fd, &one, sizeof one);
    (void)ignored;
  }
}

void FinishJsCall(const std::shared_ptr<JsCall>& call, bool ok, Value&& result) {
  if (call->sync) {
    {
      std::lock_guard<std::mutex> lock(call->mutex);
      call->ok = ok;
      call->result = std::move(result);
      call->done = true;
      call->answered.store(true, std::memory_order_release);
    }
    call->cv.notify_all();  // unlocked: the woken thread need not wait for the mutex
  } else {
    Job job;
    job.kind = 'r';
    job.id = call->token;
    job.ok = ok;
    job.value = std::move(result);
    PushLaneJob(call->lane, std::move(job));
  }
}

// Runs on the JS thread whenever Python has produced results or requests.
void SettleCompletions(Napi::Env env, std::vector<Completion>& done) {
  for (auto& c : done) {
    auto it = g_pending->find(c.id);
    if (it == g_pending->end()) continue;
    Napi::HandleScope scope(env);
    if (c.ok)
      it->second.deferred.Resolve(ValueToJs(env, c.value));
    else
      it->second.deferred.Reject(MakeJsError(env, c.value).Value());
    g_pending->erase(it);
    g_in_flight.store(g_pending->size(), std::memory_order_relaxed);
  }
}

void DrainOnJsThread(Napi::Env env, Napi::Function) {
  std::vector<Completion> done;
  std::vector<std::shared_ptr<JsCall>> requests;
  {
    std::lock_guard<std::mutex> lock(S().mutex);
    S().wake_pending = false;
    done.swap(S().completions);
    requests.swap(S().requests);
    S().has_news.store(false, std::memory_order_relaxed);
  }
  SettleCompletions(env, done);
  for (auto& call : requests) {
    Napi::HandleScope scope(env);
    if (g_js_handler == nullptr || g_js_handler->IsEmpty()) {
      FinishJsCall(call, false, Value::Str("no JS handler is registered for Python calls"));
      continue;
    }
    (*g_js_calls)[call->id] = call;
    try {
      g_js_handler->Call({Napi::Number::New(env, static_cast<double>(call->id)), ValueToJs(env, call->payload)});
    } catch (const Napi::Error& e) {
      g_js_calls->erase(call->id);
      FinishJsCall(call, false, Value::Str(e.Message()));
    }
  }
  UpdateTsfnRef(env);
}

// ---- the `_test_rig_native` module -------------------------------------------

Lane* LaneById(long lane_id) {
  Lane* lane = FindLane(lane_id);
  if (lane == nullptr) PyErr_SetString(PyExc_ValueError, "no such lane");
  return lane;
}

// Jobs as Python tuples: ('c', id, target, method, args), ('r', token, ok, value), ('s',).
PyObject* JobsToPython(std::deque<Job>& jobs) {
  PyObject* out = PyList_New(0);
  if (out == nullptr) return nullptr;
  for (auto& job : jobs) {
    PyObject* item = nullptr;
    if (job.kind == 'c') {
      PyObject* args = ValueToPy(job.args);
      if (args == nullptr) {
        Py_DECREF(out);
        return nullptr;
      }
      PyObject* method = job.has_method ? PyUnicode_FromString(job.method.c_str()) : (Py_INCREF(Py_None), Py_None);
      item = Py_BuildValue("(sKONN)", "c", static_cast<unsigned long long>(job.id), job.target, method, args);
    } else if (job.kind == 'r') {
      PyObject* value = ValueToPy(job.value);
      if (value == nullptr) {
        Py_DECREF(out);
        return nullptr;
      }
      item = Py_BuildValue("(sKON)", "r", static_cast<unsigned long long>(job.id), job.ok ? Py_True : Py_False, value);
    } else {
      item = Py_BuildValue("(s)", "s");
    }
    if (item == nullptr || PyList_Append(out, item) < 0) {
      Py_XDECREF(item);
      Py_DECREF(out);
      return nullptr;
    }
    Py_DECREF(item);
  }
  return out;
}

// Takes the lane's queued jobs and clears its eventfd if it was written. Call with lane->mutex held.
std::deque<Job> TakeJobsLocked(Lane* lane) {
  std::deque<Job> jobs;
  jobs.swap(lane->queue);
  lane->has_jobs.store(false, std::memory_order_relaxed);
  if (lane->signaled) {
    uint64_t counter;
    ssize_t ignored = read(lane->fd, &counter, sizeof counter);
    (void)ignored;
    lane->signaled = false;
  }
  return jobs;
}

// Takes the queued jobs without waiting (called by the asyncio loop's reader).
PyObject* PyLaneTake(PyObject*, PyObject* arg) {
  long lane_id = PyLong_AsLong(arg);
  if (lane_id == -1 && PyErr_Occurred()) return nullptr;
  DrainDeferredDecrefs();
  Lane* lane = LaneById(lane_id);
  if (lane == nullptr) return nullptr;
  std::deque<Job> jobs;
  {
    std::lock_guard<std::mutex> lock(lane->mutex);
    jobs = TakeJobsLocked(lane);
  }
  return JobsToPython(jobs);
}

// Waits (GIL released) until the lane has jobs, then takes them. A lane with
// no coroutine in flight waits here: a condition variable wakes faster than
// an asyncio loop iteration.
PyObject* PyLaneWait(PyObject*, PyObject* arg) {
  long lane_id = PyLong_AsLong(arg);
  if (lane_id == -1 && PyErr_Occurred()) return nullptr;
  DrainDeferredDecrefs();
  Lane* lane = LaneById(lane_id);
  if (lane == nullptr) return nullptr;
  t_lane_thread = true;
  std::deque<Job> jobs;
  Py_BEGIN_ALLOW_THREADS {
    {
      std::lock_guard<std::mutex> lock(lane->mutex);
      lane->in_wait = true;
    }
    // A machine's next job usually follows within microseconds: spinning that
    // long is much cheaper than a sleep and a wake-up through the kernel.
    SpinUntil([&] { return lane->has_jobs.load(std::memory_order_acquire); });
    std::unique_lock<std::mutex> lock(lane->mutex);
    lane->cv.wait(lock, [&] { return !lane->queue.empty(); });
    lane->in_wait = false;  // from here on, jobs must signal the eventfd (the asyncio loop may run next)
    jobs = TakeJobsLocked(lane);
  }
  Py_END_ALLOW_THREADS return JobsToPython(jobs);
}

Value DescribeAndClearPythonError();

PyObject* PyComplete(PyObject*, PyObject* args) {
  unsigned long long id = 0;
  int ok = 0;
  PyObject* value = nullptr;
  if (!PyArg_ParseTuple(args, "KpO", &id, &ok, &value)) return nullptr;
  Completion c{id, ok != 0, Value()};
  if (!ValueFromPy(value, &c.value)) {
    // A result JS cannot take (e.g. a list that contains itself): the job
    // fails with that error; raising here would leave its promise unsettled.
    c.ok = false;
    c.value = DescribeAndClearPythonError();
  }
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(S().mutex);
    if (!S().shut_down) {
      S().completions.push_back(std::move(c));
      S().has_news.store(true, std::memory_order_release);
      wake = JsWakeNeededLocked();
    }
  }
  if (wake) WakeJs();
  Py_RETURN_NONE;
}

std::shared_ptr<JsCall> QueueJsCall(PyObject* payload, bool sync, int lane, uint64_t token) {
  auto call = std::make_shared<JsCall>();
  if (!ValueFromPy(payload, &call->payload)) return nullptr;
  call->sync = sync;
  call->lane = lane;
  call->token = token;
  bool wake;
  {
    std::lock_guard<std::mutex> lock(S().mutex);
    if (S().shut_down) {
      PyErr_SetString(PyExc_RuntimeError, "test-rig is shutting down: the call to JS was not made");
      return nullptr;
    }
    call->id = S().next_call_id++;
    if (sync) S().waiting_sync[call->id] = call;
    S().requests.push_back(call);
    S().has_news.store(true, std::memory_order_release);
    wake = JsWakeNeededLocked();
  }
  if (wake) WakeJs();
  return call;
}

// Takes a call back that JS has not seen yet, so it never runs. False if JS has it.
bool WithdrawJsCall(const std::shared_ptr<JsCall>& call) {
  std::lock_guard<std::mutex> lock(S().mutex);
  auto& queued = S().requests;
  for (auto it = queued.begin(); it != queued.end(); ++it) {
    if (*it != call) continue;
    queued.erase(it);
    if (queued.empty()) S().has_news.store(!S().completions.empty(), std::memory_order_relaxed);
    S().waiting_sync.erase(call->id);
    return true;
  }
  return false;
}

// Waits (GIL released) for JS to answer `call`. Returns false when the call was
// withdrawn instead: the JS thread stayed inside one Python call (an inline
// handler) for kUnservedLimit, so it may well be waiting for this very thread.
bool AwaitJsAnswer(const std::shared_ptr<JsCall>& call) {
  SpinUntil([&] { return call->answered.load(std::memory_order_acquire); }, kReplySpinMicros);
  std::unique_lock<std::mutex> lock(call->mutex);
  uint64_t blocker = CurrentJsPythonCall();
  auto since = std::chrono::steady_clock::now();
  bool withdrawable = !t_lane_thread;
  while (!call->cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return call->done; })) {
    if (!withdrawable) continue;
    uint64_t now_in = CurrentJsPythonCall();
    auto now = std::chrono::steady_clock::now();
    if (now_in != blocker) {
      blocker = now_in;
      since = now;
    } else if (blocker != 0 && now - since >= kUnservedLimit) {
      lock.unlock();
      if (WithdrawJsCall(call)) return false;
      withdrawable = false;  // JS took it meanwhile: its answer is on the way
      lock.lock();
    }
  }
  return true;
}

// Blocks the calling Python thread (GIL released) until JS answers.
// Returns (ok, value).
PyObject* PyCallJsSync(PyObject*, PyObject* payload) {
  if (OnJsThread()) {
    PyErr_SetString(PyExc_RuntimeError,
                    "a blocking call to JS from the JS thread would deadlock: this handler runs inline "
                    "(inline = True), so use `await context.connection.query(...)`, or remove `inline = True`");
    return nullptr;
  }
  std::shared_ptr<JsCall> call = QueueJsCall(payload, true, -1, 0);
  if (!call) return nullptr;
  bool answered;
  Py_BEGIN_ALLOW_THREADS answered = AwaitJsAnswer(call);
  Py_END_ALLOW_THREADS if (!answered) {
    PyErr_Format(PyExc_RuntimeError,
                 "this blocking call was not made: the JS thread, which serves it, has spent %d s in one "
                 "Python call. An inline handler (inline = True) that waits for threads making blocking "
                 "calls never returns: remove `inline = True`, or have the handler itself "
                 "`await context.connection.query(...)`",
                 static_cast<int>(kUnservedLimit.count()));
    return nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(S().mutex);
    S().waiting_sync.erase(call->id);
  }
  PyObject* value = ValueToPy(call->result);
  if (value == nullptr) return nullptr;
  return Py_BuildValue("(ON)", call->ok ? Py_True : Py_False, value);
}

// Non-blocking: the answer arrives on lane `lane` as a ('r', token, ok, value) job.
PyObject* PyCallJsAsync(PyObject*, PyObject* args) {
  PyObject* payload = nullptr;
  int lane = 0;
  unsigned long long token = 0;
  if (!PyArg_ParseTuple(args, "OiK", &payload, &lane, &token)) return nullptr;
  if (!QueueJsCall(payload, false, lane, token)) return nullptr;
  Py_RETURN_NONE;
}

PyObject* PyOnJsThread(PyObject*, PyObject*) { return PyBool_FromLong(OnJsThread() ? 1 : 0); }

PyObject* g_describer = nullptr;  // test_rig._bridge.describe_exception

PyObject* PySetDescriber(PyObject*, PyObject* fn) {
  Py_XDECREF(g_describer);
  Py_INCREF(fn);
  g_describer = fn;
  Py_RETURN_NONE;
}

PyMethodDef kMethods[] = {
    {"lane_take", PyLaneTake, METH_O, "Take the queued jobs of a lane."},
    {"lane_wait", PyLaneWait, METH_O, "Wait for jobs on a lane (GIL released), then take them."},
    {"complete", PyComplete, METH_VARARGS, "Settle the JS promise of a job: complete(id, ok, value)."},
    {"call_js_sync", PyCallJsSync, METH_O, "Call JS and wait (GIL released). Returns (ok, value)."},
    {"call_js_async", PyCallJsAsync, METH_VARARGS, "Call JS; the answer comes back as a lane job."},
    {"on_js_thread", PyOnJsThread, METH_NOARGS, "True on the JS main thread."},
    {"set_exception_describer", PySetDescriber, METH_O, "Register fn(exc) -> dict used for errors sent to JS."},
    {"set_deadline_error", PySetDeadlineError, METH_O,
     "Register the exception class raised in inline calls past their deadline."},
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

/** The pending Python exception as the error payload JS expects (via the describer); clears it. */
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

}  // namespace

Napi::Error TakePythonError(Napi::Env env) { return MakeJsError(env, DescribeAndClearPythonError()); }

bool OnJsThread() { return std::this_thread::get_id() == g_js_thread; }

PyObject* InitNativeModule() { return PyModule_Create(&kModule); }

void BridgeInit(Napi::Env env) {
  g_js_thread = std::this_thread::get_id();
  g_pending = new std::unordered_map<uint64_t, Pending>();
  g_js_calls = new std::unordered_map<uint64_t, std::shared_ptr<JsCall>>();
  // NonBlockingCall() runs WakeCallback on the JS thread.
  g_tsfn = new WakeTsfn(WakeTsfn::New(env, "test-rig-bridge", 0, 1));
  g_tsfn->Unref(env);
  g_tsfn_refd = false;
}

void BridgeShutdown() {
  std::vector<std::shared_ptr<JsCall>> waiting;
  {
    std::lock_guard<std::mutex> lock(S().mutex);
    if (S().shut_down) return;
    S().shut_down = true;
    for (auto& kv : S().waiting_sync) waiting.push_back(kv.second);
    S().waiting_sync.clear();
  }
  for (auto& call : waiting) FinishJsCall(call, false, Value::Str("test-rig is shutting down"));
  size_t lanes = g_lane_count.load(std::memory_order_acquire);
  for (size_t k = 0; k < lanes; k++) {
    Job stop;
    stop.kind = 's';
    PushLaneJob(static_cast<int>(k), std::move(stop));
  }
}

// On the JS thread, with one job in flight: spins briefly for a completion or
// a request from Python and handles whatever arrived (as the thread-safe
// function would a moment later, after a trip through the event loop).
void AwaitNewsBriefly(Napi::Env env) {
  if (g_pending->size() != 1) return;
  {
    std::lock_guard<std::mutex> lock(S().mutex);
    S().js_spinning = true;  // Python need not wake the event loop meanwhile (a syscall)
  }
  SpinUntil([] { return S().has_news.load(std::memory_order_acquire); });
  bool news;
  {
    std::lock_guard<std::mutex> lock(S().mutex);
    S().js_spinning = false;
    news = !S().completions.empty() || !S().requests.empty();
  }
  if (news) DrainOnJsThread(env, Napi::Function());
}

Napi::Value LaneCreate(const Napi::CallbackInfo& info) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw Napi::Error::New(info.Env(), "eventfd failed");
  size_t id = g_lane_count.load(std::memory_order_relaxed);  // lanes are created on the JS thread only
  if (id >= kMaxLanes) {
    close(fd);
    throw Napi::Error::New(info.Env(), "too many lanes (4096): are machines stuck in handlers that never return?");
  }
  auto* lane = new Lane();  // never freed: lane threads may outlive everything (heap, like Shared)
  lane->fd = fd;
  g_lanes[id].store(lane, std::memory_order_release);
  g_lane_count.store(id + 1, std::memory_order_release);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("id", static_cast<double>(id));
  out.Set("fd", fd);
  return out;
}

// submit(laneId, target, method|null, args[]) -> Promise
Napi::Value Submit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Job job;
  job.kind = 'c';
  int lane = info[0].As<Napi::Number>().Int32Value();
  job.target = UnwrapPyRef(info[1]);
  if (job.target == nullptr) throw Napi::TypeError::New(env, "submit: target is not a Python object");
  if (info[2].IsString()) {
    job.method = info[2].As<Napi::String>().Utf8Value();
    job.has_method = true;
  }
  job.args = ValueFromJs(info[3]);
  if (job.args.kind != Value::Kind::List) throw Napi::TypeError::New(env, "submit: args must be an array");
  job.id = g_next_job++;
  Pending pending{Napi::Promise::Deferred::New(env), {}};
  pending.pins.push_back(Napi::Persistent(info[1]));  // keeps target and PyRef args alive
  pending.pins.push_back(Napi::Persistent(info[3]));
  Napi::Promise promise = pending.deferred.Promise();
  {
    std::lock_guard<std::mutex> lock(S().mutex);
    if (S().shut_down) throw Napi::Error::New(env, "test-rig's Python runtime has been shut down");
  }
  g_pending->emplace(job.id, std::move(pending));
  g_in_flight.store(g_pending->size(), std::memory_order_relaxed);
  UpdateTsfnRef(env);
  PushLaneJob(lane, std::move(job));
  // When this is the only job in flight, its result or its first request (a
  // query) usually follows within microseconds: taking it here saves a
  // wake-up of the event loop.
  AwaitNewsBriefly(env);
  return promise;
}

Napi::Value SetJsHandler(const Napi::CallbackInfo& info) {
  if (g_js_handler == nullptr) g_js_handler = new Napi::FunctionReference();
  *g_js_handler = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// resolveJsCall(id, ok, value)
Napi::Value ResolveJsCall(const Napi::CallbackInfo& info) {
  uint64_t id = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  auto it = g_js_calls->find(id);
  if (it == g_js_calls->end()) return info.Env().Undefined();
  std::shared_ptr<JsCall> call = it->second;
  g_js_calls->erase(it);
  bool ok = info[1].ToBoolean().Value();
  Value value;
  try {
    value = ValueFromJs(info[2]);
  } catch (const Napi::Error& e) {
    ok = false;
    value = Value::Str(e.Message());
  }
  FinishJsCall(call, ok, std::move(value));
  AwaitNewsBriefly(info.Env());  // the job usually completes (or asks again) right away
  return info.Env().Undefined();
}

}  // namespace test_rig
