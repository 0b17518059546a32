"""The chat page in headless Chromium (Debian's package, driven by Playwright; no download).

One browser session walks through what a person does: log in, send, watch a reply stream and
render, stop, regenerate and browse the alternatives, edit into a branch, reload and find it
all, and send a message of raw HTML that must show as text. Screenshots go to
build/screenshots/ (the README links copies of the best ones in docs/screenshots/).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, FilePayload, Page, async_playwright, expect

from tests.integration.conftest import Stack
from tests.integration.files_fixtures import png

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # `make test` installs it
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
]
REPLY_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        # A fresh profile each launch (Playwright makes a temporary one).
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        await chromium.close()


async def open_page(browser: Browser, **context: object) -> Page:
    ctx = await browser.new_context(**context)  # type: ignore[arg-type]
    page = await ctx.new_page()
    page.set_default_timeout(30_000)
    return page


async def log_in(page: Page, stack: Stack, email: str, password: str) -> None:
    await page.goto(stack.base_url + "/")
    await page.fill("#login-email", email)
    await page.fill("#login-password", password)
    await page.click("#login-submit")
    await expect(page.locator("#composer")).to_be_visible()
    await expect(page.locator("#conn")).to_have_attribute("data-state", "open")


async def send(page: Page, text: str) -> None:
    await page.fill("#composer", text)
    await page.keyboard.press("Enter")


async def test_a_person_chats_stops_regenerates_edits_and_reloads(
    stack: Stack, browser: Browser
) -> None:
    account = await stack.register()
    page = await open_page(browser, viewport={"width": 1280, "height": 860})
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    SHOTS.mkdir(parents=True, exist_ok=True)
    await log_in(page, stack, account.email, account.password)
    await stream_and_render(page)
    await stop_then_regenerate(page)
    await edit_into_branch(page)
    await attach_an_image(page)
    attack = "<img src=x onerror=alert(1)>"
    await raw_html_is_text(page, attack)
    await reload_finds_everything(page, attack)
    assert dialogs == []


async def stream_and_render(page: Page) -> None:
    """Send, and watch the reply stream in and render as markdown with highlighted code."""
    await send(page, "Write a Python function that adds two numbers, in a code block.")
    first = page.locator(".msg.assistant").first
    await expect(first).to_have_attribute("data-status", "streaming")
    await expect(first).to_have_attribute("data-status", "complete", timeout=REPLY_TIMEOUT_MS)
    await expect(first.locator("pre code")).to_be_visible()
    await expect(first.locator(".code-block .code-head .btn-copy")).to_be_visible()
    await page.screenshot(path=SHOTS / "chat.png")


async def stop_then_regenerate(page: Page) -> None:
    """Stop ends the reply as cancelled with what had come; Regenerate adds a second one."""
    await send(page, "Count from 1 to 200, one number per line.")
    second = page.locator(".msg.assistant").nth(1)
    await expect(second).to_have_attribute("data-status", "streaming")
    await expect(second.locator(".msg-content")).not_to_be_empty(timeout=REPLY_TIMEOUT_MS)
    await page.keyboard.press("Escape")
    await expect(second).to_have_attribute("data-status", "cancelled", timeout=30_000)
    await expect(second.locator(".msg-stopped")).to_be_visible()

    # Both answers can be browsed with < 2/2 >.
    await second.hover()
    await second.locator(".regenerate").click()
    last = page.locator(".msg.assistant").last
    await expect(last.locator(".branch-count")).to_have_text("2/2", timeout=REPLY_TIMEOUT_MS)
    await expect(last).to_have_attribute("data-status", "complete", timeout=REPLY_TIMEOUT_MS)
    await last.locator(".branch-prev").click()
    await expect(page.locator(".msg.assistant").last).to_have_attribute("data-status", "cancelled")
    await page.locator(".msg.assistant").last.locator(".branch-next").click()
    await expect(page.locator(".msg.assistant").last).to_have_attribute("data-status", "complete")


async def edit_into_branch(page: Page) -> None:
    """Editing the first message starts a branch; the old one is kept."""
    user_first = page.locator(".msg.user").first
    await user_first.hover()
    await user_first.locator(".edit").click()
    await page.fill(".msg.user.editing textarea", "Say hello in French.")
    await page.click(".edit-save")
    await expect(page.locator(".msg.user").first).to_contain_text("Say hello in French.")
    await expect(page.locator(".msg.user").first.locator(".branch-count")).to_have_text("2/2")
    await expect(page.locator(".msg.assistant").last).to_have_attribute(
        "data-status", "complete", timeout=REPLY_TIMEOUT_MS
    )


async def attach_an_image(page: Page) -> None:
    """Attach a picture with the paperclip, send it, see it inline, open it full size."""
    replies = page.locator(".msg.assistant")
    earlier = await replies.count()
    await page.set_input_files(
        "#attach-input",
        files=[FilePayload(name="sunset.png", mimeType="image/png", buffer=png(900, 600, "coral"))],
    )
    chip = page.locator("#attach-tray .att-chip[data-file-id]")
    await expect(chip).to_have_count(1)
    await expect(chip.locator(".att-thumb")).to_be_visible()
    await send(page, "Here is a photo of the sunset. Say something nice about sunsets.")
    await expect(page.locator("#attach-tray")).to_be_hidden()
    image = page.locator(".msg.user .att-inline").last
    await expect(image).to_be_visible()
    assert await image.evaluate("img => img.complete && img.naturalWidth > 0")
    await expect(replies).to_have_count(earlier + 1, timeout=REPLY_TIMEOUT_MS)
    await expect(replies.nth(earlier)).to_have_attribute(
        "data-status", "complete", timeout=REPLY_TIMEOUT_MS
    )
    await page.screenshot(path=SHOTS / "attachment.png")
    await page.locator(".att-image").last.click()
    full = page.locator("#viewer .viewer-image")
    await expect(full).to_be_visible()
    assert await full.evaluate("img => img.complete && img.naturalWidth") == 900
    await page.screenshot(path=SHOTS / "image-viewer.png")
    await page.keyboard.press("Escape")
    await expect(page.locator("#viewer")).to_have_count(0)


async def raw_html_is_text(page: Page, attack: str) -> None:
    """Raw HTML in a message is shown as text: nothing runs."""
    replies = page.locator(".msg.assistant")
    earlier = await replies.count()
    await send(page, attack)
    await expect(page.locator(".msg.user").last).to_contain_text(attack)
    assert await page.locator("#transcript img[src=x]").count() == 0
    # Its own reply, not the one before it (the new one appears once the message is accepted).
    await expect(replies).to_have_count(earlier + 1, timeout=REPLY_TIMEOUT_MS)
    await expect(replies.nth(earlier)).to_have_attribute(
        "data-status", "complete", timeout=REPLY_TIMEOUT_MS
    )


async def reload_finds_everything(page: Page, attack: str) -> None:
    """After a reload: the same branch, the same text, the other branch one click away."""
    url = page.url
    before = await page.locator("#transcript .msg").all_inner_texts()
    await page.reload()
    await expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    assert page.url == url
    await expect(page.locator(".msg.user").last).to_contain_text(attack)
    after = await page.locator("#transcript .msg").all_inner_texts()
    assert after == before, (before, after)
    image = page.locator(".msg.user .att-inline")  # the attached picture came back too
    await expect(image).to_be_visible()
    assert await image.evaluate("img => img.complete && img.naturalWidth > 0")
    await page.locator(".msg.user").first.locator(".branch-prev").click()
    await expect(page.locator(".msg.user").first).to_contain_text("adds two numbers")


async def test_the_page_at_phone_width_in_dark_mode(stack: Stack, browser: Browser) -> None:
    account = await stack.register()
    page = await open_page(
        browser, viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True
    )
    await log_in(page, stack, account.email, account.password)
    await send(page, "Hi! Give me three fruits as a list.")
    await expect(page.locator(".msg.assistant").first).to_have_attribute(
        "data-status", "complete", timeout=REPLY_TIMEOUT_MS
    )
    composer = page.locator("#composer")
    box = await composer.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    # No sideways scrolling at phone width.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    await page.screenshot(path=SHOTS / "phone-dark.png")

    # Shift+Enter is a new line, not a send.
    await composer.fill("line one")
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.type("line two")
    assert await composer.input_value() == "line one\nline two"
    assert await page.locator(".msg.user").count() == 1
