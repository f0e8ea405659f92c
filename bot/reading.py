"""Reading what a person typed: SMS words into an `Action`, numbers, topic names. Pure.

Every number any channel reads goes through `number`: `str.isdigit()` is true for `²` and
`①`, which `int()` refuses, so only ASCII digits count as a number here.
"""

from __future__ import annotations

import difflib

from bot import questions
from bot.content import Catalog, Language, Topic, normalise_keyword
from bot.menu import Action, Do, Profile, Session, State

# How much of an inbound text is read: commands and keywords are short, and a
# 10,000-character body must cost no more than a 10-character one.
READ_CHARS = 160
# A danger sign can come late in a long text; the whole inbound text (cut at 1,600) is searched for one.
DANGER_READ_CHARS = 1600
FUZZY_CUTOFF = 0.8
NUMBER_DIGITS = 6  # a choice longer than this is no menu number: read its first digits only


def number(text: str) -> int | None:
    """`text` as a non-negative number if it is ASCII digits only ("10"), else None ("²", "1a", "")."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    return int(text[:NUMBER_DIGITS])


def read_text(text: str, session: Session, profile: Profile, catalog: Catalog) -> Action:
    """What an SMS text asks for, read in the person's language and in English.

    Global words come first, in the order short-code rules demand: opt-out beats everything,
    HELP works even while opted out; then a text describing an emergency gets the urgent
    answer before anything else; then navigation, symptoms, then topic keywords.
    """
    lang = catalog.language(profile.lang)
    word = normalise_keyword(text[:READ_CHARS])
    means = lang.meanings(word)  # the commands this word is a word for, in the person's language or English
    # The person's language and English: a word that means STOP in one language can be
    # an everyday word in another ("acha" is Swahili's "stop" and Hindi's "okay").
    if "opt_out" in means or word in catalog.script_opt_out_words:
        return Action(Do.OPT_OUT)
    if "help" in means:
        return Action(Do.HELP)
    if lang.is_danger(text[:DANGER_READ_CHARS]):  # the person's language and English
        return Action(Do.URGENT)
    if session.join_pending and "opt_in" in means:
        return Action(Do.CONFIRM_JOIN)
    if session.join_pending and "decline" in means:
        return Action(Do.DECLINE_JOIN)
    if profile.invite and "opt_in" in means:
        return Action(Do.ACCEPT_INVITE)
    if profile.opted_out and "opt_in" in means:
        return Action(Do.OPT_IN)
    head, _, rest = word.partition(" ")
    head_means, rest_means = lang.meanings(head), lang.meanings(rest)
    for command, do in (("join", Do.JOIN), ("leave", Do.LEAVE)):
        if command in head_means:
            topic = subscription_topic(rest, lang) if rest else None
            return Action(do, topic.id if topic else ("?" if rest else ""))
    if "voice" in means:
        return Action(Do.DELIVERY, "voice")
    off = rest == "OFF" or "decline" in rest_means or "opt_out" in rest_means
    if "sms" in means or ("voice" in head_means and off):
        return Action(Do.DELIVERY, "sms")
    if "language" in head_means:
        return Action(Do.LANGUAGE, language_code(rest, catalog))
    n = number(word)
    if session.state is State.LANGUAGE and n is not None:
        return Action(Do.LANGUAGE, language_code(word, catalog))
    if len(word) >= 4 and (named := catalog.find_language(word)):
        # A language's own name typed on its own (FRANCAIS, KISWAHILI); short codes
        # like HI are left alone, since "hi" is a greeting.
        return Action(Do.LANGUAGE, named.code)
    for command, do in (("menu", Do.MENU), ("more", Do.MORE), ("next", Do.NEXT_TIP), ("back", Do.BACK)):
        if command in means:
            return Action(do)
    if n is not None:
        return Action(Do.NUMBER, n)
    if not word:
        return Action(Do.EMPTY)
    symptom = lang.symptom(word)  # FEVER, COUGH: the message that says to seek care, not a prevention tip
    if symptom:
        return Action(Do.SYMPTOM, symptom)
    if questions.is_question(word) and word not in lang.keywords:  # a topic's title is no question
        # Someone's own words ("is it safe to breastfeed when I have malaria"): the closest key
        # messages, and the inbox.
        return Action(Do.QUESTION, text[:DANGER_READ_CHARS])
    topic = find_topic(word, lang)
    return Action(Do.TOPIC, topic.id) if topic else Action(Do.UNKNOWN)


def language_code(word: str, catalog: Catalog) -> str:
    """A language picked by its number in the list, its code or its name; "" for none."""
    n = number(word)
    if n is not None:
        codes = list(catalog.languages)
        return codes[n - 1] if 1 <= n <= len(codes) else ""
    found = catalog.find_language(word) if word else None
    return found.code if found else ""


def subscription_topic(word: str, lang: Language) -> Topic | None:
    """The topic after JOIN or LEAVE: by its menu number (what a private topic's texts give
    instead of its name: LEAVE 11), else as `find_topic` finds it."""
    n = number(word)
    if n is not None:
        return lang.topics[n - 1] if 1 <= n <= len(lang.topics) else None
    return find_topic(word, lang)


def find_topic(word: str, lang: Language) -> Topic | None:
    """A topic by its keyword, title or label; failing that, by the closest likely typo."""
    if not word:
        return None
    topic_id = lang.keywords.get(word)
    if topic_id is None and len(word) >= 4:
        close = difflib.get_close_matches(word, lang.keywords, n=1, cutoff=FUZZY_CUTOFF)
        topic_id = lang.keywords[close[0]] if close else None
    return lang.topic(topic_id) if topic_id else None
