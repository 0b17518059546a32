"""Search and analytics in headless Chromium: the sidebar box, filters, snippets, a click that
opens the conversation at the message, and the admins' dashboard with its charts."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, expect

from tests.integration.conftest import Account, Stack
from tests.integration.test_browser import SHOTS, browser, log_in, open_page
from tests.integration.test_cli import confab
from tests.integration.test_search import caught_up

__all__ = ["browser"]


async def long_conversation(stack: Stack, account: Account) -> None:
    """A chat of 40 recorded turns (through the OpenAI API) with the narwhal near the start."""
    code, token, err = await confab(stack, "token", "create", account.email)
    assert code == 0, err
    history = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"Filler line number {i}."}
        for i in range(40)
    ]
    history[2] = {"role": "user", "content": "Do narwhals <i>really</i> have tusks?"}
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=120) as http:
        response = await http.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {token.strip()}"},
            json={
                "model": "assistant",
                "messages": [*history, {"role": "user", "content": "Thanks!"}],
                "max_tokens": 8,
            },
        )
    assert response.status_code == 200, response.text
    await caught_up(stack)


async def test_a_search_from_the_sidebar_opens_the_conversation_at_the_message(
    stack: Stack, browser: Browser
) -> None:
    account = await stack.register()
    await long_conversation(stack, account)
    page = await open_page(browser, viewport={"width": 1280, "height": 800})
    await log_in(page, stack, account.email, account.password)

    await page.fill("#sidebar-search", "narwhal")
    await page.keyboard.press("Enter")
    hit = page.locator(".search-hit").first
    await expect(hit.locator("mark")).to_have_text("narwhals")
    await expect(hit.locator(".snippet")).to_contain_text("really have tusks")
    await expect(hit.locator(".snippet i")).to_have_count(0)  # the message's HTML is not markup
    await expect(page.locator(".search-hit")).to_have_count(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "search.png"))
    await page.select_option("#search-role", "assistant")
    await expect(page.locator(".search-hit")).to_have_count(0)
    await page.select_option("#search-role", "")
    message_id = await page.locator(".search-hit").first.get_attribute("data-message-id")

    await page.locator(".search-hit").first.click()

    target = page.locator(f'[data-turn-id="{message_id}"]')
    await expect(target).to_have_class(re.compile(r"\bsearch-focus\b"))
    await expect(target).to_be_in_viewport()
    await expect(target).to_contain_text("narwhals")


async def test_the_dashboard_shows_charts_to_admins_only(stack: Stack, browser: Browser) -> None:
    admin = await stack.register()
    code, _, err = await confab(stack, "admin", "grant", admin.email)
    assert code == 0, err
    await long_conversation(stack, admin)
    page = await open_page(browser, viewport={"width": 1280, "height": 900})
    await log_in(page, stack, admin.email, admin.password)

    await page.click("#analytics-link")
    await expect(page.locator('[data-stat="messages"] .stat-value')).not_to_have_text("0")
    await expect(page.locator("#chart-days canvas")).to_have_count(1)
    await expect(page.locator("#chart-bots canvas")).to_have_count(1)
    await expect(page.locator("#top-terms li").first).to_be_visible()
    await page.screenshot(path=str(SHOTS / "analytics.png"), full_page=True)

    user = await stack.register()  # not a shared fixture: other tests may make those admins
    user_page = await open_page(browser)
    await log_in(user_page, stack, user.email, user.password)
    await expect(user_page.locator("#analytics-link")).to_be_hidden()
    await user_page.goto(stack.base_url + "/#/admin/analytics")
    await expect(user_page.locator("#dashboard [role=alert]")).to_contain_text("admin")
