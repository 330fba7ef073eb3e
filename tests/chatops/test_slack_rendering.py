"""Slack-compatible messages are shown as Slack shows them: mrkdwn, the colour bar,
title and link, fields as a grid, Block Kit blocks, mentions and emoji.

Inputs are the examples of Slack's own formatting and Block Kit documentation and
payloads shaped as Alertmanager's slack_configs, Grafana's and GitLab's Slack
notifications send them; the end-to-end test posts with Slack's own `slack_sdk`."""

from __future__ import annotations

import re

import httpx
import pytest
from slack_sdk.webhook import WebhookClient

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.servers import serve
from thereyet.server.app import create_app
from thereyet.server.integrations.inbound.slack_card import card_html, card_of
from thereyet.server.integrations.inbound.slack_mrkdwn import to_html, to_markdown


@pytest.mark.parametrize(
    ("mrkdwn", "html"),
    [  # Slack: "Formatting text for app surfaces"
        ("*bold*", "<strong>bold</strong>"),
        ("_italic_", "<em>italic</em>"),
        ("~strike~", "<del>strike</del>"),
        ("`code`", "<code>code</code>"),
        ("```multi\nline *code*```", "<pre><code>multi\nline *code*</code></pre>"),
        ("&gt; quoted\n&gt; twice", "<blockquote>quoted<br>twice</blockquote>"),
        (
            "<https://example.com|This message *is* a link>",
            '<a href="https://example.com" rel="nofollow noopener noreferrer">'
            "This message *is* a link</a>",
        ),
        ("<@U024BE7LH>", '<span class="slack-mention">@U024BE7LH</span>'),
        ("<#C024BE7LR|general>", '<span class="slack-mention">#general</span>'),
        (
            "<!here> <!channel>",
            '<span class="slack-mention">@here</span> <span class="slack-mention">@channel</span>',
        ),
        ("<!subteam^SAZ94GDB8|@ops-team>", '<span class="slack-mention">@ops-team</span>'),
        (
            "<!date^1392734382^{date_short}|Feb 18, 2014>",
            '<span class="slack-text">Feb 18, 2014</span>',
        ),
        (":white_check_mark: done :tada:", "✅ done 🎉"),
        (":not_an_emoji_name:", ":not_an_emoji_name:"),
        ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
        ("a &lt;b&gt; &amp; c", "a &lt;b&gt; &amp; c"),
        (
            "*<https://x.io|bold link>*",
            '<strong><a href="https://x.io" rel="nofollow noopener '
            'noreferrer">bold link</a></strong>',
        ),
    ],
)
def test_mrkdwn_is_shown_as_slack_shows_it(mrkdwn, html):
    assert to_html(mrkdwn) == html


@pytest.mark.parametrize(
    "hostile",
    [
        "<javascript:alert(1)|click>",
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        '*<https://x.io" onmouseover="alert(1)|x>*',
    ],
)
def test_nothing_a_sender_writes_becomes_markup_that_runs(hostile):
    shown = to_html(hostile)
    assert "<script" not in shown and "<img" not in shown and "javascript:" not in shown
    assert not re.search(r'<a [^>]*" onmouseover', shown)  # inside the href, escaped


def test_mrkdwn_becomes_markdown_for_the_messages_text():
    assert to_markdown("*Deploy* _prod_ ~old~ <https://ci.local/1|#1> <@U1> :rocket:") == (
        "**Deploy** *prod* ~~old~~ [#1](https://ci.local/1) @U1 🚀"
    )


BLOCK_KIT = {  # Slack's Block Kit reference: header, section with fields, context, divider, image
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Budget Performance :chart:"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "A message *with some bold text* and _italics_."},
            "fields": [
                {"type": "mrkdwn", "text": "*Type:*\nComputer (laptop)"},
                {"type": "mrkdwn", "text": "*When:*\nSubmitted Aut 10"},
            ],
        },
        {"type": "divider"},
        {
            "type": "context",
            "elements": [
                {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "Ana"},
                {"type": "mrkdwn", "text": "*Ana* has approved this message."},
            ],
        },
        {
            "type": "image",
            "title": {"type": "plain_text", "text": "Please enjoy this photo of a kitten"},
            "image_url": "https://placekitten.com/500/500",
            "alt_text": "An incredibly cute kitten.",
        },
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Hello "},
                        {"type": "text", "text": "there", "style": {"bold": True}},
                        {"type": "emoji", "name": "wave"},
                        {"type": "user", "user_id": "U123"},
                    ],
                }
            ],
        },
    ]
}


def test_block_kit_blocks_are_laid_out_as_slack_lays_them_out():
    shown = card_html(card_of(BLOCK_KIT))
    assert '<div class="slack-header">Budget Performance 💹</div>' in shown
    assert "A message <strong>with some bold text</strong> and <em>italics</em>." in shown
    assert (
        '<div class="slack-fields"><div class="slack-field"><strong>Type:</strong><br>'
        'Computer (laptop)</div><div class="slack-field"><strong>When:</strong><br>'
        "Submitted Aut 10</div></div>"
    ) in shown
    assert '<hr class="slack-divider">' in shown
    assert '<div class="slack-context">Ana <strong>Ana</strong> has approved' in shown
    # Images from other sites are links, as in Markdown messages: no request leaves the page.
    assert "<img" not in shown
    assert 'href="https://placekitten.com/500/500"' in shown and "kitten</a>" in shown
    assert 'Hello <strong>there</strong>👋<span class="slack-mention">@U123</span>' in shown


ALERTMANAGER = {  # what slack_configs sends with its default templates
    "channel": "#ops",
    "username": "Alertmanager",
    "attachments": [
        {
            "title": "[FIRING:1] DiskFull (db-1 critical)",
            "title_link": "http://am.local:9093/#/alerts?receiver=hub",
            "text": "",
            "fallback": "[FIRING:1] DiskFull (db-1 critical) | http://am.local:9093/#/alerts",
            "callback_id": "",
            "footer": "",
            "color": "danger",
            "mrkdwn_in": ["fallback", "pretext", "text"],
        }
    ],
}
GRAFANA = {  # Grafana's Slack contact point (attachments style)
    "username": "Grafana",
    "icon_emoji": ":grafana:",
    "attachments": [
        {
            "color": "#D63232",
            "title": "[FIRING:1] HighCPU (web-3)",
            "title_link": "http://grafana.local/alerting/list",
            "text": "**Firing**\n\nValue: B=97.5\nLabels:\n - alertname = HighCPU\n",
            "fallback": "[FIRING:1] HighCPU (web-3)",
            "footer": "Grafana v11.1.0",
            "footer_icon": "https://grafana.com/static/assets/img/fav32.png",
            "ts": 1733472000,
            "mrkdwn_in": ["pretext"],
        }
    ],
}
GITLAB = {  # GitLab's Slack notifications integration, a pipeline event
    "text": "<http://gitlab.local/ops/app|ops/app>: Pipeline <http://gitlab.local/ops/app/-/pipelines/42|#42>"
    " of branch <http://gitlab.local/ops/app/-/commits/main|main> by Ana (ana) has failed in 02:30",
    "attachments": [
        {
            "fallback": "Pipeline #42 failed",
            "color": "danger",
            "author_name": "Ana",
            "author_link": "http://gitlab.local/ana",
            "fields": [
                {
                    "title": "Failed stage",
                    "value": "<http://gitlab.local/ops/app/-/pipelines/42|test>",
                    "short": True,
                },
                {
                    "title": "Failed job",
                    "value": "<http://gitlab.local/ops/app/-/jobs/7|rspec>",
                    "short": True,
                },
                {"title": "Commit", "value": "Fix the *flaky* spec", "short": False},
            ],
            "footer": "ops/app",
        }
    ],
}


def test_attachments_have_their_colour_bar_title_link_and_fields_grid():
    shown = card_html(card_of(ALERTMANAGER))
    assert '<div class="slack-attachment" style="border-left-color: #a30200">' in shown
    assert (
        '<div class="slack-title"><a href="http://am.local:9093/#/alerts?receiver=hub" '
        'rel="nofollow noopener noreferrer">[FIRING:1] DiskFull (db-1 critical)</a></div>'
    ) in shown
    grafana = card_html(card_of(GRAFANA))
    assert 'style="border-left-color: #D63232"' in grafana
    assert "Value: B=97.5" in grafana and "Grafana v11.1.0" in grafana
    gitlab = card_html(card_of(GITLAB))
    assert '<div class="slack-text"><a href="http://gitlab.local/ops/app" rel' in gitlab
    assert '<div class="slack-author"><a href="http://gitlab.local/ana"' in gitlab
    assert '<div class="slack-field"><strong>Failed stage</strong>' in gitlab
    assert '<div class="slack-field slack-wide"><strong>Commit</strong><div>Fix the ' in gitlab
    assert "<strong>flaky</strong>" in gitlab


def test_a_colour_that_is_not_a_colour_is_dropped():
    card = card_of({"attachments": [{"color": "red; background: url(x)", "text": "x"}]})
    assert card["attachments"][0]["color"] is None
    assert "style=" not in card_html(card)


def test_slack_sdk_posts_and_the_room_page_shows_it_as_slack_would(tmp_path, clock):
    settings = make_settings(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with serve(create_app(settings, clock)) as url:
        made = httpx.post(
            f"{url}/api/v1/integrations",
            json={"name": "gitlab-ci", "format": "slack", "room": "deploys"},
            headers=admin,
        ).json()
        hook = WebhookClient(url + made["url"])
        sent = hook.send(
            text="Deploy *finished* :white_check_mark: <!here>",
            attachments=GITLAB["attachments"],
            blocks=BLOCK_KIT["blocks"][:3],
        )
        assert (sent.status_code, sent.body) == (200, "ok")
        share = httpx.post(
            f"{url}/api/v1/shares", json={"kind": "room", "target": "deploys"}, headers=admin
        ).json()["token"]
        page = httpx.get(f"{url}/share/{share}", follow_redirects=True).text
        [message] = httpx.get(f"{url}/api/v1/rooms/deploys/messages", headers=admin).json()[
            "messages"
        ]
    assert 'Deploy <strong>finished</strong> ✅ <span class="slack-mention">@here</span>' in page
    assert 'style="border-left-color: #a30200"' in page
    assert '<div class="slack-header">Budget Performance 💹</div>' in page
    assert '<div class="slack-fields">' in page
    assert message["text"].startswith("Deploy **finished** ✅ @here")


def test_an_empty_slack_body_says_what_is_missing(tmp_path, clock):
    settings = make_settings(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with serve(create_app(settings, clock)) as url:
        made = httpx.post(
            f"{url}/api/v1/integrations",
            json={"name": "ci", "format": "slack", "room": "ci"},
            headers=admin,
        ).json()
        empty = httpx.post(url + made["url"], json={})
        # curl -d '{...}' sends JSON as a form; Slack reads it, and so does the hub.
        as_form = httpx.post(
            url + made["url"],
            content=b'{"text": "from curl"}',
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert empty.status_code == 422
    assert empty.json()["field"] == "text"
    assert 'send "text" (or "attachments" or "blocks")' in empty.json()["error"]
    assert (as_form.status_code, as_form.text) == (200, "ok")
