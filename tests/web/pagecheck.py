"""Check a page as people see it: phone and desktop, light and dark, in Debian's Chromium.

One call checks one URL four ways (390x844 phone and 1280x800 desktop, each in the
light and the dark colour scheme) and reports, for each way, what is wrong:

- the page scrolls sideways (its content is wider than the screen);
- the browser logged an error on the console, or the page threw;
- the page's Content-Security-Policy refused something (an inline style, a script...);
- axe-core found a serious or critical accessibility violation (contrast included).

Use it from any browser test with the `browser` and `web_hub` fixtures:

    from tests.web.pagecheck import assert_page_ok, signed_in_state

    def test_my_page_reads_well_everywhere(browser, web_hub):
        state = signed_in_state(browser, web_hub.url, "ana")
        assert_page_ok(browser, web_hub.url, "/my-page", state=state)

`ready` names a selector to wait for before checking (a page that draws live
content); `allow` lists console messages a test expects (a 404 page logs its 404).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tests.web.conftest import PASSWORD

VIEWPORTS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
SCHEMES = ("light", "dark")
SERIOUS = ("serious", "critical")

# Collects what the page's CSP refused; added before any page script runs.
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} refused ${e.blockedURI || "inline"}`
    + (e.sample ? ` (${e.sample})` : ""));
});
"""
_OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@dataclass(frozen=True)
class Way:
    """One way of looking at a page: a screen and a colour scheme."""

    screen: str
    scheme: str

    def __str__(self) -> str:
        return f"{self.screen}/{self.scheme}"


def ways() -> list[Way]:
    return [Way(screen, scheme) for screen in VIEWPORTS for scheme in SCHEMES]


def signed_in_state(browser: Any, base_url: str, username: str) -> dict[str, Any]:
    """The cookies of a fresh session of `username`, to open pages signed in."""
    context = browser.new_context(base_url=base_url)
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('Sign in')")
        page.wait_for_url(lambda url: not url.endswith("/login"))
        state: dict[str, Any] = context.storage_state()
        return state
    finally:
        context.close()


def _axe_problems(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    problems = []
    for violation in results.response["violations"]:
        if violation.get("impact") in SERIOUS:
            where = ", ".join(n["target"][0] for n in violation["nodes"][:3])
            problems.append(f"axe {violation['impact']}: {violation['id']} ({where})")
    return problems


def check_way(
    browser: Any,
    base_url: str,
    path: str,
    way: Way,
    *,
    state: dict[str, Any] | None = None,
    ready: str | None = None,
    allow: Iterable[str] = (),
) -> list[str]:
    """What is wrong with `path` seen one way: an empty list when nothing is."""
    context = browser.new_context(
        base_url=base_url, color_scheme=way.scheme, storage_state=state, **VIEWPORTS[way.screen]
    )
    errors: list[str] = []
    try:
        page = context.new_page()
        page.add_init_script(_WATCH_CSP)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
        page.goto(path, wait_until="load")
        if ready:
            page.wait_for_selector(ready, state="attached")
        page.wait_for_timeout(150)  # let the script's first pass (times, live rows) land
        problems = [f"console: {e}" for e in errors if not any(a in e for a in allow)]
        problems += [f"CSP: {v}" for v in page.evaluate("window.__cspViolations")]
        if (overflow := page.evaluate(_OVERFLOW)) > 0:
            problems.append(f"scrolls sideways by {overflow}px")
        problems += _axe_problems(page)
        return problems
    finally:
        context.close()


def check_page(browser: Any, base_url: str, path: str, **options: Any) -> dict[str, list[str]]:
    """`path` seen every way (phone and desktop, light and dark): the problems of each
    way that has any."""
    found = {str(way): check_way(browser, base_url, path, way, **options) for way in ways()}
    return {way: problems for way, problems in found.items() if problems}


def assert_page_ok(browser: Any, base_url: str, path: str, **options: Any) -> None:
    """Fail, listing every problem, unless `path` reads well every way."""
    found = check_page(browser, base_url, path, **options)
    report = "\n".join(f"{path} [{way}] {p}" for way, problems in found.items() for p in problems)
    assert not found, f"{path} has problems:\n{report}"
