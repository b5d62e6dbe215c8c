"""Live status in Redis: what people and services look up about vessels and encounters.

Keys (prefix `redis.key_prefix`, "stswatch" by default), all with TTLs:

- `{p}:vessel:{mmsi}` (hash): last position, time, speed, course, H3 cell, identity (name,
  IMO, call sign, flag, type);
- `{p}:vessel:{mmsi}:encounters` (set): alert ids of the vessel's active encounters;
- `{p}:encounter:{alert_id}` (string): the encounter's latest alert (JSON, schema v1);
- `{p}:encounters:active` (set): alert ids of all active encounters;
- `{p}:encounters:closed` (sorted set): alert ids of closed encounters, scored by end time;
- `{p}:eez:{ISO}:encounters` (set): alert ids of active encounters in that EEZ;
- `{p}:vessels:geo` (geo set): last position of every vessel, for "vessels near a point";
- `{p}:vessels:seen` (sorted set): last event time of every vessel, to prune the geo set.

Redis is a serving store, not the system of record: everything here is rebuilt from the
topics (positions on the shard topic, alerts on `sts.alerts.v1`). Writers therefore keep the
newest value per key in memory until Redis has taken it, so that a Redis outage delays the
status but does not lose it (`StatusWriter.pending`).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis

from config.settings import RedisSettings
from detectors import cells
from detectors.flags import flag_of_mmsi
from detectors.identity import VesselIdentity
from detectors.records import Position
from detectors.shiptypes import ship_type_text
from detectors.timefmt import iso_utc, parse_iso_utc

log = logging.getLogger(__name__)

STATUS_H3_RESOLUTION = 7


@dataclass(frozen=True, slots=True)
class StatusKeys:
    prefix: str

    def vessel(self, mmsi: int | str) -> str:
        return f"{self.prefix}:vessel:{mmsi}"

    def vessel_encounters(self, mmsi: int | str) -> str:
        return f"{self.prefix}:vessel:{mmsi}:encounters"

    def encounter(self, alert_id: str) -> str:
        return f"{self.prefix}:encounter:{alert_id}"

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
        kwargs["ssl_ca_certs"] = settings.ssl_ca_certs
    return kwargs


def sync_client(settings: RedisSettings) -> redis.Redis:
    return redis.Redis.from_url(settings.url, **connection_kwargs(settings))


def async_client(settings: RedisSettings) -> aioredis.Redis:
    return aioredis.Redis.from_url(settings.url, **connection_kwargs(settings))


def vessel_fields(position: Position, identity: VesselIdentity | None) -> dict[str, str]:
    """The vessel hash for a position and the identity known with it."""
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
    return {k: str(v) for k, v in fields.items() if v is not None}


class StatusWriter:
    """Writes vessel and encounter status; keeps what Redis has not yet taken."""

    def __init__(self, client: aioredis.Redis, settings: RedisSettings) -> None:
        self.client = client
        self.settings = settings
        self.keys = StatusKeys(settings.key_prefix)
        self._vessels: dict[int, dict[str, str]] = {}
        self._alerts: dict[str, dict[str, Any]] = {}
        self.failures = 0
        self.writes = 0

    @property
    def pending(self) -> int:
        return len(self._vessels) + len(self._alerts)

    def note_vessel(self, position: Position, identity: VesselIdentity | None) -> None:
        """Remember a vessel's newest position (older ones are overwritten in memory)."""
        held = self._vessels.get(position.mmsi)
        if held is not None and float(held["time_s"]) > position.time_s:
            return
        self._vessels[position.mmsi] = vessel_fields(position, identity)

    def note_alert(self, alert: dict[str, Any]) -> None:
        """Remember an alert event; the newest event per encounter wins."""
        held = self._alerts.get(alert["alert_id"])
        if held is not None and held["event_time"] > alert["event_time"]:
            return
        self._alerts[alert["alert_id"]] = alert

    async def flush(self) -> bool:
        """Write everything pending in one pipeline; keep it for the next try on failure."""
        if not self._vessels and not self._alerts:
            return True
        vessels, self._vessels = self._vessels, {}
        alerts, self._alerts = self._alerts, {}
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                self._queue_vessels(pipe, vessels)
                self._queue_alerts(pipe, alerts)
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
            return False
        self.writes += len(vessels) + len(alerts)
        return True

    def _queue_vessels(self, pipe: Any, vessels: dict[int, dict[str, str]]) -> None:
        ttl_s = self.settings.vessel_ttl_s
        keys = self.keys
        for mmsi, fields in vessels.items():
            key = keys.vessel(mmsi)
            pipe.hset(key, mapping=fields)
            pipe.expire(key, ttl_s)
            pipe.geoadd(keys.geo, (float(fields["lon"]), float(fields["lat"]), str(mmsi)))
            pipe.zadd(keys.seen, {str(mmsi): float(fields["time_s"])})

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
        except (redis.RedisError, OSError) as err:
            log.warning("redis prune failed: %s", err)
            return 0
        return len(stale)


class StatusReader:
    """Lookups for `stswatch status` and the API."""

    def __init__(self, client: redis.Redis, settings: RedisSettings) -> None:
        self.client = client
        self.keys = StatusKeys(settings.key_prefix)

    def vessel(self, mmsi: int) -> dict[str, Any] | None:
        fields: dict[str, str] = self.client.hgetall(self.keys.vessel(mmsi))  # type: ignore[assignment]
        if not fields:
            return None
        active = sorted(self.client.smembers(self.keys.vessel_encounters(mmsi)))  # type: ignore[arg-type]
        status: dict[str, Any] = dict(fields)
        status["active_encounters"] = [
            alert for alert in (self.encounter(alert_id) for alert_id in active) if alert
        ]
        return status

    def encounter(self, alert_id: str) -> dict[str, Any] | None:
        text = self.client.get(self.keys.encounter(alert_id))
        return None if text is None else json.loads(str(text))

    def encounters(self, eez_iso: str | None = None, state: str = "active") -> list[dict[str, Any]]:
        if state == "active":
            key = self.keys.eez(eez_iso.upper()) if eez_iso else self.keys.active
            ids = sorted(self.client.smembers(key))  # type: ignore[arg-type]
        else:
            ids = list(self.client.zrevrange(self.keys.closed, 0, 999))  # type: ignore[arg-type]
        found = [alert for alert in (self.encounter(i) for i in ids) if alert]
        if eez_iso and state != "active":
            found = [a for a in found if a.get("eez") and a["eez"]["iso"] == eez_iso.upper()]
        return found

    def vessels_near(self, lat: float, lon: float, radius_km: float) -> list[dict[str, Any]]:
        members = self.client.geosearch(
            self.keys.geo,
            longitude=lon,
            latitude=lat,
            radius=radius_km,
            unit="km",
            withdist=True,
            sort="ASC",
        )
        out = []
        for member, distance_km in members:  # type: ignore[union-attr]
            status = self.vessel(int(member))
            if status is not None:
                status["distance_km"] = float(distance_km)
                out.append(status)
        return out
