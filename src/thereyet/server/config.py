"""One Settings object for the hub, read from THEREYET_* variables and CLI flags.

A secret may also come from a file: THEREYET_ADMIN_TOKEN_FILE=/run/secrets/x.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .domain.leases import node_name
from .domain.people import RFC9106_LOW_MEMORY


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "thereyet"


@dataclass(frozen=True)
class Settings:
    """Everything a hub can be told at start. Field docs become `thereyet server --help`."""

    host: str = field(default="127.0.0.1", metadata={"doc": "address to listen on"})
    port: int = field(default=8480, metadata={"doc": "port to listen on"})
    data_dir: Path = field(default_factory=_default_data_dir, metadata={"doc": "where data lives"})
    db: str = field(default="", metadata={"doc": "database URL (default: SQLite in data_dir)"})
    admin_token: str = field(
        default="", repr=False, metadata={"doc": "bootstrap admin token used at first start"}
    )
    node: str = field(
        default_factory=lambda: node_name(socket.gethostname(), os.getpid(), datetime.now(UTC)),
        metadata={"doc": "this hub node's name (default: host, pid and start time)"},
    )
    sqlite_synchronous: str = field(
        default="FULL", metadata={"doc": "SQLite synchronous mode (FULL survives power loss)"}
    )
    sqlite_sync_apart: bool = field(
        default=True,
        metadata={
            "doc": "with FULL, fsync the WAL in a thread of its own before answering, "
            "while the writer makes the next group (as durable, faster)"
        },
    )
    max_body_bytes: int = field(
        default=4 * 1024 * 1024, metadata={"doc": "largest JSON request body"}
    )
    max_attachment_bytes: int = field(
        default=20 * 1024 * 1024, metadata={"doc": "largest attachment"}
    )
    alert_rate_per_minute: int = field(
        default=120,
        metadata={"doc": "inbound alerts one integration may send a minute (0: no limit)"},
    )
    alert_burst: int = field(
        default=60, metadata={"doc": "inbound alerts one integration may send at once"}
    )
    ping_rate_per_minute: int = field(
        default=6000, metadata={"doc": "pings one check may receive a minute"}
    )
    ping_burst: int = field(default=600, metadata={"doc": "pings one check may receive at once"})
    keep_runs: int = field(
        default=1000,
        metadata={"doc": "finished runs (and job events) kept per job; older ones are pruned"},
    )
    demo: bool = field(default=False, metadata={"doc": "seed a demo room with simulated runs"})
    backup_every: str = field(
        default="", metadata={"doc": "write a backup this often, e.g. 6h (empty: never)"}
    )
    backup_keep: int = field(default=28, metadata={"doc": "scheduled backups kept"})
    public_url: str = field(
        default="",
        metadata={"doc": "the address people reach the hub at, for the links it hands out"},
    )
    metrics_public: bool = field(
        default=False,
        metadata={"doc": "let anyone scrape /metrics (else an admin or unlimited read token)"},
    )
    bus_bridge: bool = field(
        default=True,
        metadata={
            "doc": "on PostgreSQL, carry live updates and revocations to the other hub nodes "
            "through LISTEN/NOTIFY (turn off only when one node runs on the database)"
        },
    )
    agent_lost_after: float = field(
        default=30.0,
        metadata={"doc": "seconds without a word from an agent before it and its runs are lost"},
    )
    password_hash_cost: str = field(
        default=RFC9106_LOW_MEMORY,
        metadata={
            "doc": "argon2id cost of new password hashes, m=KiB,t=passes,p=lanes (RFC 9106's "
            "low-memory profile; a stored hash of another cost is redone at its next sign-in)"
        },
    )
    # -- trust: cookies, proxies, slow clients (docs/security.md) --
    cookie_secure: bool = field(
        default=False,
        metadata={"doc": "always mark the session cookie Secure (TLS ends at a proxy)"},
    )
    trusted_proxies: str = field(
        default="",
        metadata={
            "doc": "comma-separated addresses or networks of proxies whose "
            "X-Forwarded-For/-Proto are believed (none by default)"
        },
    )
    header_timeout: float = field(
        default=10.0, metadata={"doc": "seconds a client may take to send a request's headers"}
    )
    body_timeout: float = field(
        default=30.0,
        metadata={
            "doc": "seconds a request body may pause between two chunks before it is dropped"
        },
    )

    @property
    def database_url(self) -> str:
        return self.db or f"sqlite:///{self.data_dir / 'thereyet.db'}"

    def with_overrides(self, **values: Any) -> Settings:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def _convert(kind: Any, raw: str) -> Any:
    if kind in (int, "int"):
        return int(raw)
    if kind in (float, "float"):
        return float(raw)
    if kind in (bool, "bool"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind in (Path, "Path"):
        return Path(raw)
    return raw


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    """Settings from THEREYET_<FIELD> variables (and THEREYET_<FIELD>_FILE for secrets)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        key = f"THEREYET_{f.name.upper()}"
        if key in env:
            values[f.name] = _convert(f.type, env[key])
        elif f"{key}_FILE" in env:
            values[f.name] = _convert(f.type, Path(env[f"{key}_FILE"]).read_text().strip())
    return Settings(**values)
