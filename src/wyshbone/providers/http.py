"""What every online provider shares: one httpx client, and HTTP errors translated once.

Provider modules add their own meanings of status codes (Hunter's 403 is "rate limited") through
``StatusMeaning`` overrides passed to ``raise_for_status``; everything else is decided here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (delta form only; an HTTP date is treated as absent)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def raise_for_status(
    provider: str, response: httpx.Response, meanings: Mapping[int, StatusMeaning] | None = None
) -> None:
    """Translate an unsuccessful response into the tool error tree (messages never include secrets)."""
    if response.is_success:
        return
    status = response.status_code
    meaning = (meanings or {}).get(status)
    if meaning is not None:
        if meaning.retryable:
            raise RetryableToolError(
                f"{provider}: {meaning.message}", retry_after=retry_after_seconds(response)
            )
        raise PermanentToolError(f"{provider}: {meaning.message}")
    if status == 429 or status >= 500:
        raise RetryableToolError(f"{provider}: HTTP {status}", retry_after=retry_after_seconds(response))
    if status in (401, 403):
        raise PermanentToolError(f"{provider}: HTTP {status}: the key was refused")
    raise PermanentToolError(f"{provider}: HTTP {status}")


def transport_error(provider: str, exc: httpx.HTTPError) -> RetryableToolError | PermanentToolError:
    """A request that got no response: timeouts and connection failures may pass on a retry."""
    if isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError):
        return RetryableToolError(f"{provider}: {type(exc).__name__} (no response)")
    return PermanentToolError(f"{provider}: {type(exc).__name__}")
