"""Danger and symptom words: whole words and phrases, in a row, after normalisation, in every script."""

from __future__ import annotations

import pytest

from bot import content
from bot.content import Language
from bot.content.words import normalise_keyword, phrase
from bot.settings import ROOT

CATALOG = content.load(ROOT / "messages")


def language(danger=(), symptoms=None) -> Language:
    return Language(
        code="xx", name="X", topics=(), texts={}, danger=tuple(phrase(d) for d in danger),
        symptoms={name: tuple(phrase(w) for w in words) for name, words in (symptoms or {}).items()},
    )  # fmt: skip


DANGER = {
    "en": ["NOT BREATHING", "FITS", "CONVULSIONS", "BLEEDING A LOT", "UNCONSCIOUS"],
    "fr": ["NE RESPIRE PLUS", "CONVULSIONS", "SAIGNE BEAUCOUP", "INCONSCIENT"],
    "sw": ["HAPUMUI", "DEGEDEGE", "AMEZIRAI", "DAMU NYINGI"],
    "hi": ["सांस नहीं ले रहा", "SAANS NAHI LE RAHA", "बेहोश", "BEHOSH", "दौरा पड़ा"],
}


@pytest.mark.parametrize(
    "lang, text, urgent",
    [
        ("en", "my baby is not breathing", True),
        ("en", "Not-breathing!!", True),
        ("en", "he had FITS.", True),
        ("en", "She is bleeding a lot after birth", True),
        ("en", "I am not feeling well", False),  # NOT alone is no phrase
        ("en", "outfits for the baby", False),  # FITS inside another word
        ("en", "breathing fine, not coughing", False),  # the words, but not in a row
        ("en", "bleeding, a lot of it", True),  # punctuation between words is only a space
        ("en", "", False),
        ("fr", "Mon bébé ne respire plus", True),
        ("fr", "il respire bien, ne tousse plus", False),
        ("fr", "convulsions depuis ce matin", True),
        ("sw", "Mtoto hapumui", True),
        ("sw", "mtoto anapumua vizuri", False),
        ("sw", "ana damu nyingi sana", True),
        ("hi", "मेरा बच्चा सांस नहीं ले रहा।", True),  # the danda ends the sentence like a full stop
        ("hi", "mera bachcha saans nahi le raha", True),  # romanised
        ("hi", "बच्चा बेहोश है", True),
        ("hi", "बच्चा सांस ले रहा है", False),
        ("hi", "बेहोशी की दवा", False),  # whole words only
        ("hi", "kal dawa li, behosh nahi", True),  # a danger word is enough; the engine asks no questions
    ],
)
def test_danger_phrases_match_whole_words_in_a_row(lang, text, urgent):
    assert language(DANGER[lang]).is_danger(text) is urgent


SYMPTOMS = {
    "breathing": ["FAST BREATHING", "COUGH", "HOMA YA MAPAFU"],
    "fever": ["FEVER", "HOT BODY", "HOMA", "ANA HOMA", "बुखार"],
}


@pytest.mark.parametrize(
    "text, symptom",
    [
        ("my child has a fever", "fever"),
        ("Hot body since yesterday", "fever"),
        ("mtoto ana homa", "fever"),
        ("बच्चे को बुखार है", "fever"),
        ("cough and fever", "breathing"),  # a tie: words.yaml order decides, not the order in the text
        ("mtoto ana homa ya mapafu", "breathing"),  # pneumonia: the longest phrase, not "homa" (fever) in it
        ("homa ya mapafu na kikohozi", "breathing"),
        ("fever and fast breathing", "breathing"),  # 2 words beat 1, wherever they are
        ("hot body and a cough", "fever"),
        ("mtoto ana homa na cough", "fever"),  # "ana homa" (2) beats "cough" (1)
        ("feverish", ""),  # whole words only
        ("hot food for the body", ""),
        ("homa ya", "fever"),  # half a phrase is not the phrase
        ("COUGHS", ""),
        ("", ""),
    ],
)
def test_symptom_is_the_one_whose_longest_phrase_the_text_names(text, symptom):
    assert language(symptoms=SYMPTOMS).symptom(text) == symptom


@pytest.mark.parametrize(
    "lang, text, symptom",
    [
        ("sw", "mtoto ana homa ya mapafu", "breathing"),
        ("sw", "Mtoto wangu ana homa", "fever"),
        ("sw", "ana homa kali na kikohozi", "fever"),  # ANA HOMA (2 words) before KIKOHOZI (1)
        ("fr", "mon bébé respire vite et a de la fièvre", "breathing"),
        ("en", "fever and breathing fast", "breathing"),
        ("hi", "बच्चे को बुखार और सांस फूल रही है", "breathing"),
    ],
)
def test_each_languages_symptom_words_prefer_the_longest_phrase(lang, text, symptom):
    assert CATALOG.language(lang).symptom(text) == symptom


@pytest.mark.parametrize(
    "lang, text, urgent, symptom",
    [
        # A fever alone, however high, is the fever route (see a health worker the same day) ...
        ("en", "my son has a high fever", False, "fever"),
        ("en", "very high fever since last night", False, "fever"),
        ("fr", "mon fils a une forte fièvre", False, "fever"),
        ("fr", "grosse fievre depuis hier", False, "fever"),
        ("sw", "mtoto ana homa kali sana", False, "fever"),
        ("hi", "बेटे को तेज बुखार है", False, "fever"),
        ("hi", "beta tez bukhar hai", False, "fever"),
        # ... a young baby's is urgent, in every language.
        ("en", "my newborn has a fever", True, "fever"),
        ("en", "young baby has a high fever", True, "fever"),
        ("fr", "mon bébé a de la fièvre", True, "fever"),
        ("fr", "le nourrisson a de la fievre", True, "fever"),
        ("sw", "mtoto mchanga ana homa", True, "fever"),
        ("hi", "नवजात को बुखार है", True, "fever"),
        ("hi", "navjat ko tez bukhar", True, "fever"),
    ],
)
def test_high_fever_is_urgent_only_in_a_young_baby(lang, text, urgent, symptom):
    language = CATALOG.language(lang)
    assert (language.is_danger(text), language.symptom(text)) == (urgent, symptom)


@pytest.mark.parametrize(
    "text, normalised",
    [("  Not-breathing!! ", "NOT BREATHING"), ("सांस नहीं।", "सांस नहीं"), ("l\u2019enfant", "L ENFANT"), ("ÉTÉ", "ÉTÉ")],
)
def test_normalise_keyword_drops_any_script_punctuation_and_keeps_accents(text, normalised):
    assert normalise_keyword(text) == normalised


def test_english_danger_and_symptom_words_work_in_every_language(tmp_path):
    import shutil

    folder = tmp_path / "messages"
    shutil.copytree(ROOT / "messages", folder)
    words = folder / "en" / "words.yaml"
    words.write_text(
        words.read_text(encoding="utf-8").split("\ndanger:")[0].split("\nsymptoms:")[0]
        + "\ndanger: [NOT BREATHING, EN-ONLY DANGER]\nsymptoms:\n  fever: [FEVER, EN-ONLY FEVER]\n",
        encoding="utf-8",
    )
    catalog = content.load(folder)
    for code, lang in catalog.languages.items():
        assert lang.is_danger("my baby en-only danger"), code
        assert lang.symptom("en-only fever") == "fever", code
    assert catalog.language("en").danger[:2] == (("NOT", "BREATHING"), ("EN", "ONLY", "DANGER"))


@pytest.mark.parametrize("bad, why", [("HELP", "'HELP' is a command word"), ("'!!'", "has no words to match")])
def test_a_danger_word_that_would_hijack_a_command_or_match_nothing_is_refused(tmp_path, bad, why):
    import shutil

    folder = tmp_path / "messages"
    shutil.copytree(ROOT / "messages", folder)
    words = folder / "en" / "words.yaml"
    text = words.read_text(encoding="utf-8").split("\ndanger:")[0]
    words.write_text(text + f"\ndanger: [NOT BREATHING, {bad}]\n", encoding="utf-8")
    found = [str(p) for p in content.check(folder)[1]]
    assert any(p.startswith("messages/en/words.yaml: danger:") and why in p for p in found), found


@pytest.mark.parametrize(
    "lang, urgent, ordinary",
    [
        ("en", "my baby is not breathing", "I am not feeling well"),
        ("fr", "mon bébé ne respire plus", "je ne me sens pas bien"),
        ("sw", "mtoto hapumui", "sijisikii vizuri"),
        ("hi", "बच्चा सांस नहीं ले रहा", "मुझे अच्छा नहीं लग रहा"),
        ("hi", "bachcha saans nahi le raha", "mujhe accha nahi lag raha"),
    ],
)
def test_the_real_danger_words_of_every_language(lang, urgent, ordinary):
    language = content.load(ROOT / "messages").language(lang)
    assert language.is_danger(urgent) and not language.is_danger(ordinary)
    assert language.is_danger("my baby is not breathing")  # English danger words work in every language


def test_english_must_have_the_new_texts(tmp_path):
    import shutil

    folder = tmp_path / "messages"
    shutil.copytree(ROOT / "messages", folder)
    system = folder / "en" / "system.yaml"
    system.write_text(system.read_text(encoding="utf-8").replace("\nurgent:", "\nurgent_gone:"), encoding="utf-8")
    assert "messages/en/system.yaml: urgent: missing" in [str(p) for p in content.check(folder)[1]]
