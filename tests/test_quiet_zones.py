"""A number's timezone from its calling code alone (one-zone countries) agrees with parsing the number."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from bot import quiet


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        ("+256712345678", "Africa/Kampala"),
        ("+254712345678", "Africa/Nairobi"),
        ("+919812345678", "Asia/Calcutta"),
        ("+221771234567", "Africa/Dakar"),
        ("+12125550123", "America/New_York"),  # several zones: the number decides
        ("+79161234567", None),
        ("+5511987654321", None),
        ("12", "UTC"),
    ],
)
def test_the_shortcut_gives_what_parsing_the_number_gives(phone, zone):
    assert quiet.timezone_for(phone) == quiet._parsed(phone)
    if zone:
        assert quiet.timezone_for(phone) == ZoneInfo(zone)


def test_every_one_zone_country_agrees_for_its_example_numbers():
    checked = 0
    for code, zone in quiet._one_zone_countries().items():
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[int(code)]:
            for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE):
                example = phonenumbers.example_number_for_type(region, kind)
                if example:
                    number = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                    assert quiet._parsed(number) == zone, number
                    checked += 1
    assert checked > 200


def test_the_deployments_timezone_wins_and_a_wrong_one_is_ignored():
    assert quiet.timezone_for("+256712345678", "Europe/Paris") == ZoneInfo("Europe/Paris")
    assert quiet.timezone_for("+256712345678", "Not/AZone") == ZoneInfo("Africa/Kampala")
