// Python -> JS calls: a Python thread posts a request ([op, ...args]); the JS
// thread hands it to the registered JS handler, which answers through
// resolveJsCall. Blocking callers wait on the call's condition variable with
// the GIL released; asynchronous ones get the answer as a lane job.
#include "bridge.h"
#include "bridge_internal.h"
#include "inline_guard.h"

namespace test_rig {

namespace {

// A blocking call to JS that waits this long while the JS thread stays inside one
// Python call is withdrawn: that call is most likely waiting for the caller. Only
// for threads of the user's: a lane is a machine's own thread, which no inline
// call waits for, so a long inline call must not fail another machine's query.
constexpr auto kUnservedLimit = std::chrono::seconds(2);

std::shared_ptr<JsCall> QueueJsCall(PyObject* payload, bool sync, int lane, uint64_t token) {
  auto call = std::make_shared<JsCall>();
  if (!ValueFromPy(payload, &call->payload)) return nullptr;
  call->sync = sync;
  call->lane = lane;
  call->token = token;
  bool wake;
  {
    std::lock_guard<std::mutex> lock(N().mutex);
    if (N().shut_down) {
      PyErr_SetString(PyExc_RuntimeError, "test-rig is shutting down: the call to JS was not made");
      return nullptr;
    }
    call->id = N().next_call_id++;
    if (sync) N().waiting_sync[call->id] = call;
    N().requests.push_back(call);
    N().has_news.store(true, std::memory_order_release);
    wake = JsWakeNeededLocked();
  }
  if (wake) WakeJs();
  return call;
}

// Takes a call back that JS has not seen yet, so it never runs. False if JS has it.
bool WithdrawJsCall(const std::shared_ptr<JsCall>& call) {
  std::lock_guard<std::mutex> lock(N().mutex);
  auto& queued = N().requests;
  for (auto it = queued.begin(); it != queued.end(); ++it) {
    if (*it != call) continue;
    queued.erase(it);
    if (queued.empty()) N().has_news.store(!N().completions.empty(), std::memory_order_relaxed);
    N().waiting_sync.erase(call->id);
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
  bool withdrawable = !OnLaneThread();
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

}  // namespace

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

void ServeJsCalls(Napi::Env env, std::vector<std::shared_ptr<JsCall>>& requests) {
  JsState* js = Js();
  for (auto& call : requests) {
    if (js == nullptr || js->js_handler.IsEmpty()) {
      FinishJsCall(call, false, Value::Str("no JS handler is registered for Python calls"));
      continue;
    }
    Napi::HandleScope scope(env);
    js->js_calls[call->id] = call;
    try {
      js->js_handler.Call({Napi::Number::New(env, static_cast<double>(call->id)), ValueToJs(env, call->payload)});
    } catch (const Napi::Error& e) {
      js->js_calls.erase(call->id);
      FinishJsCall(call, false, Value::Str(e.Message()));
    }
  }
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
    std::lock_guard<std::mutex> lock(N().mutex);
    N().waiting_sync.erase(call->id);
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

Napi::Value SetJsHandler(const Napi::CallbackInfo& info) {
  if (Js() != nullptr) Js()->js_handler = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// resolveJsCall(id, ok, value)
Napi::Value ResolveJsCall(const Napi::CallbackInfo& info) {
  JsState* js = Js();
  if (js == nullptr) return info.Env().Undefined();
  uint64_t id = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  auto it = js->js_calls.find(id);
  if (it == js->js_calls.end()) return info.Env().Undefined();
  std::shared_ptr<JsCall> call = it->second;
  js->js_calls.erase(it);
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
