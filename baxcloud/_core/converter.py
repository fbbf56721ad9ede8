"""The one cattrs converter: camelCase JSON <-> snake_case attrs models.

Configured once at import. Unknown response fields are kept in a model's
`extra_fields` (and given back by `unstructure`), `null` for a field with a
default means the default, unknown enum values pass through as plain strings,
and timestamps become aware UTC datetimes (and Unix seconds again).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import MappingProxyType, NoneType
from typing import Any, Literal, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

__all__ = [
    "EXTRA_FIELDS",
    "StructureFn",
    "camel",
    "converter",
    "keep_extra_fields",
    "structure",
    "unstructure",
]

T = TypeVar("T")
StructureFn = Callable[[Any, Any], Any]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _is_literal(tp: Any) -> bool:
    return get_origin(tp) is Literal


def _structure_datetime(value: Any, _: Any = None) -> datetime:
    if type(value) is int or type(value) is float:  # the usual case, first
        return _fromtimestamp(value, UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected Unix seconds, got {type(value).__name__}")
    return datetime.fromtimestamp(value, tz=UTC)


def _structure_optional_datetime(value: Any, _: Any) -> datetime | None:
    return None if value is None else _structure_datetime(value)


_fromtimestamp = datetime.fromtimestamp


def _structure_str(value: Any, _: Any) -> str:
    # cattrs calls str() on anything: null would become "None" and a list its
    # repr. A number is kept as its text (a server may send an id as one).
    if type(value) is str:
        return value
    if isinstance(value, str):
        # The text itself: str() of a `(str, Enum)` member is "Cls.NAME".
        return str.__str__(value)
    if type(value) is int or type(value) is float:
        return str(value)
    raise TypeError(f"expected a string, got {_json_type(value)}")


def _structure_int(value: Any, _: Any) -> int:
    # cattrs calls int(): 1.7 would silently become 1. A whole float (1.0, as some
    # JSON encoders write counts) is kept; digits in a string are read as cattrs does.
    if type(value) is float and not value.is_integer():
        raise TypeError(f"expected an integer, got {value!r}")
    return int(value)


def _structure_bool(value: Any, _: Any) -> bool:
    # cattrs calls bool() on anything: "false" would be True and null False.
    if type(value) is bool:
        return value
    if type(value) is int and (value == 0 or value == 1):
        return bool(value)
    raise TypeError(f"expected true or false, got {_json_type(value)}")


def _is_tuple(tp: Any) -> bool:
    return tp is tuple or get_origin(tp) is tuple


def _structure_tuple(value: Any, target: Any) -> tuple[Any, ...]:
    # cattrs iterates whatever it gets: "abc" would become ("a", "b", "c") and an
    # object its keys. A JSON array is a list (or a tuple, from `from_dict`).
    if type(value) is not list and type(value) is not tuple:
        raise TypeError(f"expected a list, got {_json_type(value)}")
    result: tuple[Any, ...] = converter._structure_tuple(value, target)
    return result


def _json_type(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _unstructure_datetime(value: datetime) -> int | float:
    # Unix seconds as the API sends them: whole seconds as an int.
    seconds = value.timestamp()
    return int(seconds) if seconds.is_integer() else seconds


converter = cattrs.Converter(forbid_extra_keys=False)
# A `Literal` is a string: a newer server may send values this version does not know,
# and they pass through (docs/architecture.md, "Models"), so no membership check.
converter.register_structure_hook_func(_is_literal, _structure_str)
converter.register_structure_hook(datetime, _structure_datetime)
converter.register_structure_hook(str, _structure_str)
converter.register_structure_hook(bool, _structure_bool)
converter.register_structure_hook(int, _structure_int)
converter.register_structure_hook_func(_is_tuple, _structure_tuple)
converter.register_structure_hook(datetime | None, _structure_optional_datetime)
converter.register_unstructure_hook(datetime, _unstructure_datetime)


def _camel_overrides(cls: type[Any]) -> dict[str, Any]:
    attrs.resolve_types(cls)
    return {a.name: override(rename=camel(a.name)) for a in attrs.fields(cls) if a.init}


EXTRA_FIELDS = "_extra_fields"  # the slot behind `Model.extra_fields` (model.py)


def keep_extra_fields(cls: type[Any], structure_fn: StructureFn) -> StructureFn:
    """`structure_fn`, keeping the JSON fields `cls` does not know in `extra_fields`.

    For a class without that field (not a `Model`), `structure_fn` itself.
    """
    if not hasattr(cls, EXTRA_FIELDS):
        return structure_fn
    known = _known_fields(cls)

    def structure_keeping_extra(data: Any, target: type[Any]) -> Any:
        obj = structure_fn(data, target)
        if not data.keys() <= known:
            _set_extra_fields(obj, data, known)
        return obj

    return structure_keeping_extra


def _known_fields(cls: type[Any]) -> frozenset[str]:
    return frozenset(camel(a.name) for a in attrs.fields(cls) if a.init)


def _set_extra_fields(obj: Any, data: dict[str, Any], known: frozenset[str]) -> None:
    extra = MappingProxyType({k: data[k] for k in data.keys() - known})
    object.__setattr__(obj, EXTRA_FIELDS, extra)  # the model is frozen


def _structure_model_fn(cls: type[Any]) -> StructureFn:
    """The converter's structuring function for `cls`: `_fast_path`, then cattrs' own."""
    return _fast_path(cls, _cattrs_structure_fn(cls))


def _cattrs_structure_fn(cls: type[Any]) -> StructureFn:
    """cattrs' own structuring function for `cls`, which the fast path falls back to.

    A field that has a default gets it when the API sends `null` for it, as when
    the field is missing; a required field still has to be there. Unknown fields
    are kept (`keep_extra_fields`).
    """
    structure_fn = keep_extra_fields(
        cls, make_dict_structure_fn(cls, converter, **_camel_overrides(cls))
    )
    defaulted = frozenset(
        camel(a.name) for a in attrs.fields(cls) if a.init and a.default is not attrs.NOTHING
    )

    def structure_model(data: Any, target: type[Any]) -> Any:
        if type(data) is dict and None in data.values():
            data = {k: v for k, v in data.items() if v is not None or k not in defaulted}
        return structure_fn(data, target)  # raises for what is not a `cls`, saying why

    return structure_model


def _fast_path(cls: type[Any], fallback: StructureFn) -> StructureFn:
    """`fallback`, with a fast path for the usual object: a dict of known fields only.

    Generated from the class's fields, like cattrs' own function, and calling the
    same hooks of the converter (the cheapest ones' usual case written inline, and
    an `X | None` field structured as X when not `null`); a field with a default
    takes it when missing or `null`. For a class whose fields have no validator
    or converter, the object is built by setting its slots directly (what its
    `__init__` does, without the call). Anything unusual (an unknown key, a
    missing field, a hook that raises) is left to `fallback`, which also says
    what is wrong.
    """
    attrs.resolve_types(cls)
    every = attrs.fields(cls)
    fields = [a for a in every if a.init]
    direct = (
        len(fields) == len(every)
        and all(a.validator is None and a.converter is None for a in every)
        and "__slots__" in vars(cls)
        and not hasattr(cls, "__attrs_post_init__")
    )
    names: dict[str, Any] = {
        "cls": cls,
        "fallback": fallback,
        "known": _known_fields(cls),
        "new": object.__new__,
        "fromtimestamp": _fromtimestamp,
        "UTC": UTC,
    }
    values = [_field_value(i, field, names) for i, field in enumerate(fields)]
    if direct:
        for i, field in enumerate(fields):
            names[f"s{i}"] = getattr(cls, field.name).__set__
    # With every field there, one that is missing fails (KeyError), so a dict of as
    # many keys as there are fields has no other key: no need to compare the keys.
    lines = [
        "def structure(o, target):",
        "    if type(o) is not dict:",
        "        return fallback(o, target)",
        f"    if len(o) != {len(fields)}:",
        "        return partial(o, target)",
        *_build(values, direct, complete=True),
    ]
    if any(optional for *_, optional in values):
        lines += [
            "def partial(o, target):",
            "    if not o.keys() <= known:",
            "        return fallback(o, target)",
            "    get = o.get",
            *_build(values, direct, complete=False),
        ]
    else:
        lines += ["partial = fallback"]
    # Everything the functions use is a closure variable: a local-like lookup, not
    # a global one, at no cost per call (keyword defaults are filled in per call).
    source = "\n".join(
        [
            f"def make({', '.join(names)}):",
            *("    " + line for line in lines),
            "    return structure",
        ]
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<baxcloud structure {cls.__qualname__}>", "exec"), namespace)  # noqa: S102
    structure: StructureFn = namespace["make"](**names)
    return structure


def _field_value(
    i: int, field: attrs.Attribute[Any], names: dict[str, Any]
) -> tuple[str, str, str, bool]:
    """(name, JSON key, source of its value from `v`, has a default) for field `i`.

    Binds the names that source uses in `names`.
    """
    tp = field.type
    hook = converter.get_structure_hook(tp)
    inner = _optional_of(tp, hook)
    if inner is not None:
        # `X | None`: structure X here, not through cattrs' union dispatch.
        tp, hook = inner, converter.get_structure_hook(inner)
    names[f"t{i}"] = tp
    names[f"h{i}"] = hook
    value = _inline(i, hook)
    if field.default is attrs.NOTHING:
        if inner is not None:
            value = f"({value}) if v is not None else None"
        return field.name, camel(field.name), value, False
    given: Any = field.default
    if isinstance(given, attrs.Factory):  # type: ignore[arg-type]
        names[f"d{i}"] = given.factory
        default = f"d{i}()"
    else:
        names[f"d{i}"] = given
        default = f"d{i}"
    return field.name, camel(field.name), f"({value}) if v is not None else {default}", True


def _build(values: list[tuple[str, str, str, bool]], direct: bool, *, complete: bool) -> list[str]:
    """The body that builds the object from dict `o`: every key there if `complete`."""
    body = ["    try:"]
    if direct:
        body.append("        obj = new(cls)")
    for i, (_, key, value, optional) in enumerate(values):
        lookup = f"get({key!r})" if optional and not complete else f"o[{key!r}]"
        body.append(f"        v = {lookup}")
        body.append(f"        s{i}(obj, {value})" if direct else f"        f{i} = {value}")
    if direct:
        body.append("        return obj")
    else:
        arguments = ", ".join(f"{name}=f{i}" for i, (name, *_) in enumerate(values))
        body.append(f"        return cls({arguments})")
    body += ["    except Exception:", "        return fallback(o, target)"]
    return body


def _optional_of(tp: Any, hook: StructureFn) -> Any:
    """X, for a field of type `X | None` structured as None or as an X; else None."""
    args = get_args(tp)
    if len(args) != 2 or NoneType not in args:
        return None
    if hook != converter._structure_optional and hook is not _structure_optional_datetime:
        return None  # a hook of its own for the union
    return args[0] if args[1] is NoneType else args[1]


# The hooks that give a value of exactly this type back unchanged.
_GIVES_BACK: dict[StructureFn, str] = {
    _structure_str: "str",
    _structure_int: "int",
    _structure_bool: "bool",
}


def _inline(i: int, hook: StructureFn) -> str:
    """What the hook `h{i}` makes of a non-None `v` of type `t{i}`, as Python source.

    For the converter's cheap hooks, their usual case is inlined: the exact
    result the hook gives, without the call. Anything else goes to the hook.
    """
    if hook == converter._structure_call:
        # `int`, `float`...: cattrs calls the type, which gives a value of that
        # very type back unchanged.
        return f"v if type(v) is t{i} else t{i}(v)"
    exact = _GIVES_BACK.get(hook)
    if exact is not None:
        return f"v if type(v) is {exact} else h{i}(v, t{i})"
    if hook is _structure_datetime:
        return f"fromtimestamp(v, UTC) if type(v) is int or type(v) is float else h{i}(v, t{i})"
    return f"h{i}(v, t{i})"


def _unstructure_model_fn(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    """The API's JSON object for a model, its `extra_fields` included."""
    unstructure_fn = make_dict_unstructure_fn(cls, converter, **_camel_overrides(cls))
    if not hasattr(cls, EXTRA_FIELDS):
        return unstructure_fn

    def unstructure_model(obj: Any) -> dict[str, Any]:
        data: dict[str, Any] = unstructure_fn(obj)
        extra = getattr(obj, EXTRA_FIELDS, None)
        if extra:
            data.update(extra)
        return data

    return unstructure_model


def _unstructure_tuple(value: tuple[Any, ...]) -> list[Any]:
    unstructure_item = converter.unstructure
    return [unstructure_item(item) for item in value]


converter.register_structure_hook_factory(attrs.has, _structure_model_fn)
converter.register_unstructure_hook_factory(attrs.has, _unstructure_model_fn)
converter.register_unstructure_hook(tuple, _unstructure_tuple)


def structure(data: Any, cls: type[T]) -> T:
    return converter.structure(data, cls)


def unstructure(obj: Any) -> Any:
    return converter.unstructure(obj)
