// Waking the JS thread, spinning, and the bridge's per-environment state.
//
// INVARIANTS (the whole bridge: lanes.cc, js_calls.cc, module.cc rely on them)
//
// Threads and what each owns:
// - The JS thread owns JsState (Js()): job promises, the calls JS has seen, the
//   JS handler. Nothing else touches it. It never waits for the GIL while
//   another thread could need the JS thread to make progress (it takes the GIL
//   only for inline calls, which are its own).
// - Python threads (lanes, the user's threads) hand news to the JS thread
//   through N(): completions and requests, under N().mutex. A lane's job
//   queue, the writes to its eventfd and its closing (when its thread ends)
//   are under that lane's mutex (lanes.cc); a call's answer under the call's
//   mutex (js_calls.cc).
// - The thread-safe function (TSFN) is the one way to wake the JS thread. Any
//   thread calls it, only under W().mutex and only while W().open; the
//   environment's cleanup hook closes it under the same mutex, so no thread
//   touches it once Node may free it.
//
// Lock order: the GIL, then at most one of N().mutex, a lane's mutex, a call's
// mutex, W().mutex, inline_guard's watchdog mutex. Nobody holds two of those
// at once, and nobody takes the GIL while holding one (a thread about to wait
// releases the GIL first: Py_BEGIN_ALLOW_THREADS). The watchdog drops its mutex
// before it takes the GIL.
//
// Wake-ups: a thread that posts news asks for a wake-up only if none is on its
// way (wake_pending) and the JS thread is not spinning for news; it sends it
// after unlocking. The JS thread may drain news directly (AwaitNewsBriefly)
// meanwhile, so A WAKE-UP MAY BE IN FLIGHT AFTER ANY DIRECT DRAIN: it may find
// nothing to do, and it may arrive after the last job settled, even during
// the environment's cleanup, when JS can no longer run. So the TSFN's callback
// never throws, does nothing once the environment is torn down (or without an
// env), and the TSFN keeps the process alive only while jobs are in flight.
//
// Spin credit: how long the JS thread spins for news (AwaitNewsBriefly) adapts
// to what spinning has been worth. It always spins kSpinMicros; beyond that it
// may spend its credit (up to kMaxSpinCredit). News that came by a wake-up soon
// after a spin gave up (a longer spin would have caught it, saving the wake-up)
// raises the credit to cover that wait; news that came long after halves it;
// news caught by a spin moves it slowly toward what that wait needed. So a
// machine whose visits come back within a few hundred µs is served without
// wake-ups, and one whose handlers take long (a slow query, a sleep) soon
// spins only the base budget. The credit is the JS thread's alone.
//
// At the end: shutdown (process 'exit') fails waiting calls and stops lanes;
// the cleanup hook (environment teardown, when the process ends naturally;
// process.exit() skips it) does the same, retires JsState and closes the TSFN.
#include <algorithm>
#include <exception>

#include "bridge.h"
#include "bridge_internal.h"

namespace test_rig {

std::atomic<size_t> g_in_flight{0};
std::atomic<int> g_spinners{0};

News& N() {
  static auto* news = new News();  // heap: threads may outlive static destructors
  return *news;
}

namespace {

std::thread::id g_js_thread;
JsState* g_js = nullptr;

// Spin credit (INVARIANTS above), JS thread only: µs the next spin for news may last
// beyond kSpinMicros, and when the last spin that gave up began (news still due).
constexpr int kMaxSpinCredit = 260;
int g_spin_credit = 0;
bool g_news_due = false;
std::chrono::steady_clock::time_point g_spin_began;

int MicrosSince(std::chrono::steady_clock::time_point t) {
  return static_cast<int>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t).count());
}

// News came by a wake-up `waited` µs after a spin for it began.
void CreditLateNews(int waited) {
  int needed = waited + waited / 4 - static_cast<int>(kSpinMicros.count());
  g_spin_credit = needed <= kMaxSpinCredit ? std::max(g_spin_credit, needed) : g_spin_credit / 2;
}

void CallJs(Napi::Env env, Napi::Function, JsState* state, void*);
using Tsfn = Napi::TypedThreadSafeFunction<JsState, void, CallJs>;

struct Wake {
  std::mutex mutex;
  bool open = false;  // guarded by `mutex`: tsfn may be called
  Tsfn tsfn;
  bool refd = false;  // JS thread only
};
Wake& W() {
  static auto* wake = new Wake();
  return *wake;
}

void FailWaitingCalls(const char* why) {
  std::vector<std::shared_ptr<JsCall>> waiting;
  {
    std::lock_guard<std::mutex> lock(N().mutex);
    N().shut_down = true;
    for (auto& kv : N().waiting_sync) waiting.push_back(kv.second);
    N().waiting_sync.clear();
  }
  for (auto& call : waiting) FinishJsCall(call, false, Value::Str(why));
}

// Handles whatever Python has posted (JS thread).
void Drain(Napi::Env env) {
  std::vector<Completion> done;
  std::vector<std::shared_ptr<JsCall>> requests;
  {
    std::lock_guard<std::mutex> lock(N().mutex);
    N().wake_pending = false;
    done.swap(N().completions);
    requests.swap(N().requests);
    N().has_news.store(false, std::memory_order_relaxed);
  }
  if (g_news_due && (!done.empty() || !requests.empty())) {
    g_news_due = false;
    CreditLateNews(MicrosSince(g_spin_began));
  }
  SettleJobs(env, done);
  ServeJsCalls(env, requests);
  UpdateKeepAlive(env);
}

// The TSFN's callback: never throws (it is called from C, an exception would
// abort the process) and does nothing once JS can no longer run.
void CallJs(Napi::Env env, Napi::Function, JsState* state, void*) {
  if (static_cast<napi_env>(env) == nullptr || state == nullptr || state->torn_down) return;
  try {
    Drain(env);
  } catch (const std::exception&) {
    // JS refused to run (the environment is ending): nothing is waiting for this news.
  }
}

// Environment teardown: after this, no JS runs for the bridge and nobody waits for it.
void Cleanup(JsState* state) {
  state->torn_down = true;
  if (g_js == state) g_js = nullptr;
  {
    std::lock_guard<std::mutex> lock(W().mutex);
    if (W().open) W().tsfn.Abort();  // queued wake-ups are dropped, never delivered
    W().open = false;
  }
  FailWaitingCalls("test-rig is shutting down");
  StopLanes();
  // `state` is not freed: its JS references die with the environment, and a
  // late call of CallJs may still read `torn_down`.
}

}  // namespace

JsState* Js() { return g_js; }

bool OnJsThread() { return std::this_thread::get_id() == g_js_thread; }

bool JsWakeNeededLocked() {
  if (N().wake_pending || N().js_spinning) return false;
  N().wake_pending = true;
  return true;
}

void WakeJs() {
  std::lock_guard<std::mutex> lock(W().mutex);
  if (W().open) W().tsfn.NonBlockingCall();
}

void UpdateKeepAlive(Napi::Env env) {
  bool want = JobsInFlight();
  if (want == W().refd || g_js == nullptr) return;
  if (want)
    W().tsfn.Ref(env);
  else
    W().tsfn.Unref(env);
  W().refd = want;
}

void AwaitNewsBriefly(Napi::Env env) {
  if (g_in_flight.load(std::memory_order_relaxed) != 1) return;
  {
    std::lock_guard<std::mutex> lock(N().mutex);
    N().js_spinning = true;  // Python need not wake the event loop meanwhile (a syscall)
  }
  auto began = std::chrono::steady_clock::now();
  bool spun = false;
  bool caught = SpinUntil([] { return N().has_news.load(std::memory_order_acquire); },
                          kSpinMicros + std::chrono::microseconds(g_spin_credit), &spun);
  bool news;
  {
    std::lock_guard<std::mutex> lock(N().mutex);
    N().js_spinning = false;
    news = !N().completions.empty() || !N().requests.empty();
  }
  if (spun && caught) {
    // Toward what this wait needed (a quarter more), slowly: one quick answer must not
    // undo what a run of slower ones earned.
    int needed = MicrosSince(began);
    needed += needed / 4 - static_cast<int>(kSpinMicros.count());
    g_spin_credit += (std::max(needed, 0) - g_spin_credit) / 8;
  }
  g_news_due = spun && !caught;
  if (g_news_due) g_spin_began = began;
  if (news) Drain(env);
}

void BridgeInit(Napi::Env env) {
  g_js_thread = std::this_thread::get_id();
  g_js = new JsState();
  Tsfn tsfn = Tsfn::New(env, "test-rig-bridge", 0, 1, g_js);
  tsfn.Unref(env);
  {
    std::lock_guard<std::mutex> lock(W().mutex);
    W().tsfn = tsfn;
    W().open = true;
  }
  W().refd = false;
  env.AddCleanupHook(Cleanup, g_js);
}

void BridgeShutdown() {
  {
    std::lock_guard<std::mutex> lock(N().mutex);
    if (N().shut_down) return;
  }
  FailWaitingCalls("test-rig is shutting down");
  StopLanes();
}

}  // namespace test_rig
