"""Routing order, the persona template and the bot settings' valid ranges."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from commands.parsing import parse
from commands.routing import BotChoice, find_by_mention, route
from domain.errors import BotNotFound, InvalidField
from domain.persona import Persona, Sampling

BOTS = [
    BotChoice("a", "Assistant", "General help for everyday questions."),
    BotChoice("c", "Terse Coder", "Writes and fixes code."),
    BotChoice("t", "Patient Tutor", "Explains school subjects step by step."),
]


class KeywordEmbedder:
    """A stand-in for MiniLM in a unit test: one dimension per keyword."""

    WORDS = ("code", "school", "everyday")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[float(w in t.lower()) + 0.01 for w in self.WORDS] for t in texts]


def routed(text: str, **kwargs: object) -> tuple[str, str]:
    options: dict = {"conversation_bot": None, "default_bot": None, "fallback_bot": "a"}
    options.update(kwargs)
    visible = {b.bot_id for b in BOTS}
    chosen = route(parse(text), lambda: BOTS, visible.__contains__, **options)
    return chosen.bot_id, chosen.reason


def test_a_mention_wins_over_everything() -> None:
    assert routed("@tutor hi", conversation_bot="c", default_bot="c") == ("t", "mention")
    assert routed("/bot coder hi", conversation_bot="t") == ("c", "mention")


def test_then_the_conversations_bot_then_the_users_default_then_the_fallback() -> None:
    assert routed("hi", conversation_bot="c", default_bot="t") == ("c", "conversation")
    assert routed("hi", default_bot="t") == ("t", "default")
    assert routed("hi") == ("a", "fallback")


def test_the_list_of_bots_is_read_once_and_only_for_a_mention_or_auto_routing() -> None:
    reads: list[int] = []

    def bots() -> list[BotChoice]:
        reads.append(1)
        return BOTS

    def chosen(text: str, auto_route: bool = False) -> str:
        usable = {"a", "c", "t"}.__contains__
        embedder = KeywordEmbedder()
        return route(parse(text), bots, usable, "c", None, "a", auto_route, embedder).bot_id

    assert chosen("hi") == "c"
    assert reads == []
    assert chosen("@nobody @tutor hi") == "t"
    assert reads == [1]
    assert chosen("school homework", auto_route=True) == "c"  # the conversation's bot first
    assert reads == [1]


def test_a_bot_the_user_cannot_see_is_not_routed_to() -> None:
    assert routed("hi", conversation_bot="someone-elses", default_bot="gone") == ("a", "fallback")


def test_auto_routing_picks_the_closest_description_only_when_turned_on() -> None:
    embedder = KeywordEmbedder()
    assert routed("my code crashes", auto_route=True, embedder=embedder) == ("c", "auto")
    assert routed("my code crashes", auto_route=False, embedder=embedder) == ("a", "fallback")


def test_slash_bot_with_an_unknown_name_is_an_error_but_a_stray_at_is_not() -> None:
    with pytest.raises(BotNotFound):
        routed("/bot nobody hello")
    assert routed("mail @nobody about it") == ("a", "fallback")


def test_mentions_match_handles_squashed_names_and_first_words() -> None:
    assert find_by_mention("terse-coder", BOTS) == BOTS[1]
    assert find_by_mention("tersecoder", BOTS) == BOTS[1]
    assert find_by_mention("patient", BOTS) == BOTS[2]
    assert find_by_mention("x", BOTS) is None


def test_the_persona_template_turns_traits_into_a_system_prompt() -> None:
    persona = Persona(
        name="Ada",
        description="Helps with maths.",
        traits=("patient", "concise"),
        traits_text="Uses examples",
    )
    assert persona.system_prompt() == (
        "You are Ada. Helps with maths.\n"
        "Your personality: patient, concise. Uses examples.\n"
        "Stay in character, answer helpfully, and keep answers short."
    )
    assert Persona(name="Bo").system_prompt() == (
        "You are Bo.\nStay in character, answer helpfully, and keep answers clear."
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"temperature": 2.5}, "sampling.temperature"),
        ({"top_p": 0}, "sampling.top_p"),
        ({"max_new_tokens": 5000}, "sampling.max_new_tokens"),
        ({"max_new_tokens": 10.5}, "sampling.max_new_tokens"),
        ({"repetition_penalty": "high"}, "sampling.repetition_penalty"),
        ({"seed": 1}, "sampling.seed"),
    ],
)
def test_sampling_out_of_range_names_the_field(values: dict, field: str) -> None:
    with pytest.raises(InvalidField) as refused:
        Sampling.from_dict(values)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("persona", "field"),
    [
        (Persona(name=" "), "name"),
        (Persona(name="x" * 41), "name"),
        (Persona(name="x", traits=("grumpy",)), "traits"),
        (Persona(name="x", traits=("friendly",) * 7), "traits"),
        (Persona(name="x", greeting="g" * 301), "greeting"),
    ],
)
def test_invalid_personas_name_the_field(persona: Persona, field: str) -> None:
    with pytest.raises(InvalidField) as refused:
        persona.checked()
    assert refused.value.field == field


def test_a_users_overrides_win_field_by_field() -> None:
    base = Persona(name="Tutor", traits=("patient",), sampling=Sampling(temperature=0.3))
    mine = base.with_overrides({"name": "My Tutor", "sampling": {"max_new_tokens": 64}})
    assert mine.name == "My Tutor" and mine.traits == ("patient",)
    assert mine.sampling.temperature == 0.3 and mine.sampling.max_new_tokens == 64
