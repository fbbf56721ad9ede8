"""The converter's generated fast path gives exactly what cattrs' own function gives.

The fast path writes the usual case of some hooks inline (`str`/`int`/`float`/
`bool` values of their own type, `str` for a `Literal`, Unix seconds for a
datetime, `X | None`) and leaves everything else to cattrs' function; whatever
the input, both must give the same model (same types, same values) or the same
error.
"""

from __future__ import annotations

import copy
import enum
import math
import typing
from datetime import UTC, datetime
from typing import Any, Literal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import baxcloud
from baxcloud import Recording, Room, Track
from baxcloud._core.converter import EXTRA_FIELDS, _cattrs_structure_fn, camel, converter
from baxcloud._core.model import Model
from baxcloud.webhooks import EVENT_TYPES, UnknownWebhookEvent

Kind = Literal["audio", "video"]


@attrs.frozen(kw_only=True)
class Inner(Model):
    name: str
    size: int | None = None


@attrs.frozen(kw_only=True)
class Sample(Model):
    """One field of every shape the fast path writes differently."""

    text: str
    maybe_text: str | None  # `X | None` without a default: null is None
    kind: Kind
    at: datetime
    count: int | None = None
    ratio: float | None = None
    flag: bool | None = None
    maybe_kind: Kind | None = None
    maybe_at: datetime | None = None
    names: tuple[str, ...] | None = None
    inner: Inner | None = None
    items: tuple[Inner, ...] = ()
    number: int = 7


@attrs.frozen(kw_only=True)
class Checked(Model):
    """Built through its `__init__` (a validator), not slot by slot."""

    kind: Kind | None = attrs.field(default=None, validator=attrs.validators.instance_of(str))
    at: datetime | None = None


class Text(str):
    pass


class Number(int):
    pass


def reachable_models() -> list[type[Any]]:
    """Every model class of the SDK, nested ones included, and the two above."""
    roots = [getattr(baxcloud, name) for name in baxcloud.__all__ if name != "webhooks"]
    todo = [c for c in roots if isinstance(c, type) and attrs.has(c)]
    todo += [*EVENT_TYPES.values(), UnknownWebhookEvent, Sample, Checked]
    seen: dict[type[Any], None] = {}
    while todo:
        tp = todo.pop()
        if isinstance(tp, type) and attrs.has(tp):
            if tp in seen:
                continue
            seen[tp] = None
            attrs.resolve_types(tp)
            todo += [a.type for a in attrs.fields(tp)]
        else:
            todo += typing.get_args(tp)
    assert len(seen) > 50
    return sorted(seen, key=lambda cls: cls.__qualname__)


MODELS = reachable_models()

odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=4),
    st.builds(Text, st.text(max_size=3)),
    st.builds(Number, st.integers(-5, 5)),
    st.datetimes(timezones=st.none() | st.just(UTC)),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


def values_for(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values the API would send for a field of type `tp`, sometimes odd ones."""
    usual = _usual_values(tp, depth)
    return st.one_of(usual, usual, usual, odd_values)


def _usual_values(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    args = typing.get_args(tp)
    if isinstance(tp, type) and attrs.has(tp):
        return documents(tp, depth + 1) if depth < 2 else st.just({})
    if typing.get_origin(tp) is Literal:
        return st.sampled_from(args)
    if type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return st.none() | values_for(inner, depth)
    if typing.get_origin(tp) is tuple:
        return st.lists(values_for(args[0], depth), max_size=2)
    if tp is datetime:
        return st.integers(0, 4_000_000_000) | st.floats(0, 4e9)
    if tp in (str, int, float, bool):
        return st.from_type(tp)
    return odd_values


def documents(cls: type[Any], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object for `cls`: values usual or odd, optional fields or not, maybe unknown keys.

    A required field missing is rare enough not to need drawing (and tested below).
    """
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for a in attrs.fields(cls):
        if a.init:
            chosen = required if a.default is attrs.NOTHING else optional
            chosen[camel(a.name)] = values_for(a.type, depth)
    return st.fixed_dictionaries(required, optional={**optional, "future": odd_values})


def outcome(structure: Any, data: Any, cls: type[Any]) -> tuple[Any, ...]:
    before = copy.deepcopy(data)
    result: tuple[Any, ...]
    try:
        result = ("ok", structure(data, cls))
    except Exception as exc:  # what cattrs raises, compared below
        result = ("error", type(exc), str(exc))
    assert data == before  # the input is left as it was
    return result


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 is not 1.0, str is not Text)."""
    if type(a) is not type(b):
        return False
    if attrs.has(type(a)):
        names = [f.name for f in attrs.fields(type(a))]
        values = [getattr(a, n) for n in names], [getattr(b, n) for n in names]
        extra = dict(getattr(a, EXTRA_FIELDS, {})), dict(getattr(b, EXTRA_FIELDS, {}))
        return same(*values) and same(*extra)
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, datetime):
        return bool(a == b and a.tzinfo == b.tzinfo)
    return bool(a == b)


def assert_same_outcome(cls: type[Any], data: Any) -> tuple[Any, ...]:
    fast = outcome(converter.get_structure_hook(cls), data, cls)
    reference = outcome(_cattrs_structure_fn(cls), data, cls)
    assert same(fast, reference), (fast, reference)
    return fast


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_the_fast_path_gives_what_cattrs_gives_for_every_model(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(MODELS))
    assert_same_outcome(cls, data.draw(documents(cls)))


@settings(max_examples=300, deadline=None)
@given(documents(Sample))
def test_the_fast_path_gives_what_cattrs_gives_for_every_field_shape(data: Any) -> None:
    assert_same_outcome(Sample, data)


@settings(max_examples=100, deadline=None)
@given(documents(Checked))
def test_a_model_with_a_validator_too(data: Any) -> None:
    assert_same_outcome(Checked, data)


REQUIRED = {"text": "t", "maybeText": None, "kind": "video", "at": 0}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("maybeText", 5, "5"),  # an int for a `str | None`: str(5), as cattrs does
        ("maybeText", Text("x"), "x"),
        ("count", "12", 12),
        ("count", 3.0, 3),  # a whole float is a count written by a float-minded encoder
        ("count", True, 1),
        ("flag", 0, False),
        ("ratio", 2, 2.0),
        ("kind", 3, "3"),  # a non-string for a `Literal`: its str()
        ("kind", "new-kind", "new-kind"),  # unknown values pass through
        ("maybeKind", 1.5, "1.5"),
        ("at", 1.5, datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)),
        ("at", Number(2), datetime(1970, 1, 1, 0, 0, 2, tzinfo=UTC)),
        ("at", datetime(2020, 1, 1), datetime(2020, 1, 1, tzinfo=UTC)),
        ("maybeAt", 60, datetime(1970, 1, 1, 0, 1, tzinfo=UTC)),
        ("maybeAt", None, None),
        ("text", 1.5, "1.5"),
        ("flag", 1, True),
    ],
)
def test_unusual_values_are_converted_as_cattrs_converts_them(
    field: str, value: Any, expected: Any
) -> None:
    outcome = assert_same_outcome(Sample, {**REQUIRED, field: value})
    assert outcome[0] == "ok"
    (name,) = [a.name for a in attrs.fields(Sample) if camel(a.name) == field]
    assert same(getattr(outcome[1], name), expected)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("at", True),  # a bool is not Unix seconds
        ("at", "1764460800"),
        ("at", float("nan")),
        ("at", 10**20),
        ("maybeAt", False),
        ("count", "many"),
        # cattrs would call str() or bool() on these; the converter refuses them.
        ("text", None),
        ("text", True),
        ("text", [1]),
        ("text", {"a": 1}),
        ("maybeText", ["x"]),
        ("names", ["a", None]),
        ("count", 1.7),  # int() would drop the fraction
        ("count", float("inf")),
        ("names", "abc"),  # cattrs would make ("a", "b", "c") of it
        ("names", {"a": 1}),
        ("items", "x"),
        ("flag", "false"),
        ("flag", 2),
        ("flag", 0.0),
    ],
)
def test_what_cattrs_refuses_the_fast_path_refuses_the_same_way(field: str, value: Any) -> None:
    outcome = assert_same_outcome(Sample, {**REQUIRED, field: value})
    assert outcome[0] == "error"


def test_a_required_optional_field_may_be_null_but_not_missing() -> None:
    assert Sample.from_dict({**REQUIRED, "maybeText": None}).maybe_text is None
    missing = {k: v for k, v in REQUIRED.items() if k != "maybeText"}
    assert assert_same_outcome(Sample, missing)[0] == "error"
    with pytest.raises(ValueError, match="maybe_text"):
        Sample.from_dict(missing)


def test_a_dict_with_as_many_keys_as_fields_may_still_hold_an_unknown_one() -> None:
    # Every field there (the check is by count), nulls among them.
    assert assert_same_outcome(Inner, {"name": "a", "size": None})[1] == Inner(name="a")
    # As many keys, but one unknown in place of a missing field.
    result = assert_same_outcome(Inner, {"name": "a", "other": 1})[1]
    assert result == Inner(name="a")
    assert result.extra_fields == {"other": 1}
    # All fields required: a missing one fails, an unknown one is kept.
    event = EVENT_TYPES["live.ended"]
    data = {"ingressId": "i"}
    body = {"id": "e", "event": "live.ended", "createdAt": 1, "data": data}
    assert assert_same_outcome(event, body)[0] == "error"
    data["roomName"] = "r"
    assert assert_same_outcome(event, {**body, "x": 1})[1].extra_fields == {"x": 1}


@pytest.mark.parametrize("value", [None, True, ["completed"], {"a": 1}])
def test_a_string_enum_field_refuses_what_a_string_field_refuses(value: Any) -> None:
    # A Literal field (status, mode, fileType...) is a string field in openapi.json:
    # null must not become "None" there either.
    data = {"id": "r", "egressId": "e", "roomName": "n", "status": value, "createdAt": 1}
    with pytest.raises(ValueError, match="status"):
        Recording.from_dict(data)


def test_a_str_enum_member_structures_as_its_value() -> None:
    # str() of a `(str, Enum)` member is "Kind.VIDEO", not "video" (as cattrs did).
    class Kind(str, enum.Enum):  # noqa: UP042 (the case under test)
        VIDEO = "video"

    assert Room.from_dict({"sid": Kind.VIDEO, "name": "x"}).sid == "video"
    assert Track.from_dict({"sid": "s", "kind": Kind.VIDEO}).kind == "video"
