"""A Faust consumer that hands an agent every record after a restart, in order, once.

Two races in faust-streaming 0.15.3 with aiokafka 0.14 lose records when a worker starts
with table state to recover (measured here: a worker restarted after SIGTERM decoded raw
messages 22-24 and went on at 54, or went on at 52 having decoded none of 22-51):

- Recovery resumes the stream partitions, awaits the seek to their committed offsets and only
  then resumes flow control, while the fetcher already runs for the changelogs. Records
  fetched in that window go to queues that flow control clears.
- Faust passes its live set of active partitions to aiokafka's `fetched_records`, where an
  empty set means "every partition". When recovery pauses the changelogs during a fetch, the
  set empties, aiokafka drains a paused stream partition and moves its position past the
  records, and Faust drops them as not active.

This consumer resumes stream partitions only together with the flow (after the seek), and
asks aiokafka for a fixed copy of the active set, fetching nothing when it is empty. Records
of a partition that is not active stay in aiokafka's buffer; the seek replaces them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from faust.transport.drivers.aiokafka import Consumer


class FlowGatedConsumer(Consumer):  # type: ignore[misc]
    """Resumes stream partitions only with the flow; fetches only what is active."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._resume_with_flow: set[Any] = set()

    def resume_partitions(self, tps: Iterable[Any]) -> None:
        # Faust resumes stream partitions only right before it seeks them and resumes the
        # flow (tables/recovery.py, both paths); changelog partitions are resumed for the
        # recovery itself and are left to it.
        changelog: set[Any] = set()
        for tp in tps:
            if self._is_changelog_tp(tp):
                changelog.add(tp)
            else:
                self._resume_with_flow.add(tp)
        if changelog:
            super().resume_partitions(changelog)

    def resume_flow(self) -> None:
        # Recovery resumes the flow once the seek is done and flow control is open again.
        super().resume_flow()
        resumed, self._resume_with_flow = self._resume_with_flow, set()
        if resumed:
            super().resume_partitions(resumed)

    async def _getmany(self, active_partitions: set[Any] | None, timeout: float) -> Any:
        if active_partitions is None:  # a client-only app: every partition
            return await super()._getmany(None, timeout)
        active = frozenset(active_partitions)
        if not active:
            return {}
        return await super()._getmany(active, timeout)


def install(app: Any) -> None:
    """Make `app` build its consumer as a `FlowGatedConsumer` (call before it starts)."""
    app.transport.Consumer = FlowGatedConsumer
