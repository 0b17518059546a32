"""Bot bodies and views."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from domain.persona import LIMITS


class Strict(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    pass


class SamplingBody(Strict):
    temperature: float | None = None
    top_p: float | None = None
    max_new_tokens: int | None = None
    repetition_penalty: float | None = None


def _text(limit: int) -> Any:
    return Annotated[str, msgspec.Meta(max_length=limit)]


class PersonaFields(Strict):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=LIMITS["name"])] | None = None
    description: _text(LIMITS["description"]) | None = None  # type: ignore[valid-type]
    traits: Annotated[list[str], msgspec.Meta(max_length=20)] | None = None
    traits_text: _text(LIMITS["traits_text"]) | None = None  # type: ignore[valid-type]
    greeting: _text(LIMITS["greeting"]) | None = None  # type: ignore[valid-type]
    sampling: SamplingBody | None = None

    def changes(self) -> dict[str, Any]:
        fields = msgspec.structs.asdict(self)
        if self.sampling is not None:
            fields["sampling"] = {
                k: v for k, v in msgspec.structs.asdict(self.sampling).items() if v is not None
            }
        return {k: v for k, v in fields.items() if v is not None}


class BotBody(PersonaFields, forbid_unknown_fields=True):
    visibility: str | None = None


class BotView(msgspec.Struct):
    id: str
    name: str
    description: str
    traits: list[str]
    traits_text: str
    greeting: str
    avatar_url: str
    sampling: dict[str, Any]
    model: str
    visibility: str
    builtin: bool
    mine: bool
    customized: bool
    handle: str
    system_prompt: str


class Preview(msgspec.Struct):
    system_prompt: str


class BotOptions(msgspec.Struct):
    traits: list[str]
    max_traits: int
    sampling_ranges: dict[str, list[float]]
    visibilities: list[str]
    limits: dict[str, int]
