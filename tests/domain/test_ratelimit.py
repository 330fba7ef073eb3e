"""The token bucket behind the inbound alert limits, with hand-picked times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from thereyet.server.domain.ratelimit import Rate, retry_after, take

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_new_bucket_allows_the_burst_then_asks_to_wait_for_one_token():
    rate = Rate(per_minute=6, burst=3)  # one token every 10 s
    bucket = None
    for _ in range(3):
        bucket, wait = take(bucket, rate, T0)
        assert wait == 0.0
    bucket, wait = take(bucket, rate, T0)
    assert wait == 10.0
    bucket, wait = take(bucket, rate, T0 + timedelta(seconds=4))
    assert round(wait, 6) == 6.0
    bucket, wait = take(bucket, rate, T0 + timedelta(seconds=10))
    assert wait == 0.0


def test_the_bucket_refills_no_further_than_the_burst():
    rate = Rate(per_minute=60, burst=2)
    bucket, _ = take(None, rate, T0)
    bucket, _ = take(bucket, rate, T0)
    later = T0 + timedelta(hours=1)
    waits = []
    for _ in range(3):
        bucket, wait = take(bucket, rate, later)
        waits.append(wait)
    assert waits == [0.0, 0.0, 1.0]


def test_a_clock_stepping_back_refills_nothing():
    rate = Rate(per_minute=60, burst=1)
    bucket, _ = take(None, rate, T0)
    _, wait = take(bucket, rate, T0 - timedelta(minutes=5))
    assert wait == 1.0


def test_a_rate_of_zero_limits_nothing():
    rate = Rate(per_minute=0, burst=1)
    bucket = None
    for _ in range(1000):
        bucket, wait = take(bucket, rate, T0)
        assert wait == 0.0


def test_retry_after_is_whole_seconds_and_never_zero():
    assert [retry_after(w) for w in (0.01, 1.0, 1.2, 9.999)] == [1, 1, 2, 10]
