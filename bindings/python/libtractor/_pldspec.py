"""Python type annotations -> the runtime's payload-spec grammar.

The C runtime checks payloads against a small spec language (see the bottom
of core/msg/msg.h)::

    spec := alt ('|' alt)*
    alt  := any | nil | bool | int | float | str | bytes | list | dict
          | '[' spec ']'                       array whose items match spec
          | '{' key ':' spec (',' ...)* '}'    map with these (required) keys

This module translates the Python spelling of such types::

    int | None            -> "int|nil"
    list[str]             -> "[str]"
    dict / dict[str, int] -> "dict"
    typing.Any            -> "any"
    a TypedDict           -> "{name:str,n:int}"

A ``str`` is taken as already written in the runtime's grammar.
"""
from __future__ import annotations

import collections.abc as cabc
import types
import typing

_SCALARS = {
    type(None): "nil", None: "nil", bool: "bool", int: "int", float: "float",
    str: "str", bytes: "bytes", bytearray: "bytes", list: "list", tuple: "list",
    dict: "dict",
}


def _is_typeddict(t) -> bool:
    return isinstance(t, type) and issubclass(t, dict) and hasattr(t, "__annotations__") \
        and hasattr(t, "__total__")


def to_spec(t) -> str:
    """Translate a Python type (or a spec string) into the runtime's grammar.

    >>> to_spec(int | None)
    'int|nil'
    >>> to_spec(list[str])
    '[str]'
    """
    if isinstance(t, str):
        return t
    if t is typing.Any or t is object:
        return "any"
    if t in _SCALARS:
        return _SCALARS[t]
    origin = typing.get_origin(t)
    if origin is typing.Union or origin is types.UnionType:
        parts: list[str] = []
        for a in typing.get_args(t):
            s = to_spec(a)
            if s not in parts:
                parts.append(s)
        return "|".join(parts)
    if origin is typing.Literal:
        return "|".join(dict.fromkeys(to_spec(type(a)) for a in typing.get_args(t)))
    if origin in (list, tuple, cabc.Sequence):
        args = [a for a in typing.get_args(t) if a is not Ellipsis]
        if not args:
            return "list"
        if len(set(args)) == 1:
            return f"[{to_spec(args[0])}]"
        return "[" + "|".join(dict.fromkeys(to_spec(a) for a in args)) + "]"
    if origin in (dict, cabc.Mapping):
        return "dict"
    if _is_typeddict(t):
        hints = typing.get_type_hints(t)
        fields = ",".join(f"{k}:{to_spec(v)}" for k, v in hints.items()
                          if k in getattr(t, "__required_keys__", hints))
        return "{" + fields + "}"
    raise TypeError(f"cannot express {t!r} as a payload spec "
                    "(use None, bool, int, float, str, bytes, list[...], dict, "
                    "a TypedDict, unions of these, or typing.Any)")
