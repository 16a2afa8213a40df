// Registration only: each export lives with the unit that implements it.
#include <napi.h>

#include "bridge.h"
#include "inline_guard.h"
#include "interpreter.h"

namespace test_rig {

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown, "shutdown"));
  exports.Set("importModule", Napi::Function::New(env, ImportModule, "importModule"));
  exports.Set("call", Napi::Function::New(env, Call, "call"));
  exports.Set("laneCreate", Napi::Function::New(env, LaneCreate, "laneCreate"));
  exports.Set("submit", Napi::Function::New(env, Submit, "submit"));
  exports.Set("setJsHandler", Napi::Function::New(env, SetJsHandler, "setJsHandler"));
  exports.Set("resolveJsCall", Napi::Function::New(env, ResolveJsCall, "resolveJsCall"));
  exports.Set("armInlineDeadline", Napi::Function::New(env, ArmInlineDeadline, "armInlineDeadline"));
  return exports;
}

}  // namespace test_rig

static Napi::Object RegisterAddon(Napi::Env env, Napi::Object exports) { return test_rig::Register(env, exports); }

NODE_API_MODULE(test_rig, RegisterAddon)
