"""The retry decision: a pure function of (policy, attempt, error).

The executor asks ``next_delay`` after each failed attempt and sleeps for what it answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wyshbone.errors import RetryableToolError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a tool's failed attempts are retried."""

    max_retries: int = 2
    """Retries after the first attempt (2 → at most 3 attempts)."""
    base_delay: float = 1.0
    """Seconds; the n-th retry waits ``base_delay × n`` unless the provider said otherwise."""
    max_delay: float = 60.0
    """Upper bound on any wait, including a provider's ``retry_after``."""


DEFAULT_RETRY_POLICY = RetryPolicy()


def next_delay(policy: RetryPolicy, attempt: int, error: BaseException) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None when the step must not be retried.

    ``attempt`` is the 1-based number of the attempt that just failed. Only ``RetryableToolError`` is
    retried: permanent tool errors cannot pass on a retry, and any other exception is a bug. A
    ``retry_after`` that is not a number of seconds (NaN) counts as unsaid: the backoff applies, never no wait.
    """
    if not isinstance(error, RetryableToolError):
        return None
    if attempt > policy.max_retries:
        return None
    if error.retry_after is not None and not math.isnan(error.retry_after):
        return min(max(error.retry_after, 0.0), policy.max_delay)
    return min(policy.base_delay * attempt, policy.max_delay)
