// Lanes: one Python thread per machine, running its own asyncio loop. The JS
// thread hands it jobs through the lane's queue (a mutex and a condition
// variable, plus an eventfd the asyncio loop watches), so it never waits for
// the GIL; each job's outcome comes back as a Completion (wakeups.cc).
//
// A lane ends when its thread does (a stop job, or an abandoned lane whose
// handler finally returned): lane_close closes its eventfd under the lane's
// mutex, and from then on jobs for it are dropped (a call job fails), so no
// write can reach a descriptor number the process has reused. A lane's
// eventfd is written and closed only under its mutex. Lane structs are never
// freed (threads may outlive everything), so a process creates at most
// kMaxLanes; at most kMaxStuckLanes abandoned lanes may still be running.
#include <sys/eventfd.h>
#include <unistd.h>

#include <deque>

#include "bridge.h"
#include "bridge_internal.h"

namespace test_rig {

namespace {

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
  bool abandoned = false;  // given up on by JS: counted in g_stuck until closed
  bool closed = false;     // its thread has ended: fd closed, jobs dropped
};

// Lanes by id, readable without a lock: created once (JS thread), never freed
// or moved, since lane threads may outlive everything.
constexpr size_t kMaxLanes = 4096;
std::atomic<Lane*> g_lanes[kMaxLanes];
std::atomic<size_t> g_lane_count{0};
std::atomic<bool> g_lanes_stopped{false};
// Abandoned lanes whose thread has not ended yet (a handler blocked in C).
constexpr int kMaxStuckLanes = 64;
std::atomic<int> g_stuck{0};

thread_local bool t_lane_thread = false;  // set once the thread serves a lane

Lane* FindLane(long lane_id) {
  if (lane_id < 0 || static_cast<size_t>(lane_id) >= g_lane_count.load(std::memory_order_acquire)) return nullptr;
  return g_lanes[static_cast<size_t>(lane_id)].load(std::memory_order_acquire);
}

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
      item = Py_BuildValue("(sKONN)", "c", static_cast<unsigned long long>(job.id), job.target.get(), method, args);
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

}  // namespace

void PushLaneJob(int lane_id, Job&& job) {
  Lane* lane = FindLane(lane_id);
  if (lane == nullptr) return;
  bool closed;
  {
    std::lock_guard<std::mutex> lock(lane->mutex);
    closed = lane->closed;
    if (!closed) {
      lane->queue.push_back(std::move(job));
      lane->has_jobs.store(true, std::memory_order_release);
      if (!lane->in_wait && !lane->signaled) {
        lane->signaled = true;
        // under the mutex: lane_close may close the descriptor once it is released
        uint64_t one = 1;
        ssize_t ignored = write(lane->fd, &one, sizeof one);
        (void)ignored;
      }
    }
  }
  if (!closed) {
    lane->cv.notify_one();
    return;
  }
  // A call job must settle: its promise would keep the process alive forever.
  if (job.kind != 'c') return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(N().mutex);
    if (!N().shut_down) {
      N().completions.push_back(Completion{job.id, false, Value::Str("this lane has ended: its thread is gone")});
      N().has_news.store(true, std::memory_order_release);
      wake = JsWakeNeededLocked();
    }
  }
  if (wake) WakeJs();
}

void StopLanes() {
  if (g_lanes_stopped.exchange(true)) return;
  size_t lanes = g_lane_count.load(std::memory_order_acquire);
  for (size_t k = 0; k < lanes; k++) {
    Job stop;
    stop.kind = 's';
    PushLaneJob(static_cast<int>(k), std::move(stop));
  }
}

bool OnLaneThread() { return t_lane_thread; }

bool JobsInFlight() { return Js() != nullptr && !Js()->pending.empty(); }

void SettleJobs(Napi::Env env, std::vector<Completion>& done) {
  JsState* js = Js();
  if (js == nullptr) return;
  for (auto& c : done) {
    auto it = js->pending.find(c.id);
    if (it == js->pending.end()) continue;
    Napi::Promise::Deferred deferred = it->second;
    js->pending.erase(it);
    g_in_flight.store(js->pending.size(), std::memory_order_relaxed);
    Napi::HandleScope scope(env);
    if (c.ok)
      deferred.Resolve(ValueToJs(env, c.value));
    else
      deferred.Reject(MakeJsError(env, c.value).Value());
  }
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

// complete(id, ok, value): a job's outcome, for the JS thread.
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
    std::lock_guard<std::mutex> lock(N().mutex);
    if (!N().shut_down) {
      N().completions.push_back(std::move(c));
      N().has_news.store(true, std::memory_order_release);
      wake = JsWakeNeededLocked();
    }
  }
  if (wake) WakeJs();
  Py_RETURN_NONE;
}

// lane_abandoned(id): JS gave up on the lane; it counts as stuck until lane_close.
PyObject* PyLaneAbandoned(PyObject*, PyObject* arg) {
  long lane_id = PyLong_AsLong(arg);
  if (lane_id == -1 && PyErr_Occurred()) return nullptr;
  Lane* lane = LaneById(lane_id);
  if (lane == nullptr) return nullptr;
  std::lock_guard<std::mutex> lock(lane->mutex);
  if (!lane->abandoned && !lane->closed) {
    lane->abandoned = true;
    g_stuck.fetch_add(1, std::memory_order_relaxed);
  }
  Py_RETURN_NONE;
}

// lane_close(id): the lane's thread is ending; closes its eventfd, drops its jobs. Idempotent.
PyObject* PyLaneClose(PyObject*, PyObject* arg) {
  long lane_id = PyLong_AsLong(arg);
  if (lane_id == -1 && PyErr_Occurred()) return nullptr;
  Lane* lane = LaneById(lane_id);
  if (lane == nullptr) return nullptr;
  std::deque<Job> dropped;  // destroyed after unlocking (GIL held: their shares may be the last)
  {
    std::lock_guard<std::mutex> lock(lane->mutex);
    if (lane->closed) Py_RETURN_NONE;
    lane->closed = true;
    close(lane->fd);
    lane->fd = -1;
    lane->signaled = false;
    dropped.swap(lane->queue);
    lane->has_jobs.store(false, std::memory_order_relaxed);
    if (lane->abandoned) g_stuck.fetch_sub(1, std::memory_order_relaxed);
  }
  Py_RETURN_NONE;
}

Napi::Value LaneCreate(const Napi::CallbackInfo& info) {
  int stuck = g_stuck.load(std::memory_order_relaxed);
  if (stuck >= kMaxStuckLanes)
    throw Napi::Error::New(info.Env(), std::to_string(stuck) +
                                           " timed-out handlers are still running in their threads (blocked in C: "
                                           "time.sleep, a lock, a socket): test-rig starts no more lane threads "
                                           "until they return. Make the handler's blocking calls end (a timeout on "
                                           "the lock or socket), or run fewer cases per run");
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw Napi::Error::New(info.Env(), "eventfd failed");
  size_t id = g_lane_count.load(std::memory_order_relaxed);  // lanes are created on the JS thread only
  if (id >= kMaxLanes) {
    close(fd);
    throw Napi::Error::New(info.Env(),
                           "too many lanes: a process creates at most 4096 (each case or machine takes one; a "
                           "timed-out one is never reused)");
  }
  auto* lane = new Lane();
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
  JsState* js = Js();
  Job job;
  job.kind = 'c';
  int lane = info[0].As<Napi::Number>().Int32Value();
  job.target = SharePyRef(info[1]);
  if (!job.target) throw Napi::TypeError::New(env, "submit: target is not a Python object");
  if (info[2].IsString()) {
    job.method = info[2].As<Napi::String>().Utf8Value();
    job.has_method = true;
  }
  job.args = ValueFromJs(info[3]);  // PyRefs among the args: the Value holds shares
  if (job.args.kind != Value::Kind::List) throw Napi::TypeError::New(env, "submit: args must be an array");
  {
    std::lock_guard<std::mutex> lock(N().mutex);
    if (N().shut_down || js == nullptr) throw Napi::Error::New(env, "test-rig's Python runtime has been shut down");
  }
  job.id = js->next_job++;
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  js->pending.emplace(job.id, deferred);
  g_in_flight.store(js->pending.size(), std::memory_order_relaxed);
  UpdateKeepAlive(env);
  PushLaneJob(lane, std::move(job));
  // When this is the only job in flight, its result or its first request (a
  // query) usually follows within microseconds: taking it here saves a
  // wake-up of the event loop.
  AwaitNewsBriefly(env);
  return deferred.Promise();
}

}  // namespace test_rig
