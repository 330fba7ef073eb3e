"""Where the SDK reports to: THEREYET_URL and THEREYET_TOKEN, a config file, or code.

Precedence, highest first: `thereyet.configure(...)`, environment variables,
the config file (`$THEREYET_CONFIG`, else `~/.config/thereyet/config.toml`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


def _state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "thereyet"


def config_file_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("THEREYET_CONFIG"):
        return Path(env["THEREYET_CONFIG"])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "thereyet" / "config.toml"


@dataclass(frozen=True)
class Config:
    """Everything the SDK can be told. Times are in seconds."""

    url: str = ""
    token: str = field(default="", repr=False)
    room: str | None = None  # default room for runs and `say`
    enabled: bool = True
    spool_dir: Path = field(default_factory=lambda: _state_dir() / "spool")
    progress_interval: float = 1.0  # at most one progress report per run this often
    send_interval: float = 0.5  # how often the sender looks for work
    heartbeat_interval: float = 30.0  # a quiet run still says it is alive this often
    timeout: float = 10.0  # one HTTP request
    exit_timeout: float = 5.0  # at exit: deliver for this long, then spool the rest
    max_pending: int = 10_000  # events kept in memory per run while the hub is away
    early_end_grace: float = 5.0  # a track() loop left early is finished after this

    @property
    def configured(self) -> bool:
        return self.enabled and bool(self.url) and bool(self.token)

    def with_overrides(self, **values: Any) -> Config:
        known = {f.name for f in fields(self)}
        unknown = set(values) - known
        if unknown:
            raise TypeError(f"unknown thereyet setting(s): {', '.join(sorted(unknown))}")
        clean = {k: v for k, v in values.items() if v is not None}
        if "spool_dir" in clean:
            clean["spool_dir"] = Path(clean["spool_dir"])
        return replace(self, **clean)


_ENV = {
    "THEREYET_URL": "url",
    "THEREYET_TOKEN": "token",
    "THEREYET_ROOM": "room",
    "THEREYET_SPOOL_DIR": "spool_dir",
}
_FLOATS = {"progress_interval", "send_interval", "heartbeat_interval", "timeout", "exit_timeout"}


def _from_file(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return {}
    known = {f.name for f in fields(Config)}
    return {k: v for k, v in data.items() if k in known}


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """The configuration from the config file and the environment.

    A broken config file is reported by the caller as a warning, never raised.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = _from_file(config_file_path(env))
    for key, name in _ENV.items():
        if env.get(key):
            values[name] = env[key]
    # THEREYET_TOKEN_FILE is the environment's way of giving the token: it wins over
    # the config file, and THEREYET_TOKEN wins over it.
    if not env.get("THEREYET_TOKEN") and env.get("THEREYET_TOKEN_FILE"):
        values["token"] = Path(env["THEREYET_TOKEN_FILE"]).read_text().strip()
    if env.get("THEREYET_DISABLE", "").lower() in ("1", "true", "yes", "on"):
        values["enabled"] = False
    for name in _FLOATS & values.keys():
        values[name] = float(values[name])
    if "url" in values:
        values["url"] = str(values["url"]).rstrip("/")
    return Config().with_overrides(**values)
