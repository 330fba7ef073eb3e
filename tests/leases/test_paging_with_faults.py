"""Escalation steps are paged once each, and in order, when the node paging them kills
itself at each fault point in turn: real `thereyet server` processes on PostgreSQL.

Each case has a database of its own (so one case's released claims cannot reach
another case's armed node): an armed node opens an incident and dies at its fault
point, then a healthy node takes over. Step 0 may be sent twice only in the documented window
(the send went out, the node died before recording it), and then both carry the
same Idempotency-Key. Step 1 (a minute later) never leaves before step 0."""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.leases.hubs import call, died_by_fault, nodes, scratch_databases
from tests.servers import HubProcess, Recorder, recording_server, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.long]  # a minute of escalation

# The fault point each armed node dies at, and how often its incident's step 0 is sent.
CASES = {
    "dispatcher.after_claim": 1,  # claimed, never sent: released, sent once by another node
    "dispatcher.mid_send": 2,  # the request went out, the answer never came back
    "dispatcher.after_send": 2,  # answered 2xx, the node died before recording it
    "escalator.after_claim": 1,  # step and page committed together: nothing to repeat
}


def set_up(node: HubProcess, recorder: Recorder, case: str) -> None:
    """A service, its two-step policy and two channels on the recorder."""
    for step in ("first", "second"):
        url = f"json://{recorder.url}/{case}/{step}"
        call(node, "POST", "/api/v1/channels", json={"name": step, "url": url})
    steps = [
        {"targets": [{"kind": "channel", "name": step}], "delay_minutes": 1}
        for step in ("first", "second")
    ]
    name = case.replace(".", "-")
    call(node, "PUT", f"/api/v1/oncall/policies/{name}", json={"steps": steps})
    call(node, "PUT", f"/api/v1/oncall/services/{name}", json={"policy": name})


def open_incident(node: HubProcess, case: str) -> None:
    """Open the case's incident; the node may die before it answers (it was committed)."""
    body = {"service": case.replace(".", "-"), "summary": f"{case} test", "dedup_key": case}
    with contextlib.suppress(OSError, AssertionError):  # a dropped connection, or no 2xx
        call(node, "POST", "/api/v1/incidents", json=body)


def test_each_step_is_paged_once_and_in_order_whatever_fault_point_kills_the_node(
    pg_database: str, tmp_path: Path
):
    armed: dict[str, HubProcess] = {}
    healthy: dict[str, HubProcess] = {}

    def crash_then_heal(case: str, recorder: Recorder) -> str:
        """The armed node sets up, opens its incident and dies; then the healthy one starts."""
        armed[case].start({"THEREYET_FAULT": case, "THEREYET_FAULT_DELAY": "0.05"})
        set_up(armed[case], recorder, case)
        open_incident(armed[case], case)
        line = died_by_fault(armed[case])
        healthy[case].start()
        return line

    with (
        recording_server() as recorder,
        scratch_databases(len(CASES)) as databases,
        contextlib.ExitStack() as stack,
    ):
        # Answers take a moment, so a node armed mid-send dies while waiting for one.
        recorder.on_request = lambda entry: time.sleep(0.3)
        for case, db in zip(CASES, databases, strict=True):
            armed[case], healthy[case] = stack.enter_context(
                nodes(db, tmp_path / case, "armed", "healthy")
            )
        # The cases run side by side (their own databases): a minute of escalation once.
        with ThreadPoolExecutor(2) as pool:  # two at a time: each start is CPU-heavy
            lines = list(pool.map(lambda c: crash_then_heal(c, recorder), CASES))
        deaths = dict(zip(CASES, lines, strict=True))
        assert all(case in line for case, line in deaths.items()), deaths
        wait_for(lambda: len(_sent(recorder, "second")) == len(CASES), timeout=150, every=0.5)
        time.sleep(2)  # nothing more arrives
        pages = {}
        for case, node in healthy.items():
            [incident] = call(node, "GET", "/api/v1/incidents")["incidents"]
            pages[case] = call(node, "GET", f"/api/v1/incidents/{incident['id']}")["pages"]

    firsts, seconds = _sent(recorder, "first"), _sent(recorder, "second")
    for case, times in CASES.items():
        assert [p["position"] for p in pages[case]] == [0, 1], case
        sent = firsts[case]
        assert len(sent) == times, f"{case}: step 0 sent {len(sent)} times"
        assert len({r["headers"]["Idempotency-Key"] for r in sent}) == 1, case
        [second] = seconds[case]
        assert all(r["at"] < second["at"] for r in sent), f"{case}: step 1 before step 0"


def _sent(recorder: Recorder, step: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for index, request in enumerate(list(recorder.requests)):
        case, _, name = request["path"].strip("/").rpartition("/")
        if name == step:
            found[case].append({**request, "at": index})
    return found
