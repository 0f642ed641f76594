"""Arrow columns derived from the record dataclasses, so each field is defined exactly once.

A field's Arrow type follows from its annotation: `str` -> string, `int` -> int32, `float` ->
float64, `bool`, `bytes` -> binary, `X | None` -> nullable X, `list[X]` -> list, `tuple[X, X]` ->
fixed-size list, a record dataclass -> struct. `column(pa.int64())` overrides the width where the
default is wrong. Columns computed from other fields (a page's joined `text`) are properties
marked `@derived(after="field")`: written after that field, never read back.

`to_row` and `from_row` walk the same definitions, so adding a field to a record adds its column
and its conversion; no second list can forget it.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any

import pyarrow as pa

_SCALARS = {
    str: pa.string(),
    int: pa.int32(),
    float: pa.float64(),
    bool: pa.bool_(),
    bytes: pa.binary(),
}


def column(arrow_type: pa.DataType, **field_options: Any) -> Any:
    """A dataclass field whose Arrow type is `arrow_type` instead of the annotation's default."""
    return dataclasses.field(metadata={"arrow": arrow_type}, **field_options)


def derived(after: str):
    """Mark a property as a written-only column placed right after the field `after`."""

    def mark(function):
        function.derived_after = after
        return property(function)

    return mark


def _unwrap_optional(annotation: Any) -> Any:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def arrow_type_of(annotation: Any) -> pa.DataType:
    """The Arrow type for a Python annotation (see the module docstring)."""
    annotation = _unwrap_optional(annotation)
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list:
        return pa.list_(arrow_type_of(args[0]))
    if origin is tuple and args and args[-1] is not Ellipsis:
        return pa.list_(arrow_type_of(args[0]), len(args))
    if dataclasses.is_dataclass(annotation):
        return pa.struct(arrow_fields(annotation))
    raise TypeError(f"no Arrow type for {annotation!r}; give the field column(<arrow type>)")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.cache
def _derived(cls: type) -> dict[str, tuple[str, Any]]:
    """Derived column name -> (the field it follows, its return annotation)."""
    found = {}
    for name in dir(cls):
        attribute = getattr(cls, name, None)
        if isinstance(attribute, property) and hasattr(attribute.fget, "derived_after"):
            hints = typing.get_type_hints(attribute.fget)
            found[name] = (attribute.fget.derived_after, hints["return"])
    return found


@functools.cache
def _layout(cls: type) -> tuple[tuple[str, pa.DataType, bool], ...]:
    """(column name, Arrow type, is derived) in column order."""
    hints = _hints(cls)
    after: dict[str, list[str]] = {}
    for name, (anchor, _) in sorted(_derived(cls).items()):
        after.setdefault(anchor, []).append(name)
    layout = []
    for field in dataclasses.fields(cls):
        arrow = field.metadata.get("arrow") or arrow_type_of(hints[field.name])
        layout.append((field.name, arrow, False))
        for name in after.get(field.name, []):
            layout.append((name, arrow_type_of(_derived(cls)[name][1]), True))
    return tuple(layout)


def arrow_fields(cls: type) -> list[tuple[str, pa.DataType]]:
    """The Arrow fields of a record class, derived columns included, in column order."""
    return [(name, arrow) for name, arrow, _ in _layout(cls)]


def to_row(record: Any) -> dict[str, Any]:
    """A record as a row of plain Python values, nested records as dicts."""
    return {name: _plain(getattr(record, name)) for name, _, _ in _layout(type(record))}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_row(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def from_row(cls: type, row: dict[str, Any]) -> Any:
    """The record of class `cls` from a row; columns an older minor version lacked get defaults."""
    hints = _hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        if field.name not in row:
            continue
        value, annotation = row[field.name], hints[field.name]
        if value is None and _unwrap_optional(annotation) is annotation:
            if (
                field.default is not dataclasses.MISSING
                or field.default_factory is not dataclasses.MISSING
            ):
                continue  # a null in a non-nullable field: the field's default
            values[field.name] = _empty(annotation)
        else:
            values[field.name] = _typed(annotation, value)
    return cls(**values)


def _typed(annotation: Any, value: Any) -> Any:
    if value is None:
        return None
    annotation = _unwrap_optional(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list:
        return [_typed(args[0], v) for v in value]
    if origin is tuple:
        return tuple(_typed(args[0], v) for v in value)
    if dataclasses.is_dataclass(annotation):
        return from_row(annotation, value)
    return value


def _empty(annotation: Any) -> Any:
    """A non-nullable field stored as null (an empty list column): its empty value."""
    origin = typing.get_origin(annotation)
    if origin is list:
        return []
    if dataclasses.is_dataclass(annotation):
        return annotation()
    return None
