"""Exact conversion between MySQL wire values and Python types.

TypeScript hands rows over as arrays with each column's MySQL type code; the
values are as exact as the server sent them (BIGINT beyond 2**53 and DECIMAL
as strings, temporal values as the server's text). This module turns them
into ``int``, ``Decimal``, ``date``/``datetime``/``timedelta``, JSON values and
``bytes``, and encodes parameters the other way."""

from __future__ import annotations

import datetime as _dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Dict, FrozenSet, List, Sequence, Tuple

from ._native import native

# MySQL column type codes (include/mysql_com.h).
DECIMAL, TINY, SHORT, LONG, FLOAT, DOUBLE = 0, 1, 2, 3, 4, 5
TIMESTAMP, LONGLONG, INT24, DATE, TIME, DATETIME, YEAR, NEWDATE = 7, 8, 9, 10, 11, 12, 13, 14
TIMESTAMP2, DATETIME2, TIME2 = 17, 18, 19
JSON, NEWDECIMAL = 245, 246


if TYPE_CHECKING:
    _RowBase = Dict[str, Any]
else:
    _RowBase = dict  # a plain dict subclass at run time: make_rows relies on dict.__new__


class Row(_RowBase):
    """A result row keyed by column name (aliases respected).

    For files written against the older API, ``row['col_0']``, ``row['col_1']``
    … also resolve positionally when no column has that name."""

    __slots__ = ("_values",)

    def __init__(self, names: Sequence[str], values: Sequence[Any]) -> None:
        super().__init__(zip(names, values))
        self._values = values

    def _positional(self, key: Any) -> Any:
        if isinstance(key, str) and key.startswith("col_") and key[4:].isdigit():
            index = int(key[4:])
            if index < len(self._values):
                return self._values[index]
        raise KeyError(key)

    def __missing__(self, key: Any) -> Any:
        return self._positional(key)

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self:  # Row has no __contains__ of its own: dict's
            return dict.__getitem__(self, key)
        try:
            return self._positional(key)
        except KeyError:
            return default

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (dict, (dict(self),))


def _to_int(v: Any) -> Any:
    return int(v) if isinstance(v, (str, float)) else v


def _to_float(v: Any) -> Any:
    return float(v) if isinstance(v, (int, str)) else v


def _to_decimal(v: Any) -> Any:
    return Decimal(v) if isinstance(v, (str, int)) else v


def _to_date(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return _dt.date.fromisoformat(v)
        except ValueError:
            return v  # zero dates ('0000-00-00') have no Python equivalent
    return v


def _to_datetime(v: Any) -> Any:
    if isinstance(v, str):
        text = v
        if "." in text:  # fromisoformat before 3.11 wants 3 or 6 fraction digits
            head, frac = text.split(".", 1)
            text = f"{head}.{frac.ljust(6, '0')[:6]}"
        try:
            return _dt.datetime.fromisoformat(text)
        except ValueError:
            return v
    return v


def _to_timedelta(v: Any) -> Any:
    if not isinstance(v, str):
        return v
    negative = v.startswith("-")
    text = v[1:] if negative else v
    hms, _, frac = text.partition(".")
    try:
        hours, minutes, seconds = (int(p) for p in hms.split(":"))
    except ValueError:
        return v
    micros = int(frac.ljust(6, "0")[:6]) if frac else 0
    delta = _dt.timedelta(hours=hours, minutes=minutes, seconds=seconds, microseconds=micros)
    return -delta if negative else delta


def _to_json(v: Any) -> Any:
    if isinstance(v, (str, bytes)):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


# Per column type: the converter, and the Python types of the values it changes
# (anything else, None included, it passes through). A column whose values have
# none of those types is left as it is, without a call per value.
_Converter = Tuple[Callable[[Any], Any], FrozenSet[type]]
_INT: _Converter = (_to_int, frozenset((str, float)))
_FLOAT: _Converter = (_to_float, frozenset((int, str)))
_DECIMAL: _Converter = (_to_decimal, frozenset((str, int)))
_DATE: _Converter = (_to_date, frozenset((str,)))
_DATETIME: _Converter = (_to_datetime, frozenset((str,)))
_CONVERTERS: Dict[int, _Converter] = {
    TINY: _INT,
    SHORT: _INT,
    LONG: _INT,
    INT24: _INT,
    LONGLONG: _INT,
    YEAR: _INT,
    FLOAT: _FLOAT,
    DOUBLE: _FLOAT,
    DECIMAL: _DECIMAL,
    NEWDECIMAL: _DECIMAL,
    DATE: _DATE,
    NEWDATE: _DATE,
    DATETIME: _DATETIME,
    DATETIME2: _DATETIME,
    TIMESTAMP: _DATETIME,
    TIMESTAMP2: _DATETIME,
    TIME: (_to_timedelta, frozenset((str,))),
    TIME2: (_to_timedelta, frozenset((str,))),
    JSON: (_to_json, frozenset((str, bytes))),
}


def make_rows(columns: Sequence[Sequence[Any]], rows: Sequence[Sequence[Any]]) -> List[Dict[str, Any]]:
    """Builds ``Row`` dicts from ``[[name, type], ...]`` and array rows.

    Converts column by column, and only the columns holding values their
    converter changes (INT columns arrive as ints, VARCHAR ones need nothing),
    then fills each Row with dict's own update: per-value and per-row Python
    code is what makes big results slow."""
    names = [c[0] for c in columns]
    converters = [_CONVERTERS.get(c[1]) for c in columns]
    if rows and any(converters):
        by_column: List[Any] = list(zip(*rows))
        changed = False
        for i, converter in enumerate(converters):
            if converter is not None and not converter[1].isdisjoint(map(type, by_column[i])):
                by_column[i] = list(map(converter[0], by_column[i]))
                changed = True
        if changed:
            rows = list(zip(*by_column))
    new = Row.__new__
    update: Callable[..., None] = dict.update  # unbound: one lookup for all rows
    out: List[Dict[str, Any]] = []
    for values in rows:
        row = new(Row)
        update(row, zip(names, values))
        row._values = values
        out.append(row)
    return out


# The same rules for native/rows.cc, which builds rows from a packed result: per column
# type (converter, the types it changes, kind, type made), kind 1 and 2 made natively (int,
# float), 3 and 4 too (date, datetime) when the text is a plain one, else by the converter.
_NATIVE_KIND: Dict[Callable[[Any], Any], Tuple[int, Any]] = {
    _to_int: (1, None),
    _to_float: (2, None),
    _to_date: (3, _dt.date),
    _to_datetime: (4, _dt.datetime),
}
_PACKED_CONVERTERS: Dict[int, Tuple[Callable[[Any], Any], FrozenSet[type], int, Any]] = {
    code: (fn, types, *_NATIVE_KIND.get(fn, (0, None))) for code, (fn, types) in _CONVERTERS.items()
}


def rows_from_packed(data: bytes) -> List[List[Dict[str, Any]]]:
    """Every result set of a packed result (ts/python/packed-rows.ts) as ``Row`` dicts,
    converted as ``make_rows`` converts them, built natively."""
    return native.unpack_rows(data, Row, _PACKED_CONVERTERS)  # type: ignore[no-any-return]


_MAX_SAFE_FLOAT = float(2**53)  # beyond it JS numbers are rendered as DOUBLE literals already


def _literal(kind: str, text: str) -> Dict[str, str]:
    # What TypeScript's SqlLiteral.of(kind, text) is made from (runtime.ts fromPython).
    return {"$sql": kind, "text": text}


def _fraction(micros: int) -> str:
    return f".{micros:06d}" if micros else ""


_AWARE_HINT = (
    "the server's DATETIME has no time zone; convert it to the session's time zone and drop tzinfo,"
    " e.g. value.astimezone(ZoneInfo(zone)).replace(tzinfo=None) (for a UTC session:"
    " value.astimezone(datetime.timezone.utc).replace(tzinfo=None))"
)


def encode_param(v: Any) -> Any:
    """Encodes one parameter for TypeScript's SQL encoder (ts/db/sql-values.ts),
    which renders every value as an exact literal. None, bool, int (any size:
    large ones cross as JS BigInts), float, str and bytes cross as they are;
    Decimal and temporal values as tagged text; dict and list as JSON text; a
    tuple as a list, for ``IN (?)``. Raises TypeError for what has no exact
    SQL form (NaN and infinite Decimals, aware datetimes and times)."""
    if isinstance(v, float) and v.is_integer() and abs(v) <= _MAX_SAFE_FLOAT:
        # a whole float would cross as a JS number TypeScript renders as an integer
        return _literal("double", repr(v))
    if v is None or isinstance(v, (bool, int, str, bytes, float)):
        return v
    if isinstance(v, Decimal):
        if not v.is_finite():
            raise TypeError(f"cannot send Decimal({str(v)!r}) to the database: SQL has no NaN or Infinity (use None for NULL)")
        return _literal("decimal", format(v, "f"))
    if isinstance(v, _dt.datetime):
        if v.utcoffset() is not None:
            raise TypeError(f"cannot send a timezone-aware datetime ({v.isoformat()}): {_AWARE_HINT}")
        day = f"{v.year:04d}-{v.month:02d}-{v.day:02d}"
        return _literal("datetime", f"{day} {v.hour:02d}:{v.minute:02d}:{v.second:02d}{_fraction(v.microsecond)}")
    if isinstance(v, _dt.date):
        return _literal("date", f"{v.year:04d}-{v.month:02d}-{v.day:02d}")
    if isinstance(v, _dt.time):
        if v.utcoffset() is not None:
            raise TypeError(f"cannot send a timezone-aware time ({v.isoformat()}): the server's TIME has no time zone; drop tzinfo")
        return _literal("time", f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}{_fraction(v.microsecond)}")
    if isinstance(v, _dt.timedelta):
        total_us = (v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds
        sign = "-" if total_us < 0 else ""
        secs, micros = divmod(abs(total_us), 1_000_000)
        return _literal("time", f"{sign}{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}{_fraction(micros)}")
    if isinstance(v, (bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    if isinstance(v, tuple):
        return [encode_param(x) for x in v]  # for IN (?) lists
    raise TypeError(
        f"cannot send a {type(v).__name__} to the database; pass None, bool, int, float, Decimal, str, bytes,"
        " date, datetime, time, timedelta, dict or list (JSON), or a tuple (for IN (?))"
    )


def encode_params(params: Any) -> Any:
    """The parameters of one statement, one per ``?``: a list or tuple, or a single value."""
    if params is None:
        return None
    if isinstance(params, dict):
        raise TypeError(
            "params must be a list or tuple with one value per ?, not a dict; to send one JSON value, wrap it: [value]"
        )
    if isinstance(params, (list, tuple)):
        return [encode_param(v) for v in params]
    return [encode_param(params)]
