"""The content check: every helpline reply, in every language, fits its SMS parts with its hint and helpline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import content
from bot.content import Helpline, fit
from bot.settings import ROOT
from tests.conftest import edit

WAITS = fit.WAITS


def overflowing(folder: Path) -> list[str]:
    return sorted(f"{p.file}: {p.place}" for p in content.check(folder)[1] if WAITS in p.message)


def test_our_helpline_replies_fit_in_every_language():
    assert overflowing(ROOT / "messages") == []


def test_a_message_sent_in_english_is_judged_in_english():
    """Under CONTENT_REQUIRE_REVIEW an unreviewed translation is replaced by the English text: no
    translator could shorten it in hi/ or fr/, and English's own check already holds it
    (what a Hindi family then gets is tests/test_helpline_reply.py's)."""
    catalog, problems = content.check(ROOT / "messages", require_review=True)
    assert catalog.language("hi").topic("child-protection").messages[0].lang == "en"
    assert [str(p) for p in problems if WAITS in p.message] == []


def test_a_long_detail_is_named_by_file_and_message(folder):
    """Hindi is held to India's numbers only, and still to them: one sentence more and the helpline waits."""
    hi = folder / "hi" / "12-child-protection.yaml"
    edit(hi, "बच्चा बताए तो यकीन करें", "शोषण घर, स्कूल में भी होता है। बच्चा बताए तो यकीन करें")
    assert overflowing(folder) == ["messages/hi/12-child-protection.yaml: child-protection-5.detail"]


def test_a_long_no_number_text_counts_for_every_reply(folder):
    longer = "Unahitaji msaada sasa hivi hapa? " * 3 + "Ongea na"
    edit(folder / "sw" / "system.yaml", "Unahitaji msaada sasa? Ongea na", longer)
    found = overflowing(folder)
    assert "messages/sw/12-child-protection.yaml: child-protection-3.detail" in found
    assert all(f.startswith("messages/sw/") for f in found), found


LONG_NUMBER = "1234 / " * 9 + "1"


def test_a_long_number_holds_english_and_the_countrys_own_language(folder):
    edit(folder / "helplines.yaml", 'IN: {child: "1098", emergency: "112"}',
         f'IN: {{child: "1098", emergency: "{LONG_NUMBER}"}}')  # fmt: skip
    found = overflowing(folder)
    assert "messages/hi/12-child-protection.yaml: child-protection-5.detail" in found
    assert "messages/en/12-child-protection.yaml: child-protection-5.detail" in found  # anyone may get English
    assert not [f for f in found if f.startswith(("messages/fr/", "messages/sw/"))], found


def test_a_long_number_in_a_country_of_no_language_holds_only_english(folder):
    edit(folder / "helplines.yaml", "countries:\n", f'countries:\n  XX: {{child: "116", emergency: "{LONG_NUMBER}"}}\n')
    found = overflowing(folder)
    assert "messages/en/12-child-protection.yaml: child-protection-5.detail" in found
    assert all(f.startswith("messages/en/") for f in found), found


def test_a_topic_without_helpline_is_not_held_to_it(folder):
    hygiene = folder / "en" / "09-hygiene.yaml"
    text = hygiene.read_text(encoding="utf-8")
    start = text.index("    detail: >-\n") + len("    detail: >-\n")
    end = re.compile(r"\n {0,4}\S").search(text, start).start()  # where the next key or message starts
    hygiene.write_text(text[:start] + "      " + "Wash well. " * 40 + text[end:], encoding="utf-8")
    catalog, problems = content.check(folder)
    assert len(catalog.language("en").topic("hygiene").messages[0].detail) > 430  # a helpline topic could not
    assert [str(p) for p in problems if "09-hygiene" in p.file] == []


@pytest.mark.parametrize(
    ("numbers", "longest"),
    [
        ([Helpline("116", "112"), Helpline("0800 1111", "999"), Helpline("", "")], Helpline("0800 1111", "112")),
        ([Helpline("", "")], Helpline("", "")),
        ([], Helpline("", "")),
    ],
)
def test_longest_takes_each_number_from_any_country(numbers, longest):
    assert fit.longest(numbers) == longest


KE, IN, GB = Helpline("116", "999 / 112"), Helpline("1098", "112"), Helpline("0800 1111", "999 / 112")
NONE = Helpline("", "")
FIRST_CONTACT = [("KE", "sw"), ("TZ", "sw"), ("IN", "hi")]


@pytest.mark.parametrize(
    ("code", "default", "numbers"),
    [
        ("en", NONE, [KE, IN, GB, NONE]),  # the default language: every entry, the default too
        ("hi", NONE, [IN]),  # only its own country: not Kenya's or Britain's numbers
        ("sw", NONE, [KE, NONE]),  # TZ has no entry: the default (no number) is what it gets
        ("sw", Helpline("1", "2"), [KE, Helpline("1", "2")]),
        ("fr", NONE, []),  # first contact nowhere: held to the no-number text alone
    ],
)
def test_each_language_is_held_to_its_own_countries_numbers(code, default, numbers):
    helplines = {"KE": KE, "IN": IN, "GB": GB}
    assert fit.numbers_for(code, helplines, default, FIRST_CONTACT, "en") == numbers
