"""Flag state from MMSI: the MID table and the special MMSI forms of ITU-R M.585."""

from __future__ import annotations

import re

import pytest

from detectors.flags import MID_TABLE, Flag, flag_of_mmsi, mid_of_mmsi


def test_table_holds_every_itu_allocation() -> None:
    # The ITU table lists 292 MIDs between 201 and 775.
    assert len(MID_TABLE) == 292
    assert min(MID_TABLE) == 201
    assert max(MID_TABLE) == 775


def test_codes_are_well_formed_and_consistent() -> None:
    alpha3_of: dict[str, str] = {}
    for mid, flag in MID_TABLE.items():
        assert flag.mid == mid
        assert re.fullmatch(r"[A-Z]{2}", flag.iso2), flag
        assert re.fullmatch(r"[A-Z]{3}", flag.iso3), flag
        assert flag.name
        # One alpha-2 code always goes with the same alpha-3 code.
        assert alpha3_of.setdefault(flag.iso2, flag.iso3) == flag.iso3, flag


@pytest.mark.parametrize(
    ("mmsi", "iso2", "iso3"),
    [
        (366999999, "US", "USA"),  # USCG
        (538005123, "MH", "MHL"),  # Marshall Islands, a big open register
        (636012345, "LR", "LBR"),  # Liberia
        (637012345, "LR", "LBR"),  # Liberia's second MID
        (477123400, "HK", "HKG"),  # Hong Kong keeps its own register
        (273456789, "RU", "RUS"),
        (412345678, "CN", "CHN"),
        (351000000, "PA", "PAN"),
        (374000000, "PA", "PAN"),
        (257000000, "NO", "NOR"),
        (219000000, "DK", "DNK"),
        (231000000, "FO", "FRO"),
        (204000000, "PT", "PRT"),  # Azores
        (255000000, "PT", "PRT"),  # Madeira
        (303000000, "US", "USA"),  # Alaska
        (262000000, "ME", "MNE"),
        (279000000, "RS", "SRB"),
        (775000000, "VE", "VEN"),
        (201000000, "AL", "ALB"),
    ],
)
def test_ship_station_flags(mmsi: int, iso2: str, iso3: str) -> None:
    flag = flag_of_mmsi(mmsi)
    assert flag is not None
    assert (flag.iso2, flag.iso3) == (iso2, iso3)


def test_coast_station_00mid() -> None:
    # 002190001 is a Danish coast station: digits 3-5 are the MID.
    assert mid_of_mmsi(2190001) == 219
    assert flag_of_mmsi(2190001) == MID_TABLE[219]


def test_group_call_0mid() -> None:
    assert mid_of_mmsi(36612345) == 366


def test_sar_aircraft_111mid() -> None:
    assert mid_of_mmsi(111257001) == 257
    flag = flag_of_mmsi(111257001)
    assert flag is not None
    assert flag.iso2 == "NO"


def test_craft_of_parent_ship_98mid_and_aids_to_navigation_99mid() -> None:
    assert mid_of_mmsi(982573456) == 257
    assert mid_of_mmsi(992351234) == 235
    flag = flag_of_mmsi(992351234)
    assert flag is not None
    assert flag.iso2 == "GB"


def test_handheld_8mid() -> None:
    assert mid_of_mmsi(824412345) == 244


@pytest.mark.parametrize("mmsi", [970012345, 972012345, 974012345])
def test_sart_mob_epirb_have_no_flag(mmsi: int) -> None:
    assert flag_of_mmsi(mmsi) is None


@pytest.mark.parametrize("mmsi", [0, -5, 1_000_000_000, 123456789, 100000000])
def test_invalid_or_flagless_mmsi(mmsi: int) -> None:
    assert flag_of_mmsi(mmsi) is None


def test_unallocated_mid_has_no_flag() -> None:
    # 217 and 600 are not allocated by the ITU.
    assert flag_of_mmsi(217000000) is None
    assert flag_of_mmsi(600000000) is None


def test_flag_is_a_plain_record() -> None:
    assert Flag(366, "US", "USA", "United States") == MID_TABLE[366]
