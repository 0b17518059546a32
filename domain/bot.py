"""The Bot aggregate: a persona people pick and customize, private to its owner or shared."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.copying import CopiedFast
from domain.errors import InvalidField, NotAllowed
from domain.persona import VISIBILITIES, Persona

_BUILTIN_NAMESPACE = UUID("0b7f4a3c-51a2-4c1e-8d0e-2f0d9a6b7c11")


def builtin_bot_id(slug: str) -> UUID:
    """Built-in bots have fixed ids, so creating them at every start creates them once."""
    return uuid5(_BUILTIN_NAMESPACE, slug)


def check_visibility(visibility: str) -> str:
    if visibility not in VISIBILITIES:
        raise InvalidField("visibility", f"visibility must be one of {', '.join(VISIBILITIES)}.")
    return visibility


class Bot(CopiedFast, Aggregate):
    @event("Created")
    def __init__(
        self,
        id: UUID,  # noqa: A002
        owner_id: str,
        persona: dict[str, Any],
        model: str,
        visibility: str,
        builtin: bool,
    ) -> None:
        self.owner_id = owner_id
        self.persona_fields = persona
        self.model = model
        self.visibility = visibility
        self.builtin = builtin
        self.archived = False

    @classmethod
    def create(
        cls,
        bot_id: UUID,
        owner_id: str,
        persona: Persona,
        model: str,
        visibility: str,
        builtin: bool = False,
    ) -> Bot:
        persona.checked()
        return cls(
            id=bot_id,
            owner_id=owner_id,
            persona=persona.to_fields(),
            model=model,
            visibility=check_visibility(visibility),
            builtin=builtin,
        )

    @property
    def persona(self) -> Persona:
        return Persona.from_fields(self.persona_fields)

    def visible_to(self, user_id: str) -> bool:
        return not self.archived and (self.visibility == "shared" or self.owner_id == user_id)

    def update(self, by: str, persona: Persona, model: str, visibility: str) -> None:
        self._require_owner(by)
        persona.checked()
        self._updated(persona.to_fields(), model, check_visibility(visibility), by)

    def archive(self, by: str) -> None:
        self._require_owner(by)
        if not self.archived:
            self._archived(by)

    def _require_owner(self, user_id: str) -> None:
        if self.owner_id != user_id or self.archived:
            raise NotAllowed("Only the bot's owner can change it.")

    @event("Updated")
    def _updated(self, persona: dict[str, Any], model: str, visibility: str, by: str) -> None:
        self.persona_fields, self.model, self.visibility = persona, model, visibility

    @event("Archived")
    def _archived(self, by: str) -> None:
        self.archived = True
