"""The chaos plan is reproducible and complete; the topic comparison finds lost, duplicated and reordered
records per key (what the whole-pipeline chaos test relies on to fail)."""

from __future__ import annotations

from xray_contracts.catalogue import TopicSpec
from xray_testing.chaos import chaos_plan, diff_topic
from xray_testing.records import Row

RAW = TopicSpec(name="bytes", value_schema=None, cleanup_policy="delete")


def rows(*items: tuple[bytes, bytes]) -> list[Row]:
    return [Row(0, i, key, value, []) for i, (key, value) in enumerate(items)]


def test_plan_is_seeded_and_has_every_action() -> None:
    kwargs = {"kills": {"a": 3, "b": 2}, "scale": ("b",), "broker_restart": "a"}
    plan = chaos_plan(7, **kwargs)  # type: ignore[arg-type]
    assert plan == chaos_plan(7, **kwargs)  # type: ignore[arg-type]
    assert plan != chaos_plan(8, **kwargs)  # type: ignore[arg-type]
    kinds = [(a.kind, a.service) for a in plan]
    assert kinds.count(("kill", "a")) == 3
    assert kinds.count(("kill", "b")) == 2
    assert kinds.count(("broker_restart", "a")) == 1
    ups = [a for a in plan if a.kind == "scale"]
    assert [a.instances for a in ups] == [2, 1]  # 1 -> 2 -> 1, in that order
    assert all(0.0 < a.at < 1.0 for a in plan)
    assert [a.at for a in plan] == sorted(a.at for a in plan)


def test_plan_spans_per_service_and_for_the_broker_restart() -> None:
    plan = chaos_plan(
        3,
        kills={"feed": 4, "worker": 4},
        scale=("worker",),
        broker_restart="feed",
        spans={"feed": (0.05, 0.3)},
        broker_span=(0.5, 0.6),
    )
    assert all(0.05 <= a.at <= 0.3 for a in plan if a.kind == "kill" and a.service == "feed")
    assert all(0.08 <= a.at <= 0.85 for a in plan if a.service == "worker")
    (restart,) = [a for a in plan if a.kind == "broker_restart"]
    assert 0.5 <= restart.at <= 0.6
    # Without spans the plan is what it always was for a seed.
    default = {"kills": {"a": 3}, "scale": ("a",), "broker_restart": "a"}
    assert chaos_plan(7, **default) == chaos_plan(7, **default, spans={}, broker_span=None)  # type: ignore[arg-type]


def test_diff_finds_lost_duplicated_and_reordered_records() -> None:
    reference = rows((b"A", b"1"), (b"A", b"2"), (b"B", b"1"), (b"C", b"1"), (b"C", b"2"))
    assert diff_topic(RAW, reference, reference).equal
    lost = diff_topic(RAW, reference, rows((b"A", b"1"), (b"B", b"1"), (b"C", b"1"), (b"C", b"2")))
    assert lost.lost == {b"A": 1}
    assert not lost.equal
    doubled = diff_topic(RAW, reference, [*reference, *rows((b"B", b"1"))])
    assert doubled.duplicated == {b"B": 1}
    swapped = diff_topic(
        RAW, reference, rows((b"A", b"2"), (b"A", b"1"), (b"B", b"1"), (b"C", b"1"), (b"C", b"2"))
    )
    assert swapped.reordered == [b"A"]
    assert not swapped.equal
    # Interleaving across keys is no reordering within a symbol.
    interleaved = rows((b"C", b"1"), (b"A", b"1"), (b"B", b"1"), (b"A", b"2"), (b"C", b"2"))
    assert diff_topic(RAW, reference, interleaved).equal
