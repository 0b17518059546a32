"""A bot's persona and sampling settings, their valid ranges, and the system-prompt template.

The template (the one place a persona becomes a system prompt):

    You are {name}. {description}
    Your personality: {traits joined with ", "}. {free-text traits}
    Stay in character, answer helpfully, and keep answers {length hint}.

Lines whose values are empty are left out, so a bare bot gets a short, plain prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from domain.errors import InvalidField

TRAITS = (
    "friendly",
    "formal",
    "concise",
    "detailed",
    "playful",
    "patient",
    "encouraging",
    "witty",
    "precise",
    "curious",
    "empathetic",
    "direct",
    "socratic",
    "cheerful",
)
MAX_TRAITS = 6
LIMITS = {"name": 40, "description": 300, "traits_text": 500, "greeting": 300, "model": 100}
VISIBILITIES = ("private", "shared")


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.7
    top_p: float = 0.95
    max_new_tokens: int = 256
    repetition_penalty: float = 1.1

    RANGES = {  # noqa: RUF012 - a class constant, not a field
        "temperature": (0.0, 2.0),
        "top_p": (0.05, 1.0),
        "max_new_tokens": (1, 2048),
        "repetition_penalty": (0.8, 2.0),
    }

    def checked(self) -> Sampling:
        for name, (low, high) in self.RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidField(f"sampling.{name}", f"{name} must be a number.")
            if not low <= value <= high:
                raise InvalidField(f"sampling.{name}", f"{name} must be between {low} and {high}.")
        if not isinstance(self.max_new_tokens, int):
            raise InvalidField("sampling.max_new_tokens", "max_new_tokens must be a whole number.")
        return self

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.RANGES}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Sampling:
        unknown = set(values) - set(cls.RANGES)
        if unknown:
            raise InvalidField(f"sampling.{sorted(unknown)[0]}", "Unknown sampling setting.")
        return replace(cls(), **values).checked()


@dataclass(frozen=True)
class Persona:
    name: str
    description: str = ""
    traits: tuple[str, ...] = ()
    traits_text: str = ""
    greeting: str = ""
    avatar: str = ""  # a blob id, or "" for the generated default
    sampling: Sampling = field(default_factory=Sampling)

    def checked(self) -> Persona:
        if not self.name.strip():
            raise InvalidField("name", "A bot needs a name.")
        for name, limit in LIMITS.items():
            value = getattr(self, name, "")
            if len(value) > limit:
                raise InvalidField(name, f"{name} must be at most {limit} characters.")
        if len(self.traits) > MAX_TRAITS:
            raise InvalidField("traits", f"Choose at most {MAX_TRAITS} traits.")
        unknown = [t for t in self.traits if t not in TRAITS]
        if unknown:
            raise InvalidField("traits", f"Unknown trait {unknown[0]!r}; choose from the list.")
        self.sampling.checked()
        return self

    def system_prompt(self) -> str:
        lines = [f"You are {self.name}." + (f" {self.description}" if self.description else "")]
        personality = ", ".join(self.traits)
        extra = self.traits_text.strip()
        if personality or extra:
            lines.append(
                "Your personality: " + ". ".join(p for p in (personality, extra) if p) + "."
            )
        length = "short" if "concise" in self.traits else "clear"
        lines.append(f"Stay in character, answer helpfully, and keep answers {length}.")
        return "\n".join(lines)

    def to_fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "traits": list(self.traits),
            "traits_text": self.traits_text,
            "greeting": self.greeting,
            "avatar": self.avatar,
            "sampling": self.sampling.as_dict(),
        }

    @classmethod
    def from_fields(cls, values: dict[str, Any]) -> Persona:
        return cls(
            name=values["name"],
            description=values.get("description", ""),
            traits=tuple(values.get("traits", ())),
            traits_text=values.get("traits_text", ""),
            greeting=values.get("greeting", ""),
            avatar=values.get("avatar", ""),
            sampling=Sampling.from_dict(values.get("sampling", {})),
        )

    def with_overrides(self, overrides: dict[str, Any]) -> Persona:
        """A user's customization of a shared bot: their values win, field by field."""
        merged = self.to_fields()
        for key, value in overrides.items():
            if key == "sampling":
                merged["sampling"] = {**merged["sampling"], **value}
            else:
                merged[key] = value
        return Persona.from_fields(merged)
