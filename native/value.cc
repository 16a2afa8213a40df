#include "value.h"

#include <cmath>
#include <cstring>
#include <memory>

#include "pyref.h"

namespace test_rig {

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

// Lists and objects nested deeper than this are refused: a cyclic value (an
// object containing itself) or a very deep one would otherwise recurse until
// the native stack overflows and the whole process crashes.
constexpr int kMaxDepth = 1000;
constexpr const char* kTooDeep = "value nested more than 1000 levels deep (does it contain itself?)";

// Short arrays come from one call of a JS function, `(...items) => items`: N-API sets
// each element through V8's generic property path (~80 ns each), a call passes them all
// at once. A 4-item request from Python crossed in 0.54 us instead of 0.99.
constexpr size_t kArrayOfMax = 16;

// Takes back a JS exception a refused call left pending; returns the empty value.
Napi::Value Refused(napi_env env) {
  bool pending = false;
  napi_value ignored;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
  return Napi::Value();
}

// A JS array of `items` (at most kArrayOfMax), or the empty value if JS would not make it
// (the environment is ending): the caller then sets the elements one by one.
Napi::Value ArrayOf(napi_env env, const napi_value* items, size_t n) {
  // The function of one environment (the bridge's JS thread); another one makes its own.
  static napi_env fn_env = nullptr;
  static napi_ref fn_ref = nullptr;
  napi_value fn = nullptr;
  if (fn_env != env || napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == nullptr) {
    napi_value source;
    if (napi_create_string_utf8(env, "((...items) => items)", NAPI_AUTO_LENGTH, &source) != napi_ok ||
        napi_run_script(env, source, &fn) != napi_ok || napi_create_reference(env, fn, 1, &fn_ref) != napi_ok)
      return Refused(env);
    fn_env = env;  // an earlier environment's reference is left: it died with that environment
  }
  napi_value undefined;
  napi_value out;
  if (napi_get_undefined(env, &undefined) != napi_ok ||
      napi_call_function(env, undefined, fn, n, items, &out) != napi_ok)
    return Refused(env);
  return Napi::Value(env, out);
}

// One rule each way, shared by the Value path and the direct one.
// A JS number becomes a Python int when it is an integer JS can hold exactly (not -0).
bool IsExactInteger(double d) {
  return std::trunc(d) == d && std::fabs(d) <= kMaxSafeInteger && !(d == 0 && std::signbit(d));
}
Napi::Error TooDeepForPython(Napi::Env env) {
  return Napi::RangeError::New(env, std::string("cannot pass to Python: ") + kTooDeep);
}
void SetTooDeepForJs() { PyErr_Format(PyExc_RecursionError, "cannot pass to JavaScript: %s", kTooDeep); }

Value ValueFromJsAt(const Napi::Value& v, int depth);
bool ValueFromPyAt(PyObject* o, Value* out, int depth);

// JS BigInt -> Value: int64 when it fits, else decimal digits.
Value BigIntFromJs(Napi::BigInt big) {
  Value out;
  bool lossless = false;
  int64_t small = big.Int64Value(&lossless);
  if (lossless) {
    out.kind = Value::Kind::Int;
    out.i = small;
    return out;
  }
  int sign = 0;
  size_t count = big.WordCount();
  std::vector<uint64_t> words(count);
  big.ToWords(&sign, &count, words.data());
  // Repeated division by 10 over the little-endian 64-bit words.
  std::string digits;
  while (count > 0) {
    unsigned __int128 rem = 0;
    for (size_t k = count; k-- > 0;) {
      unsigned __int128 cur = (rem << 64) | words[k];
      words[k] = static_cast<uint64_t>(cur / 10);
      rem = cur % 10;
    }
    digits.push_back(static_cast<char>('0' + static_cast<int>(rem)));
    while (count > 0 && words[count - 1] == 0) count--;
  }
  if (digits.empty()) digits = "0";
  if (sign) digits.push_back('-');
  out.kind = Value::Kind::BigInt;
  out.str.assign(digits.rbegin(), digits.rend());
  return out;
}

Napi::Value BigIntToJs(Napi::Env env, const std::string& digits) {
  Napi::Function ctor = env.Global().Get("BigInt").As<Napi::Function>();
  return ctor.Call({Napi::String::New(env, digits)});
}

}  // namespace

Value ValueFromJs(const Napi::Value& v) { return ValueFromJsAt(v, 0); }

bool ValueFromPy(PyObject* o, Value* out) { return ValueFromPyAt(o, out, 0); }

namespace {

Value ValueFromJsAt(const Napi::Value& v, int depth) {
  Value out;
  switch (v.Type()) {
    case napi_undefined:
    case napi_null:
      return out;
    case napi_boolean:
      out.kind = Value::Kind::Bool;
      out.b = v.As<Napi::Boolean>().Value();
      return out;
    case napi_number: {
      double d = v.As<Napi::Number>().DoubleValue();
      if (IsExactInteger(d)) {
        out.kind = Value::Kind::Int;
        out.i = static_cast<int64_t>(d);
      } else {
        out.kind = Value::Kind::Double;
        out.d = d;
      }
      return out;
    }
    case napi_bigint:
      return BigIntFromJs(v.As<Napi::BigInt>());
    case napi_string:
      out.kind = Value::Kind::String;
      out.str = v.As<Napi::String>().Utf8Value();
      return out;
    case napi_external: {
      out.obj = SharePyRef(v);
      if (!out.obj) throw Napi::TypeError::New(v.Env(), "cannot pass a foreign external value to Python");
      out.kind = Value::Kind::PyObj;
      return out;
    }
    case napi_object: {
      if (depth >= kMaxDepth) throw TooDeepForPython(v.Env());
      if (v.IsBuffer() || v.IsTypedArray()) {
        Napi::TypedArray ta = v.As<Napi::TypedArray>();
        Napi::ArrayBuffer ab = ta.ArrayBuffer();
        out.kind = Value::Kind::Bytes;
        out.str.assign(static_cast<const char*>(ab.Data()) + ta.ByteOffset(), ta.ByteLength());
        return out;
      }
      if (v.IsArrayBuffer()) {
        Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
        out.kind = Value::Kind::Bytes;
        out.str.assign(static_cast<const char*>(ab.Data()), ab.ByteLength());
        return out;
      }
      if (v.IsArray()) {
        Napi::Array arr = v.As<Napi::Array>();
        uint32_t n = arr.Length();
        out.kind = Value::Kind::List;
        out.items.reserve(n);
        for (uint32_t k = 0; k < n; k++) out.items.push_back(ValueFromJsAt(arr.Get(k), depth + 1));
        return out;
      }
      if (v.IsDate()) {
        throw Napi::TypeError::New(v.Env(), "cannot pass a JS Date to Python: pass an ISO-8601 string");
      }
      Napi::Object obj = v.As<Napi::Object>();
      Napi::Array keys = obj.GetPropertyNames();
      uint32_t n = keys.Length();
      out.kind = Value::Kind::Dict;
      out.dict.reserve(n);
      for (uint32_t k = 0; k < n; k++) {
        Napi::Value key = keys.Get(k);
        out.dict.emplace_back(key.ToString().Utf8Value(), ValueFromJsAt(obj.Get(key), depth + 1));
      }
      return out;
    }
    default:
      throw Napi::TypeError::New(v.Env(), "cannot pass a JS function or symbol to Python");
  }
}

}  // namespace

Napi::Value ValueToJs(Napi::Env env, const Value& v) {
  switch (v.kind) {
    case Value::Kind::Null:
      return env.Null();
    case Value::Kind::Bool:
      return Napi::Boolean::New(env, v.b);
    case Value::Kind::Int:
      if (std::fabs(static_cast<double>(v.i)) <= kMaxSafeInteger)
        return Napi::Number::New(env, static_cast<double>(v.i));
      return Napi::BigInt::New(env, v.i);
    case Value::Kind::BigInt:
      return BigIntToJs(env, v.str);
    case Value::Kind::Double:
      return Napi::Number::New(env, v.d);
    case Value::Kind::String:
      return Napi::String::New(env, v.str);
    case Value::Kind::Bytes:
      return Napi::Buffer<char>::Copy(env, v.str.data(), v.str.size());
    case Value::Kind::List: {
      size_t n = v.items.size();
      if (n > 0 && n <= kArrayOfMax) {
        napi_value items[kArrayOfMax];
        for (size_t k = 0; k < n; k++) items[k] = ValueToJs(env, v.items[k]);
        Napi::Value made = ArrayOf(env, items, n);
        if (!made.IsEmpty()) return made;
      }
      Napi::Array arr = Napi::Array::New(env, v.items.size());
      for (size_t k = 0; k < v.items.size(); k++) arr.Set(static_cast<uint32_t>(k), ValueToJs(env, v.items[k]));
      return arr;
    }
    case Value::Kind::Dict: {
      Napi::Object obj = Napi::Object::New(env);
      // Napi::String::New takes the length: a key with a NUL in it is not cut short
      for (const auto& kv : v.dict) obj.Set(Napi::String::New(env, kv.first), ValueToJs(env, kv.second));
      return obj;
    }
    case Value::Kind::PyObj:
      return WrapPyRef(env, v.obj);
  }
  return env.Null();
}

namespace {

bool ValueFromPyAt(PyObject* o, Value* out, int depth) {
  if (o == Py_None) {
    out->kind = Value::Kind::Null;
    return true;
  }
  if (PyBool_Check(o)) {
    out->kind = Value::Kind::Bool;
    out->b = (o == Py_True);
    return true;
  }
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow == 0) {
      if (n == -1 && PyErr_Occurred()) return false;
      out->kind = Value::Kind::Int;
      out->i = n;
      return true;
    }
    PyObject* s = PyObject_Str(o);
    if (s == nullptr) return false;
    Py_ssize_t len = 0;
    const char* p = PyUnicode_AsUTF8AndSize(s, &len);
    if (p == nullptr) {
      Py_DECREF(s);
      return false;
    }
    out->kind = Value::Kind::BigInt;
    out->str.assign(p, static_cast<size_t>(len));
    Py_DECREF(s);
    return true;
  }
  if (PyFloat_Check(o)) {
    out->kind = Value::Kind::Double;
    out->d = PyFloat_AsDouble(o);
    return true;
  }
  if (PyUnicode_Check(o)) {
    Py_ssize_t len = 0;
    const char* p = PyUnicode_AsUTF8AndSize(o, &len);
    if (p == nullptr) return false;
    out->kind = Value::Kind::String;
    out->str.assign(p, static_cast<size_t>(len));
    return true;
  }
  if (PyBytes_Check(o)) {
    char* p = nullptr;
    Py_ssize_t len = 0;
    if (PyBytes_AsStringAndSize(o, &p, &len) < 0) return false;
    out->kind = Value::Kind::Bytes;
    out->str.assign(p, static_cast<size_t>(len));
    return true;
  }
  if (PyByteArray_Check(o)) {
    out->kind = Value::Kind::Bytes;
    out->str.assign(PyByteArray_AsString(o), static_cast<size_t>(PyByteArray_Size(o)));
    return true;
  }
  if ((PyList_Check(o) || PyTuple_Check(o) || PyDict_Check(o)) && depth >= kMaxDepth) {
    SetTooDeepForJs();
    return false;
  }
  if (PyList_Check(o) || PyTuple_Check(o)) {
    bool is_list = PyList_Check(o);
    Py_ssize_t n = is_list ? PyList_Size(o) : PyTuple_Size(o);
    out->kind = Value::Kind::List;
    out->items.resize(static_cast<size_t>(n));
    for (Py_ssize_t k = 0; k < n; k++) {
      PyObject* item = is_list ? PyList_GetItem(o, k) : PyTuple_GetItem(o, k);  // borrowed
      if (!ValueFromPyAt(item, &out->items[static_cast<size_t>(k)], depth + 1)) return false;
    }
    return true;
  }
  if (PyDict_Check(o)) {
    out->kind = Value::Kind::Dict;
    PyObject* key = nullptr;
    PyObject* val = nullptr;
    Py_ssize_t pos = 0;
    while (PyDict_Next(o, &pos, &key, &val)) {
      PyObject* ks = PyUnicode_Check(key) ? (Py_INCREF(key), key) : PyObject_Str(key);
      if (ks == nullptr) return false;
      Py_ssize_t len = 0;
      const char* p = PyUnicode_AsUTF8AndSize(ks, &len);
      if (p == nullptr) {
        Py_DECREF(ks);
        return false;
      }
      out->dict.emplace_back(std::string(p, static_cast<size_t>(len)), Value());
      Py_DECREF(ks);
      if (!ValueFromPyAt(val, &out->dict.back().second, depth + 1)) return false;
    }
    return true;
  }
  // Any other object crosses as an opaque handle (a class, a handler, a
  // coroutine): JS can hold it and pass it back, but not look inside.
  Py_INCREF(o);
  out->kind = Value::Kind::PyObj;
  out->obj = SharePyObject(o);
  return true;
}

}  // namespace

PyObject* ValueToPy(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Null:
      Py_RETURN_NONE;
    case Value::Kind::Bool:
      return PyBool_FromLong(v.b ? 1 : 0);
    case Value::Kind::Int:
      return PyLong_FromLongLong(v.i);
    case Value::Kind::BigInt:
      return PyLong_FromString(v.str.c_str(), nullptr, 10);
    case Value::Kind::Double:
      return PyFloat_FromDouble(v.d);
    case Value::Kind::String:
      return PyUnicode_FromStringAndSize(v.str.data(), static_cast<Py_ssize_t>(v.str.size()));
    case Value::Kind::Bytes:
      return PyBytes_FromStringAndSize(v.str.data(), static_cast<Py_ssize_t>(v.str.size()));
    case Value::Kind::List: {
      PyObject* list = PyList_New(static_cast<Py_ssize_t>(v.items.size()));
      if (list == nullptr) return nullptr;
      for (size_t k = 0; k < v.items.size(); k++) {
        PyObject* item = ValueToPy(v.items[k]);
        if (item == nullptr) {
          Py_DECREF(list);
          return nullptr;
        }
        PyList_SetItem(list, static_cast<Py_ssize_t>(k), item);  // steals
      }
      return list;
    }
    case Value::Kind::Dict: {
      PyObject* dict = PyDict_New();
      if (dict == nullptr) return nullptr;
      for (const auto& kv : v.dict) {
        PyObject* item = ValueToPy(kv.second);
        // the key with its length: a NUL in it must not cut it short
        PyObject* key = item != nullptr
                            ? PyUnicode_FromStringAndSize(kv.first.data(), static_cast<Py_ssize_t>(kv.first.size()))
                            : nullptr;
        if (key == nullptr || PyDict_SetItem(dict, key, item) < 0) {
          Py_XDECREF(key);
          Py_XDECREF(item);
          Py_DECREF(dict);
          return nullptr;
        }
        Py_DECREF(key);
        Py_DECREF(item);
      }
      return dict;
    }
    case Value::Kind::PyObj:
      Py_INCREF(v.obj.get());
      return v.obj.get();
  }
  Py_RETURN_NONE;
}

// ---- direct conversions (JS thread, GIL held) ----------------------------------

namespace {

struct PyDecref {
  void operator()(PyObject* o) const { Py_XDECREF(o); }
};
using PyOwned = std::unique_ptr<PyObject, PyDecref>;

PyObject* PyFromJsAt(const Napi::Value& v, int depth);

PyObject* PyStringFromJs(const Napi::Value& v) {
  return WithUtf8(v,
                  [](const char* p, size_t n) { return PyUnicode_FromStringAndSize(p, static_cast<Py_ssize_t>(n)); });
}

PyObject* Checked(Napi::Env env, PyObject* o) {
  if (o == nullptr) {
    PyErr_Clear();
    throw Napi::Error::New(env, "cannot pass this value to Python (out of memory?)");
  }
  return o;
}

PyObject* PyFromJsAt(const Napi::Value& v, int depth) {
  Napi::Env env = v.Env();
  switch (v.Type()) {
    case napi_undefined:
    case napi_null:
      Py_RETURN_NONE;
    case napi_boolean:
      return PyBool_FromLong(v.As<Napi::Boolean>().Value() ? 1 : 0);
    case napi_number: {
      double d = v.As<Napi::Number>().DoubleValue();
      if (IsExactInteger(d)) return Checked(env, PyLong_FromLongLong(static_cast<long long>(d)));
      return Checked(env, PyFloat_FromDouble(d));
    }
    case napi_string:
      return Checked(env, PyStringFromJs(v));
    case napi_external: {
      PyObject* obj = UnwrapPyRef(v);
      if (obj == nullptr) throw Napi::TypeError::New(env, "cannot pass a foreign external value to Python");
      Py_INCREF(obj);
      return obj;
    }
    case napi_bigint:
      return Checked(env, ValueToPy(BigIntFromJs(v.As<Napi::BigInt>())));
    case napi_object: {
      if (depth >= kMaxDepth) throw TooDeepForPython(env);
      if (v.IsArray()) {
        Napi::Array arr = v.As<Napi::Array>();
        uint32_t n = arr.Length();
        PyOwned list(Checked(env, PyList_New(n)));
        for (uint32_t k = 0; k < n; k++) PyList_SetItem(list.get(), k, PyFromJsAt(arr.Get(k), depth + 1));
        return list.release();
      }
      if (v.IsTypedArray()) {
        // One copy, straight into bytes: a packed query result crosses here (packed-rows.ts).
        Napi::TypedArray ta = v.As<Napi::TypedArray>();
        const char* data = static_cast<const char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
        return Checked(env, PyBytes_FromStringAndSize(data, static_cast<Py_ssize_t>(ta.ByteLength())));
      }
      if (v.IsArrayBuffer() || v.IsDate()) {
        return Checked(env, ValueToPy(ValueFromJs(v)));  // rare: one rule for bytes and dates
      }
      Napi::Object obj = v.As<Napi::Object>();
      Napi::Array keys = obj.GetPropertyNames();
      uint32_t n = keys.Length();
      PyOwned dict(Checked(env, PyDict_New()));
      for (uint32_t k = 0; k < n; k++) {
        Napi::Value key = keys.Get(k);
        PyOwned pykey(Checked(env, PyStringFromJs(key.ToString())));
        PyOwned pyval(PyFromJsAt(obj.Get(key), depth + 1));
        if (PyDict_SetItem(dict.get(), pykey.get(), pyval.get()) < 0) Checked(env, nullptr);
      }
      return dict.release();
    }
    default:
      throw Napi::TypeError::New(env, "cannot pass a JS function or symbol to Python");
  }
}

// V8 copies ASCII straight in as Latin-1; UTF-8 has to be decoded. State names,
// column names and most values are ASCII.
Napi::Value JsStringFromUtf8(Napi::Env env, const char* p, size_t len) {
  bool ascii = true;
  for (size_t k = 0; k < len && ascii; k++) ascii = static_cast<unsigned char>(p[k]) < 0x80;
  napi_value out;
  napi_status st = ascii ? napi_create_string_latin1(env, p, len, &out) : napi_create_string_utf8(env, p, len, &out);
  NAPI_THROW_IF_FAILED(env, st, Napi::Value());
  return Napi::Value(env, out);
}

Napi::Value JsFromPyAt(Napi::Env env, PyObject* o, int depth) {
  if (o == Py_None) return env.Null();
  if (PyBool_Check(o)) return Napi::Boolean::New(env, o == Py_True);
  if (PyUnicode_Check(o)) {
    Py_ssize_t len = 0;
    const char* p = PyUnicode_AsUTF8AndSize(o, &len);
    if (p == nullptr) return Napi::Value();
    return JsStringFromUtf8(env, p, static_cast<size_t>(len));
  }
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow == 0 && !(n == -1 && PyErr_Occurred()) && std::fabs(static_cast<double>(n)) <= kMaxSafeInteger)
      return Napi::Number::New(env, static_cast<double>(n));
  }
  bool is_list = PyList_Check(o);
  bool is_seq = is_list || PyTuple_Check(o);
  if ((is_seq || PyDict_Check(o)) && depth >= kMaxDepth) {
    SetTooDeepForJs();
    return Napi::Value();
  }
  if (is_seq) {
    Py_ssize_t n = is_list ? PyList_Size(o) : PyTuple_Size(o);
    if (n > 0 && static_cast<size_t>(n) <= kArrayOfMax) {
      napi_value items[kArrayOfMax];
      for (Py_ssize_t k = 0; k < n; k++) {
        Napi::Value item = JsFromPyAt(env, is_list ? PyList_GetItem(o, k) : PyTuple_GetItem(o, k), depth + 1);
        if (item.IsEmpty()) return item;
        items[k] = item;
      }
      Napi::Value made = ArrayOf(env, items, static_cast<size_t>(n));
      if (!made.IsEmpty()) return made;
    }
    Napi::Array arr = Napi::Array::New(env, static_cast<size_t>(n));
    for (Py_ssize_t k = 0; k < n; k++) {
      Napi::Value item = JsFromPyAt(env, is_list ? PyList_GetItem(o, k) : PyTuple_GetItem(o, k), depth + 1);
      if (item.IsEmpty()) return item;
      arr.Set(static_cast<uint32_t>(k), item);
    }
    return arr;
  }
  if (PyDict_Check(o)) {
    Napi::Object obj = Napi::Object::New(env);
    PyObject* key = nullptr;
    PyObject* val = nullptr;
    Py_ssize_t pos = 0;
    while (PyDict_Next(o, &pos, &key, &val)) {
      PyOwned ks(PyUnicode_Check(key) ? (Py_INCREF(key), key) : PyObject_Str(key));
      if (!ks) return Napi::Value();
      Napi::Value jkey = JsFromPyAt(env, ks.get(), depth + 1);
      Napi::Value jval = jkey.IsEmpty() ? jkey : JsFromPyAt(env, val, depth + 1);
      if (jval.IsEmpty()) return jval;
      obj.Set(jkey, jval);
    }
    return obj;
  }
  // Everything else (big ints, floats, bytes, handles) by the Value rules.
  Value out;
  if (!ValueFromPy(o, &out)) return Napi::Value();
  return ValueToJs(env, out);
}

}  // namespace

PyObject* PyFromJs(const Napi::Value& v) { return PyFromJsAt(v, 0); }

Napi::Value JsFromPy(Napi::Env env, PyObject* o) { return JsFromPyAt(env, o, 0); }

}  // namespace test_rig
