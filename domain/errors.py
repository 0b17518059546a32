"""Errors a user can cause, each with a stable code; the edge maps codes to statuses once."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the user can understand and act on."""

    code = "invalid_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConversationNotFound(DomainError):
    code = "conversation_not_found"


class ResponseNotFound(DomainError):
    code = "response_not_found"


class ResponseAlreadyFinished(DomainError):
    code = "response_already_finished"


class MessageRejected(DomainError):
    code = "message_rejected"


class InvalidField(DomainError):
    """A value the user gave is out of range or malformed; `field` names it."""

    code = "invalid_field"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class BotNotFound(DomainError):
    code = "bot_not_found"


class UserNotFound(DomainError):
    code = "user_not_found"


class EmailTaken(DomainError):
    code = "email_taken"


class NotAllowed(DomainError):
    code = "not_allowed"


class AuthenticationFailed(DomainError):
    code = "authentication_failed"


class ImportRejected(DomainError):
    """A file to import is not what it claims to be; nothing of it was recorded."""

    code = "import_rejected"


class FileNotFound(DomainError):
    code = "file_not_found"


class FileRejected(DomainError):
    """An upload Confab does not take: too large, too many, or not a kind it reads."""

    code = "file_rejected"


class FileTooLarge(FileRejected):
    code = "file_too_large"
