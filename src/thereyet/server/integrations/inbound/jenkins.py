"""Jenkins Notification plugin payloads (JSON, "all phases" and "with log" both fine).

A build is a run of the job `jenkins-<job>`: QUEUED creates it queued, STARTED
starts it (or creates it running when no QUEUED came), COMPLETED finishes it as
succeeded, failed or cancelled (FINALIZED too, if COMPLETED was missed). One
thread per build: `jenkins:<job>#<number>`.
"""

from __future__ import annotations

import re

from .common import BadPayload, BuildRun, Headers, Parsed, Post, read_json_or_form, text_at

_OUTCOME = {
    "SUCCESS": "succeeded",
    "FAILURE": "failed",
    "UNSTABLE": "failed",
    "ABORTED": "cancelled",
    "NOT_BUILT": "cancelled",
}
_PHASES = ("QUEUED", "STARTED", "COMPLETED", "FINALIZED")


def verify(headers: Headers, body: bytes, secret: str | None) -> None:
    """The token in the URL is the credential (the plugin signs nothing)."""


def job_name(jenkins_name: str) -> str:
    """A hub job name for a Jenkins job: `Team/My App` -> `jenkins-team-my-app`."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", jenkins_name.lower()).strip("-._")
    if not slug:
        raise BadPayload("name has no letters or digits", "name")
    return f"jenkins-{slug}"[:64]


def parse(headers: Headers, body: bytes) -> Parsed:
    data = read_json_or_form(headers, body)
    name = text_at(data, "name")
    phase = text_at(data, "build.phase").upper()
    if phase not in _PHASES:
        raise BadPayload(f"build.phase must be one of {', '.join(_PHASES)}", "build.phase")
    number = text_at(data, "build.number")
    if not number.isdigit():
        raise BadPayload("build.number must be a number", "build.number")
    status = text_at(data, "build.status", required=False).upper()
    url = text_at(data, "build.full_url", required=False) or None
    job = job_name(name)
    thread = f"jenkins:{name}#{number}"
    label = f"[{name} #{number}]({url})" if url else f"{name} #{number}"
    runs: list[BuildRun] = []
    if phase == "QUEUED":
        runs.append(BuildRun(job, f"{name}#{number}", "queued", url))
        text = f"Jenkins {label} queued"
    elif phase == "STARTED":
        runs.append(BuildRun(job, f"{name}#{number}", "running", url))
        text = f"Jenkins {label} started"
    elif phase == "COMPLETED" or (phase == "FINALIZED" and status):
        outcome = _OUTCOME.get(status)
        if outcome is None:
            raise BadPayload(f"build.status must be one of {', '.join(_OUTCOME)}", "build.status")
        runs.append(BuildRun(job, f"{name}#{number}", outcome, url))
        text = f"Jenkins {label} {phase.lower()}: {status}"
    else:
        text = f"Jenkins {label} {phase.lower()}"
    branch = text_at(data, "build.scm.branch", required=False)
    commit = text_at(data, "build.scm.commit", required=False)
    if branch or commit:
        text += f" ({branch} {commit[:8]})".replace("( ", "(").replace(" )", ")")
    return Parsed(
        [Post(text, thread, {"phase": phase.lower(), "status": status.lower() or None})], runs=runs
    )
