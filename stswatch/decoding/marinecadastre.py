"""NOAA MarineCadastre AIS CSV (decoded positions of US waters) to records.

Columns (found by name in the header, in any order, case-insensitive):
`MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,
Width,Draft,Cargo,TransceiverClass`. `BaseDateTime` is UTC without a zone
(`2022-01-03T00:00:00`). The same "not available" rules as for AIS messages apply (the CSV
keeps AIS's codes: heading 511, course 360, speed 102.3); empty cells are missing values.

Each row gives a Position. A StaticReport (message type 0: not from an AIS message) is given
only when the row's identity (name, call sign, IMO, ship type, length, width, draught) differs
from the previous one of the same MMSI, so a vessel's identity is sent once, not per row.
"""

from __future__ import annotations

import calendar
import csv
import math
from collections.abc import Iterable, Iterator

from detectors.errors import StswatchError
from detectors.records import Position, Reject, StaticReport
from stswatch.decoding.checks import MAX_MMSI, MAX_TIME_S, MIN_TIME_S, check_lat_lon
from stswatch.decoding.stats import DecodeStats

HEADER_MARKERS = ("mmsi", "basedatetime")
REQUIRED_COLUMNS = ("mmsi", "basedatetime", "lat", "lon")
OPTIONAL_COLUMNS = (
    "sog",
    "cog",
    "heading",
    "vesselname",
    "imo",
    "callsign",
    "vesseltype",
    "status",
    "length",
    "width",
    "draft",
)
CSV_MESSAGE_TYPE = 0

_SPEED_NA_KN = 102.3
_MAX_CACHED_TIMES = 200_000
_STATUS_NOT_DEFINED = 15

DecodedItem = Position | StaticReport | Reject


class CsvFormatError(StswatchError):
    """A CSV input lacks the columns stswatch needs."""


def is_marinecadastre_header(line: str) -> bool:
    """True for a MarineCadastre header line (it names MMSI and BaseDateTime)."""
    lowered = line.lower()
    return all(marker in lowered for marker in HEADER_MARKERS)


_COLUMN_TITLES = {"mmsi": "MMSI", "basedatetime": "BaseDateTime", "lat": "LAT", "lon": "LON"}


def column_indexes(header: list[str], source: str = "CSV") -> dict[str, int]:
    """Lower-case column name to index; raises CsvFormatError when a needed one is absent."""
    indexes = {name.strip().lower(): index for index, name in enumerate(header)}
    missing = [_COLUMN_TITLES[name] for name in REQUIRED_COLUMNS if name not in indexes]
    if missing:
        raise CsvFormatError(
            f"{source}: the header lacks column(s) {', '.join(missing)}"
            f" (MarineCadastre layout expected, header is {','.join(header)[:200]})"
        )
    return indexes


_day_start_s: dict[str, int] = {}


def parse_base_datetime(text: str) -> float:
    """Epoch seconds of `YYYY-MM-DDTHH:MM:SS[.fff]` (UTC); ValueError when unreadable.

    Day starts are cached: a daily file has one date, and `datetime` parsing per row would
    cost more than the rest of the row.
    """
    day = text[:10]
    start = _day_start_s.get(day)
    if start is None:
        if len(day) != 10 or day[4] != "-" or day[7] != "-":
            raise ValueError(f"not a date: {text!r}")
        start = calendar.timegm((int(day[:4]), int(day[5:7]), int(day[8:10]), 0, 0, 0))
        if len(_day_start_s) > 10_000:
            _day_start_s.clear()
        _day_start_s[day] = start
    clock = text[11:]
    if text[10:11] not in ("T", " ") or len(clock) < 8 or clock[2] != ":" or clock[5] != ":":
        raise ValueError(f"not a time: {text!r}")
    hours, minutes, seconds = int(clock[:2]), int(clock[3:5]), float(clock[6:])
    if hours > 23 or minutes > 59 or not 0 <= seconds < 61:
        raise ValueError(f"time out of range: {text!r}")
    return start + hours * 3600 + minutes * 60 + seconds


def _number(cell: str, column: str) -> float | None:
    if not cell:
        return None
    try:
        value = float(cell)
    except ValueError:
        raise _RowProblemError("bad_field", f"unreadable {column}: {cell!r}") from None
    if not math.isfinite(value):
        return None
    return value


def _integer(cell: str, column: str) -> int | None:
    value = _number(cell, column)
    if value is None:
        return None
    if value != int(value):
        raise _RowProblemError("bad_field", f"{column} is not an integer: {cell!r}")
    return int(value)


def _imo(cell: str) -> int | None:
    """`IMO9301108` or `9301108` to 9301108; `IMO0000000` and junk to None."""
    digits = cell[3:] if cell[:3].upper() == "IMO" else cell
    if not digits.isdigit():
        return None
    return int(digits) or None


def _positive(value: float | None) -> float | None:
    return value if value is not None and value > 0 else None


class MarineCadastreDecoder:
    """Turns rows of one MarineCadastre file into records, remembering identities per MMSI."""

    def __init__(
        self, header: list[str], stats: DecodeStats | None = None, source: str = "CSV"
    ) -> None:
        columns = column_indexes(header, source)
        self.stats = stats if stats is not None else DecodeStats()
        self._width = len(header)

        # Absent optional columns read the empty cell appended to every row (index -1).
        def index(name: str) -> int:
            return columns.get(name, -1)

        self._mmsi, self._time, self._lat, self._lon = (index(n) for n in REQUIRED_COLUMNS)
        self._sog, self._cog, self._heading, self._status = (
            index(n) for n in ("sog", "cog", "heading", "status")
        )
        self._identity_columns = tuple(
            index(n)
            for n in ("vesselname", "callsign", "imo", "vesseltype", "length", "width", "draft")
        )
        # Per MMSI: the raw identity cells last seen (cheap to compare on every row) and the
        # identity last reported.
        self._raw_identity: dict[int, tuple[str, ...]] = {}
        # BaseDateTime text to epoch seconds: many rows share a second.
        self._times: dict[str, float] = {}
        self._identity: dict[int, tuple[object, ...]] = {}

    def decode_row(self, row: list[str], source: str) -> list[DecodedItem]:
        """Records of one data row (a Position and maybe a StaticReport), or a Reject."""
        stats = self.stats
        stats.lines_read += 1
        stats.rows_read += 1
        if len(row) != self._width:
            return [
                self._reject(
                    "malformed", row, source, f"{len(row)} columns, header has {self._width}"
                )
            ]
        cells = [*row, ""]
        try:
            return self._decode(cells)
        except _RowProblemError as err:
            return [self._reject(err.reason, row, source, err.detail)]
        except ValueError:
            return [self._reject("bad_field", row, source, self._unreadable(cells))]

    def _decode(self, cells: list[str]) -> list[DecodedItem]:
        """The fast path: plain int()/float() on the cells; ValueError on a bad one."""
        mmsi = int(cells[self._mmsi])
        if not 0 < mmsi <= MAX_MMSI:
            raise _RowProblemError("bad_mmsi", f"MMSI {mmsi} is not 9 digits")
        time_text = cells[self._time]
        time_s = self._times.get(time_text)
        if time_s is None:
            time_s = self._parse_time(time_text)
        lat_text = cells[self._lat]
        lon_text = cells[self._lon]
        if not lat_text.strip() or not lon_text.strip():
            raise _RowProblemError("no_position", "LAT or LON empty")
        lat = float(lat_text)
        lon = float(lon_text)
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            problem = check_lat_lon(lat, lon) or ("no_position", f"lat {lat}, lon {lon}")
            raise _RowProblemError(*problem)
        sog_text = cells[self._sog]
        cog_text = cells[self._cog]
        heading_text = cells[self._heading]
        status_text = cells[self._status]
        sog = float(sog_text) if sog_text else None
        cog = float(cog_text) if cog_text else None
        heading = float(heading_text) if heading_text else None
        status = float(status_text) if status_text else None
        # NaN fails every comparison below and becomes None like the "not available" codes.
        position = Position(
            mmsi,
            time_s,
            lat,
            lon,
            sog if sog is not None and 0 <= sog < _SPEED_NA_KN else None,
            cog if cog is not None and 0 <= cog < 360 else None,
            heading if heading is not None and 0 <= heading < 360 else None,
            int(status) if status is not None and 0 <= status < _STATUS_NOT_DEFINED else None,
            CSV_MESSAGE_TYPE,
        )
        self.stats.positions += 1

        raw_identity = tuple(cells[index] for index in self._identity_columns)
        if self._raw_identity.get(mmsi) == raw_identity:
            return [position]
        self._raw_identity[mmsi] = raw_identity
        static = self._static(mmsi, time_s, raw_identity)
        if static is None:
            return [position]
        self.stats.statics += 1
        return [position, static]

    def _parse_time(self, text: str) -> float:
        try:
            time_s = parse_base_datetime(text.strip())
        except ValueError as err:
            raise _RowProblemError("bad_time", str(err)) from None
        if not MIN_TIME_S <= time_s < MAX_TIME_S:
            raise _RowProblemError("bad_time", f"time {time_s} s is not between 1990 and 2100")
        if len(self._times) >= _MAX_CACHED_TIMES:
            self._times.clear()
        self._times[text] = time_s
        return time_s

    def _static(self, mmsi: int, time_s: float, raw: tuple[str, ...]) -> StaticReport | None:
        """A StaticReport when the identity in `raw` differs from the last one reported."""
        name_text, call_sign_text, imo_text, type_text, length_text, width_text, draft_text = raw
        name = name_text.strip("@ ") or None
        call_sign = call_sign_text.strip("@ ") or None
        imo = _imo(imo_text.strip())
        ship_type = _integer(type_text.strip(), "VesselType")
        if ship_type is not None and not 0 < ship_type < 256:
            ship_type = None
        length = _positive(_number(length_text.strip(), "Length"))
        width = _positive(_number(width_text.strip(), "Width"))
        draught = _positive(_number(draft_text.strip(), "Draft"))
        identity = (name, call_sign, imo, ship_type, length, width, draught)
        if self._identity.get(mmsi) == identity or all(v is None for v in identity):
            return None
        self._identity[mmsi] = identity
        return StaticReport(
            mmsi,
            time_s,
            CSV_MESSAGE_TYPE,
            name=name,
            call_sign=call_sign,
            imo=imo,
            ship_type=ship_type,
            length_m=length,
            width_m=width,
            draught_m=draught,
        )

    def _unreadable(self, cells: list[str]) -> str:
        """Which cell made the fast path fail (the slow path, for the reject's detail)."""
        checks = (
            ("MMSI", self._mmsi, int),
            ("LAT", self._lat, float),
            ("LON", self._lon, float),
            ("SOG", self._sog, float),
            ("COG", self._cog, float),
            ("Heading", self._heading, float),
            ("Status", self._status, float),
        )
        for column, index, parse in checks:
            text = cells[index]
            if not text and column not in ("MMSI", "LAT", "LON"):
                continue
            try:
                parse(text)
            except ValueError:
                return f"unreadable {column}: {text!r}"
        return "unreadable cell"

    def _reject(self, reason: str, row: list[str], source: str, detail: str) -> Reject:
        self.stats.rejected[reason] += 1
        return Reject(reason, _row_text(row), source, detail)


class _RowProblemError(Exception):
    """Why a row cannot be used (internal control flow of the reject path)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


def _row_text(row: list[str]) -> str:
    text = ",".join(row)
    return text if len(text) <= 300 else text[:300] + "..."


class _OneLine:
    """An iterator that hands csv.reader the one line put in `line`, then ends."""

    __slots__ = ("line",)

    def __init__(self) -> None:
        self.line: str | None = None

    def __iter__(self) -> _OneLine:
        return self

    def __next__(self) -> str:
        line = self.line
        if line is None:
            raise StopIteration
        self.line = None
        return line


def iter_marinecadastre(
    lines: Iterable[str], source: str, stats: DecodeStats | None = None
) -> Iterator[DecodedItem]:
    """Records of a MarineCadastre CSV given as text lines, header first.

    Raises CsvFormatError when the header lacks MMSI, BaseDateTime, LAT or LON; every other
    problem is a Reject of its row.
    """
    stats = stats if stats is not None else DecodeStats()
    # One physical line is one row: csv.reader over the whole file would let a stray quote
    # swallow the following lines into one field (and raise csv.Error past 128 KiB), so the
    # reader is fed one line at a time and an unterminated quote ends with its line.
    feed = _OneLine()
    reader = csv.reader(feed)
    header: list[str] | None = None
    for line in lines:
        feed.line = line
        try:
            row = next(reader, [])
        except csv.Error as err:
            stats.lines_read += 1
            if header is not None:
                stats.rows_read += 1
            stats.rejected["malformed"] += 1
            yield Reject("malformed", _row_text([line]), source, f"CSV: {err}")
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            stats.lines_read += 1
            stats.skipped["blank"] += 1
            continue
        if header is None:
            stats.lines_read += 1
            stats.skipped["header"] += 1
            header = row
            decoder = MarineCadastreDecoder(header, stats, source)
            continue
        yield from decoder.decode_row(row, source)
