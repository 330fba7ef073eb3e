"""Issue 11, finding 7: a typed argument cannot pass for an option or climb a path."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.chatops.conftest import make_room, say, texts
from thereyet.server.domain.commands import CommandError, parse_template


@pytest.mark.parametrize("value", ["--output=pwned.txt", "-p", "../../etc/passwd", "a..b"])
def test_a_string_argument_starting_with_a_dash_or_holding_dot_dot_is_refused(value):
    template = parse_template("gitlog {ref}")
    with pytest.raises(CommandError) as refused:
        template.match(f"'{value}'")
    assert refused.value.field == "ref"
    assert "may not start with '-' or contain '..'" in refused.value.message


def test_a_text_argument_allows_dashes_and_dots():
    template = parse_template("note {text:text}")
    assert template.match("'-- see ../notes'") == {"text": "-- see ../notes"}


def test_numbers_and_choices_keep_their_own_rules():
    assert parse_template("scale {n:int}").match("-2") == {"n": -2}
    with pytest.raises(CommandError):
        parse_template("go {env:choice(staging,prod)}").match("--prod")


def test_option_injection_into_an_exec_command_is_refused_and_runs_nothing(
    client, commands_toml: Path, tmp_path: Path
):
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "first",
        ],
        check=True,
    )
    commands_toml.write_text(f"""
[commands.gitlog]
template = "gitlog {{ref}}"
allow = {{ roles = ["admin"] }}
action = {{ exec = ["git", "-C", "{repo}", "log", "-1", "{{ref}}"] }}
""")
    make_room(client)
    pwned = tmp_path / "pwned.txt"

    say(client, "ops", f"!gitlog --output={pwned}")

    [record] = client.get("/api/v1/commands/runs").json()["runs"]
    assert record["status"] == "refused"
    assert "ref may not start with '-'" in record["error"]
    assert "ref may not start with '-'" in texts(client, "ops")[-1]
    assert not pwned.exists()
