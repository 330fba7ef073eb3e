"""Every kind of inbound integration, in one table: what it posts to (a room or a
service), the URL its sender is given, and a sender's configuration to paste.

Hook kinds (slack, github, gitlab, jenkins, nagios) post messages in a room; their
parsers are in `inbound/`. Alert sources (pagerduty, alertmanager, generic) open
and resolve incidents on a service; their endpoints are the compatible APIs.
Adding a kind is one entry in KINDS (plus its parser or endpoint).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from .inbound import FORMATS


@dataclass(frozen=True)
class Kind:
    name: str
    target: Literal["room", "service"]
    path: Callable[[str], str]  # the URL path, given the integration's token
    example: Callable[[Sender], str]  # a sender's configuration, ready to paste
    signing: str | None = None  # "hmac" or "token": the kind checks a secret besides

    def new_token(self) -> str:
        if self.target == "service":
            return secrets.token_hex(16)  # 32 characters, as PagerDuty routing keys are
        return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Sender:
    """What an example is filled with: the absolute URL, the token, a secret."""

    url: str
    token: str
    secret: str | None


def _curl(url: str, body: object) -> str:
    text = json.dumps(body, separators=(",", ":")).replace("'", "'\\''")
    return f"curl -fsS -X POST -H 'Content-Type: application/json' \\\n  -d '{text}' \\\n  {url}"


def _slack(s: Sender) -> str:
    parts = urlsplit(s.url)
    scheme = "mmosts" if parts.scheme == "https" else "mmost"
    prefix = parts.path.split("/hooks/", 1)[0]
    return (
        f"# curl (Slack's incoming-webhook format; Mattermost and Rocket.Chat senders too)\n"
        f"{_curl(s.url, {'text': 'Deploy of *web* finished :white_check_mark:'})}\n\n"
        f"# Apprise (its Mattermost scheme posts to the same hook)\n"
        f"apprise -b 'Deploy finished' '{scheme}://{parts.netloc}{prefix}/{s.token}'"
    )


def _github(s: Sender) -> str:
    return (
        "# GitHub: repository Settings > Webhooks > Add webhook\n"
        f"Payload URL:  {s.url}\n"
        "Content type: application/json\n"
        f"Secret:       {s.secret or '(the secret shown when the integration was made)'}\n"
        "Events:       workflow runs, pushes, pull requests, releases (or everything)"
    )


def _gitlab(s: Sender) -> str:
    return (
        "# GitLab: project Settings > Webhooks > Add new webhook\n"
        f"URL:          {s.url}\n"
        f"Secret token: {s.secret or '(the secret shown when the integration was made)'}\n"
        "Trigger:      pipeline events, job events, push events, merge request events"
    )


def _jenkins(s: Sender) -> str:
    return (
        "# Jenkins: Notification plugin, job > Configure > Job Notifications > Add Endpoint\n"
        "Format: JSON    Protocol: HTTP    Event: All Events\n"
        f"URL:    {s.url}"
    )


def _nagios(s: Sender) -> str:
    return (
        "define command {\n"
        "  command_name notify-thereyet\n"
        f"  command_line /usr/bin/curl -fsS --max-time 10 {s.url} \\\n"
        '    --data-urlencode "type=$NOTIFICATIONTYPE$" --data-urlencode "host=$HOSTNAME$" \\\n'
        '    --data-urlencode "service=$SERVICEDESC$" --data-urlencode "state=$SERVICESTATE$" \\\n'
        '    --data-urlencode "output=$SERVICEOUTPUT$"\n'
        "}"
    )


def _pagerduty(s: Sender) -> str:
    event = {
        "routing_key": s.token,
        "event_action": "trigger",
        "payload": {"summary": "Disk full on db-1", "source": "db-1", "severity": "critical"},
    }
    return (
        "# Alertmanager (alertmanager.yml)\n"
        "receivers:\n"
        "  - name: thereyet\n"
        "    pagerduty_configs:\n"
        f"      - url: {s.url}\n"
        f"        routing_key: {s.token}\n"
        "        send_resolved: true\n\n"
        "# Any PagerDuty Events API v2 sender: set its events URL, the token is the routing key\n"
        f"{_curl(s.url, event)}"
    )


def _alertmanager(s: Sender) -> str:
    return (
        "# Alertmanager (alertmanager.yml)\n"
        "receivers:\n"
        "  - name: thereyet\n"
        "    webhook_configs:\n"
        f"      - url: {s.url}\n"
        "        send_resolved: true"
    )


def _generic(s: Sender) -> str:
    trigger = {"action": "trigger", "key": "disk-db-1", "summary": "Disk full on db-1"}
    resolve = {"action": "resolve", "key": "disk-db-1"}
    return f"{_curl(s.url, trigger)}\n\n# and once it is over\n{_curl(s.url, resolve)}"


def _hook(name: str, example: Callable[[Sender], str]) -> Kind:
    return Kind(
        name, "room", lambda token: f"/hooks/{name}/{token}", example, FORMATS[name].signing
    )


KINDS: dict[str, Kind] = {
    "slack": _hook("slack", _slack),
    "github": _hook("github", _github),
    "gitlab": _hook("gitlab", _gitlab),
    "jenkins": _hook("jenkins", _jenkins),
    "nagios": _hook("nagios", _nagios),
    "pagerduty": Kind("pagerduty", "service", lambda token: "/v2/enqueue", _pagerduty),
    "alertmanager": Kind(
        "alertmanager", "service", lambda t: f"/api/v1/alerts/{t}/alertmanager", _alertmanager
    ),
    "generic": Kind("generic", "service", lambda t: f"/api/v1/alerts/{t}", _generic),
}
HOOK_KINDS = tuple(k for k, v in KINDS.items() if v.target == "room")
ALERT_KINDS = tuple(k for k, v in KINDS.items() if v.target == "service")
