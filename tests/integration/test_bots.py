"""Bots on the running API: the gallery, create and edit, avatars, customization, bad input."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.integration.conftest import Account, Stack

TUTOR = {
    "name": "Quiz Master",
    "description": "Asks quiz questions about geography.",
    "traits": ["playful", "curious"],
    "traits_text": "Loves capitals",
    "greeting": "Ready for a quiz?",
    "sampling": {"temperature": 0.0, "max_new_tokens": 32},
    "visibility": "private",
}


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


async def test_the_gallery_holds_the_built_in_bots_once(stack: Stack, alice: Account) -> None:
    async with stack.http(alice) as http:
        bots = (await http.get("/api/bots")).json()
    names = [b["name"] for b in bots if b["builtin"]]
    assert names == ["Assistant", "Terse Coder", "Patient Tutor", "Storyteller"]
    assert all(b["visibility"] == "shared" and not b["mine"] for b in bots if b["builtin"])
    assert bots[0]["system_prompt"].startswith("You are Assistant.")


async def test_a_created_bot_is_listed_editable_and_archivable_by_its_owner(
    stack: Stack, alice: Account
) -> None:
    async with stack.http(alice) as http:
        created = await http.post("/api/bots", json=TUTOR)
        assert created.status_code == 201, created.text
        bot = created.json()
        assert bot["mine"] and bot["handle"] == "quiz-master"
        assert "Your personality: playful, curious. Loves capitals." in bot["system_prompt"]
        edited = await http.patch(f"/api/bots/{bot['id']}", json={"greeting": "Quiz time!"})
        assert edited.json()["greeting"] == "Quiz time!"
        assert edited.json()["name"] == "Quiz Master"
        listed = {b["id"]: b for b in (await http.get("/api/bots")).json()}
        assert listed[bot["id"]]["greeting"] == "Quiz time!"
        assert (await http.delete(f"/api/bots/{bot['id']}")).status_code == 204
        assert bot["id"] not in {b["id"] for b in (await http.get("/api/bots")).json()}


async def test_the_preview_shows_the_system_prompt_the_bot_will_get(
    stack: Stack, alice: Account
) -> None:
    async with stack.http(alice) as http:
        preview = await http.post(
            "/api/bots/preview", json={"name": "Zed", "traits": ["witty"], "description": "Jokes."}
        )
    assert preview.json()["system_prompt"] == (
        "You are Zed. Jokes.\nYour personality: witty.\n"
        "Stay in character, answer helpfully, and keep answers clear."
    )


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"sampling": {"temperature": 5}}, 422, "sampling.temperature"),
        ({"sampling": {"max_new_tokens": 0}}, 422, "sampling.max_new_tokens"),
        ({"name": "n" * 41}, 400, "name"),
        ({"traits": ["grumpy"]}, 422, "traits"),
        ({"visibility": "public"}, 422, "visibility"),
        ({"colour": "red"}, 400, None),
        ({"name": 7}, 400, "name"),
    ],
)
async def test_bad_bot_settings_name_the_field_and_store_nothing(
    stack: Stack, alice: Account, change: dict, status: int, field: str | None
) -> None:
    before = await stack.event_count()
    async with stack.http(alice) as http:
        response = await http.post("/api/bots", json={**TUTOR, **change})
    assert response.status_code == status, response.text
    if field:
        assert response.json()["error"]["field"] == field
    assert await stack.event_count() == before


async def test_an_avatar_is_checked_squared_and_resized(stack: Stack, alice: Account) -> None:
    async with stack.http(alice) as http:
        bot = (await http.post("/api/bots", json=TUTOR)).json()
        assert bot["avatar_url"] == f"/api/bots/{bot['id']}/avatar"
        generated = await http.get(bot["avatar_url"])
        assert generated.headers["content-type"].startswith("image/svg+xml")
        uploaded = await http.put(
            f"/api/bots/{bot['id']}/avatar", files={"data": ("me.png", png(640, 400), "image/png")}
        )
        assert uploaded.status_code == 200, uploaded.text
        image = await http.get(uploaded.json()["avatar_url"])
    assert Image.open(io.BytesIO(image.content)).size == (256, 256)
    assert image.headers["content-type"] == "image/png"


async def test_an_avatar_that_is_not_an_image_or_is_huge_is_refused(
    stack: Stack, alice: Account
) -> None:
    async with stack.http(alice) as http:
        bot = (await http.post("/api/bots", json=TUTOR)).json()
        before = await stack.event_count()
        fake = await http.put(
            f"/api/bots/{bot['id']}/avatar",
            files={"data": ("x.png", b"<script>alert(1)</script>", "image/png")},
        )
        huge = await http.put(
            f"/api/bots/{bot['id']}/avatar",
            files={"data": ("big.png", b"\0" * (50 * 1024 * 1024), "image/png")},
        )
    assert fake.status_code == 422
    assert fake.json()["error"]["field"] == "avatar"
    assert huge.status_code in (413, 422)
    assert "error" in huge.json()
    assert await stack.event_count() == before


async def test_customizing_a_shared_bot_changes_it_for_that_user_only(
    stack: Stack, alice: Account, bob: Account
) -> None:
    async with stack.http(bob) as http:
        coder = next(
            b for b in (await http.get("/api/bots")).json() if b["handle"] == "terse-coder"
        )
        mine = await http.put(
            f"/api/bots/{coder['id']}/customization",
            json={"name": "Bob's Coder", "sampling": {"temperature": 0.0}},
        )
        assert mine.status_code == 200, mine.text
        assert mine.json()["name"] == "Bob's Coder" and mine.json()["customized"]
        refused = await http.put(
            f"/api/bots/{coder['id']}/customization", json={"sampling": {"top_p": 3}}
        )
        assert refused.status_code == 422
    async with stack.http(alice) as http:
        theirs = next(b for b in (await http.get("/api/bots")).json() if b["id"] == coder["id"])
    assert theirs["name"] == "Terse Coder" and not theirs["customized"]
