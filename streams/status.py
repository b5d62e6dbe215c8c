"""Live status in Redis: what people and services look up about vessels and encounters.

Keys (prefix `redis.key_prefix`, "stswatch" by default), all with TTLs:

- `{p}:vessel:{mmsi}` (hash): last position, time, speed, course, H3 cell, identity (name,
  IMO, call sign, flag, type);
- `{p}:vessel:{mmsi}:encounters` (set): alert ids of the vessel's active encounters;
- `{p}:vessel:{mmsi}:track` (sorted set, scored by event time): the vessel's recent track,
  at most `redis.track_points` points `"time_s,lat,lon,sog_kn,cog_deg"`, one per
  `redis.track_interval_s` of event time at most;
- `{p}:encounter:{alert_id}` (string): the encounter's latest alert (JSON, schema v1);
- `{p}:encounter:{alert_id}:history` (sorted set, scored by event time): the encounter's
  alert events (JSON), at most `redis.alert_history` of them;
- `{p}:encounters:active` (set): alert ids of all active encounters;
- `{p}:encounters:closed` (sorted set): alert ids of closed encounters, scored by end time;
- `{p}:eez:{ISO}:encounters` (set): alert ids of active encounters in that EEZ;
- `{p}:vessels:geo` (geo set): last position of every vessel, for "vessels near a point"
  (within +-85.05 degrees of latitude, all a geo set can hold);
- `{p}:vessels:seen` (sorted set): last event time of every vessel, to prune the geo set.

Redis is a serving store, not the system of record: everything here is rebuilt from the
topics (positions on the shard topic, alerts on `sts.alerts.v1`). Writers therefore keep the
newest value per key in memory until Redis has taken it, so that a Redis outage delays the
status but does not lose it (`StatusWriter.pending`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis

from config.settings import RedisSettings, SettingsError, mask_url
from detectors import cells
from detectors.flags import flag_of_mmsi
from detectors.identity import VesselIdentity
from detectors.records import Position
from detectors.shiptypes import ship_type_text
from detectors.timefmt import iso_utc, parse_iso_utc

log = logging.getLogger(__name__)

STATUS_H3_RESOLUTION = 7
# Retries of failed status writes back off between these (seconds).
RETRY_INITIAL_S = 0.5
RETRY_MAX_S = 5.0


# A vessel's newest position, its identity then and the identity's history.
_VesselNote = tuple[Position, VesselIdentity | None, list[dict[str, Any]] | None]


@dataclass(frozen=True, slots=True)
class StatusKeys:
    prefix: str

    def vessel(self, mmsi: int | str) -> str:
        return f"{self.prefix}:vessel:{mmsi}"

    def vessel_encounters(self, mmsi: int | str) -> str:
        return f"{self.prefix}:vessel:{mmsi}:encounters"

    def vessel_track(self, mmsi: int | str) -> str:
        return f"{self.prefix}:vessel:{mmsi}:track"

    def encounter(self, alert_id: str) -> str:
        return f"{self.prefix}:encounter:{alert_id}"

    def encounter_history(self, alert_id: str) -> str:
        return f"{self.prefix}:encounter:{alert_id}:history"

    @property
    def active(self) -> str:
        return f"{self.prefix}:encounters:active"

    @property
    def closed(self) -> str:
        return f"{self.prefix}:encounters:closed"

    def eez(self, iso: str) -> str:
        return f"{self.prefix}:eez:{iso}:encounters"

    @property
    def geo(self) -> str:
        return f"{self.prefix}:vessels:geo"

    @property
    def seen(self) -> str:
        return f"{self.prefix}:vessels:seen"


def connection_kwargs(settings: RedisSettings) -> dict[str, Any]:
    """Keyword arguments for redis-py's `from_url`, with credentials and TLS from settings."""
    kwargs: dict[str, Any] = {"decode_responses": True, "socket_timeout": 5.0}
    if settings.username:
        kwargs["username"] = settings.username
    if settings.password:
        kwargs["password"] = settings.password.value
    if settings.ssl_ca_certs:
        # redis-py takes TLS options only for rediss:// URLs (a plain redis:// connection
        # fails with a TypeError on its first command): say so at start instead.
        if not settings.url.startswith("rediss://"):
            raise SettingsError(
                "setting redis.ssl_ca_certs: TLS needs a rediss:// URL in redis.url "
                f"(got {mask_url(settings.url)})"
            )
        kwargs["ssl_ca_certs"] = settings.ssl_ca_certs
    return kwargs


def sync_client(settings: RedisSettings) -> redis.Redis:
    return redis.Redis.from_url(settings.url, **connection_kwargs(settings))


def async_client(settings: RedisSettings) -> aioredis.Redis:
    return aioredis.Redis.from_url(settings.url, **connection_kwargs(settings))


def vessel_fields(
    position: Position,
    identity: VesselIdentity | None,
    identity_history: list[dict[str, Any]] | None = None,
) -> dict[str, str]:
    """The vessel hash for a position and the identity known with it.

    `identity_history` (changes of name, call sign, IMO, flag, MMSI, as in the alerts) is
    stored as a JSON field."""
    fields: dict[str, Any] = {
        "mmsi": position.mmsi,
        "lat": round(position.lat, 6),
        "lon": round(position.lon, 6),
        "time": iso_utc(position.time_s),
        "time_s": position.time_s,
        "sog_kn": position.sog_kn,
        "cog_deg": position.cog_deg,
        "heading_deg": position.heading_deg,
        "nav_status": position.nav_status,
        "h3_cell": cells.latlng_to_cell(position.lat, position.lon, STATUS_H3_RESOLUTION),
    }
    flag = flag_of_mmsi(position.mmsi)
    if flag is not None:
        fields.update(flag_iso2=flag.iso2, flag_iso3=flag.iso3, flag_name=flag.name)
    if identity is not None:
        fields.update(
            name=identity.name,
            imo=identity.imo,
            call_sign=identity.call_sign,
            ship_type=identity.ship_type,
            ship_type_text=ship_type_text(identity.ship_type),
            length_m=identity.length_m,
            destination=identity.destination,
        )
    # Redis hashes hold strings; unknown values are left out rather than written as "None".
    text = {k: str(v) for k, v in fields.items() if v is not None}
    if identity_history:
        text["identity_history"] = json.dumps(identity_history, separators=(",", ":"))
    return text


def _optional(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


# Redis geo sets index latitudes within +-85.05112878 degrees (Web Mercator) and refuse the
# rest. A vessel nearer a pole keeps its hash and track but is left out of "vessels near a
# point": one icebreaker must not fail the whole flush.
GEO_MAX_LAT = 85.05112878


def track_member(position: Position) -> str:
    """One track point as a sorted-set member: `"time_s,lat,lon,sog_kn,cog_deg"`."""
    return (
        f"{position.time_s:.0f},{position.lat:.5f},{position.lon:.5f},"
        f"{_optional(position.sog_kn)},{_optional(position.cog_deg)}"
    )


def parse_track_member(member: str) -> dict[str, Any]:
    """A track point written by `track_member`, as `{time_s, lat, lon, sog_kn, cog_deg}`."""
    time_s, lat, lon, sog, cog = member.split(",")
    return {
        "time_s": float(time_s),
        "lat": float(lat),
        "lon": float(lon),
        "sog_kn": float(sog) if sog else None,
        "cog_deg": float(cog) if cog else None,
    }


class StatusWriter:
    """Writes vessel and encounter status; keeps what Redis has not yet taken."""

    def __init__(self, client: aioredis.Redis, settings: RedisSettings) -> None:
        self.client = client
        self.settings = settings
        self.keys = StatusKeys(settings.key_prefix)
        # Newest position per vessel, with the identity (and its history) known with it.
        self._vessels: dict[int, _VesselNote] = {}
        self._alerts: dict[str, dict[str, Any]] = {}
        # Track points and alert events not yet written, in the order they were noted.
        self._tracks: dict[int, list[Position]] = {}
        self._history: dict[str, list[dict[str, Any]]] = {}
        # Event time of each vessel's last track point, to keep one per track_interval_s.
        self._track_last_s: dict[int, float] = {}
        self.failures = 0
        self.writes = 0
        # One flush at a time: the shard and alert agents share this writer, and two
        # interleaved failed flushes would put older values back over newer ones.
        self._lock = asyncio.Lock()
        # After a failure, a task retries until everything is written: the agents flush only
        # when a message arrives, and none may arrive for hours once Redis is back.
        self._retry: asyncio.Task[None] | None = None
        # `flush_soon`: when the last flush ended (monotonic s) and the timer of the next.
        self._last_flush_s = -math.inf
        self._timer: asyncio.TimerHandle | None = None
        self._timed_flush: asyncio.Task[bool] | None = None

    @property
    def pending(self) -> int:
        return len(self._vessels) + len(self._alerts) + len(self._tracks) + len(self._history)

    def note_vessel(
        self,
        position: Position,
        identity: VesselIdentity | None,
        identity_history: list[dict[str, Any]] | None = None,
    ) -> None:
        """Remember a vessel's newest position (older ones are overwritten in memory)."""
        self._note_track_point(position)
        held = self._vessels.get(position.mmsi)
        if held is not None and held[0].time_s > position.time_s:
            return
        # The hash is built when it is written: a vessel noted many times between two
        # flushes costs one build.
        self._vessels[position.mmsi] = (position, identity, identity_history)

    def note_track(self, position: Position) -> None:
        """Offer a position for the vessel's recent track (kept one per `track_interval_s`)."""
        self._note_track_point(position)

    def _note_track_point(self, position: Position) -> None:
        if self.settings.track_points <= 0:
            return
        last_s = self._track_last_s.get(position.mmsi)
        if last_s is not None and position.time_s < last_s + self.settings.track_interval_s:
            return
        self._track_last_s[position.mmsi] = position.time_s
        self._tracks.setdefault(position.mmsi, []).append(position)

    def note_alert(self, alert: dict[str, Any]) -> None:
        """Remember an alert event; the newest event per encounter wins.

        Every event also goes to the encounter's history (a redelivered duplicate is the
        same JSON, so the sorted set keeps it once).
        """
        if self.settings.alert_history > 0:
            self._history.setdefault(alert["alert_id"], []).append(alert)
        held = self._alerts.get(alert["alert_id"])
        if held is not None and held["event_time"] > alert["event_time"]:
            return
        self._alerts[alert["alert_id"]] = alert

    async def flush(self) -> bool:
        """Write everything pending in one pipeline; keep it and retry on failure.

        A failed flush starts a background retry (backing off from `RETRY_INITIAL_S` to
        `RETRY_MAX_S`) that ends once everything pending is written, so Redis catches up by
        itself after an outage even when no new message comes to flush again.
        """
        async with self._lock:
            written = await self._flush_once()
            self._last_flush_s = time.monotonic()
        if not written and (self._retry is None or self._retry.done()):
            self._retry = asyncio.get_running_loop().create_task(self._retry_until_written())
        return written

    async def flush_soon(self) -> None:
        """Flush now when the last flush is `status_flush_interval_s` old, else once it is.

        The shard agent calls this after every batch: under load a vessel reports several
        times a second across batches, and writing it once per interval (its newest
        position) is what keeps Redis writes from costing more than the detection.
        """
        if self._timer is not None or (self._retry is not None and not self._retry.done()):
            return  # a flush is already due (or the retry task writes everything)
        wait_s = self._last_flush_s + self.settings.status_flush_interval_s - time.monotonic()
        if wait_s <= 0:
            await self.flush()
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(wait_s, self._flush_from_timer)

    def _flush_from_timer(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self.flush())
        # Keep a reference until done (the loop holds tasks only weakly).
        self._timed_flush = task

    async def _retry_until_written(self) -> None:
        delay_s = RETRY_INITIAL_S
        while self.pending:
            await asyncio.sleep(delay_s)
            async with self._lock:
                if await self._flush_once():
                    log.info("redis status writes caught up after %d failures", self.failures)
                    return
            delay_s = min(RETRY_MAX_S, delay_s * 2)

    async def _flush_once(self) -> bool:
        if not self._vessels and not self._alerts and not self._tracks and not self._history:
            return True
        vessels, self._vessels = self._vessels, {}
        alerts, self._alerts = self._alerts, {}
        tracks, self._tracks = self._tracks, {}
        history, self._history = self._history, {}
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                self._queue_vessels(pipe, vessels)
                self._queue_alerts(pipe, alerts)
                self._queue_tracks(pipe, tracks)
                self._queue_history(pipe, history)
                await pipe.execute()
        except (redis.RedisError, OSError) as err:
            self.failures += 1
            log.warning(
                "redis status write failed (%s); %d updates kept for retry",
                err,
                len(vessels) + len(alerts),
            )
            # Newer values noted meanwhile win over the ones we failed to write.
            vessels.update(self._vessels)
            self._vessels = vessels
            alerts.update(self._alerts)
            self._alerts = alerts
            for mmsi, points in self._tracks.items():
                tracks.setdefault(mmsi, []).extend(points)
            self._tracks = tracks
            for alert_id, events in self._history.items():
                history.setdefault(alert_id, []).extend(events)
            self._history = history
            return False
        self.writes += len(vessels) + len(alerts)
        return True

    def _queue_vessels(self, pipe: Any, vessels: dict[int, _VesselNote]) -> None:
        """A hash per vessel; the geo set and the seen times in one command each.

        One GEOADD and one ZADD for the whole flush rather than one of each per vessel:
        redis-py spends about 17 us of Python on each queued command and its reply.
        """
        ttl_s = self.settings.vessel_ttl_s
        keys = self.keys
        on_map: list[float | str] = []
        off_map: list[str] = []
        seen: dict[str, float] = {}
        for mmsi, (position, identity, identity_history) in vessels.items():
            key = keys.vessel(mmsi)
            pipe.hset(key, mapping=vessel_fields(position, identity, identity_history))
            pipe.expire(key, ttl_s)
            member = str(mmsi)
            seen[member] = position.time_s
            if -GEO_MAX_LAT <= position.lat <= GEO_MAX_LAT:
                on_map += (round(position.lon, 6), round(position.lat, 6), member)
            else:
                off_map.append(member)
        if on_map:
            pipe.geoadd(keys.geo, on_map)
        if off_map:
            # Gone beyond the geo set's reach: its last point there is no longer where it is.
            pipe.zrem(keys.geo, *off_map)
        if seen:
            pipe.zadd(keys.seen, seen)

    def _queue_alerts(self, pipe: Any, alerts: dict[str, dict[str, Any]]) -> None:
        ttl_s = self.settings.encounter_ttl_s
        keys = self.keys
        for alert_id, alert in alerts.items():
            pipe.set(keys.encounter(alert_id), json.dumps(alert), ex=ttl_s)
            eez = alert.get("eez")
            mmsis = [str(v["mmsi"]) for v in alert["vessels"]]
            if alert["event"] == "closed":
                pipe.srem(keys.active, alert_id)
                end = alert.get("end") or alert["last_seen"]
                pipe.zadd(keys.closed, {alert_id: parse_iso_utc(end)})
                if eez:
                    pipe.srem(keys.eez(eez["iso"]), alert_id)
                for mmsi in mmsis:
                    pipe.srem(keys.vessel_encounters(mmsi), alert_id)
            else:
                pipe.sadd(keys.active, alert_id)
                pipe.zrem(keys.closed, alert_id)
                if eez:
                    pipe.sadd(keys.eez(eez["iso"]), alert_id)
                    pipe.expire(keys.eez(eez["iso"]), ttl_s)
                for mmsi in mmsis:
                    pipe.sadd(keys.vessel_encounters(mmsi), alert_id)
                    pipe.expire(keys.vessel_encounters(mmsi), ttl_s)

    def _queue_tracks(self, pipe: Any, tracks: dict[int, list[Position]]) -> None:
        keep = self.settings.track_points
        ttl_s = self.settings.vessel_ttl_s
        for mmsi, points in tracks.items():
            key = self.keys.vessel_track(mmsi)
            pipe.zadd(key, {track_member(p): p.time_s for p in points})
            # Oldest points go first; ranks count from the lowest score.
            pipe.zremrangebyrank(key, 0, -keep - 1)
            pipe.expire(key, ttl_s)

    def _queue_history(self, pipe: Any, history: dict[str, list[dict[str, Any]]]) -> None:
        keep = self.settings.alert_history
        ttl_s = self.settings.encounter_ttl_s
        for alert_id, events in history.items():
            key = self.keys.encounter_history(alert_id)
            pipe.zadd(
                key,
                {
                    json.dumps(event, separators=(",", ":")): parse_iso_utc(event["event_time"])
                    for event in events
                },
            )
            pipe.zremrangebyrank(key, 0, -keep - 1)
            pipe.expire(key, ttl_s)

    async def prune_vessels(self, older_than_s: float) -> int:
        """Drop vessels last seen before `older_than_s` from the geo index."""
        keys = self.keys
        try:
            stale = await self.client.zrangebyscore(keys.seen, -math.inf, older_than_s)
            if stale:
                async with self.client.pipeline(transaction=False) as pipe:
                    pipe.zrem(keys.geo, *stale)
                    pipe.zrem(keys.seen, *stale)
                    await pipe.execute()
            for member in stale:
                self._track_last_s.pop(int(str(member)), None)
        except (redis.RedisError, OSError) as err:
            log.warning("redis prune failed: %s", err)
            return 0
        return len(stale)


def _strs(reply: Any) -> list[str]:
    """A Redis reply holding strings (the clients decode responses) as a typed list."""
    return [str(item) for item in reply]


class StatusReader:
    """Lookups for `stswatch status` and the API (a few round trips each, pipelined)."""

    def __init__(self, client: redis.Redis, settings: RedisSettings) -> None:
        self.client = client
        self.keys = StatusKeys(settings.key_prefix)

    def vessel(self, mmsi: int) -> dict[str, Any] | None:
        found = self.vessels([mmsi])
        return found[0] if found else None

    def vessels(self, mmsis: list[int]) -> list[dict[str, Any]]:
        """Status of each vessel that has one, in the order asked, with active encounters."""
        if not mmsis:
            return []
        with self.client.pipeline(transaction=False) as pipe:
            for mmsi in mmsis:
                pipe.hgetall(self.keys.vessel(mmsi))
                pipe.smembers(self.keys.vessel_encounters(mmsi))
            replies = pipe.execute()
        out: list[dict[str, Any]] = []
        wanted: list[list[str]] = []
        for index in range(len(mmsis)):
            fields, active = replies[2 * index], replies[2 * index + 1]
            if not fields:
                continue
            status = dict(fields)
            history = status.get("identity_history")
            status["identity_history"] = json.loads(history) if history else []
            out.append(status)
            wanted.append(sorted(active))
        alerts = self.encounters_by_id([i for ids in wanted for i in ids])
        by_id = {alert["alert_id"]: alert for alert in alerts}
        for status, ids in zip(out, wanted, strict=True):
            status["active_encounters"] = [by_id[i] for i in ids if i in by_id]
        return out

    def encounter(self, alert_id: str) -> dict[str, Any] | None:
        text = self.client.get(self.keys.encounter(alert_id))
        return None if text is None else json.loads(str(text))

    def encounters_by_id(self, alert_ids: list[str]) -> list[dict[str, Any]]:
        """The latest alert of each encounter still in Redis, in the order asked (one MGET)."""
        if not alert_ids:
            return []
        texts: Any = self.client.mget([self.keys.encounter(i) for i in alert_ids])
        return [json.loads(str(text)) for text in texts if text is not None]

    def encounters(
        self,
        eez_iso: str | None = None,
        state: str = "active",
        *,
        since_s: float | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Active encounters (optionally of one EEZ), or closed ones, newest end first.

        `since_s` keeps those last seen at or after that event time.
        """
        if state == "active":
            key = self.keys.eez(eez_iso.upper()) if eez_iso else self.keys.active
            ids = _strs(self.client.smembers(key))
            found = self.encounters_by_id(sorted(ids))
            if since_s is not None:
                found = [a for a in found if parse_iso_utc(a["last_seen"]) >= since_s]
            return found[:limit]
        low = "-inf" if since_s is None else since_s
        if not eez_iso:
            ids = _strs(
                self.client.zrevrangebyscore(self.keys.closed, "+inf", low, start=0, num=limit)
            )
            return self.encounters_by_id(ids)
        # Closed encounters are not indexed by EEZ: scan the newest ones in pages.
        out: list[dict[str, Any]] = []
        start = 0
        page = max(limit, 200)
        while len(out) < limit:
            ids = _strs(
                self.client.zrevrangebyscore(self.keys.closed, "+inf", low, start=start, num=page)
            )
            if not ids:
                break
            start += len(ids)
            out.extend(
                a
                for a in self.encounters_by_id(ids)
                if a.get("eez") and a["eez"]["iso"] == eez_iso.upper()
            )
        return out[:limit]

    def alert_history(self, alert_id: str) -> list[dict[str, Any]]:
        """Every stored event of one encounter, oldest first, one per `event_id`."""
        members = _strs(self.client.zrange(self.keys.encounter_history(alert_id), 0, -1))
        events: list[dict[str, Any]] = []
        seen: set[str] = set()
        for member in members:
            event = json.loads(member)
            if event["event_id"] not in seen:
                seen.add(event["event_id"])
                events.append(event)
        return events

    def track(
        self, mmsi: int, start_s: float | None = None, end_s: float | None = None
    ) -> list[dict[str, Any]]:
        """The vessel's stored track points between two event times, oldest first."""
        members = _strs(
            self.client.zrangebyscore(
                self.keys.vessel_track(mmsi),
                "-inf" if start_s is None else start_s,
                "+inf" if end_s is None else end_s,
            )
        )
        return [parse_track_member(m) for m in members]

    def counts(self) -> dict[str, int]:
        """How many active and closed encounters and vessels are in the status store."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.scard(self.keys.active)
            pipe.zcard(self.keys.closed)
            pipe.zcard(self.keys.seen)
            active, closed, vessels = pipe.execute()
        return {"active_encounters": active, "closed_encounters": closed, "vessels": vessels}

    def vessels_near(
        self, lat: float, lon: float, radius_km: float, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Vessels whose last position is within `radius_km`, nearest first."""
        members: Any = self.client.geosearch(
            self.keys.geo,
            longitude=lon,
            latitude=lat,
            radius=radius_km,
            unit="km",
            withdist=True,
            sort="ASC",
            count=limit,
        )
        distances = {int(member): float(km) for member, km in members}
        out = self.vessels(list(distances))
        for status in out:
            status["distance_km"] = distances[int(status["mmsi"])]
        return out
