"""Reading and writing rooms, jobs and room messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select

from ..domain.names import title_from_name
from .tables import job_rooms, jobs, messages, rooms, runs


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def room_id(conn: Connection, name: str) -> int | None:
    return conn.execute(select(rooms.c.id).where(rooms.c.name == name)).scalar()


# Built once: asked for every run and every message.
_ROOM_NAME = select(rooms.c.name).where(rooms.c.id == bindparam("p_id"))
_JOB_ID = select(jobs.c.id).where(jobs.c.name == bindparam("p_name"))
_JOB_ROOM_IDS = select(job_rooms.c.room_id).where(job_rooms.c.job_id == bindparam("p_job"))


def room_name(conn: Connection, room: int) -> str:
    return str(conn.execute(_ROOM_NAME, {"p_id": room}).scalar_one())


def get_room(conn: Connection, name: str) -> Any:
    return conn.execute(select(rooms).where(rooms.c.name == name)).first()


def create_room(
    conn: Connection, name: str, now: datetime, title: str = "", topic: str = ""
) -> int:
    result = conn.execute(
        insert(rooms).values(
            name=name, title=title or title_from_name(name), topic=topic, created_at=now
        )
    )
    return _new_id(result)


def ensure_room(conn: Connection, name: str, now: datetime) -> int:
    found = room_id(conn, name)
    return found if found is not None else create_room(conn, name, now)


def list_rooms(conn: Connection) -> list[Any]:
    last = (
        select(messages.c.room_id, func.max(messages.c.id).label("last_id"))
        .group_by(messages.c.room_id)
        .subquery()
    )
    query = (
        select(rooms, last.c.last_id)
        .outerjoin(last, last.c.room_id == rooms.c.id)
        .order_by(rooms.c.name)
    )
    return list(conn.execute(query))


def job_id(conn: Connection, name: str) -> int | None:
    found: int | None = conn.execute(_JOB_ID, {"p_name": name}).scalar()
    return found


def ensure_job(conn: Connection, name: str, now: datetime) -> int:
    found = job_id(conn, name)
    if found is not None:
        return found
    # Every job has its ping URL from the moment it exists.
    values = {"name": name, "title": title_from_name(name), "description": "", "created_at": now}
    result = conn.execute(insert(jobs).values(**values, ping_uuid=str(uuid.uuid4())))
    return _new_id(result)


def job_room_ids(conn: Connection, job: int) -> list[int]:
    return list(conn.execute(_JOB_ROOM_IDS, {"p_job": job}).scalars())


_ROOMS_OF_JOBS = select(job_rooms.c.job_id, job_rooms.c.room_id).where(
    job_rooms.c.job_id.in_(bindparam("p_ids", expanding=True))
)


def rooms_of_jobs(conn: Connection, jobs: list[int]) -> dict[int, list[int]]:
    """The room ids of several jobs (one statement): job id -> its rooms, in id order."""
    found: dict[int, list[int]] = {job: [] for job in jobs}
    if jobs:
        for job, room in conn.execute(_ROOMS_OF_JOBS, {"p_ids": sorted(set(jobs))}):
            found[job].append(room)
    return {job: sorted(rooms) for job, rooms in found.items()}


def add_job_room(conn: Connection, job: int, room: int) -> None:
    if room not in job_room_ids(conn, job):
        conn.execute(insert(job_rooms).values(job_id=job, room_id=room))


def list_jobs(conn: Connection, names: frozenset[str] | None = None) -> list[Any]:
    counts = (
        select(
            runs.c.job_id,
            func.count().label("run_count"),
            func.max(runs.c.created_at).label("last_run_at"),
        )
        .group_by(runs.c.job_id)
        .subquery()
    )
    query = (
        select(jobs, counts.c.run_count, counts.c.last_run_at)
        .outerjoin(counts, counts.c.job_id == jobs.c.id)
        .order_by(jobs.c.name)
    )
    if names is not None:
        query = query.where(jobs.c.name.in_(list(names)))
    return list(conn.execute(query))


def job_rooms_by_job(conn: Connection) -> dict[int, list[str]]:
    query = (
        select(job_rooms.c.job_id, rooms.c.name)
        .join(rooms, rooms.c.id == job_rooms.c.room_id)
        .order_by(rooms.c.name)
    )
    found: dict[int, list[str]] = {}
    for job, name in conn.execute(query):
        found.setdefault(job, []).append(name)
    return found


def insert_message(
    conn: Connection,
    room: int,
    *,
    now: datetime,
    author: str,
    kind: str,
    body: str,
    data: dict[str, Any] | None = None,
    client_id: str | None = None,
) -> int:
    result = conn.execute(
        insert(messages).values(
            room_id=room,
            created_at=now,
            author=author,
            kind=kind,
            body=body,
            data=data or {},
            client_id=client_id,
        )
    )
    return _new_id(result)


def message_by_client_id(conn: Connection, room: int, client_id: str) -> Any:
    query = select(messages).where(messages.c.room_id == room, messages.c.client_id == client_id)
    return conn.execute(query).first()


def get_message(conn: Connection, message_id: int) -> Any:
    return conn.execute(select(messages).where(messages.c.id == message_id)).first()


def list_messages(
    conn: Connection, room: int, *, before: int | None, after: int | None, limit: int
) -> list[Any]:
    """A page of messages in time order: the newest page, or the page before/after a cursor."""
    query = select(messages).where(messages.c.room_id == room)
    if after is not None:
        query = query.where(messages.c.id > after).order_by(messages.c.id).limit(limit)
        return list(conn.execute(query))
    if before is not None:
        query = query.where(messages.c.id < before)
    query = query.order_by(messages.c.id.desc()).limit(limit)
    return list(reversed(list(conn.execute(query))))


def job_room_names(conn: Connection, job: int) -> list[str]:
    """The names of the rooms job `job` posts to."""
    query = (
        select(rooms.c.name)
        .join(job_rooms, job_rooms.c.room_id == rooms.c.id)
        .where(job_rooms.c.job_id == job)
        .order_by(rooms.c.name)
    )
    return list(conn.execute(query).scalars())
