"""The dashboard in real Chromium: log in, chat in the simulator, find it in the log, send a broadcast.

The app is served by werkzeug on 127.0.0.1 (a random port); the broadcast is delivered by a
real `factsbot worker --burst` process with the recording provider. Each page is saved as a
screenshot. They go to a temporary folder, so a test run leaves the work tree clean; to
refresh the README's pictures run `FACTSBOT_SCREENSHOTS=docs/screenshots scripts/test -k browser`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from bot.dashboard import accounts
from tests.conftest import Phone, recorded

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("FACTSBOT_SCREENSHOTS") or Path(tempfile.gettempdir()) / "factsbot-screenshots")
PASSWORD = "correct horse battery"
XSS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
VILLAGE = ["+256700100001", "+256700100002", "+256700100003"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"Debian's chromium is not installed ({CHROMIUM} missing): "
        "apt-get install -y chromium (.ci/run installs it)",
    ),  # fmt: skip
]


@pytest.fixture
def config(config):
    return {**config, "SMS_MPS": 0, "BROADCAST_BATCH_SIZE": 2}


@pytest.fixture
def server(app):
    """The app on a real socket, in a thread of this process."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    http.server_close()


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM,
                                     args=["--headless", "--no-sandbox", "--disable-gpu",
                                           "--disable-background-networking"])  # fmt: skip
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.dialogs = []  # an alert() would mean a payload ran
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def run_worker(config) -> subprocess.Popen:
    env = {**os.environ, "REDIS_URL": config["REDIS_URL"], "REDIS_PREFIX": config["REDIS_PREFIX"],
           "SMS_PROVIDER": "record", "SMS_RECORD_PATH": config["SMS_RECORD_PATH"], "SMS_MPS": "0",
           "BROADCAST_QUIET_HOURS": config["BROADCAST_QUIET_HOURS"], "FACTSBOT_ENV": "production",
           # production refuses a Redis that keeps nothing on disk (bot/persistence.py); the suite's is one
           "ALLOW_VOLATILE_REDIS": str(config["ALLOW_VOLATILE_REDIS"]).lower(),
           "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--burst"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip


def test_an_operator_day_in_the_browser(page, services, client, config):
    from playwright.sync_api import expect

    accounts.create(services.store, "admin@example.org", "admin", PASSWORD, by="test", method="pbkdf2:sha256:1000")
    r = services.store.redis
    r.sadd(services.store.keys.group("village"), *VILLAGE)
    r.sadd(services.store.keys.groups(), "village")
    for n, words in enumerate((["hi", "10", "MORE"], ["hi", "4"], ["hi", "STOP"], [XSS[0]], [XSS[1]])):
        family = Phone(client, f"+25670020000{n}")
        for text in words:
            family.text(text)

    # Anonymous: sent to the login page.
    page.goto("/dashboard/messages")
    expect(page).to_have_url(re.compile(r"/dashboard/login\?next="))
    shot(page, "login")
    page.fill("input[name=email]", "admin@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Message log")

    # The simulator: the same engine, a test number.
    page.goto("/dashboard/simulator")
    for text, reply in (("hi", "Welcome to Facts for Life"), ("10", "Mosquitoes spread malaria")):
        page.fill("#simulator-form input[name=text]", text)
        page.click("#simulator-form button")
        expect(page.locator("#screen")).to_contain_text(reply)
    shot(page, "simulator")

    # ... and those messages in the log.
    page.goto("/dashboard/messages?channel=simulator")
    expect(page.locator("table.log tbody tr")).to_have_count(4)
    expect(page.locator("table.log")).to_contain_text("Mosquitoes spread malaria")

    # XSS payloads are text: shown literally, never run, no element made of them.
    page.goto("/dashboard/messages")
    for payload in XSS:
        expect(page.locator("td.text", has_text=payload)).to_have_count(1)
    assert page.locator("img[src=x]").count() == 0 and page.dialogs == []
    shot(page, "messages")
    page.locator("tr", has_text=XSS[0]).first.locator("a.number").click()
    expect(page.locator("h1")).to_contain_text("Conversation with +256")
    expect(page.locator(".thread")).to_contain_text(XSS[0])
    shot(page, "conversation")

    # A broadcast through the form: preview, confirmation, live progress to 100 %.
    page.goto("/dashboard/broadcasts/new")
    page.select_option("#topic", "malaria")
    page.check("input[name=groups][value=village]")
    expect(page.locator("#preview-audience")).to_have_text("3")
    expect(page.locator("#preview-text")).to_contain_text("Mosquitoes")
    shot(page, "broadcast_new")
    page.click("button:has-text('Review')")
    expect(page.locator("h1")).to_have_text("Confirm broadcast")
    shot(page, "broadcast_confirm")
    page.click("button:has-text('Send broadcast')")
    expect(page.locator("h1")).to_have_text("Broadcasts")
    bar = page.locator(".progress").first
    expect(bar.locator(".percent")).to_have_text("0%")
    with run_worker(config) as worker:  # closes its stderr pipe and waits for it, even when the page fails
        try:
            expect(bar.locator(".percent")).to_have_text("100%", timeout=60_000)  # moved by polling, no reload
            expect(bar.locator('[data-figure="sent"]')).to_have_text("3")
            _, errors = worker.communicate(timeout=60)
        finally:
            if worker.poll() is None:
                worker.kill()
    assert worker.returncode == 0, errors.decode()
    assert sorted(s["to"] for s in recorded(config) if s.get("broadcast_id")) == VILLAGE
    shot(page, "broadcasts")

    # A field worker whose name is a payload.
    page.goto("/dashboard/fieldworkers")
    page.fill("input[name=phone]", "+256700300001")
    page.fill("input[name=name]", XSS[1])
    page.fill("input[name=groups]", "village")
    page.click("button:has-text('Add')")
    expect(page.locator("table")).to_contain_text(XSS[1])
    assert page.locator("img[src=x]").count() == 0 and page.dialogs == []
    shot(page, "fieldworkers")

    for path, name, heading in (("/dashboard/", "overview", "Overview"), ("/dashboard/people", "people", "Subscribers"),
                                ("/dashboard/content?lang=sw", "content", "Content"),
                                ("/dashboard/queues", "queues", "Queues"), ("/dashboard/users", "users", "Users"),
                                ("/dashboard/audit", "audit", "Audit log")):  # fmt: skip
        page.goto(path)
        expect(page.locator("h1")).to_contain_text(heading)
        shot(page, name)
    page.goto("/dashboard/")
    expect(page.locator("svg.chart rect").first).to_be_attached()
    assert page.dialogs == []
