"""Write the gallery of every page (phone and desktop) to docs/screenshots/.

A hub on a free port is filled with a morning's work (tests/web/sample_hub.py) and
Debian's Chromium photographs each page, as a 390x844 phone and a 1280x800 desktop,
plus a few in the dark scheme: PNG of the screen only (not the whole page), about
1.5-3 MB in all.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.web.conftest import CHROMIUM, CHROMIUM_FLAGS, running_web_hub  # noqa: E402
from tests.web.pagecheck import VIEWPORTS, signed_in_state  # noqa: E402
from tests.web.sample_hub import fill  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
DARK = ("dashboard", "run", "room")


def shots(sample_paths: list[str], share: str) -> dict[str, str]:
    names = [
        "dashboard",
        "run",
        "run-percent",
        "run-failed",
        "job",
        "rooms",
        "room",
        "room-routine",
        "search",
        "shares",
        "incidents",
        "channels",
    ]
    found = dict(zip(names, sample_paths, strict=True))
    return {
        **found,
        "menu": "/",
        "share": share,
        "not-found": "/rooms/no-such-room",
        "login": "/login",
    }


def photograph(browser, url: str, state, name: str, path: str, screen: str, scheme: str) -> Path:
    context = browser.new_context(
        base_url=url,
        color_scheme=scheme,
        storage_state=None if name in ("login", "share") else state,
        **VIEWPORTS[screen],
    )
    page = context.new_page()
    page.goto(path, wait_until="load")
    if name == "menu":
        page.click("#menu summary")
    page.wait_for_timeout(300)
    suffix = "-dark" if scheme == "dark" else ""
    target = OUT / f"{name}-{screen}{suffix}.png"
    page.screenshot(path=str(target), type="png")
    context.close()
    return target


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data, running_web_hub(Path(data)) as hub:
        url = hub.url
        sample = fill(hub.api)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            state = signed_in_state(browser, url, "boss")
            made = []
            for name, path in shots(sample.paths, sample.share_path).items():
                for screen in VIEWPORTS:
                    made.append(photograph(browser, url, state, name, path, screen, "light"))
                if name in DARK:
                    made.append(photograph(browser, url, state, name, path, "phone", "dark"))
            browser.close()
    total = sum(p.stat().st_size for p in made)
    print(f"wrote {len(made)} screenshots to {OUT} ({total / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
