"""Believable vessel identities: MMSI with a real flag MID, name, IMO, call sign, type, size.

Real AIS data is the model: a tanker flagged in Liberia has an MMSI starting 636, a call
sign starting A8 or D5 and a seven-digit IMO number whose last digit checks; a Chinese
fishing boat is named like ZHE LING YU 12345 and often carries a class B transponder with
no IMO at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Call-sign prefixes per maritime identification digits (ITU allocations, as seen in AIS).
CALL_SIGN_PREFIXES: dict[int, tuple[str, ...]] = {
    412: ("BO", "BP", "BQ", "BR"),
    413: ("BO", "BP", "BS", "BV"),
    414: ("BX", "BY", "BZ"),
    416: ("BI", "BJ"),
    431: ("7J", "JD"),
    432: ("7K", "JE"),
    440: ("D7", "DS"),
    441: ("D8", "DT"),
    445: ("HM",),
    477: ("VR", "VS"),
    224: ("EA", "EB"),
    225: ("EC", "ED"),
    242: ("CN",),
    263: ("CQ", "CS"),
    236: ("ZD",),
    215: ("9H",),
    229: ("9H",),
    248: ("9H",),
    249: ("9H",),
    256: ("9H",),
    237: ("SV", "SW"),
    241: ("SV", "SX"),
    273: ("UB", "UC"),
    538: ("V7",),
    636: ("A8", "D5"),
    351: ("3E", "HO"),
    352: ("3F", "HP"),
    353: ("3E", "H3"),
    354: ("3F", "H8"),
    355: ("3E", "H9"),
    356: ("3F", "HO"),
    357: ("3E", "HP"),
    370: ("3F", "H3"),
    371: ("3E", "H8"),
    372: ("3F", "H9"),
    373: ("3E", "HO"),
    563: ("9V",),
    564: ("9V",),
    565: ("9V",),
    566: ("9V",),
    605: ("7T",),
    620: ("D6",),
    667: ("9L",),
    671: ("5V",),
}

_ADJECTIVES = (
    "ATLANTIC",
    "PACIFIC",
    "GOLDEN",
    "OCEAN",
    "GRAND",
    "NORDIC",
    "EASTERN",
    "SILVER",
    "ROYAL",
    "BLUE",
    "GREAT",
    "BRIGHT",
    "STAR",
    "NEW",
    "UNITED",
    "CAPE",
    "SEA",
    "CORAL",
)
_NOUNS = (
    "GLORY",
    "SPIRIT",
    "PIONEER",
    "TRADER",
    "VOYAGER",
    "HARMONY",
    "FORTUNE",
    "EXPRESS",
    "WAVE",
    "HORIZON",
    "DREAM",
    "PRIDE",
    "VENTURE",
    "PEARL",
    "EAGLE",
    "PHOENIX",
    "LEGEND",
    "BRIDGE",
    "ARROW",
    "DAWN",
    "ENDEAVOUR",
    "MERCHANT",
    "NAVIGATOR",
    "HOPE",
)
_CHINESE_PREFIXES = ("XIN", "HAI", "ZHONG", "HUA", "MIN", "JIN", "YONG", "DA", "HONG", "TAI")
_CHINESE_WORDS = ("HAI", "YUN", "TONG", "SHUN", "FENG", "XING", "CHANG", "AN", "DA", "HE")
_CHINESE_FISHING = (
    "ZHE LING YU",
    "ZHE DAI YU",
    "ZHE PU YU",
    "LU RONG YU",
    "SU GAN YU",
    "MIN SHI YU",
    "LIAO DAN YU",
    "LU YAN YU",
    "ZHE XIANG YU",
)
_KOREAN_WORDS = ("DAEJIN", "SEOHAE", "NAMHAE", "HANBIT", "DONGWON", "SAMHO", "OYANG", "JEJU")
_SPANISH_FISHING = ("NUEVO", "PLAYA DE", "VIRGEN DEL", "HERMANOS", "MAR DE", "SANTA")
_SPANISH_WORDS = ("BARBATE", "CARMEN", "ROSARIO", "ALBORAN", "TARIFA", "CONIL", "ESTRECHO")
_MOROCCAN_FISHING = ("ALMOUNTASSIR", "ABOU", "NOUR", "ASSALAM", "ALMANSOUR", "TAHA", "RIF")

CHINA_MIDS = frozenset({412, 413, 414})
KOREA_MIDS = frozenset({440, 441})
SPAIN_MIDS = frozenset({224, 225})


@dataclass(frozen=True, slots=True)
class VesselIdentity:
    """What a vessel's AIS static messages say about it."""

    mmsi: int
    name: str
    call_sign: str
    imo: int  # 0: none (small craft)
    ship_type: int
    length_m: int
    beam_m: int
    draught_m: float
    destination: str
    ais_class: str  # "A" or "B"

    @property
    def dimensions(self) -> tuple[int, int, int, int]:
        """AIS reference point distances: to bow, to stern, to port, to starboard (metres)."""
        to_bow = round(self.length_m * 0.82)
        to_port = round(self.beam_m * 0.5)
        return (
            min(to_bow, 511),
            min(self.length_m - to_bow, 511),
            min(to_port, 63),
            min(self.beam_m - to_port, 63),
        )


def imo_check_digit(six_digits: int) -> int:
    """The IMO number's check digit: weights 7..2 on the first six digits, modulo 10."""
    digits = f"{six_digits:06d}"
    return sum(int(d) * w for d, w in zip(digits, range(7, 1, -1), strict=True)) % 10


def is_valid_imo(imo: int) -> bool:
    if not 1_000_000 <= imo <= 9_999_999:
        return False
    return imo % 10 == imo_check_digit(imo // 10)


def make_imo(rng: np.random.Generator) -> int:
    """A valid IMO number in the 9xxxxxx range of ships built since the 1980s."""
    six = int(rng.integers(900_000, 999_999))
    return six * 10 + imo_check_digit(six)


def _size_for_type(rng: np.random.Generator, ship_type: int) -> tuple[int, int, float]:
    if 80 <= ship_type <= 89:
        length = int(rng.choice((183, 228, 250, 274, 333)))
        beam = {183: 32, 228: 32, 250: 44, 274: 48, 333: 60}[length]
        draught = round(float(rng.uniform(0.45, 0.95)) * length / 15.0, 1)
    elif 70 <= ship_type <= 79:
        length = int(rng.integers(90, 400))
        beam = max(14, int(length / 6.5))
        draught = round(float(rng.uniform(0.4, 0.9)) * length / 18.0 + 2.0, 1)
    elif ship_type == 30:
        length = int(rng.integers(18, 60))
        beam = max(5, int(length / 4.5))
        draught = round(float(rng.uniform(2.0, 5.0)), 1)
    elif ship_type in (31, 32, 52):
        length = int(rng.integers(24, 42))
        beam = max(8, int(length / 3.0))
        draught = round(float(rng.uniform(3.5, 5.5)), 1)
    else:
        length = int(rng.integers(20, 150))
        beam = max(5, int(length / 6.0))
        draught = round(float(rng.uniform(2.0, 8.0)), 1)
    return length, beam, min(draught, 25.5)


def _name(rng: np.random.Generator, mid: int, ship_type: int) -> str:
    number = int(rng.integers(1, 99))
    if ship_type == 30:
        if mid in CHINA_MIDS:
            return f"{rng.choice(_CHINESE_FISHING)} {int(rng.integers(10000, 99999))}"
        if mid in KOREA_MIDS:
            return f"{rng.choice(_KOREAN_WORDS)} {int(rng.integers(1, 350))} HO"
        if mid in SPAIN_MIDS:
            return f"{rng.choice(_SPANISH_FISHING)} {rng.choice(_SPANISH_WORDS)}"
        if mid == 242:
            return f"{rng.choice(_MOROCCAN_FISHING)} {int(rng.integers(1, 60))}"
    if ship_type in (31, 32, 52):
        if mid in CHINA_MIDS:
            return f"{rng.choice(_CHINESE_PREFIXES)} TUO {number}"
        return f"{rng.choice(_NOUNS)} {number}"
    if mid in CHINA_MIDS:
        return f"{rng.choice(_CHINESE_PREFIXES)} {rng.choice(_CHINESE_WORDS)} {number}"
    if mid in KOREA_MIDS:
        return f"{rng.choice(_KOREAN_WORDS)} {rng.choice(_NOUNS)}"
    name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    if rng.random() < 0.4:
        name = f"{name} {int(rng.integers(1, 9))}"
    return name


def _call_sign(rng: np.random.Generator, mid: int) -> str:
    prefixes = CALL_SIGN_PREFIXES.get(mid, ("XX",))
    prefix = str(rng.choice(prefixes))
    letters = "".join(chr(int(c)) for c in rng.integers(65, 91, size=2))
    return f"{prefix}{letters}{int(rng.integers(2, 10))}"[:7]


class IdentityFactory:
    """Hands out unique, deterministic identities from a seeded generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._used_mmsi: set[int] = set()
        self._used_imo: set[int] = set()

    def make(
        self,
        mid: int,
        ship_type: int,
        ais_class: str = "A",
        destination: str = "",
        name: str | None = None,
    ) -> VesselIdentity:
        rng = self._rng
        while True:
            mmsi = mid * 1_000_000 + int(rng.integers(0, 1_000_000))
            # Many administrations end ship MMSIs in zeros; keep a share of those.
            if rng.random() < 0.3:
                mmsi = mmsi // 1000 * 1000
            if mmsi not in self._used_mmsi and mmsi % 1_000_000 >= 1000:
                self._used_mmsi.add(mmsi)
                break
        imo = 0
        if ais_class == "A" and (ship_type != 30 or rng.random() < 0.3):
            while True:
                imo = make_imo(rng)
                if imo not in self._used_imo:
                    self._used_imo.add(imo)
                    break
        length, beam, draught = _size_for_type(rng, ship_type)
        return VesselIdentity(
            mmsi=mmsi,
            name=(name or _name(rng, mid, ship_type))[:20],
            call_sign=_call_sign(rng, mid),
            imo=imo,
            ship_type=ship_type,
            length_m=length,
            beam_m=beam,
            draught_m=draught,
            destination=destination[:20],
            ais_class=ais_class,
        )
