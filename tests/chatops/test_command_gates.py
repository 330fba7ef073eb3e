"""The edges of the ChatOps rules, pinned where mutants of them survived: argument
types and their limits (option injection included), what a room message is read as,
who may run a command in which room, the confirmation and approval gates, and the
argument lists and output chunks a command's run is made of."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from thereyet.server.domain.commands import (
    MAX_ARG_CHARS,
    ArgType,
    Caller,
    CommandError,
    Gate,
    GateState,
    Invocation,
    Param,
    Policy,
    Reply,
    Resolution,
    explain,
    is_command_name,
    parse_template,
    read_message,
    render_argv,
    resolve,
    split_output,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# -- argument types ------------------------------------------------------------------


def test_an_argument_is_one_to_two_hundred_characters():
    param = Param("app")
    assert param.convert("a" * MAX_ARG_CHARS) == "a" * MAX_ARG_CHARS
    for bad in ("", "a" * (MAX_ARG_CHARS + 1)):
        with pytest.raises(CommandError) as refused:
            param.convert(bad)
        assert refused.value.message == "app must be 1-200 characters"
        assert refused.value.field == "app"


@pytest.mark.parametrize("raw", ["-rf", "--output=/etc/passwd", "../secret", "a..b"])
def test_a_string_argument_cannot_pass_for_an_option_or_climb_a_path(raw):
    with pytest.raises(CommandError) as refused:
        Param("target").convert(raw)
    assert refused.value.message == "target may not start with '-' or contain '..'"
    assert refused.value.field == "target"
    assert Param("target", ArgType.TEXT).convert(raw) == raw  # text is never given to a program


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("true", True),
        ("YES", True),
        ("On", True),
        ("1", True),
        ("false", False),
        ("No", False),
        ("OFF", False),
        ("0", False),
    ],
)
def test_a_bool_argument_reads_yes_and_no_in_their_usual_spellings(raw, value):
    assert Param("force", ArgType.BOOL).convert(raw) is value


def test_a_bool_or_int_argument_refuses_anything_else_by_name():
    with pytest.raises(CommandError, match=r"^force must be yes or no$") as refused:
        Param("force", ArgType.BOOL).convert("maybe")
    assert refused.value.field == "force"
    with pytest.raises(CommandError, match=r"^count must be a whole number$") as refused:
        Param("count", ArgType.INT).convert("3.5")
    assert refused.value.field == "count"
    assert Param("count", ArgType.INT).convert("-3") == -3


def test_a_choice_lists_its_values_when_refused():
    param = Param("env", ArgType.CHOICE, choices=("staging", "prod"))
    assert param.convert("prod") == "prod"
    with pytest.raises(CommandError, match=r"^env must be one of: staging, prod$") as refused:
        param.convert("Prod")
    assert refused.value.field == "env"


def test_usage_shows_each_type_and_default():
    template = parse_template(
        "deploy {app} to {env:choice(staging,prod)=staging} {count:int=2} "
        "{force:bool=false} {note:text=} {tag=}"
    )
    assert template.usage() == (
        "!deploy {app} to {env:staging|prod=staging} {count:int=2} {force:bool=no} "
        "{note:text=} {tag=}"
    )
    assert [p.required for p in template.params] == [True, False, False, False, False, False]
    assert [p.default for p in template.params] == [None, "staging", 2, False, "", ""]


def test_named_arguments_fill_their_param_and_literal_words_may_be_typed_in_any_case():
    template = parse_template("deploy {app} to {env:choice(staging,prod)=staging}")
    assert template.match("env=prod web") == {"app": "web", "env": "prod"}
    assert template.match("web TO prod") == {"app": "web", "env": "prod"}
    assert template.match("web") == {"app": "web", "env": "staging"}
    assert template.match("app=a=b") == {"app": "a=b", "env": "staging"}  # the first = splits
    # `name=value` for a name the template does not know is a word like any other.
    assert template.match("size=3") == {"app": "size=3", "env": "staging"}
    with pytest.raises(CommandError) as refused:
        template.match("web prod extra words")
    assert str(refused.value) == (
        "unexpected 'extra words': !deploy {app} to {env:staging|prod=staging}"
    )
    assert refused.value.field is None


def test_a_missing_argument_is_named_with_its_field():
    with pytest.raises(CommandError) as refused:
        parse_template("restart {service} {count:int}").match("web")
    assert refused.value.field == "count"
    assert str(refused.value) == "count is missing: !restart {service} {count:int}"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("", "a template starts with the command name (a-z, 0-9, _ or -)"),
        ("Deploy {app}", "a template starts with the command name"),
        ("x" * 33, "a template starts with the command name"),
        ("deploy {app} {app}", "argument 'app' appears twice"),
        ("deploy {App}", "cannot read '{App}': write {name}, {name:int} or {name=default}"),
        ("deploy {n:float}", "unknown type 'float' in '{n:float}'"),
        ("deploy {env:choice(,)}", "'{env:choice(,)}': a choice needs its values, as choice(a,b)"),
        ("deploy {n:int=many}", "n must be a whole number"),
    ],
)
def test_a_broken_template_says_what_is_wrong(template, problem):
    with pytest.raises(CommandError) as refused:
        parse_template(template)
    assert str(refused.value).startswith(problem)


def test_a_command_name_is_a_short_lowercase_word():
    assert is_command_name("deploy") and is_command_name("a") and is_command_name("x" * 32)
    assert is_command_name("run_job-2")
    for chat in ("", "!!", "wow:", "Deploy", "2fa", "x" * 33, "de ploy"):
        assert not is_command_name(chat), chat


# -- reading messages ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("  !Deploy   web  to prod ", Invocation("deploy", "web  to prod")),
        ("!ack", Invocation("ack", "")),
        ("!a", Invocation("a", "")),
        ("!", None),
        ("! deploy", None),
        ("YES 4F2A", Reply("yes", "4f2a")),
        ("  approve 4f2a1b2c  ", Reply("approve", "4f2a1b2c")),
        ("no 4f2", None),
        ("no 4f2a1b2c3", None),
        ("yes 4f2a please", None),
        ("yes zzzz", None),
        ("yes, 4f2a", None),
    ],
)
def test_a_message_is_a_command_a_reply_or_chat(text, read):
    assert read_message(text) == read


# -- finding a command -------------------------------------------------------------------


def test_an_exact_name_wins_over_a_longer_one_it_starts():
    assert resolve("run", ["run", "runbook", "rerun"]) == Resolution("run")


def test_an_ambiguous_prefix_lists_at_most_five_in_order():
    names = [f"deploy{i}" for i in range(7)] + ["other"]
    found = resolve("dep", names)
    assert found == Resolution(None, tuple(f"deploy{i}" for i in range(5)), ambiguous=True)


def test_a_typo_suggests_at_most_three_close_names_and_nothing_far():
    found = resolve("deplay", ["deploy", "replay", "delay", "display", "status"])
    assert found.name is None and not found.ambiguous
    assert len(found.suggestions) == 3 and "deploy" in found.suggestions
    assert "status" not in found.suggestions
    assert resolve("xyz", ["deploy", "status"]) == Resolution(None, ())
    assert resolve("stat", ["stop"]) == Resolution(None, ("stop",))  # half alike is close


def test_what_someone_is_told_when_their_command_is_not_found():
    ambiguous = Resolution(None, ("deploy", "describe"), ambiguous=True)
    assert (
        explain("de", ambiguous)
        == "`!de` could be `!deploy` or `!describe`: type more of the name."
    )
    assert explain("deplay", Resolution(None, ("deploy",))) == (
        "unknown command `!deplay`; did you mean `!deploy`? (`!help` lists them)"
    )
    assert explain("zz", Resolution(None)) == (
        "unknown command `!zz`; `!help` lists the commands you may run."
    )


# -- who may run what ----------------------------------------------------------------------


ALICE = Caller("alice", "operator")
BOB = Caller("bob", "viewer")


def test_rooms_limit_even_a_command_without_side_effects():
    policy = Policy(side_effects=False, rooms=frozenset({"ops"}))
    assert policy.allows(BOB, "ops")
    assert not policy.allows(BOB, "lobby")


def test_a_granted_command_is_for_the_named_roles_and_users_only():
    by_role = Policy(side_effects=True, roles=frozenset({"operator"}))
    assert by_role.allows(ALICE, "any") and not by_role.allows(BOB, "any")
    by_user = Policy(side_effects=True, users=frozenset({"bob"}))
    assert by_user.allows(BOB, "any") and not by_user.allows(ALICE, "any")
    # A grant makes a side-effect-free command as closed as one with side effects.
    granted = Policy(side_effects=False, users=frozenset({"bob"}))
    assert not granted.allows(ALICE, "any")
    in_ops = Policy(side_effects=True, users=frozenset({"bob"}), rooms=frozenset({"ops"}))
    assert in_ops.allows(BOB, "ops") and not in_ops.allows(BOB, "lobby")


def test_approval_values_are_compared_as_shown_and_listed_by_name():
    policy = Policy(
        side_effects=True,
        approval={"force": frozenset({"yes"}), "env": frozenset({"prod"}), "n": frozenset({"3"})},
    )
    assert policy.needs_approval({"env": "prod", "force": True, "n": 3}) == [
        "env=prod",
        "force=yes",
        "n=3",
    ]
    assert policy.needs_approval({"force": False, "n": 4}) == []
    assert policy.needs_approval({}) == []


# -- the gates ---------------------------------------------------------------------------------


def test_a_gate_is_open_for_five_minutes_and_not_a_moment_more():
    gate = Gate.open("4f2a", "Alice", NOW, confirm=True, approval=[], requester="user:1")
    assert gate.expires_at == NOW + timedelta(minutes=5)
    just_before = NOW + timedelta(minutes=5) - timedelta(microseconds=1)
    assert gate.state(just_before) is GateState.WAITING
    assert gate.confirm("user:1", just_before).state(just_before) is GateState.READY
    with pytest.raises(CommandError, match=r"^code 4f2a has expired; run the command again$"):
        gate.confirm("user:1", NOW + timedelta(minutes=5))
    with pytest.raises(CommandError, match="expired"):
        Gate.open("4f2a", "Alice", NOW, confirm=False, approval=["env=prod"]).approve(
            "user:2", NOW + timedelta(minutes=5)
        )


def test_a_gate_with_nothing_to_wait_for_is_ready_at_once():
    gate = Gate.open("4f2a", "alice", NOW, confirm=False, approval=[])
    assert gate.state(NOW) is GateState.READY
    with pytest.raises(CommandError, match=r"^this command needs no approval$"):
        gate.approve("bob", NOW)


def test_people_are_told_apart_by_id_not_by_the_name_shown():
    gate = Gate.open("4f2a", "alice", NOW, confirm=True, approval=["env=prod"], requester="user:1")
    assert gate.requester_id == "user:1"
    with pytest.raises(CommandError, match=r"^only alice can confirm this command$"):
        gate.confirm("alice", NOW)  # another caller who goes by the same name
    with pytest.raises(CommandError, match=r"^approval must come from a second person$"):
        gate.approve("user:1", NOW, name="someone else")
    approved = gate.approve("alice", NOW, name="Alice (the other one)")
    assert (approved.approver, approved.approved_by) == ("alice", "Alice (the other one)")
    assert approved.state(NOW) is GateState.WAITING  # the requester has not confirmed yet
    assert approved.confirm("user:1", NOW).state(NOW) is GateState.READY


def test_a_record_older_than_ids_compares_by_the_name():
    old = Gate("4f2a", "alice", NOW + timedelta(minutes=5), needs_confirmation=True)
    assert old.requester_id == "alice"
    assert old.confirm("alice", NOW).confirmed
    approved = Gate.open("4f2a", "alice", NOW, confirm=False, approval=["x=1"]).approve("bob", NOW)
    assert (approved.approver, approved.approved_by) == ("bob", "bob")


def test_the_prompt_says_what_the_command_still_waits_for():
    both = Gate.open("4f2a", "alice", NOW, confirm=True, approval=["env=prod", "force=yes"])
    assert both.prompt() == (
        "alice: reply `yes 4f2a` to go ahead; env=prod, force=yes needs a second person: "
        "reply `approve 4f2a` (within 5 minutes)"
    )
    assert both.confirm("alice", NOW).prompt() == (
        "env=prod, force=yes needs a second person: reply `approve 4f2a` (within 5 minutes)"
    )
    assert both.approve("bob", NOW).prompt() == (
        "alice: reply `yes 4f2a` to go ahead (within 5 minutes)"
    )


# -- what a command runs and says --------------------------------------------------------


def test_values_fill_every_placeholder_and_bools_read_yes_or_no():
    argv = render_argv(
        ["deploy", "--app={app}", "{app}-{env}", "--force={force}", "{n}", "{missing}"],
        {"app": "web", "env": "prod", "force": True, "n": 3},
    )
    assert argv == ["deploy", "--app=web", "web-prod", "--force=yes", "3", "{missing}"]
    assert render_argv(["{quiet}"], {"quiet": False}) == ["no"]


def test_output_chunks_hold_whole_lines_up_to_the_limits():
    assert split_output("") == []
    assert split_output("a\nb\nc", max_lines=2) == ["a\nb", "c"]
    assert split_output("a\nb", max_lines=2) == ["a\nb"]
    # Each line counts with its newline: "aaaa\nbbbb" is 10 characters with the last one.
    assert split_output("aaaa\nbbbb", max_chars=10) == ["aaaa\nbbbb"]
    assert split_output("aaaa\nbbbb", max_chars=9) == ["aaaa", "bbbb"]
    assert split_output("abcdef\nxy", max_chars=4) == ["abcd", "xy"]
    # Each chunk counts its own characters from nothing.
    assert split_output("aaaa\nbbbb\ncc", max_chars=10) == ["aaaa\nbbbb", "cc"]
    assert split_output("aaaaaaaaa\nbbbb\ncccc", max_chars=10) == ["aaaaaaaaa", "bbbb\ncccc"]
    assert split_output("x" * 3000 + "\ny") == ["x" * 3000, "y"]
    # By default a chunk holds at most 3,000 characters, newlines counted.
    assert split_output("a" * 2998 + "\nb") == ["a" * 2998, "b"]
    assert split_output("x" * 3001) == ["x" * 3000]
    lines = "\n".join(str(i) for i in range(85))
    assert [c.count("\n") + 1 for c in split_output(lines)] == [40, 40, 5]
