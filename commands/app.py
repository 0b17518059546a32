"""The event-sourced application: the store of aggregates that every handler works on."""

from __future__ import annotations

from typing import ClassVar

from eventsourcing.application import Application
from eventsourcing.utils import EnvType

from commands.pool_check import check_only_when_stirred


class ConfabStore(Application):
    """Persistence is chosen by the env it is given (see Settings.store_env), not by code."""

    name = "confab"
    # Each save is checked against the stored version (optimistic concurrency), and a
    # short-lived cache spares a reload of an aggregate that this process just saved.
    env: ClassVar[dict[str, str]] = {
        "AGGREGATE_CACHE_MAXSIZE": "1000",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "y",
    }

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        check_only_when_stirred(self)

    @property
    def events_table(self) -> str:
        return f"{self.name}_events"
