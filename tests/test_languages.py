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
