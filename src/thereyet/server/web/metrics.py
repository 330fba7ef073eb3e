"""`GET /metrics`: the hub's own health in Prometheus' text format, and the
liveness and readiness answers under /api/v1/health.

Counters and histograms are kept by prometheus_client in a registry of this app;
gauges (queue depth, outbox, live viewers, heartbeat) are read at each scrape.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from ..domain.policy import Action, Resource
from ..services.health import HealthService
from .answers import also, answer
from .api.answers import HealthOut, LiveOut
from .declare import uses

router = APIRouter()
health_router = APIRouter()

GROUP_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500)
SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LATENESS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)


class HubCollector(Collector):
    """What is read from the running hub at each scrape."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        hub = self.state.hub
        node = hub.settings.node
        info = GaugeMetricFamily("thereyet_node_info", "This hub node", labels=["node"])
        info.add_metric([node], 1)
        yield info
        yield from self._ingest()
        yield GaugeMetricFamily(
            "thereyet_writer_queue_depth",
            "Changes waiting for the writer's next group commit",
            value=hub.writer.queue_depth,
        )
        yield from self._outbox()
        live = self.state.live
        viewers = sum(len(channel.viewers) for channel in list(live.channels.values()))
        yield GaugeMetricFamily(
            "thereyet_sse_clients", "Live update streams (SSE) open on this node", value=viewers
        )
        yield from self._heartbeat(node)

    def _ingest(self) -> Iterator[Metric]:
        runs = self.state.runs
        yield CounterMetricFamily(
            "thereyet_events_ingested",
            "Run events reported and stored by this node",
            value=runs.events_ingested,
        )
        yield CounterMetricFamily(
            "thereyet_event_duplicates",
            "Run events reported again (an id the run had) and not stored twice",
            value=runs.event_duplicates,
        )

    def _outbox(self) -> Iterator[Metric]:
        health: HealthService = self.state.health
        families = {
            status: GaugeMetricFamily(
                f"thereyet_outbox_{status}",
                f"Notifications {status} in the outbox, per channel",
                labels=["channel"],
            )
            for status in ("pending", "failed")
        }
        for channel, status, count in health.outbox_waiting():
            families[status].add_metric([channel], count)
        yield from families.values()

    def _heartbeat(self, node: str) -> Iterator[Metric]:
        beat = GaugeMetricFamily(
            "thereyet_node_heartbeat_timestamp_seconds",
            "When this node's background workers last completed a round (Unix time)",
            labels=["node", "loop"],
        )
        for loop, workers in (
            ("workers", self.state.workers),
            ("timely", self.state.timely_workers),
        ):
            if workers.ticked_at is not None:
                beat.add_metric([node, loop], workers.ticked_at)
        yield beat


def attach(state: Any) -> CollectorRegistry:
    """Make the app's registry and hook the hub's parts to it; call once the hub is open."""
    registry = CollectorRegistry()
    group_size = Histogram(
        "thereyet_writer_group_size",
        "Changes committed together in one group commit",
        buckets=GROUP_SIZES,
        registry=registry,
    )
    commit_seconds = Histogram(
        "thereyet_writer_commit_seconds",
        "Time from a group's transaction start to its commit",
        buckets=SECONDS,
        registry=registry,
    )
    lateness = Histogram(
        "thereyet_scheduler_lateness_seconds",
        "How long after its due time the scheduler started a routine",
        buckets=LATENESS,
        registry=registry,
    )

    def committed(size: int, seconds: float) -> None:
        group_size.observe(size)
        commit_seconds.observe(seconds)

    state.hub.writer.on_commit = committed
    state.schedules.on_started = lateness.observe
    registry.register(HubCollector(state))
    return registry


@router.get("/metrics", include_in_schema=False)
@uses(Resource.METRICS, Action.READ)
async def metrics(request: Request) -> Response:
    """Prometheus' text format. Needs an admin token or a read token without limits,
    unless the hub's metrics_public setting is on."""
    state = request.app.state
    health: HealthService = state.health
    if not state.hub.settings.metrics_public:
        from .auth import _principal  # here: auth imports the pages, which import the API

        health.check_scraper(await _principal(request))
    body = await run_in_threadpool(generate_latest, state.metrics)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@health_router.get(
    "/health",
    tags=["hub"],
    summary="Is the hub ready? (no token needed)",
    response_model=answer(HealthOut),
    responses=also(503, HealthOut, "The hub is not ready: `database` says why"),
)
@uses(Resource.HUB, Action.READ)
async def ready(request: Request) -> JSONResponse:
    """Readiness: 200 if the database answers, else 503 with the reason. The
    database's answer is reused for a second, so frequent polling is cheap."""
    hub = request.app.state.hub
    problem = await request.app.state.health.database_problem()
    body = {
        "status": "ok" if problem is None else "unavailable",
        "database": "ok" if problem is None else problem,
        "node": hub.settings.node,
        "version": request.app.version,
        **_bus_state(hub),
    }
    return JSONResponse(body, status_code=200 if problem is None else 503)


def _bus_state(hub: Any) -> dict[str, Any]:
    """Whether this node hears the others (PostgreSQL's LISTEN/NOTIFY), or is alone,
    and what crossed to and from them (see docs/scale-out.md)."""
    if hub.bridge is None:
        return {"bus": "this node"}
    listening = hub.bridge.listening.is_set()
    counts = dataclasses.asdict(hub.bridge.counts)
    return {"bus": "listening" if listening else "reconnecting", "bus_counts": counts}


@health_router.get(
    "/health/live",
    tags=["hub"],
    summary="Is the hub's process up? (no token)",
    response_model=answer(LiveOut),
)
@uses(Resource.HUB, Action.READ)
def live(request: Request) -> dict[str, Any]:
    """Liveness: the process answers; the database is not asked."""
    return {"status": "ok", "node": request.app.state.hub.settings.node}
