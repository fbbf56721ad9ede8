"""The one cattrs converter: camelCase JSON <-> snake_case attrs models.

Configured once at import. Unknown response fields are ignored, `null` for a
field with a default means the default, unknown enum
values pass through as plain strings, and timestamps become aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

__all__ = ["camel", "converter", "structure", "unstructure"]

T = TypeVar("T")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _is_literal(tp: Any) -> bool:
    return get_origin(tp) is Literal


def _structure_literal(value: Any, _: Any) -> Any:
    # A newer server may send values this version does not know; they pass through
    # (docs/architecture.md, "Models"), so no membership check.
    return value if isinstance(value, str) else str(value)


def _structure_datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected Unix seconds, got {type(value).__name__}")
    return datetime.fromtimestamp(value, tz=UTC)


def _unstructure_datetime(value: datetime) -> int:
    return int(value.timestamp())


converter = cattrs.Converter(forbid_extra_keys=False)
converter.register_structure_hook_func(_is_literal, _structure_literal)
converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(datetime, _unstructure_datetime)


def _camel_overrides(cls: type[Any]) -> dict[str, Any]:
    attrs.resolve_types(cls)
    return {a.name: override(rename=camel(a.name)) for a in attrs.fields(cls)}


def _structure_model_fn(cls: type[Any]) -> Any:
    """cattrs' structuring function for `cls`, taking `null` for "not sent".

    A field that has a default gets it when the API sends `null` for it, as when
    the field is missing; a required field still has to be there.
    """
    structure_fn = make_dict_structure_fn(cls, converter, **_camel_overrides(cls))
    defaulted = frozenset(
        camel(a.name) for a in attrs.fields(cls) if a.default is not attrs.NOTHING
    )
    if not defaulted:
        return structure_fn

    def structure_model(data: Any, target: type[Any]) -> Any:
        if isinstance(data, dict) and None in data.values():
            data = {k: v for k, v in data.items() if v is not None or k not in defaulted}
        return structure_fn(data, target)

    return structure_model


converter.register_structure_hook_factory(attrs.has, _structure_model_fn)
converter.register_unstructure_hook_factory(
    attrs.has, lambda cls: make_dict_unstructure_fn(cls, converter, **_camel_overrides(cls))
)


def structure(data: Any, cls: type[T]) -> T:
    return converter.structure(data, cls)


def unstructure(obj: Any) -> Any:
    return converter.unstructure(obj)
