"""The status API: FastAPI over the Redis status store, plus the live map at `/`.

    GET /vessels/{mmsi}                       one vessel: identity, last position, encounters
    GET /vessels?lat=&lon=&radius_km=         vessels near a point, nearest first
    GET /encounters?state=&eez=&since=&limit= encounters with their latest alert
    GET /encounters/{alert_id}                alert history and both vessels' tracks (GeoJSON)
    GET /eez                                  the configured EEZ outlines (simplified GeoJSON)
    GET /healthz                              Redis, Kafka and worker lag
    GET /metrics                              Prometheus
    GET /openapi.json                         this API, described
    GET /                                     the live map (static page + /static assets)

Every query parameter is checked (type, range, pattern) and unknown or repeated ones are
refused, so that a typo is a 422 rather than a silently ignored filter. Errors have one JSON
shape (`stswatch.api.errors`). Endpoints are plain functions run in the server's thread
pool; each does a few pipelined Redis round trips through `streams.status.StatusReader`.
"""

# No `from __future__ import annotations`: the endpoints' parameter annotations use
# values of create_app (api.max_results), which must be evaluated where they are defined.

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import redis
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from config.settings import Settings
from detectors.errors import StswatchError
from detectors.timefmt import parse_iso_utc
from streams.status import StatusReader, connection_kwargs
from stswatch.api.auth import bearer_dependency
from stswatch.api.eez import EezOutlines
from stswatch.api.errors import ApiError, install_error_handlers, invalid_parameter
from stswatch.api.health import KafkaHealth, redis_health
from stswatch.api.models import (
    Alert,
    EncounterDetail,
    Encounters,
    ErrorBody,
    FeatureCollection,
    Health,
    MapConfig,
    Vessel,
    VesselsNear,
)
from stswatch.api.observability import ApiMetrics

log = logging.getLogger(__name__)

MAX_MMSI = 999_999_999
MAX_RADIUS_KM = 1000.0
# Track shown around an encounter: from this long before it started to this long after.
TRACK_MARGIN_S = 2 * 3600.0
ALERT_ID_PATTERN = r"^[a-z_]+-[0-9a-f]{20}$"
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "missing or wrong bearer token (when enabled)"},
    422: {"model": ErrorBody, "description": "invalid, unknown or repeated parameter"},
    503: {"model": ErrorBody, "description": "Redis not reachable"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "not in the status store"}
}


def _static_dir() -> Any:
    return resources.files("stswatch.api").joinpath("static")


def tile_origin(tile_url: str) -> str:
    """The CSP source for map tiles: `https://*.tile.example.org` for `{s}` subdomains."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url.replace("{s}", "x"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = urlsplit(tile_url).netloc
    if "{" in host:
        # A placeholder in the host name: allow any subdomain of the fixed part.
        fixed = host.split("}", 1)[-1].lstrip(".")
        return f"{parts.scheme}://*.{fixed}" if fixed else f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str) -> str:
    images = " ".join(s for s in ("'self'", "data:", tile_origin(tile_url)) if s)
    return (
        f"default-src 'self'; img-src {images}; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def parse_since(since: str | None) -> float | None:
    """`since` as epoch seconds; it must be ISO 8601 with a time zone (e.g. ...Z)."""
    if since is None:
        return None
    text = since.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise invalid_parameter(
            "since", "query", f"not an ISO 8601 time (got {since[:40]!r}; e.g. 2024-05-01T00:00Z)"
        ) from None
    if parsed.tzinfo is None:
        raise invalid_parameter(
            "since", "query", "needs a time zone, e.g. 2024-05-01T00:00:00Z or +08:00"
        )
    return parsed.timestamp()


def _number(status: dict[str, Any], key: str) -> float | None:
    value = status.get(key)
    if value in (None, "", "None"):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _integer(status: dict[str, Any], key: str) -> int | None:
    value = _number(status, key)
    return None if value is None else int(value)


def vessel_body(status: dict[str, Any]) -> dict[str, Any]:
    """A vessel hash from Redis (strings) as the typed `Vessel` body."""
    flag = None
    if status.get("flag_iso2"):
        flag = {
            "iso2": status["flag_iso2"],
            "iso3": status.get("flag_iso3", ""),
            "name": status.get("flag_name", ""),
        }
    return {
        "mmsi": int(status["mmsi"]),
        "name": status.get("name"),
        "imo": _integer(status, "imo"),
        "call_sign": status.get("call_sign"),
        "flag": flag,
        "ship_type": _integer(status, "ship_type"),
        "ship_type_text": status.get("ship_type_text"),
        "length_m": _number(status, "length_m"),
        "destination": status.get("destination"),
        "position": {"lat": float(status["lat"]), "lon": float(status["lon"])},
        "time": status.get("time", ""),
        "sog_kn": _number(status, "sog_kn"),
        "cog_deg": _number(status, "cog_deg"),
        "heading_deg": _number(status, "heading_deg"),
        "nav_status": _integer(status, "nav_status"),
        "h3_cell": status.get("h3_cell"),
        "distance_km": status.get("distance_km"),
        "active_encounters": status.get("active_encounters", []),
        "identity_history": status.get("identity_history", []),
    }


def _newest_first(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(alerts, key=lambda a: (a["event_time"], a["alert_id"]), reverse=True)


def tracks_geojson(alert: dict[str, Any], tracks: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Each vessel's track as a LineString (a Point with one fix) and the alert's point."""
    features: list[dict[str, Any]] = []
    # One vessel for findings about a single vessel, two for pair alerts.
    for role, vessel, points in zip(("a", "b"), alert["vessels"], tracks, strict=False):
        coordinates = [[p["lon"], p["lat"]] for p in points]
        if len(coordinates) >= 2:
            geometry: dict[str, Any] | None = {"type": "LineString", "coordinates": coordinates}
        elif coordinates:
            geometry = {"type": "Point", "coordinates": coordinates[0]}
        else:
            geometry = None
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "role": role,
                    "mmsi": vessel["mmsi"],
                    "name": vessel.get("name"),
                    "times": [_iso(p["time_s"]) for p in points],
                    "sog_kn": [p["sog_kn"] for p in points],
                },
            }
        )
    position = alert["position"]
    features.append(
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [position["lon"], position["lat"]]},
            "properties": {"role": "encounter", "alert_id": alert["alert_id"]},
        }
    )
    return {"type": "FeatureCollection", "features": features}


def _iso(time_s: float) -> str:
    from detectors.timefmt import iso_utc

    return iso_utc(time_s)


def _query_names(dependant: Any) -> set[str]:
    """Query parameters an endpoint takes, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_unknown_query(request: Request) -> None:
    """Refuse query parameters the endpoint does not take, and repeated ones."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = _query_names(dependant)
    problems = []
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            problems.append(
                {"parameter": name, "location": "query", "message": f"unknown (known: {known})"}
            )
        elif name in seen:
            problems.append({"parameter": name, "location": "query", "message": "given twice"})
        seen.add(name)
    if problems:
        summary = "; ".join(f"{p['parameter']}: {p['message']}" for p in problems)
        raise ApiError(422, "invalid_parameter", summary, problems=problems)


def create_app(
    settings: Settings,
    *,
    redis_client: redis.Redis | None = None,
    check_kafka: bool = True,
) -> FastAPI:
    """The API for `settings`; `check_kafka=False` leaves Kafka out of /healthz and /metrics."""
    api = settings.api
    if redis_client is None:
        redis_client = redis.Redis.from_url(
            settings.redis.url,
            **connection_kwargs(settings.redis),
            socket_connect_timeout=2.0,
            health_check_interval=30,
        )
    reader = StatusReader(redis_client, settings.redis)
    kafka_health = KafkaHealth(settings) if check_kafka else None
    metrics = ApiMetrics(reader, kafka_health)
    eez = EezOutlines(settings.reference.eez_path, api.eez_simplify_deg)
    max_results = api.max_results
    csp = content_security_policy(api.tile_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if kafka_health is not None:
            kafka_health.close()
        redis_client.close()

    app = FastAPI(
        title="stswatch status API",
        version="1",
        description=(
            "Live status of vessels and ship-to-ship encounters detected by stswatch, read "
            "from the Redis status store. Alerts follow the sts-alert v1 schema (topic "
            "sts.alerts.v1). Times are ISO 8601 UTC. With api.bearer_token set, every data "
            "endpoint needs `Authorization: Bearer <token>`."
        ),
        docs_url=None,  # Swagger UI loads scripts from a CDN: not offline, not CSP-clean
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.reader = reader
    app.state.metrics = metrics
    install_error_handlers(app)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    if api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(api.cors_origins),
            allow_methods=["GET"],
            allow_headers=["Authorization"],
            max_age=600,
        )

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", None) or "unmatched"
        metrics.observe(path, request.method, response.status_code, time.perf_counter() - started)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    guards: list[Any] = [Depends(reject_unknown_query)]
    if api.bearer_token:
        guards.append(Depends(bearer_dependency(api.bearer_token.value)))
    data = APIRouter(dependencies=guards, responses=_ERRORS)
    public = APIRouter(dependencies=[Depends(reject_unknown_query)])

    @data.get(
        "/vessels/{mmsi}",
        response_model=Vessel,
        tags=["vessels"],
        summary="One vessel's identity, last position and active encounters",
        responses=_NOT_FOUND,
    )
    def get_vessel(mmsi: Annotated[int, Path(ge=1, le=MAX_MMSI)]) -> dict[str, Any]:
        status = reader.vessel(mmsi)
        if status is None:
            raise ApiError(
                404,
                "not_found",
                f"no status for MMSI {mmsi} (never seen, or silent for longer than "
                "redis.vessel_ttl_s)",
            )
        return vessel_body(status)

    @data.get(
        "/vessels",
        response_model=VesselsNear,
        tags=["vessels"],
        summary="Vessels whose last position is near a point, nearest first",
    )
    def vessels_near(
        lat: Annotated[float, Query(ge=-90.0, le=90.0, description="latitude, degrees")],
        lon: Annotated[float, Query(ge=-180.0, le=180.0, description="longitude, degrees")],
        radius_km: Annotated[float, Query(gt=0.0, le=MAX_RADIUS_KM)],
        limit: Annotated[int, Query(ge=1, le=max_results)] = min(200, max_results),
    ) -> dict[str, Any]:
        found = reader.vessels_near(lat, lon, radius_km, limit)
        return {
            "center": {"lat": lat, "lon": lon},
            "radius_km": radius_km,
            "count": len(found),
            "vessels": [vessel_body(v) for v in found],
        }

    @data.get(
        "/encounters",
        response_model=Encounters,
        tags=["encounters"],
        summary="Active or closed encounters with their latest alert, newest first",
    )
    def encounters(
        state: Annotated[Literal["active", "closed"], Query()] = "active",
        eez: Annotated[
            str | None,
            Query(
                pattern=r"^[A-Za-z]{3}$",
                description="ISO 3166 alpha-3 code of the EEZ (as in the alert's eez.iso)",
            ),
        ] = None,
        since: Annotated[
            str | None,
            Query(description="ISO 8601 time with zone: only encounters seen since then"),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=max_results)] = min(200, max_results),
    ) -> dict[str, Any]:
        since_s = parse_since(since)
        found = reader.encounters(
            eez.upper() if eez else None, state, since_s=since_s, limit=max_results
        )
        found = _newest_first(found)[:limit]
        return {"state": state, "count": len(found), "encounters": found}

    @data.get(
        "/encounters/{alert_id}",
        response_model=EncounterDetail,
        tags=["encounters"],
        summary="One encounter: latest alert, alert history, both vessels' tracks (GeoJSON)",
        responses=_NOT_FOUND,
    )
    def encounter(
        alert_id: Annotated[str, Path(pattern=ALERT_ID_PATTERN, max_length=64)],
    ) -> dict[str, Any]:
        alert = reader.encounter(alert_id)
        if alert is None:
            raise ApiError(
                404,
                "not_found",
                f"no encounter {alert_id} (unknown, or older than redis.encounter_ttl_s)",
            )
        history = reader.alert_history(alert_id) or [alert]
        start_s = parse_iso_utc(alert["start"]) - TRACK_MARGIN_S
        end = alert.get("end")
        end_s = parse_iso_utc(end) + TRACK_MARGIN_S if end else None
        tracks = [reader.track(int(v["mmsi"]), start_s, end_s) for v in alert["vessels"]]
        return {"alert": alert, "history": history, "tracks": tracks_geojson(alert, tracks)}

    @data.get(
        "/eez",
        response_model=FeatureCollection,
        tags=["map"],
        summary="EEZ outlines of the configured file (reference.eez_path), simplified",
        responses={503: {"model": ErrorBody, "description": "the EEZ file cannot be read"}},
    )
    def eez_outlines() -> Response:
        try:
            body = eez.body()
        except StswatchError as err:
            raise ApiError(503, "eez_unavailable", str(err)) from None
        return Response(
            body,
            media_type="application/geo+json",
            headers={"Cache-Control": "private, max-age=3600"},
        )

    @data.get("/metrics", tags=["operations"], summary="Prometheus metrics (text format)")
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @public.get(
        "/healthz",
        response_model=Health,
        tags=["operations"],
        summary="Redis and Kafka reachable, worker lag at most api.max_worker_lag_messages",
        responses={503: {"model": Health, "description": "a check failed"}},
    )
    def healthz() -> JSONResponse:
        checks = {"redis": redis_health(redis_client)}
        if kafka_health is not None:
            checks["kafka"], checks["worker"] = kafka_health.check()
        healthy = all(c.ok for c in checks.values())
        body = Health(status="ok" if healthy else "failing", checks=checks)
        return JSONResponse(
            body.model_dump(mode="json"),
            status_code=200 if healthy else 503,
            headers={"Cache-Control": "no-store"},
        )

    @public.get("/map/config", response_model=MapConfig, tags=["map"], summary="Map settings")
    def map_config() -> dict[str, Any]:
        return {
            "tile_url": api.tile_url,
            "tile_attribution": api.tile_attribution,
            "refresh_s": api.map_refresh_s,
            "auth_required": bool(api.bearer_token),
        }

    @public.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(
            str(_static_dir().joinpath("index.html")),
            media_type="text/html",
            headers={"Content-Security-Policy": csp, "Cache-Control": "no-cache"},
        )

    app.include_router(data)
    app.include_router(public)
    app.mount("/static", StaticFiles(directory=str(_static_dir())), name="static")
    return app


__all__ = ["Alert", "create_app"]
