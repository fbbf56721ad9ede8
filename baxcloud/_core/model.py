"""`Model`: the base of every model, with its dict and JSON forms (docs/models.md).

`to_dict()` gives the API's own JSON object (camelCase names, Unix seconds,
lists), including the fields this version does not know, which structuring
keeps in `extra_fields`; `from_dict()` builds a model back from such an
object. Both go through the one converter (`converter.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs
import cattrs

from .converter import EXTRA_FIELDS, converter

if TYPE_CHECKING:
    from typing import Self

__all__ = ["NO_EXTRA_FIELDS", "Model"]

NO_EXTRA_FIELDS: Mapping[str, Any] = MappingProxyType({})


class Model:
    """Base of the SDK's models (frozen, slotted, keyword-only attrs classes).

    The fields this version does not know are not attrs fields: `attrs.fields`,
    `attrs.asdict`, `==`, `hash()` and `repr()` see only the known ones. repr()
    must not show them anyway: an unknown field might be a secret this version
    does not know to hide.
    """

    __slots__ = (EXTRA_FIELDS,)

    @property
    def extra_fields(self) -> Mapping[str, Any]:
        """The fields of the API's JSON object this SDK version does not know, as sent."""
        return getattr(self, EXTRA_FIELDS, NO_EXTRA_FIELDS)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and copy: attrs' own state of a slotted class has only its fields.
        cls = type(self)
        known = {a.name: getattr(self, a.name) for a in attrs.fields(cls) if a.init}  # type: ignore[arg-type]
        return _rebuild, (cls, known, dict(self.extra_fields))

    def to_dict(self) -> dict[str, Any]:
        """The API's JSON object for this model: camelCase names, JSON types.

        Datetimes are Unix seconds, tuples are lists, nested models are objects,
        and the fields in `extra_fields` are included as they were received.
        """
        data: dict[str, Any] = converter.unstructure(self)
        return data

    def to_json(self, *, indent: int | None = None) -> str:
        """`to_dict()` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build the model from the API's JSON object (as `to_dict()` returns it).

        Unknown fields go to `extra_fields`.

        Raises:
            TypeError: `data` is not a mapping.
            ValueError: a required field is missing or a value has the wrong type.
        """
        if not isinstance(data, Mapping):
            what = type(data).__name__
            raise TypeError(f"{cls.__name__}.from_dict() takes a mapping, not {what}")
        try:
            return converter.structure(dict(data), cls)
        except cattrs.BaseValidationError as exc:
            problems = "; ".join(cattrs.transform_error(exc, path="$"))
            raise ValueError(f"not a valid {cls.__name__}: {problems}") from None


def _rebuild(cls: type[Model], known: dict[str, Any], extra: dict[str, Any]) -> Model:
    obj = cls(**known)
    if extra:
        object.__setattr__(obj, EXTRA_FIELDS, MappingProxyType(extra))
    return obj
