// Query results from their packed form (ts/python/packed-rows.ts writes it)
// straight into Python Row dicts: one buffer crosses the bridge per result, and
// no value costs an N-API call or a node of the value tree.
#include "rows.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

namespace test_rig {

namespace {

// Tags of packed values (packed-rows.ts Tag).
enum Tag : uint8_t { kNull = 0, kNumber = 1, kString = 2, kBytes = 3, kBigInt = 4, kTrue = 5, kFalse = 6 };
// How a column's values are made (the third item of a converter entry, _types.py).
enum Kind : long { kGeneric = 0, kInt = 1, kFloat = 2, kDate = 3, kDateTime = 4 };

constexpr double kMaxSafeInteger = 9007199254740991.0;

struct Reader {
  const unsigned char* p;
  const unsigned char* end;
  bool Need(size_t n) {
    if (static_cast<size_t>(end - p) >= n) return true;
    PyErr_SetString(PyExc_ValueError, "packed rows: truncated buffer");
    return false;
  }
  bool U8(uint8_t* out) {
    if (!Need(1)) return false;
    *out = *p++;
    return true;
  }
  bool U32(uint32_t* out) {
    if (!Need(4)) return false;
    std::memcpy(out, p, 4);  // little-endian on every platform Node runs this addon
    p += 4;
    return true;
  }
  bool F64(double* out) {
    if (!Need(8)) return false;
    std::memcpy(out, p, 8);
    p += 8;
    return true;
  }
  bool Span(const char** data, size_t* len) {
    uint32_t n = 0;
    if (!U32(&n) || !Need(n)) return false;
    *data = reinterpret_cast<const char*>(p);
    *len = n;
    p += n;
    return true;
  }
};

struct Column {
  PyObject* key = nullptr;  // owned, interned
  long kind = kGeneric;
  PyObject* fn = nullptr;     // borrowed from the converters dict
  PyObject* types = nullptr;  // borrowed: the value types fn changes
  PyObject* make = nullptr;   // borrowed: datetime.date or .datetime (kDate, kDateTime)
};

// Reads `n` decimal digits at p[at]; false if any is not a digit.
bool Digits(const char* p, size_t len, size_t at, size_t n, long* out) {
  if (at + n > len) return false;
  long v = 0;
  for (size_t k = at; k < at + n; k++) {
    if (p[k] < '0' || p[k] > '9') return false;
    v = v * 10 + (p[k] - '0');
  }
  *out = v;
  return true;
}

// A tuple of ints, built directly (Py_BuildValue parses its format string on every
// call: a DATETIME column of a big result pays that once per row).
PyObject* IntTuple(std::initializer_list<long> values) {
  PyObject* t = PyTuple_New(static_cast<Py_ssize_t>(values.size()));
  if (t == nullptr) return nullptr;
  Py_ssize_t k = 0;
  for (long v : values) {
    PyObject* n = PyLong_FromLong(v);
    if (n == nullptr) {
      Py_DECREF(t);
      return nullptr;
    }
    PyTuple_SetItem(t, k++, n);  // steals
  }
  return t;
}

// The server's text of a DATE ('YYYY-MM-DD') or DATETIME ('YYYY-MM-DD hh:mm:ss[.f…]')
// made with the column's date/datetime type, or nullptr without an error set when the
// text is not that (a zero date) or the type refuses it: the Python converter decides.
PyObject* DateFromText(const Column& c, const char* p, size_t len) {
  long y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, us = 0;
  if (!Digits(p, len, 0, 4, &y) || p[4] != '-' || !Digits(p, len, 5, 2, &mo) || p[7] != '-' ||
      !Digits(p, len, 8, 2, &d) || y == 0 || mo == 0 || d == 0)
    return nullptr;
  PyObject* args = nullptr;
  if (c.kind == kDate) {
    if (len != 10) return nullptr;
    args = IntTuple({y, mo, d});
  } else {
    if (len < 19 || p[10] != ' ' || !Digits(p, len, 11, 2, &h) || p[13] != ':' || !Digits(p, len, 14, 2, &mi) ||
        p[16] != ':' || !Digits(p, len, 17, 2, &s))
      return nullptr;
    if (len > 19) {
      size_t digits = len - 20;
      if (p[19] != '.' || digits == 0 || digits > 6 || !Digits(p, len, 20, digits, &us)) return nullptr;
      for (size_t k = digits; k < 6; k++) us *= 10;
    }
    args = IntTuple({y, mo, d, h, mi, s, us});
  }
  PyObject* v = args != nullptr ? PyObject_Call(c.make, args, nullptr) : nullptr;
  Py_XDECREF(args);
  if (v == nullptr) PyErr_Clear();
  return v;
}

bool IsExactInteger(double d) {
  return std::trunc(d) == d && std::fabs(d) <= kMaxSafeInteger && !(d == 0 && std::signbit(d));
}

// The value as the unpacked tree used to give it (int, float, str, bytes, bool, None).
PyObject* RawValue(Reader& r, uint8_t tag) {
  const char* data = nullptr;
  size_t len = 0;
  switch (tag) {
    case kNull:
      Py_RETURN_NONE;
    case kTrue:
      Py_RETURN_TRUE;
    case kFalse:
      Py_RETURN_FALSE;
    case kNumber: {
      double d = 0;
      if (!r.F64(&d)) return nullptr;
      return IsExactInteger(d) ? PyLong_FromLongLong(static_cast<long long>(d)) : PyFloat_FromDouble(d);
    }
    case kString:
      if (!r.Span(&data, &len)) return nullptr;
      return PyUnicode_DecodeUTF8(data, static_cast<Py_ssize_t>(len), nullptr);
    case kBytes:
      if (!r.Span(&data, &len)) return nullptr;
      return PyBytes_FromStringAndSize(data, static_cast<Py_ssize_t>(len));
    case kBigInt: {
      if (!r.Span(&data, &len)) return nullptr;
      std::string digits(data, len);
      return PyLong_FromString(digits.c_str(), nullptr, 10);
    }
    default:
      PyErr_Format(PyExc_ValueError, "packed rows: unknown value tag %d", static_cast<int>(tag));
      return nullptr;
  }
}

// One value of column `c`, converted as _types.make_rows converts it.
PyObject* ReadValue(Reader& r, const Column& c) {
  uint8_t tag = 0;
  if (!r.U8(&tag)) return nullptr;
  if (tag == kNull) Py_RETURN_NONE;
  if (tag == kString && c.make != nullptr) {
    const unsigned char* at = r.p;
    const char* data = nullptr;
    size_t len = 0;
    if (!r.Span(&data, &len)) return nullptr;
    if (PyObject* v = DateFromText(c, data, len)) return v;
    r.p = at;  // not a plain date: the converter's way
  }
  if (tag == kNumber && (c.kind == kInt || c.kind == kFloat)) {
    double d = 0;
    if (!r.F64(&d)) return nullptr;
    if (c.kind == kFloat) return PyFloat_FromDouble(d);
    // int(v) of a float truncates, as the Python converter did
    return IsExactInteger(d) ? PyLong_FromLongLong(static_cast<long long>(d)) : PyLong_FromDouble(d);
  }
  PyObject* raw = RawValue(r, tag);
  if (raw == nullptr) return nullptr;
  if (c.kind == kInt && (PyUnicode_Check(raw) || PyFloat_Check(raw))) {
    PyObject* v = PyNumber_Long(raw);
    Py_DECREF(raw);
    return v;
  }
  if (c.kind == kFloat && (PyUnicode_Check(raw) || PyLong_Check(raw))) {
    PyObject* v = PyNumber_Float(raw);
    Py_DECREF(raw);
    return v;
  }
  if (c.fn == nullptr) return raw;
  int changes = PySet_Contains(c.types, reinterpret_cast<PyObject*>(Py_TYPE(raw)));
  if (changes <= 0) {
    if (changes < 0) Py_CLEAR(raw);
    return raw;
  }
  PyObject* v = PyObject_CallFunctionObjArgs(c.fn, raw, nullptr);
  Py_DECREF(raw);
  return v;
}

// decimal.Decimal, once looked up (nullptr if it could not be).
PyObject* g_decimal_type = nullptr;

// Whether the GC may ever need to see `o` (CPython's own rule for dict values, minus
// untracked tuples): a row of such values can never be part of a cycle. Decimal is a GC
// type from 3.13 on (a heap type) but holds no references: a DECIMAL column must not
// leave every row of a big result for the collector to walk.
bool MayHoldReferences(PyObject* o) {
  PyTypeObject* type = Py_TYPE(o);
  return PyType_IS_GC(type) && reinterpret_cast<PyObject*>(type) != g_decimal_type;
}

// One result set: its columns, then its rows as Row dicts.
PyObject* ReadSet(Reader& r, PyObject* row_type, newfunc row_new, PyObject* converters, PyObject* values_name,
                  PyObject* no_args) {
  uint32_t ncols = 0;
  if (!r.U32(&ncols)) return nullptr;
  std::vector<Column> cols(ncols);
  auto release = [&cols] {
    for (auto& c : cols) Py_XDECREF(c.key);
  };
  for (auto& c : cols) {
    uint32_t type = 0;
    const char* data = nullptr;
    size_t len = 0;
    if (!r.U32(&type) || !r.Span(&data, &len)) return release(), nullptr;
    c.key = PyUnicode_DecodeUTF8(data, static_cast<Py_ssize_t>(len), nullptr);
    if (c.key == nullptr) return release(), nullptr;
    PyUnicode_InternInPlace(&c.key);
    PyObject* code = PyLong_FromUnsignedLong(type);
    if (code == nullptr) return release(), nullptr;
    PyObject* entry = PyDict_GetItemWithError(converters, code);  // borrowed
    Py_DECREF(code);
    if (entry == nullptr) {
      if (PyErr_Occurred()) return release(), nullptr;
      continue;
    }
    long kind = PyLong_AsLong(PyTuple_GetItem(entry, 2));
    if (kind == -1 && PyErr_Occurred()) return release(), nullptr;
    c.kind = kind;
    if (kind != kInt && kind != kFloat) {
      c.fn = PyTuple_GetItem(entry, 0);
      c.types = PyTuple_GetItem(entry, 1);
    }
    if (kind == kDate || kind == kDateTime) {
      c.make = PyTuple_GetItem(entry, 3);
      if (c.make == nullptr) return release(), nullptr;
    }
  }
  uint32_t nrows = 0;
  if (!r.U32(&nrows)) return release(), nullptr;
  PyObject* out = PyList_New(nrows);
  if (out == nullptr) return release(), nullptr;
  for (uint32_t i = 0; i < nrows; i++) {
    PyObject* values = PyTuple_New(ncols);
    PyObject* row = values != nullptr ? row_new(reinterpret_cast<PyTypeObject*>(row_type), no_args, nullptr) : nullptr;
    bool plain = true;
    bool ok = row != nullptr;
    for (uint32_t k = 0; ok && k < ncols; k++) {
      PyObject* v = ReadValue(r, cols[k]);
      ok = v != nullptr && PyDict_SetItem(row, cols[k].key, v) == 0;
      if (v == nullptr) break;
      plain = plain && !MayHoldReferences(v);
      PyTuple_SetItem(values, k, v);  // steals
    }
    ok = ok && PyObject_SetAttr(row, values_name, values) == 0;
    if (!ok) {
      Py_XDECREF(values);
      Py_XDECREF(row);
      Py_DECREF(out);
      return release(), nullptr;
    }
    if (plain) {
      // Nothing in it can point back: the collector need not scan the row (big
      // results otherwise trigger collections that walk every row just made).
      PyObject_GC_UnTrack(values);
      PyObject_GC_UnTrack(row);
    }
    Py_DECREF(values);
    PyList_SetItem(out, i, row);  // steals
  }
  release();
  return out;
}

}  // namespace

// unpack_rows(data, row_type, converters) -> [[Row, ...], ...]: every result set.
PyObject* PyUnpackRows(PyObject*, PyObject* args) {
  const char* data = nullptr;
  Py_ssize_t len = 0;
  PyObject* row_type = nullptr;
  PyObject* converters = nullptr;
  if (!PyArg_ParseTuple(args, "y#O!O!", &data, &len, &PyType_Type, &row_type, &PyDict_Type, &converters))
    return nullptr;
  auto row_new = reinterpret_cast<newfunc>(PyType_GetSlot(reinterpret_cast<PyTypeObject*>(row_type), Py_tp_new));
  if (row_new == nullptr) {
    PyErr_SetString(PyExc_TypeError, "unpack_rows: the row type cannot be instantiated");
    return nullptr;
  }
  if (g_decimal_type == nullptr) {
    PyObject* decimal = PyImport_ImportModule("decimal");
    g_decimal_type = decimal != nullptr ? PyObject_GetAttrString(decimal, "Decimal") : nullptr;  // kept for good
    Py_XDECREF(decimal);
    if (g_decimal_type == nullptr) PyErr_Clear();  // rows holding a Decimal then stay tracked: safe, slower
  }
  static PyObject* values_name = PyUnicode_InternFromString("_values");
  static PyObject* no_args = PyTuple_New(0);
  if (values_name == nullptr || no_args == nullptr) return nullptr;
  Reader r{reinterpret_cast<const unsigned char*>(data), reinterpret_cast<const unsigned char*>(data) + len};
  uint32_t nsets = 0;
  if (!r.U32(&nsets)) return nullptr;
  PyObject* sets = PyList_New(nsets);
  if (sets == nullptr) return nullptr;
  for (uint32_t s = 0; s < nsets; s++) {
    PyObject* set = ReadSet(r, row_type, row_new, converters, values_name, no_args);
    if (set == nullptr) {
      Py_DECREF(sets);
      return nullptr;
    }
    PyList_SetItem(sets, s, set);  // steals
  }
  return sets;
}

}  // namespace test_rig
