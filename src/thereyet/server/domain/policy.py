"""The access policy: which credential may do what to which resource, as data.

One table answers every "may they?" in the hub. A credential kind (an admin,
an operator, a share link, a ping URL...) reaches a resource with an action
either everywhere (ALL), only inside what it names (LIMITED), or not at all
(NONE). What a credential names is its limit:

- an ingest token limited to jobs and/or rooms: those jobs' runs and the runs
  posting to those rooms, those rooms' messages and the incidents of services
  posting to them (an ingest token without limits names everything);
- a run-scoped token: its one run;
- an agent token: the agent name it was made for, or (a fleet token) the names it
  registered while they were free;
- a share link: its room (and the runs posting to it) or its job's runs;
- an integration token: its own service or room;
- a ping URL: its own job; a signed paging link: its one incident; a calendar
  feed link: its one rotation or person.

Services ask `reach` (through Principal.may) before they read or write;
routes declare the entry they use, and the docs' table is made from POLICY
(see `policy_table`). Nothing absent from POLICY is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Credential(StrEnum):
    """The kinds of credential a caller can hold, in the users' words."""

    ADMIN = "admin"  # an admin user or an admin token
    OPERATOR = "operator"  # an operator user (signed in)
    VIEWER = "viewer"  # a viewer user (signed in)
    READ_TOKEN = "read token"  # noqa: S105 (a kind, not a secret)
    INGEST_TOKEN = "ingest token"  # noqa: S105 (a kind, not a secret); optionally limited to named jobs and rooms
    RUN_TOKEN = "run token"  # noqa: S105 (a kind, not a secret); handed to a run the hub starts; that run only
    AGENT_TOKEN = "agent token"  # noqa: S105 (a kind, not a secret); the agent protocol only
    ROOM_SHARE = "room share link"
    JOB_SHARE = "job share link"
    INTEGRATION = "integration token"  # in a hook's or alert source's URL
    PING_URL = "ping URL"  # a job's ping UUID, or a ping key with a job's slug
    PAGING_LINK = "paging link"  # a signed acknowledge/resolve link sent in a page
    FEED_LINK = "calendar feed link"  # a signed iCalendar feed of a rotation or person
    ANYONE = "anyone"  # no credential at all


class Resource(StrEnum):
    HUB = "hub"  # health, who-am-I, the OpenAPI schema; its nodes (manage)
    SESSION = "session"  # signing in and out of the pages
    RUNS = "runs"  # runs, their events, log tails and attachments
    JOBS = "jobs"  # jobs; writing one means starting its runs
    JOB_SETTINGS = "job settings"  # a job's rooms, schedule, limits, target
    PING_URLS = "ping URLs"  # a job's ping URL, ping keys
    ROOMS = "rooms"  # rooms and their messages
    ATTACHMENTS = "attachments"  # files attached to runs and messages
    SEARCH = "search"  # search across rooms, transcripts
    INCIDENTS = "incidents"
    ONCALL = "on-call"  # people, rotations, policies, services, feeds
    ONCALL_REPORTS = "on-call reports"
    CHANNELS = "channels"  # outgoing channels, routes, deliveries
    INTEGRATIONS = "integrations"  # inbound integrations and bridges
    COMMANDS = "commands"  # ChatOps commands and their execution records
    USERS = "users"
    TOKENS = "tokens"
    SHARES = "share links"
    CONFIG = "configuration"  # plan, apply and export the configuration as files
    METRICS = "metrics"  # the hub's own /metrics (open to anyone with THEREYET_METRICS_PUBLIC)
    AGENTS = (
        "agents"  # agents and their queue (read); the agent protocol (write); removing one (manage)
    )


class Action(StrEnum):
    READ = "read"
    WRITE = "write"  # add to it: report, post, open, acknowledge, run
    MANAGE = "manage"  # create, configure, revoke, delete


class Reach(StrEnum):
    ALL = "all"
    LIMITED = "limited"  # only inside what the credential names
    NONE = "none"


@dataclass(frozen=True)
class Entry:
    """One line of the policy: an action on a resource."""

    resource: Resource
    action: Action

    def __str__(self) -> str:
        return f"{self.resource.value}: {self.action.value}"


C = Credential
A, L = Reach.ALL, Reach.LIMITED
_PEOPLE_READ = {C.ADMIN: A, C.OPERATOR: A, C.VIEWER: A, C.READ_TOKEN: A}
_PEOPLE_WRITE = {C.ADMIN: A, C.OPERATOR: A}
_ADMIN_ONLY = {C.ADMIN: A}
_SHARES = {C.ROOM_SHARE: L, C.JOB_SHARE: L}

POLICY: Mapping[Entry, Mapping[Credential, Reach]] = {
    Entry(Resource.HUB, Action.READ): {c: A for c in Credential},
    Entry(Resource.HUB, Action.MANAGE): _ADMIN_ONLY,  # its nodes and their heartbeats
    Entry(Resource.SESSION, Action.WRITE): {c: A for c in Credential},
    Entry(Resource.RUNS, Action.READ): {
        **_PEOPLE_READ,
        C.INGEST_TOKEN: L,
        C.RUN_TOKEN: L,
        **_SHARES,
    },
    Entry(Resource.RUNS, Action.WRITE): {
        **_PEOPLE_WRITE,
        C.INGEST_TOKEN: L,
        C.RUN_TOKEN: L,
        C.INTEGRATION: L,
        C.PING_URL: L,
    },
    Entry(Resource.JOBS, Action.READ): {**_PEOPLE_READ, C.INGEST_TOKEN: L, **_SHARES},
    Entry(Resource.JOBS, Action.WRITE): {
        **_PEOPLE_WRITE,
        C.INGEST_TOKEN: L,
        C.INTEGRATION: L,
        C.PING_URL: L,
    },
    Entry(Resource.JOB_SETTINGS, Action.READ): {**_PEOPLE_READ, C.INGEST_TOKEN: L, **_SHARES},
    Entry(Resource.JOB_SETTINGS, Action.MANAGE): _ADMIN_ONLY,
    Entry(Resource.PING_URLS, Action.READ): {**_PEOPLE_WRITE, C.INGEST_TOKEN: L},
    Entry(Resource.PING_URLS, Action.MANAGE): _ADMIN_ONLY,
    Entry(Resource.ATTACHMENTS, Action.READ): {
        **_PEOPLE_READ,
        C.INGEST_TOKEN: L,
        C.RUN_TOKEN: L,
        **_SHARES,
    },
    Entry(Resource.ROOMS, Action.READ): {**_PEOPLE_READ, C.INGEST_TOKEN: L, C.ROOM_SHARE: L},
    Entry(Resource.ROOMS, Action.WRITE): {**_PEOPLE_WRITE, C.INGEST_TOKEN: L, C.INTEGRATION: L},
    Entry(Resource.ROOMS, Action.MANAGE): {**_PEOPLE_WRITE, C.INGEST_TOKEN: L},
    Entry(Resource.SEARCH, Action.READ): {**_PEOPLE_READ, C.INGEST_TOKEN: L},
    Entry(Resource.INCIDENTS, Action.READ): {**_PEOPLE_READ, C.INGEST_TOKEN: L},
    Entry(Resource.INCIDENTS, Action.WRITE): {
        **_PEOPLE_WRITE,
        C.INGEST_TOKEN: L,
        C.INTEGRATION: L,
        C.PAGING_LINK: L,
    },
    Entry(Resource.ONCALL, Action.READ): {**_PEOPLE_READ, C.INGEST_TOKEN: L, C.FEED_LINK: L},
    Entry(Resource.ONCALL, Action.MANAGE): _ADMIN_ONLY,
    Entry(Resource.ONCALL_REPORTS, Action.READ): _PEOPLE_READ,
    Entry(Resource.CHANNELS, Action.READ): _ADMIN_ONLY,
    Entry(Resource.CHANNELS, Action.MANAGE): _ADMIN_ONLY,
    Entry(Resource.INTEGRATIONS, Action.READ): _ADMIN_ONLY,
    Entry(Resource.INTEGRATIONS, Action.MANAGE): _ADMIN_ONLY,
    Entry(Resource.COMMANDS, Action.READ): {**_PEOPLE_READ, C.INGEST_TOKEN: L},
    Entry(Resource.COMMANDS, Action.WRITE): {**_PEOPLE_WRITE, C.INGEST_TOKEN: L},
    Entry(Resource.COMMANDS, Action.MANAGE): _ADMIN_ONLY,
    Entry(Resource.USERS, Action.MANAGE): _ADMIN_ONLY,
    Entry(Resource.TOKENS, Action.MANAGE): _ADMIN_ONLY,
    Entry(Resource.SHARES, Action.MANAGE): _ADMIN_ONLY,
    Entry(Resource.CONFIG, Action.MANAGE): _ADMIN_ONLY,
    Entry(Resource.METRICS, Action.READ): {C.ADMIN: A, C.READ_TOKEN: A},
    Entry(Resource.AGENTS, Action.READ): _PEOPLE_READ,
    # Registering, polling for work, starting what was handed out: an agent token, and
    # nothing else reaches it (nor does an agent token reach anything else). Each agent
    # name belongs to one credential (see access.agent_name_refusal).
    Entry(Resource.AGENTS, Action.WRITE): {C.ADMIN: A, C.AGENT_TOKEN: L},
    Entry(Resource.AGENTS, Action.MANAGE): _ADMIN_ONLY,  # remove an agent, freeing its name
}
del C, A, L

# What LIMITED means for each credential kind, for the docs.
LIMITS: Mapping[Credential, str] = {
    Credential.INGEST_TOKEN: "its jobs and rooms, when it names any (else everything)",
    Credential.RUN_TOKEN: "its one run, until 10 minutes after the run ends",
    Credential.AGENT_TOKEN: (
        "the agent name it was made for; a fleet token: the names it registered first, "
        "until an admin removes that agent or revokes the token"
    ),
    Credential.ROOM_SHARE: "its room and the runs posting to it",
    Credential.JOB_SHARE: "its job's runs",
    Credential.INTEGRATION: "its own room or service",
    Credential.PING_URL: "its own job (a ping key: the jobs it creates or pings)",
    Credential.PAGING_LINK: "its one incident, until the link expires",
    Credential.FEED_LINK: "its one rotation or person",
}


def reach(credential: Credential, resource: Resource, action: Action) -> Reach:
    """How far `credential` reaches with `action` on `resource` (NONE when not listed)."""
    return POLICY.get(Entry(resource, action), {}).get(credential, Reach.NONE)


def policy_table() -> str:
    """The policy as a Markdown table: one row per entry, one column per credential kind."""
    kinds = [c for c in Credential if c is not Credential.ANYONE]
    marks = {Reach.ALL: "yes", Reach.LIMITED: "limited", Reach.NONE: "no"}
    lines = [
        "| resource: action | " + " | ".join(k.value for k in kinds) + " | anyone |",
        "| --- " * (len(kinds) + 2) + "|",
    ]
    for entry in POLICY:
        cells = [marks[reach(k, entry.resource, entry.action)] for k in kinds]
        anyone = marks[reach(Credential.ANYONE, entry.resource, entry.action)]
        lines.append(f"| {entry} | " + " | ".join(cells) + f" | {anyone} |")
    lines.append("")
    lines.append("*limited* means only inside what the credential names:")
    lines.append("")
    lines.extend(f"- {kind.value}: {what}" for kind, what in LIMITS.items())
    return "\n".join(lines) + "\n"
