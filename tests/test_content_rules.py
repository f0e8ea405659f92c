"""The content rules issue 9 added: same_as, discreet, sign-offs, symptoms.yaml, helplines, the app's placeholders."""

from __future__ import annotations

import shutil

import pytest

from bot import content
from bot.content import Helpline, KeyMessage, Topic
from bot.content.merge import same_as_problem
from bot.settings import ROOT
from tests.conftest import edit, problems_of


def message(id: str, same_as: str = "") -> KeyMessage:
    return KeyMessage(id=id, number=1, source="s", confidence="verified", short="s", detail="d", same_as=same_as)


def topic(id: str, *messages: KeyMessage) -> Topic:
    return Topic(id=id, chapter=1, title=id, label=id, keywords=(), helpline=False, messages=messages)


NUTRITION = topic("nutrition", message("nutrition-1"), message("nutrition-2", same_as="breastfeeding-1"))
BREASTFEEDING = topic("breastfeeding", message("breastfeeding-1"), message("breastfeeding-2"))
IDS = {m.id: (t, m) for t in (NUTRITION, BREASTFEEDING) for m in t.messages}


@pytest.mark.parametrize(
    "same_as, in_topic, why",
    [
        ("breastfeeding-1", NUTRITION, ""),
        ("breastfeeding-9", NUTRITION, "'breastfeeding-9' is not a key message id"),
        ("nutrition-1", NUTRITION, "'nutrition-1' is in the same topic"),
        ("nutrition-2", BREASTFEEDING, "'nutrition-2' itself has same_as 'breastfeeding-1'"),  # no chains
    ],
)
def test_same_as_names_another_topics_message_that_names_none(same_as, in_topic, why):
    found = same_as_problem(message("x-1", same_as=same_as), in_topic, IDS)
    assert (why in found and bool(found) == bool(why)) if why else found == ""


def test_same_as_problems_name_the_file_and_message(folder):
    edit(folder / "en" / "05-nutrition.yaml", "same_as: breastfeeding-1", "same_as: breastfeeding-99")
    assert "messages/en/05-nutrition.yaml: messages[2].same_as: 'breastfeeding-99' is not a key message id" in (
        problems_of(folder)
    )


def test_discreet_and_same_as_come_from_english_in_every_language():
    catalog = content.load(ROOT / "messages")
    for code, lang in catalog.languages.items():
        assert lang.topic("hiv").discreet and lang.topic("child-protection").discreet, code
        hiv, m = lang.topic("hiv"), lang.topic("hiv").messages[0]
        assert hiv.is_discreet(m), code
        assert lang.message("nutrition-2")[1].same_as == "breastfeeding-1", code
    malaria = catalog.language("en").topic("malaria")
    assert not malaria.is_discreet(malaria.messages[0])


@pytest.mark.parametrize(
    "field, value, why",
    [
        ("reviewed_on", '"2026-13-01"', "reviewed_on: must be an ISO date like 2026-12-01"),
        ("reviewed_on", "soon", "reviewed_on: must be an ISO date"),
        ("reviewed_by", '""', "reviewed_by: must name who reviewed the text"),
        ("discreet", "maybe", "discreet: must be true or false"),
    ],
)
def test_review_and_discreet_fields_are_checked(folder, field, value, why):
    other = {"reviewed_on": "reviewed_by: Dr A", "reviewed_by": "reviewed_on: 2026-12-01", "discreet": ""}[field]
    extra = f"    {field}: {value}\n" + (f"    {other}\n" if other else "")
    edit(folder / "en" / "10-malaria.yaml", "  - id: malaria-2\n", extra + "  - id: malaria-2\n")
    found = problems_of(folder)
    assert any(p.startswith("messages/en/10-malaria.yaml: messages[1].") and why in p for p in found), found


def test_a_translation_signs_off_its_own_text_only(folder):
    review = "    reviewed_by: Dr A\n    reviewed_on: 2026-12-01\n"
    edit(folder / "en" / "10-malaria.yaml", "  - id: malaria-2\n", review + "  - id: malaria-2\n")
    catalog = content.load(folder)
    assert catalog.language("en").message("malaria-1")[1].reviewed_by == "Dr A"
    assert catalog.language("fr").message("malaria-1")[1].reviewed_by == ""
    assert catalog.language("en").review_progress()[0] == 1 and catalog.language("fr").review_progress()[0] == 0
    (folder / "pt").mkdir()  # a translation with no texts yet: English's sign-off is not its own
    (folder / "pt" / "words.yaml").write_text("name: Portugues\n", encoding="utf-8")
    pt = content.load(folder).language("pt")
    assert pt.message("malaria-1")[1].reviewed_by == "Dr A" and pt.review_progress()[0] == 0


def test_symptom_routes_must_name_key_messages(folder):
    (folder / "symptoms.yaml").write_text(
        "fever:\n  message: malaria-2\n  elsewhere: coughs-colds-99\nbreathing:\n  message: nope-1\n", encoding="utf-8"
    )
    found = problems_of(folder)
    assert "messages/symptoms.yaml: fever.elsewhere: 'coughs-colds-99' is not a key message id" in found
    assert "messages/symptoms.yaml: breathing.message: 'nope-1' is not a key message id" in found


def test_symptom_routes_load():
    routes = content.load(ROOT / "messages").symptoms
    assert set(routes) == {"fever", "breathing"}
    en = content.load(ROOT / "messages").language("en")
    for route in routes.values():
        assert en.message(route.message) and (not route.elsewhere or en.message(route.elsewhere))


@pytest.mark.parametrize(
    "country, override, expected",
    [
        ("KE", None, Helpline("116", "999 / 112")),
        ("ke", None, Helpline("116", "999 / 112")),
        ("SN", None, Helpline("116", "18 / 17")),
        ("CI", None, Helpline("116", "180")),
        ("BF", None, Helpline("116", "18 / 17 / 1010")),
        ("CM", None, Helpline("116", "118 / 117")),
        ("NG", None, Helpline("", "")),  # unlisted: no other region's number (no 116 111, no 112)
        ("", None, Helpline("", "")),
        (None, None, Helpline("", "")),
        ("NG", Helpline("0800 111", ""), Helpline("0800 111", "")),  # CHILD_HELPLINE alone
        ("NG", Helpline("", "911"), Helpline("", "911")),
        ("KE", Helpline("0800 111", "911"), Helpline("0800 111", "911")),
        ("KE", Helpline("", "911"), Helpline("116", "911")),
    ],
)
def test_helplines_never_give_another_regions_number(country, override, expected):
    assert content.load(ROOT / "messages", helpline_override=override).helpline(country) == expected


def test_warnings_name_what_to_fix_before_launch(folder):
    edit(folder / "en" / "10-malaria.yaml", "guidance_checked:", "guidance_checked_not:")
    catalog, problems = content.check(folder)
    found = [str(w) for w in content.warnings(catalog, ["KE", "NG", "ng"])]
    assert "messages/en/10-malaria.yaml: guidance_checked: missing" in " ".join(found)
    assert [w for w in found if "countries." in w] == [w for w in found if "countries.NG: no entry" in w] != []
    assert not [p for p in problems if "guidance" in str(p)]  # a warning, not a problem


@pytest.mark.parametrize(
    "key, text, why",
    [
        ("urgent", "Go now. Call {emergency} or {child}.", "urgent: placeholders ['child'] are not among those"),
        ("message_discreet", "Tip {n}/{total} on {label}: {short}", "message_discreet: placeholders ['label']"),
        ("support_contact", "{contact}", "support_contact: placeholders ['contact']"),
        ("help", "{program} {days} {keyword}", "help: placeholders ['keyword']"),
        ("welcome", "Welcome {program", "welcome: braces"),
    ],
)
def test_texts_the_app_fills_take_only_its_placeholders_in_every_language(folder, key, text, why):
    for code in ("en", "fr"):
        copy = folder.parent / f"{code}-copy"
        shutil.copytree(folder, copy)
        with (copy / code / "system.yaml").open("a", encoding="utf-8") as f:
            f.write(f"\n{key}_x: x\n{key}: >-\n  {text}\n")
        found = problems_of(copy)
        assert any(p.startswith(f"{copy.name}/{code}/system.yaml: ") and why in p for p in found), (code, found)


def test_a_translation_missing_a_new_text_gets_englishs(folder):
    system = folder / "sw" / "system.yaml"
    text = system.read_text(encoding="utf-8")
    start = text.index("\nurgent:")
    end = text.index("\n", text.index("\n", start + 1) + 1)
    while text[end + 1 : end + 3] == "  ":  # the rest of a folded text
        end = text.index("\n", end + 1)
    system.write_text(text[:start] + text[end:], encoding="utf-8")
    catalog = content.load(folder)
    assert catalog.language("sw").texts["urgent"] == catalog.language("en").texts["urgent"]
    assert "text urgent" in catalog.language("sw").fallbacks


def test_a_date_yaml_cannot_build_is_a_problem_not_a_crash(folder):
    edit(folder / "en" / "10-malaria.yaml", "  - id: malaria-2\n", "    reviewed_on: 2026-13-01\n  - id: malaria-2\n")
    assert any(p.startswith("messages/en/10-malaria.yaml: not valid YAML") for p in problems_of(folder))
