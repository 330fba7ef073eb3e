"""Live latency: from an SDK `run.progress()` call to the dashboard's SSE event.

    python bench/live_latency.py [--seconds 30] [--runs 1000] [--dashboards 200]
    python bench/live_latency.py --live-only      # diagnostic: the live path alone
    python bench/live_latency.py --sdk-defaults   # the probe keeps the SDK's pacing
    python bench/live_latency.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/live_latency.py --db postgresql+psycopg://... --nodes 2

With --nodes N (PostgreSQL only) the hub is N real nodes on one database behind
Debian's nginx (deploy/nginx.conf): the load, the probe and the dashboards all go
through nginx, so both the reports and the dashboards are spread over the nodes,
and a dashboard sees another node's reports through the PostgreSQL bus bridge.
The same run first measures 1 node behind the same nginx (the baseline), then N
nodes, each in a fresh process and database, and prints both loaded p99s and
their ratio.

Starts a real hub (`thereyet server`, SQLite in a temp dir) and, on loopback:

- a dashboard process holding `--dashboards` Server-Sent-Events streams of
  `GET /live/runs`, signed in as a viewer (one session cookie for all), that
  notes when each stream has received the whole frame that first shows each
  progress value of the probe run;
- the probe: a run reported through the real SDK (`thereyet.run()` and
  `run.progress(done)`) in this process, one new `done` every
  `--probe-interval` seconds; its time t0 is taken just before the call;
- a load process (second phase only) that creates `--runs` running runs and
  posts, for each on its own keep-alive connection (one SDK process per run),
  one progress event a second, spread over the second, paced like the SDK: the
  next small events batch a second after the previous one began, at once if
  the hub took longer (so a slow hub gets fewer, never a growing queue).

Latency of one probe update on one stream = arrival of the first frame showing
that `done` or a later one (a later one supersedes it) - t0, on the same clock
(time.time()). Two phases, in the same run and against the same hub:

  idle:   only the probe and the connected dashboards (the baseline);
  loaded: the same, plus the load.

The script prints p50/p90/p99/max for both and the ratio loaded/idle, the
hub's CPU use, the progress events/s the hub acknowledged, the frames, run
updates and bytes/s each dashboard received, and for the probe the split
progress() -> SDK request -> hub answer -> dashboard event. It exits 1 if the
loaded p99 misses 250 ms. The probe's SDK is told to send at once
(progress_interval=0, send_interval=--probe-send-interval) so that the figure
is the hub's latency, not the SDK's pacing (by default the SDK sends a run's
progress at most once a second, from a thread that looks every 0.5 s; see
--sdk-defaults). With --live-only the hub (this script, --serve) publishes the
load's updates on its own bus from a thread, as the writer does after a
commit, skipping HTTP and the database: what the live path alone can do.
Everything stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import math
import multiprocessing
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _hub import (
    ADMIN_TOKEN,
    HOST,
    Hub,
    free_port,
    running_hub,
    running_nodes,
    scratch_pg_database,
    wait_answering,
)

TARGET_P99 = 0.250  # seconds, under the full load (issue 4)
VIEWER = ("bench-viewer", "bench-viewer-password-0123")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and all its threads (Linux), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _iso(now: float) -> str:
    """A time as the SDK sends it: UTC, to the millisecond."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def _use_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


# -- signing in, as a browser does ------------------------------------------------------


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_all("set-cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def sign_in(hub: Hub) -> str:
    """Create a viewer and sign in through the login form; return the Cookie header value."""
    username, password = VIEWER
    hub.call(
        "POST", "/api/v1/users", {"username": username, "password": password, "role": "viewer"}
    )
    conn = http.client.HTTPConnection(HOST, hub.port, timeout=30)
    try:
        conn.request("GET", "/login")
        response = conn.getresponse()
        page = response.read().decode()
        login_cookie = _cookies(response)["thereyet_login"]
        match = re.search(r'name="csrf" value="([^"]+)"', page)
        if match is None:
            raise RuntimeError("no csrf field on /login")
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrf": match.group(1)}
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"thereyet_login={login_cookie}",
        }
        conn.request("POST", "/login", form, headers)
        response = conn.getresponse()
        response.read()
        if response.status != 303:
            raise RuntimeError(f"sign-in answered {response.status}")
        return f"thereyet_session={_cookies(response)['thereyet_session']}"
    finally:
        conn.close()


# -- the dashboards (their own process) ---------------------------------------------


class _Stream(asyncio.Protocol):
    """One dashboard: a raw HTTP/1.1 SSE stream of /live/runs.

    Kept cheap, so that one process can take in what 200 browsers would: the bytes
    are scanned for the probe's run id (C-speed `find`), never decoded as a whole.
    A probe update counts as arrived when the frame holding it has fully arrived.
    """

    PROGRESS = b'"progress":{"done":'

    def __init__(self, request: bytes, marker: bytes, tally: dict[int, list[int]]) -> None:
        self.request = request
        self.marker = marker  # b'"id":"<probe run id>"'
        self.tally = tally  # second -> [bytes, frames, run updates], shared by all streams
        self.buf = bytearray()  # what is not yet scanned
        self.head_done = False
        self.pending: float | None = None  # probe `done` seen, its frame not yet complete
        self.ok: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.arrivals: dict[float, float] = {}  # probe `done` -> first arrival
        self.closed = False
        self.transport: asyncio.Transport | None = None
        self.chunked = False  # the body comes in HTTP/1.1 chunks
        self.raw = bytearray()  # chunked bytes not yet taken apart
        self.chunk_left = 0  # data bytes of the current chunk still to come
        self.skip = 0  # bytes of framing still to skip

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        self.transport.write(self.request)  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ok.done():
            self.ok.set_result(False)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if not self.head_done:
            self.buf += data
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            self.head_done = True
            if not self.ok.done():
                self.ok.set_result(self.buf.startswith(b"HTTP/1.1 200"))
            self.chunked = b"transfer-encoding: chunked" in bytes(self.buf[:end]).lower()
            data = bytes(self.buf[end + 4 :])
            self.buf.clear()
        if self.chunked:
            data = self._dechunk(data)
        slot = self.tally.setdefault(int(now), [0, 0, 0])
        slot[0] += len(data)
        slot[1] += data.count(b"event: runs\n")
        slot[2] += data.count(b'"show":')
        self.buf += data
        self._scan(now)

    def _dechunk(self, data: bytes) -> bytes:
        """The body bytes in `data` (HTTP/1.1 chunked framing taken off). A proxy such
        as nginx cuts chunks anywhere, even inside a number; the hub cuts at frames."""
        raw, out = self.raw, bytearray()
        raw += data
        while True:
            if self.skip:  # the CRLF after a chunk's data
                n = min(self.skip, len(raw))
                del raw[:n]
                self.skip -= n
                if self.skip:
                    break
            if self.chunk_left == 0:
                line_end = raw.find(b"\r\n")
                if line_end < 0:
                    break
                self.chunk_left = int(bytes(raw[:line_end]).split(b";")[0], 16)
                del raw[: line_end + 2]
                if self.chunk_left == 0:  # the last chunk: the stream ended
                    break
            take = min(self.chunk_left, len(raw))
            if take == 0:
                break
            out += raw[:take]
            del raw[:take]
            self.chunk_left -= take
            if self.chunk_left == 0:
                self.skip = 2
        return bytes(out)

    def _scan(self, now: float) -> None:
        buf = self.buf
        while True:
            if self.pending is None:
                at = buf.find(self.marker)
                if at < 0:
                    del buf[: max(0, len(buf) - len(self.marker) + 1)]
                    return
                value = buf.find(self.PROGRESS, at)
                comma = buf.find(b",", value) if value >= 0 else -1
                if comma < 0:
                    del buf[:at]  # the rest of this run is still on its way
                    return
                raw = bytes(buf[value + len(self.PROGRESS) : comma])
                self.pending = -1.0 if raw == b"null" else float(raw)
                del buf[:comma]
            end = buf.find(b"\n\n")
            if end < 0:
                del buf[: max(0, len(buf) - 1)]
                return
            if self.pending >= 0:
                self.arrivals.setdefault(self.pending, now)
            self.pending = None
            del buf[: end + 2]


async def _dashboards(
    port: int, cookie: str, probe_id: str, count: int, ready: Any, stop: Any, deadline: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    request = (
        f"GET /live/runs HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/event-stream\r\n"
        f"Cookie: {cookie}\r\nCache-Control: no-cache\r\n\r\n"
    ).encode()
    marker = f'"id":"{probe_id}"'.encode()
    tally: dict[int, list[int]] = {}
    streams: list[_Stream] = []
    for _ in range(count):
        _transport, stream = await loop.create_connection(
            lambda: _Stream(request, marker, tally), HOST, port
        )
        streams.append(stream)
    answers = await asyncio.gather(*(s.ok for s in streams))
    if not all(answers):
        raise RuntimeError(f"{answers.count(False)} dashboard streams were refused")
    ready.set()
    while not stop.is_set() and time.time() < deadline:
        await asyncio.sleep(0.05)
    ended = sum(s.closed for s in streams)  # streams the hub closed before the end
    for stream in streams:
        if stream.transport is not None:
            stream.transport.close()
    return {
        "arrivals": [{str(k): v for k, v in s.arrivals.items()} for s in streams],
        "tally": {str(k): v for k, v in tally.items()},
        "ended_early": ended,
    }


def dashboards_main(
    port: int, cookie: str, probe_id: str, count: int, ready: Any, stop: Any, deadline: float,
    out: str,
) -> None:  # fmt: skip
    _use_uvloop()
    result = asyncio.run(_dashboards(port, cookie, probe_id, count, ready, stop, deadline))
    result["cpu"] = _cpu_seconds(os.getpid())
    Path(out).write_text(json.dumps(result))


# -- the load (its own process) ---------------------------------------------------------


class _Conn:
    """A keep-alive HTTP/1.1 connection for small JSON requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def call(self, method: str, target: str, body: bytes) -> tuple[int, bytes]:
        """One request; if a kept-alive connection turns out closed (the hub closes one
        left idle for 5 s), once more on a new one, as HTTP clients and the SDK do
        (the requests here are safe to repeat)."""
        reused = self.writer is not None
        try:
            return await self._call(method, target, body)
        except (OSError, asyncio.IncompleteReadError):
            if not reused:
                raise
            return await self._call(method, target, body)

    async def _call(self, method: str, target: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        head = (
            f"{method} {target} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        try:
            self.writer.write(head + body)
            lines = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
            status = int(lines[0].split()[1])
            length = 0
            for line in lines[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            return status, await self.reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.writer.close()
            self.writer = None
            raise


async def _load(
    port: int, runs: int, ready: Any, stop: Any, deadline: float, ids_out: str | None
) -> dict[str, Any]:
    """Each run on its own keep-alive connection, paced like the SDK: one progress batch,
    then the next a second after the previous one began (at once if the hub was slower).
    With `ids_out` (--live-only), only create the runs and write their ids there."""
    conns = [_Conn(port) for _ in range(runs)]

    async def create(i: int) -> str:
        run_id = f"load{i:05d}{uuid.uuid4().hex[:16]}"
        body = {"job": f"load-{i % 50:02d}", "id": run_id, "total": 3600, "host": f"host-{i % 20}"}
        status, reply = await conns[i].call("POST", "/api/v1/runs", json.dumps(body).encode())
        if status != 201:
            raise RuntimeError(f"creating a run: {status} {reply[:200]!r}")
        return run_id

    # The jobs first, one run at a time (as jobs exist before a real day's load): 200
    # new runs of 50 new jobs created at once through several nodes make the nodes'
    # writers wait on each other's new job rows, which is not what is measured here.
    first = [await create(i) for i in range(min(runs, 50))]
    run_ids = first + await asyncio.gather(*(create(i) for i in range(len(first), runs)))
    if ids_out is not None:
        Path(ids_out).write_text(json.dumps(run_ids))
        ready.set()
        while not stop.is_set() and time.time() < deadline:
            await asyncio.sleep(0.05)
        return {"acks": {}, "latencies": [], "lag_p99": None, "sent": 0, "failed": {}}
    acks: dict[int, int] = {}  # second -> events acknowledged
    latencies: list[float] = []
    lags: list[float] = []
    failed: dict[str, int] = {}  # why -> how many
    sent = 0
    running = True

    async def watch() -> None:
        nonlocal running
        while not stop.is_set() and time.time() < deadline:
            await asyncio.sleep(0.05)
        running = False

    async def feed(i: int, start: float) -> None:
        nonlocal sent
        conn, target, due, done = conns[i], f"/api/v1/runs/{run_ids[i]}/events", start, 0
        while True:
            await asyncio.sleep(max(0.0, due - time.time()))
            if not running:
                return
            now = time.time()
            lags.append(now - due)
            done += 1
            event = {"id": f"p{done}", "type": "progress", "ts": _iso(now), "done": done,
                     "total": 3600}  # fmt: skip
            sent += 1
            try:
                status, reply = await conn.call(
                    "POST", target, json.dumps({"events": [event]}).encode()
                )
                why = f"{status} {reply[:80].decode(errors='replace')}"
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                status, why = 0, type(exc).__name__
            end = time.time()
            if status == 200:
                latencies.append(end - now)
                acks[int(end)] = acks.get(int(end), 0) + 1
            else:
                failed[why] = failed.get(why, 0) + 1
            due = max(now + 1.0, end)

    ready.set()
    start = time.time()
    watcher = asyncio.create_task(watch())
    await asyncio.wait(
        [asyncio.create_task(feed(i, start + i / runs)) for i in range(runs)], timeout=None
    )
    await watcher
    return {
        "acks": {str(k): v for k, v in acks.items()},
        "latencies": latencies,
        "lag_p99": _quantile(sorted(lags), 0.99) if lags else None,
        "sent": sent,
        "failed": failed,
    }


def load_main(
    port: int, runs: int, ready: Any, stop: Any, deadline: float, out: str, ids_out: str | None
) -> None:
    _use_uvloop()
    result = asyncio.run(_load(port, runs, ready, stop, deadline, ids_out))
    result["cpu"] = _cpu_seconds(os.getpid())
    Path(out).write_text(json.dumps(result))


# -- --live-only: the hub with its load published straight onto its bus ----------------


def _publish_synthetic(app: Any, data_dir: Path) -> None:
    """In the hub: once `synthetic.json` (run ids) appears, publish each run's summary once
    a second, spread over the second, as the writer does after a commit; stop at
    `synthetic.stop`. Views are the runs' real ones with the progress moved on."""
    from thereyet.server.domain.access import SYSTEM
    from thereyet.server.services.views import run_summary

    go, stop = data_dir / "synthetic.json", data_dir / "synthetic.stop"
    while not go.exists():
        time.sleep(0.05)
    ids = json.loads(go.read_text())
    views = [app.state.runs.get(SYSTEM, run_id) for run_id in ids]
    bus = app.state.hub.bus
    (data_dir / "synthetic.ready").touch()
    start, n = time.time(), 0
    while not stop.exists():
        now = time.time()
        while (due := start + n / len(views)) <= now:
            view = dict(views[n % len(views)])
            done = n // len(views) + 1
            view["progress"] = {**view["progress"], "done": done,
                                "percent": round(100 * done / 3600, 2)}  # fmt: skip
            view["progress_at"] = _iso(due)
            bus.publish(f"run:{view['id']}", view)
            bus.publish("runs", run_summary(view))
            n += 1
        time.sleep(0.005)


def serve_live_only(port: int, data_dir: Path) -> None:
    """`thereyet server`, plus the synthetic publisher thread (for --live-only)."""
    import uvicorn

    from thereyet.server.app import create_app
    from thereyet.server.config import settings_from_env

    settings = settings_from_env().with_overrides(data_dir=data_dir, host=HOST, port=port)
    app = create_app(settings)
    threading.Thread(target=_publish_synthetic, args=(app, data_dir), daemon=True).start()
    uvicorn.run(app, host=HOST, port=port, log_level="warning", timeout_graceful_shutdown=5)


@contextlib.contextmanager
def live_only_hub(data_dir: Path) -> Iterator[Hub]:
    """Like _hub.running_hub, but the hub is serve_live_only()."""
    port = free_port()
    env = {**os.environ, "THEREYET_ADMIN_TOKEN": ADMIN_TOKEN, "THEREYET_NODE": "bench"}
    command = [sys.executable, __file__, "--serve", str(port), str(data_dir)]
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "hub.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    hub = Hub(process, port, log)
    try:
        wait_answering(process, port, log)
        yield hub
    finally:
        (data_dir / "synthetic.stop").touch()
        hub.stop()


# -- the probe (this process, through the SDK) ------------------------------------------


@dataclass
class Probe:
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    t0: dict[float, float] = field(default_factory=dict)  # done -> time of run.progress()
    posted: dict[float, float] = field(default_factory=dict)  # done -> SDK's POST began
    acked: dict[float, float] = field(default_factory=dict)  # done -> hub answered
    failures: list[str] = field(default_factory=list)  # SDK requests that failed (retried)
    stop: threading.Event = field(default_factory=threading.Event)
    started: threading.Event = field(default_factory=threading.Event)


def _watch_sdk_posts(probe: Probe) -> None:
    """Note when the SDK's sender posts each progress value (to split the latency)."""
    from thereyet.client import state

    sender = state.sender()
    assert sender is not None
    call = sender.transport.call

    def timed(method: str, target: str, body: Any = None, **kw: Any) -> Any:
        began = time.time()
        try:
            result = call(method, target, body, **kw)
        except Exception as exc:
            probe.failures.append(f"{target.split('?')[0]}: {exc}"[:120])
            raise
        answered = time.time()
        for event in (body or {}).get("events", []) if isinstance(body, dict) else []:
            if event.get("type") == "progress":
                probe.posted.setdefault(float(event["done"]), began)
                probe.acked.setdefault(float(event["done"]), answered)
        return result

    sender.transport.call = timed  # type: ignore[method-assign]


def probe_main(
    probe: Probe, port: int, interval: float, send_interval: float | None, spool: str
) -> None:
    """Report the probe run through the SDK; send_interval None: the SDK's own pacing."""
    import thereyet
    from thereyet.client import state

    pacing = {} if send_interval is None else {"progress_interval": 0.0}
    thereyet.configure(
        url=f"http://{HOST}:{port}",
        token=ADMIN_TOKEN,
        send_interval=send_interval,  # None keeps the default
        spool_dir=spool,
        **pacing,
    )
    _watch_sdk_posts(probe)
    with thereyet.run("live-probe", id=probe.run_id, total=1_000_000) as run:
        probe.started.set()
        done, next_at = 0, time.time() + interval
        while not probe.stop.is_set():
            time.sleep(max(0.0, next_at - time.time()))
            next_at += interval
            done += 1
            probe.t0[float(done)] = time.time()
            run.progress(done)
    state.reset()  # deliver the finish


# -- results ----------------------------------------------------------------------------


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Phase:
    name: str
    start: float
    end: float
    hub_cpu: float | None = None
    latencies: list[float] = field(default_factory=list)  # seconds, every (update, stream)
    missing: int = 0  # (update, stream) pairs never seen
    sdk_wait: list[float] = field(default_factory=list)  # progress() -> SDK's POST
    ingest: list[float] = field(default_factory=list)  # SDK's POST -> hub's answer
    after_post: list[float] = field(default_factory=list)  # SDK's POST -> dashboard event

    def q(self, q: float) -> float:
        return _quantile(sorted(self.latencies), q)

    @property
    def seconds(self) -> float:
        return self.end - self.start


def _collect(phase: Phase, probe: Probe, arrivals: list[dict[str, float]]) -> None:
    """Latency of each probe update sent in the phase, on each stream."""
    updates = sorted(d for d, t in probe.t0.items() if phase.start <= t < phase.end)
    for seen in arrivals:
        # First arrival of `done` or of a later value (which supersedes it).
        first, best = [], math.inf
        for done in sorted((float(d) for d in seen), reverse=True):
            best = min(best, seen[str(done)])
            first.append((done, best))
        first.reverse()
        i = 0
        for done in updates:
            while i < len(first) and first[i][0] < done:
                i += 1
            if i == len(first):
                phase.missing += 1
            else:
                phase.latencies.append(first[i][1] - probe.t0[done])
                if done in probe.posted:
                    phase.after_post.append(first[i][1] - probe.posted[done])
    for done in updates:
        if done in probe.posted:
            phase.sdk_wait.append(probe.posted[done] - probe.t0[done])
            phase.ingest.append(probe.acked[done] - probe.posted[done])


def _per_second(
    tally: dict[str, Any], start: float, end: float, pick: Callable[[Any], int]
) -> float:
    whole = [int(k) for k in tally if start <= int(k) and int(k) + 1 <= end]
    return sum(pick(tally[str(k)]) for k in whole) / len(whole) if whole else 0.0


def _ms(x: float) -> str:
    return f"{1000 * x:.0f} ms"


def _row(phase: Phase) -> str:
    if not phase.latencies:
        return f"| {phase.name} | no samples | | | | |"
    cells = [_ms(phase.q(q)) for q in (0.50, 0.90, 0.99)] + [_ms(max(phase.latencies))]
    return f"| {phase.name} | " + " | ".join(cells) + f" | {len(phase.latencies):,} |"


def report(args: argparse.Namespace, phases: list[Phase], extra: dict[str, Any]) -> bool:
    idle, loaded = phases
    print()
    print(f"machine: {os.cpu_count()} CPUs, {platform.python_implementation()} "
          f"{platform.python_version()}, load average {extra['loadavg']}")  # fmt: skip
    pacing = (
        "SDK defaults" if args.sdk_defaults else f"SDK send_interval {args.probe_send_interval}s"
    )
    backend = "PostgreSQL (scratch database)" if args.db else "SQLite (synchronous=FULL)"
    if args.nodes:
        backend += f", {args.nodes} node(s) behind nginx"
    print(f"runs {args.runs} x 1 update/s, dashboards {args.dashboards}, "
          f"probe every {args.probe_interval}s ({pacing}), phases {args.seconds:.0f}s each, "
          f"hub on {backend}")  # fmt: skip
    print()
    print("| SDK progress() -> dashboard event | p50 | p90 | p99 | max | samples |")
    print("| --- | --- | --- | --- | --- | --- |")
    for phase in phases:
        print(_row(phase))
    ok = bool(loaded.latencies) and loaded.q(0.99) <= TARGET_P99 and loaded.missing == 0
    if idle.latencies and loaded.latencies:
        print(f"| loaded / idle | {loaded.q(0.5) / idle.q(0.5):.2f} | "
              f"{loaded.q(0.9) / idle.q(0.9):.2f} | {loaded.q(0.99) / idle.q(0.99):.2f} | "
              f"{max(loaded.latencies) / max(idle.latencies):.2f} | |")  # fmt: skip
    print()
    for phase in phases:
        sdk = sorted(phase.sdk_wait)
        ingest = sorted(phase.ingest)
        after = sorted(phase.after_post)
        hub_cpu = "n/a" if phase.hub_cpu is None else f"{100 * phase.hub_cpu / phase.seconds:.0f}%"
        tally = extra["tally"]
        per_client = args.dashboards
        frames = _per_second(tally, phase.start, phase.end, lambda v: v[1]) / per_client
        updates = _per_second(tally, phase.start, phase.end, lambda v: v[2]) / per_client
        nbytes = _per_second(tally, phase.start, phase.end, lambda v: v[0]) / per_client
        print(f"{phase.name}: hub CPU {hub_cpu} of one core; per dashboard {frames:.1f} frames/s, "
              f"{updates:,.0f} run updates/s, {nbytes / 1000:,.1f} kB/s; "
              f"missing deliveries {phase.missing}")  # fmt: skip
        if sdk:
            print(f"  probe: progress() -> SDK POST p50 {_ms(_quantile(sdk, 0.5))} "
                  f"p99 {_ms(_quantile(sdk, 0.99))}; POST -> hub answer p50 "
                  f"{_ms(_quantile(ingest, 0.5))} p99 {_ms(_quantile(ingest, 0.99))}; "
                  f"POST -> dashboard event p50 {_ms(_quantile(after, 0.5))} "
                  f"p99 {_ms(_quantile(after, 0.99))}")  # fmt: skip
    load = extra["load"]
    if args.live_only:
        print(f"live only: the {args.runs} runs' updates were published on the hub's bus by a "
              "thread in the hub (no HTTP, no database); the probe went through the SDK")  # fmt: skip
    elif load:
        acks = _per_second(load["acks"], loaded.start, loaded.end, lambda v: v)
        lat = sorted(load["latencies"])
        print(f"load: {acks:,.0f} progress events/s acknowledged (target {args.runs}/s), "
              f"POST p50 {_ms(_quantile(lat, 0.5))} p99 {_ms(_quantile(lat, 0.99))}, "
              f"failed {sum(load['failed'].values())} {load['failed'] or ''}, schedule lag p99 {_ms(load['lag_p99'] or 0)}")  # fmt: skip
    if extra["sdk_failures"]:
        print(f"the probe's SDK retried {len(extra['sdk_failures'])} failed requests (the split "
              f"above then mixes attempts): {extra['sdk_failures'][:3]}")  # fmt: skip
    print(f"dashboard streams ended by the hub: {extra['ended_early']}; client CPU: "
          f"dashboards {extra['sse_cpu']}, load {extra['load_cpu']}")  # fmt: skip
    for i, counts in enumerate(extra["bridge"]):
        payloads = max(counts["payloads"], 1)
        print(f"node {i} bus bridge (whole run): sent {counts['sent']:,} messages in "
              f"{counts['payloads']:,} NOTIFY payloads ({counts['sent'] / payloads:.1f} a "
              f"payload, {counts['bytes'] / payloads:,.0f} bytes a payload, "
              f"{counts['bytes'] / 1e6:.1f} MB), received {counts['received']:,}, "
              f"dropped {counts['dropped']}")  # fmt: skip
    verdict = "meets" if ok else "MISSES"
    print(f"\nloaded p99 {_ms(loaded.q(0.99)) if loaded.latencies else 'n/a'}: {verdict} "
          f"the target of <= {_ms(TARGET_P99)}")  # fmt: skip
    return ok


# -- the run ------------------------------------------------------------------------------


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    p.add_argument("--runs", type=int, default=1000, help="running runs, 1 update/s each")
    p.add_argument("--dashboards", type=int, default=200, help="connected SSE streams")
    p.add_argument("--probe-interval", type=float, default=0.2, help="seconds between updates")
    p.add_argument("--probe-send-interval", type=float, default=0.01, help="the SDK's poll")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds before each phase")
    p.add_argument(
        "--sdk-defaults",
        action="store_true",
        help="the probe's SDK keeps its own pacing (progress at most once a second, "
        "sent by a thread that looks every 0.5 s)",
    )
    p.add_argument(
        "--live-only",
        action="store_true",
        help="diagnostic: the load's updates are published on the hub's bus, skipping HTTP "
        "and the database, to measure the live path alone",
    )
    p.add_argument("--db", help="a PostgreSQL URL; the hub uses a scratch database on its server")
    p.add_argument(
        "--nodes", type=int, default=0, help="N nodes behind nginx (with --db), against 1"
    )
    p.add_argument("--result-json", help=argparse.SUPPRESS)
    p.add_argument("--serve", nargs=2, metavar=("PORT", "DATA_DIR"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _cpu_all(pids: list[int]) -> float | None:
    found = [_cpu_seconds(pid) for pid in pids]
    return None if None in found else sum(x for x in found if x is not None)


def _cpu_delta(pids: list[int], before: float | None) -> float | None:
    after = _cpu_all(pids)
    return None if before is None or after is None else after - before


def _wait(ready: Any, proc: Any, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not ready.wait(0.2):
        if not proc.is_alive() or time.time() > deadline:
            raise RuntimeError(f"{what} (exit code {proc.exitcode})")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.nodes and not args.db:
        raise SystemExit("--nodes needs --db (several nodes share one PostgreSQL database)")
    if args.nodes > 1 and not args.result_json:
        return compare_nodes(args, sys.argv[1:] if argv is None else argv)
    if args.serve:
        serve_live_only(int(args.serve[0]), Path(args.serve[1]))
        return 0
    ctx = multiprocessing.get_context("spawn")
    loadavg = " ".join(f"{x:.1f}" for x in os.getloadavg())
    budget = 4 * args.warmup + 2 * args.seconds + 120
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="thereyet-bench-"))
        if args.live_only:
            hub = stack.enter_context(live_only_hub(Path(tmp) / "hub"))
        else:
            db = stack.enter_context(scratch_pg_database(args.db)) if args.db else None
            if db and args.nodes:
                nodes = stack.enter_context(running_nodes(Path(tmp) / "hub", db, args.nodes))
                hub, pids = nodes.front, nodes.pids
            else:
                hub = stack.enter_context(running_hub(Path(tmp) / "hub", db))
        deadline = time.time() + budget
        if not args.nodes:
            pids = [hub.process.pid]
        cookie = sign_in(hub)
        probe = Probe()
        sse_ready, sse_stop = ctx.Event(), ctx.Event()
        sse_out = str(Path(tmp) / "dashboards.json")
        sse = ctx.Process(
            target=dashboards_main,
            args=(hub.port, cookie, probe.run_id, args.dashboards, sse_ready, sse_stop,
                  deadline, sse_out),
        )  # fmt: skip
        sse.start()
        load_ready, load_stop = ctx.Event(), ctx.Event()
        load_out = str(Path(tmp) / "load.json")
        ids_out = str(Path(tmp) / "ids.json") if args.live_only else None
        load = ctx.Process(
            target=load_main,
            args=(hub.port, args.runs, load_ready, load_stop, deadline, load_out, ids_out),
        )
        prober = threading.Thread(
            target=probe_main,
            args=(probe, hub.port, args.probe_interval,
                  None if args.sdk_defaults else args.probe_send_interval,
                  str(Path(tmp) / "spool")),
            daemon=True,
        )  # fmt: skip
        try:
            _wait(sse_ready, sse, 60, "the dashboards did not connect")
            print(f"{args.dashboards} dashboards connected; probe run {probe.run_id}")
            prober.start()
            if not probe.started.wait(30):
                raise RuntimeError("the probe run did not start")
            time.sleep(args.warmup)

            idle = Phase("idle hub (probe only)", time.time(), 0.0)
            cpu = _cpu_all(pids)
            time.sleep(args.seconds)
            idle.end, idle.hub_cpu = time.time(), _cpu_delta(pids, cpu)
            print(f"idle phase done; starting the load: {args.runs} runs", flush=True)

            load.start()
            _wait(load_ready, load, 120, "the load did not create its runs")
            if ids_out is not None:  # the hub publishes the updates itself
                (Path(tmp) / "hub" / "synthetic.json").write_text(Path(ids_out).read_text())
                while not (Path(tmp) / "hub" / "synthetic.ready").exists():
                    if time.time() > deadline:
                        raise RuntimeError("the hub did not start publishing")
                    time.sleep(0.05)
            time.sleep(args.warmup)
            name = f"{args.runs} runs x 1/s" + (" (live only)" if args.live_only else "")
            loaded = Phase(name, time.time(), 0.0)
            print(f"loaded phase: {args.seconds:.0f} s (hub pids {pids})", flush=True)
            cpu = _cpu_all(pids)
            time.sleep(args.seconds)
            loaded.end, loaded.hub_cpu = time.time(), _cpu_delta(pids, cpu)
            if args.nodes:
                bridge = [_bus_counts(h) for h in nodes.hubs]
        finally:
            load_stop.set()
            probe.stop.set()
            if prober.is_alive():
                prober.join(15)
            time.sleep(1.0)  # the last updates reach the dashboards
            sse_stop.set()
            for proc in (load, sse):
                if proc.pid is not None:
                    proc.join(30)
                    if proc.is_alive():
                        proc.terminate()
                        proc.join()
        dashboards = json.loads(Path(sse_out).read_text())
        load_result = json.loads(Path(load_out).read_text()) if Path(load_out).exists() else None
    phases = [idle, loaded]
    for phase in phases:
        _collect(phase, probe, dashboards["arrivals"])
    extra = {
        "loadavg": f"{loadavg} at start, "
        + " ".join(f"{x:.1f}" for x in os.getloadavg())
        + " at end",
        "tally": dashboards["tally"],
        "load": load_result,
        "ended_early": dashboards["ended_early"],
        "sdk_failures": probe.failures,
        "sse_cpu": f"{dashboards['cpu']:.1f} s",
        "load_cpu": f"{load_result['cpu']:.1f} s" if load_result else "n/a",
        "bridge": bridge if args.nodes else [],
    }
    ok = report(args, phases, extra)
    if args.result_json:
        figures = {p.name: p.q(0.99) if p.latencies else None for p in phases}
        Path(args.result_json).write_text(json.dumps({"p99": list(figures.values())}))
    return 0 if ok else 1


def _bus_counts(hub: Hub) -> dict[str, int]:
    """What a node's bus bridge sent and received so far (from its health answer)."""
    counts: dict[str, int] = hub.call("GET", "/api/v1/health")["bus_counts"]
    return counts


def compare_nodes(args: argparse.Namespace, argv: list[str]) -> int:
    """1 node, then args.nodes nodes, behind the same nginx, each in its own process."""
    rest, skip = [], False
    for arg in argv:  # the same arguments, less --nodes
        if skip or arg.startswith("--nodes="):
            skip = False
        elif arg == "--nodes":
            skip = True
        else:
            rest.append(arg)
    figures = []
    code = 0
    with tempfile.TemporaryDirectory(prefix="thereyet-bench-") as tmp:
        for count in (1, args.nodes):
            out = str(Path(tmp) / f"{count}.json")
            print(f"\n=== {count} node(s) behind nginx ===", flush=True)
            command = [sys.executable, __file__, *rest, "--nodes", str(count), "--result-json", out]
            code |= subprocess.run(command, check=False).returncode
            figures.append(json.loads(Path(out).read_text())["p99"])
    (idle1, loaded1), (idle_n, loaded_n) = figures
    print(f"\n| loaded p99 | 1 node | {args.nodes} nodes | ratio |")
    print("| --- | --- | --- | --- |")
    print(f"| idle | {_ms(idle1)} | {_ms(idle_n)} | {idle_n / idle1:.2f} |")
    print(f"| {args.runs} runs x 1/s, {args.dashboards} dashboards | {_ms(loaded1)} | "
          f"{_ms(loaded_n)} | {loaded_n / loaded1:.2f} |")  # fmt: skip
    return code


if __name__ == "__main__":
    sys.exit(main())
