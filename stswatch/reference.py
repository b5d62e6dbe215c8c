"""Loading the EEZ and port files named in settings, once per process."""

from __future__ import annotations

import sys
from pathlib import Path

from config.settings import ReferenceData
from detectors.encounters import PortLookup, ZoneLookup


def load_reference(
    reference: ReferenceData, *, announce: bool = True
) -> tuple[ZoneLookup | None, PortLookup | None]:
    """The zone and port lookups, or None for each file not configured.

    With no EEZ file every encounter is alerted with `eez: null`; that is said once on stderr
    because it changes what alerts mean.
    """
    from detectors.zones import load_zone_index

    # The H3 index of a world EEZ file takes seconds to build; it is cached per file (keyed
    # by size, time and hash) in the user's cache folder, since data folders may be read-only.
    zones = (
        load_zone_index(reference.eez_path, cache_dir=zone_cache_dir())
        if reference.eez_path
        else None
    )
    ports = None
    if reference.ports_path:
        from detectors.ports import load_ports

        ports = load_ports(_split_paths(reference.ports_path))
    if zones is None and announce:
        print(
            "stswatch: no EEZ file configured: every encounter is alerted, with eez: null",
            file=sys.stderr,
        )
    return zones, ports


def zone_cache_dir() -> Path:
    return Path.home() / ".cache" / "stswatch" / "zones"


def _split_paths(text: str) -> list[str]:
    """Several port files may be given, separated by commas."""
    return [part.strip() for part in text.split(",") if part.strip()]
