"""The one cattrs converter: camelCase JSON <-> snake_case attrs models.

Configured once at import. Unknown response fields are kept in a model's
`extra_fields` (and given back by `unstructure`), `null` for a field with a
default means the default, unknown enum values pass through as plain strings,
and timestamps become aware UTC datetimes (and Unix seconds again).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal, TypeVar, get_origin

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


def _structure_literal(value: Any, _: Any) -> Any:
    # A newer server may send values this version does not know; they pass through
    # (docs/architecture.md, "Models"), so no membership check.
    return value if isinstance(value, str) else str(value)


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


def _unstructure_datetime(value: datetime) -> int | float:
    # Unix seconds as the API sends them: whole seconds as an int.
    seconds = value.timestamp()
    return int(seconds) if seconds.is_integer() else seconds


converter = cattrs.Converter(forbid_extra_keys=False)
converter.register_structure_hook_func(_is_literal, _structure_literal)
converter.register_structure_hook(datetime, _structure_datetime)
converter.register_structure_hook(datetime | None, _structure_optional_datetime)
converter.register_unstructure_hook(datetime, _unstructure_datetime)


def _camel_overrides(cls: type[Any]) -> dict[str, Any]:
    attrs.resolve_types(cls)
    return {a.name: override(rename=camel(a.name)) for a in attrs.fields(cls) if a.init}


EXTRA_FIELDS = "_extra_fields"  # the slot behind `Model.extra_fields` (model.py)


def keep_extra_fields(cls: type[Any], structure_fn: StructureFn) -> StructureFn:
    """`structure_fn`, keeping the JSON fields `cls` does not know in `extra_fields`.

    For a class without that field (not a `Model`), `structure_fn` itself. The
    check costs one subset test of the keys when every field is known, the
    usual case.
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
    """cattrs' structuring function for `cls`, taking `null` for "not sent" and keeping
    unknown fields.

    A field that has a default gets it when the API sends `null` for it, as when
    the field is missing; a required field still has to be there. Unknown fields
    are kept (`keep_extra_fields`, inlined: this runs for every item of every page).
    """
    structure_fn = make_dict_structure_fn(cls, converter, **_camel_overrides(cls))
    keeps_extra = hasattr(cls, EXTRA_FIELDS)
    known = _known_fields(cls)
    defaulted = frozenset(
        camel(a.name) for a in attrs.fields(cls) if a.init and a.default is not attrs.NOTHING
    )

    def structure_model(data: Any, target: type[Any]) -> Any:
        if type(data) is not dict:
            return structure_fn(data, target)  # raises, saying why
        if None in data.values():
            data = {k: v for k, v in data.items() if v is not None or k not in defaulted}
        obj = structure_fn(data, target)
        if keeps_extra and not data.keys() <= known:
            _set_extra_fields(obj, data, known)
        return obj

    return structure_model


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
