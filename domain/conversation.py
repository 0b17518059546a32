"""The Conversation aggregate: messages people post and the responses they ask for."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.copying import CopiedFast
from domain.errors import (
    ConversationNotFound,
    MessageRejected,
    ResponseAlreadyFinished,
    ResponseNotFound,
)
from domain.ids import message_id_for, response_id_for
from domain.turns import (
    CANCELLED,
    COMPLETED,
    FAILED,
    PENDING,
    TERMINAL,
    Completion,
    ResponseSettings,
    Turn,
    check_feedback,
    check_message_text,
    check_title,
    title_from,
)

__all__ = [
    "CANCELLED",
    "COMPLETED",
    "FAILED",
    "PENDING",
    "TERMINAL",
    "Completion",
    "Conversation",
    "ResponseSettings",
    "Turn",
    "check_message_text",
    "title_from",
]


class Conversation(CopiedFast, Aggregate):
    """A chat between one user and a bot; its events are the transcript, a tree of turns."""

    class Started(Aggregate.Created):
        class_version = 3
        user_id: str
        title: str
        bot_id: str
        imported_from: str  # "" when it started here, else where it happened ("chatgpt")
        original_id: str  # its id there
        started_at: datetime | None  # when it started there; None: the event's own time

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["bot_id"] = ""  # v1 conversations were not bound to a bot

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.update(imported_from="", original_id="", started_at=None)  # none was imported

    class MessagePosted(Aggregate.Event):
        class_version = 5
        message_id: UUID
        client_msg_id: str
        user_id: str
        text: str
        parsed: dict[str, Any]
        parent_id: UUID | None  # None: it follows the newest turn of the branch, unless at_root
        at_root: bool  # a new first message (an edit of the first one): a branch from the start
        attachments: list[dict[str, Any]]  # the files sent with it: id, name, kind, media type

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["parsed"] = {}  # v1 messages were not parsed

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["parent_id"] = None  # v2 transcripts were linear: it follows the last turn

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            state["at_root"] = False  # v3 could not branch from the first message

        @staticmethod
        def upcast_v4_v5(state: dict[str, Any]) -> None:
            state["attachments"] = []  # v4 messages carried no files

    class ResponseRequested(Aggregate.Event):
        class_version = 2
        response_id: UUID
        message_id: UUID
        model: str
        system_prompt: str
        sampling: dict[str, Any]
        bot_id: str
        bot_name: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["bot_id"], state["bot_name"] = "", ""

    class TurnRecorded(Aggregate.Event):
        """A turn that happened elsewhere; v2 keeps where and when (an import), and its branch."""

        class_version = 2
        turn_id: UUID
        role: str
        text: str
        source: str
        by: str
        at: datetime | None  # when it happened there; None: the event's own time
        original_id: str  # its id there ("" when the client gave none)
        parent_id: UUID | None  # None: it follows the newest turn, unless at_root
        at_root: bool
        model: str  # the model that wrote an imported answer, when the export says

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # v1 turns were a client's history, recorded in order: each follows the last.
            state.update(at=None, original_id="", parent_id=None, at_root=False, model="")

    class ResponseCompleted(Aggregate.Event):
        class_version = 2
        response_id: UUID
        text: str
        finish_reason: str
        prompt_tokens: int
        completion_tokens: int
        model: str
        ttft_ms: float
        total_ms: float
        model_version: str
        prompt_turn_ids: list[str] | None  # None: which turns went into the prompt is unknown

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["model_version"], state["prompt_turn_ids"] = "", None

    @event(Started)
    def __init__(
        self,
        id: UUID,  # noqa: A002
        user_id: str,
        title: str,
        bot_id: str,
        imported_from: str = "",
        original_id: str = "",
        started_at: datetime | None = None,
    ) -> None:
        self.user_id = user_id
        self.title = title
        self.bot_id = bot_id
        self.imported_from = imported_from
        self.deleted = False
        # A user's own title is never replaced by a generated one; an imported chat keeps its own.
        self.titled_by_user = bool(imported_from)
        self.title_generated = False
        self.turns: list[Turn] = []
        self.leaf: UUID | None = None  # the newest turn of the branch being continued

    # --- commands -------------------------------------------------------------------------

    def post_message(
        self,
        user_id: str,
        client_msg_id: str,
        text: str,
        parsed: dict[str, Any],
        settings: ResponseSettings,
        parent_id: UUID | None = None,
        at_root: bool = False,
        attachments: list[dict[str, Any]] | None = None,
    ) -> tuple[UUID, UUID]:
        """Record the user's message and ask the bot for a response to it, in one save.

        A message follows the current branch, or `parent_id` when it edits an earlier one, or
        starts a branch of its own from the beginning (`at_root`, an edit of the first message).
        """
        self._require_open()
        check_message_text(text)
        if parent_id is not None and all(t.id != parent_id for t in self.turns):
            raise MessageRejected("The message follows a turn that is not in this conversation.")
        if settings.bot_id != self.bot_id:
            self._bot_switched(settings.bot_id, user_id)
        message_id = message_id_for(self.id, client_msg_id)
        self._message_posted(
            message_id,
            client_msg_id,
            user_id,
            text,
            parsed,
            parent_id,
            at_root and not parent_id,
            list(attachments or []),
        )
        response_id = response_id_for(message_id)
        self._request(response_id, message_id, settings)
        return message_id, response_id

    def edit_message(
        self,
        message_id: UUID,
        user_id: str,
        client_msg_id: str,
        text: str,
        parsed: dict[str, Any],
        settings: ResponseSettings,
    ) -> tuple[UUID, UUID]:
        """A new version of an earlier message: a sibling branch; the original stays."""
        original = self.turn(message_id, "user")
        return self.post_message(
            user_id,
            client_msg_id,
            text,
            parsed,
            settings,
            parent_id=original.parent_id,
            at_root=original.parent_id is None,
            attachments=original.attachments,  # an edit changes the words, not the files
        )

    def regenerate(self, message_id: UUID, settings: ResponseSettings) -> UUID:
        """Another response to the same message; the earlier ones stay as alternatives."""
        self._require_open()
        self.turn(message_id, "user")
        attempt = sum(1 for t in self.turns if t.parent_id == message_id)
        response_id = response_id_for(message_id, attempt)
        self._request(response_id, message_id, settings)
        return response_id

    def record_turn(
        self,
        role: str,
        text: str,
        source: str,
        by: str,
        *,
        at: datetime | None = None,
        original_id: str = "",
        parent_id: UUID | None = None,
        at_root: bool = False,
        model: str = "",
    ) -> UUID:
        """A turn that happened elsewhere (a client's history, an import): kept, not answered.

        An imported turn keeps its original id (its turn id derives from it, so importing it
        again finds it), its time, and the turn it followed there (`parent_id`, or `at_root`).
        """
        if role not in ("user", "assistant"):
            raise MessageRejected(f"A recorded turn is from the user or the assistant, not {role}.")
        check_message_text(text)
        if parent_id is not None and not self.has_turn(parent_id):
            raise MessageRejected("The turn follows a turn that is not in this conversation.")
        turn_id = (
            self.imported_turn_id(original_id)
            if original_id
            else uuid5(self.id, f"turn:{len(self.turns)}")
        )
        self._turn_recorded(
            turn_id, role, text, source, by, at, original_id, parent_id, at_root, model
        )
        return turn_id

    def imported_turn_id(self, original_id: str) -> UUID:
        """The id a turn imported under `original_id` has (or would have) here."""
        return uuid5(self.id, f"imported-turn:{original_id}")

    def switch_bot(self, bot_id: str, by: str) -> None:
        self._require_open()
        if bot_id != self.bot_id:
            self._bot_switched(bot_id, by)

    def complete_response(self, response_id: UUID, completion: Completion) -> None:
        self._require_pending(response_id)
        self._response_completed(response_id, **completion.as_fields())

    def fail_response(self, response_id: UUID, reason: str) -> None:
        self._require_pending(response_id)
        self._response_failed(response_id, reason)

    def cancel_response(self, response_id: UUID, by: str) -> None:
        self._require_pending(response_id)
        self._response_cancelled(response_id, by)

    def give_feedback(self, response_id: UUID, rating: int, comment: str, by: str) -> None:
        self._require_open()
        self.response(response_id)
        check_feedback(rating, comment)
        self._feedback_given(response_id, rating, comment.strip(), by)

    def rename(self, title: str, by: str) -> None:
        self._require_open()
        self._renamed(check_title(title), by)

    def generate_title(self, title: str, model: str) -> bool:
        """The model's title for the first exchange, once; a user's own title stays."""
        if self.deleted or self.titled_by_user or self.title_generated:
            return False
        self._title_generated(check_title(title), model)
        return True

    def delete(self, by: str) -> None:
        if not self.deleted:
            self._deleted(by)

    # --- queries --------------------------------------------------------------------------

    def has_turn(self, turn_id: UUID) -> bool:
        return any(t.id == turn_id for t in self.turns)

    def message_for_client_id(self, client_msg_id: str) -> Turn | None:
        return next(
            (t for t in self.turns if t.role == "user" and t.client_msg_id == client_msg_id),
            None,
        )

    def turn(self, turn_id: UUID, role: str) -> Turn:
        for turn in self.turns:
            if turn.id == turn_id and turn.role == role:
                return turn
        if role == "assistant":
            raise ResponseNotFound(f"No response {turn_id} in this conversation.")
        raise MessageRejected(f"No message {turn_id} in this conversation.")

    def response(self, response_id: UUID) -> Turn:
        return self.turn(response_id, "assistant")

    def path_to(self, turn_id: UUID) -> list[Turn]:
        """The turns from the first one down to `turn_id`, following parents."""
        by_id = {t.id: t for t in self.turns}
        path, current = [], by_id.get(turn_id)
        while current is not None:
            path.append(current)
            current = by_id.get(current.parent_id) if current.parent_id else None
        return path[::-1]

    def history_before(self, response_id: UUID, max_turns: int) -> list[tuple[str, str]]:
        """(role, text) of the finished turns on the response's branch, newest kept."""
        return [(t.role, t.text) for t in self.prompt_turns(response_id, max_turns)]

    def prompt_turns(self, response_id: UUID, max_turns: int) -> list[Turn]:
        """The finished turns on the response's branch that its prompt holds, newest kept."""
        path = self.path_to(response_id)[:-1]
        earlier = [t for t in path if t.role == "user" or t.status == COMPLETED]
        return earlier[-max_turns:]

    # --- events ---------------------------------------------------------------------------

    def _request(self, response_id: UUID, message_id: UUID, settings: ResponseSettings) -> None:
        self._response_requested(
            response_id,
            message_id,
            settings.model,
            settings.system_prompt,
            settings.sampling,
            settings.bot_id,
            settings.bot_name,
        )

    def _append(self, turn: Turn) -> None:
        self.turns.append(turn)
        self.leaf = turn.id

    @event(TurnRecorded)
    def _turn_recorded(
        self,
        turn_id: UUID,
        role: str,
        text: str,
        source: str,
        by: str,
        at: datetime | None = None,
        original_id: str = "",
        parent_id: UUID | None = None,
        at_root: bool = False,
        model: str = "",
    ) -> None:
        parent = None if at_root else parent_id if parent_id is not None else self.leaf
        self._append(Turn(turn_id, role, text, COMPLETED, at or self.modified_on, parent))

    @event("BotSwitched")
    def _bot_switched(self, bot_id: str, by: str) -> None:
        self.bot_id = bot_id

    @event(MessagePosted)
    def _message_posted(
        self,
        message_id: UUID,
        client_msg_id: str,
        user_id: str,
        text: str,
        parsed: dict[str, Any],
        parent_id: UUID | None,
        at_root: bool,
        attachments: list[dict[str, Any]],
    ) -> None:
        parent = None if at_root else parent_id if parent_id is not None else self.leaf
        self._append(
            Turn(message_id, "user", text, COMPLETED, self.modified_on, parent, client_msg_id)
        )
        self.turns[-1].parsed = parsed
        self.turns[-1].attachments = attachments

    @event(ResponseRequested)
    def _response_requested(
        self,
        response_id: UUID,
        message_id: UUID,
        model: str,
        system_prompt: str,
        sampling: dict[str, Any],
        bot_id: str,
        bot_name: str,
    ) -> None:
        request = {
            "model": model,
            "system_prompt": system_prompt,
            "sampling": dict(sampling),
            "bot_id": bot_id,
            "bot_name": bot_name,
        }
        turn = Turn(response_id, "assistant", "", PENDING, self.modified_on, message_id)
        turn.request = request
        self._append(turn)

    @event(ResponseCompleted)
    def _response_completed(
        self,
        response_id: UUID,
        text: str,
        finish_reason: str,
        prompt_tokens: int,
        completion_tokens: int,
        model: str,
        ttft_ms: float,
        total_ms: float,
        model_version: str = "",
        prompt_turn_ids: list[str] | None = None,
    ) -> None:
        turn = self.response(response_id)
        turn.text, turn.status = text, COMPLETED
        turn.usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "model": model,
            "ttft_ms": ttft_ms,
            "total_ms": total_ms,
            "finish_reason": finish_reason,
            "model_version": model_version,
        }
        turn.prompt_turn_ids = prompt_turn_ids

    @event("ResponseFailed")
    def _response_failed(self, response_id: UUID, reason: str) -> None:
        turn = self.response(response_id)
        turn.status, turn.error = FAILED, reason

    @event("ResponseCancelled")
    def _response_cancelled(self, response_id: UUID, by: str) -> None:
        self.response(response_id).status = CANCELLED

    @event("FeedbackGiven")
    def _feedback_given(self, response_id: UUID, rating: int, comment: str, by: str) -> None:
        self.response(response_id).feedback = {"rating": rating, "comment": comment}

    @event("Renamed")
    def _renamed(self, title: str, by: str) -> None:
        self.title = title
        self.titled_by_user = True

    @event("TitleGenerated")
    def _title_generated(self, title: str, model: str) -> None:
        self.title = title
        self.title_generated = True

    @event("Deleted")
    def _deleted(self, by: str) -> None:
        self.deleted = True

    def _require_pending(self, response_id: UUID) -> None:
        if self.response(response_id).status in TERMINAL:
            raise ResponseAlreadyFinished(f"Response {response_id} has already finished.")

    def _require_open(self) -> None:
        if self.deleted:
            raise ConversationNotFound("No such conversation.")
