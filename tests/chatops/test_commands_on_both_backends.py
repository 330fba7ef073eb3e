"""The paths of commands that write most, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from tests.chatops import test_commands_in_room as in_room


def test_a_command_runs_end_to_end_on_every_backend(client: TestClient, commands_toml: Path):
    in_room.test_a_command_runs_from_a_room_message_with_its_record_and_streamed_output(
        client, commands_toml
    )


def test_confirmation_and_approval_on_every_backend(client: TestClient, commands_toml: Path):
    in_room.test_a_command_waits_for_confirmation_and_a_second_persons_approval(
        client, commands_toml
    )


def test_refusals_are_recorded_on_every_backend(client: TestClient, commands_toml: Path):
    in_room.test_a_command_the_caller_may_not_run_is_refused_not_run_and_recorded(
        client, commands_toml
    )
