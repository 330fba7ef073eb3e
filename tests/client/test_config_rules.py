"""Where the SDK takes its settings from, in-process: the config file, then the
environment (THEREYET_TOKEN_FILE included), then `thereyet.configure()`; THEREYET_DISABLE;
and a token that stays out of logs and reprs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from thereyet.client import state
from thereyet.client.config import Config, config_file_path, load_config


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No THEREYET_* variable from outside, no config file, and no settings made in code."""
    import os

    for name in [n for n in os.environ if n.startswith("THEREYET_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("THEREYET_CONFIG", str(tmp_path / "none.toml"))
    state.reset()
    yield monkeypatch
    state.reset()


def _file(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return {"THEREYET_CONFIG": str(path)}


def test_the_config_file_gives_every_setting_it_knows_and_ignores_the_rest(tmp_path):
    env = _file(
        tmp_path,
        'url = "https://hub.example.com/"\ntoken = "ty_file"\nroom = "migration"\n'
        'spool_dir = "/var/spool/ty"\ntimeout = 3\nprogress_interval = "2.5"\n'
        "max_pending = 50\nenabled = false\ncolour = 'blue'\n",
    )
    config = load_config(env)
    assert (config.url, config.token, config.room) == (
        "https://hub.example.com",
        "ty_file",
        "migration",
    )
    assert config.spool_dir == Path("/var/spool/ty")
    assert (config.timeout, config.progress_interval, config.max_pending) == (3.0, 2.5, 50)
    assert isinstance(config.timeout, float)
    assert config.enabled is False and not config.configured


def test_each_variable_wins_over_the_file(tmp_path):
    env = _file(tmp_path, 'url = "http://f:1"\ntoken = "ty_f"\nroom = "f"\nspool_dir = "/f"\n')
    env.update(
        THEREYET_URL="http://e:2/",
        THEREYET_TOKEN="ty_e",
        THEREYET_ROOM="e",
        THEREYET_SPOOL_DIR="/e",
    )
    config = load_config(env)
    assert (config.url, config.token, config.room, config.spool_dir) == (
        "http://e:2",
        "ty_e",
        "e",
        Path("/e"),
    )
    assert config.configured


def test_an_empty_variable_leaves_the_file_setting(tmp_path):
    env = _file(tmp_path, 'url = "http://f:1"\ntoken = "ty_f"\n')
    config = load_config({**env, "THEREYET_URL": "", "THEREYET_TOKEN": ""})
    assert (config.url, config.token) == ("http://f:1", "ty_f")


def test_a_token_file_wins_over_the_config_file_and_loses_to_the_token_variable(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("  ty_from_token_file \n")
    env = {**_file(tmp_path, 'token = "ty_config_file"\n'), "THEREYET_TOKEN_FILE": str(secret)}
    assert load_config(env).token == "ty_from_token_file"
    assert load_config({**env, "THEREYET_TOKEN": "ty_variable"}).token == "ty_variable"


def test_an_unreadable_token_file_turns_reporting_off_with_a_warning(clean_env, tmp_path, caplog):
    clean_env.setenv("THEREYET_URL", "http://127.0.0.1:1")
    clean_env.setenv("THEREYET_TOKEN_FILE", str(tmp_path / "missing"))
    config = state.current_config()
    assert not config.configured
    assert caplog.messages[0].startswith(
        "thereyet: cannot read the configuration: [Errno 2] No such file"
    )
    assert state.sender() is None


@pytest.mark.parametrize("value", ["1", "true", "YES", "On"])
def test_thereyet_disable_turns_reporting_off(value, tmp_path):
    env = {"THEREYET_URL": "http://h:1", "THEREYET_TOKEN": "ty_x", "THEREYET_DISABLE": value}
    config = load_config({**env, **_file(tmp_path, "")})
    assert config.enabled is False and not config.configured


@pytest.mark.parametrize("value", ["0", "no", "false", ""])
def test_thereyet_disable_set_to_no_leaves_reporting_on(value, tmp_path):
    env = {"THEREYET_URL": "http://h:1", "THEREYET_TOKEN": "ty_x", "THEREYET_DISABLE": value}
    assert load_config({**env, **_file(tmp_path, "")}).configured


def test_disabled_the_sdk_says_nothing_and_unconfigured_it_warns_once(clean_env, caplog):
    caplog.set_level(logging.WARNING, logger="thereyet")
    clean_env.setenv("THEREYET_URL", "http://127.0.0.1:1")
    clean_env.setenv("THEREYET_TOKEN", "ty_x")
    clean_env.setenv("THEREYET_DISABLE", "1")
    assert state.sender() is None
    assert caplog.records == []
    clean_env.delenv("THEREYET_DISABLE")
    clean_env.delenv("THEREYET_TOKEN")
    state.reset()
    assert state.sender() is None
    assert state.sender() is None
    assert [r.getMessage() for r in caplog.records] == [
        "thereyet: not configured (set THEREYET_URL and THEREYET_TOKEN, or "
        "~/.config/thereyet/config.toml); the job runs without reporting"
    ]


def test_configure_wins_over_the_environment_and_reset_forgets_it(clean_env, tmp_path):
    clean_env.setenv("THEREYET_URL", "http://env:1")
    clean_env.setenv("THEREYET_TOKEN", "ty_env")
    state.configure(url="http://code:2", room="ops", timeout=None)
    config = state.current_config()
    assert (config.url, config.token, config.room, config.timeout) == (
        "http://code:2",
        "ty_env",
        "ops",
        10.0,
    )
    state.reset()
    assert state.current_config().url == "http://env:1"


def test_a_bad_hub_url_turns_reporting_off_with_one_warning(clean_env, caplog):
    caplog.set_level(logging.WARNING, logger="thereyet")
    state.configure(url="hub.example.com", token="ty_x")
    assert state.sender() is None
    assert state.sender() is None
    assert [r.getMessage() for r in caplog.records] == [
        "thereyet: hub URL must be http(s)://host[:port], not 'hub.example.com'; "
        "the job runs without reporting"
    ]


def test_flush_waits_for_the_process_sender_and_is_true_without_one(clean_env, tmp_path):
    assert state.flush(0.1) is True  # reporting is off: nothing to wait for
    state.configure(
        url="http://127.0.0.1:1", token="ty_x", spool_dir=tmp_path / "spool", exit_timeout=0
    )
    sender = state.sender()
    assert sender is not None
    sender.post_message("ops", "nobody hears this", "m1")
    assert state.flush(0.2) is False  # the hub is unreachable: not delivered


def test_a_configured_sdk_starts_one_sender_and_configure_replaces_it(clean_env, tmp_path):
    state.configure(url="http://127.0.0.1:1", token="ty_x", spool_dir=tmp_path / "spool")
    first = state.sender()
    assert first is not None and first is state.sender()
    assert first.config.token == "ty_x" and first.config.spool_dir == tmp_path / "spool"
    state.configure(room="ops")
    second = state.sender()
    assert second is not None and second is not first and second.config.room == "ops"
    assert state.flush(0.1) is True  # nothing queued


def test_unknown_settings_are_refused_by_name():
    with pytest.raises(TypeError, match="unknown thereyet setting\\(s\\): colour, size"):
        Config().with_overrides(size=1, colour="blue")
    with pytest.raises(TypeError, match="colour"):
        state.configure(colour="blue")


def test_the_token_is_kept_out_of_the_configs_repr():
    shown = repr(Config(url="http://h:1", token="ty_secret_value"))
    assert "ty_secret_value" not in shown and "http://h:1" in shown


def test_the_config_file_is_thereyet_config_else_under_xdg_config_home_else_home(tmp_path):
    assert config_file_path({"THEREYET_CONFIG": "/etc/ty.toml"}) == Path("/etc/ty.toml")
    xdg = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert config_file_path(xdg) == tmp_path / "thereyet" / "config.toml"
    assert config_file_path({}) == Path.home() / ".config" / "thereyet" / "config.toml"


def test_the_config_file_path_reads_the_processs_environment_by_default(monkeypatch):
    monkeypatch.setenv("THEREYET_CONFIG", "/srv/thereyet.toml")
    assert config_file_path() == Path("/srv/thereyet.toml")


def test_the_spool_is_under_xdg_state_home_else_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert Config().spool_dir == tmp_path / "thereyet" / "spool"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert Config().spool_dir == Path.home() / ".local" / "state" / "thereyet" / "spool"


def test_the_defaults_are_the_documented_ones():
    config = Config()
    assert (config.url, config.token, config.room, config.enabled) == ("", "", None, True)
    assert (config.progress_interval, config.heartbeat_interval) == (1.0, 30.0)
    assert (config.timeout, config.exit_timeout, config.max_pending) == (10.0, 5.0, 10_000)
    assert (config.send_interval, config.early_end_grace) == (0.5, 5.0)
    assert not config.configured
    assert not Config(url="http://h:1").configured and not Config(token="ty_x").configured
