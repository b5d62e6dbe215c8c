"""Who each vessel said it was, over time: the evidence of identity laundering.

A ship that changes hands or hides its past changes its name, call sign and flag, and a flag
change means a new MMSI (the flag is the MMSI's first digits) under the same IMO number,
which stays with the hull for life. The registry keeps, per MMSI, its established name, call
sign and IMO and the changes seen, and per IMO the MMSI that last broadcast it, and reports:

- the same MMSI under a new name, call sign or IMO;
- the same IMO under a new MMSI (with the flag, name and call sign that changed with it).

A new value is established only after `identity_confirm_reports` reports in a row carry it,
so two transmitters that share an MMSI (an identity conflict, reported elsewhere) do not
produce a change at every report. Static reports are processed in event-time order, once
per tick, so the history is the same in every process.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from detectors.flags import flag_of_mmsi
from detectors.records import StaticReport

# The fields whose change is an identity change (destination, draught and ETA are voyage
# data and change every voyage).
IDENTITY_FIELDS = ("name", "call_sign", "imo")
# Changes kept per vessel; older ones drop off first.
_MAX_CHANGES = 32

_SPACES = re.compile(r"\s+")
# One float for every record never heard (a float per record would be 24 bytes a vessel).
_NEVER = float("-inf")


@dataclass(frozen=True, slots=True)
class IdentityChange:
    """One change in a vessel's identity, in the history of `mmsi`."""

    time_s: float
    field: str  # name, call_sign, imo, mmsi (this IMO was broadcast by another MMSI), flag
    old: str | int | None
    new: str | int | None
    mmsi: int
    imo: int | None = None

    def to_state(self) -> list[Any]:
        return [self.time_s, self.field, self.old, self.new, self.mmsi, self.imo]

    @classmethod
    def from_state(cls, state: list[Any]) -> IdentityChange:
        time_s, field_name, old, new, mmsi, imo = state
        return cls(float(time_s), str(field_name), old, new, int(mmsi), imo)


def clean_name(name: str | None) -> str | None:
    """A name as compared: upper case, single spaces, no AIS padding ('@')."""
    if name is None:
        return None
    text = _SPACES.sub(" ", name.replace("@", " ")).strip().upper()
    if not text:
        return None
    # A name already clean (AIS text is upper case) stays one string, not two equal ones.
    return name if text == name else text


@functools.lru_cache(maxsize=65536)
def is_valid_imo(imo: int | None) -> bool:
    """Seven digits whose last one checks (weights 7..2): junk IMOs are not tracked across
    MMSIs, since many unrelated vessels broadcast the same made-up number."""
    if imo is None or not 1_000_000 <= imo <= 9_999_999:
        return False
    digits = str(imo)
    return sum(int(d) * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True)) % 10 == int(
        digits[6]
    )


def _value(report: StaticReport, field_name: str) -> str | int | None:
    if field_name == "name":
        return clean_name(report.name)
    if field_name == "call_sign":
        return clean_name(report.call_sign)
    imo = report.imo
    return imo if imo is not None and 1_000_000 <= imo <= 9_999_999 else None


class IdentityRecord:
    """One MMSI's established identity, the values waiting for confirmation, its changes."""

    __slots__ = ("candidates", "changes", "last_heard_s", "last_raw", "mmsi", "values")

    def __init__(self, mmsi: int) -> None:
        self.mmsi = mmsi
        self.values: dict[str, str | int] = {}
        # field -> [value, reports in a row]; "imo_claim" is an IMO held by another MMSI.
        # None while there is none, and changes a tuple: nearly every vessel has neither, and
        # an empty dict and list would cost 200 bytes a vessel.
        self.candidates: dict[str, list[Any]] | None = None
        self.changes: tuple[IdentityChange, ...] = ()
        self.last_heard_s = _NEVER
        # The name, call sign and IMO last sent (each kept from the last report carrying
        # it): a report that repeats them (nearly every report; class B sends the name and
        # the rest in two parts) changes nothing once read (not saved: only a shortcut).
        self.last_raw: tuple[str | None, str | None, int | None] = (None, None, None)

    def changes_since(self, time_s: float) -> list[IdentityChange]:
        return [c for c in self.changes if c.time_s >= time_s]

    def _confirmed(self, key: str, value: str | int, needed: int) -> bool:
        candidates = self.candidates
        if candidates is None:
            candidates = self.candidates = {}
        held = candidates.get(key)
        if held is None or held[0] != value:
            held = candidates[key] = [value, 0]
        held[1] += 1
        if held[1] >= needed:
            self._drop_candidate(key)
            return True
        return False

    def _drop_candidate(self, key: str) -> None:
        candidates = self.candidates
        if candidates is not None:
            candidates.pop(key, None)
            if not candidates:
                self.candidates = None

    def _record(self, change: IdentityChange) -> None:
        self.changes = (*self.changes, change)[-_MAX_CHANGES:]

    def to_state(self) -> list[Any]:
        return [
            self.mmsi,
            dict(self.values),
            {k: list(v) for k, v in (self.candidates or {}).items()},
            [c.to_state() for c in self.changes],
            None if self.last_heard_s == _NEVER else self.last_heard_s,
        ]

    @classmethod
    def from_state(cls, state: list[Any]) -> IdentityRecord:
        mmsi, values, candidates, changes, last_heard_s = state
        record = cls(int(mmsi))
        record.values = {str(k): v for k, v in values.items()}
        record.candidates = {str(k): list(v) for k, v in candidates.items()} or None
        record.changes = tuple(IdentityChange.from_state(c) for c in changes)
        record.last_heard_s = _NEVER if last_heard_s is None else float(last_heard_s)
        return record


class IdentityRegistry:
    """Every MMSI's identity record and which MMSI each IMO was last broadcast by."""

    def __init__(self, confirm_reports: int, memory_s: float) -> None:
        self.confirm_reports = confirm_reports
        self.memory_s = memory_s
        self.records: dict[int, IdentityRecord] = {}
        self.imo_owner: dict[int, tuple[int, float]] = {}

    def record(self, mmsi: int) -> IdentityRecord:
        found = self.records.get(mmsi)
        if found is None:
            found = self.records[mmsi] = IdentityRecord(mmsi)
        return found

    def adopt(self, record: IdentityRecord) -> None:
        """Take a record restored from saved state (and index its IMO)."""
        self.records[record.mmsi] = record
        imo = record.values.get("imo")
        if isinstance(imo, int) and is_valid_imo(imo):
            held = self.imo_owner.get(imo)
            if held is None or held[1] < record.last_heard_s:
                self.imo_owner[imo] = (record.mmsi, record.last_heard_s)

    def observe(self, report: StaticReport) -> list[IdentityChange]:
        """Take one static report (in event-time order); return the changes it confirms."""
        record = self.record(report.mmsi)
        record.last_heard_s = max(record.last_heard_s, report.time_s)
        name, call_sign, imo_sent = report.name, report.call_sign, report.imo
        last_name, last_call_sign, last_imo = record.last_raw
        if (
            (name is None or name == last_name)
            and (call_sign is None or call_sign == last_call_sign)
            and (imo_sent is None or imo_sent == last_imo)
            and (name is not None or call_sign is not None or imo_sent is not None)
            and not record.candidates
        ):
            known_imo = record.values.get("imo")
            if not isinstance(known_imo, int) or not is_valid_imo(known_imo):
                return []
            owner = self.imo_owner.get(known_imo)
            if owner is not None and owner[0] == record.mmsi:
                self.imo_owner[known_imo] = (record.mmsi, report.time_s)
                return []
        record.last_raw = (
            last_name if name is None else name,
            last_call_sign if call_sign is None else call_sign,
            last_imo if imo_sent is None else imo_sent,
        )
        needed = self.confirm_reports
        changes: list[IdentityChange] = []
        for field_name in IDENTITY_FIELDS:
            value = _value(report, field_name)
            if value is None:
                continue
            held = record.values.get(field_name)
            if held is None:
                record.values[field_name] = value
            elif value == held:
                record._drop_candidate(field_name)
            elif record._confirmed(field_name, value, needed):
                record.values[field_name] = value
                changes.append(IdentityChange(report.time_s, field_name, held, value, report.mmsi))
        imo = _value(report, "imo")
        if isinstance(imo, int) and is_valid_imo(imo):
            changes.extend(self._imo_broadcast(record, imo, report.time_s))
        for change in changes:
            record._record(change)
        return changes

    def _imo_broadcast(
        self, record: IdentityRecord, imo: int, time_s: float
    ) -> list[IdentityChange]:
        held = self.imo_owner.get(imo)
        if held is None or held[0] == record.mmsi:
            record._drop_candidate("imo_claim")
            self.imo_owner[imo] = (record.mmsi, time_s)
            return []
        if not record._confirmed("imo_claim", imo, self.confirm_reports):
            return []
        old_mmsi = held[0]
        self.imo_owner[imo] = (record.mmsi, time_s)
        previous = self.records.get(old_mmsi)
        # Two ships claiming one IMO in turn would otherwise add a change at every turn.
        if any(
            c.field == "mmsi" and {c.old, c.new} == {old_mmsi, record.mmsi} for c in record.changes
        ):
            return []
        changes = [IdentityChange(time_s, "mmsi", old_mmsi, record.mmsi, record.mmsi, imo)]
        old_flag = flag_of_mmsi(old_mmsi)
        new_flag = flag_of_mmsi(record.mmsi)
        old_iso = old_flag.iso3 if old_flag is not None else None
        new_iso = new_flag.iso3 if new_flag is not None else None
        if old_iso != new_iso:
            changes.append(IdentityChange(time_s, "flag", old_iso, new_iso, record.mmsi, imo))
        if previous is not None:
            for field_name in ("name", "call_sign"):
                old = previous.values.get(field_name)
                new = record.values.get(field_name)
                if old is not None and new is not None and old != new:
                    changes.append(IdentityChange(time_s, field_name, old, new, record.mmsi, imo))
        return changes

    def changes_since(self, mmsi: int, time_s: float) -> list[IdentityChange]:
        record = self.records.get(mmsi)
        return record.changes_since(time_s) if record is not None else []

    def changes_of(self, mmsi: int) -> tuple[IdentityChange, ...]:
        """Every change recorded for `mmsi`, oldest first (empty for most vessels)."""
        record = self.records.get(mmsi)
        return record.changes if record is not None else ()

    def forget_older_than(self, time_s: float) -> list[int]:
        """Drop records not heard since `time_s`; return their MMSIs."""
        stale = [m for m, r in self.records.items() if r.last_heard_s < time_s]
        for mmsi in stale:
            del self.records[mmsi]
        for imo in [i for i, (_, t) in self.imo_owner.items() if t < time_s]:
            del self.imo_owner[imo]
        return stale
