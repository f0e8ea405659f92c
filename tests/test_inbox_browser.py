"""The inbox in real Chromium: a question asked in the simulator (as a WhatsApp user) is answered
from the inbox, delivered by a real worker, and arrives in the simulator's thread."""

from __future__ import annotations

import pytest

from bot.dashboard import accounts
from tests.test_dashboard_browser import (  # noqa: F401 (fixtures)
    PASSWORD,
    XSS,
    browser,
    page,
    pytestmark,
    run_worker,
    server,
    shot,
)  # fmt: skip

QUESTION = f"is it safe to breastfeed when I have malaria {XSS[1]}"
ANSWER = "Yes, keep breastfeeding, and take the malaria medicine the health worker gives you."


@pytest.fixture
def config(config):
    return {**config, "SMS_MPS": 0, "HELPDESK": True}


def test_a_question_from_the_simulator_is_answered_from_the_inbox(page, services, config):  # noqa: F811
    from playwright.sync_api import expect

    accounts.create(services.store, "admin@example.org", "admin", PASSWORD, by="test", method="pbkdf2:sha256:1000")
    page.goto("/dashboard/login")
    page.fill("input[name=email]", "admin@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    page.goto("/dashboard/simulator")
    page.check("#simulator-whatsapp")
    page.fill("#simulator-form input[name=text]", QUESTION)
    page.click("#simulator-form button")
    expect(page.locator("#screen")).to_contain_text("A health worker will reply")
    expect(page.locator("#screen")).to_contain_text("WhatsApp ·")

    page.goto("/dashboard/inbox")
    card = page.locator("section.question").first
    expect(card.locator(".question-text")).to_have_text(QUESTION)  # the payload is text, never markup
    assert page.locator("img[src=x]").count() == 0 and page.dialogs == []
    card.locator("textarea[name=text]").fill(ANSWER)
    expect(card.locator(".counter")).to_contain_text("characters")
    shot(page, "inbox")
    card.locator("button:has-text('Send answer')").click()
    expect(page.locator("body")).to_contain_text("No open questions.")

    with run_worker(config) as worker:  # closes its stderr pipe and waits for it, even when it hangs
        try:
            _, errors = worker.communicate(timeout=60)
        finally:
            if worker.poll() is None:
                worker.kill()
    assert worker.returncode == 0, errors.decode()
    page.goto("/dashboard/simulator")
    expect(page.locator("#screen")).to_contain_text(ANSWER)
