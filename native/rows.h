// Packed query results -> Python rows (rows.cc).
#pragma once

#include "python.h"

namespace test_rig {

// unpack_rows(data: bytes, row_type: type, converters: dict) -> list of result sets, each a
// list of row_type dicts. converters maps a MySQL type code to (fn, types, kind, make): kind
// 1 and 2 make ints and floats natively, 3 and 4 plain dates and datetimes with `make`;
// otherwise fn is called on values whose type is in `types`.
PyObject* PyUnpackRows(PyObject*, PyObject* args);

}  // namespace test_rig
