"""Every page, as a phone and as a desktop, light and dark: no sideways scroll, no
console errors, no CSP refusals, no serious or critical axe-core violations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web.conftest import WebHub, add_user, running_web_hub
from tests.web.pagecheck import assert_page_ok, signed_in_state
from tests.web.sample_hub import Sample, fill

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def busy_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebHub, Sample]]:
    """One hub for the module, filled with a morning's work (tests/web/sample_hub.py)."""
    with running_web_hub(tmp_path_factory.mktemp("busy")) as hub:
        add_user(hub.api, "vic", "viewer")
        yield hub, fill(hub.api)


@pytest.fixture(scope="module")
def admin_state(browser, busy_hub):
    return signed_in_state(browser, busy_hub[0].url, "boss")


PAGES = [
    "dashboard",
    "running run",
    "percent-only run",
    "failed run",
    "job",
    "rooms",
    "room with a file",
    "room with routine",
    "search",
    "shares",
    "incidents",
    "channels",
]


@pytest.mark.parametrize("which", range(len(PAGES)), ids=PAGES)
def test_every_signed_in_page_reads_well_on_a_phone_and_a_desktop_light_and_dark(
    browser, busy_hub, admin_state, which
):
    hub, sample = busy_hub
    assert_page_ok(browser, hub.url, sample.paths[which], state=admin_state)


def test_a_share_link_page_reads_well_without_an_account(browser, busy_hub):
    hub, sample = busy_hub
    assert_page_ok(browser, hub.url, sample.share_path, ready="#active li.run")


def test_the_login_page_reads_well(browser, busy_hub):
    assert_page_ok(browser, busy_hub[0].url, "/login")


def test_a_missing_page_reads_well_and_keeps_the_navigation(browser, busy_hub, admin_state):
    hub, _sample = busy_hub
    assert_page_ok(
        browser, hub.url, "/rooms/no-such-room", state=admin_state, allow=["404 (Not Found)"]
    )


def test_a_forbidden_page_reads_well_for_a_viewer(browser, busy_hub):
    hub, _sample = busy_hub
    state = signed_in_state(browser, hub.url, "vic")
    assert_page_ok(browser, hub.url, "/shares", state=state, allow=["403 (Forbidden)"])


def test_a_fresh_hub_dashboard_teaches_and_reads_well(browser, web_hub):
    state = signed_in_state(browser, web_hub.url, "boss")
    assert_page_ok(browser, web_hub.url, "/", state=state)
