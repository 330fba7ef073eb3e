"""A report's live view is built only when someone may show it, and none is missed by
a dashboard that opens while the report is being written."""

from __future__ import annotations

from tests.api.test_runs import start
from tests.server.test_bus_bridge import eventually
from thereyet.server.bus import Subscription
from thereyet.server.domain.access import SYSTEM
from thereyet.server.domain.events import Progress
from thereyet.server.store.writer import Tx


def test_a_dashboard_that_opens_while_a_report_is_written_is_sent_the_report(client, clock):
    run = start(client, total=100)
    app = client.app
    bus = app.state.hub.bus  # type: ignore[attr-defined]
    eventually(lambda: not bus.is_heard("runs"))  # (bridged: once the other nodes said)
    opened: list[Subscription] = []

    def report_while_a_dashboard_opens(tx: Tx) -> None:
        report = [Progress(id="p1", ts=clock.now(), done=42)]
        app.state.runs.report_in(tx, SYSTEM, run["id"], report)  # type: ignore[attr-defined]
        # Nobody watched when the report was made (no view was built); a dashboard
        # opens now, before the commit: its snapshot cannot have this report.
        opened.append(bus.subscribe("runs"))

    app.state.hub.writer.run_sync(report_while_a_dashboard_opens)  # type: ignore[attr-defined]
    dashboard = opened[0]
    try:
        eventually(lambda: not dashboard.queue.empty())
        _topic, row = dashboard.queue.get_nowait()
        assert row["id"] == run["id"] and row["progress"]["done"] == 42
    finally:
        dashboard.close()
