"""The tables. Alembic migrations under migrations/ create them; a test checks they agree."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .types import JSONType, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for event logs.
BigId = BigInteger().with_variant(Integer(), "sqlite")

rooms = Table(
    "rooms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("topic", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("runbook_url", String(2000)),
    Column("created_at", UTCDateTime, nullable=False),
)

job_rooms = Table(
    "job_rooms",
    metadata,
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("room_id", Integer, ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("job_id", Integer, ForeignKey("jobs.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("user", String(255)),
    Column("trigger", String(64)),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("done", Float),
    Column("total", Float),
    Column("unit", String(32)),
    Column("rate", Float),
    Column("progress_at", UTCDateTime),
    Column("heartbeat_at", UTCDateTime),
    Column("stats", JSONType, nullable=False),
    Column("log_tail", JSONType, nullable=False),
    Column("exit_code", Integer),
    Column("error", Text),
    Column("finish_id", String(128)),
    Column("node", String(255)),
    # Raised by every change of the run's row: a hub that keeps a running run in
    # memory checks it before trusting its copy (another hub may have written).
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_runs_job_created", "job_id", "created_at"),
    Index("ix_runs_status", "status"),
    Index("ix_runs_created", "created_at"),
)

run_rooms = Table(
    "run_rooms",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("room_id", Integer, ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_run_rooms_room", "room_id", "run_id"),
)

run_events = Table(
    "run_events",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ts", UTCDateTime, nullable=False),
    Column("data", JSONType, nullable=False),
    UniqueConstraint("run_id", "event_id", name="uq_run_events_run_event"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("room_id", Integer, ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("author", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("data", JSONType, nullable=False),
    Column("client_id", String(128)),
    Index("ix_messages_room_id", "room_id", "id"),
    UniqueConstraint("room_id", "client_id", name="uq_messages_room_client"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE")),
    Column("room_id", Integer, ForeignKey("rooms.id", ondelete="CASCADE")),
    Column("name", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_attachments_run", "run_id"),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("jobs", JSONType, nullable=False),
    Column("rooms", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("agent", String(64)),  # an agent token made for this one agent name
)

settings = Table(
    "hub_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSONType, nullable=False),
)

# -- people and access to the web pages (migration 0002) ----------------------

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # SHA-256 of the cookie's secret
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_web_sessions_user", "user_id"),
)

share_links = Table(
    "share_links",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("kind", String(8), nullable=False),  # room | job
    Column("target", String(64), nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# -- schedules, monitoring and notifications (migration 0003) -----------------
# Columns added to jobs and runs are appended here so that this part of the
# schema reads in one place.

for _column in (
    Column("schedule", String(200)),  # "0 3 * * *" or "every 10m"; null: no schedule
    Column("timezone", String(64)),  # IANA zone the cron fields are read in (null: UTC)
    Column("grace", Float),  # seconds a start may be late before the job is late
    Column("start_deadline", Float),  # seconds after due until the occurrence is missed
    Column("max_duration", Float),
    Column("stall_after", Float),
    Column("lost_after", Float),
    Column("target", JSONType),  # what starts a run: {"kind": "http", "url": ...}
    Column("ping_uuid", String(36), unique=True),
    Column("due_at", UTCDateTime),  # the occurrence the hub starts or waits for next
    Column("schedule_state", String(16)),  # ok | late | missed
    Column("alert_at", UTCDateTime),  # when the monitor next looks at the job
):
    jobs.append_column(_column)
Index("ix_jobs_due_at", jobs.c.due_at)
Index("ix_jobs_alert_at", jobs.c.alert_at)

for _column in (
    Column("due_at", UTCDateTime),  # the scheduled occurrence this run is for
    Column("late_at", UTCDateTime),  # flags: when the run became late/stalled/overdue
    Column("stalled_at", UTCDateTime),
    Column("overdue_at", UTCDateTime),
    Column("ping_rid", String(36)),  # healthchecks-style run id given by a pinging client
):
    runs.append_column(_column)

# The run's ETA estimator (thereyet.eta.Estimator.to_state): its knots, the
# history it weighs, the predictions at 25/50/75 % and, once done, their score.
runs.append_column(Column("eta", JSONType))

job_events = Table(
    "job_events",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("run_id", String(64)),
    Column("kind", String(16), nullable=False),
    Column("ts", UTCDateTime, nullable=False),
    Column("data", JSONType, nullable=False),
    Index("ix_job_events_job", "job_id", "seq"),
)

channels = Table(
    "channels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("url", Text, nullable=False),  # an Apprise URL; may hold a secret, never shown whole
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

routes = Table(
    "routes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    Column("job", String(64)),  # null with room null: every job
    Column("room", String(64)),
    Column("events", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_routes_channel", "channel_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # notify | callback
    Column("channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE")),
    Column("event", String(16), nullable=False),
    Column("job", String(64), nullable=False),
    Column("run_id", String(64)),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("payload", JSONType, nullable=False),
    Column("status", String(16), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(255)),
    Column("claimed_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_channel", "channel_id", "id"),
)

ping_keys = Table(
    "ping_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# -- ChatOps (migration 0005): command executions, inbound integrations, room bridges ----

command_runs = Table(
    "command_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("room_id", Integer, ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False),
    Column("command", String(32), nullable=False),
    Column("text", Text, nullable=False),  # what was typed
    Column("args", JSONType, nullable=False),
    Column("requested_by", String(255), nullable=False),
    Column("status", String(16), nullable=False),  # waiting|running|succeeded|failed|...
    Column("code", String(8)),  # the confirmation/approval code while waiting
    Column("gate", JSONType, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("output", Text, nullable=False),
    Column("exit_code", Integer),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Index("ix_command_runs_room_code", "room_id", "code"),
)

integrations = Table(
    "integrations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # see integrations/kinds.py
    # A hook posts to a room; an alert source opens incidents on a service.
    Column("room_id", Integer, ForeignKey("rooms.id", ondelete="CASCADE")),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("secret", Text),  # a GitHub HMAC key: kept to verify, never shown or logged
    Column("secret_hash", String(64)),  # a GitLab token: only checked, so only its hash
    Column("owner", String(255), nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
    Column("noted_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("service_id", Integer, ForeignKey("incident_services.id", ondelete="CASCADE")),
    Column("revoked_at", UTCDateTime),
)

integration_deliveries = Table(
    "integration_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "integration_id",
        Integer,
        ForeignKey("integrations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("received_at", UTCDateTime, nullable=False),
    Column("status", Integer, nullable=False),  # the HTTP status the sender was answered
    Column("error", Text),
    Column("summary", String(200), nullable=False),
    Index("ix_integration_deliveries_integration_id", "integration_id", "id"),
)

hook_deliveries = Table(
    "hook_deliveries",
    metadata,
    Column(
        "integration_id",
        Integer,
        ForeignKey("integrations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("delivery_id", String(128), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

room_bridges = Table(
    "room_bridges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("room_id", Integer, ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False),
    Column("channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    Column("last_message_id", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("room_id", "channel_id", name="uq_room_bridges_room_channel"),
)

# -- incidents and on-call (migration 0004) -----------------------------------

oncall_people = Table(
    "oncall_people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("timezone", String(64), nullable=False),
    Column("work_days", JSONType, nullable=False),  # weekdays, 0 = Monday
    Column("work_start", String(5), nullable=False),  # HH:MM, local
    Column("work_end", String(5), nullable=False),
    Column("rules", JSONType, nullable=False),  # [{"method": name, "after_minutes": n}]
    Column("created_at", UTCDateTime, nullable=False),
)

contact_methods = Table(
    "contact_methods",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "person_id", Integer, ForeignKey("oncall_people.id", ondelete="CASCADE"), nullable=False
    ),
    Column("name", String(32), nullable=False),
    # Each method is delivered through its own channel row, so pages use the outbox.
    Column("channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("person_id", "name", name="uq_contact_methods_person_name"),
)

rotations = Table(
    "rotations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("timezone", String(64), nullable=False),
    Column("start_date", String(10), nullable=False),  # YYYY-MM-DD, local
    Column("handoff", String(5), nullable=False),  # HH:MM, local
    Column("shift_hours", Integer, nullable=False),
    Column("participants", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

rotation_overrides = Table(
    "rotation_overrides",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rotation_id", Integer, ForeignKey("rotations.id", ondelete="CASCADE"), nullable=False),
    Column("person", String(64), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("note", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_rotation_overrides_rotation", "rotation_id", "starts_at"),
)

escalation_policies = Table(
    "escalation_policies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("steps", JSONType, nullable=False),
    Column("repeat", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

incident_services = Table(
    "incident_services",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("room", String(64)),
    Column("policy_id", Integer, ForeignKey("escalation_policies.id", ondelete="SET NULL")),
    Column("runbook_url", String(2000)),
    Column("require_runbook", Integer, nullable=False),  # 0 or 1
    Column("created_at", UTCDateTime, nullable=False),
)

job_incident_rules = Table(
    "job_incident_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job", String(64), nullable=False, unique=True),
    Column(
        "service_id",
        Integer,
        ForeignKey("incident_services.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("events", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("service_id", Integer, ForeignKey("incident_services.id"), nullable=False),
    Column("dedup_key", String(255), nullable=False),
    Column("open_key", String(255)),  # the dedup key while open, null once resolved
    Column("status", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("source", String(255), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("details", JSONType, nullable=False),
    Column("links", JSONType, nullable=False),
    Column("images", JSONType, nullable=False),
    Column("runbook_url", String(2000)),
    Column("origin", String(16), nullable=False),  # job | pagerduty | alertmanager | generic | api
    Column("group_key", Text),
    Column("job", String(64)),
    Column("run_id", String(64)),
    Column("triggered_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", String(255)),
    Column("resolved_at", UTCDateTime),
    Column("resolved_by", String(255)),
    Column("paged_through", Integer, nullable=False),  # escalation position reached, -1: none
    Column("next_escalation_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("service_id", "open_key", name="uq_incidents_service_open_key"),
    Index("ix_incidents_escalation", "status", "next_escalation_at"),
)

incident_events = Table(
    "incident_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("ts", UTCDateTime, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("data", JSONType, nullable=False),
    Index("ix_incident_events_incident", "incident_id", "id"),
)

incident_pages = Table(
    "incident_pages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("person", String(64)),
    Column("channel", String(64)),
    Column("at", UTCDateTime, nullable=False),
    Column("out_of_hours", Integer, nullable=False),  # 0 or 1, by the person's own hours
    Column("outbox_ids", JSONType, nullable=False),
    Index("ix_incident_pages_person", "person", "at"),
    Index("ix_incident_pages_incident", "incident_id"),
)

# -- hub nodes, leases and shared rate limits (migration 0010) ---------------------
# Every hub node heartbeats here; a claim names its node, so the claims of a node
# whose heartbeat lapsed can be released by any other node at once.

hub_nodes = Table(
    "hub_nodes",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
)

# Token buckets shared by every node (inbound alerts per integration, pings per job).
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

for _column in (
    # Rows of one sequence ("incident:12") are delivered in step order: a step is
    # held back while an earlier one has not been tried yet.
    Column("sequence", String(64)),
    Column("step", Integer),
):
    outbox.append_column(_column)
Index("ix_outbox_sequence", outbox.c.sequence, outbox.c.step)

for _column in (
    Column("catch_up", String(8)),  # none | latest | all: occurrences missed while down
    Column("catch_up_limit", Integer),  # with "all": at most this many of them
):
    jobs.append_column(_column)

command_runs.append_column(Column("node", String(255)))  # the node running it

# -- configuration as code (migration 0011) -----------------------------------

config_objects = Table(
    "config_objects",
    metadata,
    Column("kind", String(32), primary_key=True),  # rooms | jobs | channels | ...
    Column("name", String(200), primary_key=True),
    Column("file", String(500), nullable=False),  # the file that owns it, as the user named it
    Column("digest", String(64), nullable=False),  # of the object as applied: drift shows
    Column("refs", JSONType, nullable=False),  # {field: "env:NAME"}: secrets by reference
    Column("applied_at", UTCDateTime, nullable=False),
)

chat_commands = Table(
    "chat_commands",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("spec", JSONType, nullable=False),  # the command's table, as in the files
    Column("updated_at", UTCDateTime, nullable=False),
)

# -- pings on a short path, routine cards, retention (migration 0013) ---------
# A check's open run and recent durations are found through ix_runs_job_status
# (only a job's unfinished or succeeded runs, not its whole history); what the
# job's rooms were last told is kept on the job, so a routine's room shows
# only what changed.

for _column in (
    Column("room_cards", String(16)),  # all | changes; null: changes for routines, else all
    Column("last_status", String(16)),  # how the job's latest finished run ended
):
    jobs.append_column(_column)
Index("ix_runs_job_status", runs.c.job_id, runs.c.status, runs.c.finished_at)
# A run's success looks for its job's open incidents: without this, every incident
# the hub ever had was read.
Index("ix_incidents_job_open", incidents.c.job, incidents.c.open_key)

# -- trust: login back-off shared by every node (migration 0008) --------------------------

login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(300), primary_key=True),  # user:<name> or client:<address>
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", UTCDateTime, nullable=False),
    Index("ix_login_failures_last", "last_failed_at"),
)

# Agents: processes on servers that run jobs' commands for the hub (domain/agents.py).
agents = Table(
    "agents",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("tags", JSONType, nullable=False),
    Column("version", String(64), nullable=False),
    Column("slots", Integer, nullable=False),
    Column("state", String(16), nullable=False),  # online | lost
    Column("registered_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("node", String(255)),  # the hub node that heard it last
    # The credential that holds this name (a principal id, "token:<id>"); NULL: free.
    Column("holder", String(80)),
)

# A run of an agent job, from queued to done: which agent took it, and what it runs.
# Taking one is a conditional UPDATE (state and agent), so one run goes to one agent.
agent_work = Table(
    "agent_work",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("job", String(64), nullable=False),
    Column("target", JSONType, nullable=False),  # the job's agent target when it was queued
    Column("state", String(16), nullable=False),  # queued | assigned | running | done
    Column("agent", String(64)),  # who took it
    Column("bound", String(64)),  # policy `all`: the one agent it was made for
    Column("group_id", String(64)),  # policy `all`: the runs of one occurrence
    Column("attempt", Integer, nullable=False),
    Column("retry_of", String(64)),
    Column("queued_at", UTCDateTime, nullable=False),
    Column("not_before", UTCDateTime, nullable=False),
    Column("assigned_at", UTCDateTime),
    Column("started_at", UTCDateTime),
    Column("cancel", Integer, nullable=False, server_default="0"),
    Index("ix_agent_work_state", "state", "not_before"),
    Index("ix_agent_work_agent", "agent", "state"),
)
