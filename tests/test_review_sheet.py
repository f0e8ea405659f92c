"""The review sheet: out to a reviewer as CSV, back as sign-offs in the YAML, refused where the text changed."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import content, services
from bot.cli import main
from bot.content import sheet
from bot.dashboard import accounts
from tests.test_dashboard import FAST_HASH, PASSWORD, Dashboard

COLUMNS = ["id", "topic", "english_short", "english_detail", "short", "detail", "source", "confidence",
           "review_note", "reviewed_by", "reviewed_on"]  # fmt: skip


def make_sheet(folder: Path, code: str, out: Path) -> list[dict[str, str]]:
    result = CliRunner().invoke(main, ["content", "sheet", code, "--out", str(out), "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def return_sheet(rows: list[dict[str, str]], path: Path) -> None:
    """As a spreadsheet program saves it: UTF-8 with a BOM, CRLF line ends."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def signoff(folder: Path, code: str, path: Path):
    return CliRunner().invoke(main, ["content", "signoff", code, "--sheet", str(path), "--dir", str(folder)])


def test_the_sheet_is_utf8_with_a_bom_and_exactly_these_columns(folder, tmp_path):
    out = tmp_path / "hi.csv"
    rows = make_sheet(folder, "hi", out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    assert raw[3:].split(b"\r\n")[0].decode() == ",".join(COLUMNS)
    en = content.load(folder).language("en")
    assert len(rows) == sum(len(t.messages) for t in en.topics)
    first = rows[0]
    assert first["id"] == "timing-births-1" and first["english_short"] == en.topics[0].messages[0].short
    assert first["short"] != first["english_short"] and first["reviewed_by"] == ""
    stdout = CliRunner().invoke(main, ["content", "sheet", "hi", "--dir", str(folder)])
    assert stdout.stdout_bytes.startswith(b"\xef\xbb\xbfid,topic,")


def test_a_returned_sheet_is_signed_off_where_the_text_is_unchanged(folder, tmp_path):
    rows = make_sheet(folder, "fr", tmp_path / "fr.csv")
    by_id = {r["id"]: r for r in rows}
    by_id["malaria-1"].update(reviewed_by="Dr Awa Ndiaye", reviewed_on="2026-12-03")
    by_id["malaria-2"].update(reviewed_by="  Dr Awa   Ndiaye ")  # no date: the day of the sign-off
    by_id["malaria-2"]["detail"] = by_id["malaria-2"]["detail"].replace(" ", "\n", 3)  # the sheet rewrapped it
    by_id["malaria-3"].update(reviewed_by="Dr Awa Ndiaye")
    yaml_file = folder / "fr" / "10-malaria.yaml"
    before = yaml_file.read_text(encoding="utf-8")
    text = content.load(folder).language("fr").message("malaria-3")[1].short
    yaml_file.write_text(before.replace(text.split()[-1], "CHANGED."), encoding="utf-8")  # edited after the sheet
    edited = yaml_file.read_text(encoding="utf-8")
    return_sheet(rows, tmp_path / "back.csv")

    result = signoff(folder, "fr", tmp_path / "back.csv")

    assert result.exit_code == 1
    assert "refused malaria-3: the text changed since the sheet was made" in result.output
    assert "2 sign-off(s) recorded" in result.output and f"{len(rows) - 3} row(s) without reviewed_by" in result.output
    fr = content.load(folder).language("fr")
    one, two, three = (fr.message(f"malaria-{n}")[1] for n in (1, 2, 3))
    assert (one.reviewed_by, one.reviewed_on) == ("Dr Awa Ndiaye", "2026-12-03")
    assert (two.reviewed_by, two.reviewed_on) == ("Dr Awa Ndiaye", datetime.date.today().isoformat())
    assert three.reviewed_by == ""
    assert fr.review_progress() == (2, len(rows))
    assert content.load(folder).language("en").message("malaria-1")[1].reviewed_by == ""  # only French's
    # Nothing but the two sign-offs changed: every line of the file is still there, in order.
    after = yaml_file.read_text(encoding="utf-8").splitlines()
    added = [line for line in after if line.strip().startswith(("reviewed_by:", "reviewed_on:"))]
    assert len(added) == 4 and [line for line in after if line not in added] == edited.splitlines()


def test_signing_off_again_replaces_the_earlier_sign_off(folder, tmp_path):
    rows = make_sheet(folder, "sw", tmp_path / "sw.csv")
    rows[0].update(reviewed_by="Amina", reviewed_on="2026-12-01")
    return_sheet(rows, tmp_path / "a.csv")
    assert signoff(folder, "sw", tmp_path / "a.csv").exit_code == 0
    rows[0].update(reviewed_by="Baraka", reviewed_on="2026-12-05")
    return_sheet(rows, tmp_path / "b.csv")
    assert signoff(folder, "sw", tmp_path / "b.csv").exit_code == 0
    m = content.load(folder).language("sw").message(rows[0]["id"])[1]
    assert (m.reviewed_by, m.reviewed_on) == ("Baraka", "2026-12-05")
    path = folder.parent / content.load(folder).language("sw").files[rows[0]["topic"]]
    assert path.read_text(encoding="utf-8").count("reviewed_by:") == 1


@pytest.mark.parametrize(
    "change, refusal",
    [
        ({"id": "malaria-99"}, "malaria-99: not a key message of fr"),
        ({"reviewed_on": "3/12/2026"}, "malaria-1: reviewed_on '3/12/2026' is not a date"),
        ({"short": "Autre texte."}, "malaria-1: the text changed since the sheet was made"),
    ],
)
def test_rows_that_cannot_be_signed_off_are_refused_by_id(folder, tmp_path, change, refusal):
    rows = [r for r in make_sheet(folder, "fr", tmp_path / "fr.csv") if r["id"] == "malaria-1"]
    rows[0].update(reviewed_by="Dr Awa Ndiaye", **change)
    return_sheet(rows, tmp_path / "back.csv")
    before = (folder / "fr" / "10-malaria.yaml").read_bytes()
    result = signoff(folder, "fr", tmp_path / "back.csv")
    assert result.exit_code == 1 and f"refused {refusal}" in result.output
    assert (folder / "fr" / "10-malaria.yaml").read_bytes() == before


@pytest.mark.parametrize(
    "text, expected",
    [
        (  # comments, the next item and the file's end stay as they were
            "messages:\n  # first\n  - id: a-1\n    short: x  # note\n\n  - id: a-2\n    short: y\n",
            'messages:\n  # first\n  - id: a-1\n    short: x  # note\n    reviewed_by: "Dr O\'Neil \\"Jo\\""\n'
            "    reviewed_on: 2026-12-01\n\n  - id: a-2\n    short: y\n",
        ),
        (  # an earlier sign-off is replaced, a block scalar ends before it, CRLF is kept
            "messages:\r\n- id: 'a-1'\r\n  reviewed_by: Old\r\n  reviewed_on: 2020-01-01\r\n"
            "  detail: >-\r\n    long\r\n",
            'messages:\r\n- id: \'a-1\'\r\n  detail: >-\r\n    long\r\n  reviewed_by: "Dr O\'Neil \\"Jo\\""\r\n'
            "  reviewed_on: 2026-12-01\r\n",
        ),
        (  # the last line of the file has no newline
            "messages:\n  - id: a-1\n    short: x",
            'messages:\n  - id: a-1\n    short: x\n    reviewed_by: "Dr O\'Neil \\"Jo\\""\n'
            "    reviewed_on: 2026-12-01\n",
        ),
    ],
)
def test_set_review_edits_only_its_message(text, expected):
    assert sheet.set_review(text, "a-1", 'Dr O\'Neil "Jo"', "2026-12-01") == expected


def test_set_review_refuses_what_it_cannot_edit_safely():
    with pytest.raises(ValueError, match="no line '- id: a-1'"):
        sheet.set_review("messages: [{id: a-1, short: x}]\n", "a-1", "Jo", "2026-12-01")


def test_unreviewed_translations_fall_back_to_english_when_review_is_required(folder, tmp_path):
    rows = make_sheet(folder, "fr", tmp_path / "fr.csv")
    rows[0].update(reviewed_by="Dr Awa Ndiaye")
    return_sheet(rows[:1], tmp_path / "back.csv")
    assert signoff(folder, "fr", tmp_path / "back.csv").exit_code == 0
    en = content.load(folder).language("en")
    fr = content.load(folder, require_review=True).language("fr")
    signed, other = fr.message(rows[0]["id"])[1], fr.message(rows[1]["id"])[1]
    assert signed.lang == "fr" and signed.short == rows[0]["short"]
    assert other == en.message(rows[1]["id"])[1]
    assert f"message {rows[1]['id']} (not reviewed)" in fr.fallbacks
    assert content.load(folder).language("fr").message(rows[1]["id"])[1].lang == "fr"  # not required: as written
    production = {"CONTENT_REQUIRE_REVIEW": True, "FACTSBOT_ENV": "production"}
    assert services.require_review(production) is True
    assert services.require_review({**production, "FACTSBOT_ENV": "development"}) is False
    assert services.require_review({**production, "CONTENT_REQUIRE_REVIEW": False}) is False


def test_the_dashboard_shows_review_progress_and_each_reviewer(folder, tmp_path, make_app):
    rows = make_sheet(folder, "sw", tmp_path / "sw.csv")
    rows[0].update(reviewed_by="Amina Otieno", reviewed_on="2026-12-02")
    return_sheet(rows[:1], tmp_path / "back.csv")
    assert signoff(folder, "sw", tmp_path / "back.csv").exit_code == 0
    app = make_app(CONTENT_DIR=str(folder))
    accounts.create(app.extensions["factsbot"].store, "viewer@example.org", "viewer", PASSWORD, by="test",
                    method=FAST_HASH)  # fmt: skip
    dash = Dashboard(app.test_client())
    dash.login("viewer@example.org")
    page = dash.get("/dashboard/content?lang=sw").text
    assert "Signed off by Amina Otieno on 2026-12-02" in page
    assert f"1/{len(rows)} signed off" in page and f"0/{len(rows)} signed off" in page  # sw, and the others
