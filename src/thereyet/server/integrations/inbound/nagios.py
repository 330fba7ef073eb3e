"""Nagios / Icinga notifications, sent by a notification command with curl.

A command definition (one line; the token is the integration's):

    define command {
      command_name notify-thereyet
      command_line /usr/bin/curl -fsS --max-time 10 https://hub.example/hooks/nagios/TOKEN \\
        --data-urlencode "type=$NOTIFICATIONTYPE$" --data-urlencode "host=$HOSTNAME$" \\
        --data-urlencode "service=$SERVICEDESC$" --data-urlencode "state=$SERVICESTATE$" \\
        --data-urlencode "output=$SERVICEOUTPUT$"
    }

For host notifications leave out `service` and send `state=$HOSTSTATE$`.
The same fields as JSON work too. A problem and its recovery share the thread
`nagios:<host>/<service>`.
"""

from __future__ import annotations

from .common import BadPayload, Headers, Parsed, Post, read_fields, short

STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN", "UP", "DOWN", "UNREACHABLE")
_MARK = {"OK": "✓", "UP": "✓", "WARNING": "⚠", "UNKNOWN": "?"}


def verify(headers: Headers, body: bytes, secret: str | None) -> None:
    """The token in the URL is the credential."""


def parse(headers: Headers, body: bytes) -> Parsed:
    data = read_fields(headers, body)
    host = str(data.get("host") or "").strip()
    if not host:
        raise BadPayload("host is missing", "host")
    state = str(data.get("state") or "").strip().upper()
    if state not in STATES:
        raise BadPayload(f"state must be one of {', '.join(STATES)}", "state")
    service = str(data.get("service") or "").strip()
    kind = str(data.get("type") or ("RECOVERY" if state in ("OK", "UP") else "PROBLEM")).upper()
    output = short(str(data.get("output") or ""), 500)
    what = f"{service} on {host}" if service else host
    mark = _MARK.get(state, "✗")
    text = f"{mark} {kind.lower()}: {what} is {state}" + (f": {output}" if output else "")
    thread = f"nagios:{host}/{service}"[:200]
    return Parsed([Post(text, thread, {"state": state.lower(), "type": kind.lower()})])
