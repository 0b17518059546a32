"""An imported ChatGPT history in headless Chromium: in the list, on its branch, with its edit."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.integration.conftest import Stack
from tests.integration.test_browser import SHOTS, browser, log_in, open_page
from tests.integration.test_cli import confab
from tests.integration.test_import import FIXTURE, caught_up

__all__ = ["browser"]


async def test_an_imported_chat_opens_on_the_branch_it_was_left_on(
    stack: Stack, browser: Browser
) -> None:
    kim = await stack.register()
    code, _, err = await confab(stack, "import", "chatgpt", str(FIXTURE), "--user", kim.email)
    assert code == 0, err
    await caught_up(stack)
    page = await open_page(browser, viewport={"width": 1280, "height": 800})
    await log_in(page, stack, kim.email, kim.password)

    trip = page.locator(".conv-item", has_text="Weekend trip")
    await expect(trip).to_be_visible()
    await expect(page.locator(".conv-group", has_text="Older")).to_be_visible()
    await trip.click()

    await expect(page.locator(".msg.assistant").last).to_contain_text("francesinha")
    first = page.locator(".msg.user").first
    await expect(first).to_contain_text("Plan a weekend in Porto")
    await expect(first.locator(".branch-count")).to_have_text("2/2")  # the edit, kept
    await expect(page.locator(".msg", has_text="Lisbon")).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "imported.png"))
