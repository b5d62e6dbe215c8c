"""Event times at the edges: epoch seconds inside, ISO 8601 UTC strings outside."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(time_s: float) -> str:
    """`2024-05-01T12:00:00Z` (milliseconds shown only when present)."""
    moment = datetime.fromtimestamp(time_s, tz=UTC)
    if moment.microsecond:
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso_utc(text: str) -> float:
    """Epoch seconds from an ISO 8601 time; a time without zone is taken as UTC."""
    value = text.strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
