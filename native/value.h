// A thread-neutral value tree: the one representation data takes between JS
// and Python. JS values become Values on the JS thread (no GIL), Python values
// become Values on a Python thread (GIL held), and each side builds its own
// objects from them. Other Python objects (handlers, contexts) cross as opaque
// handles.
//
// Ownership of Kind::PyObj, the one rule: a Value holds a share (PyShare,
// pyref.h) of one strong reference to its object. Every path that makes a
// PyObj Value takes its own share; every path that reads one takes its own
// (ValueToPy a new reference, ValueToJs a PyRef holding a share); nothing
// increfs or decrefs a Value's object by hand. So a Value dropped anywhere, on
// any thread, half-built or never delivered, releases what it held.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pyref.h"
#include "python.h"

namespace test_rig {

struct Value {
  enum class Kind : uint8_t {
    Null,
    Bool,
    Int,     // fits in int64
    BigInt,  // decimal digits in `str`, for ints beyond int64
    Double,
    String,
    Bytes,
    List,
    Dict,
    PyObj,  // `obj`: a share of a strong reference (see the rule above)
  };
  Kind kind = Kind::Null;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string str;                                  // String, Bytes, BigInt
  std::vector<Value> items;                         // List
  std::vector<std::pair<std::string, Value>> dict;  // Dict
  PyShare obj;                                      // PyObj

  static Value Str(std::string s) {
    Value v;
    v.kind = Kind::String;
    v.str = std::move(s);
    return v;
  }
};

// JS -> Value. Throws Napi::Error for values that have no Python equivalent
// (functions, symbols). A PyRef external becomes Kind::PyObj.
Value ValueFromJs(const Napi::Value& v);
// Value -> JS. Kind::PyObj becomes a PyRef.
Napi::Value ValueToJs(Napi::Env env, const Value& v);
// Python -> Value (GIL held). Returns false with a Python error set when an
// object cannot be represented (it names the type).
bool ValueFromPy(PyObject* o, Value* out);
// Value -> Python (GIL held). New reference, or nullptr with an error set.
PyObject* ValueToPy(const Value& v);

// The same conversions without the Value in between, for calls made on the JS
// thread with the GIL held (the inline hot path): JS -> Python returns a new
// reference and throws Napi::Error for what has no Python equivalent; Python
// -> JS returns an empty value with a Python error set on failure.
PyObject* PyFromJs(const Napi::Value& v);
Napi::Value JsFromPy(Napi::Env env, PyObject* o);

// Reads a JS string as UTF-8 and returns use(data, length): short strings go
// through the stack in one N-API call, long ones through a heap copy.
template <typename F>
auto WithUtf8(const Napi::Value& v, F&& use) {
  char small[256];
  size_t len = 0;
  if (napi_get_value_string_utf8(v.Env(), v, small, sizeof small, &len) != napi_ok)
    throw Napi::Error::New(v.Env(), "cannot read a JS string");
  if (len < sizeof small - 1) return use(small, len);
  std::string big = v.As<Napi::String>().Utf8Value();
  return use(big.data(), big.size());
}

}  // namespace test_rig
