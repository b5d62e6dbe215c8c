"""The status writer's flush interval, against a real Redis server.

Under load the shard agent notes each vessel several times a second; `flush_soon` writes the
newest of them at most once per `redis.status_flush_interval_s`, and a timer writes what is
left without waiting for another batch.
"""

from __future__ import annotations

import asyncio
import dataclasses

from config import settings as settings_module
from config.settings import RedisSettings
from detectors.records import Position
from streams.services import EmbeddedRedis
from streams.status import StatusReader, StatusWriter, async_client, sync_client
from tests.integration.conftest import Namespace

MMSI = 244_000_001
T0 = 1_714_521_600.0


def _redis_settings(
    server: EmbeddedRedis, namespace: Namespace, interval_s: float
) -> RedisSettings:
    return dataclasses.replace(
        server.redis_settings(settings_module.load().redis),
        key_prefix=namespace.redis_key_prefix,
        status_flush_interval_s=interval_s,
    )


def _position(step: int) -> Position:
    return Position(MMSI, T0 + 10.0 * step, 52.0 + 0.001 * step, 4.0, 8.0, 90.0, None, 0, 1)


def _stored_time_s(settings: RedisSettings) -> float | None:
    vessel = StatusReader(sync_client(settings), settings).vessel(MMSI)
    return None if vessel is None else float(vessel["time_s"])


def test_flush_soon_writes_the_newest_position_once_per_interval(
    redis_server: EmbeddedRedis, namespace: Namespace
) -> None:
    settings = _redis_settings(redis_server, namespace, interval_s=0.6)

    async def run() -> tuple[float | None, float | None, float | None, int]:
        client = async_client(settings)
        writer = StatusWriter(client, settings)
        writer.note_vessel(_position(0), None)
        await writer.flush_soon()  # nothing written yet: this one goes at once
        first = _stored_time_s(settings)
        for step in range(1, 6):
            writer.note_vessel(_position(step), None)
            await writer.flush_soon()
        within_interval = _stored_time_s(settings)
        await asyncio.sleep(1.2)  # no more calls: the timer writes what is pending
        after_interval = _stored_time_s(settings)
        await client.aclose()
        return first, within_interval, after_interval, writer.writes

    first, within_interval, after_interval, writes = asyncio.run(run())
    assert first == _position(0).time_s
    assert within_interval == _position(0).time_s
    assert after_interval == _position(5).time_s
    assert writes == 2  # the vessel hash was written twice, not six times


def test_a_zero_interval_writes_every_time(
    redis_server: EmbeddedRedis, namespace: Namespace
) -> None:
    settings = _redis_settings(redis_server, namespace, interval_s=0.0)

    async def run() -> list[float | None]:
        client = async_client(settings)
        writer = StatusWriter(client, settings)
        seen = []
        for step in range(3):
            writer.note_vessel(_position(step), None)
            await writer.flush_soon()
            seen.append(_stored_time_s(settings))
        await client.aclose()
        return seen

    assert asyncio.run(run()) == [_position(step).time_s for step in range(3)]


def test_a_vessel_near_a_pole_is_written_and_kept_out_of_the_geo_index(
    redis_server: EmbeddedRedis, namespace: Namespace
) -> None:
    # Redis geo sets hold latitudes within +-85.05112878 only; one vessel beyond that must
    # not fail the flush of everyone else (nor leave a stale point once it has gone north).
    settings = _redis_settings(redis_server, namespace, interval_s=0.0)
    arctic = 257_000_002
    south = Position(MMSI, T0, 52.0, 4.0, 8.0, 90.0, None, 0, 1)
    north = Position(arctic, T0, 86.5, 30.0, 3.0, 10.0, None, 0, 1)

    async def run() -> tuple[bool, bool, int]:
        client = async_client(settings)
        writer = StatusWriter(client, settings)
        writer.note_vessel(south, None)
        writer.note_vessel(north, None)
        first = await writer.flush()
        # The first vessel sails beyond the geo set's reach too.
        writer.note_vessel(south._replace(time_s=T0 + 60, lat=85.2), None)
        second = await writer.flush()
        await client.aclose()
        return first, second, writer.failures

    first, second, failures = asyncio.run(run())
    assert (first, second, failures) == (True, True, 0)
    reader = StatusReader(sync_client(settings), settings)
    held = {v["mmsi"]: v for v in reader.vessels([MMSI, arctic])}
    assert float(held[str(arctic)]["lat"]) == 86.5
    assert float(held[str(MMSI)]["lat"]) == 85.2
    assert reader.vessels_near(52.0, 4.0, 50.0) == []
