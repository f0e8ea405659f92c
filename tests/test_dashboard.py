"""The operator dashboard through the Flask test client: who may do what, CSRF, escaping, masking, audit."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from bot import broadcasts, phones, subscriptions
from bot.cli import main
from bot.dashboard import accounts, privacy
from bot.dashboard.templating import when
from bot.store import Audit, Broadcasts, FieldWorkers, PersonRefs, Users
from tests.conftest import Phone, recorded
from tests.storeview import log_entries, person_log

PASSWORD = "correct horse battery"
FAST_HASH = "pbkdf2:sha256:1000"  # scrypt is right for production and too slow for a test table
XSS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;")
WORKER = "+254711000111"


class Dashboard:
    """A browser session on the dashboard: logs in, and sends each form's CSRF token."""

    def __init__(self, client):
        self.client = client

    def token(self) -> str:
        """This session's CSRF token, from the login page (or the overview it sends a logged-in user to)."""
        page = self.client.get("/dashboard/login", follow_redirects=True).text
        return re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)

    def login(self, email: str, password: str = PASSWORD):
        return self.client.post("/dashboard/login", data={"email": email, "password": password,
                                                           "csrf_token": self.token()})  # fmt: skip

    def as_role(self, role: str) -> Dashboard:
        response = self.login(f"{role}@example.org")
        assert response.status_code == 302, response.text
        return self

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict | None = None, *, token: bool = True, **kw):
        data = dict(data or {})
        if token:
            data["csrf_token"] = self.token()
        return self.client.post(path, data=data, **kw)

    def json(self, path: str, body: dict):
        return self.client.post(path, json=body, headers={"X-CSRFToken": self.token()})


@pytest.fixture
def users(services):
    for role in ("viewer", "operator", "admin"):
        accounts.create(services.store, f"{role}@example.org", role, PASSWORD, by="test", method=FAST_HASH)


@pytest.fixture
def dash(client, users) -> Dashboard:
    return Dashboard(client)


@pytest.fixture
def world(app, services, client, users):
    """A person who texted in, a field worker, a broadcast: what the routes need to exist."""
    family = Phone(client)
    family.text("hi")
    ref = privacy.ref_for(app.secret_key, family.number)
    worker_ref = privacy.ref_for(app.secret_key, WORKER)
    PersonRefs(services.store).remember({ref: family.number, worker_ref: WORKER})
    FieldWorkers(services.store).add(WORKER, "Achieng", ["kisumu"])
    services.store.redis.sadd(services.store.keys.group("kisumu"), "+254711000999")
    bid = broadcasts.create(services, topic_id="malaria", number=1, groups=["kisumu"], created_by=WORKER)
    return {"ref": ref, "worker": worker_ref, "bid": bid, "phone": family.number}


BROADCAST_FORM = {"topic": "malaria", "number": "1", "groups": "kisumu"}
# (method, path, lowest role allowed, form or JSON body). Every dashboard route is here (checked below).
ROUTES = [
    ("GET", "/dashboard/", "viewer", None),
    ("GET", "/dashboard/messages", "viewer", None),
    ("GET", "/dashboard/messages.csv", "viewer", None),
    ("GET", "/dashboard/people", "viewer", None),
    ("POST", "/dashboard/people/find", "viewer", {"number": "+256712345678"}),
    ("GET", "/dashboard/people/{ref}", "viewer", None),
    ("POST", "/dashboard/people/{ref}/reveal", "admin", {}),
    ("GET", "/dashboard/broadcasts", "viewer", None),
    ("GET", "/dashboard/api/broadcasts/{bid}", "viewer", None),
    ("GET", "/dashboard/broadcasts/new", "operator", None),
    ("POST", "/dashboard/broadcasts/new", "operator", BROADCAST_FORM),
    ("GET", "/dashboard/api/broadcasts/preview?topic=malaria&number=1&group=kisumu", "operator", None),
    ("POST", "/dashboard/broadcasts/{bid}/cancel", "operator", {}),
    ("GET", "/dashboard/fieldworkers", "viewer", None),
    ("POST", "/dashboard/fieldworkers", "operator", {"phone": "+254722000222", "name": "Otieno", "groups": "siaya"}),
    ("GET", "/dashboard/fieldworkers/{worker}", "viewer", None),
    ("POST", "/dashboard/fieldworkers/{worker}", "operator", {"name": "Achieng O.", "groups": "kisumu"}),
    ("POST", "/dashboard/fieldworkers/{worker}/remove", "operator", {}),
    ("GET", "/dashboard/inbox", "viewer", None),
    ("POST", "/dashboard/inbox/nosuchquestion/answer", "operator", {"text": "Yes."}),
    ("POST", "/dashboard/api/inbox/count", "operator", {"text": "Yes.", "channel": "sms"}),
    ("POST", "/dashboard/inbox/canned", "admin", {"name": "thanks", "text": "Thank you."}),
    ("GET", "/dashboard/simulator", "operator", None),
    ("POST", "/dashboard/api/simulator", "operator", {"text": "hi"}),
    ("GET", "/dashboard/simulator/call", "operator", None),
    ("POST", "/dashboard/simulator/call", "operator", {"lang": "en", "message": "malaria-1"}),
    ("GET", "/dashboard/queues", "viewer", None),
    ("GET", "/dashboard/content", "viewer", None),
    ("POST", "/dashboard/content/reload", "admin", {}),
    ("GET", "/dashboard/users", "admin", None),
    ("POST", "/dashboard/users", "admin", {"email": "new@example.org", "role": "viewer", "password": PASSWORD}),
    ("POST", "/dashboard/users/viewer@example.org/role", "admin", {"role": "operator"}),
    ("POST", "/dashboard/users/viewer@example.org/remove", "admin", {}),
    ("GET", "/dashboard/audit", "admin", None),
    ("POST", "/dashboard/logout", "viewer", {}),
]
RANK = {"anonymous": -1, "viewer": 0, "operator": 1, "admin": 2}


def _call(dash: Dashboard, method: str, path: str, body: dict | None, world: dict):
    path = path.format(**world)
    if method == "GET":
        return dash.get(path)
    if "/api/" in path:
        return dash.json(path, body or {})
    return dash.post(path, body)


@pytest.mark.parametrize("role", ["anonymous", "viewer", "operator", "admin"])
@pytest.mark.parametrize("method, path, needed, body", ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_permission_matrix(dash, world, role, method, path, needed, body):
    if role != "anonymous":
        dash.as_role(role)
    elif method == "POST":
        dash.token()  # an anonymous visitor can hold a CSRF token (from the login page): still refused
    response = _call(dash, method, path, body, world)
    if role == "anonymous":
        if "/api/" in path:
            assert response.status_code == 401 and response.json == {"error": "login required"}
        else:
            assert response.status_code == 302 and response.location.startswith("/dashboard/login?next=")
    elif RANK[role] < RANK[needed]:
        assert response.status_code == 403
        if "/api/" in path:
            assert response.is_json
    else:
        assert response.status_code in (200, 302), response.text[:500]
        if response.status_code == 302:
            assert "/dashboard/login" not in response.location or path.endswith("/logout")


def test_every_dashboard_route_is_in_the_matrix(app):
    tried = {(m, p.split("?")[0]) for m, p, _, _ in ROUTES}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("dashboard_") or rule.endpoint == "dashboard_auth.login":
            continue
        pattern = re.compile("^" + re.sub(r"<[^>]+>", "[^/]+", rule.rule) + "$")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert any(m == method and pattern.match(p) for m, p in tried), f"{method} {rule.rule} is not tried"


def test_login_page_is_public_and_login_needs_the_right_password(dash, services):
    assert dash.get("/dashboard/login").status_code == 200
    assert dash.login("viewer@example.org", "wrong password").status_code == 401
    response = dash.login("viewer@example.org")
    assert response.status_code == 302 and response.location == "/dashboard/"
    actions = [a["action"] for _, a in Audit(services.store).recent()]
    assert actions[:2] == ["login", "login_failed"]


def test_passwords_are_stored_hashed(services, users):
    record = Users(services.store).get("admin@example.org")
    assert PASSWORD not in str(record) and record["password"].startswith("pbkdf2:sha256")


def test_session_cookie_is_secure_http_only_and_lax(dash):
    response = dash.login("viewer@example.org")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_failed_logins_are_rate_limited(dash, services):
    for _ in range(5):
        assert dash.login("admin@example.org", "guess").status_code == 401
    assert dash.login("admin@example.org").status_code == 429  # even the right password, for now
    assert dash.login("viewer@example.org").status_code == 302  # another email is not locked out
    assert "login_blocked" in [a["action"] for _, a in Audit(services.store).recent()]


def test_next_only_leads_back_into_the_dashboard(dash):
    token = dash.token()
    form = {"email": "viewer@example.org", "password": PASSWORD, "csrf_token": token}
    response = dash.client.post("/dashboard/login?next=//evil.example/x", data=form)
    assert response.location == "/dashboard/"
    dash.client.post("/dashboard/logout", data={"csrf_token": dash.token()})
    response = dash.client.post("/dashboard/login?next=/dashboard/messages", data={**form, "csrf_token": dash.token()})
    assert response.location == "/dashboard/messages"


def test_logout_ends_the_session(dash):
    dash.as_role("viewer")
    dash.post("/dashboard/logout")
    assert dash.get("/dashboard/").status_code == 302


def test_a_new_password_signs_out_old_sessions(dash, services):
    dash.as_role("viewer")
    accounts.create(services.store, "viewer@example.org", "viewer", "another password", by="t", method=FAST_HASH)
    assert dash.get("/dashboard/").status_code == 302


@pytest.mark.parametrize("path, body", [
    ("/dashboard/broadcasts/new", BROADCAST_FORM),
    ("/dashboard/fieldworkers", {"phone": "+254722000222", "name": "Otieno", "groups": "siaya"}),
    ("/dashboard/users", {"email": "x@example.org", "role": "admin", "password": PASSWORD}),
    ("/dashboard/logout", {}),
])  # fmt: skip
def test_posts_without_a_csrf_token_are_refused(dash, world, services, path, body):
    dash.as_role("admin")
    assert dash.post(path, body, token=False).status_code == 400
    assert Users(services.store).get("x@example.org") is None
    assert FieldWorkers(services.store).get("+254722000222") is None
    assert [b["id"] for b in Broadcasts(services.store).recent()] == [world["bid"]]  # only the world's own
    assert dash.get("/dashboard/").status_code == 200  # still logged in: logout was refused too


def test_json_posts_need_the_csrf_header(dash):
    dash.as_role("operator")
    response = dash.client.post("/dashboard/api/simulator", json={"text": "hi"})
    assert response.status_code == 400 and response.is_json


def test_login_without_a_csrf_token_is_refused(dash):
    response = dash.client.post("/dashboard/login", data={"email": "viewer@example.org", "password": PASSWORD})
    assert response.status_code == 400


@pytest.mark.parametrize("payload, escaped", list(zip(XSS, ESCAPED, strict=True)))
def test_sms_bodies_are_shown_as_text(dash, client, payload, escaped):
    family = Phone(client)
    family.text(payload)
    dash.as_role("admin")
    for page in (dash.get("/dashboard/messages").text, dash.get(f"/dashboard/messages?text={payload}").text):
        assert payload not in page and escaped in page
    thread = dash.get(_person_link(dash.get("/dashboard/messages").text)).text
    assert payload not in thread and escaped in thread


@pytest.mark.parametrize("payload, escaped", list(zip(XSS, ESCAPED, strict=True)))
def test_field_worker_names_are_shown_as_text(dash, payload, escaped):
    dash.as_role("operator")
    dash.post("/dashboard/fieldworkers", {"phone": WORKER, "name": payload, "groups": "kisumu"})
    listing = dash.get("/dashboard/fieldworkers").text
    assert payload not in listing and escaped in listing
    detail = re.search(r'href="(/dashboard/fieldworkers/[0-9a-f]+)"', listing).group(1)
    page = dash.get(detail).text
    assert payload not in page and escaped in page


def test_pages_forbid_inline_script_and_caching(dash):
    dash.as_role("viewer")
    response = dash.get("/dashboard/messages")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def _person_link(page: str) -> str:
    return re.search(r'href="(/dashboard/people/[0-9a-f]+)"', page).group(1)


def test_numbers_are_masked_everywhere_by_default(dash, client, world):
    number = world["phone"]
    dash.as_role("admin")
    people = (
        f"/dashboard/people/{world['ref']}",
        "/dashboard/fieldworkers",
        f"/dashboard/fieldworkers/{world['worker']}",
    )
    for path in ("/dashboard/messages", "/dashboard/messages.csv", "/dashboard/broadcasts", *people):
        page = dash.get(path).text
        assert number not in page and WORKER not in page, path
    assert phones.mask(number) in dash.get("/dashboard/messages").text
    assert number not in _person_link(dash.get("/dashboard/messages").text)  # links carry a reference only


def test_an_admin_reveal_shows_the_number_and_is_audited(dash, services, world):
    dash.as_role("admin")
    page = dash.post(f"/dashboard/people/{world['ref']}/reveal").text
    assert world["phone"] in page
    _, entry = Audit(services.store).recent(1)[0]
    assert entry["actor"] == "admin@example.org" and entry["action"] == "reveal_number"
    assert entry["number"] == phones.mask(world["phone"])
    assert world["phone"] not in dash.get(f"/dashboard/people/{world['ref']}").text  # masked again after


def test_a_person_is_found_by_number_and_shown_with_their_profile(dash, client):
    family = Phone(client, "+256712000333")
    family.text("hi")
    family.text("10")
    dash.as_role("viewer")
    response = dash.post("/dashboard/people/find", {"number": "+256 712 000 333"})
    page = dash.get(response.location).text
    assert "Mosquitoes spread malaria" in page and "+256712000333" not in page and "First seen" in page


def test_the_log_filters_by_number_direction_text_and_pages_by_cursor(dash, client):
    Phone(client, "+254712000444").text("hi")
    other = Phone(client, "+256700000555")
    for _ in range(3):
        other.text("MENU")
    dash.as_role("viewer")
    by_full = dash.get("/dashboard/messages?number=%2B254712000444").text
    assert by_full.count('class="dir-in"') == 1 and by_full.count('class="dir-out"') == 1
    by_digits = dash.get("/dashboard/messages?number=0555&direction=in").text
    assert by_digits.count('class="dir-in"') == 3 and 'class="dir-out"' not in by_digits
    assert dash.get("/dashboard/messages?text=menu").text.count('class="dir-in"') == 3
    first = dash.get("/dashboard/messages?number=0555").text
    assert first.count("<tr class=") == 6  # three in, three out


def test_csv_export_follows_the_filter_and_defuses_formulas(dash, client):
    Phone(client, "+254712000666").text('=HYPERLINK("http://x")')
    dash.as_role("viewer")
    response = dash.get("/dashboard/messages.csv?direction=in&number=0666")
    lines = response.text.strip().splitlines()
    assert response.mimetype == "text/csv" and len(lines) == 2
    assert "'=HYPERLINK" in lines[1] and "+254712000666" not in response.text


def test_overview_counts_families_but_not_the_simulator(dash, client):
    Phone(client, "+254712000777").text("hi")
    Phone(client, "+254712000778").text("hi")
    dash.as_role("operator")
    dash.json("/dashboard/api/simulator", {"text": "hi"})
    page = dash.get("/dashboard/").text
    row = re.search(r"<th>Inbound messages</th>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r">(\d+)<", row) == ["2", "2", "2"]
    assert "<svg" in page


def test_the_simulator_talks_to_the_engine_and_is_logged_as_simulator(dash, services, app):
    dash.as_role("operator")
    reply = dash.json("/dashboard/api/simulator", {"text": "hi"}).json
    assert "Welcome to Facts for Life" in reply["parts"][0]["text"]
    number = privacy.test_number(app.secret_key, "operator@example.org")
    assert number.startswith("+000")
    entries = [e for _, e in log_entries(services.store, 10) if e["phone"] == number]
    assert {e["channel"] for e in entries} == {"simulator"} and len(entries) == 2


def test_a_trainer_who_joins_a_topic_in_the_simulator_sees_tips_that_are_never_sent(dash, services, app, config):
    dash.as_role("operator")
    assert "Malaria tip" in dash.json("/dashboard/api/simulator", {"text": "JOIN MALARIA"}).json["parts"][0]["text"]
    number = privacy.test_number(app.secret_key, "operator@example.org")
    due = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)  # 12:00 in Nairobi, outside quiet hours
    keys = services.store.keys
    services.store.redis.zadd(keys.subscriptions_due(), {keys.subscription_member(number, "malaria"): due.timestamp()})
    assert subscriptions.tick(services, now=due) == 1
    assert recorded(config) == [], "no gateway is asked to send to a test number"
    (tip,) = [e for _, e in person_log(services.store, number) if e.get("event") == "subscription"]
    assert tip["channel"] == "simulator" and tip["status"] == "simulated"
    assert tip["text"] == services.catalog.language("en").topic("malaria").messages[0].short
    assert tip["text"][:40] in dash.get("/dashboard/simulator").text


def test_a_broadcast_is_previewed_confirmed_and_created(dash, services):
    services.store.redis.sadd(services.store.keys.group("siaya"), "+254711000001", "+254711000002")
    services.store.redis.sadd(services.store.keys.groups(), "siaya")
    dash.as_role("operator")
    preview = dash.get("/dashboard/api/broadcasts/preview?topic=malaria&number=1&group=siaya").json
    assert preview["audience"] == 2 and preview["encoding"] == "GSM-7" and preview["cost"] == 2 * preview["segments"]
    form = {"topic": "malaria", "number": "1", "groups": "siaya"}
    confirm = dash.post("/dashboard/broadcasts/new", form)
    assert confirm.status_code == 200 and "Confirm broadcast" in confirm.text
    assert broadcasts.Broadcasts(services.store).recent() == []  # nothing sent before confirming
    created = dash.post("/dashboard/broadcasts/new", {**form, "confirmed": "y"})
    assert created.status_code == 302
    (info,) = broadcasts.Broadcasts(services.store).recent()
    assert info["created_by"] == "dashboard:operator@example.org" and info["planned"] == "2"
    progress = dash.get(f"/dashboard/api/broadcasts/{info['id']}").json
    assert progress["figures"]["planned"] == 2 and progress["percent"] == 0
    _, entry = Audit(services.store).recent(1)[0]
    assert entry["action"] == "broadcast_created" and entry["broadcast"] == info["id"]


def test_the_broadcast_list_says_when_a_batch_held_by_quiet_hours_goes_on(dash, make_services):
    local_hour = datetime.now(ZoneInfo("Africa/Nairobi")).hour
    night = make_services(BROADCAST_QUIET_HOURS=f"{local_hour}-{(local_hour + 2) % 24}")  # the worker's
    night.store.redis.sadd(night.store.keys.group("siaya"), "+254711000001")
    bid = broadcasts.create(night, topic_id="malaria", number=1, groups=["siaya"], created_by="test")
    broadcasts.send_batch(night, bid, 0)
    info = broadcasts.Broadcasts(night.store).get(bid)
    dash.as_role("viewer")
    page = dash.get("/dashboard/broadcasts").text
    assert f"quiet hours: goes on {when(info['quiet_until'])}" in page
    assert when(info["quiet_until"]).endswith(f"{(local_hour + 2 - 3) % 24:02d}:00:00")  # Nairobi is UTC+3


def test_a_broadcast_to_a_wrong_message_number_is_refused(dash):
    dash.as_role("operator")
    response = dash.post("/dashboard/broadcasts/new", {"topic": "malaria", "number": "9", "groups": "kisumu"})
    assert response.status_code == 400


def test_pause_resume_cancel_are_audited(dash, services, world):
    services.store.redis.sadd(services.store.keys.group("g"), "+254711000001")
    bid = broadcasts.create(services, topic_id="malaria", number=2, groups=["g"], created_by="t")
    dash.as_role("operator")
    for action in ("pause", "resume", "cancel"):
        dash.post(f"/dashboard/broadcasts/{bid}/{action}")
    assert broadcasts.Broadcasts(services.store).get(bid)["status"] == "cancelled"
    actions = [a["action"] for _, a in Audit(services.store).recent(3)]
    assert actions == ["broadcast_cancel", "broadcast_resume", "broadcast_pause"]


def test_field_worker_changes_are_audited_and_show_their_broadcasts(dash, services, world):
    dash.as_role("operator")
    page = dash.get(f"/dashboard/fieldworkers/{world['worker']}").text
    assert world["bid"] in page
    dash.post(f"/dashboard/fieldworkers/{world['worker']}", {"name": "Achieng O.", "groups": "kisumu, siaya"})
    assert FieldWorkers(services.store).get(WORKER)["groups"] == ["kisumu", "siaya"]
    dash.post(f"/dashboard/fieldworkers/{world['worker']}/remove")
    assert FieldWorkers(services.store).get(WORKER) is None
    actions = [a["action"] for _, a in Audit(services.store).recent(2)]
    assert actions == ["fieldworker_removed", "fieldworker_changed"]


def test_admins_manage_users_and_the_changes_are_audited(dash, services):
    dash.as_role("admin")
    dash.post("/dashboard/users", {"email": "New@Example.org", "role": "viewer", "password": PASSWORD})
    dash.post("/dashboard/users/new@example.org/role", {"role": "operator"})
    assert Users(services.store).get("new@example.org")["role"] == "operator"
    dash.post("/dashboard/users/admin@example.org/remove")  # not yourself
    assert Users(services.store).get("admin@example.org") is not None
    dash.post("/dashboard/users/new@example.org/remove")
    assert Users(services.store).get("new@example.org") is None
    actions = [a["action"] for _, a in Audit(services.store).recent(3)]
    assert actions == ["user_removed", "user_role_changed", "user_saved"]


def test_a_role_change_applies_at_once(dash, services):
    dash.as_role("operator")
    assert dash.get("/dashboard/broadcasts/new").status_code == 200
    accounts.set_role(services.store, "operator@example.org", "viewer")
    assert dash.get("/dashboard/broadcasts/new").status_code == 403


def test_content_shows_badges_and_admins_can_reload_it(dash, services):
    dash.as_role("admin")
    page = dash.get("/dashboard/content?lang=sw").text
    assert "GSM-7 · 1 SMS" in page and "The content check finds no problems." in page
    before = services.catalog
    assert dash.post("/dashboard/content/reload").status_code == 302
    assert services.catalog is not before and Audit(services.store).recent(1)[0][1]["action"] == "content_reloaded"


def test_queues_page_names_the_queues_and_warns_without_workers(dash, services):
    dash.as_role("viewer")
    page = dash.get("/dashboard/queues").text
    assert services.queue("bulk").name in page and "No worker is running" in page


@pytest.mark.parametrize("stdin, code", [(PASSWORD + "\n", 0), ("short\n", 1)])
def test_cli_user_add_reads_the_password_from_stdin(monkeypatch, redis_url, prefix, services, stdin, code):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_PREFIX", prefix)
    result = CliRunner().invoke(main, ["user", "add", "Ops@Example.org", "--role", "operator"], input=stdin)
    assert result.exit_code == code, result.output
    record = Users(services.store).get("ops@example.org")
    if code == 0:
        assert record["role"] == "operator" and accounts.check(services.store, "ops@example.org", PASSWORD)
    else:
        assert record is None and "at least 10 characters" in result.output


def test_a_broadcast_cannot_be_scheduled_in_the_past(dash, services, world):
    dash.as_role("operator")
    form = {**BROADCAST_FORM, "at": "2020-01-01T09:00", "confirmed": "y"}
    response = dash.post("/dashboard/broadcasts/new", form)
    assert response.status_code == 400 and "That time has passed" in response.text
    assert len(broadcasts.Broadcasts(services.store).recent()) == 1  # only the world's own


def test_a_scheduled_broadcast_waits_for_its_time(dash, services, world):
    dash.as_role("operator")
    response = dash.post("/dashboard/broadcasts/new", {**BROADCAST_FORM, "at": "2099-01-01T09:00", "confirmed": "y"})
    assert response.status_code == 302
    info = broadcasts.Broadcasts(services.store).recent(1)[0]
    assert info["status"] == "scheduled" and info["scheduled_at"] == "4070941200"


@pytest.mark.parametrize("before", ["1x", "1--2", "-", "abc-1", "9" * 40])
def test_a_malformed_page_cursor_is_ignored_on_every_paged_page(dash, world, before):
    dash.as_role("admin")
    for path in (f"/dashboard/people/{world['ref']}", "/dashboard/audit", "/dashboard/messages"):
        assert dash.get(f"{path}?before={before}").status_code == 200, path


def test_a_link_to_a_person_expires_on_its_own_after_it_was_last_shown(services):
    refs = PersonRefs(services.store)
    refs.remember({"r1": "+256700000001"})
    refs.remember({"r2": "+256700000002"})
    keys = refs.keys
    assert refs.phone("r1") == "+256700000001"
    assert 0 < services.store.redis.ttl(keys.person_ref("r1")) <= 30 * 86_400
    services.store.redis.delete(keys.person_ref("r1"))  # r1's time ran out; showing r2 again keeps only r2
    refs.remember({"r2": "+256700000002"})
    assert refs.phone("r1") is None and refs.phone("r2") == "+256700000002"


def test_a_field_worker_with_a_group_nobody_could_text_is_refused_not_trimmed(dash, services):
    dash.as_role("operator")
    form = {"phone": "+254722000444", "name": "Atieno", "groups": "kisumu, siaya town"}
    page = dash.post("/dashboard/fieldworkers", form, follow_redirects=True).text
    assert "Not saved" in page and "siaya town" in page
    assert FieldWorkers(services.store).get("+254722000444") is None
