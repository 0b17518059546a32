"""Account handlers: register, log in and out, API tokens, profile and bot preferences.

Credentials carry the user id, so checking one loads a single aggregate:
a session cookie is `<user>.<session>.<secret>`, an API token `cft_<user>_<token>_<secret>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from commands.app import ConfabStore
from commands.handlers import change
from commands.security import (
    hash_password,
    hash_secret,
    new_secret,
    secret_matches,
    verify_password,
)
from domain.errors import AuthenticationFailed, EmailTaken, UserNotFound
from domain.user import EmailClaim, User, email_claim_id

SESSION_DAYS = 30
TOKEN_PREFIX = "cft_"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True)
class Credential:
    user_id: UUID
    token: str  # shown to its owner once; only its hash is stored


def load_user(store: ConfabStore, user_id: UUID) -> User:
    try:
        user: object = store.repository.get(user_id)
    except AggregateNotFoundError:
        raise UserNotFound("No such user.") from None
    if not isinstance(user, User):
        raise UserNotFound("No such user.")
    return user


def user_by_email(store: ConfabStore, email: str) -> User:
    try:
        claim: object = store.repository.get(email_claim_id(email))
    except AggregateNotFoundError:
        raise UserNotFound(f"No user with the e-mail {email}.") from None
    assert isinstance(claim, EmailClaim)
    return load_user(store, claim.user_id)


def register(
    store: ConfabStore, email: str, password: str, display_name: str, role: str = "user"
) -> User:
    user, claim = User.register(uuid4(), email, display_name, hash_password(password), role)
    try:
        store.save(user, claim)
    except IntegrityError:
        raise EmailTaken("An account with this e-mail already exists.") from None
    return user


def log_in(store: ConfabStore, email: str, password: str) -> Credential:
    try:
        user = user_by_email(store, email)
    except (UserNotFound, ValueError):
        raise AuthenticationFailed("Wrong e-mail or password.") from None
    if not verify_password(user.password_hash, password):
        raise AuthenticationFailed("Wrong e-mail or password.")
    session_id, secret = uuid4().hex, new_secret()
    expires = datetime.now(UTC) + timedelta(days=SESSION_DAYS)

    change_user(store, user.id, lambda u: u.open_session(session_id, hash_secret(secret), expires))
    return Credential(user.id, f"{user.id.hex}.{session_id}.{secret}")


def _split(token: str, sep: str, parts: int) -> list[str]:
    pieces = token.split(sep, parts - 1)
    if len(pieces) != parts or not all(pieces):
        raise AuthenticationFailed("Malformed credential.")
    return pieces


def _user_of(store: ConfabStore, user_hex: str) -> User:
    try:
        return load_user(store, UUID(hex=user_hex))
    except (ValueError, UserNotFound):
        raise AuthenticationFailed("Unknown credential.") from None


def user_for_session(store: ConfabStore, token: str) -> User:
    user_hex, session_id, secret = _split(token, ".", 3)
    user = _user_of(store, user_hex)
    secret_hash, expires = user.sessions.get(session_id, ("", datetime.min.replace(tzinfo=UTC)))
    if not secret_hash or not secret_matches(secret, secret_hash) or expires < datetime.now(UTC):
        raise AuthenticationFailed("Your session has ended; log in again.")
    return user


def log_out(store: ConfabStore, token: str) -> None:
    user = user_for_session(store, token)
    session_id = token.split(".")[1]

    change_user(store, user.id, lambda u: u.close_session(session_id))


def create_token(store: ConfabStore, user_id: UUID, name: str) -> Credential:
    token_id, secret = uuid4().hex[:16], new_secret()

    change_user(store, user_id, lambda u: u.create_token(token_id, name, hash_secret(secret)))
    return Credential(user_id, f"{TOKEN_PREFIX}{user_id.hex}_{token_id}_{secret}")


def user_for_token(store: ConfabStore, token: str) -> User:
    if not token.startswith(TOKEN_PREFIX):
        raise AuthenticationFailed("Malformed API token.")
    user_hex, token_id, secret = _split(token[len(TOKEN_PREFIX) :], "_", 3)
    user = _user_of(store, user_hex)
    _, secret_hash = user.tokens.get(token_id, ("", ""))
    if not secret_hash or not secret_matches(secret, secret_hash):
        raise AuthenticationFailed("This API token is not valid (revoked or mistyped).")
    return user


def change_user(store: ConfabStore, user_id: UUID, apply: Callable[[User], object]) -> User:
    return change(store, lambda: load_user(store, user_id), apply)


def grant_role(store: ConfabStore, email: str, role: str, by: str) -> User:
    user = user_by_email(store, email)
    return change_user(store, user.id, lambda u: u.grant_role(role, by))
