"""The dashboard with 1,000 running runs in Chromium: first paint and first live update,
against an empty dashboard in the same run.

    python bench/dashboard_paint.py [--runs 1000] [--repeats 5] [--db URL]

Starts a real hub (`thereyet server`, SQLite in a temp dir, or --db PostgreSQL) and
Debian's Chromium (Playwright, never a downloaded browser), signed in as a viewer
at a 1280x800 desktop. Two phases against the same hub, each opening `/` afresh
--repeats times:

  empty:  no run at all (the baseline);
  full:   --runs running runs, each with progress, made through the JSON API.

For each page load it records, from the browser's own clock:

- the time the hub takes to answer `GET /` and the page's size (fetched with the
  browser's cookies, outside the page);
- first contentful paint (the Paint Timing API), and the `load` event;
- the first live update: once the page has loaded and its stream is open, a probe
  run reports progress (t0 taken just before the API call, on the wall clock the
  browser shares); the time until the probe's row shows that percent.

It prints the medians of both phases and their ratios, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _hub import HOST, Hub, running_hub, scratch_pg_database

from tests.web.conftest import CHROMIUM
from tests.web.conftest import CHROMIUM_FLAGS as FLAGS

PASSWORD = "bench password, long enough"

# Sets window.__shown: a promise of the wall-clock time (ms) at which the probe's row
# first reads `want` (set aside, not awaited, so the probe can report meanwhile).
_WAIT_FOR_TEXT = """([selector, want]) => { window.__shown = new Promise((resolve) => {
  const seen = () => {
    const el = document.querySelector(selector);
    return el && el.textContent === want;
  };
  if (seen()) { resolve(performance.timeOrigin + performance.now()); return; }
  const observer = new MutationObserver(() => {
    if (seen()) { observer.disconnect(); resolve(performance.timeOrigin + performance.now()); }
  });
  observer.observe(document.body, { subtree: true, childList: true, characterData: true });
}); }"""
_PAINT = """() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const nav = performance.getEntriesByType("navigation")[0];
  return [paint ? paint.startTime : null, nav.loadEventEnd];
}"""


def make_runs(hub: Hub, count: int) -> None:
    for n in range(count):
        run = hub.call(
            "POST", "/api/v1/runs", {"job": f"job-{n % 50}", "total": 1000, "host": f"h{n % 9}"}
        )
        event = {"id": uuid.uuid4().hex, "type": "progress", "done": (n * 7) % 1000}
        hub.call("POST", f"/api/v1/runs/{run['id']}/events", {"events": [event]})


def sign_in(page: Any) -> None:
    page.goto("/login")
    page.fill("input[name=username]", "bench")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(lambda url: not url.endswith("/login"))


def one_load(context: Any, hub: Hub, probe: str, step: int) -> dict[str, float]:
    page = context.new_page()
    try:
        began = time.perf_counter()
        answer = context.request.get(f"http://{HOST}:{hub.port}/")
        html = answer.body()
        server = (time.perf_counter() - began) * 1000
        page.goto("/", wait_until="load")
        page.wait_for_selector(f"#run-{probe}", state="attached")
        page.wait_for_timeout(500)  # the stream is open and its snapshot applied
        paint, load = page.evaluate(_PAINT)
        want = f"{step / 10:g}%"
        page.evaluate(_WAIT_FOR_TEXT, [f"#run-{probe} [data-f=percent]", want])
        t0 = time.time() * 1000
        event = {"id": uuid.uuid4().hex, "type": "progress", "done": step}
        hub.call("POST", f"/api/v1/runs/{probe}/events", {"events": [event]})
        shown = page.evaluate("window.__shown")
        return {
            "server": server,
            "kb": len(html) / 1000,
            "paint": paint,
            "load": load,
            "live": shown - t0,
        }
    finally:
        page.close()


def phase(browser: Any, hub: Hub, repeats: int, first_step: int) -> dict[str, float]:
    probe = hub.call("POST", "/api/v1/runs", {"job": "probe", "total": 1000})["id"]
    context = browser.new_context(
        base_url=f"http://{HOST}:{hub.port}", viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(60_000)
    sign_in(context.new_page())
    samples = [one_load(context, hub, probe, first_step + n) for n in range(repeats)]
    context.close()
    hub.call("POST", f"/api/v1/runs/{probe}/finish", {"status": "succeeded"})
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def measure(hub: Hub, args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    hub.call("POST", "/api/v1/users", {"username": "bench", "password": PASSWORD, "role": "viewer"})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        empty = phase(browser, hub, args.repeats, 11)
        began = time.monotonic()
        make_runs(hub, args.runs)
        print(f"made {args.runs} running runs in {time.monotonic() - began:.1f} s")
        full = phase(browser, hub, args.repeats, 31)
        browser.close()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load}; medians of {args.repeats} page loads each")
    print(f"{'':28}{'empty':>10}{f'{args.runs} runs':>12}{'ratio':>8}")
    names = {
        "server": "GET / answered (ms)",
        "kb": "page size (kB)",
        "paint": "first contentful paint (ms)",
        "load": "load event (ms)",
        "live": "first live update (ms)",
    }
    for key, name in names.items():
        print(f"{name:28}{empty[key]:>10.0f}{full[key]:>12.0f}{full[key] / empty[key]:>8.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--db", help="a PostgreSQL URL (a scratch database is made on it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db:
            with scratch_pg_database(args.db) as db, running_hub(Path(tmp), db) as hub:
                measure(hub, args)
        else:
            with running_hub(Path(tmp)) as hub:
                measure(hub, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
