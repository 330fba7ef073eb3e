"""Secrets that travel in URLs never reach the access log."""

from __future__ import annotations

import logging

import pytest

from thereyet.server.logs import RedactSecrets, redact


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/share/sh_ab12_SECRET", "/share/…"),
        ("/hooks/github/SECRET", "/hooks/github/…"),
        ("/hooks/SECRET", "/hooks/…"),
        ("/api/v1/alerts/SECRET/alertmanager", "/api/v1/alerts/…/alertmanager"),
        ("/ping/SECRET/start?rid=1", "/ping/…/start?rid=1"),
        ("/api/v1/attachments/7?share=SECRET", "/api/v1/attachments/7?share=…"),
        ("/ical/people/ana.ics?sig=SECRET", "/ical/people/ana.ics?sig=…"),
        ("/api/v1/runs?job=export", "/api/v1/runs?job=export"),
    ],
)
def test_secret_parts_of_urls_are_replaced(path, shown):
    assert redact(path) == shown


def test_the_filter_rewrites_uvicorns_access_log_record():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/share/sh_x_SECRET", "1.1", 200),
        None,
    )
    assert RedactSecrets().filter(record)
    assert "SECRET" not in record.getMessage()
