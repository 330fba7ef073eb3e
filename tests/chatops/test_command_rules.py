"""The pure rules of ChatOps commands: templates, types, who may run what, the gates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from thereyet.server.domain.commands import (
    Caller,
    CommandError,
    Gate,
    GateState,
    Invocation,
    Policy,
    Reply,
    explain,
    parse_template,
    read_message,
    render_argv,
    resolve,
    split_output,
)
from thereyet.server.services.command_config import ConfigError, parse_commands

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEPLOY = parse_template("deploy {app} to {env:choice(staging,prod)=staging}")


def test_a_template_fills_arguments_in_order_and_defaults_the_rest():
    assert DEPLOY.match("web to prod") == {"app": "web", "env": "prod"}
    assert DEPLOY.match("web") == {"app": "web", "env": "staging"}
    assert DEPLOY.match("web prod") == {"app": "web", "env": "prod"}  # "to" may be left out
    assert DEPLOY.match("env=prod web") == {"app": "web", "env": "prod"}


def test_a_missing_argument_names_itself_and_shows_the_usage():
    with pytest.raises(CommandError) as caught:
        DEPLOY.match("")
    assert caught.value.field == "app"
    assert "!deploy {app} to {env:staging|prod=staging}" in caught.value.message


def test_extra_words_are_refused():
    with pytest.raises(CommandError, match="unexpected"):
        DEPLOY.match("web to prod now")


@pytest.mark.parametrize(
    ("template", "typed", "expected"),
    [
        ("scale {app} {count:int}", "web 3", {"app": "web", "count": 3}),
        ("scale {app} {count:int=2}", "web", {"app": "web", "count": 2}),
        ("purge {force:bool=no}", "", {"force": False}),
        ("purge {force:bool=no}", "yes", {"force": True}),
        ("say {text}", "'hello there'", {"text": "hello there"}),
    ],
)
def test_arguments_are_typed(template, typed, expected):
    assert parse_template(template).match(typed) == expected


@pytest.mark.parametrize(
    ("template", "typed", "field"),
    [
        ("scale {app} {count:int}", "web three", "count"),
        ("purge {force:bool}", "maybe", "force"),
        ("deploy {env:choice(staging,prod)}", "qa", "env"),
    ],
)
def test_a_wrong_type_names_the_argument(template, typed, field):
    with pytest.raises(CommandError) as caught:
        parse_template(template).match(typed)
    assert caught.value.field == field


def test_unbalanced_quotes_are_an_error_not_a_crash():
    with pytest.raises(CommandError, match="cannot read"):
        parse_template("say {text}").match("'oops")


@pytest.mark.parametrize(
    "template",
    [
        "",
        "Deploy {app}",
        "deploy {app} {app}",
        "deploy {n:float}",
        "deploy {e:choice()}",
        "x {n:int=a}",
    ],
)
def test_a_broken_template_is_refused(template):
    with pytest.raises(CommandError):
        parse_template(template)


def test_messages_are_read_as_commands_replies_or_nothing():
    assert read_message("!deploy web to prod") == Invocation("deploy", "web to prod")
    assert read_message("  !Help ") == Invocation("help", "")
    assert read_message("yes 4f2a") == Reply("yes", "4f2a")
    assert read_message("APPROVE 4f2a") == Reply("approve", "4f2a")
    assert read_message("yes, we are there") is None
    assert read_message("! not a command") is None


def test_an_exact_or_unique_prefix_finds_the_command():
    names = ["deploy", "depends", "status", "help"]
    assert resolve("status", names).name == "status"
    assert resolve("st", names).name == "status"


def test_an_ambiguous_prefix_lists_the_candidates():
    found = resolve("dep", ["deploy", "depends", "status"])
    assert found.name is None and found.ambiguous
    assert found.suggestions == ("depends", "deploy")
    assert "could be `!depends` or `!deploy`" in explain("dep", found)


def test_an_unknown_command_suggests_the_nearest():
    found = resolve("deplyo", ["deploy", "status"])
    assert found.name is None and not found.ambiguous
    assert "did you mean `!deploy`" in explain("deplyo", found)
    assert "`!help`" in explain("zzz", resolve("zzz", ["deploy"]))


ALICE = Caller("alice", "operator")
ADMIN = Caller("root", "admin")


def test_a_command_with_side_effects_is_denied_to_everyone_by_default():
    policy = Policy(side_effects=True)
    assert not policy.allows(ALICE, "ops")
    assert not policy.allows(ADMIN, "ops")


def test_a_command_without_side_effects_is_open_by_default():
    assert Policy(side_effects=False).allows(Caller("v", "viewer"), "ops")


def test_roles_users_and_rooms_grant_a_command():
    policy = Policy(side_effects=True, roles=frozenset({"admin"}), users=frozenset({"alice"}))
    assert policy.allows(ALICE, "ops") and policy.allows(ADMIN, "ops")
    assert not policy.allows(Caller("bob", "operator"), "ops")
    in_ops = Policy(side_effects=True, roles=frozenset({"operator"}), rooms=frozenset({"ops"}))
    assert in_ops.allows(ALICE, "ops")
    assert not in_ops.allows(ALICE, "random")


def test_approval_is_needed_only_for_the_named_values():
    policy = Policy(side_effects=True, approval={"env": frozenset({"prod"})})
    assert policy.needs_approval({"app": "web", "env": "prod"}) == ["env=prod"]
    assert policy.needs_approval({"app": "web", "env": "staging"}) == []


def test_a_confirmation_code_works_for_its_caller_within_five_minutes():
    gate = Gate.open("4f2a", "alice", NOW, confirm=True, approval=[])
    assert gate.state(NOW) is GateState.WAITING
    assert "reply `yes 4f2a`" in gate.prompt()
    with pytest.raises(CommandError, match="only alice"):
        gate.confirm("bob", NOW)
    assert gate.confirm("alice", NOW + timedelta(minutes=4)).state(NOW) is GateState.READY


def test_a_confirmation_code_expires():
    gate = Gate.open("4f2a", "alice", NOW, confirm=True, approval=[])
    later = NOW + timedelta(minutes=5)
    assert gate.state(later) is GateState.EXPIRED
    with pytest.raises(CommandError, match="expired"):
        gate.confirm("alice", later)


def test_approval_must_come_from_a_second_person():
    gate = Gate.open("77aa", "alice", NOW, confirm=True, approval=["env=prod"])
    with pytest.raises(CommandError, match="second person"):
        gate.approve("alice", NOW)
    confirmed = gate.confirm("alice", NOW)
    assert confirmed.state(NOW) is GateState.WAITING  # still waits for approval
    approved = confirmed.approve("bob", NOW)
    assert approved.approved_by == "bob"
    assert approved.state(NOW) is GateState.READY


def test_argument_values_stay_single_arguments():
    argv = render_argv(["/bin/echo", "--app", "{app}"], {"app": "web; rm -rf /"})
    assert argv == ["/bin/echo", "--app", "web; rm -rf /"]


def test_long_output_is_split_into_room_sized_chunks():
    text = "\n".join(f"line {i}" for i in range(100))
    chunks = split_output(text, max_lines=40)
    assert [c.count("\n") + 1 for c in chunks] == [40, 40, 20]
    assert split_output("x" * 5000, max_chars=3000) == ["x" * 3000]


def test_the_commands_file_is_read_and_checked():
    commands = parse_commands(
        """
        [commands.deploy]
        template = "deploy {app} to {env:choice(staging,prod)=staging}"
        description = "Deploy an app"
        confirm = true
        allow = { roles = ["operator"] }
        approval = { env = ["prod"] }
        action = { exec = ["/bin/echo", "{app}", "{env}"] }
        """
    )
    spec = commands["deploy"]
    assert spec.policy.side_effects and spec.policy.confirm
    assert spec.action is not None and spec.action.argv == ("/bin/echo", "{app}", "{env}")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[commands.x]\naction = { exec = 'rm -rf /' }", "commands.x.action.exec"),
        ("[commands.x]\ntemplate = 'y {a}'\naction = { job = 'j' }", "commands.x.template"),
        ("[commands.x]\naction = { http = 'ftp://h' }", "commands.x.action.http"),
        ("[commands.x]\n", "commands.x.action"),
        ("[commands.x]\napproval = { env = ['prod'] }\naction = { job = 'j' }", "approval.env"),
        ("[commands", "not valid TOML"),
    ],
)
def test_a_wrong_commands_file_names_the_key(text, problem):
    with pytest.raises(ConfigError, match=problem.replace(".", r"\.")):
        parse_commands(text)
