"""Accounts on the running API: sign up, log in and out, tokens, websocket authentication."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.integration.conftest import Account, Stack
from tests.integration.wsclient import ChatClient


async def test_register_sets_an_httponly_lax_session_cookie_and_logs_in(stack: Stack) -> None:
    async with stack.http() as http:
        response = await http.post(
            "/api/auth/register",
            json={"email": "Carol@Example.com", "password": "long enough", "display_name": "Carol"},
        )
        me = await http.get("/api/me")
    cookie = response.headers["set-cookie"].lower()
    assert response.status_code == 201
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert me.json()["email"] == "carol@example.com"
    assert me.json()["role"] == "user"


async def test_wrong_password_and_unknown_email_get_the_same_401(stack: Stack) -> None:
    account = await stack.register()
    async with stack.http() as http:
        wrong = await http.post(
            "/api/auth/login", json={"email": account.email, "password": "nope nope"}
        )
        unknown = await http.post(
            "/api/auth/login", json={"email": "ghost@example.com", "password": "nope nope"}
        )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_logout_ends_the_session_and_login_starts_a_new_one(stack: Stack) -> None:
    account = await stack.register()
    async with stack.http(account) as http:
        assert (await http.post("/api/auth/logout")).status_code == 204
    async with stack.http(account) as http:  # the old cookie, replayed
        assert (await http.get("/api/me")).status_code == 401
    async with stack.http() as http:
        login = await http.post(
            "/api/auth/login", json={"email": account.email, "password": account.password}
        )
        assert login.status_code == 200
        assert (await http.get("/api/me")).json()["user_id"] == account.user_id


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"email": "x@example.com", "password": "short", "display_name": "X"}, 422, "password"),
        ({"email": "not-an-email", "password": "long enough", "display_name": "X"}, 422, "email"),
        ({"email": "x@example.com", "password": "long enough", "display_name": ""}, 400, None),
        (
            {
                "email": "x@example.com",
                "password": "long enough",
                "display_name": "X",
                "role": "admin",
            },
            400,
            None,
        ),
        ({"email": "x@example.com", "password": 12345678, "display_name": "X"}, 400, "password"),
    ],
)
async def test_bad_registrations_are_refused_and_store_nothing(
    stack: Stack, body: dict, status: int, field: str | None
) -> None:
    before = await stack.event_count()
    async with stack.http() as http:
        response = await http.post("/api/auth/register", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    if field:
        assert error["field"] == field
    assert await stack.event_count() == before


async def test_an_email_can_be_registered_once(stack: Stack) -> None:
    account = await stack.register()
    async with stack.http() as http:
        again = await http.post(
            "/api/auth/register",
            json={"email": account.email.upper(), "password": "another one", "display_name": "Y"},
        )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "email_taken"


async def test_api_tokens_authenticate_programs_until_revoked(stack: Stack) -> None:
    account = await stack.register()
    async with stack.http(account) as http:
        created = (await http.post("/api/me/tokens", json={"name": "script"})).json()
    bearer = {"Authorization": f"Bearer {created['token']}"}
    async with stack.http() as http:
        assert (await http.get("/api/me", headers=bearer)).json()["user_id"] == account.user_id
    async with ChatClient.connect(stack.ws_url, bearer) as client:
        await client.send("/help")
        notice, _ = await client.until("notice")
        assert "/bot" in notice["text"]
    async with stack.http(account) as http:
        listed = (await http.get("/api/me/tokens")).json()
        assert [t["name"] for t in listed] == ["script"]
        assert "token" not in listed[0]
        assert (await http.delete(f"/api/me/tokens/{created['id']}")).status_code == 204
    async with stack.http() as http:
        refused = await http.get("/api/me", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "not_authenticated"


async def test_the_websocket_refuses_anonymous_and_forged_credentials(stack: Stack) -> None:
    for headers in ({}, {"Cookie": "confab_session=abc.def.ghi"}, {"Authorization": "Bearer x"}):
        with pytest.raises((InvalidStatus, ConnectionClosed)):
            async with ChatClient.connect(stack.ws_url, headers) as client:
                await client.send("hello")
                await client.next_frame(timeout=5)


async def test_profile_and_default_bot_persist_across_logout_and_login(
    stack: Stack, alice: Account
) -> None:
    account = await stack.register()
    async with stack.http(account) as http:
        bots = (await http.get("/api/bots")).json()
        tutor = next(b for b in bots if b["name"] == "Patient Tutor")
        await http.patch(
            "/api/me",
            json={"display_name": "Dee", "preferences": {"theme": "dark", "auto_route": True}},
        )
        await http.put("/api/me/default-bot", json={"bot_id": tutor["id"]})
        await http.post("/api/auth/logout")
    async with stack.http() as http:
        await http.post(
            "/api/auth/login", json={"email": account.email, "password": account.password}
        )
        me = (await http.get("/api/me")).json()
    assert me["display_name"] == "Dee"
    assert me["preferences"] == {"theme": "dark", "auto_route": True}
    assert me["default_bot_id"] == tutor["id"]
