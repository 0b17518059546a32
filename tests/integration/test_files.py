"""Uploads on the real stack: what a file is comes from its bytes; only its owner gets it."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from PIL import Image

from tests.integration.conftest import Account, Stack
from tests.integration.files_fixtures import jpeg, pdf, png
from tests.integration.wsclient import ChatClient


async def upload(
    stack: Stack, account: Account, name: str, data: bytes, mime: str = "application/octet-stream"
) -> httpx.Response:
    async with stack.http(account) as http:
        return await http.post("/api/files", files={"data": (name, data, mime)})


async def test_an_image_is_stored_with_a_thumbnail_and_served_inline_to_its_owner(
    stack: Stack, alice: Account
) -> None:
    picture = png(1200, 900)
    response = await upload(stack, alice, "holiday.png", picture, "image/png")
    assert response.status_code == 201, response.text
    meta = response.json()
    assert meta["kind"] == "image" and meta["media_type"] == "image/png"
    assert meta["size"] == len(picture) and meta["name"] == "holiday.png"
    async with stack.http(alice) as http:
        full = await http.get(meta["url"])
        thumb = await http.get(meta["thumbnail_url"])
    assert full.status_code == 200 and full.content == picture
    assert full.headers["content-type"] == "image/png"
    assert full.headers["content-disposition"].startswith("inline;")
    assert full.headers["x-content-type-options"] == "nosniff"
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert max(image.size) <= 320 and image.size[0] > image.size[1]


async def test_the_same_bytes_uploaded_again_are_the_same_file(
    stack: Stack, alice: Account
) -> None:
    picture = jpeg()
    first = (await upload(stack, alice, "a.jpg", picture)).json()
    events = await stack.event_count()
    second = (await upload(stack, alice, "a.jpg", picture)).json()
    assert first["id"] == second["id"] and first["media_type"] == "image/jpeg"
    assert await stack.event_count() == events


async def test_text_and_pdf_are_read_and_downloaded_as_attachments(
    stack: Stack, alice: Account
) -> None:
    notes = (await upload(stack, alice, "notes.md", b"# Plan\n\n- buy milk\n", "text/plain")).json()
    paper = (await upload(stack, alice, "paper.pdf", pdf("Kittiwakes nest on cliffs"))).json()
    assert notes["kind"] == "text" and notes["media_type"] == "text/markdown"
    assert notes["text_chars"] == len("# Plan\n\n- buy milk\n") and notes["thumbnail_url"] is None
    assert paper["kind"] == "pdf" and paper["text_chars"] == len("Kittiwakes nest on cliffs")
    async with stack.http(alice) as http:
        got = await http.get(paper["url"])
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith('attachment; filename="paper.pdf"')


async def test_another_user_cannot_see_or_fetch_a_file(
    stack: Stack, alice: Account, bob: Account
) -> None:
    meta = (await upload(stack, alice, "private.png", png(50, 50))).json()
    async with stack.http(bob) as http:
        assert (await http.get(meta["url"])).status_code == 404
        assert (await http.get(meta["thumbnail_url"])).status_code == 404
        assert (await http.get(f"{meta['url']}/meta")).status_code == 404
    async with stack.http() as http:
        assert (await http.get(meta["url"])).status_code == 401


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("fake.png", b"#!/bin/sh\nrm -rf /\n\x00\x01", 415, "file_rejected"),
        ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00", 415, "file_rejected"),
        ("latin1.txt", "café".encode("latin-1"), 415, "file_rejected"),
        ("broken.png", b"\x89PNG\r\n\x1a\nnot really", 415, "file_rejected"),
        ("empty.txt", b"", 415, "file_rejected"),
    ],
)
async def test_files_that_are_not_what_confab_reads_are_refused_and_nothing_is_stored(
    stack: Stack, alice: Account, name: str, data: bytes, status: int, code: str
) -> None:
    events = await stack.event_count()
    response = await upload(stack, alice, name, data)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert await stack.event_count() == events


async def test_a_file_over_the_size_limit_is_refused(stack: Stack, alice: Account) -> None:
    limit = 20 * 2**20
    events = await stack.event_count()
    response = await upload(stack, alice, "big.txt", b"a" * (limit + 1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert await stack.event_count() == events


async def test_a_path_in_a_file_name_is_cut_to_its_last_part(stack: Stack, alice: Account) -> None:
    meta = (await upload(stack, alice, "../../etc/pass|wd.txt", b"hello")).json()
    assert meta["name"] == "pass_wd.txt"
    async with stack.http(alice) as http:
        got = await http.get(meta["url"])
    assert got.content == b"hello"
    assert "/" not in got.headers["content-disposition"]


async def send_with(
    client: ChatClient, text: str, attachments: list[str], conversation_id: str | None = None
) -> tuple[dict, dict]:
    client_msg_id = str(uuid.uuid4())
    await client.frame(
        type="send",
        client_msg_id=client_msg_id,
        conversation_id=conversation_id,
        text=text,
        attachments=attachments,
    )
    accepted, _ = await client.until("accepted", "error")
    if accepted["type"] == "error":
        return accepted, accepted
    final, _ = await client.until("message", "error")
    return accepted, final


async def test_an_attached_documents_text_enters_the_prompt_and_the_transcript_lists_it(
    stack: Stack, alice: Account
) -> None:
    words = " ".join(f"The code word for day {i} is marmalade{i}." for i in range(40))
    doc = (await upload(stack, alice, "codes.txt", words.encode(), "text/plain")).json()
    pic = (await upload(stack, alice, "dot.png", png(20, 20, "red"), "image/png")).json()
    question = "What is the code word for day 3? Answer with the word only."
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        _, plain = await send_with(client, question, [])
        accepted, answered = await send_with(client, question, [doc["id"], pic["id"]])
    assert plain["type"] == answered["type"] == "message", (plain, answered)
    extra = answered["usage"]["prompt_tokens"] - plain["usage"]["prompt_tokens"]
    assert extra > 300, extra  # the document's ~500 tokens (and the image's note) were read
    async with stack.http(alice) as http:
        transcript = (await http.get(f"/api/conversations/{accepted['conversation_id']}")).json()
    sent = next(m for m in transcript["messages"] if m["id"] == accepted["message_id"])
    assert [(a["id"], a["kind"], a["name"]) for a in sent["attachments"]] == [
        (doc["id"], "text", "codes.txt"),
        (pic["id"], "image", "dot.png"),
    ]


async def test_a_message_with_someone_elses_file_or_too_many_files_is_refused(
    stack: Stack, alice: Account, bob: Account
) -> None:
    bobs = (await upload(stack, bob, "bob.txt", b"bob's secret")).json()
    mine = (await upload(stack, alice, "mine.txt", b"mine")).json()
    events = await stack.event_count()
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        stolen, _ = await send_with(client, "Read this", [bobs["id"]])
        crowded, _ = await send_with(client, "Read these", [mine["id"]] * 3 + ["x"] * 9)
        malformed, _ = await send_with(client, "Read this", ["../../etc/passwd"])
    assert stolen["type"] == "error" and stolen["code"] == "file_not_found"
    assert crowded["type"] == "error" and "at most 10 files" in crowded["message"]
    assert malformed["type"] == "error"
    assert await stack.event_count() == events
