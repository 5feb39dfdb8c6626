"""The retry decision as a pure function."""

from __future__ import annotations

import pytest

from wyshbone.domain.retry import DEFAULT_RETRY_POLICY, RetryPolicy, next_delay
from wyshbone.errors import NotConfiguredError, PermanentToolError, RetryableToolError


@pytest.mark.parametrize(
    ("policy", "attempt", "error", "expected"),
    [
        (DEFAULT_RETRY_POLICY, 1, RetryableToolError(), 1.0),  # first retry: base × 1
        (DEFAULT_RETRY_POLICY, 2, RetryableToolError(), 2.0),  # second retry: base × 2
        (DEFAULT_RETRY_POLICY, 3, RetryableToolError(), None),  # 3 attempts made: stop
        (DEFAULT_RETRY_POLICY, 1, RetryableToolError(retry_after=12), 12.0),  # the provider's word wins
        (RetryPolicy(max_delay=5), 1, RetryableToolError(retry_after=120), 5.0),  # ... within max_delay
        (RetryPolicy(base_delay=0.25, max_retries=4), 4, RetryableToolError(), 1.0),  # custom policy
        (DEFAULT_RETRY_POLICY, 1, PermanentToolError("401"), None),  # permanent: never
        (DEFAULT_RETRY_POLICY, 1, NotConfiguredError(), None),  # not configured: never
        (DEFAULT_RETRY_POLICY, 1, KeyError("bug"), None),  # not a tool error: a bug, never retried
    ],
)
def test_next_delay_decides(
    policy: RetryPolicy, attempt: int, error: Exception, expected: float | None
) -> None:
    assert next_delay(policy, attempt, error) == expected
