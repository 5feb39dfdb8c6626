"""A fake Hunter.io v2 on 127.0.0.1: ``GET /v2/domain-search`` and ``GET /v2/email-verifier`` with Hunter's
field names, status codes and ``{"errors": [...]}`` bodies, driven by scripted faults and recording every request.

Like the real service it takes the key from the ``X-API-KEY`` header or an ``api_key`` query parameter; the
recorded requests let tests prove the client only ever uses the header.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import RecordedRequest, ServedFake, busiest

DOMAIN_SEARCH_PATH = "/v2/domain-search"
EMAIL_VERIFIER_PATH = "/v2/email-verifier"


class Fault(StrEnum):
    """What the fake answers instead, once per scripted request (consumed before any other check)."""

    RATE_LIMITED = "rate_limited"
    """403 too_many_requests, with ``Retry-After`` when ``retry_after`` is set."""
    QUOTA = "quota"
    """429 too_many_requests: the plan's searches for the billing period are used up."""
    SERVER_ERROR = "server_error"
    """500 with Hunter's error body."""
    MALFORMED = "malformed"
    """200 whose JSON body is cut off."""
    ECHO_KEY = "echo_key"
    """400 whose details repeat the key (a misbehaving service), to prove messages are scrubbed."""


def _email(
    value: str,
    *,
    kind: str,
    confidence: int,
    status: str | None,
    first: str | None = None,
    last: str | None = None,
    position: str | None = None,
) -> dict[str, Any]:
    """A ``data.emails[]`` entry with every field Hunter sends."""
    domain = value.split("@", 1)[1]
    return {
        "value": value,
        "type": kind,
        "confidence": confidence,
        "sources": [
            {
                "domain": domain,
                "uri": f"http://{domain}/contact",
                "extracted_on": "2025-03-02",
                "last_seen_on": "2025-11-20",
                "still_on_page": True,
            }
        ],
        "first_name": first,
        "last_name": last,
        "position": position,
        "position_raw": position,
        "seniority": "executive" if position else None,
        "department": "management" if position else None,
        "linkedin": None,
        "twitter": None,
        "phone_number": None,
        "verification": {"date": "2025-11-21", "status": status}
        if status
        else {"date": None, "status": None},
    }


@dataclass(frozen=True, slots=True)
class Company:
    """What the fake knows about one domain."""

    organization: str
    emails: tuple[dict[str, Any], ...] = ()


def sample_companies() -> dict[str, Company]:
    return {
        "northernroast.co.uk": Company(
            "Northern Roast Coffee",
            (
                _email(
                    "hello@northernroast.co.uk", kind="generic", confidence=94, status="valid", position=None
                ),
                _email(
                    "sam.patel@northernroast.co.uk",
                    kind="personal",
                    confidence=87,
                    status="accept_all",
                    first="Sam",
                    last="Patel",
                    position="Owner",
                ),
                _email("jo@northernroast.co.uk", kind="personal", confidence=41, status=None, first="Jo"),
            ),
        ),
        "ancoatsbrew.com": Company(
            "Ancoats Brew Co",
            (_email("info@ancoatsbrew.com", kind="generic", confidence=90, status="webmail", position=None),),
        ),
        "quietcorner.co.uk": Company("The Quiet Corner"),
    }


@dataclass
class FakeHunter(ServedFake):
    """The fake service's state: its key, its data, scripted faults, and what it received."""

    api_key: str = field(default_factory=lambda: "hunterFAKE" + secrets.token_hex(20))
    companies: dict[str, Company] = field(default_factory=sample_companies)
    """Domain → organisation and emails; company searches match the organisation name, case-insensitively."""
    verdicts: dict[str, tuple[str, int]] = field(
        default_factory=lambda: {
            "hello@northernroast.co.uk": ("valid", 97),
            "sam.patel@northernroast.co.uk": ("accept_all", 72),
            "nobody@quietcorner.co.uk": ("invalid", 12),
        }
    )
    """Email → (status, score) from the verifier; any other address is ``unknown``/``0``."""
    pending: dict[str, int] = field(default_factory=dict)
    """Email → how many more verifier calls answer 202 (still running) before the verdict."""
    claimed: set[str] = field(default_factory=lambda: {"private.person@ancoatsbrew.com"})
    """Addresses whose owner asked Hunter not to process them (451 claimed_email)."""
    faults: deque[Fault] = field(default_factory=deque)
    delay: float = 0.0
    """Seconds to wait before answering (slow responses)."""
    retry_after: str | None = None
    """``Retry-After`` sent with 403 answers."""
    requests: list[RecordedRequest] = field(default_factory=list)
    base_url: str = ""
    """Set while ``running()``: what WYSHBONE_HUNTER_BASE_URL would be."""

    def fail_next(self, fault: Fault, times: int = 1) -> None:
        self.faults.extend([fault] * times)

    def answer_with(self, domain: str, *values: str) -> None:
        """Answer ``values`` as the addresses Hunter knows for ``domain`` (each with its first entry's details),
        as a probe slipping a second address or a header into Hunter's answers would have it."""
        company = self.companies[domain]
        self.companies[domain] = Company(
            company.organization, tuple(dict(company.emails[0], value=value) for value in values)
        )

    def max_in_window(self, path: str, seconds: float) -> int:
        """The most requests to ``path`` that arrived within any ``seconds``-long stretch."""
        return busiest([r.at for r in self.requests if r.path == path], seconds)

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(DOMAIN_SEARCH_PATH, self._domain_search, methods=["GET"]),
                Route(EMAIL_VERIFIER_PATH, self._email_verifier, methods=["GET"]),
            ]
        )

    # --- handlers ---

    async def _domain_search(self, request: Request) -> Response:
        refused = await self._before(request)
        if refused is not None:
            return refused
        query = request.query_params
        try:
            limit = int(query.get("limit") or 10)
        except ValueError:
            return _error(400, "invalid_limit", "Limit must be an integer")
        if limit > 100:
            return _error(400, "pagination_error", "The limit cannot be greater than 100")
        domain = (query.get("domain") or "").lower()
        company = query.get("company") or ""
        if not domain and not company:
            return _error(400, "wrong_params", "You are missing the domain or company parameter")
        if not domain:
            domain = next(
                (d for d, c in self.companies.items() if c.organization.lower() == company.strip().lower()),
                "",
            )
        known = self.companies.get(domain)
        emails = list(known.emails if known else ())[:limit]
        data = {
            "domain": domain or None,
            "disposable": False,
            "webmail": False,
            "accept_all": False,
            "pattern": "{first}.{last}" if emails else None,
            "organization": known.organization if known else None,
            "country": "GB" if known else None,
            "emails": emails,
            "linked_domains": [],
        }
        meta = {
            "results": len(known.emails) if known else 0,
            "limit": limit,
            "offset": 0,
            "params": {"domain": query.get("domain"), "company": query.get("company") or None, "type": None},
        }
        return JSONResponse({"data": data, "meta": meta})

    async def _email_verifier(self, request: Request) -> Response:
        refused = await self._before(request)
        if refused is not None:
            return refused
        email = (request.query_params.get("email") or "").strip().lower()
        if "@" not in email:
            return _error(400, "wrong_params", "You are missing the email parameter")
        if email in self.claimed:
            return _error(
                451,
                "claimed_email",
                "The person behind this email address has asked us directly or indirectly to stop the "
                "processing of this email.",
            )
        if self.pending.get(email, 0) > 0:
            self.pending[email] -= 1
            return JSONResponse({"data": {"email": email, "status": None, "score": None}}, status_code=202)
        status, score = self.verdicts.get(email, ("unknown", 0))
        data = {
            "status": status,
            "result": {"valid": "deliverable", "invalid": "undeliverable"}.get(status, "risky"),
            "score": score,
            "email": email,
            "regexp": True,
            "gibberish": False,
            "disposable": status == "disposable",
            "webmail": status == "webmail",
            "mx_records": True,
            "smtp_server": True,
            "smtp_check": status == "valid",
            "accept_all": status == "accept_all",
            "block": False,
            "sources": [],
        }
        return JSONResponse({"data": data, "meta": {"params": {"email": email}}})

    async def _before(self, request: Request) -> Response | None:
        """Record, wait, then answer a scripted fault or a refused key; None lets the handler answer."""
        self.requests.append(RecordedRequest.of(request))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.faults:
            return self._fault(self.faults.popleft())
        key = request.headers.get("x-api-key") or request.query_params.get("api_key")
        if key != self.api_key:
            return _error(401, "authentication_failed", "No user found for the API key supplied")
        return None

    def _fault(self, fault: Fault) -> Response:
        if fault is Fault.RATE_LIMITED:
            headers = {"Retry-After": self.retry_after} if self.retry_after else None
            return _error(403, "too_many_requests", "You have reached the rate limit.", headers)
        if fault is Fault.QUOTA:
            return _error(
                429,
                "too_many_requests",
                "You've reached the limit for the number of searches per billing period included in your plan.",
            )
        if fault is Fault.SERVER_ERROR:
            return _error(500, "internal_error", "Something went wrong on our side.")
        if fault is Fault.MALFORMED:
            return Response('{"data": {"domain": "northernroast.co.uk", "emai', media_type="application/json")
        return _error(400, "invalid_api_key", f"The API key {self.api_key} is not valid for this request")


def _error(code: int, error_id: str, details: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"id": error_id, "code": code, "details": details}]}, status_code=code, headers=headers
    )
