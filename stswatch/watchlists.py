"""Watchlist files for running detectors: loaded at start, reloaded when they change.

The detectors never read files: each holds a `detectors.anomalies.watchlists.Watchlist`
(`EncounterDetector.watchlist`) and the shell around them swaps it for a new one when a file
changes. Both shells call the same two lines, as often as they like (the file times are
looked at once per `watchlists.check_interval_s` at most):

    files = WatchlistFiles.from_settings(settings.watchlists)      # once, at start
    refresh_watchlists(files, detectors)                           # in the processing loop

`stswatch detect` does it every few thousand records; a stream worker in its shard agent
loop, over `ShardStage.detectors.values()`. A file that fails to parse after a change is
reported (`last_error`) and the last good list stays in force: a half-written file must not
empty a sanctions list.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from config.settings import WatchlistSettings
from detectors.anomalies.watchlists import (
    Watchlist,
    WatchlistEntry,
    WatchlistError,
    parse_watchlist,
)
from detectors.engine import EncounterDetector

# (path, mtime_ns, size) of every file; None for a file that cannot be seen.
_Signature = tuple[tuple[str, int, int] | None, ...]


class WatchlistFiles:
    """The watchlist files named in settings and the list they make together."""

    def __init__(
        self,
        paths: Sequence[str],
        check_interval_s: float = 10.0,
        name_similarity: float = 0.9,
    ) -> None:
        self.paths = tuple(paths)
        self.check_interval_s = check_interval_s
        self.name_similarity = name_similarity
        self.last_error: str | None = None
        self.reloads = 0
        self._next_check_s = float("-inf")
        self._signature = self._stat()
        self._watchlist = self._load()

    @classmethod
    def from_settings(cls, settings: WatchlistSettings) -> WatchlistFiles:
        return cls(settings.paths, settings.check_interval_s, settings.name_similarity)

    def current(self) -> Watchlist:
        return self._watchlist

    def reload_if_changed(self, now_s: float | None = None) -> Watchlist | None:
        """The new list when a file changed since the last look (and parses), else None."""
        now = time.monotonic() if now_s is None else now_s
        if now < self._next_check_s or not self.paths:
            return None
        self._next_check_s = now + self.check_interval_s
        signature = self._stat()
        if signature == self._signature:
            return None
        self._signature = signature
        try:
            watchlist = self._load()
        except WatchlistError as err:
            self.last_error = str(err)
            return None
        self.last_error = None
        self.reloads += 1
        self._watchlist = watchlist
        return watchlist

    def _stat(self) -> _Signature:
        out: list[tuple[str, int, int] | None] = []
        for path in self.paths:
            try:
                stat = os.stat(path)
            except OSError:
                out.append(None)
                continue
            out.append((path, stat.st_mtime_ns, stat.st_size))
        return tuple(out)

    def _load(self) -> Watchlist:
        entries: list[WatchlistEntry] = []
        for path in self.paths:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise WatchlistError(f"watchlist {path}: cannot read it ({err})") from None
            entries.extend(parse_watchlist(text, Path(path).stem, source=path))
        return Watchlist(entries, self.name_similarity)


def apply_watchlist(watchlist: Watchlist, detectors: Iterable[EncounterDetector]) -> int:
    """Give every detector `watchlist` (those that already hold it are left alone)."""
    changed = 0
    for detector in detectors:
        if detector.watchlist is not watchlist:
            detector.watchlist = watchlist
            changed += 1
    return changed


def refresh_watchlists(
    files: WatchlistFiles, detectors: Iterable[EncounterDetector], now_s: float | None = None
) -> bool:
    """Reload the files if they changed, and make sure every detector holds the current
    list (detectors created since the last call included). True when a reload happened."""
    reloaded = files.reload_if_changed(now_s) is not None
    apply_watchlist(files.current(), detectors)
    return reloaded
