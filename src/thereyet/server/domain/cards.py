"""Room cards for run state changes, and the small formatting they need.

A card is one line of Markdown. Only the job name is bold; everything that
comes from the run itself (host, error, log lines) is escaped or put in a code
span, so a job cannot ping a channel or break the room's formatting.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from thereyet.server.domain.runs import Run, RunStatus

LOG_LINES_ON_CARD = 3
_LINE_CHARS = 120
_ERROR_CHARS = 200
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>~])")
_WHITESPACE = re.compile(r"\s+")
_COUNT_SUFFIXES = ("k", "M", "G", "T", "P", "E")


def format_duration(seconds: float) -> str:
    """Say a duration briefly: "12s", "4m12s", "41m", "3h12m", "3h", "2d4h".

    Seconds are shown only under 10 minutes; zero minor parts are dropped.
    Negative and NaN durations read as "0s", infinite ones as "forever".
    """
    if math.isinf(seconds) and seconds > 0:
        return "forever"
    whole = round(seconds) if math.isfinite(seconds) and seconds > 0 else 0
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if whole < 600:
        return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"
    if whole < 3600:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if whole < 86400:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if hours else f"{days}d"


def format_count(n: float) -> str:
    """Say a count briefly: "950", "12.3k", "1.2M", "3.4G" (at most one decimal)."""
    if not math.isfinite(n):
        return str(n)
    sign, n = ("-", -n) if n < 0 else ("", n)
    if round(n) < 1000:
        return sign + _trim(f"{n:.0f}" if n == int(n) or n >= 100 else f"{n:.3g}")
    for power, suffix in enumerate(_COUNT_SUFFIXES, start=1):
        scaled = n / 1000**power
        # Choose the unit after rounding, so 999,960 reads "1M" and not "1000k".
        shown = f"{scaled:.0f}" if round(scaled, 1) >= 100 else f"{scaled:.1f}"
        if float(shown) < 1000 or suffix == _COUNT_SUFFIXES[-1]:
            return sign + _trim(shown) + suffix
    raise AssertionError("unreachable")  # pragma: no cover


def run_card(run: Run, *, change: RunStatus, now: datetime, was: RunStatus | None = None) -> str:
    """Return the one-line Markdown card to post when `run` changes to `change`.

    `was` is the status before the change; when omitted, `run.status` is taken
    as the old status if it differs from `change` (a card built before saving).
    RUNNING from LOST reads "is back"; otherwise RUNNING reads "started".
    """
    previous = was if was is not None else (run.status if run.status != change else None)
    job = f"**{_escape(run.job)}**"
    if change is RunStatus.RUNNING:
        verb = "is back" if previous is RunStatus.LOST else "started"
        return f"{job} {verb}{_on_host(run)}"
    if change is RunStatus.SUCCEEDED:
        return _succeeded(job, run, now)
    if change is RunStatus.FAILED:
        return _failed(job, run, now)
    if change is RunStatus.CANCELLED:
        return _cancelled(job, run, now)
    if change is RunStatus.LOST:
        return _lost(job, run, now)
    return f"{job} is queued"


def _succeeded(job: str, run: Run, now: datetime) -> str:
    card = f"{job} finished{_took(run, now, 'in')}{_on_host(run)}"
    if run.done is None:
        return card
    unit = f" {_escape(run.unit)}" if run.unit else " done"
    if run.total is not None and run.done < run.total:
        return f"{card}, {format_count(run.done)} of {format_count(run.total)}{unit}"
    return f"{card}, {format_count(run.done)}{unit}"


def _failed(job: str, run: Run, now: datetime) -> str:
    card = f"{job} failed{_took(run, now, 'after')}{_on_host(run)}"
    details: list[str] = []
    if run.exit_code is not None:
        details.append(f"exit {run.exit_code}")
    error = _one_line(run.error or "")
    if error:
        details.append(_code(error, _ERROR_CHARS))
    # The error is often the log's last line too; saying it twice wastes the card.
    lines = [line for line in _last_lines(run.log_tail) if line != error]
    if lines:
        details.append("last lines: " + _code(" | ".join(lines), 3 * _LINE_CHARS))
    return f"{card}: {', '.join(details)}" if details else card


def _cancelled(job: str, run: Run, now: datetime) -> str:
    if run.started_at is None:
        return f"{job} was cancelled before it started"
    return f"{job} was cancelled{_took(run, now, 'after')}{_on_host(run)}"


def _lost(job: str, run: Run, now: datetime) -> str:
    heard = [t for t in (run.heartbeat_at, run.progress_at, run.started_at) if t is not None]
    source = f" from {_escape(run.host)}" if run.host else ""
    if not heard:
        return f"{job} lost: no word{source}"
    last = max(heard)
    ago = format_duration((now - last).total_seconds())
    return f"{job} lost: no word{source} since {_clock_time(last, now)} ({ago} ago)"


def _took(run: Run, now: datetime, preposition: str) -> str:
    elapsed = run.elapsed(now)
    return f" {preposition} {format_duration(elapsed)}" if elapsed is not None else ""


def _on_host(run: Run) -> str:
    return f" on {_escape(run.host)}" if run.host else ""


def _clock_time(when: datetime, now: datetime) -> str:
    """Say when in UTC: the time alone today ("10:42 UTC"), with the date otherwise."""
    when, now = when.astimezone(UTC), now.astimezone(UTC)
    if when.date() == now.date():
        return when.strftime("%H:%M UTC")
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _last_lines(log_tail: list[str]) -> list[str]:
    """The last LOG_LINES_ON_CARD non-blank lines, each on one line and cut short."""
    lines = [_one_line(line) for line in log_tail]
    return [_truncate(line, _LINE_CHARS) for line in lines if line][-LOG_LINES_ON_CARD:]


def _code(text: str, limit: int) -> str:
    # A backtick would close the span early; a quote reads the same to a person.
    return "`" + _truncate(text.replace("`", "'"), limit) + "`"


def _escape(text: str) -> str:
    return _MARKDOWN_SPECIALS.sub(r"\\\1", _one_line(text))


def _one_line(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _trim(number: str) -> str:
    return number[:-2] if number.endswith(".0") else number
