"""AIS ship type codes as text (ITU-R M.1371)."""

from __future__ import annotations

import pytest

from detectors.shiptypes import is_cargo, is_fishing, is_tanker, ship_type_text


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (30, "Fishing"),
        (31, "Towing"),
        (32, "Towing, large"),
        (36, "Sailing"),
        (37, "Pleasure craft"),
        (50, "Pilot vessel"),
        (51, "Search and rescue vessel"),
        (52, "Tug"),
        (53, "Port tender"),
        (55, "Law enforcement"),
        (60, "Passenger"),
        (70, "Cargo"),
        (79, "Cargo"),
        (80, "Tanker"),
        (84, "Tanker (hazard D)"),
        (89, "Tanker"),
        (81, "Tanker (hazard A)"),
        (90, "Other"),
        (0, "Not available"),
        (7, "Reserved"),
        (120, "Reserved"),
    ],
)
def test_ship_type_text(code: int, text: str) -> None:
    assert ship_type_text(code) == text


@pytest.mark.parametrize("code", [None, -1, 256])
def test_no_text_outside_the_field(code: int | None) -> None:
    assert ship_type_text(code) is None


def test_every_code_in_range_has_text() -> None:
    assert all(ship_type_text(code) for code in range(256))


def test_tankers_are_80_to_89() -> None:
    assert [code for code in range(256) if is_tanker(code)] == list(range(80, 90))
    assert not is_tanker(None)


def test_cargo_and_fishing() -> None:
    assert is_cargo(70)
    assert is_cargo(79)
    assert not is_cargo(80)
    assert is_fishing(30)
    assert not is_fishing(None)
