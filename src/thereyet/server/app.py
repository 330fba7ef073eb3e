"""The ASGI app: create_app(settings, clock) builds it; its lifespan opens the hub."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from .. import __version__
from .clock import Clock, SystemClock
from .config import Settings, settings_from_env
from .hub import Hub
from .services.jobs import JobService
from .services.rooms import RoomService
from .services.runs import RunService
from .services.tokens import TokenService, bootstrap_admin
from .web import errors
from .web.api import misc, rooms, runs
from .web.limits import BodyLimit
from .workers.loop import Worker, WorkerLoop


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or settings_from_env()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = await run_in_threadpool(Hub.open, settings, clock)
        hub.bus.bind(asyncio.get_running_loop())
        app.state.hub = hub
        app.state.runs = RunService(hub)
        app.state.rooms = RoomService(hub)
        app.state.jobs = JobService(hub)
        app.state.tokens = TokenService(hub)
        token = await run_in_threadpool(bootstrap_admin, hub)
        if token is not None:
            # Printed, never logged: this is the one time the token exists in clear.
            print(f"thereyet: first start; admin token (shown once): {token}", file=sys.stderr)
        loop = WorkerLoop(_workers(app, settings), clock)
        app.state.workers = loop
        loop.start()
        try:
            yield
        finally:
            await loop.stop()
            await run_in_threadpool(hub.close)

    app = FastAPI(
        title="thereyet",
        version=__version__,
        summary="A self-hosted ops room: runs, rooms and the event log.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    errors.install(app)
    for module in (runs, rooms, misc):
        app.include_router(module.router, prefix="/api/v1")
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        larger={"/attachments": settings.max_attachment_bytes},
    )
    return app


def _workers(app: FastAPI, settings: Settings) -> list[Worker]:
    workers: list[Worker] = []
    if settings.demo:
        from .workers.demo import Demo

        workers.append(Demo(app.state.runs, app.state.rooms))
    return workers
