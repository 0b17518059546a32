"""The User aggregate: an account, its profile, sessions, API tokens and bot preferences.

Secrets never enter the log: sessions and tokens are recorded by the hash of their secret.
An EmailClaim aggregate per address makes e-mail addresses unique: it is saved together with
the User, and a second claim of the same address fails on the event store's version check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.copying import CopiedFast
from domain.errors import InvalidField

_EMAIL_NAMESPACE = UUID("3d7c6a2e-9f4b-4c55-b1a8-6a0e1f2d3c4b")
ROLES = ("user", "admin")
THEMES = ("system", "light", "dark")
MAX_DISPLAY_NAME = 60
OVERRIDABLE = ("name", "avatar", "traits", "traits_text", "greeting", "sampling")


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or " " in email:
        raise InvalidField("email", "Enter a valid e-mail address.")
    return email


def email_claim_id(email: str) -> UUID:
    return uuid5(_EMAIL_NAMESPACE, normalize_email(email))


def check_display_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_DISPLAY_NAME:
        raise InvalidField(
            "display_name", f"Display name must be 1 to {MAX_DISPLAY_NAME} characters."
        )
    return name


class EmailClaim(CopiedFast, Aggregate):
    @event("Claimed")
    def __init__(self, id: UUID, user_id: UUID) -> None:  # noqa: A002
        self.user_id = user_id


class User(CopiedFast, Aggregate):
    @event("Registered")
    def __init__(
        self,
        id: UUID,  # noqa: A002 - the aggregate's id, named as eventsourcing expects
        email: str,
        display_name: str,
        password_hash: str,
        role: str,
    ) -> None:
        self.email = email
        self.display_name = display_name
        self.password_hash = password_hash
        self.role = role
        self.avatar = ""
        self.preferences: dict[str, Any] = {"theme": "system", "auto_route": False}
        self.default_bot_id: UUID | None = None
        self.bot_overrides: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, tuple[str, datetime]] = {}
        self.tokens: dict[str, tuple[str, str]] = {}  # token id -> (name, secret hash)

    @classmethod
    def register(
        cls, user_id: UUID, email: str, display_name: str, password_hash: str, role: str = "user"
    ) -> tuple[User, EmailClaim]:
        email = normalize_email(email)
        user = cls(
            id=user_id,
            email=email,
            display_name=check_display_name(display_name),
            password_hash=password_hash,
            role=role,
        )
        return user, EmailClaim(id=email_claim_id(email), user_id=user_id)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    # --- profile and preferences --------------------------------------------------------

    def update_profile(self, display_name: str, avatar: str, preferences: dict[str, Any]) -> None:
        theme = preferences.get("theme", "system")
        if theme not in THEMES:
            raise InvalidField("preferences.theme", f"theme must be one of {', '.join(THEMES)}.")
        unknown = set(preferences) - {"theme", "auto_route"}
        if unknown:
            raise InvalidField(f"preferences.{sorted(unknown)[0]}", "Unknown preference.")
        self._profile_updated(check_display_name(display_name), avatar, dict(preferences))

    def choose_default_bot(self, bot_id: UUID) -> None:
        self._default_bot_chosen(bot_id)

    def customize_bot(self, bot_id: UUID, overrides: dict[str, Any]) -> None:
        unknown = set(overrides) - set(OVERRIDABLE)
        if unknown:
            raise InvalidField(sorted(unknown)[0], "This setting cannot be customized.")
        self._bot_customized(bot_id, dict(overrides))

    def grant_role(self, role: str, by: str) -> None:
        if role not in ROLES:
            raise InvalidField("role", f"role must be one of {', '.join(ROLES)}.")
        if role != self.role:
            self._role_granted(role, by)

    # --- sessions and tokens ------------------------------------------------------------

    def open_session(self, session_id: str, secret_hash: str, expires_at: datetime) -> None:
        self._session_opened(session_id, secret_hash, expires_at)

    def close_session(self, session_id: str) -> None:
        if session_id in self.sessions:
            self._session_closed(session_id)

    def create_token(self, token_id: str, name: str, secret_hash: str) -> None:
        if not name.strip() or len(name) > 60:
            raise InvalidField("name", "A token needs a name of 1 to 60 characters.")
        self._token_created(token_id, name.strip(), secret_hash)

    def revoke_token(self, token_id: str) -> None:
        if token_id not in self.tokens:
            raise InvalidField("token_id", "No such token.")
        self._token_revoked(token_id)

    # --- events ---------------------------------------------------------------------------

    @event("ProfileUpdated")
    def _profile_updated(self, display_name: str, avatar: str, preferences: dict[str, Any]) -> None:
        self.display_name, self.avatar = display_name, avatar
        self.preferences = {**self.preferences, **preferences}

    @event("DefaultBotChosen")
    def _default_bot_chosen(self, bot_id: UUID) -> None:
        self.default_bot_id = bot_id

    @event("BotCustomized")
    def _bot_customized(self, bot_id: UUID, overrides: dict[str, Any]) -> None:
        self.bot_overrides[str(bot_id)] = overrides

    @event("RoleGranted")
    def _role_granted(self, role: str, by: str) -> None:
        self.role = role

    @event("SessionOpened")
    def _session_opened(self, session_id: str, secret_hash: str, expires_at: datetime) -> None:
        self.sessions[session_id] = (secret_hash, expires_at)

    @event("SessionClosed")
    def _session_closed(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)

    @event("ApiTokenCreated")
    def _token_created(self, token_id: str, name: str, secret_hash: str) -> None:
        self.tokens[token_id] = (name, secret_hash)

    @event("ApiTokenRevoked")
    def _token_revoked(self, token_id: str) -> None:
        self.tokens.pop(token_id, None)
