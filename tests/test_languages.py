"""Families read in their own language: every language navigated end to end within its SMS budget."""

from __future__ import annotations

import pytest

from bot import content, menu, segments, ussd
from bot.engine import Engine
from bot.menu import Event, Profile, Session, State
from bot.render.sms import SmsRenderer
from bot.render.ussd import UssdRenderer
from bot.settings import ROOT
from tests.conftest import Phone
from tests.test_helpline_reply import line, sent_now

CATALOG = content.load(ROOT / "messages")
LANGS = ["en", "fr", "sw", "hi"]
CONTEXT = menu.Context(country_languages=(("KE", "sw"), ("TZ", "sw"), ("SN", "fr"), ("IN", "hi")))
SMS = Engine(CATALOG, SmsRenderer(), CONTEXT)
USSD = Engine(CATALOG, UssdRenderer(screen=178, screen_ucs2=76), CONTEXT)


def walk(lang: str, engine: Engine = SMS):
    """Every reply of a whole walk through every topic, key message and detail."""
    profile = Profile(lang=lang, country="UG")
    session = Session()
    replies = []
    answer = engine.answer_text(session, profile, "MENU")
    replies.append(answer)
    for n, topic in enumerate(CATALOG.language(lang).topics, 1):
        answer = engine.answer_text(Session(State.MENU), profile, str(n))
        replies.append(answer)
        for _ in range(2 * len(topic.messages)):
            answer = engine.answer_text(answer.session, profile, "MORE")
            replies.append(answer)
            while answer.session.pending:
                answer = engine.answer_text(answer.session, profile, "MORE")
                replies.append(answer)
    return replies


@pytest.mark.parametrize("lang", LANGS)
def test_whole_menu_in_each_language_fits_its_budget(lang):
    replies = walk(lang)
    assert len(replies) > 200
    for answer in replies:
        assert 1 <= len(answer.parts) <= 3, answer
        for part in answer.parts:
            assert segments.count(part).segments == 1, (lang, part)
    texts = "".join(p for s in replies for p in s.parts)
    if lang == "hi":
        assert segments.encoding_of(texts) == "UCS-2"
    for topic in CATALOG.language(lang).topics:
        for m in topic.messages:
            assert m.short in texts or m.short[:20] in texts


@pytest.mark.parametrize("lang", LANGS)
def test_every_ussd_screen_fits_in_each_language(lang):
    profile = Profile(lang=lang, country="UG")
    for n, topic in enumerate(CATALOG.language(lang).topics, 1):
        path = [str(n)]
        for _ in range(len(topic.messages)):
            for key in ("1", "2"):
                turn = ussd.run(USSD, None, "+256700000001", "*".join(path + [key]), profile, None)
                body = turn.screen
                limit = 182 if segments.is_gsm7(body) else 80
                assert len(body) <= limit, (lang, len(body), body)
            path.append("2")


@pytest.mark.parametrize("key, lang", [("2", "fr"), ("4", "sw")])
def test_choosing_a_language_on_ussd_shows_the_menu_in_it(key, lang):
    turn = ussd.run(USSD, None, "+256700000001", f"77*{key}", Profile(lang="en", country="UG"), None)
    topics = CATALOG.language(lang).topics
    assert turn.answer.profile.lang == lang
    assert all(f"{n} {t.label}" in turn.screen for n, t in enumerate(topics[:4], 1)), turn.screen


@pytest.mark.parametrize(
    "lang, word, topic",
    [("fr", "PALUDISME", "malaria"), ("fr", "MALARIA", "malaria"), ("fr", "paludisme", "malaria"),
     ("fr", "diarrhee", "diarrhoea"), ("sw", "KUNYONYESHA", "breastfeeding"), ("sw", "malaria", "malaria"),
     ("hi", "मलेरिया", "malaria"), ("hi", "दस्त", "diarrhoea"), ("hi", "DAST", "diarrhoea"),
     ("hi", "स्तनपान", "breastfeeding"), ("en", "breastfeeding", "breastfeeding")],
)  # fmt: skip
def test_keywords_in_each_language_and_script(lang, word, topic):
    answer = SMS.answer_text(Session(State.MENU), Profile(lang=lang), word)
    assert answer.topic == topic


@pytest.mark.parametrize(
    "lang, word",
    [("fr", "ARRET"), ("fr", "arrêt"), ("sw", "ACHA"), ("sw", "SITISHA"), ("hi", "रोकें"), ("hi", "BAND"),
     ("en", "STOP"), ("fr", "STOP"), ("hi", "STOP")],
)  # fmt: skip
def test_opt_out_words_in_each_language(lang, word):
    answer = SMS.answer_text(Session(State.MENU), Profile(lang=lang), word)
    assert answer.event is Event.OPT_OUT and answer.profile.opted_out


def test_a_stop_word_of_one_language_is_not_applied_to_another():
    # "acha" is Swahili for stop, and everyday Hindi for "okay".
    answer = SMS.answer_text(Session(State.MENU), Profile(lang="hi"), "acha")
    assert not answer.profile.opted_out
    # A word in its own script cannot be mistaken: it stops whatever the profile says.
    answer = SMS.answer_text(Session(State.MENU), Profile(lang="en"), "रोकें")
    assert answer.profile.opted_out


@pytest.mark.parametrize(
    "country, lang", [("KE", "sw"), ("TZ", "sw"), ("SN", "fr"), ("IN", "hi"), ("UG", "en"), ("", "en")]
)
def test_first_contact_language_from_the_country(country, lang):
    answer = SMS.answer_text(Session(), Profile(country=country), "hello")
    assert answer.profile.lang == lang
    assert answer.event is Event.WELCOME
    hint = segments.smart_encode(CATALOG.language(lang).texts["language_hint"])
    sent = " ".join(p.split(" ", 1)[1] if p[:1].isdigit() and "/" in p[:4] else p for p in answer.parts)
    assert " ".join(hint.split()) in " ".join(sent.split())


def test_a_first_text_that_names_a_topic_also_says_how_to_change_language():
    hint = CATALOG.language("sw").texts["language_hint"]
    first = SMS.answer_text(Session(), Profile(country="KE"), "MALARIA")
    assert first.event is Event.MESSAGE and first.session.topic == "malaria" and hint in first.parts[-1]
    assert all(segments.count(p).segments == 1 for p in first.parts)
    later = SMS.answer_text(first.session, first.profile, "MALARIA")
    assert later.event is Event.MESSAGE and all(hint not in p for p in later.parts)


@pytest.mark.parametrize(
    "text, lang",
    [("LANG FR", "fr"), ("lang 3", "hi"), ("FRANÇAIS", "fr"), ("francais", "fr"), ("KISWAHILI", "sw"),
     ("हिंदी", "hi"), ("HINDI", "hi"), ("LANGUE EN", "en"), ("English", "en")],
)  # fmt: skip
def test_choosing_a_language(text, lang):
    start = Profile(lang="fr" if lang == "en" else "en")
    answer = SMS.answer_text(Session(State.MENU), start, text)
    assert answer.profile.lang == lang and answer.event is Event.LANGUAGE
    assert CATALOG.language(lang).topics[0].label in "\n".join(answer.parts)


def test_lang_lists_the_languages_then_a_number_picks_one():
    listing = SMS.answer_text(Session(State.MENU), Profile(lang="en"), "LANG")
    text = "\n".join(listing.parts)
    assert "1 English" in text and "Français" in text and "Kiswahili" in text and "हिंदी" in text
    picked = SMS.answer_text(listing.session, Profile(lang="en"), "4")
    assert picked.profile.lang == list(CATALOG.languages)[3]


def test_a_french_confirmation_does_not_squeeze_the_menu_into_ucs2_parts():
    # "Français" needs UCS-2, the menu after it does not: each SMS is measured on its own.
    answer = SMS.answer_text(Session(State.MENU), Profile(lang="en"), "LANG FR")
    first, second = answer.parts
    assert segments.count(first).encoding == "UCS-2" and segments.count(second).encoding == "GSM-7"
    assert segments.count(second).units > 70 and all(segments.count(p).segments == 1 for p in answer.parts)
    assert answer.session.pending == "", "the whole first menu page is sent, nothing waits behind MORE"


def test_hi_is_a_greeting_not_hindi():
    answer = SMS.answer_text(Session(State.MENU), Profile(lang="en"), "hi")
    assert answer.profile.lang == "en" and answer.event is Event.MENU


def test_transliteration_policy_keeps_french_in_gsm7():
    translit_fr = Engine(CATALOG, SmsRenderer(transliterate=frozenset({"fr"})), CONTEXT)
    profile = Profile(lang="fr")
    plain = SMS.answer_text(Session(State.MENU), profile, "LANG")
    assert "Français" in "\n".join(plain.parts)
    translit = translit_fr.answer_text(Session(State.MENU), profile, "LANG")
    assert "Francais" in "\n".join(translit.parts)


def test_transliterate_maps_only_what_gsm7_lacks():
    assert segments.transliterate("fenêtre, garçon, cœur, été, à") == "fenetre, garcon, coeur, été, à"
    assert segments.transliterate("हिंदी") == "हिंदी"


def test_over_the_webhook_a_kenyan_number_gets_swahili(client, services):
    phone = Phone(client, "+254712345678")
    first = "\n".join(phone.text("habari"))
    assert "Karibu" in first
    assert services.store.profile_fields("+254712345678")["lang"] == "sw"
    assert "LANG" in first or "LUGHA" in first


# -- issue 9: danger signs, symptoms and private topics, from each language's country ----------------------

MALARIA_COUNTRIES = frozenset({"KE", "SN", "IN", "UG"})
FIRST = Engine(CATALOG, SmsRenderer(), menu.Context(country_languages=CONTEXT.country_languages,
                                                     malaria_countries=MALARIA_COUNTRIES))  # fmt: skip
COUNTRIES = [("KE", "sw", "999 / 112"), ("SN", "fr", "18 / 17"), ("IN", "hi", "112"), ("UG", "en", "999 / 112")]


def said(answer) -> str:
    """A reply's parts as one text, without their "1/2 " numbers."""
    return " ".join(p.split(" ", 1)[1] if p[:1].isdigit() and "/" in p[:4] else p for p in answer.parts)


def flat(text: str) -> str:
    return " ".join(segments.smart_encode(text).split())


@pytest.mark.parametrize(
    "country, text",
    [("KE", "Mama anavuja damu nyingi sana"), ("KE", "my wife is BLEEDING A LOT"), ("SN", "ma femme saigne beaucoup"),
     ("SN", "Mon bébé a des convulsions!"), ("IN", "बहुत खून बह रहा है"), ("IN", "bahut khoon bah raha hai"),
     ("UG", "my baby is not breathing"), ("UG", "she is bleeding a lot after birth")],
)  # fmt: skip
def test_a_danger_sign_gets_the_urgent_answer_with_the_countrys_number(country, text):
    _, lang, number = next(c for c in COUNTRIES if c[0] == country)
    for session in (Session(), Session(State.MENU), Session(State.MESSAGE, topic="malaria")):
        answer = FIRST.answer_text(session, Profile(country=country), text)
        expected = CATALOG.language(lang).texts["urgent"].format(emergency=number)
        assert answer.event is Event.URGENT and flat(said(answer)) == flat(expected), said(answer)
        assert answer.session.state == session.state, "the person keeps their place"


@pytest.mark.parametrize("country, lang, number", COUNTRIES)
def test_an_ordinary_text_gets_the_same_hint_as_before(country, lang, number):
    # A few words only: from four on, a text is a question (issue 13, tests/test_questions.py).
    ordinary = {"sw": "asante sana mama", "fr": "merci beaucoup madame", "hi": "बहुत धन्यवाद जी",
                "en": "thanks a lot"}[lang]  # fmt: skip
    answer = FIRST.answer_text(Session(State.MENU), Profile(lang=lang, country=country), ordinary)
    assert answer.event is Event.HINT and flat(said(answer)) == flat(CATALOG.language(lang).texts["unknown"])


def test_a_danger_sign_without_a_known_emergency_number_says_how_to_get_there():
    answer = FIRST.answer_text(Session(State.MENU), Profile(lang="en", country="NG"), "he is unconscious")
    assert answer.event is Event.URGENT and flat(said(answer)) == flat(CATALOG.language("en").texts["urgent_no_number"])


def test_a_danger_sign_is_answered_after_stop_and_the_opt_out_stands():
    stopped = Profile(lang="en", country="UG", opted_out=True)
    answer = FIRST.answer_text(Session(), stopped, "my baby is not breathing")
    assert answer.event is Event.URGENT and "999 / 112" in said(answer) and answer.profile.opted_out
    assert FIRST.answer_text(Session(), stopped, "MENU").parts == ()


@pytest.mark.parametrize(
    "country, lang, text, message",
    [("KE", "sw", "HOMA", "malaria-2"), ("KE", "sw", "FEVER", "malaria-2"), ("SN", "fr", "mon fils a de la fièvre",
     "malaria-2"), ("IN", "hi", "बुखार", "malaria-2"), ("UG", "en", "fever", "malaria-2"),
     ("FR", "fr", "FIEVRE", "coughs-colds-6"), ("GB", "en", "my child has a fever", "coughs-colds-6"),
     ("UG", "en", "COUGH", "coughs-colds-2"), ("KE", "sw", "KIKOHOZI", "coughs-colds-2"),
     ("IN", "hi", "KHANSI", "coughs-colds-2"), ("SN", "fr", "il respire vite", "coughs-colds-2")],
)  # fmt: skip
def test_a_symptom_opens_the_seek_care_message(country, lang, text, message):
    for session in (Session(), Session(State.MENU)):
        answer = FIRST.answer_text(session, Profile(lang=lang, country=country), text)
        assert (answer.event, answer.message) == (Event.MESSAGE, message), said(answer)


@pytest.mark.parametrize("lang", LANGS)
def test_a_private_topics_headers_never_name_it(lang):
    language = CATALOG.language(lang)
    for topic in language.topics:
        for index, message in enumerate(topic.messages):
            if not topic.is_discreet(message):
                continue
            reading = Session(State.MESSAGE, topic=topic.id, index=index)
            for engine in (SMS, USSD):
                shown = engine.answer(reading, Profile(lang=lang, country="KE"), menu.Action(menu.Do.SHOW))
                assert topic.label not in " ".join(shown.parts), (lang, engine.renderer, shown.parts)
                assert flat(message.short)[:20] in flat(said(shown)), (lang, shown.parts)


@pytest.mark.parametrize("lang", LANGS)
def test_joining_a_private_topic_needs_yes(lang):
    language = CATALOG.language(lang)
    yes, no = language.word("opt_in"), language.word("decline")
    profile = Profile(lang=lang, country="KE")
    asked = SMS.answer_text(Session(State.MENU), profile, "JOIN HIV")
    assert asked.event is Event.JOIN_CONFIRM and asked.profile.subscriptions == ()
    assert "HIV" not in " ".join(asked.parts) and asked.session.join_pending == "hiv"
    joined = SMS.answer_text(asked.session, asked.profile, yes)
    assert joined.event is Event.JOINED and joined.profile.subscriptions == ("hiv",) and not joined.session.join_pending
    refused = SMS.answer_text(asked.session, asked.profile, no)
    assert refused.profile.subscriptions == () and not refused.session.join_pending
    moved_on = SMS.answer_text(asked.session, asked.profile, "MENU")
    assert moved_on.event is Event.MENU and not moved_on.session.join_pending
    later_yes = SMS.answer_text(moved_on.session, moved_on.profile, yes)
    assert later_yes.profile.subscriptions == (), "a YES long after the question subscribes to nothing"
    plain = SMS.answer_text(Session(State.MENU), profile, "JOIN MALARIA")
    assert plain.event is Event.JOINED and plain.profile.subscriptions == ("malaria",)


@pytest.mark.parametrize(("lang", "country"), [("en", "UG"), ("sw", "KE"), ("fr", "SN"), ("fr", "BF"), ("hi", "IN"),
                                               ("en", "NG"), ("sw", "XX"), ("fr", "CD"), ("hi", "XX")])  # fmt: skip
def test_every_helpline_reply_reaches_its_helpline_in_each_language(lang, country):
    """A child-protection reply whose helpline waits behind MORE is one a family may never see.

    Our own texts leave room for the navigation hint too (the renderer would drop it only
    for a longer number than any in helplines.yaml). Unlisted countries get the no-number text.
    """
    profile = Profile(lang=lang, country=country)
    language = CATALOG.language(lang)
    h = CATALOG.helpline(country)
    expected = line(lang, h if h.child else None)
    for n, topic in enumerate(language.topics, 1):
        if not topic.helpline:
            continue
        answer = SMS.answer_text(Session(State.MENU), profile, str(n))
        for m in topic.messages:
            detail = SMS.answer_text(answer.session, profile, "MORE")
            for reply, hints in ((answer, ("message_hint", "message_hint_short")), (detail, ("detail_hint",))):
                assert not reply.session.pending, (m.id, reply.parts)
                sent = sent_now(reply.parts)
                assert sent.endswith(expected), (m.id, reply.parts)
                assert any(" ".join(language.texts[k].split()) in sent for k in hints), (m.id, reply.parts)
            answer = SMS.answer_text(detail.session, profile, "NEXT")
