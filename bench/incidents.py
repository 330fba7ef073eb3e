"""From an incoming trigger to the first page at a local recorder, at 100 incidents a minute.

Starts a real hub (`thereyet server`, SQLite, synchronous=FULL), defines one
person with a JSON push contact on a local recorder, a weekly rotation, an
escalation policy and a service with a PagerDuty integration, then sends
--count triggers to `POST /v2/enqueue` at --rate a minute (evenly spaced) and
records when each page reaches the recorder. Latency is the page's arrival
minus the moment its trigger was sent. The baseline, in the same run, is the
same page sent straight to the recorder with Apprise (what delivery alone costs).

    python bench/incidents.py [--count 100] [--rate 100]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _hub import Recorder, running_hub

_BENCH_ID = re.compile(r"bench-(\d+)")


def page_arrivals(recorder: Recorder) -> dict[int, float]:
    """When the first page for each bench incident number reached the recorder (monotonic)."""
    arrivals: dict[int, float] = {}
    for arrival in list(recorder.arrivals):
        found = _BENCH_ID.search(arrival.body.get("title", ""))
        if found:
            arrivals.setdefault(int(found.group(1)), arrival.monotonic)
    return arrivals


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def setup(hub: Any, push_url: str) -> str:
    hub.call(
        "PUT",
        "/api/v1/oncall/people/ana",
        {"contact_methods": [{"name": "push", "url": push_url}]},
    )
    today = datetime.now(UTC).date().isoformat()
    rotation = {"timezone": "UTC", "start_date": today, "handoff": "00:00", "participants": ["ana"]}
    hub.call("PUT", "/api/v1/oncall/rotations/primary", rotation)
    step = {"targets": [{"kind": "rotation", "name": "primary"}], "delay_minutes": 15}
    hub.call("PUT", "/api/v1/oncall/policies/default", {"steps": [step]})
    hub.call("PUT", "/api/v1/oncall/services/bench", {"policy": "default"})
    made = hub.call(
        "POST",
        "/api/v1/oncall/integrations",
        {"name": "pd", "service": "bench", "kind": "pagerduty"},
    )
    return str(made["token"])


def trigger(hub: Any, key: str, number: int) -> None:
    hub.call(
        "POST",
        "/v2/enqueue",
        {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": f"bench-{number}",
            "payload": {
                "summary": f"bench-{number} is down",
                "source": "bench",
                "severity": "critical",
            },
        },
    )


def run_hub(count: int, rate: float, recorder: Recorder) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp, running_hub(Path(tmp) / "hub") as hub:
        key = setup(hub, f"json://127.0.0.1:{recorder.port}/push")
        sent: dict[int, float] = {}
        gap = 60.0 / rate
        start = time.monotonic()
        for number in range(count):
            time.sleep(max(0.0, start + number * gap - time.monotonic()))
            sent[number] = time.monotonic()
            trigger(hub, key, number)
        deadline = time.monotonic() + 30
        while not set(sent) <= set(page_arrivals(recorder)) and time.monotonic() < deadline:
            time.sleep(0.05)
        arrivals = page_arrivals(recorder)
        missing = sorted(set(sent) - set(arrivals))
        if missing:
            failed = hub.call("GET", "/api/v1/deliveries?status=failed")["deliveries"]
            pending = hub.call("GET", "/api/v1/deliveries?status=pending")["deliveries"]
            print(f"missing pages: {missing}; failed {failed[:3]}; pending {pending[:3]}")
        return [arrivals[n] - sent[n] for n in sent if n in arrivals]


def run_baseline(count: int, recorder: Recorder) -> list[float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise
    url = f"json://127.0.0.1:{recorder.port}/push"
    latencies = []
    for number in range(count):
        sender = apprise.Apprise()
        sender.add(url)
        began = time.monotonic()
        sender.notify(title=f"[critical] #0 bench-{100000 + number} is down", body="baseline")
        latencies.append(page_arrivals(recorder)[100000 + number] - began)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--rate", type=float, default=100.0, help="incidents a minute")
    args = parser.parse_args()
    recorder = Recorder()
    try:
        baseline = run_baseline(min(args.count, 50), recorder)
        measured = run_hub(args.count, args.rate, recorder)
    finally:
        recorder.close()
    print(f"pages received: {len(measured)} of {args.count}")
    for name, values in (
        ("direct Apprise send (baseline)", baseline),
        ("trigger -> page", measured),
    ):
        print(
            f"{name}: p50 {statistics.median(values) * 1000:.0f} ms, "
            f"p99 {percentile(values, 0.99) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"
        )
    ratio = percentile(measured, 0.99) / percentile(baseline, 0.99)
    print(f"ratio p99 (hub / baseline): {ratio:.1f}")
    print("target: p99 < 2000 ms:", "met" if percentile(measured, 0.99) < 2.0 else "NOT met")


if __name__ == "__main__":
    main()
