"""Checks across objects, made at plan time: references, then the team's policies.

A reference (a job's room, a rotation's people, a policy's targets...) must name
an object in the files, or one the hub keeps and apply will not delete. The
policy checks are errors, warnings or off, by the `[policy]` table:
every job that can page has a runbook URL, every escalation policy reaches a
person, no rotation leaves a gap in the next 90 days, every integration posts
somewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from ..domain import oncall as rules
from ..domain.agents import TargetError, parse_target
from ..domain.commands import CommandError
from ..domain.oncall import OncallError, Override, Rotation
from ..domain.schedules import ScheduleError, parse_schedule, parse_zone
from ..integrations.kinds import HOOK_KINDS
from ..services.command_config import ConfigError, _spec
from .load import Desired
from .problems import Problem

GAP_HORIZON = timedelta(days=90)
Objects = dict[str, dict[str, dict[str, Any]]]
Finding = tuple[str, str, tuple[str | int, ...], str]  # kind, name, path, reason


class Names:
    """Which names of a kind there will be after apply."""

    def __init__(self, desired: Desired, current: Objects, pruned: set[tuple[str, str]]) -> None:
        self.desired, self.current, self.pruned = desired, current, pruned

    def __call__(self, kind: str) -> set[str]:
        kept = {n for n in self.current.get(kind, {}) if (kind, n) not in self.pruned}
        return set(self.desired.objects[kind]) | kept

    def obj(self, kind: str, name: str) -> dict[str, Any] | None:
        found = self.desired.objects[kind].get(name)
        return found if found is not None else self.current.get(kind, {}).get(name)


def check(
    desired: Desired, current: Objects, pruned: set[tuple[str, str]], now: datetime
) -> list[Problem]:
    """Every reference and policy problem in the desired state."""
    names = Names(desired, current, pruned)
    problems = [desired.problem(*f) for f in _references(desired, names)]
    levels = desired.policy
    for level, finder in (
        (levels.job_runbook, _job_runbooks),
        (levels.policy_reaches_person, _policies_reach_people),
        (levels.integration_posts, _integrations_post),
    ):
        if level != "off":
            problems += [_at(desired, f, level) for f in finder(desired, names)]
    if levels.rotation_gaps != "off":
        found = _rotation_gaps(desired, now)
        problems += [_at(desired, f, levels.rotation_gaps) for f in found]
    return problems


def _at(desired: Desired, finding: Finding, level: str) -> Problem:
    problem = desired.problem(*finding)
    return Problem(problem.file, problem.line, problem.field, problem.reason, level)


def _references(desired: Desired, names: Names) -> Iterator[Finding]:
    objects = desired.objects
    for name, job in objects["jobs"].items():
        yield from _missing("jobs", name, ("rooms",), job["rooms"], names("rooms"), "room")
        if job["paging"] and job["paging"]["service"] not in names("services"):
            yield "jobs", name, ("paging", "service"), "no service of that name"
        yield from _job_schedule(name, job)
    for name, person in objects["people"].items():
        for i, rule in enumerate(person["rules"]):
            if rule["method"] not in person["contact_methods"]:
                yield "people", name, ("rules", i, "method"), "no contact method of that name"
        yield from _zone("people", name, person["timezone"])
    for name, rotation in objects["rotations"].items():
        people = names("people")
        yield from _missing(
            "rotations", name, ("participants",), rotation["participants"], people, "person"
        )
        for i, o in enumerate(rotation["overrides"]):
            if o["person"] not in people:
                yield "rotations", name, ("overrides", i, "person"), "no person of that name"
            if o["ends_at"] <= o["starts_at"]:
                yield "rotations", name, ("overrides", i, "ends_at"), "must be after starts_at"
        yield from _zone("rotations", name, rotation["timezone"])
    for name, policy in objects["escalation_policies"].items():
        for i, step in enumerate(policy["steps"]):
            for j, target in enumerate(step["targets"]):
                kind = {"rotation": "rotations", "person": "people", "channel": "channels"}
                if target["name"] not in names(kind[target["kind"]]):
                    path = ("steps", i, "targets", j, "name")
                    yield "escalation_policies", name, path, f"no {target['kind']} of that name"
    for name, service in objects["services"].items():
        if service["room"] and service["room"] not in names("rooms"):
            yield "services", name, ("room",), "no room of that name"
        if service["policy"] and service["policy"] not in names("escalation_policies"):
            yield "services", name, ("policy",), "no escalation policy of that name"
    for name, channel in objects["channels"].items():
        yield from _missing(
            "channels", name, ("bridges",), channel["bridges"], names("rooms"), "room"
        )
    yield from _ping_uuid_clashes(objects["jobs"], names)
    yield from _integration_references(objects["integrations"], names)
    yield from _commands(objects["commands"])


def _ping_uuid_clashes(found: dict[str, dict[str, Any]], names: Names) -> Iterator[Finding]:
    """Two jobs cannot share a ping URL: not two in the files, nor one in the files and
    one the hub keeps."""
    owner = {
        job["ping_uuid"]: name
        for name, job in names.current.get("jobs", {}).items()
        if name not in found and name in names("jobs") and job.get("ping_uuid")
    }
    for name, job in found.items():
        uuid = job["ping_uuid"]
        if uuid is None:
            continue
        if uuid in owner:
            yield "jobs", name, ("ping_uuid",), f"job {owner[uuid]!r} has this ping UUID too"
        else:
            owner[uuid] = name


def _missing(
    kind: str, name: str, path: tuple[str, ...], given: list[str], known: set[str], what: str
) -> Iterator[Finding]:
    for other in given:
        if other not in known:
            yield kind, name, path, f"no {what} named {other!r}"


def _zone(kind: str, name: str, zone: str) -> Iterator[Finding]:
    try:
        parse_zone(zone)
    except ScheduleError as exc:
        yield kind, name, ("timezone",), str(exc)


def _job_schedule(name: str, job: dict[str, Any]) -> Iterator[Finding]:
    if job["timezone"]:
        yield from _zone("jobs", name, job["timezone"])
    if job["schedule"]:
        try:
            parse_schedule(job["schedule"], job["timezone"])
        except ScheduleError as exc:
            yield "jobs", name, ("schedule",), str(exc)
    target = job["target"]
    if target and target["kind"] == "agent":
        try:
            parse_target(target)
        except TargetError as exc:
            yield "jobs", name, tuple(exc.field.split(".")), str(exc)
    elif target and not target["url"].startswith(("http://", "https://")):
        yield "jobs", name, ("target", "url"), "must be an http(s) URL"


def _integration_references(found: dict[str, dict[str, Any]], names: Names) -> Iterator[Finding]:
    for name, hook in found.items():
        if hook["kind"] in HOOK_KINDS:
            if hook["service"]:
                yield "integrations", name, ("service",), f"a {hook['kind']} hook posts to a room"
            if not hook["room"]:
                yield "integrations", name, ("room",), f"a {hook['kind']} hook needs a room"
            elif hook["room"] not in names("rooms"):
                yield "integrations", name, ("room",), "no room of that name"
            if hook["secret"] and hook["kind"] not in ("github", "gitlab"):
                yield "integrations", name, ("secret",), f"a {hook['kind']} hook has no secret"
        else:
            if hook["room"] or hook["secret"]:
                field = "room" if hook["room"] else "secret"
                yield "integrations", name, (field,), f"a {hook['kind']} source takes a service"
            if not hook["service"]:
                yield "integrations", name, ("service",), "an alert source needs a service"
            elif hook["service"] not in names("services"):
                yield "integrations", name, ("service",), "no service of that name"


def _commands(found: dict[str, dict[str, Any]]) -> Iterator[Finding]:
    for name, body in found.items():
        try:
            _spec(f"commands.{name}", name, dict(body))
        except (ConfigError, CommandError) as exc:
            # "commands.NAME.field: reason" or "commands.NAME.field reason": split it.
            message = str(exc).removeprefix(f"commands.{name}")
            parts = re.match(r"^\.([\w.]+)(?::\s*|\s+)(.*)$", message)
            if parts:
                yield "commands", name, tuple(parts.group(1).split(".")), parts.group(2)
            else:
                yield "commands", name, (), message.lstrip(": ")


# -- policy checks --------------------------------------------------------------------------


def _job_runbooks(desired: Desired, names: Names) -> Iterator[Finding]:
    for name, job in desired.objects["jobs"].items():
        if not job["paging"] or job["runbook_url"]:
            continue
        service = names.obj("services", job["paging"]["service"]) or {}
        if not service.get("runbook_url"):
            yield "jobs", name, ("paging",), "pages someone but has no runbook_url"


def _policies_reach_people(desired: Desired, names: Names) -> Iterator[Finding]:
    for name, policy in desired.objects["escalation_policies"].items():
        kinds = {t["kind"] for step in policy["steps"] for t in step["targets"]}
        if not kinds & {"person", "rotation"}:
            yield "escalation_policies", name, ("steps",), "reaches no person (only channels)"


def _integrations_post(desired: Desired, names: Names) -> Iterator[Finding]:
    for name, hook in desired.objects["integrations"].items():
        if hook["kind"] in HOOK_KINDS or not hook["service"]:
            continue
        service = names.obj("services", hook["service"]) or {}
        if not service.get("room") and not service.get("policy"):
            reason = f"its service {hook['service']!r} has neither a room nor a policy"
            yield "integrations", name, ("service",), reason


def _rotation_gaps(desired: Desired, now: datetime) -> Iterator[Finding]:
    end = now + GAP_HORIZON
    for name, r in desired.objects["rotations"].items():
        try:
            rotation = Rotation(
                name,
                tuple(r["participants"]),
                r["timezone"],
                date.fromisoformat(r["start_date"]),
                rules.parse_clock(r["handoff"], "handoff"),
                r["shift_hours"],
            )
            rotation.check()
        except OncallError:
            continue  # said by the reference checks
        overrides = [
            Override(o["person"], _time(o["starts_at"]), _time(o["ends_at"]))
            for o in r["overrides"]
        ]
        covered_until = now
        for segment in rules.segments(rotation, overrides, now, end):
            if segment.starts_at > covered_until:
                break
            covered_until = max(covered_until, segment.ends_at)
        if covered_until < end:
            when = covered_until.strftime("%Y-%m-%d %H:%M UTC")
            yield "rotations", name, ("start_date",), f"no one is on call from {when}"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
