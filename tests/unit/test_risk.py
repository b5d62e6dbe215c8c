"""The risk score: each reason on a case built for it, the weights from settings, the cap."""

from __future__ import annotations

import dataclasses

import pytest

from config import settings as config
from detectors.alerts import alert_to_json
from detectors.anomalies.params import RiskParams
from detectors.anomalies.risk import RiskSubject, score_alert
from detectors.anomalies.solar import night_share, solar_elevation_deg
from detectors.anomalies.watchlists import Watchlist, WatchlistEntry
from detectors.engine import EncounterDetector
from detectors.identity import VesselIdentity
from detectors.params import DetectionParams
from tests.alert_schema import assert_valid_alerts
from tests.builders import Voyage, at, merged

TANKER, FEEDER = 636012345, 413000001  # Liberia (a flag of convenience), China


def shipped_params() -> DetectionParams:
    return config.load().detection


def sts_alerts(
    start: str = "2024-05-01T00:00:00Z",
    params: DetectionParams | None = None,
    watchlist: Watchlist | None = None,
    feeder_gap_hours: float = 0.0,
) -> list[dict]:  # type: ignore[type-arg]
    tanker = Voyage(TANKER, start, 30.5, 123.0, ship_type=80, name="OCEAN TANKER")
    tanker.drift(hours=6 + feeder_gap_hours, speed_kn=0.3)
    feeder = Voyage(FEEDER, start, *tanker.station(at(start), 80, 90), ship_type=70)
    if feeder_gap_hours:
        # Silent for a while before coming alongside, nearby.
        feeder.drift(minutes=10, speed_kn=0.3)
        feeder.drift(hours=feeder_gap_hours, speed_kn=0.3, report=False)
        feeder.go_to(*tanker.station(feeder.end_s + 600, 80, 90), feeder.end_s + 600)
    feeder.follow(tanker, hours=4).sail(0, 11, hours=1)
    detector = EncounterDetector(params or shipped_params(), watchlist=watchlist)
    events = detector.process_all(merged(tanker, feeder)) + detector.finish()
    found = [alert_to_json(e) for e in events if e.alert_type == "sts"]
    assert_valid_alerts(found)
    return found


def reasons(alert: dict) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    out: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for reason in alert["risk"]["reasons"]:
        out.setdefault(reason["code"], []).append(reason)
    return out


def test_a_liberian_tanker_and_a_chinese_cargo_ship_in_daylight() -> None:
    alert = sts_alerts()[-1]
    found = reasons(alert)
    # Liberia is on the ITF list; China is not.
    assert [(r["mmsi"], r["value"]) for r in found["flag_of_convenience"]] == [(TANKER, "LBR")]
    assert [(r["mmsi"], r["value"]) for r in found["tanker"]] == [(TANKER, 80)]
    assert "unknown_ship_type" not in found
    assert "night" not in found  # 08:00 to 14:00 local time at 123 E
    assert found["duration"][0]["value"] == pytest.approx(4.0, abs=0.3)
    assert found["type_sts"][0]["weight"] == 10
    total = sum(r["weight"] for r in alert["risk"]["reasons"])
    assert alert["risk"]["score"] == round(total)
    # 10 (type) + 10 (flag) + 10 (tanker) + 2 per hour for about 4 h.
    assert 36 <= alert["risk"]["score"] <= 39


def test_the_same_transfer_at_night_scores_higher() -> None:
    day = sts_alerts("2024-05-01T00:00:00Z")[-1]
    night = sts_alerts("2024-05-01T13:00:00Z")[-1]  # 21:00 to 03:00 local time
    assert reasons(night)["night"][0]["value"] == 1.0
    assert reasons(night)["night"][0]["weight"] == 10
    assert night["risk"]["score"] == day["risk"]["score"] + 10


def test_a_watchlist_hit_by_an_approximate_name_names_the_list() -> None:
    watchlist = Watchlist([WatchlistEntry("sanctions-2024", name="M/T Ocean-Tanker")])
    plain = sts_alerts()[-1]
    listed = sts_alerts(watchlist=watchlist)[-1]
    hit = reasons(listed)["watchlist"]
    assert [(h["value"], h["mmsi"], h["weight"]) for h in hit] == [("sanctions-2024", TANKER, 40)]
    assert listed["risk"]["score"] == plain["risk"]["score"] + 40


def test_weights_come_from_settings_and_the_score_is_capped_at_100() -> None:
    params = shipped_params()
    heavy = dataclasses.replace(
        params, risk=dataclasses.replace(params.risk, weight_tanker=95.0, weight_type_sts=0.0)
    )
    alert = sts_alerts(params=heavy)[-1]
    assert reasons(alert)["tanker"][0]["weight"] == 95
    assert "type_sts" not in reasons(alert)
    assert alert["risk"]["score"] == 100


def test_an_ais_gap_near_the_encounter_raises_its_risk() -> None:
    alert = sts_alerts(feeder_gap_hours=6.5)[-1]
    gap = reasons(alert)["ais_gap"]
    assert gap[0]["mmsi"] == FEEDER
    assert gap[0]["value"] == pytest.approx(6.5, abs=0.3)


def test_a_high_risk_area_from_settings() -> None:
    params = shipped_params()
    boxed = dataclasses.replace(
        params,
        risk=dataclasses.replace(params.risk, high_risk_areas=("Test box: 30, 122.5, 31, 123.5",)),
    )
    assert reasons(sts_alerts(params=boxed)[-1])["high_risk_zone"][0]["value"] == "Test box"
    elsewhere = dataclasses.replace(
        params, risk=dataclasses.replace(params.risk, high_risk_areas=("Far: 10, 10, 11, 11",))
    )
    assert "high_risk_zone" not in reasons(sts_alerts(params=elsewhere)[-1])


def test_an_area_across_the_antimeridian() -> None:
    params = RiskParams(high_risk_areas=("Fiji box: -20, 178, -15, -178",))
    subject = RiskSubject(
        "sts", (VesselIdentity(FEEDER, ship_type=70),), 0.0, 0.0, -17.0, -179.5, None
    )
    assert [r.code for r in score_alert(subject, params).reasons if r.code == "high_risk_zone"]
    outside = dataclasses.replace(subject, lon=170.0)
    assert not [r for r in score_alert(outside, params).reasons if r.code == "high_risk_zone"]


def test_malformed_high_risk_areas_are_refused() -> None:
    with pytest.raises(ValueError, match="high_risk_areas"):
        RiskParams(high_risk_areas=("no numbers",))
    with pytest.raises(ValueError, match="high_risk_areas"):
        RiskParams(high_risk_areas=("Box: 95, 0, 96, 1",))


def test_unknown_ship_types_count() -> None:
    # (At 08:00 local time: no night.)
    subject = RiskSubject("ais_gap", (VesselIdentity(FEEDER),), 0.0, 0.0, 30.0, 123.0, None)
    found = score_alert(subject, RiskParams())
    assert [r.code for r in found.reasons] == ["type_ais_gap", "unknown_ship_type"]


# --- the sun ----------------------------------------------------------------------------------


def test_solar_elevation_at_known_moments() -> None:
    # Equinox noon on the equator at Greenwich: nearly overhead; its antipode: nearly below.
    noon = at("2024-03-20T12:00:00Z")
    assert solar_elevation_deg(0.0, 0.0, noon) == pytest.approx(88.0, abs=0.5)
    assert solar_elevation_deg(0.0, 180.0, noon) == pytest.approx(-88.0, abs=0.5)
    # Midsummer at Greenwich observatory, solar noon: 90 - 51.48 + 23.44.
    assert solar_elevation_deg(51.48, 0.0, at("2024-06-21T12:02:00Z")) == pytest.approx(
        61.96, abs=0.3
    )
    # Tromsø at local solar midnight in June: the midnight sun, about 3 degrees up.
    assert solar_elevation_deg(69.65, 18.96, at("2024-06-21T22:44:00Z")) == pytest.approx(
        3.1, abs=0.3
    )


def test_night_share_of_an_interval() -> None:
    # Shanghai (UTC+8): 12:00-24:00 UTC is 20:00-08:00 local; sunrise about 05:00 local.
    share = night_share(31.2, 121.5, at("2024-05-01T12:00:00Z"), at("2024-05-02T00:00:00Z"), -0.833)
    assert 0.6 < share < 0.8
    assert (
        night_share(31.2, 121.5, at("2024-05-01T04:00:00Z"), at("2024-05-01T04:00:00Z"), -0.833)
        == 0.0
    )
