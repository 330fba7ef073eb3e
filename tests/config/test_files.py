"""Reading configuration files: every error names the file, line, field and reason;
each policy check fires and passes; the JSON Schema comes from the same models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from thereyet.server.configfile.checks import check
from thereyet.server.configfile.load import load
from thereyet.server.configfile.model import json_schema
from thereyet.server.configfile.problems import ConfigInvalid, Problem
from thereyet.server.configfile.secrets import Resolver

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EMPTY: dict[str, dict[str, dict[str, object]]] = {}


def problems_of(files: dict[str, str], resolve: Resolver | None = None) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        load(files, resolve or Resolver({}))
    return [str(p) for p in caught.value.problems]


def checked(files: dict[str, str]) -> list[Problem]:
    return check(load(files, Resolver({})), EMPTY, set(), NOW)


def test_a_toml_syntax_error_names_its_line():
    assert problems_of({"a.toml": '[rooms.ops]\ntitle = "x"\ntopic = \n'}) == [
        "a.toml:3: not valid TOML: Invalid value"
    ]


def test_a_wrong_value_names_file_line_and_field():
    text = '# jobs\n[jobs.backup]\ntitle = "B"\ngrace = -5\n'
    assert problems_of({"jobs/backup.toml": text}) == [
        "jobs/backup.toml:4: jobs.backup.grace: Input should be greater than 0"
    ]


def test_an_unknown_key_is_an_error_at_its_line():
    text = '[rooms.ops]\ntitle = "x"\ntopik = "typo"\n'
    assert problems_of({"r.toml": text}) == [
        "r.toml:3: rooms.ops.topik: Extra inputs are not permitted"
    ]


def test_an_invalid_name_points_at_its_table():
    text = '[rooms.ops]\n\n[rooms."Bad Name"]\ntitle = "x"\n'
    found = problems_of({"r.toml": text})
    assert len(found) == 1 and found[0].startswith("r.toml:3: rooms.Bad Name")


def test_an_object_defined_in_two_files_is_an_error_naming_both():
    found = problems_of({"a.toml": "[rooms.ops]\n", "b.toml": '\n\n[rooms.ops]\ntitle = "x"\n'})
    assert found == ["b.toml:3: rooms.ops: also defined in a.toml"]


def test_an_unset_secret_reference_names_the_field():
    text = '[channels.chat]\nurl = "env:THEREYET_TEST_UNSET_VARIABLE"\n'
    found = problems_of({"c.toml": text}, Resolver())
    assert found == [
        "c.toml:2: channels.chat.url: environment variable THEREYET_TEST_UNSET_VARIABLE is not set"
    ]


def test_secret_references_are_resolved_from_what_the_client_sent():
    desired = load(
        {"c.toml": '[channels.chat]\nurl = "env:CHAT"\n'}, Resolver({"env:CHAT": "json://x/y"})
    )
    assert desired.objects["channels"]["chat"]["url"] == "json://x/y"
    assert desired.refs[("channels", "chat")] == {"url": "env:CHAT"}


def test_a_missing_reference_is_an_error_at_the_referring_line():
    text = '[jobs.backup]\nrooms = ["ops", "nowhere"]\n'
    found = [str(p) for p in checked({"j.toml": text})]
    assert found == [
        "j.toml:2: jobs.backup.rooms: no room named 'nowhere'",
        "j.toml:2: jobs.backup.rooms: no room named 'ops'",
    ]


def test_a_broken_command_is_an_error_at_its_table():
    text = '[commands.deploy]\ntemplate = "ship {app}"\naction = { exec = ["/bin/true"] }\n'
    assert [str(p) for p in checked({"c.toml": text})] == [
        "c.toml:2: commands.deploy.template: must start with 'deploy'"
    ]


# -- policy checks: each fires, and passes once satisfied -----------------------------

ONCALL = """
[people.alice]
contact_methods = { email = "mailto://a@example.com" }
[rotations.primary]
timezone = "UTC"
start_date = 2026-01-05
participants = ["alice"]
[escalation_policies.default]
steps = [{ targets = [{ kind = "rotation", name = "primary" }] }]
[services.storage]
policy = "default"
"""


def test_a_job_that_pages_without_a_runbook_fails_the_runbook_check():
    job = '[jobs.backup]\npaging = { service = "storage" }\n'
    found = checked({"o.toml": ONCALL, "j.toml": job})
    assert [str(p) for p in found] == [
        "j.toml:2: jobs.backup.paging: pages someone but has no runbook_url"
    ]
    fixed = job + 'runbook_url = "https://wiki/backup"\n'
    assert checked({"o.toml": ONCALL, "j.toml": fixed}) == []


def test_the_runbook_check_is_a_warning_or_off_by_setting():
    job = '[jobs.backup]\npaging = { service = "storage" }\n'
    warn = checked(
        {"o.toml": ONCALL, "j.toml": job, "p.toml": '[policy]\njob_runbook = "warning"\n'}
    )
    assert [p.level for p in warn] == ["warning"]
    assert (
        checked({"o.toml": ONCALL, "j.toml": job, "p.toml": '[policy]\njob_runbook = "off"\n'})
        == []
    )


def test_a_policy_that_reaches_no_person_fails():
    text = (
        ONCALL
        + '[channels.chat]\nurl = "json://x/y"\n[escalation_policies.chat-only]\nsteps = [{ targets = [{ kind = "channel", name = "chat" }] }]\n'
    )
    found = [str(p) for p in checked({"o.toml": text})]
    assert found == [
        "o.toml:15: escalation_policies.chat-only.steps: reaches no person (only channels)"
    ]
    assert checked({"o.toml": ONCALL}) == []


def test_a_rotation_starting_later_leaves_a_gap():
    late = ONCALL.replace("2026-01-05", "2026-04-20")
    found = [str(p) for p in checked({"o.toml": late})]
    assert found == [
        "o.toml:6: rotations.primary.start_date: no one is on call from 2026-03-02 09:00 UTC"
    ]


def test_an_alert_source_whose_service_posts_nowhere_fails():
    text = (
        ONCALL
        + '[services.lonely]\n[integrations.am]\nformat = "alertmanager"\nservice = "lonely"\n'
    )
    found = [str(p) for p in checked({"o.toml": text})]
    assert found == [
        "o.toml:15: integrations.am.service: its service 'lonely' has neither a room nor a policy"
    ]
    good = ONCALL + '[integrations.am]\nformat = "alertmanager"\nservice = "storage"\n'
    assert checked({"o.toml": good}) == []


def test_the_json_schema_describes_every_kind():
    schema = json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["properties"]) >= {
        "rooms",
        "jobs",
        "channels",
        "people",
        "rotations",
        "commands",
        "tokens",
    }
    assert schema["additionalProperties"] is False
