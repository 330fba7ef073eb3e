"""The process's one sender: configured on first use, flushed and spooled at exit.

Also the process-wide hooks a run needs to end honestly: an excepthook that
remembers an uncaught exception (so a run left open fails with it) and a
SIGTERM handler that finishes open runs as cancelled before the process dies.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
from types import TracebackType
from typing import Any

from .config import Config, load_config
from .sender import Sender

log = logging.getLogger("thereyet")

_lock = threading.RLock()
_overrides: dict[str, Any] = {}
_sender: Sender | None = None
_resolved = False
_hooks_installed = False
uncaught: BaseException | None = None


def configure(**settings: Any) -> None:
    """Override settings in code (url=, token=, room=, enabled=, spool_dir=, ...).

    What was queued with the previous settings is delivered (or spooled) first.
    """
    global _sender, _resolved
    with _lock:
        Config().with_overrides(**settings)  # unknown names fail here, in the caller's code
        previous, _sender, _resolved = _sender, None, False
        _overrides.update(settings)
    if previous is not None:
        previous.close()


def reset() -> None:
    """Forget settings made in code and drop the sender (delivering what it holds)."""
    global _sender, _resolved
    with _lock:
        previous, _sender, _resolved = _sender, None, False
        _overrides.clear()
    if previous is not None:
        previous.close()


def current_config() -> Config:
    try:
        base = load_config()
    except Exception as exc:  # a broken config file must not break the job
        log.warning("thereyet: cannot read the configuration: %s", exc)
        base = Config()
    return base.with_overrides(**_overrides)


def sender() -> Sender | None:
    """The process's sender, started on first use; None (after one warning) if unconfigured."""
    if _resolved:
        return _sender
    with _lock:
        return _sender if _is_resolved() else _start_sender()


def _is_resolved() -> bool:
    return _resolved  # read again under the lock: another thread may have done it


def _start_sender() -> Sender | None:
    global _sender, _resolved
    config = current_config()
    if not config.configured:
        if config.enabled:
            log.warning(
                "thereyet: not configured (set THEREYET_URL and THEREYET_TOKEN, or "
                "~/.config/thereyet/config.toml); the job runs without reporting"
            )
        _resolved = True
        return None
    try:
        made = Sender(config)
    except ValueError as exc:
        log.warning("thereyet: %s; the job runs without reporting", exc)
        _resolved = True
        return None
    made.start()
    _install_hooks()
    _sender, _resolved = made, True
    return made


def flush(timeout: float = 10.0) -> bool:
    """Deliver everything reported so far, waiting at most `timeout` seconds.

    Return True if the hub has it all (also when reporting is off).
    """
    current = _sender
    return True if current is None else current.flush(timeout)


def shutdown() -> None:
    """Finish runs left open, deliver for `exit_timeout` seconds, spool the rest."""
    global _sender, _resolved
    with _lock:
        current, _sender = _sender, None
    if current is None:
        return
    for box in list(current.boxes.values()):
        finisher = getattr(box.source, "finish_at_exit", None)
        if finisher is not None:
            finisher(uncaught)
    current.close()


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(shutdown)
    previous_hook = sys.excepthook

    def remember(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        global uncaught
        uncaught = exc
        previous_hook(kind, exc, tb)

    sys.excepthook = remember
    if threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                signal.signal(signal.SIGTERM, _on_sigterm)
        except (ValueError, OSError):
            pass


def _on_sigterm(signum: int, _frame: Any) -> None:
    """Finish open runs as cancelled, deliver or spool, then die of the signal as usual."""
    current = _sender
    if current is not None:
        for box in list(current.boxes.values()):
            finisher = getattr(box.source, "cancel", None)
            if finisher is not None:
                finisher(f"stopped by {signal.Signals(signum).name}")
    shutdown()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
