"""The ASGI app: create_app(settings, clock) builds it; its lifespan opens the hub."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from .. import __version__
from .clock import Clock, SystemClock
from .config import Settings, settings_from_env
from .configfile.service import ConfigService
from .first_steps import first_steps
from .hub import Hub
from .logs import redact_access_log
from .services import agent_commands, oncall_commands  # noqa: F401  (register built-ins)
from .services.agents import AgentService
from .services.bridges import BridgeService
from .services.command_builtins import Services as CommandServices
from .services.command_config import CommandFile, commands_path
from .services.commands import CommandService
from .services.contact_methods import ContactMethods
from .services.escalation import EscalationService
from .services.health import HealthService
from .services.incidents import IncidentService
from .services.integrations import IntegrationService
from .services.jobs import JobService
from .services.monitoring import MonitorService
from .services.nodes import NodeService
from .services.notifications import NotificationService
from .services.oncall import OncallService
from .services.people import PeopleService
from .services.pings import PingService
from .services.reports import ReportService
from .services.retention import RetentionService
from .services.rooms import RoomService
from .services.runs import RunService
from .services.schedules import ScheduleService
from .services.search import SearchService
from .services.shares import ShareService
from .services.stored_commands import StoredCommands
from .services.tokens import TokenService, bootstrap_admin
from .services.transcripts import TranscriptService
from .web import api_docs, errors, metrics, pages
from .web.api import agents as agent_api
from .web.api import channels as channel_api
from .web.api import commands as command_api
from .web.api import config as config_api
from .web.api import incidents as incident_api
from .web.api import integrations as integration_api
from .web.api import misc, people, rooms, runs, search, shares
from .web.api import oncall as oncall_api
from .web.api import schedules as schedule_api
from .web.compat import alertmanager as alertmanager_compat
from .web.compat import hooks as hooks_compat
from .web.compat import pagerduty as pagerduty_compat
from .web.compat import ping as ping_compat
from .web.ingest import IngestCounts, answer_report, events_run_id
from .web.input_guard import InputGuard
from .web.limits import BodyLimit, BodyTimeout
from .web.live import Live
from .web.managed import ManagedGuard
from .web.ping_path import answer_ping, ping_uuid
from .web.responses import ERRORS
from .workers.loop import Worker, WorkerLoop


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or settings_from_env()
    clock = clock or SystemClock()
    redact_access_log()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = await run_in_threadpool(Hub.open, settings, clock)
        hub.bus.bind(asyncio.get_running_loop())
        app.state.hub = hub
        app.state.runs = RunService(hub)
        app.state.rooms = RoomService(hub)
        app.state.jobs = JobService(hub)
        app.state.tokens = TokenService(hub)
        app.state.notifications = NotificationService(hub)
        app.state.runs.status_hooks.append(app.state.notifications.on_run_status)
        app.state.runs.grouped_status_hooks[app.state.notifications.on_run_status] = (
            app.state.notifications.on_runs_status
        )
        app.state.schedules = ScheduleService(hub, app.state.runs, app.state.notifications)
        app.state.agents = AgentService(hub, app.state.runs)
        app.state.schedules.starters["agent"] = app.state.agents.queue_in
        app.state.tokens.revoke_hooks.append(app.state.agents.token_revoked)
        app.state.monitoring = MonitorService(hub, app.state.runs)
        app.state.schedules.on_late_starts = app.state.monitoring.on_late_starts
        app.state.pings = PingService(hub, app.state.runs)
        app.state.oncall = OncallService(hub)
        app.state.escalation = EscalationService(hub)
        app.state.incidents = IncidentService(hub, app.state.oncall)
        app.state.reports = ReportService(hub, app.state.oncall)
        app.state.contacts = ContactMethods(hub, app.state.oncall)
        app.state.runs.status_hooks.append(app.state.incidents.on_run_status)
        app.state.runs.grouped_status_hooks[app.state.incidents.on_run_status] = (
            app.state.incidents.on_runs_status
        )
        app.state.monitoring.transition_hooks.append(app.state.incidents.on_transitions)
        await app.state.oncall.link_secret()  # made once, before two nodes could race for it
        app.state.people = PeopleService(hub)
        app.state.shares = ShareService(hub)
        app.state.search = SearchService(hub)
        app.state.transcripts = TranscriptService(hub)
        app.state.live = Live(hub.bus)
        app.state.commands = CommandService(
            hub,
            CommandServices(
                hub,
                app.state.runs,
                app.state.schedules,
                extra={
                    "incidents": app.state.incidents,
                    "oncall": app.state.oncall,
                    "agents": app.state.agents,
                },
            ),
            StoredCommands(hub, CommandFile(commands_path(settings.data_dir))),
        )
        app.state.rooms.posted_hooks.append(app.state.commands.on_posted)
        app.state.integrations = IntegrationService(hub, app.state.runs)
        app.state.bridges = BridgeService(hub)
        app.state.config = ConfigService(hub)
        app.state.retention = RetentionService(hub)
        app.state.health = HealthService(hub)
        app.state.metrics = metrics.attach(app.state)
        token = await run_in_threadpool(bootstrap_admin, hub)
        if token is not None:
            # Printed, never logged: this is the one time the token exists in clear.
            print(f"thereyet: first start; admin token (shown once): {token}", file=sys.stderr)
            print(first_steps(settings), file=sys.stderr)
        app.state.nodes = NodeService(hub)
        await app.state.nodes.start()  # before any worker claims: frees what a dead node held
        heartbeat = WorkerLoop([_heartbeat(app)], clock, interval=0.5)
        app.state.heartbeat = heartbeat
        heartbeat.start()
        loop = WorkerLoop(_workers(app, settings), clock)
        app.state.workers = loop
        loop.start()
        # Starting routines on time needs a shorter tick than the other workers.
        timely = WorkerLoop(_timely_workers(app), clock, interval=0.25)
        app.state.timely_workers = timely
        timely.start()
        backups = WorkerLoop(_backup_workers(hub, settings), clock, interval=30)
        backups.start()
        try:
            yield
        finally:
            await app.state.commands.close()
            await backups.stop()
            await timely.stop()
            await loop.stop()
            await heartbeat.stop()
            await app.state.nodes.stop()
            app.state.live.close()
            await run_in_threadpool(hub.close)

    app = HubApp(
        title="thereyet",
        version=__version__,
        summary="A self-hosted ops room: runs, rooms and the event log.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served from the package's own files: web/api_docs.py
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ingest_counts = IngestCounts()
    app.state.ping_counts = IngestCounts()
    errors.install(app)
    for module in (runs, rooms, misc, people, shares, search):
        app.include_router(module.router, prefix="/api/v1", responses=ERRORS)
    for module in (schedule_api, channel_api, command_api, integration_api, config_api, agent_api):
        app.include_router(module.router, prefix="/api/v1", responses=ERRORS)
    app.include_router(metrics.health_router, prefix="/api/v1")
    app.include_router(metrics.router)
    app.include_router(ping_compat.router)
    app.include_router(hooks_compat.router, responses=ERRORS)
    for module in (incident_api, oncall_api):
        app.include_router(module.router, prefix="/api/v1", responses=ERRORS)
    app.include_router(integration_api.former, prefix="/api/v1", responses=ERRORS)
    app.include_router(incident_api.links)
    app.include_router(oncall_api.feeds)
    app.include_router(pagerduty_compat.router)
    app.include_router(alertmanager_compat.router, responses=ERRORS)
    pages.install(app)
    api_docs.install(app)
    # Pings keep any body as a log; PagerDuty's route answers in PagerDuty's format; hooks
    # tell the integration's owner about a refused delivery: each checks on its own.
    app.add_middleware(InputGuard, skip=("/ping/", "/v2/", "/hooks/"))
    app.add_middleware(ManagedGuard)
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        larger={"/attachments": settings.max_attachment_bytes},
    )
    app.add_middleware(BodyTimeout, seconds=settings.body_timeout)
    if settings.trusted_proxies:
        # Only these proxies' X-Forwarded-For/-Proto are believed (uvicorn's own, which trusts
        # 127.0.0.1 by default, is turned off in `thereyet server`).
        proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    return app


class HubApp(FastAPI):
    """The app, with the report-events route and plain pings answered first (see
    web/ingest.py and web/ping_path.py)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        run_id = events_run_id(scope)
        if run_id is not None:
            await answer_report(super().__call__, self.state, run_id, scope, receive, send)
        elif (ping := ping_uuid(scope)) is not None:
            await answer_ping(super().__call__, self.state, ping, scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def _heartbeat(app: FastAPI) -> Worker:
    from .workers.heartbeat import Heartbeat

    return Heartbeat(app.state.nodes)


def _backup_workers(hub: Hub, settings: Settings) -> list[Worker]:
    """Scheduled backups run in a loop of their own: one takes a while."""
    if not settings.backup_every:
        return []
    from datetime import timedelta

    from .backup.schedule import ScheduledBackups
    from .domain.schedules import parse_duration

    every = timedelta(seconds=parse_duration(settings.backup_every))
    directory = settings.data_dir / "backups"
    return [ScheduledBackups(hub, every, max(settings.backup_keep, 1), directory)]


def _timely_workers(app: FastAPI) -> list[Worker]:
    from .workers.agents import AgentAssigner
    from .workers.dispatcher import Dispatcher
    from .workers.scheduler import Scheduler

    return [
        Scheduler(app.state.schedules),
        AgentAssigner(app.state.agents),
        Dispatcher(app.state.notifications),
    ]


def _workers(app: FastAPI, settings: Settings) -> list[Worker]:
    from .workers.bridge import Bridge
    from .workers.escalator import Escalator
    from .workers.monitor import Monitor
    from .workers.pruner import Pruner

    workers: list[Worker] = [Monitor(app.state.monitoring), Escalator(app.state.incidents)]
    workers.append(Bridge(app.state.bridges))
    workers.append(Pruner(app.state.retention))
    if settings.demo:
        from .workers.demo import Demo
        from .workers.demo_agent import DemoAgent

        agent = DemoAgent(app.state.schedules, app.state.tokens, settings)
        workers.append(
            Demo(app.state.runs, app.state.rooms, schedules=app.state.schedules, agent=agent)
        )
    return workers
