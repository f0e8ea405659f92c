"""The SMS length rules, as tables, plus invariants of the splitter over generated text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import segments as sg

EMOJI = "\U0001f600"  # one code point, two UTF-16 units
FLAG = "\U0001f1f0\U0001f1ea"  # Kenya's flag: two code points, one grapheme
FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # ZWJ sequence, 8 units


# GSM 03.38, written out from the standard (3GPP TS 23.038, 6.2.1), not from our code.
# The default alphabet by code 0x00-0x7F (0x1B is the escape to the extension table, not a character).
GSM_0338_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# The extension table: each costs the escape plus its own septet.
GSM_0338_EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]",
                      0x40: "|", 0x65: "€"}  # fmt: skip


def test_the_gsm_0338_tables_exactly():
    """Every character of GSM 03.38 costs what the standard says, and no other character is GSM-7."""
    assert len(GSM_0338_BASIC) == 128
    basic = set(GSM_0338_BASIC) - {"\x1b"}
    extension = set(GSM_0338_EXTENSION.values())
    for c in sorted(basic):
        assert (sg.encoding_of(c), sg.units(c)) == ("GSM-7", 1), repr(c)
    for c in sorted(extension):
        assert (sg.encoding_of(c), sg.units(c)) == ("GSM-7", 2), repr(c)
    # Everything else up to the end of the BMP's common scripts (and the euro sign) switches to UCS-2.
    others = (chr(n) for n in range(0x2100) if chr(n) not in basic | extension | {"\x1b"})
    assert [c for c in others if sg.encoding_of(c) != "UCS-2"] == []


@pytest.mark.parametrize(
    "text, encoding, units, segments",
    [
        ("", "GSM-7", 0, 0),
        ("Hello", "GSM-7", 5, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters cost two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 152 + "€" + "a" * 10, "GSM-7", 164, 2),
        ("a" * 152 + "€", "GSM-7", 154, 1),
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),  # ...so 306 septets need 3 parts, not 2
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!#¤%&¡ÄÖÑÜ§¿äöñüà", "GSM-7", 46, 1),
        ("Ça va", "GSM-7", 5, 1),  # capital C-cedilla is GSM-7
        ("ça va", "UCS-2", 5, 1),  # lower-case is not
        ("café", "GSM-7", 4, 1),
        ("cafè", "GSM-7", 4, 1),
        ("naïve", "UCS-2", 5, 1),
        ("it’s", "UCS-2", 4, 1),  # one curly quote switches the whole text
        ("`", "UCS-2", 1, 1),
        ("a" * 70 + "’", "UCS-2", 71, 2),
        ("ब" * 70, "UCS-2", 70, 1),
        ("ब" * 71, "UCS-2", 71, 2),
        ("ब" * 134, "UCS-2", 134, 2),
        ("ब" * 135, "UCS-2", 135, 3),
        (EMOJI * 35, "UCS-2", 70, 1),  # astral characters cost 2 units
        (EMOJI * 36, "UCS-2", 72, 2),
        ("a" * 66 + EMOJI + "a" * 67, "UCS-2", 135, 3),  # surrogate pair moves whole to part 2
        ("a" * 66 + FLAG, "UCS-2", 70, 1),
        ("a" * 66 + FLAG + "a", "UCS-2", 71, 2),
        ("a" * 65 + FLAG + "a" * 66, "UCS-2", 135, 3),  # a flag never straddles a boundary
        ("a" * 62 + FAMILY + "a" * 60, "UCS-2", 130, 3),
    ],
)
def test_count(text, encoding, units, segments):
    assert sg.count(text) == sg.Count(encoding, units, segments)


@pytest.mark.parametrize(
    "typed, sent",
    [
        ("“Quoted” ‘text’", "\"Quoted\" 'text'"),
        ("a – b — c", "a - b - c"),
        ("wait…", "wait..."),
        ("no\u00a0break\u2009thin", "no break thin"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("«guillemets»", '"guillemets"'),
        ("plain text stays", "plain text stays"),
    ],
)
def test_smart_encoding(typed, sent):
    assert sg.smart_encode(typed) == sent
    assert sg.is_gsm7(sent)


def test_smart_encoding_halves_the_cost_of_a_stray_curly_quote():
    text = "Sleep under a treated net every night. It’s the best way to keep malaria away from your children."
    assert sg.count(text).encoding == "UCS-2" and sg.count(text).segments == 2
    assert sg.count(sg.smart_encode(text)) == sg.Count("GSM-7", len(text), 1)


def test_short_text_is_one_unnumbered_part():
    assert sg.split("  Reply MENU  ") == sg.Split(("Reply MENU",))
    assert sg.split("") == sg.Split(())


def test_split_numbers_parts_and_cuts_between_words():
    text = " ".join(f"word{i}" for i in range(60))
    result = sg.split(text)
    assert len(result.parts) == 3 and result.rest == ""
    assert [p.split(" ", 1)[0] for p in result.parts] == ["1/3", "2/3", "3/3"]
    assert " ".join(p.split(" ", 1)[1] for p in result.parts) == text
    assert all(sg.count(p).segments == 1 for p in result.parts)


def test_split_keeps_the_rest_behind_more():
    text = " ".join(f"w{i:03d}" for i in range(200))
    result = sg.split(text, max_parts=3, more_marker="MORE")
    assert len(result.parts) == 3
    assert result.parts[-1].endswith(" MORE")
    assert all(sg.count(p).units <= 160 for p in result.parts)
    sent = " ".join(p.split(" ", 1)[1] for p in result.parts).replace(" MORE", "")
    assert f"{sent} {result.rest}" == text


def test_split_cuts_a_word_only_when_it_alone_exceeds_a_part():
    result = sg.split("x" * 400, max_parts=5)
    assert [sg.count(p).units for p in result.parts] == [160, 160, 92]
    assert "".join(p[4:] for p in result.parts) == "x" * 400


def test_split_prefers_line_breaks():
    lines = [f"{n} Topic number {n}" for n in range(1, 15)]
    result = sg.split("\n".join(lines))
    for part in result.parts:
        body = part.split(" ", 1)[1]
        assert all(line in lines for line in body.split("\n")), part


def test_split_in_ucs2_counts_units_and_keeps_clusters_whole():
    text = ("माँ " * 40).strip()  # Devanagari with combining signs
    result = sg.split(text, max_parts=5)
    assert all(sg.count(p).encoding == "UCS-2" and sg.count(p).units <= 70 for p in result.parts)
    assert " ".join(p.split(" ", 1)[1] for p in result.parts) == text


def test_each_part_is_measured_in_its_own_encoding():
    text = "Un garçon. " + "abcdefghi " * 30  # one UCS-2 letter (ç) at the start, then GSM-7
    result = sg.split(text, max_parts=3)
    encodings = [sg.count(p).encoding for p in result.parts]
    assert encodings[0] == "UCS-2" and set(encodings[1:]) == {"GSM-7"} and result.rest == ""
    assert all(sg.count(p).segments == 1 for p in result.parts)
    forced = sg.split(text, max_parts=3, limits={"UCS-2": 70})  # one encoding for all: 70 a part
    assert len(forced.parts) == 3 and forced.rest


def test_a_gsm7_text_that_fits_keeps_its_first_word_whatever_the_marker():
    text = "Take the child to a health worker today if the fever is high or the child cannot drink"
    assert sg.split(text, more_marker="आगे") == sg.Split((text,))


def test_budget_of_two_segments_per_part():
    text = " ".join(["abcdefghij"] * 40)  # 439 septets
    result = sg.split(text, budget=2)
    assert len(result.parts) == 2
    assert all(sg.count(p).segments <= 2 for p in result.parts)


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.sampled_from([*"abc xyz€[]\n", "é", "’", EMOJI, FLAG, "ब", "\u093e"]), max_size=900).map("".join),
    budget=st.integers(1, 2),
    max_parts=st.integers(1, 4),
    marker=st.sampled_from(["MORE", "आगे"]),  # Hindi's marker makes a last part UCS-2
)
def test_split_invariants(text, budget, max_parts, marker):
    result = sg.split(text, budget=budget, max_parts=max_parts, more_marker=marker)
    assert len(result.parts) <= max_parts
    for part in result.parts:
        assert sg.count(part).segments <= budget, part
    if len(result.parts) == 1:
        assert not result.parts[0].startswith("1/")
    if len(result.parts) > 1:
        total = len(result.parts)
        assert [p.split(" ", 1)[0] for p in result.parts] == [f"{n}/{total}" for n in range(1, total + 1)]
    # Nothing is lost: every non-space character is sent now or waits behind MORE.
    sent = "".join(p.split(" ", 1)[1] if len(result.parts) > 1 else p for p in result.parts)
    if result.rest:
        sent = sent[: -len(marker)]
    assert "".join((sent + result.rest).split()) == "".join(text.split())
