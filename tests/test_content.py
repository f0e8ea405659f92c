"""Loading and validating messages/: the real content, and every kind of problem in a broken copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import content, segments
from bot.cli import main
from bot.settings import ROOT
from tests.conftest import edit, problems_of

MESSAGES = ROOT / "messages"


def test_the_real_content_is_complete():
    catalog = content.load(MESSAGES)
    en = catalog.language("en")
    assert [t.chapter for t in en.topics] == list(range(1, 15))
    assert [t.id for t in en.topics][:3] == ["timing-births", "safe-motherhood", "child-development"]
    assert en.topic("emergencies").title == "Emergencies: preparedness and response"
    for topic in en.topics:
        assert topic.messages, topic.id
        for m in topic.messages:
            assert segments.count(m.short) == segments.Count("GSM-7", len(m.short), 1)
            assert 1 <= segments.count(m.detail).segments <= 3
            handbook = m.source.startswith(f"FFL 4th ed., ch. {topic.chapter:02d}, key message {m.number}")
            assert handbook or m.source.startswith("Not a Facts for Life key message"), m.id
    assert en.topic("child-protection").helpline is True
    # 2010 guidance that has since changed is in the text families get, not only in a note.
    assert "8" in en.topic("safe-motherhood").messages[2].short
    assert en.topic("hiv").discreet and en.topic("child-protection").discreet
    assert all(t.guidance_checked for t in en.topics)


@pytest.mark.parametrize(
    "word, topic",
    [
        ("MALARIA", "malaria"),
        ("HIV", "hiv"),
        ("AIDS", "hiv"),
        ("DIARRHOEA", "diarrhoea"),
        ("DIARRHEA", "diarrhoea"),
        ("BREASTFEEDING", "breastfeeding"),
        ("BREASTFEED", "breastfeeding"),
    ],
)
def test_keywords_the_issue_names(word, topic):
    assert content.load(MESSAGES).language("en").keywords[word] == topic


@pytest.fixture
def broken(tmp_path) -> Path:
    folder = tmp_path / "messages"
    shutil.copytree(MESSAGES, folder)
    return folder


def test_check_reports_every_problem_with_file_and_place(broken):
    malaria = broken / "en" / "10-malaria.yaml"
    edit(malaria, "title: Malaria", "title: Malaria\nlabel_typo: x")
    edit(malaria, "label: Malaria\n", "")
    hiv = broken / "en" / "11-hiv.yaml"
    edit(hiv, "  - id: hiv-2\n", "  - id: hiv-1\n")
    hygiene = broken / "en" / "09-hygiene.yaml"
    edit(hygiene, "keywords: [", "keywords: [VACCINE, ")
    found = problems_of(broken)
    assert "messages/en/10-malaria.yaml: label: missing" in found
    assert any(p.startswith("messages/en/11-hiv.yaml: messages[2].id:") for p in found)
    assert any(p.startswith("messages/en: ") and "'VACCINE' also leads to" in p for p in found), found


@pytest.mark.parametrize(
    "bad, expected",
    [
        ("x" * 161, "161 GSM-7 units is 2 SMS; at most 1 allowed"),
        ("It\u2019s time", "smart encoding would change '\u2019' (U+2019)"),
        ("Good \u2013 and bad", "smart encoding would change '\u2013' (U+2013)"),
        ("Na\u00efve", "not GSM-7: '\u00ef'"),
        ("Sleep well \U0001f634", "not GSM-7"),
    ],
)
def test_short_texts_must_fit_one_gsm7_sms(broken, bad, expected):
    path = broken / "en" / "13-injury-prevention.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    short: >-\n")
    end = text.index("    detail:", start)
    path.write_text(text[:start] + f'    short: "{bad}"\n' + text[end:], encoding="utf-8")
    found = problems_of(broken)
    assert any(
        p.startswith("messages/en/13-injury-prevention.yaml: messages[1].short:") and expected in p for p in found
    ), found


def test_yaml_syntax_errors_name_the_line(broken):
    (broken / "en" / "07-diarrhoea.yaml").write_text("id: diarrhoea\ntitle: [unclosed\n", encoding="utf-8")
    found = problems_of(broken)
    assert any(p.startswith("messages/en/07-diarrhoea.yaml: line ") and "not valid YAML" in p for p in found)


def test_missing_system_text_is_reported(broken):
    edit(broken / "en" / "system.yaml", "apology: >-", "apologies: >-")
    assert "messages/en/system.yaml: apology: missing" in problems_of(broken)


def test_load_raises_with_all_problems(broken):
    edit(broken / "en" / "10-malaria.yaml", "label: Malaria\n", "")
    edit(broken / "en" / "09-hygiene.yaml", "label: Hygiene\n", "")
    with pytest.raises(content.ContentError) as info:
        content.load(broken)
    assert len(info.value.problems) == 2


def test_another_language_falls_back_to_english(broken):
    pt = broken / "pt"
    pt.mkdir()
    (pt / "system.yaml").write_text("welcome: >-\n  Bem-vindo ao {program}.\n", encoding="utf-8")
    (pt / "words.yaml").write_text("name: Portugues\naliases: [PORTUGUES]\nmore: [MAIS]\n", encoding="utf-8")
    (pt / "10-malaria.yaml").write_text(
        """id: malaria
chapter: 10
title: Paludismo
label: Paludismo
keywords: [PALUDISMO]
review: needs native-speaker health review
messages:
  - id: malaria-1
    short: Durma debaixo de um mosquiteiro tratado todas as noites.
    detail: Os mosquitos transmitem o paludismo a noite.
""",
        encoding="utf-8",
    )
    catalog = content.load(broken)
    pt, en = catalog.language("pt"), catalog.language("en")
    assert pt.texts["welcome"] == "Bem-vindo ao {program}."
    assert pt.texts["help"] == en.texts["help"]
    malaria = pt.topic("malaria")
    assert malaria.label == "Paludismo" and malaria.messages[0].short.startswith("Durma")
    assert malaria.review == "needs native-speaker health review"
    assert malaria.messages[0].source == en.topic("malaria").messages[0].source  # inherited
    assert malaria.messages[1:] == en.topic("malaria").messages[1:]
    assert pt.topic("hiv") == en.topic("hiv")
    assert pt.keywords["PALUDISMO"] == "malaria" and pt.keywords["MALARIA"] == "malaria"
    assert pt.is_command("MAIS", "more") and pt.is_command("MORE", "more") and pt.word("more") == "MAIS"
    assert "topic hiv" in pt.fallbacks and "message malaria-2" in pt.fallbacks and "text help" in pt.fallbacks
    assert catalog.language("xx") is en
    assert catalog.find_language("PORTUGUES") is pt


def test_placeholders_must_match_english(broken):
    pt = broken / "pt"
    pt.mkdir()
    texts = "topic_end: >-\n  Fim de {assunto}.\nwelcome: Bem-vindo {nome}.\n"
    (pt / "system.yaml").write_text(texts, encoding="utf-8")
    found = problems_of(broken)
    # topic_end's placeholders are the app's (in every language); others are held to English's.
    assert any("topic_end: placeholders ['assunto'] are not among those the app fills" in p for p in found), found
    assert any("welcome: placeholders ['nome'] are not among English's ['program']" in p for p in found), found


def test_cli_content_check(broken):
    runner = CliRunner()
    ok = runner.invoke(main, ["content", "check", "--dir", str(MESSAGES)])
    assert ok.exit_code == 0 and "en (English): 14 topics" in ok.output and "content OK" in ok.output
    assert "hi (हिंदी): 14 topics" in ok.output and "review: needs native-speaker health review" in ok.output
    edit(broken / "en" / "10-malaria.yaml", "label: Malaria\n", "")
    bad = runner.invoke(main, ["content", "check", "--dir", str(broken)])
    assert bad.exit_code == 1
    assert "messages/en/10-malaria.yaml: label: missing" in bad.output


def test_english_must_define_the_texts_read_outside_the_menu(tmp_path):
    copy = tmp_path / "messages"
    shutil.copytree(ROOT / "messages", copy)
    system = copy / "en" / "system.yaml"
    system.write_text(system.read_text(encoding="utf-8").replace("ussd_resume:", "ussd_resume_gone:"), encoding="utf-8")
    _, problems = content.check(copy)
    assert any("ussd_resume" in str(p) and "missing" in str(p) for p in problems), problems
