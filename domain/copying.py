"""A fast deep copy of an aggregate, for the event store's aggregate cache.

The store hands out a deep copy of a cached aggregate (DEEPCOPY_FROM_AGGREGATE_CACHE), so a
command that changes its copy and then fails leaves the cache as it was. `copy.deepcopy` spent
most of a cached load rebuilding values that never change (every UUID and datetime goes through
`__reduce_ex__`) and keeping a memo: half of a chat message's append and two thirds of the
worker's prompt query (bench/overhead). An aggregate's state is a tree of containers,
dataclasses and immutable values, and `copied` copies exactly that: every list, dict, set and
dataclass anew, every immutable value shared. A mutable object referenced from two places in
one aggregate would become two copies: aggregates here keep no such aliases.
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Self, TypeVar
from uuid import UUID

T = TypeVar("T")

_SHARED = frozenset(
    {str, bytes, int, float, bool, complex, type(None), UUID, datetime, date, time, timedelta}
    | {Decimal, frozenset, range}
)


def copied(value: T) -> T:
    """A deep copy of a tree of plain values; anything else goes to `copy.deepcopy`."""
    kind = type(value)
    result: Any
    if kind in _SHARED or isinstance(value, Enum):
        return value
    if kind is list:
        result = [copied(v) for v in value]  # type: ignore[attr-defined]
    elif kind is dict:
        result = {k: copied(v) for k, v in value.items()}  # type: ignore[attr-defined]
    elif kind is tuple:
        result = tuple(copied(v) for v in value)  # type: ignore[attr-defined]
    elif kind is set:
        result = set(value)  # type: ignore[call-overload]  # members are hashable: immutable
    elif dataclasses.is_dataclass(value) and hasattr(value, "__dict__"):
        result = copy.copy(value)
        for name, field_value in vars(value).items():
            object.__setattr__(result, name, copied(field_value))  # frozen ones too
    else:
        result = copy.deepcopy(value)
    return result


class CopiedFast:
    """Mixed into an aggregate: `copy.deepcopy` of it is `copied` of its state."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        clone = object.__new__(type(self))
        clone.__dict__.update({name: copied(v) for name, v in self.__dict__.items()})
        return clone
