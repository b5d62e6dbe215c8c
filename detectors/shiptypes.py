"""AIS ship and cargo type codes (0-99) as short text.

The codes are those of ITU-R M.1371 (message 5 and 19 "type of ship and cargo type", message 24
part B): the tens digit gives the kind of ship, the units digit a hazard category for some
kinds (x1-x4 carry dangerous goods of IMO categories A-D). Short text keeps alerts readable;
the hazard category is added in parentheses where the code carries one.
"""

from __future__ import annotations

# Codes whose tens digit alone names the kind of ship.
_GROUP_TEXT: dict[int, str] = {
    2: "Wing in ground",
    4: "High speed craft",
    6: "Passenger",
    7: "Cargo",
    8: "Tanker",
    9: "Other",
}

# Codes 30-39 and 50-59 name one kind each.
_SINGLE_TEXT: dict[int, str] = {
    30: "Fishing",
    31: "Towing",
    32: "Towing, large",
    33: "Dredging or underwater operations",
    34: "Diving operations",
    35: "Military operations",
    36: "Sailing",
    37: "Pleasure craft",
    38: "Reserved",
    39: "Reserved",
    50: "Pilot vessel",
    51: "Search and rescue vessel",
    52: "Tug",
    53: "Port tender",
    54: "Anti-pollution equipment",
    55: "Law enforcement",
    56: "Local vessel",
    57: "Local vessel",
    58: "Medical transport",
    59: "Noncombatant ship",
}

_HAZARD_CATEGORY: dict[int, str] = {1: "A", 2: "B", 3: "C", 4: "D"}

# The highest value the 8-bit field can carry; 100-255 are reserved for future use.
_MAX_CODE = 255


def ship_type_text(code: int | None) -> str | None:
    """Short text for an AIS ship type code: 52 "Tug", 80 "Tanker", 81 "Tanker (hazard A)".

    None for None or a value that does not fit the 8-bit field; "Not available" for 0 and
    "Reserved" for the codes ITU-R M.1371 keeps for future use (1-19, 100-255).
    """
    if code is None or code < 0 or code > _MAX_CODE:
        return None
    if code == 0:
        return "Not available"
    if code < 20 or code > 99:
        return "Reserved"
    single = _SINGLE_TEXT.get(code)
    if single is not None:
        return single
    tens, units = divmod(code, 10)
    group = _GROUP_TEXT[tens]
    hazard = _HAZARD_CATEGORY.get(units)
    if hazard is not None:
        return f"{group} (hazard {hazard})"
    return group


def is_tanker(code: int | None) -> bool:
    """True for the tanker codes 80-89 (any hazard category)."""
    return code is not None and 80 <= code <= 89


def is_cargo(code: int | None) -> bool:
    """True for the cargo codes 70-79 (any hazard category)."""
    return code is not None and 70 <= code <= 79


def is_fishing(code: int | None) -> bool:
    """True for code 30, fishing."""
    return code == 30
