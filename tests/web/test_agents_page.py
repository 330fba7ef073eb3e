"""The agents page on a phone-sized Chromium: a real agent, its running run, the queue,
Cancel stopping the process on the agent, and an admin removing the agent."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.agents.harness import AgentProcess
from tests.servers import wait_for
from tests.web.conftest import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect.set_options(timeout=15_000)
POLITE = 'echo begin; trap "echo got term; exit 3" TERM; sleep 60 & wait'


def _job(web_hub, name: str, **target) -> None:
    body = {"target": {"kind": "agent", "command": ["sh", "-c", POLITE], **target}, "room": "ops"}
    assert web_hub.api.put(f"/api/v1/jobs/{name}/schedule", json=body).status_code == 200


def _start(web_hub, job: str) -> str:
    web_hub.api.post("/api/v1/rooms/ops/messages", json={"text": f"!run {job}"})
    runs = wait_for(lambda: web_hub.api.get(f"/api/v1/runs?job={job}").json()["runs"], 20)
    return str(runs[0]["id"])


def test_the_agents_page_shows_agents_and_the_queue_and_cancel_stops_the_process(
    browser, web_hub, tmp_path
):
    token = web_hub.api.post("/api/v1/tokens", json={"name": "a", "scope": "agent"}).json()
    agent = AgentProcess("db-2", web_hub.url, token["token"], tmp_path, ["--tags", "db"]).start()
    context = browser.new_context(
        base_url=web_hub.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        wait_for(lambda: web_hub.api.get("/api/v1/agents").json()["agents"], 30, what="agent")
        _job(web_hub, "vacuum", tags=["db"])
        _job(web_hub, "gpu-train", tags=["gpu"])
        running = _start(web_hub, "vacuum")
        queued = _start(web_hub, "gpu-train")
        wait_for(lambda: web_hub.api.get(f"/api/v1/runs/{running}").json()["log_tail"], 20)
        page = context.new_page()
        browser_sign_in(page, "ana")
        page.click("#menu summary")
        page.click("#menu a:has-text('Agents')")
        row = page.locator("#agent-db-2")
        expect(row).to_contain_text("online")
        expect(row).to_contain_text("1/1")
        expect(row.locator(f"a[href='/runs/{running}']")).to_have_text("vacuum")
        expect(page.locator(f"#queued-{queued}")).to_contain_text("no agent matches tags gpu")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"/agents scrolls sideways by {overflow}px"
        row.locator("button:has-text('Cancel')").click()
        page.wait_for_url("**/agents")
        run = wait_for(
            lambda: (
                (r := web_hub.api.get(f"/api/v1/runs/{running}").json())["status"] == "cancelled"
                and r
            ),
            20,
            what="the run cancelled",
        )
        assert (run["exit_code"], run["log_tail"]) == (3, ["begin", "got term"])

        def idle() -> bool:
            page.reload()
            return "idle" in page.locator("#agent-db-2").inner_text()

        wait_for(idle, 20, every=0.5, what="the agent idle again on the page")
        page.click("#agent-db-2 a:has-text('db-2')")  # its past runs
        expect(page.locator("#finished")).to_contain_text("vacuum")
        page.goto("/?host=elsewhere")
        expect(page.locator("#finished")).not_to_contain_text("vacuum")
        page.goto("/agents")
        expect(page.locator("#agent-db-2")).to_contain_text("idle")
        expect(page.locator("#agent-db-2 button:has-text('Remove')")).to_have_count(0)  # operator
        agent.stop()  # else it registers again, its name being free once removed
        context.clear_cookies()
        browser_sign_in(page, "boss")
        page.goto("/agents")
        page.click("#agent-db-2 button:has-text('Remove')")
        page.wait_for_url("**/agents")
        expect(page.locator("#agent-db-2")).to_have_count(0)
        assert web_hub.api.get("/api/v1/agents").json()["agents"] == []
    finally:
        context.close()
        agent.stop()
