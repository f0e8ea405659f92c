"""Phone numbers at the edge: what is normalised, and what the normaliser keeps in memory."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from bot import phones


@pytest.mark.parametrize(
    "raw, region, expected",
    [("+254712345678", "", "+254712345678"), (" +254 712 345 678 ", "", "+254712345678"),
     ("0712-345-678", "KE", "+254712345678"), ("(0712) 345.678", "KE", "+254712345678"),
     ("tel:+254712345678", "", "+254712345678"), ("0712345678", "", None), ("hello", "", None),
     ("+" + "1" * 40, "", None), ("²⁵⁴", "", None), ("", "KE", None)],
)  # fmt: skip
def test_normalise(raw, region, expected):
    assert phones.normalise(raw, region) == expected


def retained_bytes(values: list[str]) -> int:
    """Memory still held after normalising `values` and dropping them."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for value in values:
        phones.normalise(value, "KE")
    values.clear()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before


def test_forged_form_values_are_not_kept_by_the_cache():
    """A webhook's From can be up to 64 KB of anything: none of it may stay in memory."""
    huge = [f"{i:08d}" + " " * 60_000 for i in range(300)]  # ~18 MB if cached
    assert retained_bytes(huge) < 200_000
    junk = [f"whatsapp:+2547{i:08d}" for i in range(5_000)]  # short, but not how numbers are written
    assert retained_bytes(junk) < 200_000
