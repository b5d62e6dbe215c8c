"""Watchlists: vessels of interest, matched by IMO, MMSI, call sign and (approximately) name.

Lists come from CSV or JSON files (sanctions lists, a client's own list); several lists may
be loaded at once and each hit names its list. IMO numbers, MMSIs and call signs match
exactly; names match after normalisation (case, accents, punctuation and prefixes such as
M/V, MT, SS removed) either exactly, ignoring spaces, or when they are similar enough
(`difflib` ratio at least `name_similarity`) and carry the same numbers ("OCEAN STAR 1"
is not "OCEAN STAR 7": numbers tell sister ships apart).

This module parses text and matches values; reading the files (and noticing when they
change) is the shell's job (`stswatch.watchlists`). A detector holds one `Watchlist`, which
the shell swaps for a new one when a file changes.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from detectors.errors import StswatchError


class WatchlistError(StswatchError):
    """A watchlist file is not a list of vessels this module can read."""


# Leading words that say what kind of ship it is, not which ship (after punctuation became
# spaces: "M/V" is "M V", "M.T." is "M T").
_PREFIXES = frozenset(
    {"MV", "MT", "MS", "SS", "MY", "FV", "SV", "TS", "MTS", "MSV", "LPG", "LNG", "RV", "TB"}
)
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_DIGITS = re.compile(r"[0-9]+")
_MIN_FUZZY_LENGTH = 5


def normalise_name(name: str | None) -> str:
    """A vessel name reduced to what identifies it: 'M/V Océan-Star' -> 'OCEAN STAR'."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    words = _NON_ALNUM.sub(" ", text.upper()).split()
    while words:
        if words[0] in _PREFIXES:
            words = words[1:]
        elif len(words) > 1 and words[0] + words[1] in _PREFIXES and len(words[0]) == 1:
            words = words[2:]
        else:
            break
    return " ".join(words)


def normalise_call_sign(call_sign: str | None) -> str:
    return _NON_ALNUM.sub("", (call_sign or "").upper())


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    list_name: str
    mmsi: int | None = None
    imo: int | None = None
    name: str | None = None
    call_sign: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class WatchlistHit:
    list_name: str
    matched_by: str  # imo, mmsi, call_sign, name, name_similar
    value: str | int
    entry: WatchlistEntry
    similarity: float = 1.0


class Watchlist:
    """Entries of one or more lists, indexed for matching."""

    def __init__(self, entries: Iterable[WatchlistEntry] = (), name_similarity: float = 0.9):
        self.entries = tuple(entries)
        self.name_similarity = name_similarity
        self._by_mmsi: dict[int, list[WatchlistEntry]] = {}
        self._by_imo: dict[int, list[WatchlistEntry]] = {}
        self._by_call_sign: dict[str, list[WatchlistEntry]] = {}
        self._by_name: dict[str, list[WatchlistEntry]] = {}
        # normalised name -> (its digits, its entries), grouped by length for the fuzzy pass
        self._names_by_length: dict[int, list[str]] = {}
        for entry in self.entries:
            if entry.mmsi is not None:
                self._by_mmsi.setdefault(entry.mmsi, []).append(entry)
            if entry.imo is not None:
                self._by_imo.setdefault(entry.imo, []).append(entry)
            call_sign = normalise_call_sign(entry.call_sign)
            if call_sign:
                self._by_call_sign.setdefault(call_sign, []).append(entry)
            name = normalise_name(entry.name)
            if name:
                key = name.replace(" ", "")
                if key not in self._by_name:
                    self._names_by_length.setdefault(len(key), []).append(key)
                self._by_name.setdefault(key, []).append(entry)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def list_names(self) -> tuple[str, ...]:
        return tuple(sorted({e.list_name for e in self.entries}))

    def match(
        self,
        mmsi: int | None = None,
        imo: int | None = None,
        names: Sequence[str | None] = (),
        call_signs: Sequence[str | None] = (),
    ) -> list[WatchlistHit]:
        """Every entry a vessel matches, best evidence first, one hit per entry."""
        hits: list[WatchlistHit] = []
        seen: set[int] = set()

        def add(entries: list[WatchlistEntry], how: str, value: str | int, score: float) -> None:
            for entry in entries:
                if id(entry) not in seen:
                    seen.add(id(entry))
                    hits.append(WatchlistHit(entry.list_name, how, value, entry, score))

        if imo is not None and imo in self._by_imo:
            add(self._by_imo[imo], "imo", imo, 1.0)
        if mmsi is not None and mmsi in self._by_mmsi:
            add(self._by_mmsi[mmsi], "mmsi", mmsi, 1.0)
        for call_sign in call_signs:
            key = normalise_call_sign(call_sign)
            if key and key in self._by_call_sign:
                add(self._by_call_sign[key], "call_sign", key, 1.0)
        for name in names:
            normal = normalise_name(name)
            if not normal:
                continue
            key = normal.replace(" ", "")
            if key in self._by_name:
                add(self._by_name[key], "name", normal, 1.0)
            elif len(key) >= _MIN_FUZZY_LENGTH and self.name_similarity < 1.0:
                for other, score in self._similar(key):
                    add(self._by_name[other], "name_similar", normal, round(score, 3))
        return hits

    def _similar(self, key: str) -> list[tuple[str, float]]:
        threshold = self.name_similarity
        digits = _DIGITS.findall(key)
        # ratio = 2M/(a+b) <= 2*min/(a+b): lengths far apart cannot reach the threshold.
        low = int(len(key) * threshold / (2.0 - threshold))
        high = int(len(key) * (2.0 - threshold) / threshold) + 1
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(key)
        found = []
        for length in range(max(_MIN_FUZZY_LENGTH, low), high + 1):
            for other in self._names_by_length.get(length, ()):
                if _DIGITS.findall(other) != digits:
                    continue
                matcher.set_seq1(other)
                if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                    continue
                score = matcher.ratio()
                if score >= threshold:
                    found.append((other, score))
        found.sort(key=lambda item: (-item[1], item[0]))
        return found


# ------------------------------------------------------------------ reading list text

# Column (or JSON key) names, lower case with spaces and hyphens as underscores.
_COLUMN_NAMES = {
    "mmsi": "mmsi",
    "imo": "imo",
    "imo_number": "imo",
    "name": "name",
    "vessel_name": "name",
    "vessel": "name",
    "ship_name": "name",
    "call_sign": "call_sign",
    "callsign": "call_sign",
    "list": "list",
    "list_name": "list",
    "note": "note",
    "notes": "note",
    "reason": "note",
}


def _column(key: object) -> str | None:
    return _COLUMN_NAMES.get(str(key).strip().lower().replace(" ", "_").replace("-", "_"))


def _number(value: Any, what: str, where: str, digits: tuple[int, int]) -> int | None:
    if value is None:
        return None
    text = str(value).strip().upper().removeprefix("IMO").strip()
    if not text:
        return None
    if not text.isdigit() or not digits[0] <= len(text) <= digits[1]:
        raise WatchlistError(f"{where}: {what} {value!r} is not a number of {digits} digits")
    return int(text)


def _entry(row: dict[str, Any], list_name: str, where: str) -> WatchlistEntry | None:
    fields: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:
            continue
        column = _column(key)
        if column is not None and value not in (None, ""):
            fields[column] = value
    mmsi = _number(fields.get("mmsi"), "MMSI", where, (1, 9))
    imo = _number(fields.get("imo"), "IMO", where, (7, 7))
    name = str(fields["name"]).strip() if "name" in fields else None
    call_sign = str(fields["call_sign"]).strip() if "call_sign" in fields else None
    if mmsi is None and imo is None and not name and not call_sign:
        return None
    return WatchlistEntry(
        list_name=str(fields.get("list") or list_name),
        mmsi=mmsi,
        imo=imo,
        name=name or None,
        call_sign=call_sign or None,
        note=str(fields["note"]) if "note" in fields else None,
    )


def parse_csv(text: str, list_name: str, source: str = "watchlist") -> list[WatchlistEntry]:
    """Entries of a CSV with a header naming any of: mmsi, imo, name, call_sign, list, note."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = list(reader.fieldnames or [])
    if not any(_column(h) not in (None, "note", "list") for h in header):
        raise WatchlistError(
            f"{source}: expected a header with mmsi, imo, name or call_sign, got {header}"
        )
    entries = []
    for number, row in enumerate(reader, start=2):
        entry = _entry(row, list_name, f"{source} line {number}")
        if entry is not None:
            entries.append(entry)
    return entries


def parse_json(text: str, list_name: str, source: str = "watchlist") -> list[WatchlistEntry]:
    """Entries of a JSON array of vessel objects, or of `{"name": ..., "vessels": [...]}`."""
    try:
        document = json.loads(text)
    except ValueError as err:
        raise WatchlistError(f"{source}: not JSON ({err})") from None
    if isinstance(document, dict):
        list_name = str(document.get("name") or document.get("list") or list_name)
        document = document.get("vessels")
    if not isinstance(document, list):
        raise WatchlistError(f"{source}: expected a list of vessels or an object with 'vessels'")
    entries = []
    for index, item in enumerate(document):
        if not isinstance(item, dict):
            raise WatchlistError(f"{source}: vessel #{index + 1} is not an object")
        entry = _entry(item, list_name, f"{source} vessel #{index + 1}")
        if entry is not None:
            entries.append(entry)
    return entries


def parse_watchlist(text: str, list_name: str, source: str = "watchlist") -> list[WatchlistEntry]:
    """CSV or JSON, told apart by the first character."""
    if text.lstrip("\ufeff \t\r\n")[:1] in ("[", "{"):
        return parse_json(text, list_name, source)
    return parse_csv(text, list_name, source)
