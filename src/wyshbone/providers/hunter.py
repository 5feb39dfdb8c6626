"""Hunter.io v2: domain search (a domain or company name → its domain, organisation and emails) and the verifier.

Hunter's own meanings of its status codes (403 = rate limited, 429 = quota used up, 451 = a claimed address,
202 = verification still running) and its error body ``{"errors": [{id, code, details}]}`` are read here, once,
into errors that say in plain words what happened (the codes and Hunter's own words are their details).
The key travels only in the ``X-API-KEY`` header, so a logged URL can never leak it.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from wyshbone.config import Settings
from wyshbone.domain.catalog import ProviderInfo
from wyshbone.domain.emails import parse_addresses
from wyshbone.domain.models import ContactEmail
from wyshbone.errors import PermanentToolError, RetryableToolError
from wyshbone.providers.http import StatusMeaning, raise_for_status, transport_error
from wyshbone.providers.limits import Limiter, limiter_for, smoothed, windows

__all__ = [
    "DOMAIN_SEARCH_PATH",
    "DOMAIN_SEARCH_UNIT_PRICE_USD",
    "EMAIL_VERIFIER_PATH",
    "HUNTER",
    "KEY_SETTING",
    "MAX_LIMIT",
    "SEARCH_RATES",
    "SERVICE",
    "VERIFY_RATES",
    "ClaimedEmailError",
    "DomainSearch",
    "HunterApiError",
    "HunterClient",
    "HunterLimiters",
    "contacts_from_email",
    "hunter_limiters",
    "hunter_provider_info",
    "parse_domain_search",
    "parse_errors",
    "parse_verification",
    "status_meanings",
]

HUNTER = "hunter"
SERVICE = "Hunter"
"""Hunter's name as a person knows it, in the plain words of its errors."""
KEY_SETTING = "WYSHBONE_HUNTER_API_KEY"
DOMAIN_SEARCH_PATH = "/v2/domain-search"
EMAIL_VERIFIER_PATH = "/v2/email-verifier"
MAX_LIMIT = 100
"""Hunter returns at most 100 emails per domain-search request."""

# Hunter Starter list price: $49 a month for about 1,000 searches, so one domain search ≈ $0.049.
DOMAIN_SEARCH_UNIT_PRICE_USD = 0.049
VERIFICATION_UNIT_PRICE_USD = DOMAIN_SEARCH_UNIT_PRICE_USD / 2
"""A verification costs half a search (Hunter's credits); outreach verifies the one address it will write to."""


class ClaimedEmailError(PermanentToolError):
    """The person behind this address asked Hunter not to process it: drop it and add it to the suppression list."""

    def __init__(self, email: str, message: str | None = None, *, explanation: str | None = None) -> None:
        self.email = email
        """The claimed address (kept out of the message, so logs do not repeat it)."""
        super().__init__(message, explanation=explanation)


def hunter_provider_info(settings: Settings) -> ProviderInfo:
    """What the planner shows: configured iff a key is set, priced per domain search."""
    key = settings.hunter_api_key
    configured = key is not None and bool(key.get_secret_value())
    return ProviderInfo(
        HUNTER,
        configured=configured,
        reason=None if configured else "set WYSHBONE_HUNTER_API_KEY",
        unit_price_usd=DOMAIN_SEARCH_UNIT_PRICE_USD,
    )


# --- rate limits ------------------------------------------------------------------------------------------

SEARCH_RATES = (*smoothed(15, 1.0), *windows((500, 61.0)))
"""Domain search: 15 requests/s and 500/min (Hunter's limit for most endpoints), as the server counts them."""
VERIFY_RATES = (*smoothed(10, 1.0), *windows((300, 61.0)))
"""Email verifier: 10 requests/s and 300/min."""


@dataclass(frozen=True, slots=True)
class HunterLimiters:
    """The limiters every Hunter client shares, so concurrent steps, plans and (in queue mode) processes stay
    within Hunter's limits together."""

    search: Limiter
    """Domain search (``SEARCH_RATES``)."""
    verify: Limiter
    """Email verifier (``VERIFY_RATES``)."""


def hunter_limiters(postgres_url: str | None = None) -> HunterLimiters:
    """The shared limiters: one pair per process, kept in a Postgres table shared by every process on that
    database when given its URL (queue mode)."""
    return _hunter_limiters(postgres_url)  # one cache key whether the URL is passed or left out


@functools.cache
def _hunter_limiters(postgres_url: str | None) -> HunterLimiters:
    return HunterLimiters(
        search=limiter_for("hunter_search", SEARCH_RATES, postgres_url=postgres_url),
        verify=limiter_for("hunter_verify", VERIFY_RATES, postgres_url=postgres_url),
    )


# --- responses (pure) -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DomainSearch:
    """What one domain search found."""

    domain: str | None
    """The domain Hunter searched (for a company search: the domain it found for the name; None if none)."""
    organization: str | None
    """The organisation's name as Hunter knows it."""
    emails: tuple[ContactEmail, ...] = ()
    """Each one valid, normalised address (a value holding two gives two contacts)."""
    refused: tuple[str, ...] = ()
    """One note per address refused, and why ("refused address 'x' from hunter: ...")."""


@dataclass(frozen=True, slots=True)
class HunterApiError:
    """One entry of Hunter's ``errors`` list."""

    id: str
    """``wrong_params``, ``authentication_failed``, ``too_many_requests``, ``claimed_email``..."""
    code: int
    details: str


def parse_errors(body: object) -> tuple[HunterApiError, ...]:
    """``{"errors": [{"id", "code", "details"}, ...]}`` read; empty when the body is not that shape."""
    errors = body.get("errors") if isinstance(body, Mapping) else None
    found = []
    for entry in errors if isinstance(errors, list) else ():
        if isinstance(entry, Mapping):
            code = entry.get("code")
            found.append(
                HunterApiError(
                    id=str(entry.get("id") or ""),
                    code=code if isinstance(code, int) and not isinstance(code, bool) else 0,
                    details=str(entry.get("details") or ""),
                )
            )
    return tuple(found)


def status_meanings(errors: tuple[HunterApiError, ...] = (), *, secret: str = "") -> dict[int, StatusMeaning]:
    """What Hunter's status codes mean: plain words, the setting to check, and the technical account with
    Hunter's own words appended (scrubbed of ``secret``)."""
    first = errors[0] if errors else None
    said = f" ({first.id}): {_scrub(first.details, secret)}" if first else ""
    key_refused = f"{SERVICE} refused the API key"
    bad_request = (
        StatusMeaning(False, f"HTTP 400: the key was refused{said}", key_refused, KEY_SETTING)
        if first and "api_key" in first.id  # e.g. invalid_api_key: the key, not the request, is at fault
        else StatusMeaning(
            False, f"HTTP 400: the request was refused{said}", f"{SERVICE} refused the request"
        )
    )
    return {
        400: bad_request,
        401: StatusMeaning(False, f"HTTP 401: the key was refused{said}", key_refused, KEY_SETTING),
        403: StatusMeaning(
            True,
            f"HTTP 403: rate limited{said}",
            f"{SERVICE} is getting too many requests from Wyshbone right now",
        ),
        404: StatusMeaning(
            False,
            f"HTTP 404: no such endpoint{said}",
            f"{SERVICE} is not at the address Wyshbone is set to use",
            "WYSHBONE_HUNTER_BASE_URL",
        ),
        429: StatusMeaning(
            False,
            f"HTTP 429: quota for the billing period used up{said}",
            f"{SERVICE}'s allowance for this billing period is used up; it renews when the next period starts, "
            "or a larger Hunter plan raises it",
        ),
        451: StatusMeaning(
            False,
            f"HTTP 451: the person asked not to be processed{said}",
            f"the person behind this address asked {SERVICE} not to process it",
        ),
    }


def contacts_from_email(entry: Mapping[str, Any]) -> tuple[list[ContactEmail], list[str]]:
    """One ``data.emails[]`` entry as contacts, one per valid address in its ``value`` (none without one), and
    a note for each part refused (a second address is kept as its own contact; a line break refuses it all)."""
    raw = entry.get("value")
    if not isinstance(raw, str) or not raw.strip():
        return [], []
    parsed = parse_addresses(raw)
    verification = entry.get("verification")
    status = _text(verification.get("status")) if isinstance(verification, Mapping) else None
    contacts = [
        ContactEmail(
            value=address,
            source=HUNTER,
            verification=status or "unknown",
            score=_score(entry.get("confidence")),
            type=_text(entry.get("type")),
            first_name=_text(entry.get("first_name")),
            last_name=_text(entry.get("last_name")),
            position=_text(entry.get("position")),
        )
        for address in parsed.addresses
    ]
    return contacts, [refused.note(HUNTER) for refused in parsed.refused]


def parse_domain_search(payload: Mapping[str, Any]) -> DomainSearch:
    """A domain-search body (``data.domain``, ``data.organization``, ``data.emails[]``) read; every address
    checked (``DomainSearch.refused`` says which were not kept, and why); each address once."""
    data = _data(payload)
    emails = data.get("emails") or []
    if not isinstance(emails, list):
        raise _unexpected("'data.emails' is not a list")
    found: dict[str, ContactEmail] = {}
    refused: list[str] = []
    for entry in emails:
        if isinstance(entry, Mapping):
            contacts, notes = contacts_from_email(entry)
            for contact in contacts:
                found.setdefault(contact.value, contact)
            refused.extend(notes)
    return DomainSearch(
        domain=_text(data.get("domain")),
        organization=_text(data.get("organization")),
        emails=tuple(found.values()),
        refused=tuple(refused),
    )


def parse_verification(payload: Mapping[str, Any], email: str) -> ContactEmail:
    """An email-verifier body: Hunter's ``data.status`` and ``data.score`` kept as they are. The verdict is
    about the address asked (``email``), whatever address the body names."""
    data = _data(payload)
    return ContactEmail(
        value=email,
        source=HUNTER,
        verification=_text(data.get("status")) or "unknown",
        score=_score(data.get("score")),
    )


def _data(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise _unexpected("no 'data' object")
    return data


def _unexpected(what: str) -> PermanentToolError:
    """Well-formed JSON that is not the API's shape: no retry can help."""
    return PermanentToolError(
        f"{HUNTER}: unexpected response: {what}",
        explanation=f"{SERVICE} answered in a form Wyshbone does not understand (please report it)",
    )


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _score(value: object) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return max(0, min(100, round(value)))
    return None


def _scrub(text: str, secret: str) -> str:
    text = " ".join(text.split())[:300]
    return text.replace(secret, "[key]") if secret else text


# --- I/O --------------------------------------------------------------------------------------------------


class HunterClient:
    """Hunter's v2 API over the shared httpx client, within the shared rate limits."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        client: httpx.AsyncClient,
        search_limiter: Limiter | None = None,
        verify_limiter: Limiter | None = None,
        verify_polls: int = 5,
        poll_interval: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Limiters default to the process-wide ``hunter_limiters()``; a verification still running (202) is
        asked again up to ``verify_polls`` times, ``poll_interval`` seconds apart (``sleep`` waits)."""
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._client = client
        if search_limiter is None or verify_limiter is None:
            shared = hunter_limiters()
            search_limiter, verify_limiter = search_limiter or shared.search, verify_limiter or shared.verify
        self._search_limiter: Limiter = search_limiter
        self._verify_limiter: Limiter = verify_limiter
        self._verify_polls = max(1, verify_polls)
        self._poll_interval = poll_interval
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"HunterClient(base_url={self._base_url!r})"

    async def domain_search(
        self, *, domain: str | None = None, company: str | None = None, limit: int = 10
    ) -> DomainSearch:
        """Emails Hunter knows for a domain, or for a company name (Hunter then finds the domain)."""
        params: dict[str, str | int] = {"limit": max(1, min(limit, MAX_LIMIT))}
        if domain:
            params["domain"] = domain
        elif company:
            params["company"] = company
        else:
            raise PermanentToolError(
                f"{HUNTER}: domain search needs a domain or a company name",
                explanation=f"{SERVICE} cannot search without a domain or a business name",
            )
        await self._search_limiter.acquire()
        response = await self._get(DOMAIN_SEARCH_PATH, params)
        self._raise_for_status(response)
        return parse_domain_search(self._json(response))

    async def verify(self, email: str) -> ContactEmail:
        """Hunter's verdict on one address (status and score); polls while Hunter answers 202 (still running).

        Raises ``ClaimedEmailError`` when the person behind the address asked not to be processed.
        """
        for _ in range(self._verify_polls):
            await self._verify_limiter.acquire()
            response = await self._get(EMAIL_VERIFIER_PATH, {"email": email})
            if response.status_code == 202:
                await self._sleep(self._poll_interval)
                continue
            if response.status_code == 451:
                errors = parse_errors(_json_or_none(response))
                meaning = status_meanings(errors, secret=self._api_key)[451]
                raise ClaimedEmailError(
                    email, f"{HUNTER}: {meaning.message}", explanation=meaning.explanation
                )
            self._raise_for_status(response)
            return parse_verification(self._json(response), email)
        raise RetryableToolError(
            f"{HUNTER}: verification still running after {self._verify_polls} polls",
            retry_after=self._poll_interval,
            explanation=f"{SERVICE} was still checking the address after {self._verify_polls} tries",
        )

    async def _get(self, path: str, params: Mapping[str, str | int]) -> httpx.Response:
        try:
            return await self._client.get(
                self._base_url + path, params=params, headers={"X-API-KEY": self._api_key}
            )
        except httpx.HTTPError as exc:
            raise transport_error(HUNTER, exc, service=SERVICE) from exc

    def _raise_for_status(self, response: httpx.Response) -> None:
        if not response.is_success:
            meanings = status_meanings(parse_errors(_json_or_none(response)), secret=self._api_key)
            raise_for_status(HUNTER, response, meanings, service=SERVICE)

    @staticmethod
    def _json(response: httpx.Response) -> Mapping[str, Any]:
        payload = _json_or_none(response)
        if not isinstance(payload, dict):
            # A healthy answer whose body is cut off or garbled: the service (or a proxy) misbehaved.
            raise RetryableToolError(
                f"{HUNTER}: HTTP {response.status_code} with a body that is not JSON",
                explanation=f"{SERVICE} sent an answer that could not be read (cut off or garbled)",
            )
        return payload


def _json_or_none(response: httpx.Response) -> object:
    try:
        payload: object = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return payload
