"""The identity registry, report by report: what counts as a change and what does not."""

from __future__ import annotations

from detectors.anomalies.identity_history import IdentityRecord, IdentityRegistry, is_valid_imo
from detectors.records import StaticReport

IMO = 9074729
A, B = 636012345, 620001234


def report(mmsi: int, time_s: float, **fields: object) -> StaticReport:
    return StaticReport(mmsi, time_s, 5, **fields)  # type: ignore[arg-type]


def observe_all(registry: IdentityRegistry, reports: list[StaticReport]) -> list[tuple]:  # type: ignore[type-arg]
    out = []
    for r in reports:
        out.extend((c.mmsi, c.field, c.old, c.new) for c in registry.observe(r))
    return out


def test_repeats_and_padding_are_not_changes() -> None:
    registry = IdentityRegistry(confirm_reports=2, memory_s=1e9)
    reports = [report(A, t, name="OCEAN STAR@@@", call_sign="A8AB1", imo=IMO) for t in range(5)]
    reports.append(report(A, 10, name="ocean  star", call_sign="a8ab1", imo=IMO))
    assert observe_all(registry, reports) == []
    assert registry.records[A].values == {"name": "OCEAN STAR", "call_sign": "A8AB1", "imo": IMO}


def test_a_new_name_counts_on_its_second_report_in_a_row() -> None:
    registry = IdentityRegistry(confirm_reports=2, memory_s=1e9)
    first = [report(A, 0, name="OCEAN STAR"), report(A, 1, name="SEA BREEZE")]
    assert observe_all(registry, first) == []
    assert observe_all(registry, [report(A, 2, name="SEA BREEZE")]) == [
        (A, "name", "OCEAN STAR", "SEA BREEZE")
    ]
    assert [c.time_s for c in registry.changes_since(A, 0)] == [2]


def test_two_transmitters_alternating_names_never_confirm_a_change() -> None:
    registry = IdentityRegistry(confirm_reports=2, memory_s=1e9)
    names = ["OCEAN STAR", "SEA BREEZE"] * 10
    assert observe_all(registry, [report(A, t, name=n) for t, n in enumerate(names)]) == []


def test_the_same_imo_under_a_new_mmsi_and_flag() -> None:
    registry = IdentityRegistry(confirm_reports=2, memory_s=1e9)
    old = [report(A, t, name="OCEAN STAR", imo=IMO) for t in range(3)]
    new = [report(B, 10 + t, name="STAR OCEAN", imo=IMO) for t in range(3)]
    assert sorted(observe_all(registry, old + new)) == [
        (B, "flag", "LBR", "COM"),
        (B, "mmsi", A, B),
        (B, "name", "OCEAN STAR", "STAR OCEAN"),
    ]
    assert registry.imo_owner[IMO][0] == B


def test_two_ships_claiming_one_imo_in_turn_are_one_change_not_many() -> None:
    registry = IdentityRegistry(confirm_reports=2, memory_s=1e9)
    reports = []
    for block in range(6):
        mmsi = A if block % 2 == 0 else B
        reports += [report(mmsi, block * 10 + t, imo=IMO) for t in range(3)]
    found = observe_all(registry, reports)
    assert [(m, f) for m, f, *_ in found if f == "mmsi"] == [(B, "mmsi"), (A, "mmsi")]


def test_an_invalid_imo_is_not_followed_across_mmsis() -> None:
    assert is_valid_imo(IMO) and not is_valid_imo(1234560)
    registry = IdentityRegistry(confirm_reports=2, memory_s=1e9)
    reports = [report(A, t, imo=1234560) for t in range(3)]
    reports += [report(B, 10 + t, imo=1234560) for t in range(3)]
    assert observe_all(registry, reports) == []


def test_records_round_trip_and_are_forgotten_when_silent() -> None:
    registry = IdentityRegistry(confirm_reports=2, memory_s=1e9)
    observe_all(
        registry, [report(A, 0, name="X1"), report(A, 5, name="Y2"), report(A, 6, name="Y2")]
    )
    observe_all(registry, [report(B, 100, name="Z")])
    restored = IdentityRecord.from_state(registry.records[A].to_state())
    assert restored.to_state() == registry.records[A].to_state()
    assert registry.forget_older_than(50) == [A]
    assert list(registry.records) == [B]
