"""Settings come from THEREYET_* variables, typed as their fields say."""

from __future__ import annotations

from thereyet.server.config import Settings, settings_from_env


def test_alert_rate_limits_default_to_120_a_minute_with_bursts_of_60():
    settings = settings_from_env({})
    assert (settings.alert_rate_per_minute, settings.alert_burst) == (120, 60)


def test_alert_rate_limits_are_read_from_the_environment():
    env = {"THEREYET_ALERT_RATE_PER_MINUTE": "30", "THEREYET_ALERT_BURST": "5"}
    settings = settings_from_env(env)
    assert (settings.alert_rate_per_minute, settings.alert_burst) == (30, 5)
    assert Settings().alert_rate_per_minute == 120


def test_the_bus_bridge_is_on_unless_turned_off():
    assert settings_from_env({}).bus_bridge is True
    assert settings_from_env({"THEREYET_BUS_BRIDGE": "0"}).bus_bridge is False
