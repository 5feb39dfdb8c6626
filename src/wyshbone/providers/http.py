"""What every online provider shares: one httpx client, and HTTP errors translated once.

Provider modules add their own meanings of status codes (Hunter's 403 is "rate limited") through
``StatusMeaning`` overrides passed to ``raise_for_status``; everything else is decided here. Each error says what
happened twice: technically (``str(error)``) and in plain words for the person running the plan (its
``explanation``, see ``wyshbone.errors``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from wyshbone.errors import PermanentToolError, RetryableToolError

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)
USER_AGENT = "WyshboneSupervisor/0.1 (+https://github.com/wyshbone/supervisor)"


def make_client(*, timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.AsyncClient:
    """The shared client: timeouts and connection limits set, redirects not followed unless asked."""
    return httpx.AsyncClient(timeout=timeout, limits=DEFAULT_LIMITS, headers={"User-Agent": USER_AGENT})


@dataclass(frozen=True, slots=True)
class StatusMeaning:
    """What a status code means for one provider."""

    retryable: bool
    message: str
    """The technical account, after the provider's name ("HTTP 403: rate limited")."""
    explanation: str | None = None
    """The same in plain words for the person running the plan (None: the message is all there is)."""
    setting: str | None = None
    """The setting that may need fixing (``WYSHBONE_...``), shown among the details."""


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds: delta-seconds, or an HTTP date counted from the response's own ``Date``
    (so a skewed local clock does not matter); None when absent or unreadable (NaN, words, a bad date)."""
    value = (response.headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value, response.headers.get("date"))
    return max(seconds, 0.0) if not math.isnan(seconds) else None


def _seconds_until(http_date: str, sent: str | None) -> float | None:
    try:
        until = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    try:
        now = parsedate_to_datetime(sent) if sent else datetime.now(UTC)
    except (TypeError, ValueError):
        now = datetime.now(UTC)
    if until.tzinfo is None or now.tzinfo is None:  # "-0000": a date without a zone is not an HTTP date
        return None
    return max((until - now).total_seconds(), 0.0)


def raise_for_status(
    provider: str,
    response: httpx.Response,
    meanings: Mapping[int, StatusMeaning] | None = None,
    *,
    service: str | None = None,
) -> None:
    """Translate an unsuccessful response into the tool error tree (messages never include secrets).

    ``service`` is the name a person knows the provider by ("Google Places"); it defaults to ``provider``, titled.
    """
    if response.is_success:
        return
    status = response.status_code
    meaning = (meanings or {}).get(status) or _generic_meaning(status, service or _named(provider))
    text = f"{provider}: {meaning.message}"
    if meaning.retryable:
        raise RetryableToolError(
            text,
            retry_after=retry_after_seconds(response),
            explanation=meaning.explanation,
            setting=meaning.setting,
        )
    raise PermanentToolError(text, explanation=meaning.explanation, setting=meaning.setting)


def _named(provider: str) -> str:
    """A provider's name as a person would write it, when its module gave none: "hunter" → "Hunter"."""
    return provider.replace("_", " ").title()


def _generic_meaning(status: int, name: str) -> StatusMeaning:
    if status == 429:
        return StatusMeaning(True, "HTTP 429", f"{name} is getting too many requests from Wyshbone right now")
    if status >= 500:
        return StatusMeaning(True, f"HTTP {status}", f"{name} had a problem on its side")
    if status in (401, 403):
        return StatusMeaning(False, f"HTTP {status}: the key was refused", f"{name} refused Wyshbone's key")
    return StatusMeaning(False, f"HTTP {status}", f"{name} refused the request")


def transport_error(
    provider: str, exc: httpx.HTTPError, *, service: str | None = None
) -> RetryableToolError | PermanentToolError:
    """A request that got no (whole) response: timeouts and broken connections may pass on a retry.

    ``service`` is the name a person knows the provider by; it defaults to ``provider``, titled.
    """
    name, kind = service or _named(provider), type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError):
        return RetryableToolError(
            f"{provider}: {kind} (no response)", explanation=f"{name} could not be reached"
        )
    if isinstance(exc, httpx.TimeoutException):
        return RetryableToolError(
            f"{provider}: {kind} (no response)", explanation=f"{name} did not answer in time"
        )
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        # A reset connection, a server that hung up, a body cut off before its announced length: the service
        # (or something on the way) had a moment's trouble.
        return RetryableToolError(
            f"{provider}: {kind} (the connection broke off)",
            explanation=f"the connection to {name} broke off before its whole answer arrived",
        )
    if isinstance(exc, httpx.DecodingError):  # a compressed body that does not decompress: cut off or garbled
        return RetryableToolError(
            f"{provider}: {kind} (the body could not be decoded)",
            explanation=f"{name} sent an answer that could not be read (cut off or garbled)",
        )
    return PermanentToolError(f"{provider}: {kind}", explanation=f"the request to {name} could not be made")
