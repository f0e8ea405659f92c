"""Families read in their own language: every language navigated end to end within its SMS budget."""

from __future__ import annotations

import pytest

from bot import content, menu, segments, ussd
from bot.menu import Event, Profile, Session, State
from bot.settings import ROOT
from tests.conftest import Phone

CATALOG = content.load(ROOT / "messages")
LANGS = ["en", "fr", "sw", "hi"]
CONTEXT = menu.Context(country_languages=(("KE", "sw"), ("TZ", "sw"), ("SN", "fr"), ("IN", "hi")))


def walk(lang: str, limits: menu.Limits = menu.Limits()):
    """Every reply of a whole walk through every topic, key message and detail."""
    profile = Profile(lang=lang, country="UG")
    session = Session()
    replies = []
    step = menu.step(session, profile, "MENU", CATALOG, limits, CONTEXT)
    replies.append(step)
    for n, topic in enumerate(CATALOG.language(lang).topics, 1):
        step = menu.step(Session(State.MENU), profile, str(n), CATALOG, limits, CONTEXT)
        replies.append(step)
        for _ in range(2 * len(topic.messages)):
            step = menu.step(step.session, profile, "MORE", CATALOG, limits, CONTEXT)
            replies.append(step)
            while step.session.pending:
                step = menu.step(step.session, profile, "MORE", CATALOG, limits, CONTEXT)
                replies.append(step)
    return replies


@pytest.mark.parametrize("lang", LANGS)
def test_whole_menu_in_each_language_fits_its_budget(lang):
    replies = walk(lang)
    assert len(replies) > 200
    for step in replies:
        assert 1 <= len(step.parts) <= 3, step
        for part in step.parts:
            assert segments.count(part).segments == 1, (lang, part)
            assert not segments.smart_changes(part)
    texts = "".join(p for s in replies for p in s.parts)
    if lang == "hi":
        assert segments.encoding_of(texts) == "UCS-2"
    for topic in CATALOG.language(lang).topics:
        for m in topic.messages:
            assert m.short in texts or m.short[:20] in texts


@pytest.mark.parametrize("lang", LANGS)
def test_every_ussd_screen_fits_in_each_language(lang):
    limits = menu.Limits(screen=178, screen_ucs2=76, texts="ussd_", silent_when_opted_out=False)
    profile = Profile(lang=lang, country="UG")
    for n, topic in enumerate(CATALOG.language(lang).topics, 1):
        path = [str(n)]
        for _ in range(len(topic.messages)):
            for key in ("1", "2"):
                turn = ussd.run(None, "+256700000001", "*".join(path + [key]), profile, None, CATALOG, limits,
                                CONTEXT)  # fmt: skip
                body = turn.screen
                limit = 182 if segments.is_gsm7(body) else 80
                assert len(body) <= limit, (lang, len(body), body)
            path.append("2")


@pytest.mark.parametrize("key, lang", [("2", "fr"), ("4", "sw")])
def test_choosing_a_language_on_ussd_shows_the_menu_in_it(key, lang):
    limits = menu.Limits(screen=178, screen_ucs2=76, texts="ussd_", silent_when_opted_out=False)
    turn = ussd.run(None, "+256700000001", f"77*{key}", Profile(lang="en", country="UG"), None, CATALOG, limits,
                    CONTEXT)  # fmt: skip
    topics = CATALOG.language(lang).topics
    assert turn.step.profile.lang == lang
    assert all(f"{n} {t.label}" in turn.screen for n, t in enumerate(topics[:4], 1)), turn.screen


@pytest.mark.parametrize(
    "lang, word, topic",
    [("fr", "PALUDISME", "malaria"), ("fr", "MALARIA", "malaria"), ("fr", "paludisme", "malaria"),
     ("fr", "diarrhee", "diarrhoea"), ("sw", "KUNYONYESHA", "breastfeeding"), ("sw", "malaria", "malaria"),
     ("hi", "मलेरिया", "malaria"), ("hi", "दस्त", "diarrhoea"), ("hi", "DAST", "diarrhoea"),
     ("hi", "स्तनपान", "breastfeeding"), ("en", "breastfeeding", "breastfeeding")],
)  # fmt: skip
def test_keywords_in_each_language_and_script(lang, word, topic):
    step = menu.step(Session(State.MENU), Profile(lang=lang), word, CATALOG, menu.Limits(), CONTEXT)
    assert step.topic == topic


@pytest.mark.parametrize(
    "lang, word",
    [("fr", "ARRET"), ("fr", "arrêt"), ("sw", "ACHA"), ("sw", "SITISHA"), ("hi", "रोकें"), ("hi", "BAND"),
     ("en", "STOP"), ("fr", "STOP"), ("hi", "STOP")],
)  # fmt: skip
def test_opt_out_words_in_each_language(lang, word):
    step = menu.step(Session(State.MENU), Profile(lang=lang), word, CATALOG, menu.Limits(), CONTEXT)
    assert step.event is Event.OPT_OUT and step.profile.opted_out


def test_a_stop_word_of_one_language_is_not_applied_to_another():
    # "acha" is Swahili for stop, and everyday Hindi for "okay".
    step = menu.step(Session(State.MENU), Profile(lang="hi"), "acha", CATALOG, menu.Limits(), CONTEXT)
    assert not step.profile.opted_out
    # A word in its own script cannot be mistaken: it stops whatever the profile says.
    step = menu.step(Session(State.MENU), Profile(lang="en"), "रोकें", CATALOG, menu.Limits(), CONTEXT)
    assert step.profile.opted_out


@pytest.mark.parametrize(
    "country, lang", [("KE", "sw"), ("TZ", "sw"), ("SN", "fr"), ("IN", "hi"), ("UG", "en"), ("", "en")]
)
def test_first_contact_language_from_the_country(country, lang):
    step = menu.step(Session(), Profile(country=country), "hello", CATALOG, menu.Limits(), CONTEXT)
    assert step.profile.lang == lang
    assert step.event is Event.WELCOME
    hint = segments.smart_encode(CATALOG.language(lang).texts["language_hint"])
    sent = " ".join(p.split(" ", 1)[1] if p[:1].isdigit() and "/" in p[:4] else p for p in step.parts)
    assert " ".join(hint.split()) in " ".join(sent.split())


def test_a_first_text_that_names_a_topic_also_says_how_to_change_language():
    hint = CATALOG.language("sw").texts["language_hint"]
    first = menu.step(Session(), Profile(country="KE"), "MALARIA", CATALOG, menu.Limits(), CONTEXT)
    assert first.event is Event.MESSAGE and first.session.topic == "malaria" and hint in first.parts[-1]
    assert all(segments.count(p).segments == 1 for p in first.parts)
    later = menu.step(first.session, first.profile, "MALARIA", CATALOG, menu.Limits(), CONTEXT)
    assert later.event is Event.MESSAGE and all(hint not in p for p in later.parts)


@pytest.mark.parametrize(
    "text, lang",
    [("LANG FR", "fr"), ("lang 3", "hi"), ("FRANÇAIS", "fr"), ("francais", "fr"), ("KISWAHILI", "sw"),
     ("हिंदी", "hi"), ("HINDI", "hi"), ("LANGUE EN", "en"), ("English", "en")],
)  # fmt: skip
def test_choosing_a_language(text, lang):
    start = Profile(lang="fr" if lang == "en" else "en")
    step = menu.step(Session(State.MENU), start, text, CATALOG, menu.Limits(), CONTEXT)
    assert step.profile.lang == lang and step.event is Event.LANGUAGE
    assert CATALOG.language(lang).topics[0].label in "\n".join(step.parts)


def test_lang_lists_the_languages_then_a_number_picks_one():
    listing = menu.step(Session(State.MENU), Profile(lang="en"), "LANG", CATALOG, menu.Limits(), CONTEXT)
    text = "\n".join(listing.parts)
    assert "1 English" in text and "Français" in text and "Kiswahili" in text and "हिंदी" in text
    picked = menu.step(listing.session, Profile(lang="en"), "4", CATALOG, menu.Limits(), CONTEXT)
    assert picked.profile.lang == list(CATALOG.languages)[3]


def test_a_french_confirmation_does_not_squeeze_the_menu_into_ucs2_parts():
    # "Français" needs UCS-2, the menu after it does not: each SMS is measured on its own.
    step = menu.step(Session(State.MENU), Profile(lang="en"), "LANG FR", CATALOG, menu.Limits(), CONTEXT)
    first, second = step.parts
    assert segments.count(first).encoding == "UCS-2" and segments.count(second).encoding == "GSM-7"
    assert segments.count(second).units > 70 and all(segments.count(p).segments == 1 for p in step.parts)
    assert step.session.pending == "", "the whole first menu page is sent, nothing waits behind MORE"


def test_hi_is_a_greeting_not_hindi():
    step = menu.step(Session(State.MENU), Profile(lang="en"), "hi", CATALOG, menu.Limits(), CONTEXT)
    assert step.profile.lang == "en" and step.event is Event.MENU


def test_transliteration_policy_keeps_french_in_gsm7():
    limits = menu.Limits(transliterate=frozenset({"fr"}))
    profile = Profile(lang="fr")
    plain = menu.step(Session(State.MENU), profile, "LANG", CATALOG, menu.Limits(), CONTEXT)
    assert "Français" in "\n".join(plain.parts)
    translit = menu.step(Session(State.MENU), profile, "LANG", CATALOG, limits, CONTEXT)
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
