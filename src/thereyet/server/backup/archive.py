"""Write and read the backup archive (see the package docstring).

Backup reads every table inside one read-only snapshot (a REPEATABLE READ
transaction on PostgreSQL, one read transaction under WAL on SQLite), so it is
consistent while the hub keeps writing. Restore checks the manifest and every
checksum before it writes anything, into an empty database only, in one
transaction.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, LargeBinary, Table, func, insert, select, text

from ..store.migrate import alembic_config, upgrade
from ..store.tables import metadata
from ..store.types import UTCDateTime

FORMAT = "thereyet-backup/1"
BATCH = 5000


class BackupError(Exception):
    """The archive cannot be made or restored; the message says why."""


def _default(value: Any) -> Any:
    """What JSON cannot say itself: times as ISO text, bytes as base64."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"cannot back up a {type(value).__name__}")


def _decoders(table: Table, columns: list[str]) -> list[tuple[int, Callable[[Any], Any]]]:
    """(position, decode) for the columns whose JSON needs turning back into values."""
    found: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(columns):
        column = table.columns.get(name)
        if column is None:
            raise BackupError(f"the archive's table {table.name} has an unknown column {name}")
        if isinstance(column.type, LargeBinary):
            found.append((i, base64.b64decode))
        elif isinstance(column.type, UTCDateTime):
            found.append((i, datetime.fromisoformat))
    return found


def _revision(conn: Connection) -> list[str]:
    return sorted(MigrationContext.configure(conn).get_current_heads())


def _snapshot(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
    # SQLite: the first read of this transaction fixes its snapshot (WAL).


def backup(engine: Engine, out: IO[bytes]) -> dict[str, Any]:
    """Write a consistent archive of the hub to `out`; return its manifest."""
    with tempfile.TemporaryDirectory(prefix="thereyet-backup-") as tmp, engine.connect() as conn:
        with conn.begin():
            _snapshot(conn)
            revision = _revision(conn)
            members = [_dump_table(conn, table, Path(tmp)) for table in metadata.sorted_tables]
        manifest = {"format": FORMAT, "revision": revision, "tables": members}
        with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as archive:
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            for member in members:
                archive.add(Path(tmp) / member["file"], arcname=member["file"])
    return manifest


def _dump_table(conn: Connection, table: Table, tmp: Path) -> dict[str, Any]:
    digest, rows = hashlib.sha256(), 0
    name = f"tables/{table.name}.jsonl"
    path = tmp / name
    path.parent.mkdir(exist_ok=True)
    order = list(table.primary_key.columns)
    # Rows as JSON arrays in the manifest's column order: one C-speed dumps per row.
    with path.open("wb") as file:
        result = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
        for row in result:
            line = json.dumps(tuple(row), default=_default, separators=(",", ":")).encode() + b"\n"
            digest.update(line)
            file.write(line)
            rows += 1
    return {
        "table": table.name,
        "file": name,
        "columns": [c.name for c in table.columns],
        "rows": rows,
        "sha256": digest.hexdigest(),
    }


def _read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.extractfile("manifest.json")
        assert member is not None
        manifest: dict[str, Any] = json.loads(member.read())
    except (KeyError, AssertionError, ValueError) as exc:
        raise BackupError(f"not a thereyet backup (no readable manifest: {exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def check_revision(manifest: dict[str, Any]) -> None:
    """Refuse an archive made by a newer hub (a schema this one does not know)."""
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    newer = [r for r in manifest["revision"] if r not in known]
    if newer:
        raise BackupError(
            f"the backup has schema revision {', '.join(newer)}, newer than this hub knows: "
            "restore it with a newer thereyet"
        )


def verify(path: Path) -> dict[str, Any]:
    """Check the archive end to end (every checksum); return its manifest."""
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            manifest = _read_manifest(archive)
            check_revision(manifest)
            for member in manifest["tables"]:
                digest = hashlib.sha256()
                for line in _lines(archive, member["file"]):
                    digest.update(line)
                if digest.hexdigest() != member["sha256"]:
                    raise BackupError(f"{member['file']} is damaged (checksum differs)")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"the archive is damaged: {exc}") from None
    return manifest


def _lines(archive: tarfile.TarFile, name: str) -> Any:
    try:
        file = archive.extractfile(name)
    except KeyError:
        raise BackupError(f"{name} is missing from the archive") from None
    assert file is not None
    yield from file


def _is_empty(conn: Connection) -> bool:
    for table in metadata.sorted_tables:
        if table.name == "hub_settings":
            continue  # a hub that started once keeps its bootstrap flag here
        if conn.execute(select(func.count()).select_from(table)).scalar():
            return False
    return True


def restore(engine: Engine, path: Path) -> dict[str, Any]:
    """Restore the archive at `path` into the empty database of `engine`.

    One pass and one transaction: each table's checksum is checked as it is read,
    and a difference (or a truncated archive) rolls back everything restored."""
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            manifest = _read_manifest(archive)
        check_revision(manifest)
        upgrade(engine)
        with engine.connect() as conn:
            if not _is_empty(conn):
                raise BackupError("the hub's database is not empty: restore needs a new hub")
            conn.rollback()
            with conn.begin(), tarfile.open(path, mode="r:gz") as archive:
                _restore_tables(conn, archive, manifest)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"the archive is damaged: {exc}") from None
    return manifest


def _restore_tables(conn: Connection, archive: tarfile.TarFile, manifest: dict[str, Any]) -> None:
    conn.execute(metadata.tables["hub_settings"].delete())
    for member in manifest["tables"]:
        table = metadata.tables.get(member["table"])
        if table is None:
            raise BackupError(f"the archive has an unknown table {member['table']}")
        _load_table(conn, table, archive, member)
    if conn.dialect.name == "postgresql":
        _reset_sequences(conn)


def _load_table(
    conn: Connection, table: Table, archive: tarfile.TarFile, member: dict[str, Any]
) -> None:
    columns = member["columns"]
    decoders = _decoders(table, columns)
    digest = hashlib.sha256()
    batch: list[dict[str, Any]] = []
    for line in _lines(archive, member["file"]):
        digest.update(line)
        values = json.loads(line)
        for i, decode in decoders:
            if values[i] is not None:
                values[i] = decode(values[i])
        batch.append(dict(zip(columns, values, strict=True)))
        if len(batch) >= BATCH:
            conn.execute(insert(table), batch)
            batch = []
    if digest.hexdigest() != member["sha256"]:
        raise BackupError(f"{member['file']} is damaged (checksum differs)")
    if batch:
        conn.execute(insert(table), batch)


def _reset_sequences(conn: Connection) -> None:
    """Serial ids continue after the restored rows (inserts gave the ids explicitly)."""
    for table in metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or keys[0].autoincrement is False:
            continue
        column = keys[0].name
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column}
        ).scalar()
        if sequence:
            # Names come from our own tables, never from the archive.
            query = f"SELECT setval(:s, COALESCE((SELECT MAX({column}) FROM {table.name}), 0) + 1, false)"  # noqa: S608
            conn.execute(text(query), {"s": sequence})


def backup_to_file(engine: Engine, path: Path) -> dict[str, Any]:
    """Write the archive next to `path` and move it into place once complete."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out:
        manifest = backup(engine, out)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
    return manifest
